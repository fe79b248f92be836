"""The aws CLI against a real server: the seed slides' commands, unchanged."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import new_bucket_name


def test_mb_cp_ls_rm_rb_with_metadata(aws: Any, tmp_path: Path) -> None:
    bucket = new_bucket_name()
    tif = tmp_path / "E0033.tif"
    tif.write_bytes(os.urandom(200_000))
    aws("s3", "mb", f"s3://{bucket}")
    assert bucket in aws("s3", "ls").stdout.decode()
    aws(
        "s3",
        "cp",
        "--content-type",
        "image/tiff",
        "--metadata",
        "fairease.catalog.mediatype=COG",
        str(tif),
        f"s3://{bucket}/toto/E0033.tif",
    )
    head = json.loads(
        aws("s3api", "head-object", "--bucket", bucket, "--key", "toto/E0033.tif").stdout
    )
    assert head["ContentType"] == "image/tiff"
    assert head["Metadata"] == {"fairease.catalog.mediatype": "COG"}
    assert head["ContentLength"] == 200_000
    aws("s3", "cp", f"s3://{bucket}/toto/E0033.tif", str(tmp_path / "myfile"))
    assert (tmp_path / "myfile").read_bytes() == tif.read_bytes()
    listing = aws("s3", "ls", f"s3://{bucket}/toto/").stdout.decode()
    assert "E0033.tif" in listing and "200000" in listing
    refused = aws("s3", "rb", f"s3://{bucket}", check=False)
    assert refused.returncode != 0 and b"BucketNotEmpty" in refused.stderr
    aws("s3", "rm", f"s3://{bucket}/toto/E0033.tif")
    aws("s3", "rb", f"s3://{bucket}")
    assert bucket not in aws("s3", "ls").stdout.decode()


def test_stdin_and_stdout_streaming(aws: Any) -> None:
    bucket = new_bucket_name()
    aws("s3", "mb", f"s3://{bucket}")
    aws("s3", "cp", "-", f"s3://{bucket}/hello", input=b"hello world\n")
    assert aws("s3", "cp", f"s3://{bucket}/hello", "-").stdout == b"hello world\n"
    big = os.urandom(20 * 1024 * 1024)  # stdin uploads of this size go multipart
    aws("s3", "cp", "-", f"s3://{bucket}/big", input=big)
    out = aws("s3", "cp", f"s3://{bucket}/big", "-").stdout
    assert hashlib.sha256(out).digest() == hashlib.sha256(big).digest()
    aws("s3", "rb", "--force", f"s3://{bucket}")


def test_sync_uploads_only_what_changed(aws: Any, tmp_path: Path) -> None:
    bucket = new_bucket_name()
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    for name in ("a.csv", "b.csv", "sub/c.csv"):
        (src / name).write_text(f"data {name}\n")
    aws("s3", "mb", f"s3://{bucket}")
    first = aws("s3", "sync", str(src), f"s3://{bucket}/data").stdout.decode()
    assert first.count("upload:") == 3
    again = aws("s3", "sync", str(src), f"s3://{bucket}/data").stdout.decode()
    assert "upload:" not in again
    (src / "b.csv").write_text("changed and longer\n")
    third = aws("s3", "sync", str(src), f"s3://{bucket}/data").stdout.decode()
    assert third.count("upload:") == 1 and "b.csv" in third
    down = tmp_path / "down"
    aws("s3", "sync", f"s3://{bucket}/data", str(down))
    assert (down / "sub" / "c.csv").read_text() == "data sub/c.csv\n"
    aws("s3", "rb", "--force", f"s3://{bucket}")


def test_presign_gives_a_url_anyone_can_fetch(aws: Any) -> None:
    bucket = new_bucket_name()
    aws("s3", "mb", f"s3://{bucket}")
    aws("s3", "cp", "-", f"s3://{bucket}/shared.txt", input=b"shared")
    url = aws("s3", "presign", f"s3://{bucket}/shared.txt", "--expires-in", "86400").stdout
    with urllib.request.urlopen(url.decode().strip()) as resp:
        assert resp.read() == b"shared"
    aws("s3", "rb", "--force", f"s3://{bucket}")


def test_recursive_copy_and_listing_of_many_files(aws: Any, tmp_path: Path) -> None:
    bucket = new_bucket_name()
    src = tmp_path / "many"
    src.mkdir()
    for i in range(120):
        (src / f"f{i:03d}.txt").write_text(str(i))
    aws("s3", "mb", f"s3://{bucket}")
    aws("s3", "cp", "--recursive", str(src), f"s3://{bucket}/many")
    listed = aws("s3", "ls", "--recursive", f"s3://{bucket}/many/").stdout.decode()
    assert len(listed.strip().splitlines()) == 120
    aws("s3", "rm", "--recursive", f"s3://{bucket}/many")
    aws("s3", "rb", f"s3://{bucket}")
