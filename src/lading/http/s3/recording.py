"""The S3 capture point of the audit log and the server access logs (one per request)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field, replace

from starlette.requests import Request
from starlette.responses import Response

from lading.http.s3.router import S3Op
from lading.iam.principals import ANONYMOUS, Principal
from lading.metadata.models import Bucket
from lading.services.access_logs import CONFIG as ACCESS_LOG
from lading.services.audit import DENIED, READS, RequestRecord
from lading.services.container import Services


@dataclass(slots=True)
class Seen:
    """What dispatch learnt about a request before it finished (or failed)."""

    started: float
    op: S3Op | None = None
    principal: Principal = ANONYMOUS
    access_key: str = ""  # the key a request claims, known before it is accepted
    error_code: str = ""
    acl_required: bool = False  # an ACL grant admitted the request
    # a copy's source: its bucket, key, version id and size (its bucket's log gets a record)
    copied_from: tuple[Bucket, str, str, int] | None = None
    # the (key, version id) each DeleteObjects request deleted, one log record each
    batch_deleted: list[tuple[str, str]] = field(default_factory=list)


def record_request(
    services: Services,
    request: Request,
    headers: dict[str, str],
    raw_path: str,
    raw_query: str,
    request_id: str,
    seen: Seen,
    bucket: Bucket | None,
    response: Response,
    now: dt.datetime,
) -> None:
    """Hand the finished request to the audit log and, for a logged bucket, its access log."""
    logged = bucket is not None and ACCESS_LOG in bucket.configs
    if not logged and request.method in READS and response.status_code not in DENIED:
        return  # the common case, a read nobody records, costs nothing more
    op = seen.op
    principal = seen.principal
    user = principal.user.name if principal.user is not None else ""
    length = response.headers.get("content-length")
    client = request.client
    auth_type = signature = ""
    if "authorization" in headers:
        auth_type = "AuthHeader"
        signature = "SigV2" if headers["authorization"].startswith("AWS ") else "SigV4"
    elif "X-Amz-Signature=" in raw_query:
        auth_type, signature = "QueryString", "SigV4"
    elif "Signature=" in raw_query:
        auth_type, signature = "QueryString", "SigV2"
    record = RequestRecord(
        at=now,
        api="s3",
        request_id=request_id,
        method=request.method,
        operation=op.name if op is not None else request.method,
        user=user,
        access_key=principal.access_key or seen.access_key,
        client=client.host if client is not None else "",
        status=response.status_code,
        code=seen.error_code,
        bucket=(op.bucket or "") if op is not None else "",
        key=(op.key or "") if op is not None else "",
        request_uri=f"{request.method} {raw_path}{'?' + raw_query if raw_query else ''} "
        f"HTTP/{request.scope.get('http_version', '1.1')}",
        http_version=str(request.scope.get("http_version", "1.1")),
        bytes_sent=int(length) if length and length.isdigit() and length != "0" else None,
        total_ms=int((time.monotonic() - seen.started) * 1000),
        referer=headers.get("referer", ""),
        user_agent=headers.get("user-agent", ""),
        version_id=response.headers.get("x-amz-version-id", ""),
        host=headers.get("host", ""),
        auth_type=auth_type,
        signature=signature,
        tls=request.scope.get("scheme", "http") == "https",  # what request.url would say
        acl_required=seen.acl_required,
    )
    if record.method == "PUT" and op is not None and op.key:
        declared = headers.get("x-amz-decoded-content-length") or headers.get("content-length")
        if declared and declared.isdigit():
            record.object_size = int(declared)
    elif record.bytes_sent is not None and op is not None and op.key:
        record.object_size = record.bytes_sent
    services.audit.capture(record)
    if logged and bucket is not None:
        services.access_logs.capture(bucket, record)
        for key, version_id in seen.batch_deleted:  # AWS adds one record per deleted key
            services.access_logs.capture(
                bucket,
                replace(
                    record,
                    operation="BATCH.DELETE.OBJECT",
                    key=key,
                    version_id=version_id,
                    status=204,
                    bytes_sent=None,
                    object_size=None,
                ),
            )
    copied = seen.copied_from
    if copied is not None and response.status_code < 300 and ACCESS_LOG in copied[0].configs:
        # AWS logs a copy twice: the PUT part in the destination's log (above), the GET part
        # in the source's
        source, key, version_id, size = copied
        services.access_logs.capture(
            source,
            replace(
                record,
                operation=f"{record.operation}:GET",
                key=key,
                version_id="" if version_id == "null" else version_id,
                bytes_sent=None,
                object_size=size,
            ),
        )
