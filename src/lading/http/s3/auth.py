"""S3 request authentication: SigV4 and SigV2, header and presigned, and aws-chunked bodies.

Pure functions over a `RequestView`; nothing here reads sockets or knows Starlette. The flow is
`parse_auth` (None for anonymous requests), then `verify` with the user's secret, which returns
the `PayloadSpec` that a `BodyDecoder` needs to decode and check the request body.
"""

from __future__ import annotations

import base64
import collections
import functools
import hashlib
import hmac
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import quote, unquote, unquote_to_bytes

from lading.errors import (
    AccessDenied,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    ContentSHA256Mismatch,
    IncompleteBody,
    InvalidArgument,
    InvalidRequest,
    RequestExpired,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
)

AuthScheme = Literal["v4-header", "v4-query", "v2-header", "v2-query"]
PayloadMode = Literal[
    "plain",
    "unsigned",
    "streaming-signed",
    "streaming-signed-trailer",
    "streaming-unsigned-trailer",
]

V4_ALGORITHM = "AWS4-HMAC-SHA256"
V4_TERMINAL = "aws4_request"
SERVICE = "s3"
SNS_SERVICE = "sns"  # the SNS-compatible topic API (bucket notifications) shares the endpoint
IAM_SERVICE = "iam"  # and so does the caller's own identity (iam:GetUser)
QUERY_SERVICES = (SNS_SERVICE, IAM_SERVICE)  # form-encoded POST / with Action=...
SERVICES = (SERVICE, *QUERY_SERVICES)
MAX_PRESIGN_EXPIRES = 604800
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

_STREAMING_MODES: dict[str, PayloadMode] = {
    STREAMING_SIGNED: "streaming-signed",
    STREAMING_SIGNED_TRAILER: "streaming-signed-trailer",
    STREAMING_UNSIGNED_TRAILER: "streaming-unsigned-trailer",
}

# Sub-resources that SigV2 signs, as botocore's HmacV1Auth.QSAOfInterest lists them.
V2_SUBRESOURCES = frozenset(
    {
        "accelerate",
        "acl",
        "cors",
        "defaultObjectAcl",
        "location",
        "logging",
        "partNumber",
        "policy",
        "requestPayment",
        "torrent",
        "versioning",
        "versionId",
        "versions",
        "website",
        "uploads",
        "uploadId",
        "response-content-type",
        "response-content-language",
        "response-expires",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "delete",
        "lifecycle",
        "tagging",
        "restore",
        "storageClass",
        "notification",
        "replication",
        "analytics",
        "metrics",
        "inventory",
        "select",
        "select-type",
        "object-lock",
    }
)

V4_QUERY_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
V2_QUERY_PARAMS = ("AWSAccessKeyId", "Signature", "Expires")

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")
_SCOPE_DATE = re.compile(r"\d{8}")
_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")
_MAX_CHUNK_LINE = 4096

_MSG_ONE_MECHANISM = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature "
    "query string parameter or the Authorization header should be specified"
)
_MSG_NO_DATE = "AWS authentication requires a valid Date or x-amz-date header"
_MSG_HEADER_MALFORMED = "The authorization header is malformed; "
_MSG_CREDENTIAL_SHAPE = (
    'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
)
_MSG_CREDENTIAL_PARAM = "Error parsing the X-Amz-Credential parameter; "
_MSG_V4_QUERY_MISSING = (
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
    "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
)
_MSG_V2_QUERY_MISSING = (
    "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"
)
_MSG_BAD_CONTENT_SHA256 = (
    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
    "or a valid sha256 value."
)


@dataclass(frozen=True, slots=True)
class RequestView:
    """What authentication needs to know about a request, exactly as it came on the wire."""

    method: str
    raw_path: str
    raw_query: str
    headers: Mapping[str, str]
    # the decoded query parameters (first occurrence wins), parsed once per request
    params: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        params = _query_params(self.raw_query) if self.raw_query else {}
        object.__setattr__(self, "params", params)


@dataclass(frozen=True, slots=True)
class ParsedAuth:
    """The credentials a request carries, parsed but not yet verified."""

    scheme: AuthScheme
    access_key: str
    signature: str
    signed_headers: tuple[str, ...] = ()
    amz_date: str = ""
    scope_date: str = ""
    scope_region: str = ""
    scope_service: str = SERVICE
    expires: int | None = None

    @property
    def scope(self) -> str:
        """The SigV4 credential scope, "date/region/service/aws4_request"."""
        return f"{self.scope_date}/{self.scope_region}/{self.scope_service}/{V4_TERMINAL}"


@dataclass(frozen=True, slots=True)
class PayloadSpec:
    """How a request body must be decoded and checked."""

    mode: PayloadMode
    expected_sha256: str | None = None
    signing_key: bytes | None = None
    seed_signature: str | None = None
    amz_date: str | None = None
    scope: str | None = None
    decoded_length: int | None = None
    trailer_names: tuple[str, ...] = ()

    @property
    def chunked(self) -> bool:
        """Whether the body is aws-chunked."""
        return self.mode.startswith("streaming-")


