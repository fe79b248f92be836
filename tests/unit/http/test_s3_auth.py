"""Tests of lading.http.s3.auth with requests signed by botocore's own signers and clients."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import io
import random
import re
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import Any
from urllib.parse import quote, urlsplit

import boto3
import pytest
from botocore.auth import (
    HmacV1Auth,
    HmacV1QueryAuth,
    S3SigV4Auth,
    S3SigV4QueryAuth,
    SigV4Auth,
)
from botocore.awsrequest import AWSPreparedRequest, AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum, CrtCrc64NvmeChecksum

from lading.errors import (
    AccessDenied,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    ContentSHA256Mismatch,
    IncompleteBody,
    InvalidArgument,
    InvalidRequest,
    LadingError,
    RequestExpired,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
)
from lading.http.s3.auth import (
    V2_SUBRESOURCES,
    BodyDecoder,
    ParsedAuth,
    PayloadSpec,
    RequestView,
    parse_auth,
    payload_spec_for,
    verify,
)

ACCESS_KEY = "AKIDLADINGTEST"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzz/secret"
CREDS = Credentials(ACCESS_KEY, SECRET)
REGION = "us-east-1"
ENDPOINT = "http://127.0.0.1:9999"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


# --- helpers -------------------------------------------------------------------------------


def now() -> datetime:
    """The current time, as botocore signs with it."""
    return datetime.now(UTC)


def to_view(request: AWSRequest | AWSPreparedRequest) -> RequestView:
    """The RequestView of a signed botocore request, as an ASGI server would see it."""
    prepared = request.prepare() if isinstance(request, AWSRequest) else request
    split = urlsplit(prepared.url)
    headers: dict[str, str] = {}
    for name, value in prepared.headers.items():
        text = value.decode() if isinstance(value, bytes) else str(value)
        key = name.lower()
        headers[key] = f"{headers[key]},{text}" if key in headers else text
    headers.setdefault("host", split.netloc)
    return RequestView(prepared.method, split.path or "/", split.query, headers)


def sign(
    scheme: str,
    method: str = "GET",
    path: str = "/bucket/key",
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    *,
    region: str = REGION,
    expires: int = 3600,
    host: str = ENDPOINT,
    auth_path: str | None = None,
    unsigned_payload: bool = False,
) -> RequestView:
    """Sign a request with botocore's signer for `scheme` and return what the server sees."""
    url = host + path + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, headers=dict(headers or {}), data=body)
    request.auth_path = auth_path
    if scheme == "v4-header":
        if unsigned_payload:
            request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
        S3SigV4Auth(CREDS, "s3", region).add_auth(request)
    elif scheme == "v4-query":
        S3SigV4QueryAuth(CREDS, "s3", region, expires=expires).add_auth(request)
    elif scheme == "v2-header":
        HmacV1Auth(CREDS).add_auth(request)
    elif scheme == "v2-query":
        HmacV1QueryAuth(CREDS, expires=expires).add_auth(request)
        view = to_view(request)
        # The client of a presigned URL sends the URL, not the headers that were signed.
        kept = {k: v for k, v in view.headers.items() if k not in ("date",)}
        kept = {k: v for k, v in kept.items() if not k.startswith("x-amz-")}
        kept.pop("content-type", None)
        return dataclasses.replace(view, headers=kept)
    else:
        raise AssertionError(scheme)
    return to_view(request)


def check(view: RequestView, **kwargs: Any) -> PayloadSpec:
    """parse_auth + verify with the test secret."""
    parsed = parse_auth(view)
    assert parsed is not None
    assert parsed.access_key == ACCESS_KEY
    kwargs.setdefault("region", REGION)
    kwargs.setdefault("now", now())
    return verify(view, parsed, SECRET, **kwargs)


def with_headers(view: RequestView, **changes: str | None) -> RequestView:
    """A copy of `view` with headers replaced (None removes one); names use _ for -."""
    headers = dict(view.headers)
    for name, value in changes.items():
        key = name.replace("_", "-")
        if value is None:
            headers.pop(key, None)
        else:
            headers[key] = value
    return dataclasses.replace(view, headers=headers)


def flip_hex(signature: str) -> str:
    """Change the first character of a hex or base64 signature."""
    first = signature[0]
    return ("1" if first != "1" else "2") + signature[1:]


async def _source(body: bytes, read_size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), read_size):
        yield body[start : start + read_size]


def decode(
    spec: PayloadSpec,
    body: bytes,
    read_size: int = 65536,
    content_length: int | None | str = "auto",
) -> tuple[bytes, dict[str, str], BodyDecoder]:
    """Run a BodyDecoder over `body` cut in `read_size` pieces."""
    length = len(body) if content_length == "auto" else content_length
    assert not isinstance(length, str)
    decoder = BodyDecoder(spec, length)

    async def run() -> bytes:
        out = bytearray()
        async for piece in decoder.stream(_source(body, max(read_size, 1))):
            assert isinstance(piece, bytes)
            out += piece
        return bytes(out)

    data = asyncio.run(run())
    return data, decoder.trailers, decoder


def v4_signing_key(secret: str, date: str, region: str) -> bytes:
    """SigV4 key derivation, written out independently of the code under test."""
    key = ("AWS4" + secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signed_chunks(
    data: bytes,
    sizes: list[int],
    key: bytes,
    seed: str,
    amz_date: str,
    scope: str,
    trailers: list[tuple[str, str]] | None = None,
) -> bytes:
    """Encode `data` as STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) chunks of `sizes`."""
    out = bytearray()
    previous = seed
    pieces = []
    offset = 0
    for size in sizes:
        pieces.append(data[offset : offset + size])
        offset += size
    assert offset == len(data)
    for piece in [*pieces, b""]:
        string_to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                amz_date,
                scope,
                previous,
                EMPTY_SHA256,
                hashlib.sha256(piece).hexdigest(),
            ]
        )
        previous = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        out += f"{len(piece):x};chunk-signature={previous}\r\n".encode()
        if piece:
            out += piece + b"\r\n"
    if trailers is None:
        out += b"\r\n"
        return bytes(out)
    canonical = "".join(f"{name}:{value}\n" for name, value in trailers)
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256-TRAILER",
            amz_date,
            scope,
            previous,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    trailer_signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    for name, value in trailers:
        out += f"{name}:{value}\r\n".encode()
    out += f"x-amz-trailer-signature:{trailer_signature}\r\n\r\n".encode()
    return bytes(out)


def unsigned_chunks(data: bytes, chunk_size: int, checksum_cls: Any = Crc32Checksum) -> bytes:
    """botocore's own aws-chunked encoder with a trailing checksum."""
    name = "x-amz-checksum-crc32" if checksum_cls is Crc32Checksum else "x-amz-checksum-crc64nvme"
    wrapper = AwsChunkedWrapper(
        io.BytesIO(data), checksum_cls=checksum_cls, checksum_name=name, chunk_size=chunk_size
    )
    return bytes(wrapper.read())


