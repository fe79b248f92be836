"""The auth service: passwords, login, refresh and revocation of bearer tokens."""

from __future__ import annotations

from typing import Any

from lading.client._base import BaseClient


class AuthClient(BaseClient):
    """Log in with a password; manage the caller's refresh tokens and password."""

    def login(self, username: str, password: str, *, description: str = "") -> dict[str, Any]:
        """An access token and a refresh token; AuthenticationError for a wrong pair.

        API: POST /_/api/v1/auth/login
        """
        found: dict[str, Any] = self.request(
            "POST",
            "/auth/login",
            json={"username": username, "password": password, "description": description},
        )
        return found

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """A new access token; AuthenticationError if the refresh token expired or was revoked.

        API: POST /_/api/v1/auth/refresh
        """
        found: dict[str, Any] = self.request(
            "POST", "/auth/refresh", json={"refresh_token": refresh_token}
        )
        return found

    def revoke(self, token: str) -> None:
        """Revoke a refresh token (with its access tokens) or an access token.

        API: POST /_/api/v1/auth/revoke
        """
        self.request("POST", "/auth/revoke", json={"token": token})

    def list_tokens(self) -> list[dict[str, Any]]:
        """The caller's refresh tokens that are not revoked.

        API: GET /_/api/v1/auth/tokens
        """
        found: list[dict[str, Any]] = self.request("GET", "/auth/tokens")["items"]
        return found

    def revoke_token_id(self, token_id: str) -> None:
        """API: DELETE /_/api/v1/auth/tokens/{token_id}"""
        self.request("DELETE", f"/auth/tokens/{token_id}")

    def set_my_password(self, password: str, *, current_password: str | None = None) -> None:
        """API: PUT /_/api/v1/me/password"""
        body = {"password": password}
        if current_password is not None:
            body["current_password"] = current_password
        self.request("PUT", "/me/password", json=body)

    def set_password(self, user: str, password: str) -> None:
        """Set another user's password (administrators).

        API: PUT /_/api/v1/passwords/{user}
        """
        self.request("PUT", f"/passwords/{user}", json={"password": password})
