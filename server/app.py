"""The Litestar application: settings → database (migrated) → engine → channels → routes."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.static_files import create_static_files_router

from documents.store import ObjectStore, make_store
from server import routes
from server.auth import authenticate_first
from server.bundle import ClientBundleController
from server.config import Settings, load_settings
from server.database import Database
from server.device_signin import ROUTES as DEVICE_ROUTES
from server.document_service import DocumentService
from server.engine import Engine
from server.errors import EXCEPTION_HANDLERS
from server.fanout import WATCH_SECONDS, RobustChannelsPlugin
from server.hub import Hub
from server.inbound import CheckedRequest, refuse_bad_path
from server.notify import Notifier
from server.offline import service_worker
from server.openapi import OPENAPI_COMPONENTS
from server.record_service import RecordService, load_signer
from server.routes_accounts import AccountsController, AuthController
from server.routes_board import BoardController
from server.routes_board_index import BoardIndexController
from server.routes_documents import ROUTES as DOCUMENT_ROUTES
from server.routes_feed import ROUTES as FEED_ROUTES
from server.routes_notes import ROUTES as NOTES_ROUTES
from server.routes_petitions import ROUTES as PETITIONS_ROUTES
from server.routes_petitions_answers import ROUTES as ANSWER_ROUTES
from server.routes_petitions_citations import ROUTES as CITATION_ROUTES
from server.routes_record import ROUTES as RECORD_ROUTES
from server.routes_roster import ROUTES as ROSTER_ROUTES
from server.sealing import Sealer
from server.services import Services, password_hasher
from server.ws import session_socket

log = logging.getLogger("kyhop")

WEB_DIR = Path(__file__).resolve().parent.parent / "clients" / "web"
# The pages' npm dependencies, installed by `make` (npm ci from package-lock.json) and served as the ES modules
# they ship: pdf.js (the tablet's reader), idb, and @noble/* (the ballot crypto, clients/web/js/ballotcrypto.js,
# imported through the pages' import map). Only these packages' folders, nothing else under node_modules/
# (axe-core is for the tests and is not served).
NODE_MODULES = WEB_DIR.parent.parent / "node_modules"
VENDOR = ("pdfjs-dist", "idb", "@noble/curves", "@noble/hashes", "@noble/ciphers")


async def _watch(engine: Engine, channels: RobustChannelsPlugin) -> None:
    """With several workers, compare the log with the fan-out once a second (see server/fanout.py)."""
    prefix = "kyhop:"
    while True:
        await asyncio.sleep(WATCH_SECONDS)
        try:
            listened = [c for c in channels.listened() if c.startswith(prefix)]
            if listened:
                last = await engine.last_seqs([c[len(prefix) :] for c in listened])
                for stream_id, seq in last.items():
                    channels.resync(prefix + stream_id, seq)
        except Exception as e:  # the database is away: try again next time
            log.warning("fan-out watch failed: %s", e)


def channels_backend(settings: Settings) -> ChannelsBackend:
    if settings.redis_url:
        from litestar.channels.backends.redis import RedisChannelsPubSubBackend
        from redis.asyncio import Redis

        # Pub/sub, not streams: the database log is the history (resume reads it), Redis only carries live
        # events between workers, and a dropped message is detected by its sequence number and refilled.
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        # A pooled connection left over from before a Redis restart fails once; retrying hides that blip.
        redis = Redis.from_url(
            settings.redis_url,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.02), retries=5),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )
        return RedisChannelsPubSubBackend(redis=redis)
    return MemoryChannelsBackend()


def _document_store(settings: Settings) -> ObjectStore:
    """S3/MinIO when KYHOP_S3_URL is set, else files under <data dir>/documents (documents/store.py)."""
    return make_store(
        data_dir=settings.data_dir,
        secret=settings.secret_key,
        s3_url=settings.s3_url,
        s3_access_key=settings.s3_access_key,
        s3_secret_key=settings.s3_secret_key,
        s3_bucket=settings.s3_bucket,
        s3_public_url=settings.s3_public_url,
    )


def create_app(settings: Settings | None = None, *, fast_hash: bool = False, demo: bool = False) -> Litestar:
    settings = settings or load_settings()
    database = Database(settings.database_url)
    services = Services(settings=settings, db=database, hasher=password_hasher(fast_hash))
    channels = RobustChannelsPlugin(
        backend=channels_backend(settings),
        arbitrary_channels_allowed=True,
        subscriber_max_backlog=settings.limits.subscriber_queue,
        # Drop the oldest queued event for a socket that cannot keep up; its connection notices the gap by
        # sequence number and refills it from the log, so nothing is lost and other sockets never wait.
        subscriber_backlog_strategy="dropleft",
    )
    services.engine = Engine(
        database,
        publish=lambda ch, data: channels.publish(data, ch),
        sealer=Sealer.from_secret(settings.secret_key),
    )
    services.engine.on_commit = Notifier(settings).committed
    documents = DocumentService(services, _document_store(settings))
    record = RecordService(services, load_signer(settings))
    hub = Hub(channels)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await database.migrate()
        if demo:
            from server.demo import seed

            if await seed(services):
                log.info("demo council and session created")
        # What start-up made (modules, routes, the schema, the demo) lives as long as the worker: take it out of
        # the collector's sight, so a full collection walks only what came later. Measured with a gc callback in
        # bench T2: a full collection of the ~155 000 start-up objects paused the worker 125-167 ms mid-vote
        # (10 % of that round's ballots waited for it); after the freeze the one full collection took 34 ms.
        gc.collect()
        gc.freeze()
        watcher = asyncio.create_task(_watch(services.engine, channels)) if settings.redis_url else None
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
            await hub.close()
            await database.dispose()

    def provide_services() -> Services:
        return services

    def provide_channels() -> ChannelsPlugin:
        return channels

    def provide_documents() -> DocumentService:
        return documents

    def provide_record() -> RecordService:
        return record

    def provide_hub() -> Hub:
        return hub

    app = Litestar(
        route_handlers=[
            routes.health,
            routes.schema,
            routes.CouncilController,
            routes.SessionController,
            BoardController,
            BoardIndexController,
            ClientBundleController,
            AuthController,
            AccountsController,
            session_socket,
            *DOCUMENT_ROUTES,
            *RECORD_ROUTES,
            *PETITIONS_ROUTES,
            *ANSWER_ROUTES,
            *CITATION_ROUTES,
            *NOTES_ROUTES,
            *FEED_ROUTES,
            *ROSTER_ROUTES,
            *DEVICE_ROUTES,
            service_worker,  # /sw.js with its build hash (server/offline.py), before the static pages
            *(
                create_static_files_router(
                    path=f"/vendor/{pkg}", directories=[NODE_MODULES / pkg], name=f"vendor-{pkg.replace('/', '-')}"
                )
                for pkg in VENDOR
            ),
            # The browser pages (clients/web): the start page at "/"; registered last so /api and /ws win.
            create_static_files_router(path="/", directories=[WEB_DIR], html_mode=True, name="web"),
        ],
        dependencies={
            "services": Provide(provide_services, sync_to_thread=False),
            "channels": Provide(provide_channels, sync_to_thread=False),
            "documents": Provide(provide_documents, sync_to_thread=False),
            "hub": Provide(provide_hub, sync_to_thread=False),
            "record": Provide(provide_record, sync_to_thread=False),
        },
        plugins=[channels],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        guards=[authenticate_first],  # 401 before any 400 about the body (server/auth.py)
        openapi_config=OpenAPIConfig(
            title="Kỳ họp",
            version="0.1.0",
            description="Phiên họp không giấy của Hội đồng nhân dân — paperless People's Council sessions",
            components=[OPENAPI_COMPONENTS],
        ),
        request_max_body_size=256 * 1024,
        # Every JSON body and every path and query value is checked before it is decoded (server/inbound.py).
        request_class=CheckedRequest,
        before_request=refuse_bad_path,
    )
    app.state.services = services
    app.state.client_bundle_sources = (WEB_DIR, NODE_MODULES, VENDOR, NODE_MODULES.parent / "package-lock.json")
    return app


def app_factory() -> Any:
    """For `uvicorn --factory server.app:app_factory` (KYHOP_DEMO=1 seeds the demo council)."""
    import os

    # KYHOP_TEST_FAST_HASH is set only by the test harness, which creates ~60 accounts per server it starts.
    return create_app(demo=os.environ.get("KYHOP_DEMO") == "1", fast_hash=os.environ.get("KYHOP_TEST_FAST_HASH") == "1")
