"""The one S3 entry point: authenticate, route, resolve the bucket, authorize once, handle.

Handlers receive a ReqCtx and never re-check authorization; every error, from any layer,
becomes an S3 XML error document through the table in lading.http.s3.errors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from lading import errors
from lading.http.s3 import auth, xml
from lading.http.s3 import errors as s3errors
from lading.http.s3.router import S3Op, route, unsupported_feature
from lading.iam.policy import Action, authorize
from lading.iam.principals import ANONYMOUS, Principal
from lading.metadata.models import Bucket
from lading.services.container import Services
from lading.services.objects import verify_content_md5
from lading.settings import Settings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ReqCtx:
    """What a handler needs about one request."""

    request: Request
    op: S3Op
    services: Services
    settings: Settings
    principal: Principal
    query: dict[str, str]
    headers: dict[str, str]
    decoder: auth.BodyDecoder
    request_id: str
    bucket: Bucket | None = None
    source_bucket: Bucket | None = None
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def user_id(self) -> int:
        return self.principal.user.id if self.principal.user is not None else 0

    def need_bucket(self) -> Bucket:
        assert self.bucket is not None, "dispatch resolves the bucket of bucket operations"
        return self.bucket

    def need_key(self) -> str:
        assert self.op.key is not None, "the router names a key for object operations"
        return self.op.key

    @property
    def declared_size(self) -> int | None:
        """The payload size the client announced (decoded size for aws-chunked bodies)."""
        spec = self.decoder.spec
        if spec.chunked:
            return spec.decoded_length
        return self.decoder.content_length

    def trailer(self, name: str) -> str | None:
        """A trailing header of an aws-chunked body; known once the body has been read."""
        return self.decoder.trailers.get(name)

    def body(self) -> AsyncIterator[bytes]:
        """The decoded request body, checked against its signature as it streams."""
        return self.decoder.stream(_received(self.request))

    async def read_body(self, limit: int = xml.MAX_REQUEST_XML) -> bytes:
        """A small body (XML documents), whole; Content-MD5 is checked when sent."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in self.body():
            size += len(chunk)
            if size > limit:
                raise errors.MalformedXML("The request body is larger than allowed.")
            chunks.append(chunk)
        body = b"".join(chunks)
        md5 = self.headers.get("content-md5")
        if md5 is not None:
            verify_content_md5(md5, hashlib.md5(body).digest())
        return body

    def location(self, key: str) -> str:
        scheme = self.request.url.scheme
        host = self.headers.get("host", f"{self.settings.host}:{self.settings.port}")
        bucket = self.op.bucket or ""
        return f"{scheme}://{host}/{bucket}/{key}"


Handler = Callable[[ReqCtx], Awaitable[Response]]


async def _received(request: Request) -> AsyncIterator[bytes]:
    """The raw body; a client that hangs up mid-body is an IncompleteBody, not a crash."""
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect as exc:
        raise errors.IncompleteBody(
            "The client closed the connection before the whole body."
        ) from exc