# --- parsing ---------------------------------------------------------------------------------


def _query_pairs(raw_query: str) -> list[tuple[str, str, bool]]:
    """Split a raw query into (raw name, raw value, had "=") triples, in order."""
    pairs = []
    for item in raw_query.split("&"):
        if not item:
            continue
        name, sep, value = item.partition("=")
        pairs.append((name, value, bool(sep)))
    return pairs


def _query_params(raw_query: str) -> dict[str, str]:
    """Decoded query parameters; the first occurrence of a name wins."""
    params: dict[str, str] = {}
    for name, value, _ in _query_pairs(raw_query):
        params.setdefault(unquote(name), unquote(value))
    return params


def _parse_amz_date(value: str) -> datetime | None:
    """Parse an ISO 8601 basic timestamp (20130524T000000Z)."""
    if not _AMZ_DATE.fullmatch(value):
        return None
    try:  # the pattern fixed the shape; strptime would cost ten times as much
        return datetime(
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[9:11]),
            int(value[11:13]),
            int(value[13:15]),
            tzinfo=UTC,
        )
    except ValueError:
        return None


def _parse_http_date(value: str) -> datetime | None:
    """Parse an RFC 1123 date, or an ISO 8601 basic one."""
    value = value.strip()
    parsed = _parse_amz_date(value)
    if parsed is not None:
        return parsed
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _v4_request_date(headers: Mapping[str, str]) -> str:
    """The SigV4 request timestamp from x-amz-date or Date, in ISO 8601 basic form."""
    amz = headers.get("x-amz-date")
    if amz is not None:
        if _parse_amz_date(amz.strip()) is None:
            raise AccessDenied(_MSG_NO_DATE)
        return amz.strip()
    date = headers.get("date")
    parsed = _parse_http_date(date) if date is not None else None
    if parsed is None:
        raise AccessDenied(_MSG_NO_DATE)
    return parsed.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _split_credential(credential: str) -> tuple[str, str, str, str, str] | None:
    """Split "AKID/date/region/service/aws4_request", or None if it has the wrong shape."""
    parts = credential.rsplit("/", 4)
    # the region may be empty: botocore signs so with region_name="" (the query APIs allow it)
    filled = all(part for index, part in enumerate(parts) if index != 2)
    if len(parts) != 5 or not filled or not _SCOPE_DATE.fullmatch(parts[1]):
        return None
    return parts[0], parts[1], parts[2], parts[3], parts[4]


def _parse_v4_header(value: str, headers: Mapping[str, str]) -> ParsedAuth:
    """Parse "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."."""
    fields: dict[str, str] = {}
    for part in value[len(V4_ALGORITHM) :].split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, val = part.partition("=")
        if not sep:
            raise AuthorizationHeaderMalformed(
                _MSG_HEADER_MALFORMED + f"the authorization component {part!r} is malformed."
            )
        fields[key.strip()] = val.strip()
    if not all(fields.get(k) for k in ("Credential", "SignedHeaders", "Signature")):
        raise AuthorizationHeaderMalformed(
            _MSG_HEADER_MALFORMED + "the authorization header requires three components: "
            "Credential, SignedHeaders, and Signature."
        )
    credential = _split_credential(fields["Credential"])
    if credential is None:
        raise AuthorizationHeaderMalformed(_MSG_HEADER_MALFORMED + _MSG_CREDENTIAL_SHAPE)
    access_key, scope_date, region, service, terminal = credential
    if terminal != V4_TERMINAL:
        raise AuthorizationHeaderMalformed(
            _MSG_HEADER_MALFORMED
            + f"incorrect terminal '{terminal}'. This endpoint uses '{V4_TERMINAL}'."
        )
    if service not in SERVICES:
        raise AuthorizationHeaderMalformed(
            _MSG_HEADER_MALFORMED
            + f"incorrect service '{service}'. This endpoint belongs to '{SERVICE}'."
        )
    amz_date = _v4_request_date(headers)
    if amz_date[:8] != scope_date:
        raise AuthorizationHeaderMalformed(
            _MSG_HEADER_MALFORMED + "Invalid credential date. Date is not the same as X-Amz-Date."
        )
    return ParsedAuth(
        scheme="v4-header",
        access_key=access_key,
        signature=fields["Signature"],
        signed_headers=tuple(h.strip().lower() for h in fields["SignedHeaders"].split(";")),
        amz_date=amz_date,
        scope_date=scope_date,
        scope_region=region,
        scope_service=service,
    )


