"""Header and parameter parsing shared by the S3 handlers."""

from __future__ import annotations

import base64
import email.utils
import functools
from collections.abc import Callable, Mapping

from starlette.responses import Response

from lading import checksums, errors
from lading.http.s3 import xml
from lading.metadata.models import NULL_VERSION, ObjectVersion
from lading.services.objects import (
    BodyChecks,
    DeleteConditions,
    NewObject,
    ReadConditions,
    WriteConditions,
)

XML = "application/xml"
# a GET of an object this small (in one blob file) reads it in one hop and answers a plain Response
SMALL_OBJECT = 256 * 1024
STORED_HEADERS = (
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
    "x-amz-website-redirect-location",
)
RESPONSE_OVERRIDES = {
    "response-content-type": "content-type",
    "response-content-language": "content-language",
    "response-expires": "expires",
    "response-cache-control": "cache-control",
    "response-content-disposition": "content-disposition",
    "response-content-encoding": "content-encoding",
}
STORAGE_CLASSES = {
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
    "OUTPOSTS",
    "SNOW",
    "EXPRESS_ONEZONE",
}


def xml_response(
    body: bytes, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(body, status_code=status, headers=dict(headers or {}), media_type=XML)


def int_param(
    query: Mapping[str, str], name: str, default: int, *, low: int = 0, high: int | None = None
) -> int:
    """An integer query parameter; InvalidArgument when it is not one or out of range."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.InvalidArgument(
            f"Provided {name} not an integer or within integer range"
        ) from None
    if value < low:
        raise errors.InvalidArgument(
            f"Argument {name} must be an integer between {low} and 2147483647"
        )
    return min(value, high) if high is not None else value


def encoding_type(query: Mapping[str, str]) -> str | None:
    value = query.get("encoding-type")
    if value is None:
        return None
    if value.lower() != "url":
        raise errors.InvalidEncodingType()
    return "url"


def new_object(headers: Mapping[str, str]) -> NewObject:
    """Content type, user metadata, stored headers and storage class of a write."""
    metadata = {
        name[len("x-amz-meta-") :]: header_text(value)
        for name, value in headers.items()
        if name.startswith("x-amz-meta-")
    }
    stored = {name: headers[name] for name in STORED_HEADERS if name in headers}
    encoding = stored.get("content-encoding")
    if encoding is not None and "aws-chunked" in encoding.lower():
        # aws-chunked describes the request body only; the rest is kept as sent
        kept = [
            part.strip()
            for part in encoding.split(",")
            if part.strip() and part.strip().lower() != "aws-chunked"
        ]
        if kept:
            stored["content-encoding"] = ", ".join(kept)
        else:
            del stored["content-encoding"]
    storage_class = headers.get("x-amz-storage-class", "STANDARD")
    if storage_class not in STORAGE_CLASSES:
        raise errors.InvalidStorageClass()
    return NewObject(
        content_type=headers.get("content-type") or "binary/octet-stream",
        metadata=metadata,
        headers=stored,
        storage_class=storage_class,
    )


def body_checks(
    headers: Mapping[str, str], trailer: Callable[[str], str | None] | None = None
) -> BodyChecks:
    """What the body must hash to: Content-MD5 and one additional checksum (header or trailer)."""
    checks = BodyChecks(content_md5=headers.get("content-md5"))
    declared = headers.get("x-amz-sdk-checksum-algorithm") or headers.get(
        "x-amz-checksum-algorithm"
    )
    for algorithm in checksums.ALGORITHMS:
        name = f"x-amz-checksum-{algorithm.lower()}"
        if name in headers:
            checks.algorithm, checks.value = algorithm, headers[name]
            checksums.decode_b64_digest(algorithm, checks.value)
            break
    trailer_names = [n.strip().lower() for n in headers.get("x-amz-trailer", "").split(",")]
    for name in trailer_names:
        if name.startswith("x-amz-checksum-") and checks.algorithm is None:
            algorithm = checksums.normalize_algorithm(name[len("x-amz-checksum-") :])
            checks.algorithm = algorithm
            if trailer is not None:
                checks.trailer = functools.partial(trailer, name)
    if checks.algorithm is None and declared:
        checks.algorithm = checksums.normalize_algorithm(declared)
    return checks


def write_conditions(headers: Mapping[str, str]) -> WriteConditions:
    return WriteConditions(headers.get("if-match"), headers.get("if-none-match"))


def delete_conditions(headers: Mapping[str, str]) -> DeleteConditions:
    """If-Match, x-amz-if-match-last-modified-time and x-amz-if-match-size of a DeleteObject."""
    size = headers.get("x-amz-if-match-size")
    if size is not None and not size.strip().isdigit():
        raise errors.InvalidArgument("x-amz-if-match-size must be a non-negative integer")
    return DeleteConditions(
        if_match=headers.get("if-match"),
        last_modified=http_date(headers.get("x-amz-if-match-last-modified-time")),
        size=int(size) if size is not None else None,
    )


def http_date(value: str | None) -> float | None:
    """Epoch seconds of an HTTP date; None for a missing or unparseable one (S3 ignores it)."""
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def read_conditions(headers: Mapping[str, str], prefix: str = "if-") -> ReadConditions:
    return ReadConditions(
        if_match=headers.get(f"{prefix}match"),
        if_none_match=headers.get(f"{prefix}none-match"),
        if_modified_since=http_date(headers.get(f"{prefix}modified-since")),
        if_unmodified_since=http_date(headers.get(f"{prefix}unmodified-since")),
    )


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a single bytes range; None means the whole object.

    Raises InvalidRange when the range cannot be satisfied; a malformed or multiple range is
    ignored, as S3 does.
    """
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if first == "":
            if last == "":
                return None
            suffix = int(last)
            if suffix == 0:
                raise errors.InvalidRange(size)
            return (max(size - suffix, 0), size - 1) if size else _unsatisfiable(size)
        start = int(first)
        end = int(last) if last != "" else size - 1
    except ValueError:
        return None
    if start > end and last != "":
        return None
    if start >= size:
        raise errors.InvalidRange(size)
    return start, min(end, size - 1)


def _unsatisfiable(size: int) -> tuple[int, int]:
    raise errors.InvalidRange(size)


def object_headers(
    obj: ObjectVersion, *, with_checksums: bool, versioned: bool = False
) -> dict[str, str]:
    """The headers GET and HEAD return for an object (before response-* overrides)."""
    headers = {
        "etag": obj.etag,
        "last-modified": xml.http_time(obj.last_modified),
        "content-type": obj.content_type,
        "accept-ranges": "bytes",
    }
    if versioned or obj.version_id != NULL_VERSION:
        headers["x-amz-version-id"] = obj.version_id
    if obj.tags:
        headers["x-amz-tagging-count"] = str(len(obj.tags))
    if obj.lock_mode:
        headers["x-amz-object-lock-mode"] = obj.lock_mode
        headers["x-amz-object-lock-retain-until-date"] = xml.iso_time(obj.lock_until)
    if obj.legal_hold:
        headers["x-amz-object-lock-legal-hold"] = "ON"
    headers.update(obj.headers)
    for name, value in obj.metadata.items():
        headers[f"x-amz-meta-{name}"] = value if value.isascii() else _mail_safe(value)
    if obj.storage_class != "STANDARD":
        headers["x-amz-storage-class"] = obj.storage_class
    if with_checksums and obj.checksums:
        for algorithm, value in obj.checksums.items():
            if algorithm not in ("type", "parts"):
                headers[f"x-amz-checksum-{algorithm.lower()}"] = value
        if obj.checksums.get("type"):
            headers["x-amz-checksum-type"] = obj.checksums["type"]
    return headers


def version_header(obj: ObjectVersion) -> dict[str, str]:
    """x-amz-version-id of a write or an attribute change, sent when the version has an id."""
    return {"x-amz-version-id": obj.version_id} if obj.version_id != NULL_VERSION else {}


def bypass_governance(headers: Mapping[str, str]) -> bool:
    """Whether x-amz-bypass-governance-retention asks to override GOVERNANCE retention."""
    return headers.get("x-amz-bypass-governance-retention", "").lower() == "true"


def header_text(value: str) -> str:
    """A header value as text: its wire bytes (read as Latin-1) decoded as the UTF-8 sent."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _mail_safe(value: str) -> str:
    """A metadata value with non-ASCII characters, RFC 2047-encoded as S3 returns it."""
    return f"=?UTF-8?B?{base64.b64encode(value.encode('utf-8')).decode('ascii')}?="


def checksum_headers(checks: Mapping[str, str]) -> dict[str, str]:
    out = {
        f"x-amz-checksum-{a.lower()}": v for a, v in checks.items() if a not in ("type", "parts")
    }
    if out and checks.get("type"):
        out["x-amz-checksum-type"] = checks["type"]
    return out
