"""The sharing service: shares (access rules on a bucket prefix) and share links."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Any

from lading.client._base import BaseClient
from lading.client.paging import paginate


def _iso(when: _dt.datetime | str | None) -> str | None:
    if when is None or isinstance(when, str):
        return when
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return when.isoformat()


class SharesClient(BaseClient):
    """Share a bucket prefix with a user, a group, every authenticated user or anyone."""

    def create_share(
        self,
        bucket: str,
        *,
        principal_type: str,
        principal: str | None = None,
        prefix: str = "",
        permissions: str = "r",
        expires_at: _dt.datetime | str | None = None,
        message: str = "",
        notify_email: str = "",
    ) -> dict[str, Any]:
        """Grant (bucket, prefix); principal_type is user, group, all_authenticated_users or
        anonymous, and principal names the user or group.

        API: POST /_/api/v1/shares
        """
        body = {
            "bucket": bucket,
            "prefix": prefix,
            "principal_type": principal_type,
            "principal": principal,
            "permissions": permissions,
            "expires_at": _iso(expires_at),
            "message": message,
            "notify_email": notify_email,
        }
        found: dict[str, Any] = self.request("POST", "/shares", json=body)
        return found

    def list_shares(
        self, *, bucket: str | None = None, granted: bool = False, limit: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every share of a bucket, of all your buckets, or (granted) made to you.

        API: GET /_/api/v1/shares
        """

        def page(cursor: str | None) -> dict[str, Any]:
            params = {"bucket": bucket, "limit": limit, "cursor": cursor}
            if granted:
                params["granted"] = "true"
            found: dict[str, Any] = self.request("GET", "/shares", params=params)
            return found

        return paginate(page)

    def get_share(self, share_id: int) -> dict[str, Any]:
        """API: GET /_/api/v1/shares/{id}"""
        found: dict[str, Any] = self.request("GET", f"/shares/{int(share_id)}")
        return found

    def delete_share(self, share_id: int) -> None:
        """Remove the access rule (no data is deleted).

        API: DELETE /_/api/v1/shares/{id}
        """
        self.request("DELETE", f"/shares/{int(share_id)}")

    def list_outbox(self, *, limit: int = 100) -> Iterator[dict[str, Any]]:
        """Every notification message: shares, transfers, projects past their grace (admins).

        API: GET /_/api/v1/outbox
        """

        def page(cursor: str | None) -> dict[str, Any]:
            found: dict[str, Any] = self.request(
                "GET", "/outbox", params={"limit": limit, "cursor": cursor}
            )
            return found

        return paginate(page)


class LinksClient(BaseClient):
    """Revocable bearer links to a bucket prefix or one object."""

    def create_link(
        self,
        bucket: str,
        *,
        prefix: str | None = None,
        key: str | None = None,
        expires_at: _dt.datetime | str | None = None,
        max_uses: int | None = None,
        max_bytes: int | None = None,
        note: str = "",
    ) -> dict[str, Any]:
        """A link to a prefix (or with key, one object); the answer holds `token` and `url`,
        shown only this once.

        API: POST /_/api/v1/links
        """
        body = {
            "bucket": bucket,
            "prefix": prefix,
            "key": key,
            "expires_at": _iso(expires_at),
            "max_uses": max_uses,
            "max_bytes": max_bytes,
            "note": note,
        }
        found: dict[str, Any] = self.request("POST", "/links", json=body)
        return found

    def list_links(
        self, *, bucket: str | None = None, limit: int = 100
    ) -> Iterator[dict[str, Any]]:
        """API: GET /_/api/v1/links"""

        def page(cursor: str | None) -> dict[str, Any]:
            found: dict[str, Any] = self.request(
                "GET", "/links", params={"bucket": bucket, "limit": limit, "cursor": cursor}
            )
            return found

        return paginate(page)

    def get_link(self, link_id: int) -> dict[str, Any]:
        """API: GET /_/api/v1/links/{id}"""
        found: dict[str, Any] = self.request("GET", f"/links/{int(link_id)}")
        return found

    def revoke_link(self, link_id: int) -> dict[str, Any]:
        """The link stops opening at once.

        API: POST /_/api/v1/links/{id}/revoke
        """
        found: dict[str, Any] = self.request("POST", f"/links/{int(link_id)}/revoke")
        return found

    def list_link_uses(self, link_id: int, *, limit: int = 100) -> Iterator[dict[str, Any]]:
        """Every recorded request through the link, oldest first.

        API: GET /_/api/v1/links/{id}/uses
        """

        def page(cursor: str | None) -> dict[str, Any]:
            found: dict[str, Any] = self.request(
                "GET", f"/links/{int(link_id)}/uses", params={"limit": limit, "cursor": cursor}
            )
            return found

        return paginate(page)
