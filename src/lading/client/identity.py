"""The identity service: who the caller is, users and groups."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from lading.client._base import BaseClient
from lading.client.paging import paginate


def _seg(value: str) -> str:
    return quote(value, safe="")


class IdentityClient(BaseClient):
    """Users, groups and the caller's own identity."""

    def whoami(self) -> dict[str, Any]:
        """The caller's user name, admin flag and the credentials used.

        API: GET /_/api/v1/whoami
        """
        found: dict[str, Any] = self.request("GET", "/whoami")
        return found

    # --- users ---------------------------------------------------------------------------------

    def list_users(self, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every user, page by page (administrators).

        API: GET /_/api/v1/users
        """
        return paginate(
            lambda cursor: self.request("GET", "/users", params={"limit": limit, "cursor": cursor})
        )

    def create_user(
        self, name: str, *, display_name: str = "", email: str = "", is_admin: bool = False
    ) -> dict[str, Any]:
        """A new user with a personal project; the answer holds its first key pair, once.

        API: POST /_/api/v1/users
        """
        body = {"name": name, "display_name": display_name, "email": email, "is_admin": is_admin}
        found: dict[str, Any] = self.request("POST", "/users", json=body)
        return found

    def get_user(self, name: str) -> dict[str, Any]:
        """A user's profile.

        API: GET /_/api/v1/users/{name}
        """
        found: dict[str, Any] = self.request("GET", f"/users/{_seg(name)}")
        return found

    def update_user(
        self,
        name: str,
        *,
        display_name: str | None = None,
        email: str | None = None,
        is_admin: bool | None = None,
        enabled: bool | None = None,
    ) -> dict[str, Any]:
        """Change a user's profile; arguments left at None stay as they are.

        API: PATCH /_/api/v1/users/{name}
        """
        body = {
            k: v
            for k, v in {
                "display_name": display_name,
                "email": email,
                "is_admin": is_admin,
                "enabled": enabled,
            }.items()
            if v is not None
        }
        found: dict[str, Any] = self.request("PATCH", f"/users/{_seg(name)}", json=body)
        return found

    # --- groups --------------------------------------------------------------------------------

    def list_groups(self, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every group, page by page.

        API: GET /_/api/v1/groups
        """
        return paginate(
            lambda cursor: self.request("GET", "/groups", params={"limit": limit, "cursor": cursor})
        )

    def create_group(self, name: str, *, description: str = "") -> dict[str, Any]:
        """API: POST /_/api/v1/groups"""
        found: dict[str, Any] = self.request(
            "POST", "/groups", json={"name": name, "description": description}
        )
        return found

    def get_group(self, name: str) -> dict[str, Any]:
        """API: GET /_/api/v1/groups/{name}"""
        found: dict[str, Any] = self.request("GET", f"/groups/{_seg(name)}")
        return found

    def delete_group(self, name: str) -> None:
        """API: DELETE /_/api/v1/groups/{name}"""
        self.request("DELETE", f"/groups/{_seg(name)}")

    def add_group_member(self, group: str, user: str) -> dict[str, Any]:
        """Add a user to a group; idempotent.

        API: PUT /_/api/v1/groups/{group}/members/{user}
        """
        found: dict[str, Any] = self.request("PUT", f"/groups/{_seg(group)}/members/{_seg(user)}")
        return found

    def remove_group_member(self, group: str, user: str) -> dict[str, Any]:
        """Remove a user from a group; idempotent.

        API: DELETE /_/api/v1/groups/{group}/members/{user}
        """
        found: dict[str, Any] = self.request(
            "DELETE", f"/groups/{_seg(group)}/members/{_seg(user)}"
        )
        return found
