"""Server-side encryption (SSE-S3 and SSE-C) through real boto3."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lading.testing.server import RunningServer, run_server
from tests.conftest import empty_bucket, make_client, new_bucket_name

PATTERN = b"LADING-PLAINTEXT-MARKER-"
SIZE = 300 * 1024 + 123  # spans several 64 KiB chunks, the last one partial


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def status_of(exc: pytest.ExceptionInfo[ClientError]) -> int:
    return int(exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


def patterned(size: int) -> bytes:
    """Distinctive bytes whose every position differs from its neighbours' chunk."""
    line = PATTERN + b"0123456789abcdef"
    data = b"".join(line + str(i).encode() + b"\n" for i in range(size // len(line) + 1))
    return data[:size]


def sse_c(key: bytes, prefix: str = "SSECustomer") -> dict[str, str]:
    """boto3 parameters of an SSE-C key (boto3 adds the key's MD5 itself)."""
    return {f"{prefix}Algorithm": "AES256", f"{prefix}Key": key}  # type: ignore[dict-item]


def stored_bytes(data_dir: Path) -> Iterator[tuple[str, bytes]]:
    """Every blob the server keeps: files, and inline blobs in its database (small objects)."""
    for path in (data_dir / "blobs").rglob("*"):
        if path.is_file():
            yield str(path), path.read_bytes()
    with contextlib.closing(sqlite3.connect(data_dir / "metadata.db")) as db:
        yield from db.execute("SELECT blob_id, data FROM inline_blobs")


def plaintext_blobs(data_dir: Path, marker: bytes = PATTERN) -> list[str]:
    return [name for name, data in stored_bytes(data_dir) if marker in data]


# --- SSE-S3 ----------------------------------------------------------------------------------


def test_sse_s3_round_trip_answers_headers_and_keeps_plaintext_etag(s3: Any, bucket: str) -> None:
    data = patterned(SIZE)
    put = s3.put_object(Bucket=bucket, Key="k", Body=data, ServerSideEncryption="AES256")
    assert put["ServerSideEncryption"] == "AES256"
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["ServerSideEncryption"] == "AES256"
    assert got["Body"].read() == data
    assert got["ContentLength"] == SIZE
    head = s3.head_object(Bucket=bucket, Key="k")
    assert (head["ServerSideEncryption"], head["ContentLength"]) == ("AES256", SIZE)
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert (listed[0]["Size"], listed[0]["ETag"]) == (SIZE, put["ETag"])


@pytest.mark.parametrize("size", [0, 1, 65536, 65537])
def test_sse_s3_small_and_boundary_sizes(s3: Any, bucket: str, size: int) -> None:
    data = os.urandom(size)
    s3.put_object(Bucket=bucket, Key="k", Body=data, ServerSideEncryption="AES256")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == data


@pytest.mark.parametrize(
    "spec",
    [
        (0, 0),
        (65535, 65536),  # the last byte of one chunk and the first of the next
        (65530, 131080),  # across two boundaries
        (100, 200),
        (196608, SIZE - 1),  # from a boundary to the end (short last chunk)
        (SIZE - 1, SIZE - 1),
        (0, SIZE - 1),
    ],
)
def test_sse_s3_range_gets_across_chunk_boundaries(
    s3: Any, bucket: str, spec: tuple[int, int]
) -> None:
    data = patterned(SIZE)
    s3.put_object(Bucket=bucket, Key="k", Body=data, ServerSideEncryption="AES256")
    start, end = spec
    got = s3.get_object(Bucket=bucket, Key="k", Range=f"bytes={start}-{end}")
    assert got["Body"].read() == data[start : end + 1]
    assert got["ContentRange"] == f"bytes {start}-{end}/{SIZE}"


def test_sse_s3_suffix_range(s3: Any, bucket: str) -> None:
    data = patterned(SIZE)
    s3.put_object(Bucket=bucket, Key="k", Body=data, ServerSideEncryption="AES256")
    got = s3.get_object(Bucket=bucket, Key="k", Range="bytes=-70000")
    assert got["Body"].read() == data[-70000:]


def test_no_plaintext_reaches_the_blob_files(server: RunningServer, s3: Any, bucket: str) -> None:
    marker = b"UNIQUE-" + os.urandom(8).hex().encode() + b"-"
    data = b"".join(marker + str(i).encode() for i in range(20000))
    s3.put_object(Bucket=bucket, Key="enc", Body=data, ServerSideEncryption="AES256")
    assert s3.get_object(Bucket=bucket, Key="enc")["Body"].read() == data
    assert plaintext_blobs(server.data_dir, marker) == []
    # the check itself sees plaintext when there is some, in a file or inline
    s3.put_object(Bucket=bucket, Key="plain", Body=data)
    s3.put_object(Bucket=bucket, Key="small", Body=data[:1000])
    assert len(plaintext_blobs(server.data_dir, marker)) == 2
    s3.delete_object(Bucket=bucket, Key="plain")
    s3.delete_object(Bucket=bucket, Key="small")


def test_master_key_is_generated_private_in_the_data_directory(server: RunningServer) -> None:
    path = server.data_dir / "encryption-keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert len(base64.b64decode(saved["keys"][saved["active"]])) == 32


def test_bucket_default_encryption_encrypts_plain_puts(
    server: RunningServer, s3: Any, bucket: str
) -> None:
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    marker = b"DEFAULT-" + os.urandom(8).hex().encode()
    data = marker * 1000
    put = s3.put_object(Bucket=bucket, Key="k", Body=data)
    assert put["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == data
    assert plaintext_blobs(server.data_dir, marker) == []


def test_plain_object_has_no_encryption_header(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert "ServerSideEncryption" not in s3.head_object(Bucket=bucket, Key="k")


def test_unknown_algorithm_is_invalid_argument(s3: Any, bucket: str) -> None:
    def bogus(request: Any, **_: Any) -> None:
        request.headers["x-amz-server-side-encryption"] = "bogus"

    s3.meta.events.register_first("before-sign.s3.PutObject", bogus)
    try:
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    finally:
        s3.meta.events.unregister("before-sign.s3.PutObject", bogus)
    assert (code_of(exc), status_of(exc)) == ("InvalidArgument", 400)


def test_kms_without_configured_keys_is_refused(s3: Any, bucket: str) -> None:
    # this server has no KMS keys: naming one is an invalid key, naming none a missing header
    with pytest.raises(ClientError) as exc:
        s3.put_object(
            Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId="k1"
        )
    assert (code_of(exc), status_of(exc)) == ("InvalidArgument", 400)
    assert "k1" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms")
    assert (code_of(exc), status_of(exc)) == ("InvalidArgument", 400)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


# --- SSE-C -----------------------------------------------------------------------------------


@pytest.fixture
def key() -> bytes:
    return os.urandom(32)


def test_sse_c_round_trip_and_headers(
    server: RunningServer, s3: Any, bucket: str, key: bytes
) -> None:
    data = patterned(SIZE)
    md5 = base64.b64encode(hashlib.md5(key).digest()).decode()
    put = s3.put_object(Bucket=bucket, Key="k", Body=data, **sse_c(key))
    assert (put["SSECustomerAlgorithm"], put["SSECustomerKeyMD5"]) == ("AES256", md5)
    got = s3.get_object(Bucket=bucket, Key="k", **sse_c(key))
    assert got["Body"].read() == data
    assert (got["SSECustomerAlgorithm"], got["SSECustomerKeyMD5"]) == ("AES256", md5)
    ranged = s3.get_object(Bucket=bucket, Key="k", Range="bytes=65000-140000", **sse_c(key))
    assert ranged["Body"].read() == data[65000:140001]
    head = s3.head_object(Bucket=bucket, Key="k", **sse_c(key))
    assert head["ContentLength"] == SIZE
    assert "key" not in json.dumps(head, default=str).lower() or md5 in str(head)


def test_sse_c_get_without_key_is_refused(s3: Any, bucket: str, key: bytes) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret", **sse_c(key))
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k")
    assert (code_of(exc), status_of(exc)) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="k")
    assert status_of(exc) == 400


def test_sse_c_get_with_wrong_key_is_denied(s3: Any, bucket: str, key: bytes) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret", **sse_c(key))
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k", **sse_c(os.urandom(32)))
    assert (code_of(exc), status_of(exc)) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="k", **sse_c(os.urandom(32)))
    assert status_of(exc) == 403


def test_sse_c_key_of_wrong_length_is_invalid_argument(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", **sse_c(os.urandom(16)))
    assert (code_of(exc), status_of(exc)) == ("InvalidArgument", 400)


def test_sse_c_blob_holds_no_plaintext(
    server: RunningServer, s3: Any, bucket: str, key: bytes
) -> None:
    marker = b"SSEC-" + os.urandom(8).hex().encode()
    s3.put_object(Bucket=bucket, Key="k", Body=marker * 500, **sse_c(key))
    assert plaintext_blobs(server.data_dir, marker) == []


# --- copies ----------------------------------------------------------------------------------


def test_copy_of_sse_s3_object_stays_encrypted(s3: Any, bucket: str) -> None:
    data = patterned(SIZE)
    s3.put_object(Bucket=bucket, Key="src", Body=data, ServerSideEncryption="AES256")
    copied = s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource={"Bucket": bucket, "Key": "src"},
        ServerSideEncryption="AES256",
    )
    assert copied["ServerSideEncryption"] == "AES256"
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert (got["ServerSideEncryption"], got["Body"].read()) == ("AES256", data)
    s3.delete_object(Bucket=bucket, Key="src")  # the copy does not depend on the source
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == data


def test_copy_of_encrypted_object_to_plaintext(server: RunningServer, s3: Any, bucket: str) -> None:
    data = patterned(SIZE)
    s3.put_object(Bucket=bucket, Key="src", Body=data, ServerSideEncryption="AES256")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert "ServerSideEncryption" not in got
    assert got["Body"].read() == data


def test_copy_of_plain_object_to_sse_s3(server: RunningServer, s3: Any, bucket: str) -> None:
    data = patterned(1000)
    s3.put_object(Bucket=bucket, Key="src", Body=data)
    s3.copy_object(
        Bucket=bucket,
        Key="src",
        CopySource={"Bucket": bucket, "Key": "src"},
        ServerSideEncryption="AES256",
    )  # in place: encrypting is a change S3 allows
    got = s3.get_object(Bucket=bucket, Key="src")
    assert (got["ServerSideEncryption"], got["Body"].read()) == ("AES256", data)


def test_copy_between_sse_c_keys(s3: Any, bucket: str, key: bytes) -> None:
    data = patterned(SIZE)
    other = os.urandom(32)
    s3.put_object(Bucket=bucket, Key="src", Body=data, **sse_c(key))
    source = {"Bucket": bucket, "Key": "src"}
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, **sse_c(other))
    assert status_of(exc) == 400
    s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource=source,
        **sse_c(other),
        **sse_c(key, "CopySourceSSECustomer"),
    )
    assert s3.get_object(Bucket=bucket, Key="dst", **sse_c(other))["Body"].read() == data
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="dst", **sse_c(key))
    assert status_of(exc) == 403
    s3.copy_object(
        Bucket=bucket,
        Key="sse-s3",
        CopySource=source,
        ServerSideEncryption="AES256",
        **sse_c(key, "CopySourceSSECustomer"),
    )
    got = s3.get_object(Bucket=bucket, Key="sse-s3")
    assert (got["ServerSideEncryption"], got["Body"].read()) == ("AES256", data)