def streaming_request(mode: str, data: bytes, trailer: str | None = None) -> RequestView:
    """A PUT signed (by botocore's SigV4Auth) for a streaming x-amz-content-sha256 value."""
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Content-SHA256": mode,
        "X-Amz-Decoded-Content-Length": str(len(data)),
    }
    if trailer:
        headers["X-Amz-Trailer"] = trailer
    request = AWSRequest(method="PUT", url=f"{ENDPOINT}/bucket/chunked", headers=headers)
    SigV4Auth(CREDS, "s3", REGION).add_auth(request)
    return to_view(request)


def chain_params(view: RequestView) -> tuple[bytes, str, str, str]:
    """Signing key, seed signature, date and scope of a signed view, computed by the test."""
    authorization = view.headers["authorization"]
    seed = re.search(r"Signature=([0-9a-f]{64})", authorization)
    assert seed is not None
    amz_date = view.headers["x-amz-date"]
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    return v4_signing_key(SECRET, amz_date[:8], REGION), seed.group(1), amz_date, scope


# --- anonymous and parse errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "headers"),
    [
        ("/", "", {}),
        ("/bucket", "list-type=2&prefix=a%2Fb", {}),
        ("/bucket/key", "acl", {"x-amz-date": "20130524T000000Z"}),
        ("/bucket/key", "", {"authorization": "   "}),
        ("/bucket/key", "signature-like=1&X-Amz-Something=2", {}),
    ],
)
def test_anonymous_requests_parse_to_none(path: str, query: str, headers: dict[str, str]) -> None:
    assert parse_auth(RequestView("GET", path, query, headers)) is None


V4_HEADER = (
    "AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "a" * 64
)
GOOD_V4_QUERY = {
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Credential": "AKID%2F20130524%2Fus-east-1%2Fs3%2Faws4_request",
    "X-Amz-Date": "20130524T000000Z",
    "X-Amz-Expires": "86400",
    "X-Amz-SignedHeaders": "host",
    "X-Amz-Signature": "a" * 64,
}


def v4_query(**changes: str | None) -> str:
    """A presigned SigV4 query string with some parameters changed or (None) removed."""
    params = {**GOOD_V4_QUERY, **changes}
    return "&".join(f"{k}={v}" for k, v in params.items() if v is not None)


@pytest.mark.parametrize(
    ("authorization", "query", "extra", "error", "message"),
    [
        ("Bearer abc", "", {}, InvalidArgument, "Unsupported Authorization Type"),
        ("AWS4-ECDSA-P256-SHA256 Credential=x", "", {}, InvalidArgument, "Unsupported"),
        ("AWS no-colon", "", {}, InvalidArgument, "Expected AwsAccessKeyId:signature"),
        ("AWS :sig", "", {}, InvalidArgument, "AwsAccessKeyId:signature"),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request",
            "",
            {},
            AuthorizationHeaderMalformed,
            "requires three components",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3, SignedHeaders=host, "
            "Signature=" + "a" * 64,
            "",
            {},
            AuthorizationHeaderMalformed,
            "the Credential is mal-formed",
        ),
        (
            V4_HEADER.replace("/s3/", "/ec2/"),
            "",
            {},
            AuthorizationHeaderMalformed,
            "incorrect service 'ec2'",
        ),
        (
            V4_HEADER.replace("aws4_request", "aws5_request"),
            "",
            {},
            AuthorizationHeaderMalformed,
            "incorrect terminal",
        ),
        (
            V4_HEADER,
            "",
            {"x-amz-date": "20130525T000000Z"},
            AuthorizationHeaderMalformed,
            "Invalid credential date",
        ),
        (V4_HEADER, "", {"x-amz-date": None}, AccessDenied, "valid Date or x-amz-date"),
        (V4_HEADER, "", {"x-amz-date": "yesterday"}, AccessDenied, "valid Date or x-amz-date"),
        (
            V4_HEADER,
            "X-Amz-Signature=abc",
            {},
            InvalidArgument,
            "Only one auth mechanism allowed",
        ),
        ("AWS AKID:sig", "AWSAccessKeyId=AKID", {}, InvalidArgument, "Only one auth mechanism"),
        (
            "",
            v4_query() + "&AWSAccessKeyId=AKID&Signature=x&Expires=1",
            {},
            InvalidArgument,
            "Only one auth mechanism",
        ),
        (
            "",
            v4_query(**{"X-Amz-Expires": None}),
            {},
            AuthorizationQueryParametersError,
            "requires the X-Amz-Algorithm, X-Amz-Credential",
        ),
        (
            "",
            v4_query(**{"X-Amz-Expires": "604801"}),
            {},
            AuthorizationQueryParametersError,
            "X-Amz-Expires must be less than a week (in seconds) that is; 604800 seconds",
        ),
        (
            "",
            v4_query(**{"X-Amz-Expires": "soon"}),
            {},
            AuthorizationQueryParametersError,
            "X-Amz-Expires should be a number",
        ),
        (
            "",
            v4_query(**{"X-Amz-Expires": "-5"}),
            {},
            RequestExpired,
            "Request has expired",
        ),
        (
            "",
            v4_query(**{"X-Amz-Algorithm": "AWS4-HMAC-SHA1"}),
            {},
            AuthorizationQueryParametersError,
            'only supports "AWS4-HMAC-SHA256"',
        ),
        (
            "",
            v4_query(**{"X-Amz-Date": "2013-05-24"}),
            {},
            AuthorizationQueryParametersError,
            "ISO8601 Long Format",
        ),
        (
            "",
            v4_query(**{"X-Amz-Date": "20130525T000000Z"}),
            {},
            AuthorizationQueryParametersError,
            "This date is not the same as X-Amz-Date",
        ),
        (
            "",
            v4_query(**{"X-Amz-Credential": "AKID%2F20130524%2Fus-east-1%2Fs3"}),
            {},
            AuthorizationQueryParametersError,
            "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed",
        ),
        (
            "",
            v4_query(**{"X-Amz-Credential": "AKID%2F20130524%2Fus-east-1%2Fsqs%2Faws4_request"}),
            {},
            AuthorizationQueryParametersError,
            'incorrect service "sqs"',
        ),
        (
            "",
            "AWSAccessKeyId=AKID&Signature=abc",
            {},
            AuthorizationQueryParametersError,
            "requires the Signature, Expires and AWSAccessKeyId",
        ),
        (
            "",
            "AWSAccessKeyId=AKID&Signature=abc&Expires=tomorrow",
            {},
            AuthorizationQueryParametersError,
            "seconds since epoch",
        ),
    ],
)
def test_malformed_credentials(
    authorization: str,
    query: str,
    extra: dict[str, str | None],
    error: type[LadingError],
    message: str,
) -> None:
    headers = {"host": "example.com", "x-amz-date": "20130524T000000Z"}
    if authorization:
        headers["authorization"] = authorization
    for name, value in extra.items():
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    with pytest.raises(error) as caught:
        parse_auth(RequestView("GET", "/bucket/key", query, headers))
    assert message in caught.value.message