def _parse_v4_query(params: Mapping[str, str]) -> ParsedAuth:
    """Parse the X-Amz-* parameters of a presigned SigV4 URL."""
    if not all(params.get(name) for name in V4_QUERY_PARAMS):
        raise AuthorizationQueryParametersError(_MSG_V4_QUERY_MISSING)
    if params["X-Amz-Algorithm"] != V4_ALGORITHM:
        raise AuthorizationQueryParametersError(f'X-Amz-Algorithm only supports "{V4_ALGORITHM}"')
    credential = _split_credential(params["X-Amz-Credential"])
    if credential is None:
        raise AuthorizationQueryParametersError(_MSG_CREDENTIAL_PARAM + _MSG_CREDENTIAL_SHAPE)
    access_key, scope_date, region, service, terminal = credential
    if terminal != V4_TERMINAL:
        raise AuthorizationQueryParametersError(
            _MSG_CREDENTIAL_PARAM
            + f'incorrect terminal "{terminal}". This endpoint uses "{V4_TERMINAL}".'
        )
    if service not in SERVICES:
        raise AuthorizationQueryParametersError(
            _MSG_CREDENTIAL_PARAM
            + f'incorrect service "{service}". This endpoint belongs to "{SERVICE}".'
        )
    amz_date = params["X-Amz-Date"]
    if _parse_amz_date(amz_date) is None:
        raise AuthorizationQueryParametersError(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
        )
    if amz_date[:8] != scope_date:
        raise AuthorizationQueryParametersError(
            f'Invalid credential date "{scope_date}". This date is not the same as '
            f'X-Amz-Date: "{amz_date[:8]}".'
        )
    raw_expires = params["X-Amz-Expires"]
    if not re.fullmatch(r"-?\d{1,18}", raw_expires):
        raise AuthorizationQueryParametersError("X-Amz-Expires should be a number")
    expires = int(raw_expires)
    if expires < 0:  # it expired before it was made: refused as expired (403), as S3 does
        raise RequestExpired()
    if expires > MAX_PRESIGN_EXPIRES:
        raise AuthorizationQueryParametersError(
            "X-Amz-Expires must be less than a week (in seconds) that is; 604800 seconds"
        )
    return ParsedAuth(
        scheme="v4-query",
        access_key=access_key,
        signature=params["X-Amz-Signature"],
        signed_headers=tuple(h.strip().lower() for h in params["X-Amz-SignedHeaders"].split(";")),
        amz_date=amz_date,
        scope_date=scope_date,
        scope_region=region,
        scope_service=service,
        expires=expires,
    )


def _parse_v2_header(value: str) -> ParsedAuth:
    """Parse "AWS AKID:signature"."""
    access_key, sep, signature = value[4:].strip().rpartition(":")
    if not sep or not access_key or not signature:
        raise InvalidArgument(
            "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature"
        )
    return ParsedAuth(scheme="v2-header", access_key=access_key.strip(), signature=signature)


def _parse_v2_query(params: Mapping[str, str]) -> ParsedAuth:
    """Parse the AWSAccessKeyId, Signature and Expires parameters of a SigV2 presigned URL."""
    if not all(params.get(name) for name in V2_QUERY_PARAMS):
        raise AuthorizationQueryParametersError(_MSG_V2_QUERY_MISSING)
    raw_expires = params["Expires"]
    if not re.fullmatch(r"\d{1,18}", raw_expires):
        raise AuthorizationQueryParametersError(
            f"Invalid date (should be seconds since epoch): {raw_expires}"
        )
    return ParsedAuth(
        scheme="v2-query",
        access_key=params["AWSAccessKeyId"],
        signature=params["Signature"],
        expires=int(raw_expires),
    )


def parse_auth(req: RequestView) -> ParsedAuth | None:
    """Find the credentials of a request; None means the request is anonymous."""
    authorization = (req.headers.get("authorization") or "").strip()
    params = req.params
    v4_query = any(name in params for name in ("X-Amz-Algorithm", "X-Amz-Credential"))
    v4_query = v4_query or "X-Amz-Signature" in params
    v2_query = "AWSAccessKeyId" in params or "Signature" in params
    if authorization:
        if v4_query or v2_query:
            raise InvalidArgument(_MSG_ONE_MECHANISM)
        if authorization.startswith(V4_ALGORITHM + " "):
            return _parse_v4_header(authorization, req.headers)
        if authorization.startswith("AWS "):
            return _parse_v2_header(authorization)
        raise InvalidArgument("Unsupported Authorization Type")
    if v4_query:
        if v2_query:
            raise InvalidArgument(_MSG_ONE_MECHANISM)
        return _parse_v4_query(params)
    if v2_query:
        return _parse_v2_query(params)
    return None


# --- SigV4 -----------------------------------------------------------------------------------


def _wire(text: str) -> bytes:
    """The bytes a request's text came from: headers are read off the wire as Latin-1.

    Text that Latin-1 cannot hold was not read off the wire (a view built from ordinary
    strings); it is taken as UTF-8, which is what a client signs.
    """
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _hmac_sha256(key: bytes, message: str) -> bytes:
    """HMAC-SHA256 of a text message."""
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