def request_headers(request: Request) -> dict[str, str]:
    """Lower-cased header names; repeated headers joined with ','."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in request.scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


def copy_source(headers: dict[str, str]) -> tuple[str, str, str | None]:
    """Parse x-amz-copy-source into (bucket, key, version id); raises InvalidCopySource."""
    raw = headers.get("x-amz-copy-source", "")
    path, _, query = raw.partition("?")
    path = unquote(path).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise errors.InvalidCopySource()
    version = dict(parse_qsl(query)).get("versionId") if query else None
    return bucket, key, version


def _unread_body(request: Request, headers: dict[str, str]) -> bool:
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    return has_body and not getattr(request, "_stream_consumed", False)


class S3Dispatcher:
    """Turns a Starlette request into the S3 handler's response."""

    def __init__(
        self,
        services: Services,
        settings: Settings,
        handlers: dict[str, Handler],
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.services = services
        self.settings = settings
        self.handlers = handlers
        self.clock = clock
        # request ids: a random prefix per process and a counter (no syscall per request)
        self._id_prefix = secrets.token_hex(4).upper()
        self._id_counter = itertools.count()

    async def __call__(self, request: Request) -> Response:
        request_id = f"{self._id_prefix}{next(self._id_counter) & 0xFFFFFFFF:08X}"
        headers = request_headers(request)
        raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
        raw_path = raw_path.partition("?")[0]
        raw_query = request.scope.get("query_string", b"").decode("latin-1")
        try:
            response = await self._handle(request, headers, raw_path, raw_query, request_id)
        except errors.LadingError as exc:
            response = self.error_response(exc, request, raw_path, request_id)
            if _unread_body(request, headers):
                # the client may still send the body it held back for 100-continue: the
                # connection cannot carry another request after it
                response.headers["connection"] = "close"
        response.headers["x-amz-request-id"] = request_id
        response.headers["x-amz-id-2"] = request_id
        return response

    async def _handle(
        self,
        request: Request,
        headers: dict[str, str],
        raw_path: str,
        raw_query: str,
        request_id: str,
    ) -> Response:
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        view = auth.RequestView(request.method, raw_path, raw_query, headers)
        parsed = auth.parse_auth(view)
        op = route(
            request.method, raw_path, query, headers, base_domain=self.settings.s3.base_domain
        )
        if parsed is None:
            principal = ANONYMOUS
            spec = auth.payload_spec_for(view)
        else:
            key = await self.services.identity.lookup_key(parsed.access_key)
            vhost_bucket = op.bucket if raw_path.lstrip("/") == (op.key or "") else None
            spec = auth.verify(
                view,
                parsed,
                key.secret_key,
                region=self.settings.region,
                now=self.clock(),
                max_skew_seconds=self.settings.s3.max_skew_seconds,
                virtual_host_bucket=vhost_bucket if self.settings.s3.base_domain else None,
            )
            principal = Principal(key.user, key.access_key)
        length = headers.get("content-length")
        decoder = auth.BodyDecoder(spec, int(length) if length and length.isdigit() else None)
        ctx = ReqCtx(
            request,
            op,
            self.services,
            self.settings,
            principal,
            query,
            headers,
            decoder,
            request_id,
        )
        if op.bucket is not None and op.name != "CreateBucket":
            ctx.bucket = await self.services.buckets.get_bucket(op.bucket)
        authorize(principal, op.action, ctx.bucket)
        if not op.implemented:
            raise errors.NotImplementedOperation(op.name)
        feature = unsupported_feature(op, headers)
        if feature is not None:
            raise errors.NotImplementedOperation(f"{op.name} with {feature}")
        if op.name in ("CopyObject", "UploadPartCopy"):
            source_bucket, _, _ = copy_source(headers)
            ctx.source_bucket = await self.services.buckets.get_bucket(source_bucket)
            authorize(principal, Action.READ_OBJECT, ctx.source_bucket)
        return await self.handlers[op.name](ctx)

    def error_response(
        self, exc: errors.LadingError, request: Request, resource: str, request_id: str
    ) -> Response:
        found = s3errors.lookup(exc)
        if found.status >= 500:
            log.error("request %s failed", request_id, exc_info=exc)
        extra: dict[str, str] = {}
        if isinstance(exc, errors.NoSuchBucket):
            extra["BucketName"] = exc.bucket
        elif isinstance(exc, errors.NoSuchKey):
            extra["Key"] = exc.key
        elif isinstance(exc, errors.NoSuchUpload):
            extra["UploadId"] = exc.upload_id
        elif isinstance(exc, errors.InvalidAccessKeyId):
            extra["AWSAccessKeyId"] = exc.access_key
        headers: dict[str, str] = {}
        if isinstance(exc, errors.InvalidRange):
            headers["content-range"] = f"bytes */{exc.size}"
            extra["ActualObjectSize"] = str(exc.size)
        elif isinstance(exc, errors.NotModified):
            if exc.etag is not None:
                headers["etag"] = exc.etag
            if exc.last_modified is not None:
                headers["last-modified"] = xml.http_time(exc.last_modified)
        message = (
            exc.message
            if found is not s3errors.INTERNAL
            else "We encountered an internal error. Please try again."
        )
        if found.status == 304 or request.method == "HEAD":
            return Response(status_code=found.status, headers=headers)
        body = xml.error(found.code, message, unquote(resource), request_id, **extra)
        return Response(
            body, status_code=found.status, headers=headers, media_type="application/xml"
        )
