"""The metadata store: one access layer over SQLAlchemy Core, the same on SQLite and PostgreSQL.

Every method blocks; the services call them from worker threads. Write transactions on SQLite
start with BEGIN IMMEDIATE so that concurrent writers queue instead of failing to upgrade a lock.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import functools
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from types import MappingProxyType
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event

from lading import errors
from lading.blob_ids import is_inline, new_inline_id
from lading.metadata import schema as t
from lading.metadata.hooks import ChangeHook, ObjectChange, Origin
from lading.metadata.models import (
    NULL_VERSION,
    AccessKey,
    Bucket,
    ListedObject,
    Listing,
    ObjectVersion,
    Part,
    Segment,
    Share,
    Upload,
    UploadListing,
    User,
    VersionListing,
)
from lading.metadata.shares import bucket_shares

log = logging.getLogger(__name__)
T = TypeVar("T")
WRITE_RETRIES = 5
# Delimiter listings read this many rows at first, doubling while no key rolls up: a read
# stops at the first common prefix, so the rows under it after the first are wasted.
FIRST_BATCH = 8


def now_us() -> int:
    return time.time_ns() // 1000


def key_successor(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with prefix (None: none)."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            nxt = last + 1
            if 0xD800 <= nxt <= 0xDFFF:  # skip surrogates, which UTF-8 cannot hold
                nxt = 0xE000
            return prefix[:-1] + chr(nxt)
        prefix = prefix[:-1]
    return None


def create_engine(
    url: str,
    *,
    pool_size: int = 8,
    background_checkpoints: bool = False,
    wal_limit_bytes: int = 64 * 1024 * 1024,
) -> sa.Engine:
    """An engine with the pragmas and transaction behaviour the store relies on.

    On SQLite the write-ahead log is cut back to `wal_limit_bytes` by the first commit after a
    checkpoint has copied all of it: without that, a burst of writes leaves the file at its
    largest size for good.
    """
    if url.startswith("sqlite"):
        # one pooled connection per worker thread, kept open: reconnecting re-runs the PRAGMAs
        engine = sa.create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            poolclass=sa.pool.QueuePool,
            pool_size=64,
            max_overflow=64,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute(f"PRAGMA journal_size_limit={int(wal_limit_bytes)}")
            if background_checkpoints:
                # commits never stop to copy the WAL back: MetadataStore.checkpoint() does
                cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: sa.Connection) -> None:
            immediate = connection.get_execution_options().get("lading_write", False)
            # straight to the driver: a statement through SQLAlchemy costs more than running it
            connection.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                "BEGIN IMMEDIATE" if immediate else "BEGIN"
            )

        return engine
    return sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _user(row: Any) -> User:
    return User(
        id=row.id,
        name=row.name,
        display_name=row.display_name,
        is_admin=bool(row.is_admin),
        created_at=row.created_at,
        email=row.email,
        enabled=bool(row.enabled),
    )


def _object(row: Any) -> ObjectVersion:
    return ObjectVersion(
        bucket_id=row.bucket_id,
        key=row.key,
        version_id=row.version_id,
        size=row.size,
        etag=row.etag,
        last_modified=row.last_modified,
        content_type=row.content_type,
        segments=tuple(Segment(blob, size) for blob, size in row.segments),
        part_sizes=tuple(row.part_sizes) if row.part_sizes is not None else None,
        metadata=row.meta,
        headers=row.headers,
        checksums=row.checksums,
        storage_class=row.storage_class,
        owner_id=row.owner_id,
        is_latest=bool(row.is_latest),
        is_delete_marker=bool(row.is_delete_marker),
        tags=row.tags or {},
        acl=row.acl,
        lock_mode=row.lock_mode,
        lock_until=row.lock_until,
        legal_hold=bool(row.legal_hold),
        encryption=row.encryption,
        row_id=row.id,
    )


# Statements on the hot path, built once: building a Core statement and its cache key costs
# more than running it on SQLite. Parameters are bound at execution.
_O = t.objects.c
_CURRENT = sa.select(t.objects).where(
    _O.bucket_id == sa.bindparam("p_bucket"),
    _O.key == sa.bindparam("p_key"),
    _O.is_latest == sa.true(),
)
_VERSION = sa.select(t.objects).where(
    _O.bucket_id == sa.bindparam("p_bucket"),
    _O.key == sa.bindparam("p_key"),
    _O.version_id == sa.bindparam("p_version"),
)
# A version with, when it is at most p_limit bytes and its first blob is an inline one, that
# blob's bytes: a small GET reads both in one statement, hence one snapshot (read one after the
# other, an overwrite committing in between would remove the blob the row names).
_INLINE_DATA = sa.case(
    (
        _O.size <= sa.bindparam("p_limit"),  # a HEAD's limit is 0: no blob is looked up
        sa.select(t.inline_blobs.c.data)
        .where(t.inline_blobs.c.blob_id == _O.segments[(0, 0)].as_string())
        .scalar_subquery(),
    ),
).label("inline_data")
_CURRENT_INLINE = _CURRENT.add_columns(_INLINE_DATA)
_VERSION_INLINE = _VERSION.add_columns(_INLINE_DATA)
_DELETE_VERSION = (
    t.objects.delete()
    .where(
        _O.bucket_id == sa.bindparam("p_bucket"),
        _O.key == sa.bindparam("p_key"),
        _O.version_id == sa.bindparam("p_version"),
    )
    .returning(*t.objects.c)
)


def _row_type(names: list[str]) -> Any:
    """A named tuple class of these column names: rows read as SQLAlchemy's read."""
    return collections.namedtuple("Row", names)


def _driver_value(dialect: sa.Dialect, bind: sa.BindParameter[Any], value: Any) -> Any:
    process = dialect.type_descriptor(bind.type).bind_processor(dialect)
    return process(value) if process is not None else value