def test_parse_v4_header_fields() -> None:
    view = RequestView(
        "GET",
        "/b/k",
        "",
        {"authorization": V4_HEADER, "x-amz-date": "20130524T000000Z", "host": "h"},
    )
    parsed = parse_auth(view)
    assert parsed == ParsedAuth(
        scheme="v4-header",
        access_key="AKID",
        signature="a" * 64,
        signed_headers=("host", "x-amz-date"),
        amz_date="20130524T000000Z",
        scope_date="20130524",
        scope_region="us-east-1",
        scope_service="s3",
    )
    assert parsed.scope == "20130524/us-east-1/s3/aws4_request"


def test_parse_schemes() -> None:
    query = v4_query()
    assert parse_auth(RequestView("GET", "/b/k", query, {})) is not None
    parsed = parse_auth(RequestView("GET", "/b/k", query, {}))
    assert parsed is not None and parsed.scheme == "v4-query" and parsed.expires == 86400
    v2 = parse_auth(
        RequestView("GET", "/b/k", "AWSAccessKeyId=AK&Signature=a%2Bb%3D&Expires=9", {})
    )
    assert v2 is not None and (v2.scheme, v2.access_key, v2.signature) == ("v2-query", "AK", "a+b=")
    v2h = parse_auth(RequestView("GET", "/b/k", "", {"authorization": "AWS AK:c2ln"}))
    assert v2h is not None and (v2h.scheme, v2h.signature) == ("v2-header", "c2ln")


# --- good signatures -----------------------------------------------------------------------

SCHEMES = ["v4-header", "v4-query", "v2-header", "v2-query"]

SHAPES = [
    pytest.param("GET", "/bucket/key", "", {}, id="simple"),
    pytest.param("GET", "/", "", {}, id="list-buckets"),
    pytest.param("GET", "/bucket/a%20b/caf%C3%A9%2Bx%21", "", {}, id="encoded-path"),
    pytest.param("GET", "/bucket/dir//x/./y/../z", "", {}, id="unnormalized-path"),
    pytest.param(
        "GET",
        "/bucket",
        "list-type=2&prefix=a%2Fb%20c&delimiter=%2F&encoding-type=url",
        {},
        id="list-query",
    ),
    pytest.param("GET", "/bucket/key", "acl", {}, id="bare-subresource"),
    pytest.param("PUT", "/bucket/key", "partNumber=3&uploadId=abc%2Fdef%2B1", {}, id="upload-part"),
    pytest.param(
        "GET",
        "/bucket/key",
        "versionId=v1&response-content-type=text%2Fplain&response-content-disposition=inline",
        {},
        id="response-overrides",
    ),
    pytest.param(
        "PUT",
        "/bucket/key",
        "",
        {
            "x-amz-meta-note": "  two   spaces ",
            "content-type": "text/plain",
            "x-amz-acl": "private",
            "Content-MD5": "XUFAKrxLKna5cZ2REBfFkg==",
        },
        id="meta-headers",
    ),
    pytest.param("DELETE", "/bucket/tilde~key", "", {}, id="delete"),
    pytest.param("POST", "/bucket", "delete", {"content-type": "application/xml"}, id="post"),
]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(("method", "path", "query", "headers"), SHAPES)
def test_good_signature(
    scheme: str, method: str, path: str, query: str, headers: dict[str, str]
) -> None:
    view = sign(scheme, method, path, query, headers)
    parsed = parse_auth(view)
    assert parsed is not None and parsed.scheme == scheme
    spec = check(view)
    if scheme == "v4-header":
        assert spec == PayloadSpec(mode="plain", expected_sha256=EMPTY_SHA256)
    elif scheme == "v4-query":
        assert spec == PayloadSpec(mode="unsigned")
    else:
        assert spec == PayloadSpec(mode="plain")


def test_v4_header_with_body_and_unsigned_payload() -> None:
    body = b"some object data"
    view = sign("v4-header", "PUT", body=body)
    spec = check(view)
    assert spec == PayloadSpec(mode="plain", expected_sha256=hashlib.sha256(body).hexdigest())
    assert decode(spec, body)[0] == body
    unsigned = sign("v4-header", "PUT", body=body, unsigned_payload=True)
    assert unsigned.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert check(unsigned) == PayloadSpec(mode="unsigned")


def test_v4_uppercase_signature_and_date_header_only() -> None:
    request = AWSRequest(
        method="GET",
        url=f"{ENDPOINT}/bucket/key",
        headers={"Date": formatdate(usegmt=True)},
    )
    S3SigV4Auth(CREDS, "s3", REGION).add_auth(request)
    view = to_view(request)
    assert "x-amz-date" not in view.headers
    check(view)
    authorization = view.headers["authorization"]
    head, signature = authorization.rsplit("Signature=", 1)
    check(with_headers(view, authorization=f"{head}Signature={signature.upper()}"))


def test_v2_virtual_host_needs_the_bucket() -> None:
    view = sign(
        "v2-header", path="/key", host="http://bucket.s3.example.com", auth_path="/bucket/key"
    )
    check(view, virtual_host_bucket="bucket")
    with pytest.raises(SignatureDoesNotMatch):
        check(view)
    query = sign(
        "v2-query", path="/key", host="http://bucket.s3.example.com", auth_path="/bucket/key"
    )
    check(query, virtual_host_bucket="bucket")


def test_v2_root_of_a_virtual_host_bucket() -> None:
    view = sign("v2-header", path="/", host="http://bucket.s3.example.com", auth_path="/bucket/")
    check(view, virtual_host_bucket="bucket")