# --- multipart -------------------------------------------------------------------------------


def _multipart(s3: Any, bucket: str, key: str, parts: list[bytes], **extra: Any) -> dict[str, Any]:
    create = s3.create_multipart_upload(Bucket=bucket, Key=key, **extra)
    upload_id = create["UploadId"]
    part_extra = {k: v for k, v in extra.items() if k.startswith("SSECustomer")}
    done = []
    for number, body in enumerate(parts, 1):
        part = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body, **part_extra
        )
        done.append({"PartNumber": number, "ETag": part["ETag"]})
    completed: dict[str, Any] = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    completed["create"] = create
    return completed


def test_multipart_sse_s3(server: RunningServer, s3: Any, bucket: str) -> None:
    marker = b"MPU-" + os.urandom(8).hex().encode()
    first = (marker * (5 * 1024 * 1024 // len(marker) + 1))[: 5 * 1024 * 1024]
    second = marker * 5000
    data = first + second
    done = _multipart(s3, bucket, "mp", [first, second], ServerSideEncryption="AES256")
    assert done["create"]["ServerSideEncryption"] == "AES256"
    assert done["ServerSideEncryption"] == "AES256"
    got = s3.get_object(Bucket=bucket, Key="mp")
    assert (got["ServerSideEncryption"], got["Body"].read()) == ("AES256", data)
    edge = len(first)
    ranged = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={edge - 70000}-{edge + 70000}")
    assert ranged["Body"].read() == data[edge - 70000 : edge + 70001]
    part2 = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert part2["Body"].read() == second
    assert plaintext_blobs(server.data_dir, marker) == []
    s3.copy_object(Bucket=bucket, Key="mp-copy", CopySource={"Bucket": bucket, "Key": "mp"})
    assert s3.get_object(Bucket=bucket, Key="mp-copy")["Body"].read() == data


def test_multipart_sse_c_needs_the_key_on_every_part(s3: Any, bucket: str, key: bytes) -> None:
    data = os.urandom(5 * 1024 * 1024), os.urandom(1000)
    _multipart(s3, bucket, "mp", list(data), **sse_c(key))
    got = s3.get_object(Bucket=bucket, Key="mp", **sse_c(key))
    assert got["Body"].read() == b"".join(data)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="mp")
    assert status_of(exc) == 400
    upload = s3.create_multipart_upload(Bucket=bucket, Key="other", **sse_c(key))["UploadId"]
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="other", UploadId=upload, PartNumber=1, Body=b"x")
    assert status_of(exc) == 400
    with pytest.raises(ClientError) as exc:
        s3.upload_part(
            Bucket=bucket,
            Key="other",
            UploadId=upload,
            PartNumber=1,
            Body=b"x",
            **sse_c(os.urandom(32)),
        )
    assert status_of(exc) == 400


