"""The audit service: the log of mutating requests and denials (administrators)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from lading.client._base import BaseClient
from lading.client.paging import paginate


class AuditClient(BaseClient):
    def list_audit(
        self,
        *,
        user: str | None = None,
        bucket: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        outcome: str | None = None,
        limit: int = 100,
    ) -> Iterator[dict[str, Any]]:
        """Audit records, newest first; `outcome` is "ok", "denied" or "error".

        API: GET /_/api/v1/audit
        """
        params: dict[str, Any] = {
            "user": user,
            "bucket": bucket,
            "from": since.isoformat() if isinstance(since, datetime) else since,
            "to": until.isoformat() if isinstance(until, datetime) else until,
            "outcome": outcome,
            "limit": limit,
        }

        def page(cursor: str | None) -> dict[str, Any]:
            found: dict[str, Any] = self.request(
                "GET", "/audit", params={**params, "cursor": cursor}
            )
            return found

        return paginate(page)
