"""The audit log, for administrators: who did what, when, from where, and the outcome."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lading.http.api.deps import CALLER_SCOPE, AdminCaller, Svc
from lading.http.api.keys import IsoTime, to_micros, to_time
from lading.metadata.audit import AuditFilter
from lading.services.audit import RequestRecord

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditRecord(BaseModel):
    id: int
    at: datetime
    request_id: str
    api: Literal["s3", "control"]
    user: str
    access_key: str
    operation: str
    bucket: str
    key: str
    client: str
    status: int
    code: str
    outcome: Literal["ok", "denied", "error"]


class AuditPage(BaseModel):
    items: list[AuditRecord]
    next: str | None = None


@router.get("", response_model=AuditPage, summary="Query the audit log (admin)")
async def list_audit(
    caller: AdminCaller,
    svc: Svc,
    user: Annotated[str | None, Query(max_length=64)] = None,
    bucket: Annotated[str | None, Query(max_length=63)] = None,
    since: Annotated[IsoTime | None, Query(alias="from", description="inclusive")] = None,
    until: Annotated[IsoTime | None, Query(alias="to", description="exclusive")] = None,
    outcome: Literal["ok", "denied", "error"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
) -> AuditPage:
    """Newest first; records reach the log within a second or so of their request."""
    where = AuditFilter(
        user=user,
        bucket=bucket,
        since=to_micros(since),
        until=to_micros(until),
        outcome=outcome,
        before_id=int(cursor) if cursor else None,
    )
    entries = await svc.audit.query(where, limit + 1)
    items = []
    for entry in entries[:limit]:
        at = to_time(entry.at)
        assert at is not None
        items.append(
            AuditRecord(
                id=entry.id,
                at=at,
                request_id=entry.request_id,
                api="s3" if entry.api == "s3" else "control",
                user=entry.user_name,
                access_key=entry.access_key,
                operation=entry.operation,
                bucket=entry.bucket,
                key=entry.key,
                client=entry.client,
                status=entry.status,
                code=entry.code,
                outcome=entry.outcome,
            )
        )
    more = len(entries) > limit
    return AuditPage(items=items, next=str(items[-1].id) if more and items else None)


class AuditTrail:
    """The control API's capture point: mutating calls and denials go to the audit log."""

    def __init__(self, app: ASGIApp, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 500
        problem = b""

        async def watch(message: Message) -> None:
            nonlocal status, problem
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and status >= 400 and not problem:
                problem = bytes(message.get("body", b""))[:4096]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self._record(scope, status, problem, started)

    def _record(self, scope: Scope, status: int, problem: bytes, started: float) -> None:
        services = (scope.get("state") or {}).get("services")
        if services is None:
            return
        code = ""
        if problem:
            try:
                code = str(json.loads(problem).get("code", ""))
            except (ValueError, AttributeError):
                code = ""
        user, access_key = scope.get(CALLER_SCOPE, ("", ""))
        client = scope.get("client")
        method = scope["method"]
        path = scope.get("path", "")
        record = RequestRecord(
            at=self.clock(),
            api="control",
            request_id=str(scope.get("lading.request_id", "")),
            method=method,
            operation=f"{method} {path}",
            user=user,
            access_key=access_key,
            client=client[0] if client else "",
            status=status,
            code=code,
            total_ms=int((time.monotonic() - started) * 1000),
        )
        services.audit.capture(record)
