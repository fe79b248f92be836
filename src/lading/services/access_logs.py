"""S3 server access logging: records in AWS's format, delivered as objects in batches.

A bucket with a logging configuration (`bucket_configs` kind "logging": target bucket and
prefix) has a line formatted for each request that names it, kept in memory. A source
bucket's batch is delivered once it is `access_log_seconds` old (by a background check, or by
the first request on the bucket after that time, whose own record starts the next batch), and
at shutdown, as one new object
`<TargetPrefix>YYYY-MM-DD-HH-MM-SS-<UNIQUE>` of the target bucket owned by that bucket's
owner, as AWS names them. Like AWS's, delivery is best effort: lines of a process that
crashes before delivering them are lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from lading import errors
from lading.iam.policy import bucket_policy
from lading.iam.policy_language import SERVICE_PREFIX, Decision, RequestContext
from lading.metadata.models import Bucket
from lading.services.audit import RequestRecord
from lading.services.buckets import BucketService
from lading.services.objects import BodyChecks, NewObject, ObjectService
from lading.settings import CredentialSettings

log = logging.getLogger(__name__)
CONFIG = "logging"  # the bucket_configs kind
LOGGING_SERVICE = "logging.s3.amazonaws.com"
MAX_PENDING_LINES = 100_000

# S3 operation -> the OPERATION field of AWS's access log (REST.<METHOD>.<RESOURCE>)
_OPERATIONS = {
    "ListBuckets": "REST.GET.SERVICE",
    "ListObjects": "REST.GET.BUCKET",
    "ListObjectsV2": "REST.GET.BUCKET",
    "ListObjectVersions": "REST.GET.BUCKETVERSIONS",
    "ListMultipartUploads": "REST.GET.UPLOADS",
    "CreateBucket": "REST.PUT.BUCKET",
    "DeleteBucket": "REST.DELETE.BUCKET",
    "HeadBucket": "REST.HEAD.BUCKET",
    "GetBucketLocation": "REST.GET.LOCATION",
    "GetObject": "REST.GET.OBJECT",
    "HeadObject": "REST.HEAD.OBJECT",
    "PutObject": "REST.PUT.OBJECT",
    "PostObject": "REST.POST.OBJECT",
    "CopyObject": "REST.COPY.OBJECT",
    "CopyObject:GET": "REST.COPY.OBJECT_GET",  # the source's side of a copy
    "DeleteObject": "REST.DELETE.OBJECT",
    "DeleteObjects": "REST.POST.MULTI_OBJECT_DELETE",
    "CreateMultipartUpload": "REST.POST.UPLOADS",
    "UploadPart": "REST.PUT.PART",
    "UploadPartCopy": "REST.COPY.PART",
    "UploadPartCopy:GET": "REST.COPY.PART_GET",
    "CompleteMultipartUpload": "REST.POST.UPLOAD",
    "AbortMultipartUpload": "REST.DELETE.UPLOAD",
    "ListParts": "REST.GET.UPLOAD",
    "GetBucketLogging": "REST.GET.LOGGING_STATUS",
    "PutBucketLogging": "REST.PUT.LOGGING_STATUS",
    "GetBucketPolicy": "REST.GET.BUCKETPOLICY",
    "PutBucketPolicy": "REST.PUT.BUCKETPOLICY",
    "DeleteBucketPolicy": "REST.DELETE.BUCKETPOLICY",
    "GetObjectTagging": "REST.GET.OBJECT_TAGGING",
    "GetObjectLegalHold": "REST.GET.LEGAL_HOLD",
    "PutObjectLegalHold": "REST.PUT.LEGAL_HOLD",
    "PutObjectTagging": "REST.PUT.OBJECT_TAGGING",
    "DeleteObjectTagging": "REST.DELETE.OBJECT_TAGGING",
}


def operation_field(operation: str, method: str) -> str:
    """AWS's name of an operation in the access log."""
    found = _OPERATIONS.get(operation)
    if found:
        return found
    if "." in operation:  # already in the log's terms (BATCH.DELETE.OBJECT)
        return operation
    resource = operation
    for verb in ("Get", "Put", "Delete", "Post", "Head"):
        resource = resource.removeprefix(verb)
    resource = resource.removeprefix("Bucket").removeprefix("Object") or "OBJECT"
    return f"REST.{method}.{resource.upper()}"


def _quoted(text: str) -> str:
    return '"' + (text.replace('"', "%22") or "-") + '"'


def log_line(record: RequestRecord, bucket: str, owner: str) -> str:
    """One record of AWS's server access log format (fields separated by spaces)."""

    def dash(value: object) -> str:
        return "-" if value is None or value == "" else str(value)

    moment = record.at.strftime("[%d/%b/%Y:%H:%M:%S +0000]")
    key = quote(record.key, safe="/") if record.key else "-"
    fields = [
        owner,
        bucket,
        moment,
        dash(record.client),
        dash(record.user),
        record.request_id,
        operation_field(record.operation, record.method),
        key,
        _quoted(record.request_uri),
        str(record.status),
        dash(record.code),
        dash(record.bytes_sent),
        dash(record.object_size),
        str(record.total_ms),
        "-",
        _quoted(record.referer),
        _quoted(record.user_agent),
        dash(record.version_id),
        record.request_id,
        dash(record.signature),
        "-",
        dash(record.auth_type),
        dash(record.host),
        "TLSv1.3" if record.tls else "-",
        "-",
        "Yes" if record.acl_required else "-",
    ]
    return " ".join(fields)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a source bucket's logs go; `partitioned` keys them by account/region/bucket/day."""

    bucket: str
    prefix: str
    partitioned: bool = False
    account: str = ""
    region: str = ""

    def key(self, source: str, now: datetime, unique: str) -> str:
        """AWS's object key: SimplePrefix or PartitionedPrefix (TargetObjectKeyFormat)."""
        name = f"{now:%Y-%m-%d-%H-%M-%S}-{unique}"
        if self.partitioned:
            return f"{self.prefix}{self.account}/{self.region}/{source}/{now:%Y/%m/%d}/{name}"
        return f"{self.prefix}{name}"