def test_v2_with_x_amz_date_as_aws_documents_it() -> None:
    amz_date = formatdate(usegmt=True)
    string_to_sign = f"GET\n\n\n\nx-amz-date:{amz_date}\n/bucket/key"
    digest = hmac.new(SECRET.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    signature = base64.b64encode(digest).decode()
    view = RequestView(
        "GET",
        "/bucket/key",
        "",
        {"x-amz-date": amz_date, "authorization": f"AWS {ACCESS_KEY}:{signature}"},
    )
    check(view)
    # botocore always adds Date and signs it even when x-amz-date is present.
    botocore_view = sign("v2-header", headers={"x-amz-date": amz_date})
    assert "date" in botocore_view.headers
    check(botocore_view)


def test_v2_presigned_put_ignores_an_unsigned_content_type() -> None:
    view = sign("v2-query", "PUT")
    check(with_headers(view, content_type="application/x-www-form-urlencoded"))


def test_v2_presigned_with_signed_content_type_needs_it() -> None:
    view = sign("v2-query", "PUT", headers={"Content-Type": "image/png"})
    assert "content-type=image%2Fpng" in view.raw_query
    check(with_headers(view, content_type="image/png"))
    check(view)  # the query parameter carries it
    stripped = re.sub(r"&content-type=[^&]*", "", view.raw_query)
    with pytest.raises(SignatureDoesNotMatch):
        check(dataclasses.replace(view, raw_query=stripped))


def test_v2_presigned_x_amz_headers_come_from_the_query() -> None:
    view = sign("v2-query", "PUT", headers={"x-amz-acl": "public-read"})
    assert "x-amz-acl=public-read" in view.raw_query
    check(view)


def test_v4_presigned_with_signed_header() -> None:
    view = sign("v4-query", "PUT", headers={"x-amz-meta-a": "1"})
    check(view)
    with pytest.raises(SignatureDoesNotMatch):
        check(with_headers(view, x_amz_meta_a="2"))


def test_v4_presigned_with_content_sha256_in_query() -> None:
    body = b"presigned body"
    digest = hashlib.sha256(body).hexdigest()

    class HashedQueryAuth(S3SigV4QueryAuth):
        """A presigner that signs the payload hash it puts in the query, as minio's does."""

        def payload(self, request: AWSRequest) -> str:
            return digest

    url = f"{ENDPOINT}/bucket/key?X-Amz-Content-Sha256={digest}"
    request = AWSRequest(method="PUT", url=url)
    HashedQueryAuth(CREDS, "s3", REGION).add_auth(request)
    view = to_view(request)
    spec = check(view)
    assert spec == PayloadSpec(mode="plain", expected_sha256=digest)
    with pytest.raises(ContentSHA256Mismatch):
        decode(spec, b"other body 1234")


def test_v4_presigned_unsigned_trailer_upload() -> None:
    data = b"x" * 1000
    view = sign("v4-query", "PUT")
    view = with_headers(
        view,
        x_amz_content_sha256="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        content_encoding="aws-chunked",
        x_amz_decoded_content_length="1000",
        x_amz_trailer="x-amz-checksum-crc32",
    )
    spec = check(view)
    assert spec.mode == "streaming-unsigned-trailer"
    out, trailers, _ = decode(spec, unsigned_chunks(data, 300), 7)
    assert out == data
    assert trailers == {
        "x-amz-checksum-crc32": base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    }


# --- tampering -----------------------------------------------------------------------------

TAMPER_HEADERS = {"x-amz-meta-note": "original", "content-type": "text/plain"}


def tamper_signature(view: RequestView, scheme: str) -> RequestView:
    """Alter the signature a request carries."""
    if scheme == "v4-header":
        auth = view.headers["authorization"]
        sig = auth.rsplit("Signature=", 1)[1]
        return with_headers(view, authorization=auth.replace(sig, flip_hex(sig)))
    if scheme == "v2-header":
        auth = view.headers["authorization"]
        key, sig = auth.rsplit(":", 1)
        return with_headers(view, authorization=f"{key}:{flip_hex(sig)}")
    name = "X-Amz-Signature=" if scheme == "v4-query" else "Signature="
    head, tail = view.raw_query.split(name, 1)
    return dataclasses.replace(view, raw_query=head + name + flip_hex(tail))


def tamper(view: RequestView, scheme: str, what: str) -> RequestView:
    """Change one signed part of a request."""
    if what == "signature":
        return tamper_signature(view, scheme)
    if what == "header":
        return with_headers(view, x_amz_meta_note="forged")
    if what == "query":
        return dataclasses.replace(
            view, raw_query=view.raw_query.replace("uploadId=u1", "uploadId=u2")
        )
    if what == "path":
        return dataclasses.replace(view, raw_path=view.raw_path + "2")
    if what == "encoded-path":
        return dataclasses.replace(view, raw_path=view.raw_path.replace("%20", "+"))
    if what == "method":
        return dataclasses.replace(view, method="DELETE")
    if what == "secret":
        return view
    raise AssertionError(what)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(
    "what", ["signature", "header", "query", "path", "encoded-path", "method", "secret"]
)
def test_tampered_requests_fail(scheme: str, what: str) -> None:
    view = sign(scheme, "PUT", "/bucket/a%20b", "partNumber=1&uploadId=u1", TAMPER_HEADERS)
    if scheme == "v2-query":
        view = with_headers(view, x_amz_meta_note="original")
    check(view)
    bad = tamper(view, scheme, what)
    parsed = parse_auth(bad)
    assert parsed is not None
    secret = "wrong" + SECRET if what == "secret" else SECRET
    with pytest.raises(SignatureDoesNotMatch):
        verify(bad, parsed, secret, region=REGION, now=now())


def test_v4_unsigned_query_parameter_changes_fail_too() -> None:
    view = sign("v4-header", query="list-type=2&prefix=a")
    with pytest.raises(SignatureDoesNotMatch):
        check(dataclasses.replace(view, raw_query="list-type=2&prefix=b"))
    with pytest.raises(SignatureDoesNotMatch):
        check(dataclasses.replace(view, raw_query="list-type=2&prefix=a&max-keys=1"))


def test_v2_ignores_query_parameters_that_are_not_subresources() -> None:
    view = sign("v2-header", query="prefix=a")
    check(dataclasses.replace(view, raw_query="prefix=b"))
    assert "prefix" not in V2_SUBRESOURCES


# --- time ----------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["v4-query", "v2-query"])
def test_expired_presigned_urls(scheme: str) -> None:
    view = sign(scheme, expires=100)
    check(view, now=now() + timedelta(seconds=50))
    with pytest.raises(RequestExpired):
        check(view, now=now() + timedelta(seconds=200))


def test_expired_presigned_url_is_reported_before_its_signature() -> None:
    view = tamper_signature(sign("v4-query", expires=10), "v4-query")
    with pytest.raises(RequestExpired):
        check(view, now=now() + timedelta(seconds=60))


def test_presigned_v4_from_the_future_is_not_yet_valid() -> None:
    view = sign("v4-query", expires=3600)
    with pytest.raises(AccessDenied, match="Request is not yet valid"):
        check(view, now=now() - timedelta(minutes=20))
    check(view, now=now() - timedelta(minutes=10))


@pytest.mark.parametrize("scheme", ["v4-header", "v2-header"])
@pytest.mark.parametrize(
    ("offset_minutes", "ok"), [(-16, False), (-14, True), (0, True), (14, True), (16, False)]
)
def test_clock_skew(scheme: str, offset_minutes: int, ok: bool) -> None:
    view = sign(scheme)
    when = now() + timedelta(minutes=offset_minutes)
    if ok:
        check(view, now=when)
    else:
        with pytest.raises(RequestTimeTooSkewed):
            check(view, now=when)


def test_custom_skew_and_naive_now() -> None:
    view = sign("v4-header")
    with pytest.raises(RequestTimeTooSkewed):
        check(view, now=now() + timedelta(seconds=90), max_skew_seconds=60)
    check(view, now=datetime.now(UTC).replace(tzinfo=None))


def test_v2_needs_a_date() -> None:
    view = with_headers(sign("v2-header"), date=None)
    with pytest.raises(AccessDenied, match="valid Date or x-amz-date"):
        check(view)


# --- region --------------------------------------------------------------------------------


def test_wrong_region_in_header() -> None:
    view = sign("v4-header", region="eu-west-1")
    with pytest.raises(AuthorizationHeaderMalformed) as caught:
        check(view, region="us-east-1")
    assert caught.value.message == (
        "The authorization header is malformed; the region 'eu-west-1' is wrong; "
        "expecting 'us-east-1'"
    )
    check(view, region="eu-west-1")


def test_wrong_region_in_query() -> None:
    view = sign("v4-query", region="us-east-1")
    with pytest.raises(AuthorizationQueryParametersError, match="the region 'us-east-1' is wrong"):
        check(view, region="eu-central-1")


# --- payload specs -------------------------------------------------------------------------


def test_v4_header_requires_content_sha256() -> None:
    view = with_headers(sign("v4-header"), x_amz_content_sha256=None)
    with pytest.raises(InvalidRequest, match="x-amz-content-sha256"):
        check(view)


def test_v4_header_rejects_a_bad_content_sha256() -> None:
    view = with_headers(sign("v4-header"), x_amz_content_sha256="not-a-hash")
    with pytest.raises(InvalidArgument, match="x-amz-content-sha256 must be"):
        check(view)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, PayloadSpec(mode="plain")),
        (
            {"x-amz-content-sha256": EMPTY_SHA256.upper()},
            PayloadSpec(mode="plain", expected_sha256=EMPTY_SHA256),
        ),
        ({"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, PayloadSpec(mode="unsigned")),
        (
            {
                "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                "x-amz-decoded-content-length": "12",
                "x-amz-trailer": "X-Amz-Checksum-CRC32, x-amz-checksum-sha256",
            },
            PayloadSpec(
                mode="streaming-unsigned-trailer",
                decoded_length=12,
                trailer_names=("x-amz-checksum-crc32", "x-amz-checksum-sha256"),
            ),
        ),
        (
            {
                "content-encoding": "gzip, aws-chunked",
                "x-amz-decoded-content-length": "3",
            },
            PayloadSpec(mode="streaming-unsigned-trailer", decoded_length=3),
        ),
    ],
)
def test_payload_spec_for_anonymous(headers: dict[str, str], expected: PayloadSpec) -> None:
    assert payload_spec_for(RequestView("PUT", "/b/k", "", headers)) == expected


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}, InvalidRequest),
        ({"x-amz-content-sha256": "bogus"}, InvalidArgument),
        (
            {
                "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                "x-amz-decoded-content-length": "-1",
            },
            InvalidArgument,
        ),
    ],
)
def test_payload_spec_for_rejects(headers: dict[str, str], error: type[LadingError]) -> None:
    with pytest.raises(error):
        payload_spec_for(RequestView("PUT", "/b/k", "", headers))


