"""The composition root: the only module that builds concrete stores and wires services."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import gc
import json
import logging
import os
import stat
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from lading import __version__
from lading.concurrency import blocking_executor, run_blocking
from lading.delivery import Deliverer
from lading.encryption import KEY_SIZE, Keyring, kms_keyring
from lading.housekeeping import prepare
from lading.http import api, links, stac
from lading.http.api import errors as api_errors
from lading.http.middleware import ErrorGuard
from lading.http.s3.dispatch import S3Dispatcher
from lading.http.s3.handlers import HANDLERS
from lading.lifecycle import run_lifecycle
from lading.metadata.catalog import CatalogIndexer, CatalogQueries
from lading.metadata.events import EventStore, OutboxWriter
from lading.metadata.identity import Directory, UsageCounter
from lading.metadata.migrate import upgrade
from lading.metadata.shares import ShareStore
from lading.metadata.store import MetadataStore, create_engine, now_us
from lading.metadata.transfers import TransferStore
from lading.outbound import OutboundPolicy
from lading.services.access_logs import AccessLogService
from lading.services.audit import AuditService
from lading.services.buckets import BucketService
from lading.services.catalog import CatalogService
from lading.services.container import Services
from lading.services.credentials import CredentialService
from lading.services.deletes import DelayedDeletes
from lading.services.directory import DirectoryService
from lading.services.events import EventService
from lading.services.identity import IdentityService, NewCredentials
from lading.services.mail import Mailer
from lading.services.multipart import MultipartService
from lading.services.objects import ObjectService
from lading.services.recorders import flush_recorders, recorders
from lading.services.shares import ShareService
from lading.services.transfer_worker import start_transfer_workers
from lading.services.transfers import TransferService
from lading.services.usage import UsageService
from lading.settings import Settings
from lading.storage.base import BlobStore
from lading.storage.local import LocalBlobStore
from lading.storage.routed import RoutedBlobStore

log = logging.getLogger(__name__)
SETTINGS_ENV = "LADING_RESOLVED_SETTINGS"
KEYS_FILE = "encryption-keys.json"  # generated SSE-S3 master keys, in the data directory


def make_data_dir(path: Path, *, warn: bool = False) -> None:
    """Create the data directory for the server's user alone (0700).

    With `warn`, log a warning when an existing one is open to others: it holds the
    database (sealed secrets, password hashes) and every blob. An existing directory's
    mode is the administrator's to change.
    """
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = stat.S_IMODE(path.stat().st_mode)
    if warn and mode & 0o077:
        log.warning(
            "data directory %s is open to other users (mode %o); it holds secrets and every "
            "object: chmod 700 %s",
            path,
            mode,
            path,
        )


def build_stores(settings: Settings, *, serving: bool = False) -> tuple[MetadataStore, BlobStore]:
    """The stores; `serving` stores leave SQLite checkpoints to the server's background task."""
    make_data_dir(settings.data_dir)
    engine = create_engine(
        settings.metadata_url,
        pool_size=settings.metadata.pool_size,
        background_checkpoints=serving,
        wal_limit_bytes=settings.metadata.wal_limit_mib * 1024 * 1024,
    )
    files = LocalBlobStore(
        settings.data_dir, fsync=settings.storage.fsync, direct_io=settings.storage.direct_io
    )
    hooks = (UsageCounter(), CatalogIndexer(), OutboxWriter(settings.region))
    meta = MetadataStore(engine, hooks=hooks)
    return meta, RoutedBlobStore(files, meta)


def _generate_master_key(path: os.PathLike[str] | str) -> None:
    """Store a fresh master key at `path` (mode 0600) unless another process got there first."""
    key = base64.b64encode(os.urandom(KEY_SIZE)).decode("ascii")
    document = json.dumps({"active": "local-1", "keys": {"local-1": key}}, indent=2) + "\n"
    temporary = f"{os.fspath(path)}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(document)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)  # atomic: a concurrent start keeps the first key
    finally:
        os.unlink(temporary)


def build_keyring(settings: Settings) -> Keyring:
    """The SSE-S3 master keys: those configured plus those generated into the data directory.

    Without configured keys, a key is generated on the first start so SSE-S3 works out of
    the box; a generated key stays usable after keys are configured, so its objects still
    decrypt. The active key is the configured `encryption_active_key`, else the only
    configured key, else the generated one.
    """
    configured = dict(settings.encryption_keys)
    path = settings.data_dir / KEYS_FILE
    if not configured and not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        _generate_master_key(path)
    stored: dict[str, str] = {}
    stored_active = ""
    if path.exists():
        saved = json.loads(path.read_text())
        stored, stored_active = dict(saved["keys"]), str(saved["active"])
    for key_id, value in stored.items():
        if key_id in configured and "".join(configured[key_id].split()) != value:
            raise ValueError(
                f"encryption key {key_id!r} is configured with a value other than the one "
                f"stored in {KEYS_FILE}; give the configured key another id"
            )
    active = settings.encryption_active_key or (
        next(iter(configured)) if len(configured) == 1 else stored_active
    )
    if not active:
        raise ValueError("several encryption keys are configured: set encryption_active_key")
    return Keyring.from_settings({**stored, **configured}, active)


