"""Authentication on the wire against a real server: signatures, presigned URLs, streaming bodies.

Requests are signed by botocore's own signers; aws-chunked bodies are framed as the AWS
documentation describes, so that a tampered chunk or trailer can be sent on purpose.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SIGV4_TIMESTAMP, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from lading.testing.server import RunningServer, run_server
from tests.conftest import empty_bucket, half_written, make_client, new_bucket_name

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


class ClockedSigner(S3SigV4Auth):
    """botocore's S3 SigV4 signer with a chosen clock and payload mode."""

    def __init__(self, creds: Credentials, when: dt.datetime, payload: str | None = None) -> None:
        super().__init__(creds, "s3", "us-east-1")
        self.when = when
        self.payload_mode = payload

    def payload(self, request: Any) -> str:
        return self.payload_mode or str(super().payload(request))

    def add_auth(self, request: Any) -> None:
        request.context["timestamp"] = self.when.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        signature = self.signature(self.string_to_sign(request, canonical), request)
        self._inject_signature_to_request(request, signature)
        self.last_signature = signature


def send(url: str, request: AWSRequest) -> tuple[int, bytes]:
    """Send a prepared request with http.client; returns (status, body)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    path = urlsplit(request.url).path + (
        "?" + urlsplit(request.url).query if urlsplit(request.url).query else ""
    )
    headers = {name: value.encode("utf-8") for name, value in request.headers.items()}
    conn.request(request.method, path, body=request.body, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


def signed_request(
    server: RunningServer,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    when: dt.datetime | None = None,
    secret: str | None = None,
    payload: str | None = None,
) -> tuple[AWSRequest, ClockedSigner]:
    request = AWSRequest(method=method, url=f"{server.url}{path}", data=body, headers=headers or {})
    creds = Credentials(server.access_key, secret or server.secret_key)
    signer = ClockedSigner(creds, when or dt.datetime.now(dt.UTC), payload)
    signer.add_auth(request)
    return request, signer


def test_wrong_secret_is_signature_does_not_match(server: RunningServer, bucket: str) -> None:
    bad = make_client(server.url, server.access_key, "not-the-secret")
    with pytest.raises(ClientError) as exc:
        bad.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert code_of(exc) == "SignatureDoesNotMatch"


def test_unknown_access_key_is_invalid_access_key_id(server: RunningServer, bucket: str) -> None:
    bad = make_client(server.url, "NOSUCHKEY", "whatever")
    with pytest.raises(ClientError) as exc:
        bad.list_objects_v2(Bucket=bucket)
    assert code_of(exc) == "InvalidAccessKeyId"


@pytest.mark.parametrize("minutes", [-20, 20])
def test_request_time_skew_over_15_minutes_is_refused(
    server: RunningServer, bucket: str, minutes: int
) -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    request, _ = signed_request(server, "GET", f"/{bucket}?list-type=2", when=when)
    status, body = send(server.url, request)
    assert status == 403 and b"<Code>RequestTimeTooSkewed</Code>" in body


def test_tampered_signed_payload_is_refused(server: RunningServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"original")
    request, _ = signed_request(
        server,
        "PUT",
        f"/{bucket}/k",
        body=b"signed body",
        payload=hashlib.sha256(b"signed body").hexdigest(),
    )
    request.data = b"forged body"
    status, body = send(server.url, request)
    assert status == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in body
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"original"


@pytest.fixture(params=["s3v4", "s3"])
def presigner(request: pytest.FixtureRequest, server: RunningServer) -> Any:
    """Presigning clients: SigV4 on request, and boto3's default (SigV2) for custom endpoints."""
    if request.param == "s3v4":
        return make_client(
            server.url, server.access_key, server.secret_key, signature_version="s3v4"
        )
    return boto3.client(
        "s3",
        endpoint_url=server.url,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
    )