class DriverQuery:
    """A hot statement that returns rows, run on the SQLite driver itself, compiled once.

    SQLAlchemy's execution machinery (events, execution context, result metadata) costs ten
    times what SQLite needs for a primary-key lookup, and a small GET is mostly that lookup.
    Rows are named tuples whose JSON columns are decoded as SQLAlchemy's SQLite dialect
    decodes them.
    """

    def __init__(
        self,
        engine: sa.Engine,
        statement: sa.Select[Any] | sa.Insert | sa.Delete | sa.Update,
        *,
        column_keys: list[str] | None = None,
        row_type: Any = None,
        readers: threading.local | None = None,
    ) -> None:
        compiled = statement.compile(dialect=engine.dialect, column_keys=column_keys)
        self.engine = engine
        self.readers = readers or threading.local()  # per thread: the connection first() uses
        self.sql = str(compiled)
        self.binds = tuple(compiled.positiontup or ())
        # values a query carries itself (LIMIT 1, the OFFSET 0 SQLite adds to a LIMIT, a JSON
        # path), as the driver takes them; its parameters are the bindparams named p_...
        dialect = engine.dialect
        self.constants = {
            name: _driver_value(dialect, compiled.binds[name], value)
            for name, value in compiled.params.items()
            if isinstance(statement, sa.Select) and not name.startswith("p_")
        }
        self.error = engine.dialect.loaded_dbapi.Error
        columns = list(
            statement.selected_columns
            if isinstance(statement, sa.Select)
            else statement.exported_columns  # RETURNING, if any
        )
        # a named tuple class of the selected columns, in order (a model's own, e.g. ListedObject)
        self.row_type = row_type or _row_type([str(c.key) for c in columns])
        self.make_row = functools.partial(tuple.__new__, self.row_type)  # _make, without a frame
        self.json = tuple(i for i, c in enumerate(columns) if isinstance(c.type, sa.JSON))
        # the values an INSERT binds to JSON columns: serialized as SQLAlchemy does (its
        # JSON type stores None as the document null)
        table = statement.table if isinstance(statement, sa.Insert) else None
        self.json_binds = frozenset(
            name
            for name in self.binds
            if table is not None and name in table.c and isinstance(table.c[name].type, sa.JSON)
        )

    def rows(self, conn: sa.Connection, params: dict[str, Any]) -> list[Any]:
        """All rows, on the driver connection under `conn` (inside its transaction)."""
        driver = conn.connection.driver_connection
        assert driver is not None
        values = self._values(params)
        try:
            found = driver.execute(self.sql, values).fetchall()
        except self.error as exc:  # the exception SQLAlchemy would raise (IntegrityError...)
            raise sa.exc.DBAPIError.instance(self.sql, values, exc, self.error) from exc
        return self._decode(found)

    def first(self, params: dict[str, Any]) -> Any:
        """The first row or None, on this thread's reading connection in SQLite's autocommit
        mode: one statement reads one consistent snapshot, so no BEGIN is needed."""
        driver = getattr(self.readers, "driver", None)
        if driver is None:  # kept for the thread's life: a pool checkout per read cost more
            self.readers.connection = self.engine.raw_connection()
            driver = self.readers.driver = self.readers.connection.driver_connection
        values = self._values(params)
        try:
            cursor = driver.execute(self.sql, values)
            found = cursor.fetchone()
            cursor.close()  # ends the statement's read snapshot, which would hold back checkpoints
        except self.error as exc:
            raise sa.exc.DBAPIError.instance(self.sql, values, exc, self.error) from exc
        return self._decode([found])[0] if found is not None else None

    def _values(self, params: dict[str, Any]) -> list[Any]:
        if self.constants:
            params = {**self.constants, **params}
        if not self.json_binds:
            return [params[name] for name in self.binds]
        return [
            json.dumps(params[name]) if name in self.json_binds else params[name]
            for name in self.binds
        ]

    def _decode(self, rows: list[Any]) -> list[Any]:
        if not self.json:  # a listing page: a thousand rows, nothing to decode
            return list(map(self.make_row, rows))
        decoded = []
        for row in rows:
            values = list(row)
            for index in self.json:
                if values[index] is not None:
                    values[index] = json.loads(values[index])
            decoded.append(self.row_type._make(values))
        return decoded


_INLINE_INSERT = t.inline_blobs.insert()
_INLINE_READ = sa.select(t.inline_blobs.c.data).where(
    t.inline_blobs.c.blob_id == sa.bindparam("p_blob")
)
_INLINE_DROP = t.inline_blobs.delete().where(t.inline_blobs.c.blob_id == sa.bindparam("p_blob"))
_DEMOTE = t.objects.update().where(_O.id == sa.bindparam("p_row")).values(is_latest=False)
_INSERT = t.objects.insert()


# What a listing entry shows: no blob layout, user metadata or stored headers to decode.
LISTED_COLUMNS = (
    t.objects.c.key,
    t.objects.c.size,
    t.objects.c.etag,
    t.objects.c.last_modified,
    t.objects.c.storage_class,
    t.objects.c.owner_id,
    t.objects.c.checksum_algorithm,
    t.objects.c.checksum_type,
)


def _listed(row: Any) -> ListedObject:
    return ListedObject._make(row)


def _listing_statement(*, inclusive: bool, bounded: bool, probe: bool) -> sa.Select[Any]:
    """A page of current objects from the key p_lower (inclusive or not), below p_upper if
    bounded, in key order, at most p_limit rows; a probe selects only whether one exists.

    Built once per shape, so SQLAlchemy's statement cache (PostgreSQL) and DriverQuery
    (SQLite) compile each once rather than per page.
    """
    c = t.objects.c
    lower: sa.BindParameter[str] = sa.bindparam("p_lower")
    query = sa.select(*LISTED_COLUMNS).where(
        c.bucket_id == sa.bindparam("p_bucket"),
        c.is_latest == sa.true(),
        c.is_delete_marker == sa.false(),
        c.key >= lower if inclusive else c.key > lower,
    )
    if bounded:
        query = query.where(c.key < sa.bindparam("p_upper"))
    if probe:
        return query.with_only_columns(c.id).limit(1)
    return query.order_by(c.key).limit(sa.bindparam("p_limit"))


_LISTING_SHAPES = [
    (inclusive, bounded, probe)
    for inclusive in (False, True)
    for bounded in (False, True)
    for probe in (False, True)
]
_LISTING = {
    shape: _listing_statement(inclusive=shape[0], bounded=shape[1], probe=shape[2])
    for shape in _LISTING_SHAPES
}


def _object_values(obj: ObjectVersion) -> dict[str, Any]:
    return {
        "bucket_id": obj.bucket_id,
        "key": obj.key,
        "version_id": obj.version_id,
        "is_latest": True,
        "is_delete_marker": obj.is_delete_marker,
        "size": obj.size,
        "etag": obj.etag,
        "last_modified": obj.last_modified,
        "content_type": obj.content_type,
        "segments": [[s.blob_id, s.size] for s in obj.segments],
        "part_sizes": list(obj.part_sizes) if obj.part_sizes is not None else None,
        "meta": obj.metadata,
        "headers": obj.headers,
        "checksums": obj.checksums,
        "checksum_algorithm": next(
            (name for name in obj.checksums if name not in ("type", "parts")), ""
        ),
        "checksum_type": obj.checksums.get("type", ""),
        "storage_class": obj.storage_class,
        "owner_id": obj.owner_id,
        "tags": obj.tags or None,
        "acl": obj.acl,
        "lock_mode": obj.lock_mode,
        "lock_until": obj.lock_until,
        "legal_hold": obj.legal_hold,
        "encryption": obj.encryption,
    }


_INSERTED_COLUMNS = [c.key for c in t.objects.c if c.key != "id"]  # what _object_values gives


def _upload(row: Any) -> Upload:
    return Upload(
        upload_id=row.upload_id,
        bucket_id=row.bucket_id,
        key=row.key,
        created_at=row.created_at,
        owner_id=row.owner_id,
        content_type=row.content_type,
        metadata=row.meta,
        headers=row.headers,
        checksum_algorithm=row.checksum_algorithm,
        checksum_type=row.checksum_type,
        storage_class=row.storage_class,
        attributes=row.attributes or {},
    )


def _part(row: Any) -> Part:
    return Part(
        part_number=row.part_number,
        size=row.size,
        etag=row.etag,
        blob_id=row.blob_id,
        last_modified=row.last_modified,
        checksum=row.checksum,
        encryption=row.encryption,
    )


