"""The Lading Python SDK: one client per service of the control API (httpx, no server code).

from lading.client import IdentityClient
with IdentityClient("http://127.0.0.1:9000", access_key=..., secret_key=...) as c:
    print(c.whoami())
"""

from __future__ import annotations

from lading.client._base import BaseClient
from lading.client.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectionFailed,
    LadingClientError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
)
from lading.client.identity import IdentityClient
from lading.client.paging import paginate
from lading.client.projects import ProjectsClient

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "BaseClient",
    "ConflictError",
    "ConnectionFailed",
    "IdentityClient",
    "LadingClientError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProjectsClient",
    "ServerError",
    "paginate",
]