def test_presigned_get_and_put(presigner: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="shared", Body=b"for a colleague")
    url = presigner.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared"}, ExpiresIn=86400
    )
    with urllib.request.urlopen(url) as resp:
        assert resp.read() == b"for a colleague"
    put_url = presigner.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "uploaded"}, ExpiresIn=600
    )
    # urllib adds a form Content-Type the URL was not signed with: it must not matter
    with urllib.request.urlopen(urllib.request.Request(put_url, data=b"dropped", method="PUT")):
        pass
    assert s3.get_object(Bucket=bucket, Key="uploaded")["Body"].read() == b"dropped"


def test_presigned_url_expires(presigner: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="shared", Body=b"x")
    url = presigner.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared"}, ExpiresIn=1
    )
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(url)
    assert exc.value.code == 403
    assert b"<Code>AccessDenied</Code>" in exc.value.read()


@pytest.mark.parametrize("what", ["signature", "key", "expiry"])
def test_tampered_presigned_url_is_refused(presigner: Any, s3: Any, bucket: str, what: str) -> None:
    s3.put_object(Bucket=bucket, Key="shared", Body=b"x")
    s3.put_object(Bucket=bucket, Key="other", Body=b"y")
    url = presigner.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared"}, ExpiresIn=600
    )
    if what == "signature":
        marker = "X-Amz-Signature=" if "X-Amz-Signature=" in url else "Signature="
        head, _, tail = url.partition(marker)
        url = head + marker + ("0" if tail[0] != "0" else "1") + tail[1:]
    elif what == "key":
        url = url.replace("/shared?", "/other?")
    else:
        url = url.replace("X-Amz-Expires=600", "X-Amz-Expires=6000")
        if "Expires=" in url and "X-Amz-Expires" not in url:
            head, _, tail = url.partition("Expires=")
            url = (
                head
                + "Expires="
                + str(int(tail.split("&")[0]) + 1000)
                + "&"
                + tail.partition("&")[2]
            )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(url)
    assert exc.value.code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in exc.value.read()


# --- aws-chunked bodies --------------------------------------------------------------------


def _chunk_signature(key: bytes, amz_date: str, scope: str, previous: str, data: bytes) -> str:
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256-PAYLOAD",
            amz_date,
            scope,
            previous,
            EMPTY_SHA256,
            hashlib.sha256(data).hexdigest(),
        ]
    )
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _signing_key(secret: str, date: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signed_streaming_put(
    server: RunningServer, path: str, data: bytes, chunk: int, *, tamper: int | None = None
) -> tuple[int, bytes]:
    """PUT with STREAMING-AWS4-HMAC-SHA256-PAYLOAD; `tamper` breaks that chunk's signature."""
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] + [b""]
    framed_length = sum(len(f"{len(p):x};chunk-signature=") + 64 + 4 + len(p) for p in pieces)
    when = dt.datetime.now(dt.UTC)
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data)),
        "Content-Length": str(framed_length),
    }
    request, signer = signed_request(
        server,
        "PUT",
        path,
        headers=headers,
        when=when,
        payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    )
    amz_date = when.strftime(SIGV4_TIMESTAMP)
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    key = _signing_key(server.secret_key, amz_date[:8])
    previous = signer.last_signature
    body = b""
    for index, piece in enumerate(pieces):
        signature = _chunk_signature(key, amz_date, scope, previous, piece)
        previous = signature
        sent = ("0" * 64) if index == tamper else signature
        body += f"{len(piece):x};chunk-signature={sent}\r\n".encode() + piece + b"\r\n"
    request.data = body
    return send(server.url, request)


def test_signed_chunked_upload_is_stored_without_framing(
    server: RunningServer, s3: Any, bucket: str
) -> None:
    data = bytes(range(256)) * 400  # 102,400 bytes in 64 KiB chunks
    status, _ = signed_streaming_put(server, f"/{bucket}/chunked", data, 65536)
    assert status == 200
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == data


