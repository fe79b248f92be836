"""The one S3 entry point: authenticate, route, resolve the bucket, authorize once, handle.

Handlers receive a ReqCtx and never re-check authorization; every error, from any layer,
becomes an S3 XML error document through the table in lading.http.s3.errors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import Response

from lading import cors, errors
from lading.http.s3 import auth, xml
from lading.http.s3 import errors as s3errors
from lading.http.s3.recording import Seen, record_request
from lading.http.s3.router import (
    SNS_OPERATION,
    S3Op,
    route,
    split_target,
    unsupported_feature,
)
from lading.iam.policy import (
    ANONYMOUS_OWNER,
    Access,
    Action,
    Verdict,
    authorize,
    bucket_owns,
    judge,
    may_list,
    object_allows,
)
from lading.iam.principals import ANONYMOUS, Principal
from lading.iam.shares import needs_groups
from lading.metadata.hooks import Origin
from lading.metadata.models import Bucket, ObjectVersion
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
    access: Access | None = None
    verdict: Verdict = Verdict.ALLOW  # anything else waits for the object (its owner, its ACL)
    source_access: Access | None = None
    source_verdict: Verdict = Verdict.ALLOW
    received: bytes | None = None  # the body, when it was read whole before the handler
    seen: Seen = field(default_factory=lambda: Seen(0.0))  # what the access log will say

    @property
    def origin(self) -> Origin:
        """This request, as the event records of the changes it makes report it."""
        client = self.request.client
        return Origin(client.host if client is not None else "", self.request_id)

    @property
    def object_acl_pending(self) -> bool:
        """Whether authorization waits for the object."""
        return self.verdict is not Verdict.ALLOW

    async def check_object(self, obj: ObjectVersion, *, source: bool = False) -> None:
        """Finish an authorization that waits for the object; AccessDenied if it fails."""
        verdict = self.source_verdict if source else self.verdict
        access = self.source_access if source else self.access
        if verdict is Verdict.ALLOW or access is None:
            return
        if verdict is Verdict.BUCKET_OWNED and bucket_owns(access, obj):
            return
        owner: str | None
        try:
            owner = (await self.services.identity.user_by_id(obj.owner_id)).name
        except errors.NoSuchUser:
            owner = None
        if not object_allows(access, obj, owner, verdict):
            raise errors.AccessDenied()
        user = access.principal.user
        if user is None or user.id != obj.owner_id:
            self.seen.acl_required = True  # the object's ACL admitted a non-owner

    def hide_missing(self, exc: errors.NotFound) -> errors.LadingError:
        """What a missing object is to a caller authorized only by object ACLs: S3 answers
        AccessDenied unless the caller may list the bucket."""
        only_acl = self.verdict is Verdict.OBJECT_ACL
        if only_acl and self.access is not None and not may_list(self.access):
            return errors.AccessDenied()
        return exc

    def authorize_key(
        self, key: str, operation: str, version_id: str | None = None, etag: str | None = None
    ) -> None:
        """Authorize one more key of a multi-object request (DeleteObjects); `etag`, the key's
        own condition, is what a policy sees as s3:if-match."""
        if self.access is None:
            return
        conditions = self.access.conditions
        if etag is not None:
            request_conditions = conditions

            def conditions() -> dict[str, str | list[str]]:
                return {**request_conditions(), "s3:if-match": etag}

        access = Access(
            self.principal,
            operation,
            self.access.action,
            self.bucket,
            key,
            version_id,
            conditions,
            self.access.now_us,
        )
        authorize(access)

    @property
    def user_id(self) -> int:
        user = self.principal.user
        return user.id if user is not None else ANONYMOUS_OWNER

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
        return self.decoder.stream(_Received(self.request, self.received))

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


class _Received:
    """The raw body, chunk by chunk, straight from the ASGI receive channel; a client that
    hangs up mid-body is an IncompleteBody, not a crash. A class, not an async generator
    over Request.stream(): the event loop hooks every async generator, which cost a small
    PUT more than receiving its body."""

    def __init__(self, request: Request, received: bytes | None = None) -> None:
        self.receive = request.receive
        self.received = received  # read already (a signed form): given again, not received
        self.ended = False

    def __aiter__(self) -> _Received:
        return self

    async def __anext__(self) -> bytes:
        if self.ended:
            raise StopAsyncIteration
        if self.received is not None:
            self.ended = True
            return self.received
        message = await self.receive()
        if message["type"] == "http.disconnect":
            self.ended = True
            raise errors.IncompleteBody("The client closed the connection before the whole body.")
        self.ended = not message.get("more_body", False)
        body: bytes = message.get("body", b"")
        return body


MAX_SNS_FORM = 256 * 1024


def _service(query_api: bool, parsed: auth.ParsedAuth) -> str:
    """The service a request must be signed for: S3, or one of the query APIs on "/"."""
    if not query_api:
        return auth.SERVICE
    return parsed.scope_service if parsed.scope_service in auth.QUERY_SERVICES else auth.SNS_SERVICE


def _query_operation(service: str, form: bytes) -> str | None:
    """A query API request's action as policies name it ("sns:ListTopics", "iam:CreateUser")."""
    try:
        action = dict(parse_qsl(form.decode("utf-8"))).get("Action", "")
    except UnicodeDecodeError:
        return None
    return f"{service}:{action}" if action.isalnum() else None