# --- plain bodies --------------------------------------------------------------------------


@pytest.mark.parametrize("read_size", [1, 3, 1000, 1 << 20])
def test_plain_body_with_sha256(read_size: int) -> None:
    body = random.Random(1).randbytes(5000)
    spec = PayloadSpec(mode="plain", expected_sha256=hashlib.sha256(body).hexdigest())
    out, trailers, decoder = decode(spec, body, read_size)
    assert out == body and trailers == {}
    assert decoder.bytes_received == decoder.bytes_decoded == 5000


@pytest.mark.parametrize(
    ("body", "content_length", "error"),
    [
        (b"hello world", 11, ContentSHA256Mismatch),
        (b"hello", 11, IncompleteBody),
        (b"hello world!!", 11, IncompleteBody),
    ],
)
def test_plain_body_errors(body: bytes, content_length: int, error: type[LadingError]) -> None:
    spec = PayloadSpec(mode="plain", expected_sha256=hashlib.sha256(b"hello there").hexdigest())
    with pytest.raises(error):
        decode(spec, body, 4, content_length)


def test_unsigned_body_passes_through() -> None:
    assert decode(PayloadSpec(mode="unsigned"), b"abc", 1, None)[0] == b"abc"


# --- AWS's published streaming examples ----------------------------------------------------

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AWS_HEADERS = {
    "host": "s3.amazonaws.com",
    "x-amz-date": "20130524T000000Z",
    "x-amz-storage-class": "REDUCED_REDUNDANCY",
    "content-encoding": "aws-chunked",
    "x-amz-decoded-content-length": "66560",
}
AWS_NOW = datetime(2013, 5, 24, 0, 5, tzinfo=UTC)
AWS_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
AWS_CHUNK_SIGNATURES = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]
AWS_TRAILER_SEED = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
AWS_TRAILER_CHUNK_SIGNATURES = [
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
]
AWS_TRAILER_SIGNATURE = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"


def aws_example(trailer: bool) -> tuple[PayloadSpec, bytes]:
    """The spec and body of the AWS documentation's chunked upload example (66560 x 'a')."""
    headers = dict(AWS_HEADERS)
    if trailer:
        mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
        headers["x-amz-trailer"] = "x-amz-checksum-crc32c"
        signed = "content-encoding;host;x-amz-content-sha256;x-amz-date;"
        signed += "x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer"
        seed, chunk_signatures = AWS_TRAILER_SEED, AWS_TRAILER_CHUNK_SIGNATURES
    else:
        mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
        headers["content-length"] = "66824"
        signed = "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        signed += "x-amz-decoded-content-length;x-amz-storage-class"
        seed, chunk_signatures = AWS_SEED, AWS_CHUNK_SIGNATURES
    headers["x-amz-content-sha256"] = mode
    headers["authorization"] = (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        f"SignedHeaders={signed},Signature={seed}"
    )
    view = RequestView("PUT", "/examplebucket/chunkObject.txt", "", headers)
    parsed = parse_auth(view)
    assert parsed is not None
    spec = verify(view, parsed, AWS_SECRET, region="us-east-1", now=AWS_NOW)
    body = bytearray()
    for size, signature in zip([65536, 1024, 0], chunk_signatures, strict=True):
        body += f"{size:x};chunk-signature={signature}\r\n".encode()
        if size:
            body += b"a" * size + b"\r\n"
    if trailer:
        body += b"x-amz-checksum-crc32c:sOO8/Q==\r\n"
        body += f"x-amz-trailer-signature:{AWS_TRAILER_SIGNATURE}\r\n\r\n".encode()
    else:
        body += b"\r\n"
    return spec, bytes(body)


def test_aws_example_seed_signatures() -> None:
    spec, body = aws_example(trailer=False)
    assert spec.mode == "streaming-signed"
    assert spec.seed_signature == AWS_SEED
    assert spec.decoded_length == 66560
    assert spec.amz_date == "20130524T000000Z"
    assert spec.scope == "20130524/us-east-1/s3/aws4_request"
    assert len(body) == 66824
    trailer_spec, trailer_body = aws_example(trailer=True)
    assert trailer_spec.mode == "streaming-signed-trailer"
    assert trailer_spec.seed_signature == AWS_TRAILER_SEED
    assert trailer_spec.trailer_names == ("x-amz-checksum-crc32c",)
    assert len(trailer_body) == 66946


