"""The identity service: who the caller is."""

from __future__ import annotations

from typing import Any

from lading.client._base import BaseClient


class IdentityClient(BaseClient):
    """Users, keys and the caller's own identity."""

    def whoami(self) -> dict[str, Any]:
        """The caller's user name, admin flag and the credentials used.

        API: GET /_/api/v1/whoami
        """
        found: dict[str, Any] = self.request("GET", "/whoami")
        return found