async def _small_body(request: Request) -> bytes:
    """A whole form body, read before its signature is checked (Starlette keeps it)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_SNS_FORM:
        raise errors.InvalidTopicParameter("The request body is larger than allowed.")
    body = await request.body()
    if len(body) > MAX_SNS_FORM:
        raise errors.InvalidTopicParameter("The request body is larger than allowed.")
    return body


def request_headers(request: Request) -> dict[str, str]:
    """Lower-cased header names; repeated headers joined with ','."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in request.scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


def query_parameters(raw_query: str) -> dict[str, str]:
    """dict(parse_qsl(raw_query, keep_blank_values=True)), without its per-call overhead."""
    params: dict[str, str] = {}
    if not raw_query:
        return params
    for item in raw_query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        if "+" in item:
            name, value = name.replace("+", " "), value.replace("+", " ")
        params[unquote(name)] = unquote(value)
    return params


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


_CONDITION_HEADERS = (
    "x-amz-acl",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-copy-source",
    "x-amz-metadata-directive",
    "x-amz-storage-class",
    "x-amz-grant-read",
    "x-amz-grant-write",
    "x-amz-grant-read-acp",
    "x-amz-grant-write-acp",
    "x-amz-grant-full-control",
    "x-amz-object-lock-mode",
    "x-amz-object-lock-legal-hold",
    "if-match",  # s3:if-match and s3:if-none-match: policies that require conditional writes
    "if-none-match",
)


def request_conditions(
    request: Request,
    headers: dict[str, str],
    query: dict[str, str],
    now: dt.datetime,
    existing_tags: dict[str, str] | None = None,
) -> dict[str, str | list[str]]:
    """The condition keys a bucket policy may test for this request (`existing_tags`: the
    tags of the object it acts on, looked up only when the policy tests them)."""
    client = request.client
    found: dict[str, str | list[str]] = {
        "aws:SecureTransport": "true" if request.url.scheme == "https" else "false",
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
    }
    if client is not None:
        found["aws:SourceIp"] = client.host
    for name in ("prefix", "delimiter", "max-keys"):
        if name in query:
            found[f"s3:{name}"] = query[name]
    if "versionId" in query:
        found["s3:VersionId"] = query["versionId"]
    for name in _CONDITION_HEADERS:
        if name in headers:
            found[f"s3:{name}"] = headers[name]
    for name, key in (("referer", "aws:Referer"), ("user-agent", "aws:UserAgent")):
        if name in headers:
            found[key] = headers[name]
    if "x-amz-tagging" in headers:
        tags = parse_qsl(headers["x-amz-tagging"], keep_blank_values=True)
        for tag, value in tags:
            found[f"s3:RequestObjectTag/{tag}"] = value
        found["s3:RequestObjectTagKeys"] = [tag for tag, _ in tags]
    for tag, value in (existing_tags or {}).items():
        found[f"s3:ExistingObjectTag/{tag}"] = value
    return found