def test_multipart_in_bucket_with_default_encryption(s3: Any, bucket: str) -> None:
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    done = _multipart(s3, bucket, "mp", [b"only part"])
    assert done["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"only part"


# --- master key rotation ---------------------------------------------------------------------


@pytest.fixture
def rotating(tmp_path: Path) -> Iterator[RunningServer]:
    k1 = base64.b64encode(os.urandom(32)).decode()
    running = run_server(tmp_path / "data", env={"LADING_ENCRYPTION_KEYS": json.dumps({"k1": k1})})
    yield running
    running.kill()


def test_rotation_keeps_old_objects_readable(rotating: RunningServer) -> None:
    client = make_client(rotating.url, rotating.access_key, rotating.secret_key)
    name = new_bucket_name()
    client.create_bucket(Bucket=name)
    old = patterned(SIZE)
    client.put_object(Bucket=name, Key="old", Body=old, ServerSideEncryption="AES256")
    assert not (rotating.data_dir / "encryption-keys.json").exists()  # keys were configured

    keys = json.loads(rotating.env["LADING_ENCRYPTION_KEYS"])
    keys["k2"] = base64.b64encode(os.urandom(32)).decode()
    rotating.env["LADING_ENCRYPTION_KEYS"] = json.dumps(keys)
    rotating.env["LADING_ENCRYPTION_ACTIVE_KEY"] = "k2"
    rotating.restart()

    assert client.get_object(Bucket=name, Key="old")["Body"].read() == old
    client.put_object(Bucket=name, Key="new", Body=b"new", ServerSideEncryption="AES256")
    assert client.get_object(Bucket=name, Key="new")["Body"].read() == b"new"

    # without k1 the old object no longer opens, the new one still does
    rotating.env["LADING_ENCRYPTION_KEYS"] = json.dumps({"k2": keys["k2"]})
    rotating.restart()
    assert client.get_object(Bucket=name, Key="new")["Body"].read() == b"new"
    with pytest.raises(ClientError):
        client.get_object(Bucket=name, Key="old")
    empty_bucket(client, name)