@functools.lru_cache(maxsize=1024)
def signing_key(secret_key: str, scope_date: str, region: str, service: str = SERVICE) -> bytes:
    """Derive the SigV4 signing key (memoized: it changes once a day per key and region)."""
    key = _hmac_sha256(("AWS4" + secret_key).encode("utf-8"), scope_date)
    key = _hmac_sha256(key, region)
    key = _hmac_sha256(key, service)
    return _hmac_sha256(key, V4_TERMINAL)


def _collapse(value: str) -> str:
    """Trim a header value and collapse runs of whitespace to one space."""
    return " ".join(value.split())


def _uri_encode(raw: str) -> str:
    """Re-encode one raw query component with RFC 3986 rules."""
    if _CANONICAL_COMPONENT.fullmatch(raw) and (
        "%" not in raw or not _UNRESERVED_ESCAPE.search(raw)
    ):
        return raw  # what SDKs send is already canonical: skip decoding and re-encoding
    return quote(unquote_to_bytes(raw), safe="-_.~")


_CANONICAL_COMPONENT = re.compile(r"(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*")
# an escape of an unreserved character (A-Z a-z 0-9 - . _ ~), which canonical form spells out
_UNRESERVED_ESCAPE = re.compile(r"%(?:[46][1-9A-F]|[57][0-9A]|3[0-9]|2[DE]|5F|7E)")


def canonical_query_string(raw_query: str, *, exclude_signature: bool = False) -> str:
    """The SigV4 canonical query string."""
    items = []
    for name, value, _ in _query_pairs(raw_query):
        if (
            exclude_signature
            and name == "X-Amz-Signature"
            or (exclude_signature and "%" in name and unquote(name) == "X-Amz-Signature")
        ):
            continue
        items.append((_uri_encode(name), _uri_encode(value)))
    items.sort()
    return "&".join(f"{name}={value}" for name, value in items)


def canonical_request(
    req: RequestView, signed_headers: tuple[str, ...], payload_hash: str, *, presigned: bool
) -> str:
    """The SigV4 canonical request; S3 uses the path as sent, neither normalized nor re-encoded."""
    header_lines = "".join(
        f"{name}:{_collapse(req.headers.get(name, ''))}\n" for name in signed_headers
    )
    return "\n".join(
        (
            req.method.upper(),
            req.raw_path or "/",
            canonical_query_string(req.raw_query, exclude_signature=presigned),
            header_lines,
            ";".join(signed_headers),
            payload_hash,
        )
    )


def _v4_string_to_sign(amz_date: str, scope: str, request: str) -> str:
    """The SigV4 string to sign for a canonical request."""
    digest = hashlib.sha256(_wire(request)).hexdigest()
    return f"{V4_ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def _same(expected: str, provided: str) -> bool:
    """Constant-time comparison of two signatures."""
    return hmac.compare_digest(expected.encode("utf-8"), provided.encode("utf-8"))


def _as_utc(now: datetime) -> datetime:
    """Treat a naive datetime as UTC."""
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now


def _decoded_length(headers: Mapping[str, str]) -> int | None:
    """x-amz-decoded-content-length as an integer, if present."""
    raw = headers.get("x-amz-decoded-content-length")
    if raw is None:
        return None
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidArgument(f"x-amz-decoded-content-length {raw!r} is not a valid length.")
    return int(raw)


def _trailer_names(headers: Mapping[str, str]) -> tuple[str, ...]:
    """The trailing header names announced in x-amz-trailer."""
    raw = headers.get("x-amz-trailer", "")
    return tuple(name.strip().lower() for name in raw.split(",") if name.strip())


def _is_aws_chunked(headers: Mapping[str, str]) -> bool:
    """Whether Content-Encoding lists aws-chunked."""
    encodings = headers.get("content-encoding", "")
    return any(e.strip().lower() == "aws-chunked" for e in encodings.split(","))


def payload_spec_for(req: RequestView) -> PayloadSpec:
    """The payload spec of a request that carries no SigV4 header signature."""
    value = req.headers.get("x-amz-content-sha256")
    if value is None:
        if _is_aws_chunked(req.headers) and "x-amz-decoded-content-length" in req.headers:
            return PayloadSpec(
                mode="streaming-unsigned-trailer",
                decoded_length=_decoded_length(req.headers),
                trailer_names=_trailer_names(req.headers),
            )
        return PayloadSpec(mode="plain")
    value = value.strip()
    if _HEX64.fullmatch(value):
        return PayloadSpec(mode="plain", expected_sha256=value.lower())
    if value == UNSIGNED_PAYLOAD:
        return PayloadSpec(mode="unsigned")
    if value == STREAMING_UNSIGNED_TRAILER:
        return PayloadSpec(
            mode="streaming-unsigned-trailer",
            decoded_length=_decoded_length(req.headers),
            trailer_names=_trailer_names(req.headers),
        )
    if value in _STREAMING_MODES:
        raise InvalidRequest(
            f"x-amz-content-sha256 {value} needs a request signed with an Authorization header."
        )
    raise InvalidArgument(_MSG_BAD_CONTENT_SHA256)


