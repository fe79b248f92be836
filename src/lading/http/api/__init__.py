"""The control API under /_/api/v1/: JSON, described by the OpenAPI document it serves.

One module per resource, each exposing `router`; `ROUTERS` lists them. Routes raise domain
errors, which `errors.HANDLERS` turns into problem documents.
"""

from __future__ import annotations

import importlib
import itertools
import secrets
from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lading import __version__
from lading.http.api.audit import AuditTrail
from lading.http.api.deps import ApiContext
from lading.http.api.errors import HANDLERS, PROBLEM_RESPONSES
from lading.settings import Settings

PREFIX = "/_/api/v1"
# resource modules, each with a `router`; included in this order
ROUTERS = (
    "lading.http.api.identity",
    "lading.http.api.keys",
    "lading.http.api.auth",
    "lading.http.api.audit",
    "lading.http.api.users",
    "lading.http.api.groups",
    "lading.http.api.projects",
    "lading.http.api.usage",
    "lading.http.api.catalog",
    "lading.http.api.shares",
    "lading.http.api.links",
    "lading.http.api.transfers",
    "lading.http.api.endpoint_files",
)


class RequestIds:
    """Give every control-API request an id, in the scope and the x-request-id header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._prefix = secrets.token_hex(4).upper()
        self._counter = itertools.count()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"{self._prefix}{next(self._counter) & 0xFFFFFFFF:08X}"
        scope["lading.request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


def build_api(settings: Settings, clock: Callable[[], datetime]) -> ASGIApp:
    """The control API application, to be mounted at PREFIX."""
    api = FastAPI(
        title="Lading control API",
        version=__version__,
        summary="Identity, sharing, catalog and transfers of a Lading research data store.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        exception_handlers=dict(HANDLERS),  # type: ignore[arg-type]
        responses=PROBLEM_RESPONSES,
    )
    api.state.lading = ApiContext(settings, clock)
    for module in ROUTERS:
        router: APIRouter = importlib.import_module(module).router
        api.include_router(router)
    return RequestIds(AuditTrail(api, clock))
