"""Queries of the transfer aggregate: endpoints, tasks, their files and events.

Works on SQLite and PostgreSQL alike. Work is claimed with a lease by a conditional UPDATE
(`claimed_by IS NULL OR lease_until < now`), whose condition is repeated on the outer
statement so that PostgreSQL re-checks it on a row another worker changed meanwhile; two
workers therefore never hold the same file. Writes go through the metadata store's write
path (group commit and the writer lock on SQLite).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lading import errors
from lading.metadata import schema as s
from lading.metadata.store import MetadataStore, now_us

COUNTERS = (
    "files_planned",
    "bytes_planned",
    "files_copied",
    "bytes_copied",
    "bytes_transferred",
    "files_skipped",
    "files_deleted",
    "files_failed",
    "retries",
)
TERMINAL = ("SUCCEEDED", "FAILED")


@dataclass(frozen=True, slots=True)
class EndpointRow:
    id: int
    owner_id: int
    name: str
    kind: str
    config: dict[str, Any]
    secret: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class TaskRow:
    id: str
    owner_id: int
    submission_id: str
    label: str
    source_id: int
    destination_id: int
    items: list[dict[str, Any]]
    options: dict[str, Any]
    notify: dict[str, Any]
    status: str
    phase: str
    deadline: int | None
    counters: dict[str, int]
    error: str | None
    created_at: int
    completed_at: int | None


@dataclass(frozen=True, slots=True)
class FileRow:
    id: int
    task_id: str
    item: int
    path: str
    action: str
    size: int
    mtime: float
    checksum: str | None
    dst: dict[str, Any] | None
    parts: dict[str, Any] | None


def _endpoint(row: Any) -> EndpointRow:
    return EndpointRow(
        row.id, row.owner_id, row.name, row.kind, dict(row.config), row.secret, row.created_at
    )


def _task(row: Any) -> TaskRow:
    return TaskRow(
        row.id,
        row.owner_id,
        row.submission_id,
        row.label,
        row.source_id,
        row.destination_id,
        list(row.items),
        dict(row.options),
        dict(row.notify),
        row.status,
        row.phase,
        row.deadline,
        {name: int(getattr(row, name)) for name in COUNTERS},
        row.error,
        row.created_at,
        row.completed_at,
    )


def _file(row: Any) -> FileRow:
    return FileRow(
        row.id,
        row.task_id,
        row.item,
        row.path,
        row.action,
        row.size,
        row.mtime,
        row.checksum,
        row.dst,
        row.parts,
    )


class TransferStore:
    """The transfer tables, over the metadata store's engine and write path."""

    def __init__(self, meta: MetadataStore) -> None:
        self.meta = meta

    # --- endpoints -------------------------------------------------------------------------

    def create_endpoint(
        self, owner_id: int, name: str, kind: str, config: dict[str, Any], secret: str | None
    ) -> EndpointRow:
        t = s.transfer_endpoints

        def work(conn: sa.Connection) -> EndpointRow:
            taken = conn.execute(
                sa.select(t.c.id).where(t.c.owner_id == owner_id, t.c.name == name)
            ).first()
            if taken is not None:
                raise errors.Conflict(f"An endpoint named {name!r} already exists.")
            values: dict[str, Any] = {
                "owner_id": owner_id,
                "name": name,
                "kind": kind,
                "config": config,
                "secret": secret,
                "created_at": now_us(),
            }
            inserted = conn.execute(t.insert().values(**values)).inserted_primary_key
            assert inserted is not None
            new_id = inserted[0]
            return EndpointRow(id=int(new_id), **values)

        return self.meta._write(work)

    def get_endpoint(self, owner_id: int, name: str) -> EndpointRow:
        t = s.transfer_endpoints
        with self.meta._read() as conn:
            row = conn.execute(
                sa.select(t).where(t.c.owner_id == owner_id, t.c.name == name)
            ).first()
        if row is None:
            raise errors.NotFound(f"No endpoint named {name!r}.")
        return _endpoint(row)

    def endpoint_by_id(self, endpoint_id: int) -> EndpointRow:
        t = s.transfer_endpoints
        with self.meta._read() as conn:
            row = conn.execute(sa.select(t).where(t.c.id == endpoint_id)).first()
        if row is None:
            raise errors.NotFound(f"No endpoint with id {endpoint_id}.")
        return _endpoint(row)

    def list_endpoints(self, owner_id: int) -> list[EndpointRow]:
        t = s.transfer_endpoints
        with self.meta._read() as conn:
            rows = conn.execute(
                sa.select(t).where(t.c.owner_id == owner_id).order_by(t.c.name)
            ).all()
        return [_endpoint(r) for r in rows]

    def delete_endpoint(self, owner_id: int, name: str) -> None:
        t, tasks = s.transfer_endpoints, s.transfer_tasks
        found = self.get_endpoint(owner_id, name)

        def work(conn: sa.Connection) -> None:
            busy = conn.execute(
                sa.select(tasks.c.id)
                .where(
                    sa.or_(tasks.c.source_id == found.id, tasks.c.destination_id == found.id),
                    tasks.c.status.in_(("ACTIVE", "INACTIVE")),
                )
                .limit(1)
            ).first()
            if busy is not None:
                raise errors.Conflict(f"Endpoint {name!r} is used by unfinished task {busy.id}.")
            conn.execute(t.delete().where(t.c.id == found.id))

        self.meta._write(work)

    # --- tasks -----------------------------------------------------------------------------

    def create_task(self, values: dict[str, Any]) -> tuple[TaskRow, bool]:
        """Insert a task; (the existing task, False) when its submission id was seen."""
        t = s.transfer_tasks

        def existing(conn: sa.Connection) -> Any:
            return conn.execute(
                sa.select(t).where(
                    t.c.owner_id == values["owner_id"],
                    t.c.submission_id == values["submission_id"],
                )
            ).first()

        def work(conn: sa.Connection) -> tuple[TaskRow, bool]:
            found = existing(conn)
            if found is not None:
                return _task(found), False
            row = {**values, **dict.fromkeys(COUNTERS, 0)}
            conn.execute(t.insert().values(**row))
            return _task(conn.execute(sa.select(t).where(t.c.id == values["id"])).one()), True

        return self.meta._write(work)

    def get_task(self, task_id: str) -> TaskRow:
        t = s.transfer_tasks
        with self.meta._read() as conn:
            row = conn.execute(sa.select(t).where(t.c.id == task_id)).first()
        if row is None:
            raise errors.NotFound(f"No transfer task {task_id!r}.")
        return _task(row)

    def list_tasks(
        self, owner_id: int, *, status: str | None = None, limit: int = 100, after: str = ""
    ) -> list[TaskRow]:
        t = s.transfer_tasks
        query = sa.select(t).where(t.c.owner_id == owner_id)
        if status:
            query = query.where(t.c.status == status)
        if after:
            query = query.where(t.c.id > after)
        with self.meta._read() as conn:
            rows = conn.execute(query.order_by(t.c.id).limit(limit)).all()
        return [_task(r) for r in rows]

    def set_status(
        self,
        task_id: str,
        status: str,
        *,
        only_from: Sequence[str] = (),
        phase: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Change a task's status (if it is in one of `only_from`); whether it changed."""
        t = s.transfer_tasks
        values: dict[str, Any] = {"status": status}
        if phase is not None:
            values["phase"] = phase
        if error is not None:
            values["error"] = error
        if status in TERMINAL:
            values["completed_at"] = now_us()
            values["phase"] = "done"
        query = t.update().where(t.c.id == task_id)
        if only_from:
            query = query.where(t.c.status.in_(tuple(only_from)))
        return bool(self.meta._write(lambda conn: conn.execute(query.values(**values)).rowcount))

    def add_counters(self, task_id: str, deltas: dict[str, int]) -> None:
        t = s.transfer_tasks
        changes = {name: t.c[name] + delta for name, delta in deltas.items() if delta}
        if changes:
            self.meta._write(
                lambda conn: conn.execute(t.update().where(t.c.id == task_id).values(**changes))
            )

    def delete_task(self, task_id: str) -> None:
        t = s.transfer_tasks
        self.meta._write(lambda conn: conn.execute(t.delete().where(t.c.id == task_id)))

    # --- claims ----------------------------------------------------------------------------

    def claim_task_to_plan(self, worker: str, lease_us: int) -> TaskRow | None:
        """Take (or take over, when its lease ran out) an active task that needs planning."""
        t = s.transfer_tasks
        now = now_us()
        free = sa.or_(t.c.claimed_by.is_(None), t.c.lease_until < now)
        ready = sa.and_(t.c.status == "ACTIVE", t.c.phase == "plan", free)
        pick = sa.select(t.c.id).where(ready).order_by(t.c.created_at).limit(1).scalar_subquery()
        with self.meta._read() as conn:  # an idle pass takes no write lock
            if conn.execute(sa.select(t.c.id).where(ready).limit(1)).first() is None:
                return None

        def work(conn: sa.Connection) -> Any:
            conn.execute(
                t.update()
                .where(t.c.id == pick, ready)
                .values(claimed_by=worker, lease_until=now + lease_us)
            )
            return conn.execute(
                sa.select(t).where(
                    t.c.claimed_by == worker, t.c.phase == "plan", t.c.status == "ACTIVE"
                )
            ).first()

        row = self.meta._write(work)
        return None if row is None else _task(row)

    def add_files(self, task_id: str, rows: Iterable[dict[str, Any]]) -> None:
        batch = [{"task_id": task_id, "state": "pending", **r} for r in rows]
        if batch:
            self.meta._write(lambda conn: conn.execute(s.transfer_files.insert(), batch))

    def reset_plan(self, task_id: str) -> None:
        """Forget the files of a plan that a crashed worker left half written."""
        f, t = s.transfer_files, s.transfer_tasks

        def work(conn: sa.Connection) -> None:
            conn.execute(f.delete().where(f.c.task_id == task_id))
            conn.execute(
                t.update()
                .where(t.c.id == task_id)
                .values(files_planned=0, bytes_planned=0, files_skipped=0, files_deleted=0)
            )

        self.meta._write(work)

    def renew_task(self, task_id: str, worker: str, lease_us: int) -> bool:
        """Extend a planning claim; False when the worker lost it (its lease ran out)."""
        t = s.transfer_tasks
        query = (
            t.update()
            .where(t.c.id == task_id, t.c.claimed_by == worker, t.c.phase == "plan")
            .values(lease_until=now_us() + lease_us)
        )
        return bool(self.meta._write(lambda conn: conn.execute(query).rowcount))

    def finish_plan(self, task_id: str, worker: str) -> None:
        t = s.transfer_tasks
        self.meta._write(
            lambda conn: conn.execute(
                t.update()
                .where(t.c.id == task_id, t.c.claimed_by == worker)
                .values(phase="copy", claimed_by=None, lease_until=None)
            )
        )

    def claim_files(self, worker: str, lease_us: int, limit: int) -> list[FileRow]:
        """Claim up to `limit` pending files of one active, copying task."""
        f, t = s.transfer_files, s.transfer_tasks
        now = now_us()
        free = sa.and_(
            f.c.state == "pending", sa.or_(f.c.claimed_by.is_(None), f.c.lease_until < now)
        )
        running = sa.select(t.c.id).where(t.c.status == "ACTIVE", t.c.phase == "copy")
        with self.meta._read() as conn:
            task_id = conn.execute(
                sa.select(f.c.task_id).where(free, f.c.task_id.in_(running)).limit(1)
            ).scalar()
        if task_id is None:
            return []
        token = f"{worker}:{now}"
        pick = sa.select(f.c.id).where(f.c.task_id == task_id, free).order_by(f.c.id).limit(limit)

        def work(conn: sa.Connection) -> list[Any]:
            conn.execute(
                f.update()
                .where(f.c.id.in_(pick), free)
                .values(claimed_by=token, lease_until=now + lease_us)
            )
            return list(
                conn.execute(
                    sa.select(f).where(f.c.claimed_by == token, f.c.state == "pending")
                ).all()
            )

        return [_file(r) for r in self.meta._write(work)]

    def renew(self, file_ids: Sequence[int], token_prefix: str, lease_us: int) -> None:
        f = s.transfer_files
        if file_ids:
            self.meta._write(
                lambda conn: conn.execute(
                    f.update()
                    .where(f.c.id.in_(tuple(file_ids)), f.c.claimed_by.startswith(token_prefix))
                    .values(lease_until=now_us() + lease_us)
                )
            )

    def release(self, file_ids: Sequence[int]) -> None:
        f = s.transfer_files
        if file_ids:
            self.meta._write(
                lambda conn: conn.execute(
                    f.update()
                    .where(f.c.id.in_(tuple(file_ids)), f.c.state == "pending")
                    .values(claimed_by=None, lease_until=None)
                )
            )

    def file_done(self, file_id: int, state: str, result: str | None, error: str | None) -> None:
        f = s.transfer_files
        self.meta._write(
            lambda conn: conn.execute(
                f.update()
                .where(f.c.id == file_id)
                .values(state=state, result=result, error=error, claimed_by=None, parts=None)
            )
        )

    def save_parts(self, file_id: int, parts: dict[str, Any] | None) -> None:
        f = s.transfer_files
        self.meta._write(
            lambda conn: conn.execute(f.update().where(f.c.id == file_id).values(parts=parts))
        )

    def load_parts(self, file_id: int) -> dict[str, Any] | None:
        f = s.transfer_files
        with self.meta._read() as conn:
            found = conn.execute(sa.select(f.c.parts).where(f.c.id == file_id)).scalar()
        return None if found is None else dict(found)

    def pending_files(self, task_id: str) -> int:
        f = s.transfer_files
        with self.meta._read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(f)
                    .where(f.c.task_id == task_id, f.c.state == "pending")
                ).scalar_one()
            )

    def tasks_to_finish(self) -> list[str]:
        """Copying tasks with nothing pending: ready to be marked SUCCEEDED or FAILED."""
        f, t = s.transfer_files, s.transfer_tasks
        pending = sa.select(f.c.task_id).where(f.c.state == "pending")
        with self.meta._read() as conn:
            return list(
                conn.execute(
                    sa.select(t.c.id).where(
                        t.c.status == "ACTIVE", t.c.phase == "copy", t.c.id.not_in(pending)
                    )
                ).scalars()
            )

    # --- events ----------------------------------------------------------------------------

    def add_events(
        self, task_id: str, events: Iterable[tuple[str, str | None, dict[str, Any]]]
    ) -> None:
        rows = [
            {"task_id": task_id, "at": now_us(), "kind": k, "path": p, "details": d}
            for k, p, d in events
        ]
        if rows:
            self.meta._write(lambda conn: conn.execute(s.transfer_events.insert(), rows))

    def list_events(
        self, task_id: str, *, after: int = 0, limit: int = 1000
    ) -> list[dict[str, Any]]:
        e = s.transfer_events
        with self.meta._read() as conn:
            rows = conn.execute(
                sa.select(e)
                .where(e.c.task_id == task_id, e.c.id > after)
                .order_by(e.c.id)
                .limit(limit)
            ).all()
        return [
            {"id": r.id, "at": r.at, "kind": r.kind, "path": r.path, "details": dict(r.details)}
            for r in rows
        ]


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    id: str
    owner_id: int
    label: str
    template: dict[str, Any]
    every_seconds: int | None
    cron: str | None
    next_run: int
    last_task_id: str | None
    runs: int
    skipped: int
    created_at: int