def _v4_header_payload(req: RequestView, body_sha256: str | None) -> str:
    """The payload hash a SigV4 header-signed request declares.

    Services other than S3 (SNS) send no x-amz-content-sha256: their signature covers the
    hash of the body, which the caller read beforehand (`body_sha256`).
    """
    value = req.headers.get("x-amz-content-sha256")
    if value is None and body_sha256 is not None:
        return body_sha256
    if value is None:
        raise InvalidRequest("Missing required header for this request: x-amz-content-sha256")
    value = value.strip()
    if value == UNSIGNED_PAYLOAD or value in _STREAMING_MODES or _HEX64.fullmatch(value):
        return value
    raise InvalidArgument(_MSG_BAD_CONTENT_SHA256)


def _check_skew(request_time: datetime, now: datetime, max_skew_seconds: int) -> None:
    """Raise RequestTimeTooSkewed when a header-signed request's time is too far from now."""
    if abs((request_time - now).total_seconds()) > max_skew_seconds:
        raise RequestTimeTooSkewed()


def _verify_v4(
    req: RequestView,
    parsed: ParsedAuth,
    secret_key: str,
    region: str,
    now: datetime,
    max_skew_seconds: int,
    service: str,
    body_sha256: str | None,
) -> PayloadSpec:
    """Verify a SigV4 header or presigned request."""
    presigned = parsed.scheme == "v4-query"
    if parsed.scope_service != service:
        message = (
            f"incorrect service '{parsed.scope_service}'. This endpoint belongs to '{service}'."
        )
        if presigned:
            raise AuthorizationQueryParametersError(_MSG_CREDENTIAL_PARAM + message)
        raise AuthorizationHeaderMalformed(_MSG_HEADER_MALFORMED + message)
    regionless = parsed.scope_region == "" and service in QUERY_SERVICES  # as RadosGW allows
    if parsed.scope_region != region and not regionless:
        message = f"the region '{parsed.scope_region}' is wrong; expecting '{region}'"
        if presigned:
            raise AuthorizationQueryParametersError(_MSG_CREDENTIAL_PARAM + message)
        raise AuthorizationHeaderMalformed(_MSG_HEADER_MALFORMED + message)
    request_time = _parse_amz_date(parsed.amz_date)
    if request_time is None:  # parse_auth only builds well-formed dates
        raise AccessDenied(_MSG_NO_DATE)
    if presigned:
        elapsed = (now - request_time).total_seconds()
        if elapsed < -max_skew_seconds:
            raise AccessDenied("Request is not yet valid")
        if elapsed > (parsed.expires or 0):
            raise RequestExpired()
        query_hash = req.params.get("X-Amz-Content-Sha256")
        payload_hash = query_hash.strip() if query_hash else UNSIGNED_PAYLOAD
    else:
        _check_skew(request_time, now, max_skew_seconds)
        payload_hash = _v4_header_payload(req, body_sha256)
    key = signing_key(secret_key, parsed.scope_date, parsed.scope_region, parsed.scope_service)
    request = canonical_request(req, parsed.signed_headers, payload_hash, presigned=presigned)
    string_to_sign = _v4_string_to_sign(parsed.amz_date, parsed.scope, request)
    expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    if not _same(expected, parsed.signature.lower()):
        raise SignatureDoesNotMatch()
    if presigned:
        if _HEX64.fullmatch(payload_hash):
            return PayloadSpec(mode="plain", expected_sha256=payload_hash.lower())
        if payload_hash != UNSIGNED_PAYLOAD:
            raise InvalidArgument(_MSG_BAD_CONTENT_SHA256)
        spec = payload_spec_for(req)
        return (
            PayloadSpec(mode="unsigned")
            if spec.mode == "plain" and not spec.expected_sha256
            else spec
        )
    if _HEX64.fullmatch(payload_hash):
        return PayloadSpec(mode="plain", expected_sha256=payload_hash.lower())
    if payload_hash == UNSIGNED_PAYLOAD:
        return PayloadSpec(mode="unsigned")
    return PayloadSpec(
        mode=_STREAMING_MODES[payload_hash],
        signing_key=key,
        seed_signature=expected,
        amz_date=parsed.amz_date,
        scope=parsed.scope,
        decoded_length=_decoded_length(req.headers),
        trailer_names=_trailer_names(req.headers),
    )


# --- SigV2 -----------------------------------------------------------------------------------


def _v2_resources(req: RequestView, virtual_host_bucket: str | None) -> list[str]:
    """The SigV2 canonicalized resources a client may have signed.

    A bucket is the resource "/bucket/" (AWS's rule, and what botocore signs) although the
    request path may be "/bucket"; both forms are accepted for a bucket-level request.
    """
    path = req.raw_path or "/"
    if virtual_host_bucket:
        path = f"/{virtual_host_bucket}{path}"
    paths = [path]
    if path.count("/") == 1 and len(path) > 1:
        paths.append(path + "/")
    return [_v2_with_subresources(req, p) for p in paths]