def build_services(
    settings: Settings,
    meta: MetadataStore,
    blobs: BlobStore,
    writes: Executor | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    deletes: DelayedDeletes | None = None,
) -> Services:
    clock = clock or utc_now
    keyring = build_keyring(settings)
    objects = ObjectService(
        meta,
        blobs,
        writes,
        keyring=keyring,
        kms=kms_keyring(settings.kms_keys),
        inline_bytes=settings.storage.inline_kib * 1024,
        deletes=deletes,
    )
    directory = Directory(meta)
    buckets = BucketService(
        meta, blobs, settings.region, settings.s3.bucket_cache_seconds, directory
    )
    identity = IdentityService(meta, keyring, clock)
    share_store = ShareStore(meta)
    mailer = Mailer(share_store, settings.smtp)
    outbound = OutboundPolicy.from_settings(settings.outbound)
    shares = ShareService(share_store, buckets, identity, mailer)
    return Services(
        buckets=buckets,
        objects=objects,
        multipart=MultipartService(meta, objects, settings.s3.min_part_size),
        identity=identity,
        catalog=CatalogService(meta, CatalogQueries(meta), buckets, shares.groups_of),
        transfers=TransferService(
            TransferStore(meta), keyring, settings.transfers, outbound=outbound, mailer=mailer
        ),
        credentials=CredentialService(identity, settings.credentials, clock),
        audit=AuditService(meta, settings.credentials),
        access_logs=AccessLogService(buckets, objects, settings.credentials, clock),
        events=EventService(EventStore(meta), buckets, settings.region, outbound=outbound),
        directory=DirectoryService(directory, buckets.forget_projects),
        usage=UsageService(directory, mailer),
        shares=shares,
    )


def prepare_data_dir(settings: Settings) -> NewCredentials | None:
    """Migrate, ensure root keys and sweep, once before serving; returns keys made now."""
    make_data_dir(settings.data_dir, warn=True)
    meta, blobs = build_stores(settings)
    try:
        keyring = build_keyring(settings)  # a bad key configuration stops the start here
        kms_keyring(settings.kms_keys)
        return prepare(settings, meta, blobs, keyring)
    finally:
        meta.engine.dispose()


def add_user(
    settings: Settings, name: str, *, is_admin: bool = False, email: str = ""
) -> NewCredentials:
    """Create a user with a key pair in the data directory (the server may be running)."""
    meta, _ = build_stores(settings)
    try:
        upgrade(meta.engine)
        identity = IdentityService(meta, build_keyring(settings))
        return identity.add_user(name, is_admin=is_admin, email=email)
    finally:
        meta.engine.dispose()


def describe_bucket(settings: Settings, name: str) -> dict[str, Any]:
    """A bucket's owner, versioning and every configuration document, as plain data."""
    meta, _ = build_stores(settings)
    try:
        upgrade(meta.engine)
        bucket = meta.get_bucket(name)
        return {
            "name": bucket.name,
            "owner": bucket.owner.name,
            "region": bucket.region,
            "versioning": bucket.versioning or "Unversioned",
            "object_lock": bucket.object_lock,
            "objects": meta.count_objects(bucket),
            "configurations": {kind: json.loads(doc) for kind, doc in bucket.configs.items()},
        }
    finally:
        meta.engine.dispose()


async def checkpointing(meta: MetadataStore, every: float) -> None:
    """Copy the SQLite WAL back into the database every `every` seconds, off the commit path."""
    while True:
        await asyncio.sleep(every)
        try:
            await run_blocking(meta.checkpoint)
        except sa.exc.OperationalError:  # busy with another process's checkpoint: next time
            log.debug("checkpoint skipped", exc_info=True)


async def text_indexing(queries: CatalogQueries, every: float) -> None:
    """Add the text of new writes to SQLite's full-text index every `every` seconds, in one
    transaction: much cheaper than an index update in every write."""
    while True:
        await asyncio.sleep(every)
        try:
            await run_blocking(queries.index_pending_text)
        except Exception:  # the queue stays; the next pass or search applies it
            log.exception("full-text indexing failed")


async def lifecycle_passes(meta: MetadataStore, services: Services, every: float) -> None:
    """Apply the buckets' lifecycle rules every `every` seconds (skipped while another runs)."""
    while True:
        await asyncio.sleep(every)
        try:
            await run_lifecycle(meta, services.objects, services.multipart, now_us())
            await run_blocking(services.usage.usage_pass, now_us())
        except Exception:  # the next pass tries again
            log.exception("lifecycle pass failed")


