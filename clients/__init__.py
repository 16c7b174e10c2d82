"""Clients of the Kỳ họp protocol: the Python SDK (`sdk.py`) and the browser pages (`web/`). Imports only
`meeting/` (the wire protocol), never `server/`."""