def _v2_with_subresources(req: RequestView, path: str) -> str:
    """A path followed by the sub-resources SigV2 signs, sorted."""
    subresources = []
    for name, value, has_value in _query_pairs(req.raw_query):
        if name in V2_SUBRESOURCES:
            subresources.append((name, f"{name}={unquote(value)}" if has_value else name))
    if not subresources:
        return path
    subresources.sort(key=lambda item: item[0])
    return path + "?" + "&".join(text for _, text in subresources)


def _v2_amz_headers(req: RequestView, presigned: bool) -> str:
    """The SigV2 canonicalized x-amz-* headers, each line ending with a newline."""
    amz = {
        name.lower(): value.strip()
        for name, value in req.headers.items()
        if name.lower().startswith("x-amz-")
    }
    if presigned:
        for name, value in req.params.items():
            if name.lower().startswith("x-amz-"):
                amz.setdefault(name.lower(), value.strip())
    return "".join(f"{name}:{amz[name]}\n" for name in sorted(amz))


def _verify_v2(
    req: RequestView,
    parsed: ParsedAuth,
    secret_key: str,
    now: datetime,
    max_skew_seconds: int,
    virtual_host_bucket: str | None,
) -> PayloadSpec:
    """Verify a SigV2 header or presigned request."""
    presigned = parsed.scheme == "v2-query"
    headers = req.headers
    content_types = [headers.get("content-type", "").strip()]
    if presigned:
        expires = parsed.expires or 0
        if now.timestamp() > expires:
            raise RequestExpired()
        dates = [str(expires)]
        # A presigned URL is usually signed without a Content-Type, whatever the client sends.
        query_type = req.params.get("content-type")
        content_types += [query_type.strip()] if query_type else []
        content_types.append("")
    else:
        amz_date = headers.get("x-amz-date")
        date = headers.get("date")
        raw_time = amz_date if amz_date is not None else date
        request_time = _parse_http_date(raw_time) if raw_time is not None else None
        if request_time is None:
            raise AccessDenied(_MSG_NO_DATE)
        _check_skew(request_time, now, max_skew_seconds)
        # With x-amz-date the Date line is empty (AWS); botocore still signs its Date header.
        dates = [""] if amz_date is not None else []
        dates += [date.strip()] if date is not None else []
    md5 = headers.get("content-md5", "").strip()
    amz_headers = _v2_amz_headers(req, presigned)
    key = secret_key.encode("utf-8")
    provided = parsed.signature.strip()
    seen = set()
    for resource in _v2_resources(req, virtual_host_bucket):
        for content_type in content_types:
            for date_line in dates:
                string_to_sign = (
                    f"{req.method.upper()}\n{md5}\n{content_type}\n{date_line}\n"
                    f"{amz_headers}{resource}"
                )
                if string_to_sign in seen:
                    continue
                seen.add(string_to_sign)
                digest = hmac.new(key, _wire(string_to_sign), hashlib.sha1).digest()
                if _same(base64.b64encode(digest).decode("ascii"), provided):
                    return payload_spec_for(req)
    raise SignatureDoesNotMatch()


def verify(
    req: RequestView,
    parsed: ParsedAuth,
    secret_key: str,
    *,
    region: str,
    now: datetime,
    max_skew_seconds: int = 900,
    virtual_host_bucket: str | None = None,
    service: str = SERVICE,
    body_sha256: str | None = None,
) -> PayloadSpec:
    """Check a request's signature with the user's secret; return how to read its body.

    `service` is the one the request is for ("s3", or "sns" for the topic API); a SigV4
    scope naming another is AuthorizationHeaderMalformed. `body_sha256` is the hash of a
    body already read, for services whose clients send no x-amz-content-sha256.
    """
    now = _as_utc(now)
    if parsed.scheme in ("v4-header", "v4-query"):
        return _verify_v4(
            req, parsed, secret_key, region, now, max_skew_seconds, service, body_sha256
        )
    return _verify_v2(req, parsed, secret_key, now, max_skew_seconds, virtual_host_bucket)


# --- bodies ----------------------------------------------------------------------------------

_HEADER, _DATA, _DATA_END, _TRAILER, _DONE = range(5)


