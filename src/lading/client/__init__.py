"""The Lading Python SDK: one client per service of the control API (httpx, no server code).

from lading.client import IdentityClient
with IdentityClient("http://127.0.0.1:9000", access_key=..., secret_key=...) as c:
    print(c.whoami())
"""

from __future__ import annotations

from lading.client._base import BaseClient
from lading.client.audit import AuditClient
from lading.client.auth import AuthClient
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
from lading.client.keys import KeysClient
from lading.client.paging import paginate
from lading.client.projects import ProjectsClient

__all__ = [
    "APIError",
    "AuditClient",
    "AuthClient",
    "AuthenticationError",
    "BadRequestError",
    "BaseClient",
    "ConflictError",
    "ConnectionFailed",
    "IdentityClient",
    "KeysClient",
    "LadingClientError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProjectsClient",
    "ServerError",
    "paginate",
]
