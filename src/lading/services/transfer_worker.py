"""The worker that carries out transfer tasks, in a server process or in `lading worker`.

One pass (`run_once`): end the tasks with nothing left to copy (and notify), plan one task
that needs it (its listings merged into file rows, in batches), then claim a batch of files
of one task under a lease and copy them with the engine. A heartbeat renews the claims and
notices a pause or cancel. Finished parts of large files are saved on the file's row, so a
worker that dies mid-file is followed by one that sends only the missing parts.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lading.metadata.transfers import FileRow, TaskRow
from lading.services.transfers import TransferService
from lading.transfer.checkpoint import PartState
from lading.transfer.drivers.base import Entry, join
from lading.transfer.engine import Engine, Item, Options, Planned, QuotaStop
from lading.transfer.errors import TransferFailure
from lading.transfer.operations import Cancelled
from lading.transfer.plan import Compare, Copy, Delete, FilterRule, Skip, SyncLevel
from lading.transfer.retry import RetryPolicy

log = logging.getLogger(__name__)
PLAN_BATCH = 500


def _items(task: TaskRow) -> list[Item]:
    return [Item(i["source_path"], i["destination_path"], bool(i["recursive"])) for i in task.items]


def _options(task: TaskRow, worker: TransferWorker) -> Options:
    o = task.options
    ts = worker.service.settings
    return Options(
        sync_level=SyncLevel(o["sync_level"]) if o.get("sync_level") else None,
        verify_checksum=bool(o.get("verify_checksum", True)),
        preserve_timestamp=bool(o.get("preserve_timestamp")),
        delete_destination_extra=bool(o.get("delete_destination_extra")),
        skip_source_errors=bool(o.get("skip_source_errors")),
        fail_on_quota_errors=bool(o.get("fail_on_quota_errors")),
        filter_rules=tuple(
            FilterRule(r["action"], r["pattern"]) for r in o.get("filter_rules", [])
        ),
        files=ts.files,
        parts=ts.parts,
        part_size=ts.part_size_mib * 1024 * 1024,
        upload_cutoff=ts.upload_cutoff_mib * 1024 * 1024,
    )


@dataclass
class _RowCheckpoint:
    """The engine's Checkpoint over the `parts` column of the claimed file rows."""

    worker: TransferWorker
    rows: dict[str, int]  # checkpoint key (destination identity | path) -> file row id

    def _id(self, key: str) -> int | None:
        return self.rows.get(key.partition("|")[2])

    def load(self, key: str) -> PartState | None:
        file_id = self._id(key)
        found = None if file_id is None else self.worker.service.store.load_parts(file_id)
        return None if found is None else PartState.from_json(found)

    def save(self, key: str, state: PartState) -> None:
        file_id = self._id(key)
        if file_id is not None:
            self.worker.service.store.save_parts(file_id, state.to_json())

    def drop(self, key: str) -> None:
        file_id = self._id(key)
        if file_id is not None:
            self.worker.service.store.save_parts(file_id, None)