class WriterLock:
    """An exclusive file lock (flock) beside an SQLite database, for write transactions.

    Server processes sharing one SQLite file would otherwise race for its write lock and
    sleep in SQLite's busy handler with growing back-off; the kernel queues flock waiters
    instead. Reentrant within a thread is not needed: one write transaction at a time.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()

    def __enter__(self) -> None:
        fd = getattr(self._local, "fd", None)
        if fd is None:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._local.fd = fd
        fcntl.flock(fd, fcntl.LOCK_EX)

    def __exit__(self, *exc_info: object) -> None:
        fcntl.flock(self._local.fd, fcntl.LOCK_UN)


class _Job:
    """One caller's write transaction waiting for a group commit.

    A thread waits on `wake` (held until the job is done: one waker per waiter, where a
    shared condition woke every queued thread at every commit); a coroutine awaits `future`,
    resolved on its loop.
    """

    __slots__ = ("work", "done", "result", "error", "wake", "future")

    def __init__(
        self, work: Callable[[sa.Connection], Any], future: asyncio.Future[Any] | None = None
    ) -> None:
        self.work = work
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.future = future
        self.wake: threading.Lock | None = None
        if future is None:
            self.wake = threading.Lock()
            self.wake.acquire()


def _resolve(jobs: list[_Job]) -> None:
    """On a job's loop: hand each coroutine its result or error."""
    for job in jobs:
        future = job.future
        assert future is not None
        if future.cancelled():
            continue
        if job.error is not None:
            future.set_exception(job.error)
        else:
            future.set_result(job.result)