class _ChunkParser:
    """Incremental aws-chunked decoder; `feed` returns the payload pieces of one input piece."""

    def __init__(self, spec: PayloadSpec) -> None:
        self.spec = spec
        self.signed = spec.mode in ("streaming-signed", "streaming-signed-trailer")
        self.with_trailer = spec.mode.endswith("-trailer")
        if self.signed and not (spec.signing_key and spec.seed_signature):
            raise InvalidRequest("A signed aws-chunked body needs the request's signing key.")
        self.signing_key = spec.signing_key or b""
        self.previous_signature = spec.seed_signature or ""
        self.sign_prefix = f"{spec.amz_date}\n{spec.scope}\n"
        self.state = _HEADER
        self.line = bytearray()
        self.remaining = 0
        self.chunk_signature = ""
        self.chunk_hash = hashlib.sha256()
        self.decoded = 0
        self.trailer_lines: list[tuple[str, str]] = []
        self.trailer_signature: str | None = None
        self.skipped_blank = False

    def _sign(self, kind: str, tail: str) -> str:
        """HMAC of a chunk or trailer string to sign."""
        message = f"{kind}\n{self.sign_prefix}{self.previous_signature}\n{tail}"
        return hmac.new(self.signing_key, message.encode("utf-8"), hashlib.sha256).hexdigest()

    def _check_chunk(self, data_sha256: str) -> None:
        """Verify the current chunk's signature and chain it."""
        expected = self._sign("AWS4-HMAC-SHA256-PAYLOAD", f"{EMPTY_SHA256}\n{data_sha256}")
        if not _same(expected, self.chunk_signature):
            raise SignatureDoesNotMatch(
                "The chunk signature we calculated does not match the signature you provided."
            )
        self.previous_signature = expected

    def _chunk_header(self, line: bytes) -> None:
        """Handle "hex-size[;chunk-signature=sig]"."""
        size_text, _, extensions = line.partition(b";")
        size_text = size_text.strip()
        if not _CHUNK_SIZE.fullmatch(size_text):
            raise InvalidRequest(f"The aws-chunked size line {bytes(line[:80])!r} is malformed.")
        size = int(size_text, 16)
        if self.signed:
            signature = None
            for extension in extensions.split(b";"):
                name, _, value = extension.strip().partition(b"=")
                if name == b"chunk-signature":
                    signature = value.strip().decode("ascii", "replace").lower()
            if signature is None:
                raise InvalidRequest("An aws-chunked chunk has no chunk-signature.")
            self.chunk_signature = signature
        declared = self.spec.decoded_length
        if declared is not None and self.decoded + size > declared:
            raise IncompleteBody(
                "The aws-chunked body carries more data than x-amz-decoded-content-length "
                f"({declared})."
            )
        if size == 0:
            if self.signed:
                self._check_chunk(EMPTY_SHA256)
            self.state = _TRAILER
        else:
            self.remaining = size
            if self.signed:
                self.chunk_hash = hashlib.sha256()
            self.state = _DATA

    def _trailer_line(self, line: bytes) -> None:
        """Handle one line after the final chunk."""
        if not line:
            expecting = self.with_trailer and (self.spec.trailer_names or self.signed)
            if expecting and not self.trailer_lines and not self.skipped_blank:
                self.skipped_blank = True  # some clients put a blank line before the trailers
                return
            self.state = _DONE
            return
        if not self.with_trailer:
            raise InvalidRequest(
                "Trailing headers are only allowed with a *-TRAILER x-amz-content-sha256."
            )
        name_bytes, sep, value_bytes = line.partition(b":")
        try:
            name = name_bytes.strip().decode("ascii").lower()
            value = value_bytes.strip().decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest("A trailing header is not valid text.") from None
        if not sep or not name:
            raise InvalidRequest(f"The trailing header line {bytes(line[:80])!r} is malformed.")
        if name == "x-amz-trailer-signature":
            self.trailer_signature = value.lower()
        else:
            self.trailer_lines.append((name, value))

    def feed(self, piece: bytes) -> list[bytes]:
        """Consume one piece of the raw body; return the payload bytes it completes."""
        out: list[bytes] = []
        view = memoryview(piece)
        size = len(piece)
        pos = 0
        while pos < size:
            state = self.state
            if state == _DATA:
                take = min(self.remaining, size - pos)
                data = piece if take == size else bytes(view[pos : pos + take])
                if self.signed:
                    self.chunk_hash.update(data)
                out.append(data)
                pos += take
                self.remaining -= take
                self.decoded += take
                if self.remaining == 0:
                    if self.signed:
                        self._check_chunk(self.chunk_hash.hexdigest())
                    self.state = _DATA_END
            elif state == _DATA_END:
                take = min(2 - len(self.line), size - pos)
                self.line += view[pos : pos + take]
                pos += take
                if len(self.line) == 2:
                    if self.line != b"\r\n":
                        raise InvalidRequest("An aws-chunked chunk does not end with CRLF.")
                    self.line.clear()
                    self.state = _HEADER
            elif state == _DONE:
                raise InvalidRequest("The request body has data after the end of aws-chunked data.")
            else:
                newline = piece.find(b"\n", pos)
                end = size if newline < 0 else newline + 1
                if len(self.line) + end - pos > _MAX_CHUNK_LINE:
                    raise InvalidRequest("An aws-chunked header or trailer line is too long.")
                self.line += view[pos:end]
                pos = end
                if newline < 0:
                    break
                if len(self.line) < 2 or self.line[-2] != 0x0D:
                    raise InvalidRequest("An aws-chunked line does not end with CRLF.")
                line = bytes(self.line[:-2])
                self.line.clear()
                if state == _HEADER:
                    self._chunk_header(line)
                else:
                    self._trailer_line(line)
        return out

    def finish(self) -> dict[str, str]:
        """Check the end of the body; return the trailing headers."""
        ended = self.state == _DONE or (self.state == _TRAILER and not self.line)
        if not ended:
            if self.state == _HEADER and not self.line:
                raise IncompleteBody("The aws-chunked body ended without its final 0-size chunk.")
            raise IncompleteBody("The aws-chunked body ended in the middle of a chunk.")
        trailers = dict(self.trailer_lines)
        for name in trailers:
            if name not in self.spec.trailer_names:
                raise InvalidRequest(
                    f"The trailing header {name} is not declared in x-amz-trailer."
                )
        for name in self.spec.trailer_names:
            if name not in trailers:
                raise IncompleteBody(
                    f"The trailing header {name} announced in x-amz-trailer is missing."
                )
        if self.spec.mode == "streaming-signed-trailer":
            self._check_trailer_signature()
        return trailers

    def _check_trailer_signature(self) -> None:
        """Verify x-amz-trailer-signature over the canonical trailing headers."""
        if self.trailer_signature is None:
            raise SignatureDoesNotMatch("The trailing headers carry no x-amz-trailer-signature.")
        orders = [sorted(self.trailer_lines, key=lambda item: item[0]), self.trailer_lines]
        for lines in orders:
            canonical = "".join(f"{name}:{_collapse(value)}\n" for name, value in lines)
            digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
            if _same(self._sign("AWS4-HMAC-SHA256-TRAILER", digest), self.trailer_signature):
                return
        raise SignatureDoesNotMatch(
            "The trailer signature we calculated does not match the signature you provided."
        )


