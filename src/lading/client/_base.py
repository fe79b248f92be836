"""The base of every service client: an httpx.Client that signs, and turns problems into errors."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from typing import Any, Self

import httpx

from lading.client._sigv4 import SigV4
from lading.client.errors import ConnectionFailed, error_for

log = logging.getLogger(__name__)
API_PREFIX = "/_/api/v1"
DEFAULT_ENDPOINT = "http://127.0.0.1:9000"


class BaseClient:
    """Talks to one Lading server's control API.

    Authenticates with an access key pair (SigV4, as boto3 does), or with a bearer token.
    `transport` is passed to httpx (an httpx.MockTransport in unit tests).
    """

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        token: str | None = None,
        region: str = "us-east-1",
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        auth: httpx.Auth | None = None
        headers = {"accept": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        elif access_key and secret_key:
            auth = SigV4(access_key, secret_key, region)
        self._http = httpx.Client(
            base_url=self.endpoint + API_PREFIX,
            auth=auth,
            headers=headers,
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send one call; returns the decoded JSON body (None for 204).

        Raises an APIError subclass for an error answer, ConnectionFailed when the server
        cannot be reached.
        """
        log.debug("%s %s", method, path)
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, params=query, json=json)
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"cannot reach {self.endpoint}: {exc}") from exc
        _raise_for(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    @contextlib.contextmanager
    def streamed(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        content: Iterable[bytes] | bytes | None = None,
    ) -> Iterator[httpx.Response]:
        """A call whose body and answer are streamed (`content` chunks are sent as they come,
        signed as UNSIGNED-PAYLOAD); errors raised as by `request`."""
        log.debug("%s %s (streamed)", method, path)
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            with self._http.stream(method, path, params=query, content=content) as response:
                if response.status_code >= 400:
                    response.read()
                _raise_for(response)
                yield response
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"cannot reach {self.endpoint}: {exc}") from exc


def _raise_for(response: httpx.Response) -> None:
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = {"detail": response.text[:200]}
        raise error_for(response.status_code, body, response.headers.get("x-request-id", ""))
