"""Errors the SDK raises; every one carries what the server said.

LadingClientError
├── APIError(http_status, code, message, request_id)   the server answered with a problem
│   ├── BadRequestError          400, 422
│   ├── AuthenticationError      401
│   ├── PermissionDeniedError    403
│   ├── NotFoundError            404
│   ├── ConflictError            409
│   └── ServerError              5xx
└── ConnectionFailed                 the server could not be reached
"""

from __future__ import annotations

from typing import Any


class LadingClientError(Exception):
    """Base of the SDK's errors."""


class ConnectionFailed(LadingClientError):
    """The server did not answer (not running, wrong endpoint, network down)."""


class APIError(LadingClientError):
    """The server answered with an error (a problem+json document)."""

    def __init__(
        self,
        http_status: int,
        code: str,
        message: str,
        request_id: str = "",
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}" if code else message)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.body = body or {}


class BadRequestError(APIError):
    pass


class AuthenticationError(APIError):
    pass


class PermissionDeniedError(APIError):
    pass


class NotFoundError(APIError):
    pass


class ConflictError(APIError):
    pass


class ServerError(APIError):
    pass


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: BadRequestError,
}


def error_for(status: int, body: dict[str, Any], request_id: str) -> APIError:
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else APIError)
    return cls(
        status,
        str(body.get("code", "")),
        str(body.get("detail") or body.get("title") or f"HTTP {status}"),
        str(body.get("request_id") or request_id),
        body,
    )
