"""The outermost error guard: an uncaught exception becomes an S3 InternalError, logged once."""

from __future__ import annotations

import logging
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lading.http.s3 import xml

log = logging.getLogger(__name__)


class ErrorGuard:
    """Answer 500 with an S3 error document when a handler fails unexpectedly."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            request_id = secrets.token_hex(8).upper()
            log.exception("unhandled error, request id %s", request_id)
            if started:
                raise
            body = xml.error(
                "InternalError",
                "We encountered an internal error. Please try again.",
                scope.get("path", ""),
                request_id,
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/xml"),
                        (b"content-length", str(len(body)).encode()),
                        (b"x-amz-request-id", request_id.encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