@pytest.mark.parametrize("trailer", [False, True])
@pytest.mark.parametrize("read_size", [1, 2, 3, 85, 86, 87, 4096, 65536, 1 << 20])
def test_aws_example_bodies_decode(trailer: bool, read_size: int) -> None:
    spec, body = aws_example(trailer)
    out, trailers, decoder = decode(spec, body, read_size)
    assert out == b"a" * 66560
    assert trailers == ({"x-amz-checksum-crc32c": "sOO8/Q=="} if trailer else {})
    assert decoder.bytes_received == len(body)


def test_aws_example_matches_the_test_encoder() -> None:
    for trailer in (False, True):
        spec, body = aws_example(trailer)
        assert spec.signing_key is not None and spec.seed_signature is not None
        assert spec.amz_date is not None and spec.scope is not None
        ours = signed_chunks(
            b"a" * 66560,
            [65536, 1024],
            v4_signing_key(AWS_SECRET, "20130524", "us-east-1"),
            spec.seed_signature,
            spec.amz_date,
            spec.scope,
            [("x-amz-checksum-crc32c", "sOO8/Q==")] if trailer else None,
        )
        assert ours == body


def replace_once(body: bytes, old: bytes, new: bytes) -> bytes:
    """Replace exactly one occurrence."""
    assert body.count(old) >= 1
    return body.replace(old, new, 1)


SIGNED_BREAKAGES: list[tuple[str, Callable[[bytes], bytes], type[LadingError]]] = [
    (
        "chunk-signature",
        lambda b: replace_once(b, b"ad80c730", b"bd80c730"),
        SignatureDoesNotMatch,
    ),
    (
        "final-signature",
        lambda b: replace_once(b, b"b6c6ea8a", b"06c6ea8a"),
        SignatureDoesNotMatch,
    ),
    ("data-byte", lambda b: b[:1000] + b"b" + b[1001:], SignatureDoesNotMatch),
    ("no-final-chunk", lambda b: b[: b.index(b"0;chunk-signature")], IncompleteBody),
    ("truncated-mid-chunk", lambda b: b[:50_000], IncompleteBody),
    ("truncated-header", lambda b: b[:40], IncompleteBody),
    (
        "no-signature",
        lambda b: re.sub(rb"^10000;chunk-signature=[0-9a-f]+", b"10000", b),
        InvalidRequest,
    ),
    ("bad-size", lambda b: replace_once(b, b"400;", b"4g0;"), InvalidRequest),
    ("no-crlf-after-data", lambda b: replace_once(b, b"a\r\n400;", b"a\n\n400;"), InvalidRequest),
    ("data-after-end", lambda b: b + b"extra", InvalidRequest),
    (
        "trailer-not-allowed",
        lambda b: b[:-2] + b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n",
        InvalidRequest,
    ),
    ("bare-lf-line", lambda b: replace_once(b, b"\r\n", b"\n"), InvalidRequest),
]


@pytest.mark.parametrize(
    ("breakage", "error"),
    [pytest.param(fn, err, id=name) for name, fn, err in SIGNED_BREAKAGES],
)
@pytest.mark.parametrize("read_size", [1, 4096, 1 << 20])
def test_broken_signed_bodies(
    breakage: Callable[[bytes], bytes], error: type[LadingError], read_size: int
) -> None:
    spec, body = aws_example(trailer=False)
    bad = breakage(body)
    with pytest.raises(error):
        decode(spec, bad, read_size, len(bad))


def test_signed_body_length_mismatches() -> None:
    spec, body = aws_example(trailer=False)
    with pytest.raises(IncompleteBody):
        decode(spec, body, 4096, len(body) + 1)
    with pytest.raises(IncompleteBody):
        decode(spec, body, 4096, len(body) - 1)
    short = dataclasses.replace(spec, decoded_length=66559)
    with pytest.raises(IncompleteBody):
        decode(short, body)
    long = dataclasses.replace(spec, decoded_length=70000)
    with pytest.raises(IncompleteBody):
        decode(long, body)
    assert decode(dataclasses.replace(spec, decoded_length=None), body, 999, None)[0]


SIGNED_TRAILER_BREAKAGES: list[tuple[str, Callable[[bytes], bytes], type[LadingError]]] = [
    ("trailer-value", lambda b: replace_once(b, b"sOO8/Q==", b"AAAAAA=="), SignatureDoesNotMatch),
    (
        "trailer-signature",
        lambda b: replace_once(b, b"d81f82fc", b"e81f82fc"),
        SignatureDoesNotMatch,
    ),
    (
        "no-trailer-signature",
        lambda b: re.sub(rb"x-amz-trailer-signature:[0-9a-f]+\r\n", b"", b),
        SignatureDoesNotMatch,
    ),
    (
        "undeclared-trailer",
        lambda b: replace_once(b, b"x-amz-checksum-crc32c:", b"x-amz-checksum-sha1:"),
        InvalidRequest,
    ),
    ("chunk-signature", lambda b: replace_once(b, b"1c1344b1", b"2c1344b1"), SignatureDoesNotMatch),
    ("truncated-trailer", lambda b: b[:-60], IncompleteBody),
    (
        "malformed-trailer",
        lambda b: replace_once(b, b"x-amz-checksum-crc32c:", b"x-amz"),
        InvalidRequest,
    ),
]


@pytest.mark.parametrize(
    ("breakage", "error"),
    [pytest.param(fn, err, id=name) for name, fn, err in SIGNED_TRAILER_BREAKAGES],
)
@pytest.mark.parametrize("read_size", [1, 65536])
def test_broken_signed_trailer_bodies(
    breakage: Callable[[bytes], bytes], error: type[LadingError], read_size: int
) -> None:
    spec, body = aws_example(trailer=True)
    bad = breakage(body)
    with pytest.raises(error):
        decode(spec, bad, read_size, len(bad))


def test_signed_trailer_tolerates_a_missing_final_crlf_and_an_extra_blank_line() -> None:
    spec, body = aws_example(trailer=True)
    assert body.endswith(b"\r\n\r\n")
    assert decode(spec, body[:-2])[1] == {"x-amz-checksum-crc32c": "sOO8/Q=="}
    marker = b"x-amz-checksum-crc32c:"
    blank = replace_once(body, marker, b"\r\n" + marker)
    assert decode(spec, blank, 1)[1] == {"x-amz-checksum-crc32c": "sOO8/Q=="}


# --- streaming requests signed by botocore -------------------------------------------------