@dataclass
class _Outcomes:
    """The engine's EventSink: keeps each file's fate and every event for the task."""

    events: list[tuple[str, str | None, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def event(self, kind: str, path: str, **details: Any) -> None:
        with self.lock:
            self.events.append((kind, path, details))


@dataclass
class TransferWorker:
    """Claims and does transfer work from the metadata database."""

    service: TransferService
    name: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    retry: RetryPolicy | None = None

    def __post_init__(self) -> None:
        self.name = f"{self.name}-{uuid.uuid4().hex[:6]}"[:64]

    @property
    def lease_us(self) -> int:
        return int(self.service.settings.lease_seconds * 1_000_000)

    def run_forever(self, stop: threading.Event) -> None:
        """Passes until `stop` is set, resting poll_seconds when there was nothing to do."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # a broken pass must not end the worker; the next one retries
                log.exception("transfer worker pass failed")
                busy = False
            if not busy:
                stop.wait(self.service.settings.poll_seconds)

    def run_once(self) -> bool:
        """One pass; whether there was anything to do."""
        did = self._finish_tasks()
        did = self.service.run_due_schedules() > 0 or did
        task = self.service.store.claim_task_to_plan(self.name, self.lease_us)
        if task is not None:
            self._plan(task)
            did = True
        rows = self.service.store.claim_files(
            self.name, self.lease_us, self.service.settings.batch_files
        )
        if rows:
            self._copy(rows)
            did = True
        return did

    # --- planning --------------------------------------------------------------------------

    def _engine(self, task: TaskRow, **kwargs: Any) -> Engine:
        store = self.service.store
        src = self.service.driver(store.endpoint_by_id(task.source_id))
        dst = self.service.driver(store.endpoint_by_id(task.destination_id))
        deadline = task.deadline / 1e6 if task.deadline else None
        retry = self.retry or RetryPolicy()
        retry = RetryPolicy(retry.base, retry.cap, retry.max_attempts, deadline)
        return Engine(src, dst, _options(task, self), retry=retry, **kwargs)

    def _plan(self, task: TaskRow) -> None:
        store = self.service.store
        store.reset_plan(task.id)
        try:
            engine = self._engine(task)
            skipped = deleted = 0
            batch: list[dict[str, Any]] = []
            seen = 0
            for index, item in enumerate(_items(task)):
                for action, _, _ in engine.plan_items([item]):
                    seen += 1
                    if seen % PLAN_BATCH == 0 and not store.renew_task(
                        task.id, self.name, self.lease_us
                    ):
                        log.warning("lost the plan of task %s to another worker", task.id)
                        return
                    if isinstance(action, Skip):
                        skipped += 1
                        continue
                    batch.append(_row(index, action))
                    deleted += isinstance(action, Delete)
                    if len(batch) >= PLAN_BATCH:
                        if not store.renew_task(task.id, self.name, self.lease_us):
                            log.warning("lost the plan of task %s to another worker", task.id)
                            return
                        store.add_files(task.id, batch)
                        batch = []
            if not store.renew_task(task.id, self.name, self.lease_us):
                log.warning("lost the plan of task %s to another worker", task.id)
                return
            store.add_files(task.id, batch)
            stats = engine.stats
            store.add_counters(
                task.id,
                {
                    "files_planned": stats.files_planned,
                    "bytes_planned": stats.bytes_planned,
                    "files_skipped": skipped,
                },
            )
            store.add_events(task.id, [("planned", None, {"skipped": skipped})])
            store.finish_plan(task.id, self.name)
        except (TransferFailure, ValueError) as exc:  # ValueError: a listing out of order
            message = exc.message if isinstance(exc, TransferFailure) else str(exc)
            self.service.fail(task.id, message)

    # --- copying ---------------------------------------------------------------------------

    def _copy(self, rows: list[FileRow]) -> None:
        store = self.service.store
        task = store.get_task(rows[0].task_id)
        ids = [r.id for r in rows]
        if task.status != "ACTIVE":
            store.release(ids)
            return
        items = _items(task)
        by_path = {join(items[r.item].destination, r.path): r for r in rows}
        outcomes = _Outcomes()
        try:
            engine = self._engine(
                task, checkpoint=_RowCheckpoint(self, {p: r.id for p, r in by_path.items()})
            )
        except TransferFailure as exc:  # an endpoint its driver cannot be made for
            store.release(ids)
            self.service.fail(task.id, exc.message)
            return
        engine.events = outcomes
        stop = threading.Event()
        beat = threading.Thread(
            target=self._heartbeat, args=(task.id, ids, engine, stop), daemon=True
        )
        beat.start()
        error: str | None = None
        try:
            engine.execute(_actions(rows, items))
        except Cancelled:
            pass
        except QuotaStop as exc:
            error = exc.message
        except TransferFailure as exc:
            error = exc.message
        finally:
            stop.set()
            beat.join()
        self._record(task, by_path, outcomes, engine)
        store.release(ids)  # whatever was not finished goes back to the pool
        if error is not None:
            self.service.fail(task.id, error)

    def _heartbeat(
        self, task_id: str, ids: list[int], engine: Engine, stop: threading.Event
    ) -> None:
        store = self.service.store
        while not stop.wait(self.service.settings.lease_seconds / 3):
            try:
                store.renew(ids, self.name, self.lease_us)
                if store.get_task(task_id).status != "ACTIVE":
                    engine.cancel.set()  # paused or cancelled: stop starting files
            except Exception:  # the next beat tries again; the lease covers a missed one
                log.exception("transfer heartbeat failed")

    def _record(
        self, task: TaskRow, by_path: dict[str, FileRow], outcomes: _Outcomes, engine: Engine
    ) -> None:
        store = self.service.store
        for kind, path, details in outcomes.events:
            row = by_path.get(path or "")
            if row is None:
                continue
            if kind in ("copied", "deleted"):
                store.file_done(row.id, "done", details.get("checksum"), None)
            elif kind == "skipped":
                store.file_done(row.id, "skipped", None, str(details.get("reason")))
            elif kind == "failed":
                store.file_done(row.id, "failed", None, str(details.get("error")))
        s = engine.stats.snapshot()
        store.add_counters(
            task.id,
            {
                "files_copied": s.files_copied,
                "bytes_copied": s.bytes_copied,
                "bytes_transferred": s.bytes_transferred,
                "files_skipped": s.files_skipped,
                "files_deleted": s.files_deleted,
                "files_failed": s.files_failed,
                "retries": s.retries,
            },
        )
        store.add_events(task.id, outcomes.events)

    # --- ending ----------------------------------------------------------------------------

    def _finish_tasks(self) -> bool:
        store = self.service.store
        ended = False
        for task_id in store.tasks_to_finish():
            task = store.get_task(task_id)
            status = "FAILED" if task.counters["files_failed"] else "SUCCEEDED"
            error = f"{task.counters['files_failed']} files failed" if status == "FAILED" else None
            if store.set_status(task_id, status, only_from=("ACTIVE",), error=error):
                store.add_events(task_id, [(status.lower(), None, {})])
                self.service.notify(task_id)
                ended = True
        return ended


def start_transfer_workers(service: TransferService, count: int | None = None) -> Any:
    """Start `count` (default: settings.server_workers) worker threads; returns a stopper."""
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=TransferWorker(service).run_forever,
            args=(stop,),
            name=f"lading-transfer-{n}",
            daemon=True,
        )
        for n in range(service.settings.server_workers if count is None else count)
    ]
    for thread in threads:
        thread.start()

    def stopper() -> None:
        stop.set()
        for thread in threads:
            thread.join()

    return stopper


def _row(index: int, action: Copy | Compare | Delete) -> dict[str, Any]:
    if isinstance(action, Delete):
        e = action.dst
        return {
            "item": index,
            "path": action.path,
            "action": "delete",
            "size": e.size,
            "mtime": e.mtime,
            "checksum": e.checksum,
            "dst": None,
        }
    dst = action.dst
    return {
        "item": index,
        "path": action.path,
        "action": "compare" if isinstance(action, Compare) else "copy",
        "size": action.src.size,
        "mtime": action.src.mtime,
        "checksum": action.src.checksum,
        "dst": None
        if dst is None
        else {"size": dst.size, "mtime": dst.mtime, "checksum": dst.checksum},
    }


def _actions(rows: list[FileRow], items: list[Item]) -> Iterator[Planned]:
    for r in rows:
        item = items[r.item]
        src_root, dst_root = item.source, item.destination  # a single file's path is ""
        entry = Entry(r.path, r.size, r.mtime, r.checksum)
        other = None
        if r.dst is not None:
            other = Entry(r.path, int(r.dst["size"]), float(r.dst["mtime"]), r.dst.get("checksum"))
        if r.action == "delete":
            yield Delete(r.path, entry), src_root, dst_root
        elif r.action == "compare" and other is not None:
            yield Compare(r.path, entry, other), src_root, dst_root
        else:
            yield Copy(r.path, entry, other, "planned"), src_root, dst_root
