"""The Lading Python SDK: one client per service of the control API (httpx, no server code).

from lading.client import IdentityClient
with IdentityClient("http://127.0.0.1:9000", access_key=..., secret_key=...) as c:
    print(c.whoami())
"""

from __future__ import annotations

from lading.client._base import BaseClient
from lading.client.audit import AuditClient
from lading.client.auth import AuthClient
from lading.client.catalog import CatalogClient
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
from lading.client.shares import LinksClient, SharesClient
from lading.client.transfers import TransferClient

__all__ = [
    "APIError",
    "AuditClient",
    "AuthClient",
    "AuthenticationError",
    "BadRequestError",
    "BaseClient",
    "CatalogClient",
    "ConflictError",
    "ConnectionFailed",
    "IdentityClient",
    "KeysClient",
    "LadingClientError",
    "LinksClient",
    "NotFoundError",
    "PermissionDeniedError",
    "ProjectsClient",
    "ServerError",
    "SharesClient",
    "TransferClient",
    "paginate",
]
