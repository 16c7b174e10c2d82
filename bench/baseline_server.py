"""The baseline: a minimal broadcast server on the `websockets` library alone, speaking the same protocol shape.

hello → welcome → snapshot (or the events after `last_seq` from an in-memory log) → live events; a `command`
appends its `command.event` to the log as the next event, broadcasts it to every connection with
`websockets.broadcast()` (one write per socket, no per-socket task) and answers the sender with a `result`.
Connections to the same URL path share a log and a broadcast set (a "session"); different paths are separate.
No database, no authentication, no audiences: the floor under what any Python server can do on this machine.

    python -m bench.baseline_server --port 8765      # prints READY when listening
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection, serve

COMPACT: dict[str, Any] = {"separators": (",", ":"), "ensure_ascii": False}
LOGS: dict[str, list[str]] = {}
ROOMS: dict[str, set[ServerConnection]] = {}


async def handler(ws: ServerConnection) -> None:
    path = ws.request.path if ws.request is not None else "/"
    events = LOGS.setdefault(path, [])
    room = ROOMS.setdefault(path, set())
    try:
        hello = json.loads(await ws.recv())
    except websockets.ConnectionClosed:
        return
    if hello.get("type") != "hello":
        await ws.send(json.dumps({"type": "error", "code": "hello_required", "message_vi": "x", "message_en": "x"}))
        return
    last = hello.get("last_seq")
    seq = len(events)
    resumed = last is not None and 0 <= last <= seq
    welcome = {"type": "welcome", "session_id": "baseline", "seq": seq, "roles": [], "person_id": None}
    await ws.send(json.dumps({**welcome, "resumed": resumed}))
    if resumed:
        for wire in events[last:]:
            await ws.send(wire)
    else:
        await ws.send(json.dumps({"type": "snapshot", "seq": seq, "state": {}}))
    room.add(ws)
    try:
        async for raw in ws:
            msg: dict[str, Any] = json.loads(raw)
            if msg.get("type") != "command":
                continue
            n = len(events) + 1
            wire = json.dumps({"type": "event", "seq": n, "event": msg["command"].get("event", {})}, **COMPACT)
            events.append(wire)
            websockets.broadcast(room, wire)
            await ws.send(json.dumps({"type": "result", "id": msg["id"], "ok": True, "seqs": [n]}))
    except websockets.ConnectionClosed:
        pass
    finally:
        room.discard(ws)


async def main(port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(handler, "127.0.0.1", port, compression=None, max_size=1 << 20, max_queue=None, backlog=4096):
        print("READY", flush=True)
        await stop


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    try:
        import uvloop

        uvloop.run(main(args.port))
    except ImportError:  # pragma: no cover
        asyncio.run(main(args.port))
    sys.exit(0)