@pytest.mark.parametrize("tamper", [0, 1, 2])
def test_tampered_chunk_signature_is_refused_and_nothing_changes(
    server: RunningServer, s3: Any, bucket: str, tamper: int
) -> None:
    s3.put_object(Bucket=bucket, Key="chunked", Body=b"original")
    status, body = signed_streaming_put(
        server, f"/{bucket}/chunked", b"z" * 150_000, 65536, tamper=tamper
    )
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == b"original"


def unsigned_trailer_put(
    server: RunningServer, path: str, data: bytes, crc: int
) -> tuple[int, bytes]:
    """PUT with STREAMING-UNSIGNED-PAYLOAD-TRAILER carrying x-amz-checksum-crc32 = crc."""
    trailer = base64.b64encode(crc.to_bytes(4, "big")).decode()
    body = (
        f"{len(data):x}\r\n".encode()
        + data
        + b"\r\n0\r\n"
        + f"x-amz-checksum-crc32:{trailer}\r\n\r\n".encode()
    )
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data)),
        "X-Amz-Trailer": "x-amz-checksum-crc32",
        "Content-Length": str(len(body)),
    }
    request, _ = signed_request(
        server, "PUT", path, headers=headers, payload="STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    )
    request.data = body
    return send(server.url, request)


def test_checksum_trailer_is_verified(server: RunningServer, s3: Any, bucket: str) -> None:
    data = b"trailing checksum"
    status, _ = unsigned_trailer_put(server, f"/{bucket}/t", data, zlib.crc32(data))
    assert status == 200
    head = s3.head_object(Bucket=bucket, Key="t", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    status, body = unsigned_trailer_put(server, f"/{bucket}/t", b"other bytes", zlib.crc32(data))
    assert status == 400 and b"<Code>BadDigest</Code>" in body
    assert s3.get_object(Bucket=bucket, Key="t")["Body"].read() == data


# --- boto3 over TLS: aws-chunked with trailing checksums, as boto3 >= 1.36 sends ----------


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Path]]:
    import trustme

    home = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_path, key_path, ca_path = home / "cert.pem", home / "key.pem", home / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    ca.cert_pem.write_to_path(str(ca_path))
    running = run_server(home / "data", tls=(cert_path, key_path))
    yield running, ca_path
    running.kill()