@pytest.mark.parametrize(
    "sizes",
    [[], [1], [8192, 8192, 100], [65536] * 3 + [17], [3, 0 + 5, 1]],
)
@pytest.mark.parametrize("read_size", [1, 7, 65536])
def test_streaming_signed_roundtrip(sizes: list[int], read_size: int) -> None:
    data = random.Random(sum(sizes)).randbytes(sum(sizes))
    view = streaming_request("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", data)
    spec = check(view)
    assert spec.mode == "streaming-signed"
    key, seed, amz_date, scope = chain_params(view)
    assert spec.signing_key == key and spec.seed_signature == seed
    body = signed_chunks(data, sizes, key, seed, amz_date, scope)
    out, trailers, _ = decode(spec, body, read_size)
    assert out == data and trailers == {}


@pytest.mark.parametrize("read_size", [1, 13, 65536])
def test_streaming_signed_trailer_roundtrip(read_size: int) -> None:
    data = random.Random(5).randbytes(150_000)
    checksum = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    view = streaming_request(
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", data, "x-amz-checksum-crc32"
    )
    spec = check(view)
    key, seed, amz_date, scope = chain_params(view)
    body = signed_chunks(
        data,
        [65536, 65536, 18928],
        key,
        seed,
        amz_date,
        scope,
        [("x-amz-checksum-crc32", checksum)],
    )
    out, trailers, _ = decode(spec, body, read_size)
    assert out == data
    assert trailers == {"x-amz-checksum-crc32": checksum}


def test_streaming_signed_trailer_with_two_trailers_in_any_order() -> None:
    data = b"two trailers"
    names = "x-amz-checksum-sha256,x-amz-checksum-crc32"
    view = streaming_request("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", data, names)
    spec = check(view)
    key, seed, amz_date, scope = chain_params(view)
    trailers = [("x-amz-checksum-sha256", "c2hh"), ("x-amz-checksum-crc32", "Y3Jj")]
    for order in (trailers, sorted(trailers)):
        body = signed_chunks(data, [len(data)], key, seed, amz_date, scope, order)
        assert decode(spec, body)[1] == dict(trailers)


def test_streaming_signed_with_a_wrong_secret_fails_on_the_first_chunk() -> None:
    data = b"z" * 100
    view = streaming_request("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", data)
    spec = check(view)
    _, seed, amz_date, scope = chain_params(view)
    wrong_key = v4_signing_key("not the secret", amz_date[:8], REGION)
    body = signed_chunks(data, [100], wrong_key, seed, amz_date, scope)
    with pytest.raises(SignatureDoesNotMatch):
        decode(spec, body)


def test_streaming_signed_content_sha256_is_part_of_the_seed() -> None:
    view = streaming_request("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", b"x")
    forged = with_headers(view, x_amz_content_sha256="UNSIGNED-PAYLOAD")
    with pytest.raises(SignatureDoesNotMatch):
        check(forged)


# --- unsigned trailers (botocore's encoder) ------------------------------------------------


UNSIGNED_CASES = [
    (size, chunk_size, read_size)
    for size in [0, 1, 100, 65536, 200_001]
    for chunk_size in [1, 1000, 65536]
    for read_size in [1, 9, 65536, 1 << 20]
    # Byte-sized chunks or reads of big bodies only make the run slow.
    if not (chunk_size == 1 and size > 1000 or read_size == 1 and size > 70_000)
]


@pytest.mark.parametrize(("size", "chunk_size", "read_size"), UNSIGNED_CASES)
def test_unsigned_trailer_roundtrip(size: int, chunk_size: int, read_size: int) -> None:
    data = random.Random(size).randbytes(size)
    body = unsigned_chunks(data, chunk_size)
    spec = PayloadSpec(
        mode="streaming-unsigned-trailer",
        decoded_length=size,
        trailer_names=("x-amz-checksum-crc32",),
    )
    out, trailers, _ = decode(spec, body, read_size)
    assert out == data
    expected = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    assert trailers == {"x-amz-checksum-crc32": expected}


def test_unsigned_trailer_wrong_checksum_is_left_for_the_caller() -> None:
    data = b"hello world"
    body = unsigned_chunks(data, 4).replace(b"DUoRhQ==", b"AAAAAA==")
    spec = PayloadSpec(
        mode="streaming-unsigned-trailer",
        decoded_length=11,
        trailer_names=("x-amz-checksum-crc32",),
    )
    out, trailers, _ = decode(spec, body, 3)
    assert out == data
    assert trailers == {"x-amz-checksum-crc32": "AAAAAA=="}


UNSIGNED_BREAKAGES: list[tuple[str, Callable[[bytes], bytes], type[LadingError]]] = [
    ("truncated-data", lambda b: b[:10], IncompleteBody),
    ("no-final-chunk", lambda b: b[: b.index(b"0\r\nx-amz")], IncompleteBody),
    ("truncated-trailer", lambda b: b[:-8], IncompleteBody),
    ("missing-trailer", lambda b: b[: b.index(b"x-amz")] + b"\r\n", IncompleteBody),
    (
        "undeclared",
        lambda b: b.replace(b"x-amz-checksum-crc32:", b"x-amz-checksum-sha1:"),
        InvalidRequest,
    ),
    ("bad-size", lambda b: b"zz" + b[1:], InvalidRequest),
    ("bad-chunk-end", lambda b: b.replace(b"o\r\n", b"oXX", 1), InvalidRequest),
    ("data-after-end", lambda b: b + b"more", InvalidRequest),
    ("long-line", lambda b: b"4" + b" " * 5000 + b[1:], InvalidRequest),
]


@pytest.mark.parametrize(
    ("breakage", "error"),
    [pytest.param(fn, err, id=name) for name, fn, err in UNSIGNED_BREAKAGES],
)
@pytest.mark.parametrize("read_size", [1, 4096])
def test_broken_unsigned_trailer_bodies(
    breakage: Callable[[bytes], bytes], error: type[LadingError], read_size: int
) -> None:
    body = unsigned_chunks(b"hello world", 4)
    spec = PayloadSpec(
        mode="streaming-unsigned-trailer",
        decoded_length=11,
        trailer_names=("x-amz-checksum-crc32",),
    )
    bad = breakage(body)
    with pytest.raises(error):
        decode(spec, bad, read_size, len(bad))


def test_unsigned_trailer_length_checks() -> None:
    body = unsigned_chunks(b"hello world", 4)
    spec = PayloadSpec(
        mode="streaming-unsigned-trailer",
        decoded_length=12,
        trailer_names=("x-amz-checksum-crc32",),
    )
    with pytest.raises(IncompleteBody):
        decode(spec, body)
    ok = dataclasses.replace(spec, decoded_length=11)
    with pytest.raises(IncompleteBody):
        decode(ok, body, 100, len(body) + 5)


