"""Queries of the audit log: batched inserts, filtered newest-first pages, retention."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa

from lading.metadata import schema as t
from lading.metadata.store import MetadataStore


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited request: who, what, when (epoch us), from where, and the outcome."""

    at: int
    request_id: str
    api: str  # "s3" or "control"
    user_name: str  # "" for anonymous
    access_key: str
    operation: str
    bucket: str
    key: str
    client: str
    status: int
    code: str
    outcome: str  # "ok", "denied" or "error"
    id: int = 0


@dataclass(frozen=True, slots=True)
class AuditFilter:
    user: str | None = None
    bucket: str | None = None
    since: int | None = None  # epoch us, inclusive
    until: int | None = None  # epoch us, exclusive
    outcome: str | None = None
    before_id: int | None = None  # the page cursor: entries older than this id


_COLUMNS = tuple(f.name for f in fields(AuditEntry) if f.name != "id")


class AuditStore:
    def __init__(self, meta: MetadataStore) -> None:
        self.meta = meta

    def append(self, entries: Sequence[AuditEntry]) -> None:
        """Insert a batch in one transaction."""
        if not entries:
            return
        rows = []
        for entry in entries:
            row = {name: getattr(entry, name) for name in _COLUMNS}  # asdict copies deeply
            row["key"] = row["key"][:1024]
            row["operation"] = row["operation"][:128]
            row["client"] = row["client"][:64]
            rows.append(row)

        def work(conn: sa.Connection) -> None:
            conn.execute(t.audit_log.insert(), rows)

        self.meta._write(work)

    def query(self, where: AuditFilter, limit: int) -> list[AuditEntry]:
        """Newest first."""
        a = t.audit_log.c
        query: sa.Select[Any] = sa.select(t.audit_log)
        if where.user is not None:
            query = query.where(a.user_name == where.user)
        if where.bucket is not None:
            query = query.where(a.bucket == where.bucket)
        if where.since is not None:
            query = query.where(a.at >= where.since)
        if where.until is not None:
            query = query.where(a.at < where.until)
        if where.outcome is not None:
            query = query.where(a.outcome == where.outcome)
        if where.before_id is not None:
            query = query.where(a.id < where.before_id)
        with self.meta._read() as conn:
            rows = conn.execute(query.order_by(a.id.desc()).limit(limit)).all()
        return [AuditEntry(**row._asdict()) for row in rows]

    def purge(self, before: int) -> int:
        """Delete entries older than `before` (epoch us); returns how many."""

        def work(conn: sa.Connection) -> int:
            done = conn.execute(t.audit_log.delete().where(t.audit_log.c.at < before))
            return int(done.rowcount or 0)

        found: int = self.meta._write(work)
        return found