def transfer_workers(services: Services, count: int) -> Callable[[], None]:
    """Start `count` transfer worker threads; returns the function that stops them."""
    stopper: Callable[[], None] = start_transfer_workers(services.transfers, count)
    return stopper


async def usage_flushes(services: Services, every: float) -> None:
    """Store the requests and downloads this process counted, every `every` seconds."""
    while True:
        await asyncio.sleep(every)
        try:
            await services.usage.flush(now_us())
        except Exception:  # those counts are lost; the next flush goes on
            log.exception("usage flush failed")


def delayed_deletes(settings: Settings, blobs: BlobStore) -> DelayedDeletes | None:
    """What deletes the blobs a commit stopped referencing, `storage.delete_delay_seconds`
    later while its `run` runs (None: at once)."""
    delay = settings.storage.delete_delay_seconds
    return DelayedDeletes(blobs, delay) if delay > 0 else None


def open_for_work(
    settings: Settings,
) -> tuple[MetadataStore, Services, DelayedDeletes | None]:
    """The migrated store, the services and their delayed deletes, for a process that works
    without serving: while it runs `deletes.run()`, the bytes its lifecycle passes expire go
    `storage.delete_delay_seconds` later, as a server's do (GETs of servers may still be
    reading them)."""
    meta, blobs = build_stores(settings)
    upgrade(meta.engine)
    deletes = delayed_deletes(settings, blobs)
    return meta, build_services(settings, meta, blobs, deletes=deletes), deletes


def build_deliverer(settings: Settings, meta: MetadataStore) -> Deliverer:
    """The process's deliverer of bucket notification events."""
    outbound = OutboundPolicy.from_settings(settings.outbound)
    return Deliverer(EventStore(meta), settings.events, outbound=outbound)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_app(settings: Settings, *, clock: Callable[[], dt.datetime] = utc_now) -> ASGIApp:
    """Build the ASGI application for these settings (stores, services, routes)."""
    meta, blobs = build_stores(settings, serving=True)
    writes = blocking_executor(settings.write_threads, "lading-write")
    deletes = delayed_deletes(settings, blobs)
    services = build_services(settings, meta, blobs, writes, clock, deletes)
    s3 = S3Dispatcher(services, settings, HANDLERS, clock)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__, "region": settings.region})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Services]]:
        executor = blocking_executor(settings.io_threads)
        asyncio.get_running_loop().set_default_executor(executor)
        checkpoints = asyncio.create_task(checkpointing(meta, settings.metadata.checkpoint_seconds))
        background = [checkpoints]
        if meta.engine.dialect.name == "sqlite":
            every = settings.metadata.text_index_seconds
            background.append(asyncio.create_task(text_indexing(services.catalog.queries, every)))
        if settings.lifecycle_seconds > 0:
            every = settings.lifecycle_seconds
            background.append(asyncio.create_task(lifecycle_passes(meta, services, every)))
        background.extend(asyncio.create_task(work) for work in recorders(services, clock))
        if settings.events.delivery:
            deliverer = build_deliverer(settings, meta)
            background.append(asyncio.create_task(deliverer.run()))
        flush_every = settings.usage_flush_seconds
        background.append(asyncio.create_task(usage_flushes(services, flush_every)))
        if deletes is not None:
            background.append(asyncio.create_task(deletes.run()))
        stop_transfers = start_transfer_workers(services.transfers)
        # what start-up made lives as long as the process: out of the collector's sight, a
        # full collection no longer walks it (the longest pauses of a busy server)
        gc.freeze()
        yield {"services": services}
        await run_blocking(stop_transfers)
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await flush_recorders(services)
        await services.usage.flush(now_us())
        await run_blocking(meta.checkpoint)
        executor.shutdown(wait=True)
        writes.shutdown(wait=True)
        if deletes is not None:  # no GET is under way any more, nor a write adding to it
            deletes.close()
        meta.engine.dispose()

    control = Starlette(
        routes=[
            Route("/_/health", health, methods=["GET", "HEAD"]),
            *links.ROUTES,
            Mount(api.PREFIX, app=api.build_api(settings, clock)),
            Mount(stac.PREFIX, app=stac.build_stac(settings, clock)),
        ],
        lifespan=lifespan,
        # paths no route matches (a newline in a path escapes even the API's Mount): problems
        exception_handlers={HTTPException: api_errors.http_error},
    )
    return ErrorGuard(LadingApp(control, s3))


class LadingApp:
    """Lading's own namespace /_/ goes to the control app; every other path is S3."""

    def __init__(self, control: ASGIApp, s3: S3Dispatcher) -> None:
        self.control = control
        self.s3 = s3

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_/"):
            await self.control(scope, receive, send)
            return
        response = await self.s3(Request(scope, receive))
        await response(scope, receive, send)


def create_app_from_environment() -> ASGIApp:
    """Factory for server worker processes: settings resolved by `lading serve`."""
    return create_app(Settings.model_validate_json(os.environ[SETTINGS_ENV]))