def expect_owner(headers: dict[str, str], name: str, bucket: Bucket | None) -> None:
    """AccessDenied when the request names an expected bucket owner that is not the bucket's
    (the owner's canonical id, which is the user name Lading shows as Owner/ID)."""
    expected = headers.get(name)
    if expected is not None and bucket is not None and expected.strip() != bucket.owner.name:
        raise errors.AccessDenied()


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
        bucket_holder: list[Bucket] = []
        seen = Seen(time.monotonic())
        try:
            if request.method == "OPTIONS":
                response = await self._preflight(request, headers, raw_path)
            else:
                response = await self._handle(
                    request, headers, raw_path, raw_query, request_id, bucket_holder, seen
                )
        except errors.LadingError as exc:
            if self._is_sns(request, headers, raw_path):
                iam = "/iam/aws4_request" in headers.get("authorization", "")
                response = self.sns_error_response(exc, request_id, iam=iam)
            else:
                response = self.error_response(exc, request, raw_path, request_id)
            seen.error_code = s3errors.lookup(exc).code
            if _unread_body(request, headers):
                # the client may still send the body it held back for 100-continue: the
                # connection cannot carry another request after it
                response.headers["connection"] = "close"
        response.headers["x-amz-request-id"] = request_id
        response.headers["x-amz-id-2"] = request_id
        origin = headers.get("origin")
        if origin and bucket_holder and "cors" in bucket_holder[0].configs:
            config = cors.load(bucket_holder[0].configs["cors"])
            found = cors.answer(config, origin, request.method)
            if found is not None:
                response.headers.update(found.headers)
        if bucket_holder and self.services.access_logs.due(bucket_holder[0].name):
            # the batch that is due goes out before this request's record, which starts the
            # next one: a log object holds the requests of its own time window
            await self.services.access_logs.deliver(due_only=True)
        record_request(
            self.services,
            request,
            headers,
            raw_path,
            raw_query,
            request_id,
            seen,
            bucket_holder[0] if bucket_holder else None,
            response,
            self.clock(),
        )
        return response

    def _is_sns(self, request: Request, headers: dict[str, str], raw_path: str) -> bool:
        """Whether a request is for the SNS-compatible topic API (a POST to the service)."""
        if request.method != "POST":
            return False
        host = headers.get("host", "")
        return split_target(raw_path, host, self.settings.s3.base_domain)[0] is None

    async def _preflight(
        self, request: Request, headers: dict[str, str], raw_path: str
    ) -> Response:
        """A browser's CORS preflight, answered from the bucket's CORS rules (no signature)."""
        bucket_name, _ = split_target(
            raw_path, headers.get("host", ""), self.settings.s3.base_domain
        )
        origin = headers.get("origin")
        method = headers.get("access-control-request-method")
        if bucket_name is None:
            raise errors.MethodNotAllowed()
        if not origin or not method:
            raise errors.InvalidRequest(
                "Insufficient information. Origin request header needed."
                if not origin
                else "Invalid Access-Control-Request-Method"
            )
        bucket = await self.services.buckets.get_bucket(bucket_name)
        if "cors" not in bucket.configs:
            raise errors.CORSForbidden("CORSResponse: CORS is not enabled for this bucket.")
        wanted = [
            h.strip().lower()
            for h in headers.get("access-control-request-headers", "").split(",")
            if h.strip()
        ]
        found = cors.answer(
            cors.load(bucket.configs["cors"]), origin, method, wanted, preflight=True
        )
        if found is None:
            raise errors.CORSForbidden(
                "CORSResponse: This CORS request is not allowed. This is usually because the "
                "evalution of Origin, request method / Access-Control-Request-Method or "
                "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
            )
        return Response(status_code=200, headers=found.headers)

    async def _handle(
        self,
        request: Request,
        headers: dict[str, str],
        raw_path: str,
        raw_query: str,
        request_id: str,
        bucket_holder: list[Bucket],
        seen: Seen,
    ) -> Response:
        query = query_parameters(raw_query)
        view = auth.RequestView(request.method, raw_path, raw_query, headers)
        parsed = auth.parse_auth(view)
        op = route(
            request.method, raw_path, query, headers, base_domain=self.settings.s3.base_domain
        )
        seen.op = op
        sns = op.name == SNS_OPERATION
        body_sha256 = None
        form: bytes | None = None
        operation = op.name
        if sns and parsed is not None:  # SNS clients sign the body's hash without sending it
            form = await _small_body(request)
            body_sha256 = hashlib.sha256(form).hexdigest()
            operation = _query_operation(_service(sns, parsed), form) or operation
        if parsed is None:
            principal = ANONYMOUS
            spec = auth.payload_spec_for(view)
        else:
            seen.access_key = parsed.access_key  # audited even when the key is refused
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
                service=_service(sns, parsed),
                body_sha256=body_sha256,
            )
            principal = Principal(key.user, key.access_key, policies=key.policies)
        seen.principal = principal
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
            received=form,
            seen=seen,
        )
        if op.bucket is not None and op.name != "CreateBucket":
            ctx.bucket = await self.services.buckets.get_bucket(op.bucket)
            bucket_holder.append(ctx.bucket)
            principal = ctx.principal = await self._with_groups(principal, ctx.bucket)
        now = self.clock()
        policy = ctx.bucket.configs.get("policy") if ctx.bucket is not None else None
        existing_tags = (
            await self._existing_tags(ctx)
            if policy is not None and op.key is not None and "ExistingObjectTag" in policy
            else None
        )
        found: list[dict[str, str | list[str]]] = []

        def conditions() -> dict[str, str | list[str]]:
            """Built on first use: most requests meet no policy that tests a condition."""
            if not found:
                found.append(request_conditions(request, headers, query, now, existing_tags))
            return found[0]

        now_us = int(now.timestamp() * 1_000_000)
        ctx.access = Access(
            principal,
            operation,
            op.action,
            ctx.bucket,
            op.key,
            query.get("versionId"),
            conditions,
            now_us,
            prefix=query.get("prefix"),
        )
        if op.name != "PostObject":
            ctx.verdict, seen.acl_required = judge(ctx.access)
        # else the form carries the signature and names the key: the PostObject handler
        # verifies it and authorizes with the form's principal
        expect_owner(headers, "x-amz-expected-bucket-owner", ctx.bucket)
        if not op.implemented:
            raise errors.NotImplementedOperation(op.name)
        feature = unsupported_feature(op, headers)
        if feature is not None:
            raise errors.NotImplementedOperation(f"{op.name} with {feature}")
        if op.name in ("CopyObject", "UploadPartCopy"):
            source_bucket, source_key, version = copy_source(headers)
            ctx.source_bucket = await self.services.buckets.get_bucket(source_bucket)
            principal = await self._with_groups(principal, ctx.source_bucket)
            ctx.source_access = Access(
                principal,
                "GetObject",
                Action.READ_OBJECT,
                ctx.source_bucket,
                source_key,
                version,
                conditions,
                now_us,
            )
            ctx.source_verdict = authorize(ctx.source_access)
            expect_owner(headers, "x-amz-source-expected-bucket-owner", ctx.source_bucket)
        response = await self.handlers[op.name](ctx)
        if ctx.bucket is not None and ctx.bucket.project_id is not None:
            sent = response.headers.get("content-length", "0") if op.name == "GetObject" else "0"
            self.services.usage.meter.count(ctx.bucket.project_id, int(sent))
        return response

    def sns_error_response(
        self, exc: errors.LadingError, request_id: str, *, iam: bool = False
    ) -> Response:
        """An error of the topic (or IAM) API, in SNS's shape (the S3 table, their names)."""
        found = s3errors.iam_lookup(exc) if iam else s3errors.sns_lookup(exc)
        if found.status >= 500:
            log.error("request %s failed", request_id, exc_info=exc)
        message = (
            exc.message
            if found is not s3errors.INTERNAL
            else "We encountered an internal error. Please try again."
        )
        body = xml.sns_error(found.code, message, request_id, sender=found.status < 500)
        return Response(body, status_code=found.status, media_type="application/xml")

    async def _with_groups(self, principal: Principal, bucket: Bucket) -> Principal:
        """The principal with its groups, when the bucket shares something with a group."""
        user = principal.user
        if user is None or principal.groups or not needs_groups(bucket.shares):
            return principal
        groups = await self.services.shares.groups_of(user.id)
        return dataclasses.replace(principal, groups=groups) if groups else principal

    async def _existing_tags(self, ctx: ReqCtx) -> dict[str, str] | None:
        """The tags of the object a request acts on, when the bucket policy tests them."""
        bucket, key = ctx.bucket, ctx.op.key
        assert bucket is not None and key is not None
        try:
            obj = await self.services.objects.head_object(bucket, key, ctx.query.get("versionId"))
        except errors.NotFound:
            return None
        return obj.tags

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
        marker = getattr(exc, "delete_marker", None)
        if marker is not None:
            headers["x-amz-delete-marker"] = "true"
            headers["x-amz-version-id"] = marker
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