class GroupCommit:
    """Group concurrent SQLite write transactions into one commit (one WAL fsync).

    SQLite has one writer at a time; letting threads race for its lock makes them sleep in
    its busy handler. Here callers queue instead, and one writer thread per process takes
    every queued job, runs each in its own SAVEPOINT (a job that raises is rolled back alone
    and gets its exception back), commits once and wakes the callers: a waiting thread each,
    and the coroutines of each event loop with one call for the whole batch. A coroutine thus
    costs no thread of its own while its row is written. A failed commit fails the whole
    batch; a job that hit an IntegrityError is retried in a transaction of its own.
    """

    def __init__(
        self,
        engine: sa.Engine,
        alone: Callable[[Callable[[sa.Connection], Any]], Any],
        locked: Callable[[], contextlib.AbstractContextManager[None]],
    ) -> None:
        self.engine = engine
        self.alone = alone
        self.locked = locked
        self.lock = threading.Lock()
        self.pending = threading.Condition(self.lock)
        self.queue: list[_Job] = []
        self.writer: threading.Thread | None = None
        # the writer thread's own connection, kept: SQLite keeps a connection's page cache
        # while no other connection writes, so batch after batch finds its pages in memory
        self._connection: sa.Connection | None = None
        self._using = threading.Lock()  # held while a batch runs on it
        event.listen(engine, "engine_disposed", self._on_dispose)

    def run(self, work: Callable[[sa.Connection], T]) -> T:
        """Run work in the next batch, waiting in this thread."""
        job = _Job(work)
        self._enqueue(job)
        assert job.wake is not None
        job.wake.acquire()
        if job.error is not None:
            raise job.error
        result: T = job.result
        return result

    async def run_async(self, work: Callable[[sa.Connection], T]) -> T:
        """Run work in the next batch; the calling coroutine's loop goes on meanwhile."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._enqueue(_Job(work, future))
        return await future

    def _enqueue(self, job: _Job) -> None:
        with self.lock:
            self.queue.append(job)
            if self.writer is None or not self.writer.is_alive():
                self.writer = threading.Thread(
                    target=self._write_forever, name="lading-group-commit", daemon=True
                )
                self.writer.start()
            elif len(self.queue) == 1:
                self.pending.notify()

    def _on_dispose(self, _engine: sa.Engine) -> None:
        with self._using:
            self._forget_connection()

    def _forget_connection(self) -> None:
        """Close the kept connection (after a failed batch: the next one starts afresh)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    def _write_forever(self) -> None:
        while True:
            with self.lock:
                while not self.queue:
                    self.pending.wait()
            self._write_next_batch()

    def _write_next_batch(self) -> None:
        batch: list[_Job] = []

        def take() -> list[_Job]:
            """Every job queued by now: the batch, taken once the write lock is held."""
            if not batch:
                with self.lock:
                    batch[:], self.queue = self.queue, []
            return batch

        try:
            with self._using:
                self._execute(take)
        except BaseException as exc:  # nobody may wait for a batch that is gone
            for job in take():
                if not job.done:
                    job.error, job.done = exc, True
        self._wake(take())

    @staticmethod
    def _wake(batch: list[_Job]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        for job in batch:
            if job.wake is not None:
                job.wake.release()
            else:
                assert job.future is not None
                by_loop.setdefault(job.future.get_loop(), []).append(job)
        for loop, jobs in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a loop closed meanwhile
                loop.call_soon_threadsafe(_resolve, jobs)

    def _execute(self, take: Callable[[], list[_Job]]) -> None:
        """Run the jobs `take` returns in one transaction.

        The batch is taken only once the lock shared with the other server processes is
        held: jobs that arrive while another process commits join this batch, where taking
        them before waiting would leave them for one more commit (and one more WAL fsync).
        """
        conflicted: list[_Job] = []
        batch: list[_Job] = []
        try:
            if self._connection is None:
                self._connection = self.engine.connect().execution_options(lading_write=True)
            conn = self._connection
            with self.locked(), conn.begin():
                batch = take()
                # savepoints straight on the driver (SQLite, autocommit mode: BEGIN is ours):
                # through SQLAlchemy they cost more than the statements of a small PUT
                driver = conn.connection.dbapi_connection
                assert driver is not None
                for job in batch:
                    driver.execute("SAVEPOINT job")
                    try:
                        job.result = job.work(conn)
                    except Exception as exc:
                        driver.execute("ROLLBACK TO SAVEPOINT job")
                        driver.execute("RELEASE SAVEPOINT job")
                        if isinstance(exc, sa.exc.IntegrityError):
                            conflicted.append(job)
                        else:  # handed to the caller's thread, raised there
                            job.error = exc
                    else:
                        driver.execute("RELEASE SAVEPOINT job")
        except Exception as exc:  # the commit failed: nothing of the batch is stored
            batch = take()
            for job in batch:
                job.error, job.result = exc, None
            self._forget_connection()
        for job in conflicted:
            try:
                job.result, job.error = self.alone(job.work), None
            except Exception as exc:
                job.error = exc
        for job in batch:
            job.done = True


class MetadataStore:
    """Buckets, object versions, multipart uploads, users and keys."""

    def __init__(self, engine: sa.Engine, hooks: tuple[ChangeHook, ...] = ()) -> None:
        self.engine = engine
        self.hooks = hooks  # run inside every object-changing transaction, in order
        self._group: GroupCommit | None = None
        # SQLite's hot statements, run on its driver (`_rows`, `_first`); none elsewhere
        self._hot: dict[object, DriverQuery] = {}
        self._writer_lock: WriterLock | contextlib.nullcontext[None] = contextlib.nullcontext()
        # reads are lookups in local, memory-mapped pages (SQLite in WAL mode never makes a
        # reader wait for a writer): cheap enough to run on an event loop
        self.local_reads = engine.dialect.name == "sqlite"
        if engine.dialect.name == "sqlite":
            self._group = GroupCommit(engine, self._write_alone, self._locked)
            readers = threading.local()  # one reading connection per thread, shared
            self._hot = {
                _CURRENT: DriverQuery(engine, _CURRENT, readers=readers),
                _VERSION: DriverQuery(engine, _VERSION, readers=readers),
                _CURRENT_INLINE: DriverQuery(engine, _CURRENT_INLINE, readers=readers),
                _VERSION_INLINE: DriverQuery(engine, _VERSION_INLINE, readers=readers),
                _DELETE_VERSION: DriverQuery(engine, _DELETE_VERSION),
                _INSERT: DriverQuery(engine, _INSERT, column_keys=_INSERTED_COLUMNS),
                _INLINE_INSERT: DriverQuery(engine, _INLINE_INSERT),
                _INLINE_READ: DriverQuery(engine, _INLINE_READ, readers=readers),
                _INLINE_DROP: DriverQuery(engine, _INLINE_DROP),
            }
            for shape, query in _LISTING.items():
                listed = None if shape[2] else ListedObject
                self._hot[query] = DriverQuery(engine, query, row_type=listed, readers=readers)
            if engine.url.database and engine.url.database != ":memory:":
                self._writer_lock = WriterLock(f"{engine.url.database}.writer-lock")

    def checkpoint(self) -> None:
        """Copy committed WAL pages into the SQLite database without blocking anyone.

        For engines made with background_checkpoints, whose commits leave this to a task
        (a commit that checkpoints holds the write lock while it copies and fsyncs).
        """
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        """Held around every SQLite write transaction: other server processes queue on it."""
        return self._writer_lock

    # --- plumbing ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn

    def _write(self, work: Callable[[sa.Connection], T]) -> T:
        """Run work in a write transaction (grouped with concurrent writes on SQLite)."""
        if self._group is not None:
            return self._group.run(work)
        return self._write_alone(work)

    async def _write_async(
        self, work: Callable[[sa.Connection], T], executor: Executor | None = None
    ) -> T:
        """_write for a coroutine: on SQLite it waits for its batch without taking a thread
        (elsewhere the transaction runs in a thread of `executor`)."""
        if self._group is not None:
            return await self._group.run_async(work)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, self._write_alone, work)

    def _rows(self, conn: sa.Connection, statement: Any, params: dict[str, Any]) -> list[Any]:
        """The rows (none for a write without RETURNING) of a hot statement in conn's
        transaction: on SQLite's driver, compiled once; elsewhere through SQLAlchemy."""
        hot = self._hot.get(statement)
        if hot is not None:
            return hot.rows(conn, params)
        result = conn.execute(statement, params)
        return list(result.all()) if result.returns_rows else []

    def _first(self, statement: Any, params: dict[str, Any]) -> Any:
        """The first row or None of a hot lookup, outside any transaction."""
        hot = self._hot.get(statement)
        if hot is not None:
            return hot.first(params)
        with self._read() as conn:
            return conn.execute(statement, params).first()

    def _changed(self, conn: sa.Connection, change: ObjectChange) -> None:
        for hook in self.hooks:
            hook(conn, change)

    def _write_alone(self, work: Callable[[sa.Connection], T]) -> T:
        """Run work in its own transaction, retrying on a lost race for a unique row."""
        for attempt in range(WRITE_RETRIES):
            try:
                connection = self.engine.connect().execution_options(lading_write=True)
                with self._locked(), connection as conn, conn.begin():
                    return work(conn)
            except sa.exc.IntegrityError:
                if attempt == WRITE_RETRIES - 1:
                    raise
                log.debug("write conflict, retrying", exc_info=True)
        raise AssertionError("unreachable")

    # --- users and keys ------------------------------------------------------------------------

    def create_user(self, name: str, *, display_name: str = "", is_admin: bool = False) -> User:
        """Create a user; raises UserAlreadyExists."""

        def work(conn: sa.Connection) -> User:
            if conn.execute(sa.select(t.users.c.id).where(t.users.c.name == name)).first():
                raise errors.UserAlreadyExists(name)
            row = conn.execute(
                t.users.insert()
                .values(
                    name=name,
                    display_name=display_name or name,
                    is_admin=is_admin,
                    created_at=now_us(),
                )
                .returning(*t.users.c)
            ).one()
            return _user(row)

        return self._write(work)

    def get_user_by_id(self, user_id: int) -> User:
        """Raises NoSuchUser."""
        with self._read() as conn:
            row = conn.execute(sa.select(t.users).where(t.users.c.id == user_id)).first()
        if row is None:
            raise errors.NoSuchUser(str(user_id))
        return _user(row)

    def get_user(self, name: str) -> User:
        """Raises NoSuchUser."""
        with self._read() as conn:
            row = conn.execute(sa.select(t.users).where(t.users.c.name == name)).first()
        if row is None:
            raise errors.NoSuchUser(name)
        return _user(row)

    def add_access_key(self, user_id: int, access_key: str, secret_key: str) -> None:
        """Attach a key pair to a user; replaces the secret of an existing id of the same user."""

        def work(conn: sa.Connection) -> None:
            existing = conn.execute(
                sa.select(t.access_keys.c.user_id).where(t.access_keys.c.access_key == access_key)
            ).first()
            if existing is None:
                conn.execute(
                    t.access_keys.insert().values(
                        access_key=access_key,
                        secret_key=secret_key,
                        user_id=user_id,
                        status="active",
                        created_at=now_us(),
                    )
                )
            elif existing.user_id == user_id:
                conn.execute(
                    t.access_keys.update()
                    .where(t.access_keys.c.access_key == access_key)
                    .values(secret_key=secret_key, status="active")
                )
            else:
                raise errors.Conflict(f"access key {access_key!r} belongs to another user")

        self._write(work)

    def get_access_key(self, access_key: str) -> AccessKey:
        """Raises InvalidAccessKeyId for an unknown or disabled key."""
        k = t.access_keys.c
        query = (  # not the key's own created_at: the user's must win the column name
            sa.select(k.access_key, k.secret_key, k.status, t.users)
            .join(t.users, t.users.c.id == k.user_id)
            .where(t.access_keys.c.access_key == access_key)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None or row.status != "active" or not row.enabled:
            raise errors.InvalidAccessKeyId(access_key)
        return AccessKey(row.access_key, row.secret_key, _user(row), row.status)

    # --- buckets -------------------------------------------------------------------------------

    def _bucket_query(self) -> sa.Select[Any]:
        return sa.select(
            t.buckets,
            t.users.c.name.label("owner_name"),
            t.users.c.display_name.label("owner_display_name"),
            t.users.c.is_admin.label("owner_is_admin"),
            t.users.c.created_at.label("owner_created_at"),
        ).join(t.users, t.users.c.id == t.buckets.c.owner_id)

    @staticmethod
    def _bucket(
        row: Any, configs: dict[str, str] | None = None, shares: tuple[Share, ...] = ()
    ) -> Bucket:
        owner = User(
            row.owner_id,
            row.owner_name,
            row.owner_display_name,
            bool(row.owner_is_admin),
            row.owner_created_at,
        )
        return Bucket(
            row.id,
            row.name,
            owner,
            row.region,
            row.created_at,
            row.versioning,
            MappingProxyType(configs or {}),
            row.project_id,
            shares=shares,
        )

    def create_bucket(
        self, name: str, owner: User, region: str, project_id: int | None = None
    ) -> Bucket:
        """Raises BucketAlreadyOwnedByYou or BucketAlreadyExists."""

        def work(conn: sa.Connection) -> Bucket:
            existing = conn.execute(
                sa.select(t.buckets.c.owner_id).where(t.buckets.c.name == name)
            ).first()
            if existing is not None:
                if existing.owner_id == owner.id:
                    raise errors.BucketAlreadyOwnedByYou(name)
                raise errors.BucketAlreadyExists(name)
            created = now_us()
            bucket_id = conn.execute(
                t.buckets.insert()
                .values(
                    name=name,
                    owner_id=owner.id,
                    region=region,
                    created_at=created,
                    project_id=project_id,
                )
                .returning(t.buckets.c.id)
            ).scalar_one()
            return Bucket(bucket_id, name, owner, region, created, project_id=project_id)

        try:
            return self._write(work)
        except sa.exc.IntegrityError as exc:  # lost a race with another creator
            raise errors.BucketAlreadyExists(name) from exc

    def get_bucket(self, name: str) -> Bucket:
        """The bucket with its configuration documents; raises NoSuchBucket."""
        c = t.bucket_configs.c
        with self._read() as conn:
            row = conn.execute(self._bucket_query().where(t.buckets.c.name == name)).first()
            if row is None:
                raise errors.NoSuchBucket(name)
            configs = dict(
                conn.execute(sa.select(c.name, c.document).where(c.bucket_id == row.id)).all()
            )
            shares = bucket_shares(conn, row.id)
        return self._bucket(row, configs, shares)

    def set_bucket_config(self, bucket: Bucket, name: str, document: str | None) -> None:
        """Store (or with None remove) the bucket's configuration document of one kind."""
        c = t.bucket_configs.c

        def work(conn: sa.Connection) -> None:
            conn.execute(t.bucket_configs.delete().where(c.bucket_id == bucket.id, c.name == name))
            if document is not None:
                conn.execute(
                    t.bucket_configs.insert().values(
                        bucket_id=bucket.id, name=name, document=document, updated_at=now_us()
                    )
                )

        self._write(work)

    def set_versioning(self, bucket: Bucket, status: str) -> None:
        """Set the bucket's versioning state ("Enabled" or "Suspended")."""
        self._write(
            lambda conn: conn.execute(
                t.buckets.update().where(t.buckets.c.id == bucket.id).values(versioning=status)
            )
        )

    def buckets_with_config(self, name: str) -> list[Bucket]:
        """Every bucket that has a configuration document of this kind (for workers)."""
        with self._read() as conn:
            names = list(
                conn.execute(
                    sa.select(t.buckets.c.name)
                    .join(t.bucket_configs, t.bucket_configs.c.bucket_id == t.buckets.c.id)
                    .where(t.bucket_configs.c.name == name)
                    .order_by(t.buckets.c.name)
                ).scalars()
            )
        found = []
        for bucket_name in names:
            try:
                found.append(self.get_bucket(bucket_name))
            except errors.NoSuchBucket:
                continue
        return found

    def list_buckets(
        self, owner_id: int, *, prefix: str = "", after: str = "", limit: int | None = None
    ) -> list[Bucket]:
        """The owner's buckets in name order: names starting with prefix, greater than after."""
        c = t.buckets.c
        query = self._bucket_query().where(c.owner_id == owner_id)
        if prefix:
            query = query.where(c.name >= prefix)
            upper = key_successor(prefix)
            if upper is not None:
                query = query.where(c.name < upper)
        if after:
            query = query.where(c.name > after)
        query = query.order_by(c.name)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [self._bucket(r) for r in conn.execute(query)]

    def delete_bucket(self, bucket: Bucket) -> list[str]:
        """Delete an empty bucket and its open uploads; returns the part blobs to remove.

        Raises BucketNotEmpty while any object version remains.
        """

        def work(conn: sa.Connection) -> list[str]:
            if conn.execute(
                sa.select(t.objects.c.id).where(t.objects.c.bucket_id == bucket.id).limit(1)
            ).first():
                raise errors.BucketNotEmpty(bucket.name)
            upload_ids = sa.select(t.uploads.c.upload_id).where(t.uploads.c.bucket_id == bucket.id)
            blobs = list(
                conn.execute(
                    sa.select(t.parts.c.blob_id).where(t.parts.c.upload_id.in_(upload_ids))
                ).scalars()
            )
            conn.execute(t.parts.delete().where(t.parts.c.upload_id.in_(upload_ids)))
            conn.execute(t.uploads.delete().where(t.uploads.c.bucket_id == bucket.id))
            conn.execute(t.bucket_configs.delete().where(t.bucket_configs.c.bucket_id == bucket.id))
            conn.execute(t.buckets.delete().where(t.buckets.c.id == bucket.id))
            return blobs

        return self._write(work)

    # --- objects -------------------------------------------------------------------------------

    def get_object(self, bucket: Bucket, key: str, version_id: str | None = None) -> ObjectVersion:
        """The current version (or the given one); raises NoSuchKey / NoSuchVersion.

        A current delete marker raises NoSuchKey; asking for a delete marker by id returns it.
        """
        params = {"p_bucket": bucket.id, "p_key": key, "p_version": version_id}
        row = self._first(_CURRENT if version_id is None else _VERSION, params)
        return self._found(bucket, key, version_id, row)

    def get_object_inline(
        self, bucket: Bucket, key: str, version_id: str | None, limit: int
    ) -> tuple[ObjectVersion, bytes | None]:
        """As get_object, with the bytes of its first blob if that is an inline blob and the
        object is at most `limit` bytes; read in one statement, so the two always agree."""
        params = {"p_bucket": bucket.id, "p_key": key, "p_version": version_id, "p_limit": limit}
        row = self._first(_CURRENT_INLINE if version_id is None else _VERSION_INLINE, params)
        return self._found(bucket, key, version_id, row), row.inline_data

    @staticmethod
    def _found(bucket: Bucket, key: str, version_id: str | None, row: Any) -> ObjectVersion:
        """The version a lookup found; NoSuchKey / NoSuchVersion if none, or a delete marker
        found as the current version."""
        if row is None:
            if version_id is not None:
                raise errors.NoSuchVersion(bucket.name, key, version_id)
            raise errors.NoSuchKey(bucket.name, key)
        obj = _object(row)
        if version_id is None and obj.is_delete_marker:
            raise errors.NoSuchKey(bucket.name, key, delete_marker=obj.version_id)
        return obj

    def put_object(
        self,
        bucket: Bucket,
        obj: ObjectVersion,
        *,
        check: Callable[[ObjectVersion | None], None] | None = None,
        upload_id: str | None = None,
        cause: str = "Put",
        inline: tuple[str, bytes] | None = None,
        origin: Origin | None = None,
    ) -> list[str]:
        """Make obj the current version of its key; returns blob ids no longer referenced.

        See _put_object_work for the arguments."""
        work = self._put_object_work(bucket, obj, check, upload_id, cause, inline, origin)
        return self._write(work)

    async def put_object_async(
        self,
        bucket: Bucket,
        obj: ObjectVersion,
        *,
        check: Callable[[ObjectVersion | None], None] | None = None,
        cause: str = "Put",
        inline: tuple[str, bytes] | None = None,
        executor: Executor | None = None,
        origin: Origin | None = None,
    ) -> list[str]:
        """put_object for a coroutine: a small PUT's row and bytes are committed without a
        thread hop of their own on SQLite (`executor` runs the transaction elsewhere)."""
        work = self._put_object_work(bucket, obj, check, None, cause, inline, origin)
        return await self._write_async(work, executor)

    def _put_object_work(
        self,
        bucket: Bucket,
        obj: ObjectVersion,
        check: Callable[[ObjectVersion | None], None] | None,
        upload_id: str | None,
        cause: str,
        inline: tuple[str, bytes] | None,
        origin: Origin | None = None,
    ) -> Callable[[sa.Connection], list[str]]:
        """The transaction making obj the current version of its key.

        `inline` (blob id, bytes) is an inline blob obj's segments name, stored in the same
        transaction. Inline blobs of the replaced version are removed in it too, so only file
        blobs are returned. `check(current)` runs inside the transaction (conditional writes
        raise from it).
        With `upload_id`, the upload and its parts are removed in the same transaction;
        its part blobs that obj does not reference are returned for deletion. The hooks see
        a "written" change with `cause` and `origin`.
        """

        def work(conn: sa.Connection) -> list[str]:
            target = {"p_bucket": bucket.id, "p_key": obj.key, "p_version": obj.version_id}
            found = self._rows(conn, _CURRENT, target)
            current = _object(found[0]) if found else None
            if check is not None:
                check(current)
            garbage: list[str] = []
            if upload_id is not None:
                if not conn.execute(
                    sa.select(t.uploads.c.upload_id).where(t.uploads.c.upload_id == upload_id)
                ).first():
                    raise errors.NoSuchUpload(upload_id)
                kept = {s.blob_id for s in obj.segments}
                parts = set(
                    conn.execute(
                        sa.select(t.parts.c.blob_id).where(t.parts.c.upload_id == upload_id)
                    ).scalars()
                )
                if not kept <= parts:  # a part was uploaded again since the caller listed them
                    raise errors.InvalidPart(
                        "A part of this upload was replaced while it was being completed."
                    )
                garbage += list(parts - kept)
                conn.execute(t.parts.delete().where(t.parts.c.upload_id == upload_id))
                conn.execute(t.uploads.delete().where(t.uploads.c.upload_id == upload_id))
            replaced = None
            for row in self._rows(conn, _DELETE_VERSION, target):
                garbage += [blob for blob, _size in row.segments]
                replaced = row
            if current is not None and current.version_id != obj.version_id:
                conn.execute(_DEMOTE, {"p_row": current.row_id})
            if inline is not None:
                blob = {"blob_id": inline[0], "data": inline[1], "created_at": obj.last_modified}
                self._rows(conn, _INLINE_INSERT, blob)
            self._rows(conn, _INSERT, _object_values(obj))
            if self.hooks:
                before = _object(replaced) if replaced is not None else None
                self._changed(conn, ObjectChange("written", bucket, obj, cause, before, origin))
            return self._drop_inline(conn, garbage)

        return work

    def delete_object(
        self,
        bucket: Bucket,
        key: str,
        version_id: str | None = None,
        *,
        check: Callable[[ObjectVersion], None] | None = None,
        cause: str = "Delete",
        origin: Origin | None = None,
    ) -> tuple[ObjectVersion | None, list[str]]:
        """Remove a version (default: the `null` version); returns it and its blobs.

        Idempotent: a missing key or version returns (None, []). When the removed version was
        current, the newest remaining version becomes current. `check(version)` runs inside
        the transaction before the removal (conditional deletes and object lock raise from it).
        """
        target = version_id or NULL_VERSION

        def work(conn: sa.Connection) -> tuple[ObjectVersion | None, list[str]]:
            where = [
                t.objects.c.bucket_id == bucket.id,
                t.objects.c.key == key,
                t.objects.c.version_id == target,
            ]
            if check is not None:
                found = conn.execute(sa.select(t.objects).where(*where).with_for_update()).first()
                if found is None:
                    return None, []
                check(_object(found))
                where = [t.objects.c.id == found.id]
            row = conn.execute(t.objects.delete().where(*where).returning(*t.objects.c)).first()
            if row is None:
                return None, []
            removed = _object(row)
            if removed.is_latest:
                self._promote_newest(conn, bucket.id, key)
            if self.hooks:
                self._changed(conn, ObjectChange("removed", bucket, removed, cause, origin=origin))
            return removed, self._drop_inline(conn, [s.blob_id for s in removed.segments])

        return self._write(work)

    @staticmethod
    def _promote_newest(conn: sa.Connection, bucket_id: int, key: str) -> None:
        c = t.objects.c
        newest = conn.execute(
            sa.select(c.id)
            .where(c.bucket_id == bucket_id, c.key == key)
            .order_by(c.id.desc())
            .limit(1)
        ).scalar()
        if newest is not None:
            conn.execute(t.objects.update().where(c.id == newest).values(is_latest=True))

    def update_object(
        self,
        bucket: Bucket,
        key: str,
        version_id: str | None,
        changes: Callable[[ObjectVersion], dict[str, Any]],
        cause: str = "Update",
        origin: Origin | None = None,
    ) -> ObjectVersion:
        """Change a version's attributes in place (tags, ACL, lock); returns the new record.

        `changes(version)` runs inside the transaction and returns the columns to set; it may
        raise (object lock refusing a shorter retention). A current delete marker, or none at
        all, raises NoSuchKey; an unknown version raises NoSuchVersion.
        """
        params = {"p_bucket": bucket.id, "p_key": key, "p_version": version_id}

        def work(conn: sa.Connection) -> ObjectVersion:
            row = conn.execute(_CURRENT if version_id is None else _VERSION, params).first()
            if row is None or (version_id is None and row.is_delete_marker):
                if version_id is not None:
                    raise errors.NoSuchVersion(bucket.name, key, version_id)
                raise errors.NoSuchKey(bucket.name, key)
            current = _object(row)
            values = changes(current)
            if values:
                conn.execute(t.objects.update().where(t.objects.c.id == row.id).values(**values))
            updated = _object(
                conn.execute(sa.select(t.objects).where(t.objects.c.id == row.id)).one()
            )
            if values and self.hooks:
                self._changed(conn, ObjectChange("updated", bucket, updated, cause, origin=origin))
            return updated

        return self._write(work)

    def versions_of(self, bucket: Bucket, key: str) -> list[ObjectVersion]:
        """Every version of one key, newest first (lifecycle and object lock look at these)."""
        c = t.objects.c
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.objects)
                .where(c.bucket_id == bucket.id, c.key == key)
                .order_by(c.id.desc())
            ).all()
        return [_object(r) for r in rows]

    def list_objects(
        self,
        bucket: Bucket,
        *,
        prefix: str = "",
        delimiter: str = "",
        after: str = "",
        max_keys: int = 1000,
    ) -> Listing:
        """One page of current objects in key order, rolling keys up at the delimiter.

        Seeks past each common prefix through the index; never scans the bucket.
        """
        upper = key_successor(prefix) if prefix else None
        objs: list[ListedObject] = []
        prefixes: list[str] = []
        # lower bound: (key, inclusive); the marker itself is never listed again
        lower, inclusive = (after, False) if after and after >= prefix else (prefix, True)
        if after and after >= prefix and delimiter:
            # a marker inside a common prefix resumes after that whole prefix
            cut = after.find(delimiter, len(prefix))
            if cut >= 0:
                rolled = key_successor(after[: cut + len(delimiter)])
                if rolled is None:
                    return Listing([], [], False, "")
                lower, inclusive = rolled, True
        if max_keys <= 0:  # an empty page is complete, as S3 answers max-keys=0
            return Listing([], [], False, "")
        last = ""
        batch = FIRST_BATCH if delimiter else max_keys
        bounded = upper is not None
        where: dict[str, Any] = {"p_bucket": bucket.id}
        if bounded:
            where["p_upper"] = upper
        with self._read() as conn:
            if self._hot:
                conn.begin()  # one snapshot for every batch of the page, as SQLAlchemy's reads
            while True:
                room = max_keys - len(objs) - len(prefixes)
                if room <= 0:
                    probe = {**where, "p_lower": lower}
                    more = self._listing_rows(conn, (inclusive, bounded, True), probe)
                    return Listing(objs, prefixes, bool(more), last)
                limit = min(room, batch)
                page = {**where, "p_lower": lower, "p_limit": limit}
                rows = self._listing_rows(conn, (inclusive, bounded, False), page)
                if not rows:
                    return Listing(objs, prefixes, False, last)
                hit_prefix = False
                if not delimiter:
                    objs += rows
                    last = rows[-1].key
                else:
                    for row in rows:
                        key = row.key
                        cut = key.find(delimiter, len(prefix))
                        if cut >= 0:
                            last = key[: cut + len(delimiter)]
                            prefixes.append(last)
                            hit_prefix = True
                            break
                        objs.append(row)
                        last = key
                if hit_prefix:
                    seek = key_successor(last)
                    if seek is None:  # no key sorts after this common prefix
                        return Listing(objs, prefixes, False, last)
                    lower, inclusive, batch = seek, True, FIRST_BATCH
                elif len(rows) < limit:
                    return Listing(objs, prefixes, False, last)
                else:
                    lower, inclusive, batch = last, False, batch * 2

    def _listing_rows(
        self, conn: sa.Connection, shape: tuple[bool, bool, bool], params: dict[str, Any]
    ) -> list[Any]:
        """One batch of a listing: ListedObject records, or a probe's row ids.

        SQLite runs the statement on its driver (a thousand rows through SQLAlchemy's result
        machinery cost more than the query); PostgreSQL through SQLAlchemy's statement cache.
        """
        rows = self._rows(conn, _LISTING[shape], params)
        if shape[2] or self._hot:  # a probe's ids, or the records SQLite's driver built
            return rows
        return [ListedObject._make(row) for row in rows]

    def list_versions(
        self,
        bucket: Bucket,
        *,
        prefix: str = "",
        delimiter: str = "",
        key_marker: str = "",
        version_marker: str = "",
        max_keys: int = 1000,
    ) -> VersionListing:
        """One page of all versions (newest first per key) and delete markers."""
        c = t.objects.c
        base = sa.select(t.objects).where(c.bucket_id == bucket.id)
        upper = key_successor(prefix) if prefix else None
        if upper is not None:
            base = base.where(c.key < upper)
        versions: list[ObjectVersion] = []
        prefixes: list[str] = []
        if max_keys <= 0:
            return VersionListing([], [], False, "", "")
        with self._read() as conn:
            # position: strictly after (key, row id) in (key asc, id desc) order
            pos_key, pos_id = key_marker, None
            if key_marker and version_marker:
                pos_id = conn.execute(
                    sa.select(c.id).where(
                        c.bucket_id == bucket.id,
                        c.key == key_marker,
                        c.version_id == version_marker,
                    )
                ).scalar()
                # A null version that is gone (a page's last entry, deleted since: clients
                # delete page by page) leaves no row to seek from; the listing resumes after
                # its key, which is exact while keys hold only their null version.
                if pos_id is None and version_marker != NULL_VERSION:
                    raise errors.InvalidArgument("Invalid version id specified")
            lower_inclusive = not key_marker
            lower = max(pos_key, prefix) if key_marker else prefix
            if key_marker and prefix > key_marker:
                lower, lower_inclusive, pos_id = prefix, True, None
            if delimiter and key_marker and pos_id is None:
                cut = key_marker.find(delimiter, len(prefix))
                if cut >= 0 and key_marker.startswith(prefix):
                    rolled = key_successor(key_marker[: cut + len(delimiter)])
                    if rolled is None:
                        return VersionListing([], [], False, "", "")
                    lower, lower_inclusive = rolled, True
            last_key, last_version = "", ""
            batch = FIRST_BATCH if delimiter else max_keys
            while True:
                room = max_keys - len(versions) - len(prefixes)
                take = min(room, batch)
                if pos_id is not None:
                    cond = sa.or_(c.key > lower, sa.and_(c.key == lower, c.id < pos_id))
                else:
                    cond = c.key >= lower if lower_inclusive else c.key > lower
                query = base.where(cond).order_by(c.key, c.id.desc())
                rows = conn.execute(query.limit(max(take, 0) + 1)).all()
                if room <= 0 or not rows:
                    truncated = bool(rows)
                    if not truncated:
                        last_key = last_version = ""
                    return VersionListing(versions, prefixes, truncated, last_key, last_version)
                hit_prefix = False
                for row in rows[:take]:
                    if delimiter:
                        cut = row.key.find(delimiter, len(prefix))
                        if cut >= 0:
                            common = row.key[: cut + len(delimiter)]
                            prefixes.append(common)
                            last_key, last_version = common, ""
                            hit_prefix = True
                            break
                    version = _object(row)
                    versions.append(version)
                    last_key, last_version = version.key, version.version_id
                if hit_prefix:
                    seek = key_successor(last_key)
                    if seek is None:
                        return VersionListing(versions, prefixes, False, "", "")
                    lower, lower_inclusive, pos_id, batch = seek, True, None, FIRST_BATCH
                elif len(rows) <= take:
                    return VersionListing(versions, prefixes, False, "", "")
                else:
                    lower, pos_id, batch = versions[-1].key, versions[-1].row_id, batch * 2

    # --- multipart uploads ---------------------------------------------------------------------

    def create_upload(self, upload: Upload) -> None:
        self._write(
            lambda conn: conn.execute(
                t.uploads.insert().values(
                    upload_id=upload.upload_id,
                    bucket_id=upload.bucket_id,
                    key=upload.key,
                    created_at=upload.created_at,
                    owner_id=upload.owner_id,
                    content_type=upload.content_type,
                    meta=upload.metadata,
                    headers=upload.headers,
                    checksum_algorithm=upload.checksum_algorithm,
                    checksum_type=upload.checksum_type,
                    storage_class=upload.storage_class,
                    attributes=upload.attributes or None,
                )
            )
        )

    def get_upload(self, bucket: Bucket, key: str, upload_id: str) -> Upload:
        """Raises NoSuchUpload (also for an id of another bucket or key)."""
        with self._read() as conn:
            row = conn.execute(
                sa.select(t.uploads).where(t.uploads.c.upload_id == upload_id)
            ).first()
        if row is None or row.bucket_id != bucket.id or row.key != key:
            raise errors.NoSuchUpload(upload_id)
        return _upload(row)

    def put_part(self, upload_id: str, part: Part) -> list[str]:
        """Record a part, replacing one of the same number; returns the replaced blob ids."""

        def work(conn: sa.Connection) -> list[str]:
            if not conn.execute(
                sa.select(t.uploads.c.upload_id).where(t.uploads.c.upload_id == upload_id)
            ).first():
                raise errors.NoSuchUpload(upload_id)
            old = (
                conn.execute(
                    t.parts.delete()
                    .where(
                        t.parts.c.upload_id == upload_id, t.parts.c.part_number == part.part_number
                    )
                    .returning(t.parts.c.blob_id)
                )
                .scalars()
                .all()
            )
            conn.execute(
                t.parts.insert().values(
                    upload_id=upload_id,
                    part_number=part.part_number,
                    size=part.size,
                    etag=part.etag,
                    blob_id=part.blob_id,
                    last_modified=part.last_modified,
                    checksum=part.checksum,
                    encryption=part.encryption,
                )
            )
            return list(old)

        return self._write(work)

    def list_parts(
        self, upload_id: str, *, after: int = 0, max_parts: int | None = None
    ) -> list[Part]:
        query = (
            sa.select(t.parts)
            .where(t.parts.c.upload_id == upload_id, t.parts.c.part_number > after)
            .order_by(t.parts.c.part_number)
        )
        if max_parts is not None:
            query = query.limit(max_parts)
        with self._read() as conn:
            return [_part(r) for r in conn.execute(query)]

    def abort_upload(self, upload_id: str) -> list[str]:
        """Remove an upload and its parts; returns their blob ids. Raises NoSuchUpload."""

        def work(conn: sa.Connection) -> list[str]:
            blobs = (
                conn.execute(
                    t.parts.delete()
                    .where(t.parts.c.upload_id == upload_id)
                    .returning(t.parts.c.blob_id)
                )
                .scalars()
                .all()
            )
            gone = conn.execute(t.uploads.delete().where(t.uploads.c.upload_id == upload_id))
            if gone.rowcount == 0:
                raise errors.NoSuchUpload(upload_id)
            return list(blobs)

        return self._write(work)

    def list_uploads(
        self,
        bucket: Bucket,
        *,
        prefix: str = "",
        delimiter: str = "",
        key_marker: str = "",
        upload_marker: str = "",
        max_uploads: int = 1000,
    ) -> UploadListing:
        """Open uploads ordered by key, then initiation time; a common prefix is one entry.

        Paging resumes after (key_marker, upload_marker); with no upload marker (or one that
        is gone) it resumes after every upload of key_marker and the common prefix it names.
        """
        c = t.uploads.c
        query = sa.select(t.uploads).where(c.bucket_id == bucket.id)
        upper = key_successor(prefix) if prefix else None
        if prefix:
            query = query.where(c.key >= prefix)
        if upper is not None:
            query = query.where(c.key < upper)
        uploads: list[Upload] = []
        prefixes: list[str] = []
        truncated = False
        next_key = next_upload = ""
        with self._read() as conn:
            marker_row = None
            if key_marker and upload_marker:
                marker_row = conn.execute(
                    sa.select(c.created_at).where(
                        c.upload_id == upload_marker,
                        c.bucket_id == bucket.id,
                        c.key == key_marker,
                    )
                ).first()
            if marker_row is not None:  # the position in (key, created_at, upload_id) order
                query = query.where(
                    sa.or_(
                        c.key > key_marker,
                        sa.and_(
                            c.key == key_marker,
                            sa.or_(
                                c.created_at > marker_row.created_at,
                                sa.and_(
                                    c.created_at == marker_row.created_at,
                                    c.upload_id > upload_marker,
                                ),
                            ),
                        ),
                    )
                )
            elif key_marker:
                query = query.where(c.key > key_marker)
                cut = key_marker.find(delimiter, len(prefix)) if delimiter else -1
                if cut >= 0 and key_marker.startswith(prefix):
                    rolled = key_successor(key_marker[: cut + len(delimiter)])
                    if rolled is None:
                        return UploadListing([], [], False, "", "")
                    query = query.where(c.key >= rolled)
            query = query.order_by(c.key, c.created_at, c.upload_id)
            for row in conn.execute(query):
                common = None
                if delimiter:
                    cut = row.key.find(delimiter, len(prefix))
                    if cut >= 0:
                        common = row.key[: cut + len(delimiter)]
                        if common == next_key and not next_upload:
                            continue  # rolled into the entry just listed
                if len(uploads) + len(prefixes) >= max_uploads:
                    truncated = True
                    break
                if common is not None:
                    prefixes.append(common)
                    next_key, next_upload = common, ""
                else:
                    uploads.append(_upload(row))
                    next_key, next_upload = row.key, row.upload_id
        return UploadListing(uploads, prefixes, truncated, next_key, next_upload)

    # --- inline blobs --------------------------------------------------------------------------

    def _drop_inline(self, conn: sa.Connection, blob_ids: list[str]) -> list[str]:
        """Remove the inline blobs among blob_ids in conn's transaction; return the others.

        One compiled statement per blob (an overwrite drops one): building a DELETE ... IN
        per call cost more than the rest of a small PUT's transaction.
        """
        files: list[str] = []
        for blob_id in blob_ids:
            if is_inline(blob_id):
                self._rows(conn, _INLINE_DROP, {"p_blob": blob_id})
            else:
                files.append(blob_id)
        return files

    def read_inline(self, blob_id: str, offset: int, length: int) -> bytes:
        """Bytes of an inline blob; FileNotFoundError for an unknown id (as a blob store)."""
        row = self._first(_INLINE_READ, {"p_blob": blob_id})
        if row is None:
            raise FileNotFoundError(blob_id)
        data: bytes = row.data
        return data[offset : offset + length] if offset or length < len(data) else data

    def copy_inline(self, blob_id: str) -> str:
        """A new inline blob with the bytes of blob_id (an object copy's own)."""
        new_id = new_inline_id()

        def work(conn: sa.Connection) -> None:
            found = conn.execute(_INLINE_READ, {"p_blob": blob_id}).first()
            if found is None:
                raise FileNotFoundError(blob_id)
            conn.execute(
                _INLINE_INSERT, {"blob_id": new_id, "data": found.data, "created_at": now_us()}
            )

        self._write(work)
        return new_id

    def delete_inline(self, blob_ids: list[str]) -> None:
        self._write(lambda conn: self._drop_inline(conn, list(blob_ids)))

    def iter_inline(self) -> Iterator[tuple[str, float]]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.inline_blobs.c.blob_id, t.inline_blobs.c.created_at)
            ).all()
        for blob_id, created_at in rows:
            yield blob_id, created_at / 1e6

    # --- housekeeping --------------------------------------------------------------------------

    def referenced_blobs(self) -> set[str]:
        """Every blob id a row points at (objects and parts)."""
        found: set[str] = set()
        with self._read() as conn:
            for (segments,) in conn.execute(sa.select(t.objects.c.segments)):
                found.update(blob for blob, _ in segments)
            found.update(conn.execute(sa.select(t.parts.c.blob_id)).scalars())
        return found

    def count_objects(self, bucket: Bucket) -> int:
        with self._read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(t.objects.c.bucket_id == bucket.id)
                ).scalar_one()
            )
