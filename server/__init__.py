"""The Litestar server: the event-sourced engine, WebSocket and REST transports, accounts, fan-out, persistence and
the `kyhop` command. Business rules live in `meeting/`; this package only moves commands in and events out."""
