"""A GET answers one whole version even while the key is overwritten, and the bytes an
overwrite replaced are deleted once GETs under way are done with them
(`storage.delete_delay_seconds`)."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from lading.testing.server import RunningServer, serving
from tests.conftest import INLINE_LIMIT, make_client, stored_blobs


@contextlib.contextmanager
def delaying_server(data_dir: Path, delay: float) -> Iterator[RunningServer]:
    env = {"LADING_STORAGE__DELETE_DELAY_SECONDS": str(delay)}
    with serving(data_dir, env=env, extra_args=["--workers", "2"]) as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with delaying_server(tmp_path_factory.mktemp("overwrites") / "data", delay=6) as server:
        yield server


@pytest.fixture(scope="module")
def s3(server: RunningServer) -> Any:
    return make_client(server.url, server.access_key, server.secret_key)


@pytest.mark.parametrize(
    ("size", "encrypted"),
    [(4096, False), (4096, True), (INLINE_LIMIT + 4096, False), (INLINE_LIMIT + 4096, True)],
    ids=["inline", "inline-encrypted", "file", "file-encrypted"],
)
def test_reads_during_overwrites_see_one_whole_version(s3: Any, size: int, encrypted: bool) -> None:
    """GETs that looked a version up just before an overwrite committed used to find its
    bytes gone (500 InternalError)."""
    bucket, overwrites = f"overwrites-{size}-{encrypted}".lower(), 100
    s3.create_bucket(Bucket=bucket)
    if encrypted:  # every object SSE-S3: its bytes are read through the decryptor
        rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})
    s3.put_object(Bucket=bucket, Key="k", Body=b"a" * size)
    url = urlsplit(s3.generate_presigned_url("get_object", {"Bucket": bucket, "Key": "k"}))
    target = f"{url.path}?{url.query}"
    writing = threading.Event()
    writing.set()
    answers: list[tuple[int, bytes]] = []
    failures: list[BaseException] = []

    def write(first: int) -> None:
        for n in range(first, first + overwrites):
            s3.put_object(Bucket=bucket, Key="k", Body=bytes([97 + n % 26]) * size)

    def read() -> None:
        connection = http.client.HTTPConnection(url.hostname or "", url.port)
        try:
            while writing.is_set():
                connection.request("GET", target)
                response = connection.getresponse()
                answers.append((response.status, response.read()))
        except Exception as exc:  # a body cut short, a connection dropped
            failures.append(exc)
        finally:
            connection.close()

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        writers = [threading.Thread(target=write, args=(n * 7,)) for n in range(2)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
    finally:
        writing.clear()
        for reader in readers:
            reader.join()

    assert failures == []
    refused = [(status, body[:200]) for status, body in answers if status != 200]
    assert refused == []
    torn = [body[:20] for _, body in answers if len(body) != size or len(set(body)) != 1]
    assert torn == []
    assert len({body[0] for _, body in answers}) > 1  # the reads overlapped the overwrites


def blob_files(server: RunningServer) -> set[Path]:
    return {path for path in (server.data_dir / "blobs").rglob("*") if path.is_file()}


def test_replaced_bytes_are_deleted_after_the_delay(server: RunningServer, s3: Any) -> None:
    s3.create_bucket(Bucket="delayed")
    body = b"x" * (INLINE_LIMIT + 1)  # a blob file
    files = blob_files(server)
    s3.put_object(Bucket="delayed", Key="k", Body=body)
    (first,) = blob_files(server) - files
    files = blob_files(server)
    s3.put_object(Bucket="delayed", Key="k", Body=body)
    (second,) = blob_files(server) - files
    # the first version's file waits out the delay (6 s) for GETs that may be reading it
    assert first.exists()
    deadline = time.monotonic() + 30
    while first.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not first.exists() and second.exists()
    assert s3.get_object(Bucket="delayed", Key="k")["Body"].read() == body


def test_a_clean_stop_deletes_what_it_held(tmp_path: Path) -> None:
    with delaying_server(tmp_path / "data", delay=3600) as server:
        s3 = make_client(server.url, server.access_key, server.secret_key)
        s3.create_bucket(Bucket="stopping")
        body = b"y" * (INLINE_LIMIT + 1)
        s3.put_object(Bucket="stopping", Key="k", Body=body)
        before = stored_blobs(server.data_dir)
        s3.put_object(Bucket="stopping", Key="k", Body=body)
        s3.delete_object(Bucket="stopping", Key="k")
        assert stored_blobs(server.data_dir) == (before[0] + 1, before[1])
        server.stop()  # SIGTERM: GETs are done, nothing needs the bytes any more
        assert stored_blobs(server.data_dir) == (before[0] - 1, before[1])


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
@pytest.mark.parametrize("operation", ["CopyObject", "UploadPartCopy"])
def test_copies_during_overwrites_copy_one_whole_version(
    s3: Any, operation: str, encrypted: bool
) -> None:
    """A copy whose small source was overwritten between its lookup and its read used to
    find the source's bytes gone (500 InternalError)."""
    bucket, size, overwrites = f"copies-{operation}-{encrypted}".lower(), 4096, 300
    s3.create_bucket(Bucket=bucket)
    if encrypted:
        rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})
    versions = {bytes([97 + n]) * size for n in range(26)}
    etags = {f'"{hashlib.md5(body).hexdigest()}"': body for body in versions}
    s3.put_object(Bucket=bucket, Key="k", Body=b"a" * size)
    source = {"Bucket": bucket, "Key": "k"}
    upload = s3.create_multipart_upload(Bucket=bucket, Key="parts")["UploadId"]
    writing = threading.Event()
    writing.set()
    copied: list[str] = []
    failures: list[BaseException] = []

    def write() -> None:
        for n in range(overwrites):
            s3.put_object(Bucket=bucket, Key="k", Body=bytes([97 + n % 26]) * size)

    def copy(reader: int) -> None:
        try:
            while writing.is_set():
                if operation == "CopyObject":
                    key = f"copy-{reader}"
                    answer = s3.copy_object(Bucket=bucket, Key=key, CopySource=source)
                    etag = answer["CopyObjectResult"]["ETag"]
                    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                    assert body == etags.get(etag), "the copy is not the version it names"
                else:
                    answer = s3.upload_part_copy(
                        Bucket=bucket,
                        Key="parts",
                        UploadId=upload,
                        PartNumber=reader + 1,
                        CopySource=source,
                    )
                    etag = answer["CopyPartResult"]["ETag"]
                copied.append(etag)
        except Exception as exc:
            failures.append(exc)

    copiers = [threading.Thread(target=copy, args=(n,)) for n in range(2)]
    for copier in copiers:
        copier.start()
    try:
        write()
    finally:
        writing.clear()
        for copier in copiers:
            copier.join()

    assert failures == []
    assert set(copied) <= set(etags)
    assert len(set(copied)) > 1  # the copies overlapped the overwrites