@pytest.mark.parametrize("size", [0, 1, 100_000, 9 * 1024 * 1024])
@pytest.mark.parametrize("algorithm", [None, "CRC32C", "CRC64NVME", "SHA256"])
def test_boto3_over_https_sends_trailers_and_bytes_stay_exact(
    tls_server: tuple[RunningServer, Path], size: int, algorithm: str | None
) -> None:
    server, ca_path = tls_server
    client = make_client(server.url, server.access_key, server.secret_key, verify=str(ca_path))
    name = new_bucket_name()
    client.create_bucket(Bucket=name)
    try:
        data = (b"0123456789abcdef" * (size // 16 + 1))[:size]
        extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
        put = client.put_object(Bucket=name, Key="k", Body=data, **extra)
        assert client.get_object(Bucket=name, Key="k")["Body"].read() == data
        head = client.head_object(Bucket=name, Key="k", ChecksumMode="ENABLED")
        assert head["ContentLength"] == size
        algo = algorithm or "CRC32"
        assert head[f"Checksum{algo}"] == put[f"Checksum{algo}"]
    finally:
        empty_bucket(client, name)


def test_boto3_multipart_over_https(tls_server: tuple[RunningServer, Path]) -> None:
    import io
    import os

    from boto3.s3.transfer import TransferConfig

    server, ca_path = tls_server
    client = make_client(server.url, server.access_key, server.secret_key, verify=str(ca_path))
    name = new_bucket_name()
    client.create_bucket(Bucket=name)
    try:
        data = os.urandom(17 * 1024 * 1024)
        config = TransferConfig(
            multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024
        )
        client.upload_fileobj(io.BytesIO(data), name, "mp", Config=config)
        assert client.get_object(Bucket=name, Key="mp")["Body"].read() == data
    finally:
        empty_bucket(client, name)


def test_plain_http_client_with_when_required_checksums(s3_when_required: Any, bucket: str) -> None:
    s3_when_required.put_object(Bucket=bucket, Key="k", Body=b"no checksum sent")
    got = s3_when_required.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"no checksum sent"
    unused = Config  # the fixture configures botocore.config.Config for this leg
    assert unused is not None


def test_sigv2_header_signed_client(server: RunningServer, bucket: str) -> None:
    v2 = make_client(server.url, server.access_key, server.secret_key, signature_version="s3")
    v2.put_object(Bucket=bucket, Key="v2/key with space", Body=b"signed the old way")
    assert (
        v2.get_object(Bucket=bucket, Key="v2/key with space")["Body"].read()
        == b"signed the old way"
    )
    assert [o["Key"] for o in v2.list_objects(Bucket=bucket, Prefix="v2/")["Contents"]] == [
        "v2/key with space"
    ]
    bad = make_client(server.url, server.access_key, "wrong", signature_version="s3")
    with pytest.raises(ClientError) as exc:
        bad.get_object(Bucket=bucket, Key="v2/key with space")
    assert code_of(exc) == "SignatureDoesNotMatch"


def test_put_larger_than_5_gib_is_refused_before_the_body(
    server: RunningServer, bucket: str
) -> None:
    request, _ = signed_request(
        server,
        "PUT",
        f"/{bucket}/huge",
        headers={"Content-Length": str(5 * 1024**3 + 1)},
        payload="UNSIGNED-PAYLOAD",
    )
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    conn.putrequest("PUT", f"/{bucket}/huge", skip_accept_encoding=True)
    for name, value in request.headers.items():
        conn.putheader(name, value)
    conn.endheaders()  # announce 5 GiB + 1 and send none of it
    response = conn.getresponse()
    body = response.read()
    assert response.status == 400 and b"<Code>EntityTooLarge</Code>" in body
    assert response.getheader("connection") == "close"
    conn.close()


@pytest.mark.parametrize(
    ("declared", "sent"),
    [
        (1024 * 1024, 100_000),  # within the first batch, nothing written yet
        (64 * 1024 * 1024, 9 * 1024 * 1024 + 5),  # batches being written and hashed
    ],
    ids=["first-batch", "mid-stream"],
)
def test_client_hanging_up_mid_body_stores_nothing(
    server: RunningServer, s3: Any, bucket: str, declared: int, sent: int
) -> None:
    import socket

    request, _ = signed_request(
        server,
        "PUT",
        f"/{bucket}/cut",
        headers={"Content-Length": str(declared)},
        payload="UNSIGNED-PAYLOAD",
    )
    parts = urlsplit(server.url)
    head = f"PUT /{bucket}/cut HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in request.headers.items())
    errors_before = server.log().count("unhandled error")
    with socket.create_connection((parts.hostname or "", parts.port or 80)) as sock:
        sock.sendall(head.encode() + b"\r\n" + b"x" * sent)
    deadline = time.monotonic() + 10
    while half_written(server.data_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not half_written(server.data_dir), "a half-written blob was left behind"
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="cut")
    assert exc.value.response["Error"]["Code"] == "404"
    assert server.log().count("unhandled error") == errors_before


def test_utf8_metadata_is_signed_stored_and_returned_rfc2047(
    server: RunningServer, s3: Any, bucket: str
) -> None:
    import email.header

    value = "Clermont-Ferrand, Auvergne ü 日本"
    request, _ = signed_request(
        server,
        "PUT",
        f"/{bucket}/u",
        body=b"x",
        headers={"x-amz-meta-site": value},
        payload=hashlib.sha256(b"x").hexdigest(),
    )
    status, body = send(server.url, request)
    assert status == 200, body
    returned = s3.head_object(Bucket=bucket, Key="u")["Metadata"]["site"]
    decoded = "".join(
        part.decode(charset or "ascii") if isinstance(part, bytes) else part
        for part, charset in email.header.decode_header(returned)
    )
    assert decoded == value
