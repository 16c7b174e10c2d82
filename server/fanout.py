"""Fan-out between workers that survives a Redis restart.

Litestar's ChannelsPlugin runs one task that publishes and one that receives; on the first Redis connection
error either task ends and is never started again, so after a Redis restart no event would reach any tablet
until the worker restarts (measured: tests/test_multiworker.py). This subclass keeps both loops alive: a
publish is retried with back-off until it goes through (keeping the order), and the receiving loop
resubscribes after an error and then tells every local socket to resynchronise from the database log —
events published while Redis was away are not lost, because the log is the history and Redis only carries
the news. Overrides private methods of litestar 2.x's ChannelsPlugin; pinned by the tests above.
"""

from __future__ import annotations

import asyncio
import logging

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.redis import RedisChannelsPubSubBackend

log = logging.getLogger("kyhop.fanout")

# Put in every local subscriber's queue after the receiving side reconnected: "you may have missed events".
# `resync:<seq>` says the log has reached <seq>: only a socket whose cursor is behind it needs to look.
RESYNC = b"resync"
# How often a worker behind Redis compares the log with what its sockets have seen. A message published while
# Redis restarts can be lost without any error on either side (redis-py reconnects and resubscribes quietly);
# this bounds how long a tablet can stay behind in that case.
WATCH_SECONDS = 1.0


def resync_marker(seq: int) -> bytes:
    return RESYNC + b":" + str(seq).encode()


def parse_resync(raw: bytes) -> int | None:
    """-1 for a plain resync, the sequence number for `resync:<seq>`, None for an ordinary event."""
    if not raw.startswith(RESYNC):
        return None
    _, _, seq = raw.partition(b":")
    return int(seq) if seq else -1


class RobustChannelsPlugin(ChannelsPlugin):
    def listened(self) -> list[str]:
        """The channels some local socket listens to."""
        return [c for c, subs in self._channels.items() if subs]

    def resync(self, channel: str, seq: int) -> None:
        for subscriber in list(self._channels.get(channel, [])):
            subscriber.put_nowait(resync_marker(seq))

    async def _pub_worker(self) -> None:
        queue = self._pub_queue
        if queue is None:  # shut down before this task first ran
            return
        while True:
            data, channels = await queue.get()
            backoff = 0.02
            while True:
                try:
                    await self._backend.publish(data, channels)
                    break
                except Exception as e:  # Redis away: keep the event and the order, try again
                    log.warning("publish failed, retrying in %.2fs: %s", backoff, e)
                    await asyncio.sleep(backoff)
                    backoff = min(1.0, backoff * 2)
            queue.task_done()

    async def _sub_worker(self) -> None:
        backoff = 0.05
        while True:
            try:
                async for channel, payload in self._backend.stream_events():
                    backoff = 0.05
                    for subscriber in list(self._channels.get(channel, [])):
                        subscriber.put_nowait(payload)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("channel stream failed, resubscribing in %.2fs: %s", backoff, e)
            await asyncio.sleep(backoff)
            backoff = min(2.0, backoff * 2)
            backend = self._backend
            if isinstance(backend, RedisChannelsPubSubBackend):
                # A fresh pub/sub connection, subscribed to the channels local sockets still listen to (redis-py
                # forgets its list on disconnect).
                backend._RedisChannelsPubSubBackend__pub_sub = None  # type: ignore[attr-defined]
                channels = self.listened()
                try:
                    if channels:
                        await backend._pub_sub.subscribe(*channels)
                except Exception as e:
                    log.warning("resubscribe failed: %s", e)
                    continue
            for subs in list(self._channels.values()):
                for subscriber in list(subs):
                    subscriber.put_nowait(RESYNC)
