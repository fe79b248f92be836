"""The audit log: every mutating request and every denial, S3 and control API.

Requests are captured at one point per API (the S3 dispatcher, the control API's middleware)
as `RequestRecord`s; the ones worth auditing are buffered in memory and written in batches by
a background task every `audit_flush_seconds` (and at shutdown). A crash loses at most the
records of that last interval; the buffer is bounded, and what overflows it is counted and
logged rather than slowing requests down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from lading.concurrency import run_blocking
from lading.metadata.audit import AuditEntry, AuditFilter, AuditStore
from lading.metadata.store import MetadataStore
from lading.settings import CredentialSettings

log = logging.getLogger(__name__)
MAX_BUFFER = 100_000
READS = frozenset({"GET", "HEAD", "OPTIONS"})
DENIED = frozenset({401, 403})
US = 1_000_000


@dataclass(slots=True)
class RequestRecord:
    """What the capture points know about one finished request."""

    at: datetime
    api: str  # "s3" or "control"
    request_id: str
    method: str
    operation: str
    user: str  # "" for anonymous
    access_key: str
    client: str
    status: int
    code: str = ""
    bucket: str = ""
    key: str = ""
    # what the S3 server access log adds
    bucket_owner: str = ""
    request_uri: str = ""
    http_version: str = "1.1"
    bytes_sent: int | None = None
    object_size: int | None = None
    total_ms: int = 0
    referer: str = ""
    user_agent: str = ""
    version_id: str = ""
    host: str = ""
    auth_type: str = ""  # "AuthHeader", "QueryString" or "" (anonymous)
    signature: str = ""  # "SigV4", "SigV2" or "" (anonymous)
    tls: bool = False
    acl_required: bool = False  # an ACL grant, not ownership, a role or a policy, admitted it

    @property
    def outcome(self) -> str:
        if self.status in DENIED:
            return "denied"
        return "error" if self.status >= 400 else "ok"

    @property
    def audited(self) -> bool:
        """Mutating requests and denials are audited; successful and failed reads are not."""
        return self.method not in READS or self.status in DENIED


class AuditService:
    """Buffers audit records and writes them in batches; answers queries."""

    def __init__(self, meta: MetadataStore, settings: CredentialSettings) -> None:
        self.store = AuditStore(meta)
        self.settings = settings
        self._buffer: list[AuditEntry] = []
        self.dropped = 0

    def capture(self, record: RequestRecord) -> None:
        """Keep the record if it is audited (no I/O: called on the hot path)."""
        if not record.audited:
            return
        if len(self._buffer) >= MAX_BUFFER:
            self.dropped += 1
            return
        self._buffer.append(
            AuditEntry(
                at=int(record.at.timestamp() * US),
                request_id=record.request_id,
                api=record.api,
                user_name=record.user,
                access_key=record.access_key,
                operation=record.operation,
                bucket=record.bucket,
                key=record.key,
                client=record.client,
                status=record.status,
                code=record.code,
                outcome=record.outcome,
            )
        )

    async def flush(self) -> None:
        """Write what is buffered (one transaction)."""
        batch, self._buffer = self._buffer, []
        if self.dropped:
            log.warning("audit buffer overflowed: %d records were not kept", self.dropped)
            self.dropped = 0
        if batch:
            await run_blocking(self.store.append, batch)

    async def run(self, clock: Callable[[], datetime]) -> None:
        """Flush every audit_flush_seconds; apply the retention once an hour."""
        last_purge = 0.0
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.settings.audit_flush_seconds)
            try:
                await self.flush()
                if loop.time() - last_purge > 3600:
                    last_purge = loop.time()
                    cutoff = clock().timestamp() - self.settings.audit_retention_days * 86_400
                    await run_blocking(self.store.purge, int(cutoff * US))
            except Exception:  # the next pass tries again; requests never wait on this
                log.exception("writing the audit log failed")

    async def query(self, where: AuditFilter, limit: int) -> list[AuditEntry]:
        return await run_blocking(self.store.query, where, limit)
