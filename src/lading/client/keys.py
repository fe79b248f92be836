"""The access-key service: create, list, disable, enable, expire and delete key pairs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from lading.client._base import BaseClient
from lading.client.paging import paginate

_UNSET: Any = object()


def _iso(moment: datetime | str | None) -> str | None:
    return moment.isoformat() if isinstance(moment, datetime) else moment


class KeysClient(BaseClient):
    """Access keys of the caller (or, for an administrator, of any user)."""

    def list_keys(self, *, user: str | None = None, limit: int = 100) -> Iterator[dict[str, Any]]:
        """Every key of the caller, or of `user`, oldest first.

        API: GET /_/api/v1/keys
        """

        def page(cursor: str | None) -> dict[str, Any]:
            found: dict[str, Any] = self.request(
                "GET", "/keys", params={"user": user, "limit": limit, "cursor": cursor}
            )
            return found

        return paginate(page)

    def create_key(
        self, *, user: str | None = None, expires: datetime | str | None = None
    ) -> dict[str, Any]:
        """A new active key pair, its `secret_key` included (shown this once).

        Raises ConflictError (code TooManyAccessKeys) when the user holds two active keys.
        API: POST /_/api/v1/keys
        """
        body = {k: v for k, v in {"user": user, "expires": _iso(expires)}.items() if v}
        found: dict[str, Any] = self.request("POST", "/keys", json=body)
        return found

    def get_key(self, access_key: str) -> dict[str, Any]:
        """API: GET /_/api/v1/keys/{access_key}"""
        found: dict[str, Any] = self.request("GET", f"/keys/{access_key}")
        return found

    def update_key(
        self,
        access_key: str,
        *,
        status: str | None = None,
        expires: datetime | str | None = _UNSET,
    ) -> dict[str, Any]:
        """Set the status ("active" or "disabled") and/or the expiry (None removes it).

        API: PATCH /_/api/v1/keys/{access_key}
        """
        body: dict[str, Any] = {}
        if status is not None:
            body["status"] = status
        if expires is not _UNSET:
            body["expires"] = _iso(expires)
        found: dict[str, Any] = self.request("PATCH", f"/keys/{access_key}", json=body)
        return found

    def disable_key(self, access_key: str) -> dict[str, Any]:
        """API: PATCH /_/api/v1/keys/{access_key}"""
        return self.update_key(access_key, status="disabled")

    def enable_key(self, access_key: str) -> dict[str, Any]:
        """API: PATCH /_/api/v1/keys/{access_key}"""
        return self.update_key(access_key, status="active")

    def delete_key(self, access_key: str) -> None:
        """API: DELETE /_/api/v1/keys/{access_key}"""
        self.request("DELETE", f"/keys/{access_key}")
