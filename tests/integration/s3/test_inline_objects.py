"""Small objects live in the metadata database (inline blobs): every S3 path must see them as
objects like any other, and nothing may leak or vanish when they are copied, overwritten,
versioned or deleted."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from lading.testing.server import serving
from tests.conftest import INLINE_LIMIT, make_client, stored_blobs


def test_reads_of_an_inline_object_match_a_file_object(s3: Any, bucket: str) -> None:
    for key, size in (("small", 1000), ("large", INLINE_LIMIT + 1000)):
        data = os.urandom(size)
        s3.put_object(Bucket=bucket, Key=key, Body=data)
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
        got = s3.get_object(Bucket=bucket, Key=key, Range="bytes=10-19")
        assert (got["Body"].read(), got["ContentRange"]) == (data[10:20], f"bytes 10-19/{size}")
        assert s3.get_object(Bucket=bucket, Key=key, Range="bytes=-7")["Body"].read() == data[-7:]
        part = s3.get_object(Bucket=bucket, Key=key, PartNumber=1)
        assert part["Body"].read() == data
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == size


def test_a_copy_of_an_inline_object_outlives_its_source(server: Any, s3: Any, bucket: str) -> None:
    before = stored_blobs(server.data_dir)
    s3.put_object(Bucket=bucket, Key="src", Body=b"copied bytes")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert stored_blobs(server.data_dir) == (before[0], before[1] + 2)
    s3.delete_object(Bucket=bucket, Key="src")
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"copied bytes"
    # copy onto itself with new metadata: the bytes stay, the old blob goes
    s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource={"Bucket": bucket, "Key": "dst"},
        Metadata={"m": "1"},
        MetadataDirective="REPLACE",
    )
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert (got["Body"].read(), got["Metadata"]) == (b"copied bytes", {"m": "1"})
    assert stored_blobs(server.data_dir) == (before[0], before[1] + 1)
    s3.delete_object(Bucket=bucket, Key="dst")
    assert stored_blobs(server.data_dir) == before


def test_versions_of_inline_objects_keep_their_own_bytes(server: Any, s3: Any, bucket: str) -> None:
    before = stored_blobs(server.data_dir)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ids = [s3.put_object(Bucket=bucket, Key="k", Body=body)["VersionId"] for body in (b"1", b"2")]
    s3.delete_object(Bucket=bucket, Key="k")  # a delete marker: both versions stay
    for version_id, body in zip(ids, (b"1", b"2"), strict=True):
        got = s3.get_object(Bucket=bucket, Key="k", VersionId=version_id)
        assert got["Body"].read() == body
    assert stored_blobs(server.data_dir) == (before[0], before[1] + 2)
    s3.delete_object(Bucket=bucket, Key="k", VersionId=ids[0])
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=ids[1])["Body"].read() == b"2"
    assert stored_blobs(server.data_dir) == (before[0], before[1] + 1)


def test_a_refused_conditional_put_leaves_no_inline_blob(server: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"first")
    before = stored_blobs(server.data_dir)
    with pytest.raises(s3.exceptions.ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"second", IfNoneMatch="*")
    assert exc.value.response["Error"]["Code"] == "PreconditionFailed"
    assert stored_blobs(server.data_dir) == before
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"first"


def test_inline_kib_zero_keeps_every_object_in_a_file(tmp_path: Path) -> None:
    with serving(tmp_path / "data", env={"LADING_STORAGE__INLINE_KIB": "0"}) as server:
        client = make_client(server.url, server.access_key, server.secret_key)
        client.create_bucket(Bucket="files")
        client.put_object(Bucket="files", Key="k", Body=b"tiny")
        assert stored_blobs(server.data_dir) == (1, 0)
        assert client.get_object(Bucket="files", Key="k")["Body"].read() == b"tiny"


def test_the_start_up_sweep_removes_unreferenced_inline_blobs(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with serving(data_dir) as server:
        client = make_client(server.url, server.access_key, server.secret_key)
        client.create_bucket(Bucket="sweep")
        client.put_object(Bucket="sweep", Key="kept", Body=b"kept")
    with contextlib.closing(sqlite3.connect(data_dir / "metadata.db")) as db, db:
        db.execute(
            "INSERT INTO inline_blobs (blob_id, data, created_at) VALUES (?, ?, ?)",
            ("@" + "0" * 32, b"orphan", 1),
        )
    assert stored_blobs(data_dir) == (0, 2)
    with serving(data_dir) as server:
        assert stored_blobs(data_dir) == (0, 1)
        client = make_client(server.url, server.access_key, server.secret_key)
        assert client.get_object(Bucket="sweep", Key="kept")["Body"].read() == b"kept"
