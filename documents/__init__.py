"""Session documents: object storage (store), PDF checks (pdf), per-delegate stamping (stamp), diacritics-blind
search (search), the embedded Vietnamese font (fonts) and the generated demo documents (samples).

The session's rules for documents (access levels, versions, delivery receipts) are in meeting/documents.py; the
HTTP routes in server/routes_documents.py. docs/DOCUMENTS.md describes the whole flow.
"""