def _schedule(row: Any) -> ScheduleRow:
    return ScheduleRow(
        row.id,
        row.owner_id,
        row.label,
        dict(row.template),
        row.every_seconds,
        row.cron,
        row.next_run,
        row.last_task_id,
        int(row.runs),
        int(row.skipped),
        row.created_at,
    )


class ScheduleStore:
    """Recurring transfers: a template task and when it next runs."""

    def __init__(self, meta: MetadataStore) -> None:
        self.meta = meta

    def create(self, values: dict[str, Any]) -> ScheduleRow:
        row = {**values, "runs": 0, "skipped": 0}
        self.meta._write(lambda conn: conn.execute(s.transfer_schedules.insert().values(**row)))
        return self.get(values["id"])

    def get(self, schedule_id: str) -> ScheduleRow:
        t = s.transfer_schedules
        with self.meta._read() as conn:
            row = conn.execute(sa.select(t).where(t.c.id == schedule_id)).first()
        if row is None:
            raise errors.NotFound(f"No transfer schedule {schedule_id!r}.")
        return _schedule(row)

    def list_for(self, owner_id: int) -> list[ScheduleRow]:
        t = s.transfer_schedules
        with self.meta._read() as conn:
            rows = conn.execute(
                sa.select(t).where(t.c.owner_id == owner_id).order_by(t.c.created_at, t.c.id)
            ).all()
        return [_schedule(r) for r in rows]

    def delete(self, schedule_id: str) -> None:
        t = s.transfer_schedules
        self.meta._write(lambda conn: conn.execute(t.delete().where(t.c.id == schedule_id)))

    def due(self, now: int) -> list[ScheduleRow]:
        t = s.transfer_schedules
        with self.meta._read() as conn:
            rows = conn.execute(
                sa.select(t).where(t.c.next_run <= now).order_by(t.c.next_run).limit(100)
            ).all()
        return [_schedule(r) for r in rows]

    def advance(self, schedule_id: str, was: int, next_run: int) -> bool:
        """Move a due schedule to its next run; False when another worker already did."""
        t = s.transfer_schedules
        query = (
            t.update().where(t.c.id == schedule_id, t.c.next_run == was).values(next_run=next_run)
        )
        return bool(self.meta._write(lambda conn: conn.execute(query).rowcount))

    def ran(self, schedule_id: str, task_id: str | None) -> None:
        """Count a run (with the task it submitted) or, without one, a skipped run."""
        t = s.transfer_schedules
        values: dict[str, Any] = (
            {"runs": t.c.runs + 1, "last_task_id": task_id}
            if task_id
            else {"skipped": t.c.skipped + 1}
        )
        self.meta._write(
            lambda conn: conn.execute(t.update().where(t.c.id == schedule_id).values(**values))
        )