def target_of(bucket: Bucket) -> Target | None:
    raw = bucket.configs.get(CONFIG)
    if raw is None:
        return None
    tree = json.loads(raw)
    key_format = tree.get("TargetObjectKeyFormat") or {}
    return Target(
        str(tree["TargetBucket"]),
        str(tree.get("TargetPrefix", "")),
        "PartitionedPrefix" in key_format,
        bucket.owner.name,
        bucket.region,
    )


def delivery_allowed(source: Bucket, target: Bucket, prefix: str) -> bool:
    """Whether the target's policy lets the logging service put the source's logs (as AWS)."""
    text = target.configs.get("policy")
    if text is None:
        return False
    context = RequestContext(
        SERVICE_PREFIX + LOGGING_SERVICE,
        "s3:PutObject",
        f"arn:aws:s3:::{target.name}/{prefix}",
        {
            "aws:SourceArn": f"arn:aws:s3:::{source.name}",
            "aws:SourceAccount": source.owner.name,
        },
    )
    return bucket_policy(text, target.name).evaluate(context) is Decision.ALLOW


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


class AccessLogService:
    """Collects access-log lines per source bucket and delivers them as objects."""

    def __init__(
        self,
        buckets: BucketService,
        objects: ObjectService,
        settings: CredentialSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self.buckets = buckets
        self.objects = objects
        self.settings = settings
        self.clock = clock
        self._pending: dict[tuple[str, Target], list[str]] = {}
        self._started: dict[str, float] = {}  # source bucket -> when its batch began
        self._count = 0
        self._delivering: set[str] = set()  # source buckets whose batch is being written
        self._lock = asyncio.Lock()

    def capture(self, bucket: Bucket, record: RequestRecord) -> None:
        """Keep a line for a request on a logged bucket (no I/O: called on the hot path)."""
        target = target_of(bucket)
        if target is None or self._count >= MAX_PENDING_LINES:
            return
        line = log_line(record, bucket.name, bucket.owner.name)
        self._pending.setdefault((bucket.name, target), []).append(line)
        self._started.setdefault(bucket.name, time.monotonic())
        self._count += 1

    def due(self, source: str) -> bool:
        """Whether the batch of a source bucket is old enough to be delivered, or is being
        delivered (a request then waits for it: its log object is in place once it is
        answered)."""
        if source in self._delivering:
            return True
        started = self._started.get(source)
        return (
            started is not None and time.monotonic() - started >= self.settings.access_log_seconds
        )

    async def deliver(self, *, due_only: bool = False) -> int:
        """Write one object per source bucket with pending lines; returns how many."""
        async with self._lock:
            return await self._deliver(due_only)

    async def _deliver(self, due_only: bool) -> int:
        if due_only:
            sources = {source for source in self._started if self.due(source)}
        else:
            sources = set(self._started)
        pending = {k: v for k, v in self._pending.items() if k[0] in sources}
        for key, lines in pending.items():
            del self._pending[key]
            self._count -= len(lines)
        for source in sources:
            del self._started[source]
        self._delivering = {source for source, _ in pending}
        written = 0
        try:
            for (source, target), lines in pending.items():
                try:
                    await self._write(source, target, lines)
                    written += 1
                except errors.LadingError as exc:
                    log.warning(
                        "access log of bucket %s not delivered to %s: %s",
                        source,
                        target.bucket,
                        exc.message,
                    )
        finally:
            self._delivering = set()
        return written

    async def _write(self, source: str, target: Target, lines: list[str]) -> None:
        """Put one log object, if the target's owner and policy still admit it, as AWS checks
        them at each delivery (a policy changed since PutBucketLogging stops the logs)."""
        bucket = await self.buckets.get_bucket(target.bucket)
        origin = await self.buckets.get_bucket(source)
        if origin.owner.id != bucket.owner.id or not delivery_allowed(
            origin, bucket, target.prefix
        ):
            raise errors.AccessDenied(
                f"The policy of bucket {bucket.name} no longer lets {LOGGING_SERVICE} put the "
                f"logs of {source}."
            )
        key = target.key(source, self.clock(), secrets.token_hex(8).upper())
        body = ("\n".join(lines) + "\n").encode()
        await self.objects.put_object(
            bucket,
            key,
            _once(body),
            owner_id=bucket.owner.id,
            new=NewObject(content_type="text/plain"),
            checks=BodyChecks(),
            declared_size=len(body),
        )

    async def run(self) -> None:
        """Deliver the batches that are due, checking a few times per access_log_seconds."""
        while True:
            await asyncio.sleep(min(1.0, self.settings.access_log_seconds / 4))
            try:
                await self.deliver(due_only=True)
            except Exception:  # the next pass tries again
                log.exception("delivering access logs failed")