class BodyDecoder:
    """Decode and check a body as its PayloadSpec says; discard what it yielded if it raises."""

    def __init__(self, spec: PayloadSpec, content_length: int | None) -> None:
        self.spec = spec
        self.content_length = content_length
        self.trailers: dict[str, str] = {}
        self.bytes_received = 0
        self.bytes_decoded = 0
        self._parser: _ChunkParser | None = None  # set by _start() for aws-chunked bodies
        self._digest: Any = None  # SHA-256 of a plain body whose hash was signed

    def _count(self, piece: bytes) -> None:
        """Count raw bytes; refuse more than Content-Length."""
        self.bytes_received += len(piece)
        if self.content_length is not None and self.bytes_received > self.content_length:
            raise IncompleteBody(
                f"The request body is longer than its Content-Length ({self.content_length})."
            )

    def _check_raw_length(self) -> None:
        """The body must be exactly Content-Length bytes."""
        if self.content_length is not None and self.bytes_received != self.content_length:
            raise IncompleteBody()

    def stream(self, source: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        """Yield the decoded payload as it arrives; check everything when the source ends."""
        return _DecodedBody(self, source)

    def _start(self) -> None:
        self._parser = _ChunkParser(self.spec) if self.spec.chunked else None
        expected = self.spec.expected_sha256
        self._digest = hashlib.sha256() if expected and not self.spec.chunked else None

    def _decode(self, piece: bytes) -> Iterable[bytes]:
        self._count(piece)
        if self._parser is not None:
            return self._parser.feed(piece)
        if self._digest is not None:
            self._digest.update(piece)
        return (piece,)

    def _finish(self) -> None:
        self._check_raw_length()
        if self._parser is not None:
            trailers = self._parser.finish()
            declared = self.spec.decoded_length
            if declared is not None and self.bytes_decoded != declared:
                raise IncompleteBody(
                    f"The aws-chunked body carried {self.bytes_decoded} bytes of data; "
                    f"x-amz-decoded-content-length announced {declared}."
                )
            self.trailers = trailers
            return
        expected = self.spec.expected_sha256
        digest = self._digest
        if digest is not None and expected is not None and digest.hexdigest() != expected:
            raise ContentSHA256Mismatch()


class _DecodedBody:
    """BodyDecoder.stream's iterator. A class, not an async generator: the event loop hooks
    every async generator (a weak set entry and a finalizer each), which cost a small PUT
    more than decoding its body."""

    def __init__(self, decoder: BodyDecoder, source: AsyncIterable[bytes]) -> None:
        self.decoder = decoder
        self.source = source.__aiter__()
        self.pending: collections.deque[bytes] = collections.deque()
        self.ended = False
        decoder._start()

    def __aiter__(self) -> _DecodedBody:
        return self

    async def __anext__(self) -> bytes:
        decoder = self.decoder
        while not self.pending:
            if self.ended:
                raise StopAsyncIteration
            try:
                piece = await self.source.__anext__()
            except StopAsyncIteration:
                self.ended = True
                decoder._finish()
                raise
            if piece:
                self.pending.extend(decoder._decode(piece))
        data = self.pending.popleft()
        decoder.bytes_decoded += len(data)
        return data