def test_decoder_does_not_buffer_big_chunks() -> None:
    data = random.Random(3).randbytes(8 << 20)
    body = unsigned_chunks(data, 8 << 20, CrtCrc64NvmeChecksum)
    spec = PayloadSpec(
        mode="streaming-unsigned-trailer",
        decoded_length=len(data),
        trailer_names=("x-amz-checksum-crc64nvme",),
    )
    decoder = BodyDecoder(spec, len(body))
    pieces: list[int] = []

    async def run() -> bytes:
        out = bytearray()
        async for piece in decoder.stream(_source(body, 64 * 1024)):
            pieces.append(len(piece))
            out += piece
        return bytes(out)

    assert asyncio.run(run()) == data
    assert max(pieces) <= 64 * 1024
    assert len(pieces) >= 128
    assert "x-amz-checksum-crc64nvme" in decoder.trailers


def test_big_signed_body_is_fast_enough() -> None:
    data = bytes(range(256)) * (96 * 1024)  # 24 MiB
    view = streaming_request("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", data)
    spec = check(view)
    key, seed, amz_date, scope = chain_params(view)
    body = signed_chunks(data, [8 << 20] * 3, key, seed, amz_date, scope)
    out, _, _ = decode(spec, body, 1 << 20)
    assert out == data


# --- whole botocore clients ----------------------------------------------------------------


class _Raw:
    """A fake urllib3 response body."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b""


def captured(
    endpoint: str, call: Callable[[Any], Any], config: Config | None = None
) -> tuple[RequestView, bytes]:
    """The request a real boto3 client sends for `call`, and its body."""
    seen: list[AWSPreparedRequest] = []

    def before_send(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        seen.append(request)
        return AWSResponse(request.url, 200, {"ETag": '"0"'}, _Raw())

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        config=config or Config(),
    )
    client.meta.events.register("before-send.s3", before_send)
    call(client)
    request = seen[-1]
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    return to_view(request), bytes(body or b"")


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
@pytest.mark.parametrize("read_size", [1, 5, 65536])
def test_boto3_https_put_object_streams_a_trailer(algorithm: str, read_size: int) -> None:
    data = b"hello world, " * 50
    view, body = captured(
        "https://s3.test.example",
        lambda c: c.put_object(
            Bucket="bucket", Key="dir/a b+ü", Body=data, ChecksumAlgorithm=algorithm
        ),
    )
    assert view.headers["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    spec = check(view)
    trailer = f"x-amz-checksum-{algorithm.lower()}"
    assert spec.mode == "streaming-unsigned-trailer"
    assert spec.trailer_names == (trailer,)
    out, trailers, _ = decode(spec, body, read_size, None)
    assert out == data
    assert set(trailers) == {trailer}


def test_boto3_http_put_object_signs_the_payload() -> None:
    data = b"plain http body"
    view, body = captured(
        ENDPOINT, lambda c: c.put_object(Bucket="bucket", Key="k~ey (1).txt", Body=data)
    )
    spec = check(view)
    assert spec == PayloadSpec(mode="plain", expected_sha256=hashlib.sha256(data).hexdigest())
    assert "x-amz-checksum-crc32" in view.headers
    assert decode(spec, body, 2)[0] == data


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda c: c.list_objects_v2(Bucket="bucket", Prefix="a b/ü+", Delimiter="/"),
            id="list-v2",
        ),
        pytest.param(lambda c: c.list_objects(Bucket="bucket", Marker="m=1&2"), id="list-v1"),
        pytest.param(lambda c: c.get_object(Bucket="bucket", Key="ü/ x?y#z"), id="get"),
        pytest.param(
            lambda c: c.get_object(Bucket="b", Key="k", Range="bytes=0-9", VersionId="v/1"),
            id="get-version",
        ),
        pytest.param(
            lambda c: c.delete_objects(
                Bucket="bucket", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]}
            ),
            id="delete-objects",
        ),
        pytest.param(lambda c: c.list_buckets(), id="list-buckets"),
        pytest.param(
            lambda c: c.copy_object(Bucket="b", Key="k2", CopySource={"Bucket": "b", "Key": "k 1"}),
            id="copy",
        ),
        pytest.param(
            lambda c: c.upload_part(
                Bucket="b", Key="k", UploadId="up/id+1", PartNumber=2, Body=b"part"
            ),
            id="upload-part",
        ),
        pytest.param(
            lambda c: c.put_object_tagging(
                Bucket="b", Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}
            ),
            id="tagging",
        ),
    ],
)
@pytest.mark.parametrize(
    ("endpoint", "config"),
    [
        pytest.param(ENDPOINT, None, id="path-http"),
        pytest.param("https://s3.test.example", None, id="https"),
        pytest.param(
            "https://s3.test.example",
            Config(s3={"addressing_style": "virtual"}),
            id="virtual",
        ),
    ],
)
def test_boto3_requests_verify(
    call: Callable[[Any], Any], endpoint: str, config: Config | None
) -> None:
    view, body = captured(endpoint, call, config)
    spec = check(view)
    data, _, _ = decode(spec, body, 3, None)
    if spec.mode == "plain":
        assert data == body


@pytest.mark.parametrize(
    ("config", "scheme"),
    [
        pytest.param(Config(), "v2-query", id="default"),
        pytest.param(Config(signature_version="s3v4"), "v4-query", id="s3v4"),
        pytest.param(Config(s3={"addressing_style": "virtual"}), "v2-query", id="default-virtual"),
        pytest.param(
            Config(signature_version="s3v4", s3={"addressing_style": "virtual"}),
            "v4-query",
            id="s3v4-virtual",
        ),
    ],
)
@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("get_object", {"Bucket": "bucket", "Key": "a b/ü+x"}),
        ("put_object", {"Bucket": "bucket", "Key": "up load"}),
        ("get_object", {"Bucket": "bucket", "Key": "k", "ResponseContentType": "text/csv"}),
    ],
)
def test_boto3_presigned_urls(
    config: Config, scheme: str, method: str, params: dict[str, str]
) -> None:
    client = boto3.client(
        "s3",
        endpoint_url="https://s3.test.example",
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        config=config,
    )
    url = client.generate_presigned_url(method, Params=params, ExpiresIn=600)
    split = urlsplit(url)
    headers = {"host": split.netloc}
    if method == "put_object":  # what urllib adds on its own
        headers["content-type"] = "application/x-www-form-urlencoded"
    view = RequestView("PUT" if method == "put_object" else "GET", split.path, split.query, headers)
    parsed = parse_auth(view)
    assert parsed is not None and parsed.scheme == scheme
    vhost = "bucket" if split.netloc.startswith("bucket.") else None
    check(view, virtual_host_bucket=vhost)
    with pytest.raises(RequestExpired):
        check(view, virtual_host_bucket=vhost, now=now() + timedelta(seconds=700))
    with pytest.raises(SignatureDoesNotMatch):
        check(dataclasses.replace(view, raw_path=split.path + "x"), virtual_host_bucket=vhost)


def test_quote_helper_matches_botocore_for_keys() -> None:
    # The raw paths used above are what botocore sends: RFC 3986 with "/" and "~" kept.
    assert quote("a b/ü+x", safe="/~") == "a%20b/%C3%BC%2Bx"
