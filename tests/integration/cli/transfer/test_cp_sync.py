"""`lading cp` and `lading sync` run as real processes against a real server."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lading.testing.server import RunningServer


def run_lading(server: RunningServer, *args: str, home: Path, **env: str) -> Any:
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        "LADING_ENDPOINT": server.url,
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "lading", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def lading(server: RunningServer, tmp_path: Path) -> Any:
    home = tmp_path / "home"
    home.mkdir()

    def run(*args: str, **env: str) -> Any:
        return run_lading(server, *args, home=home, **env)

    return run


def summary(done: Any) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def objects(s3: Any, bucket: str, prefix: str = "") -> dict[str, bytes]:
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"]] = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
    return found


def make_tree(root: Path) -> dict[str, bytes]:
    files = {
        "a.txt": b"alpha\n",
        "empty": b"",
        "sub/b.bin": os.urandom(70_000),
        "sub/deeper/c.csv": b"x,y\n1,2\n",
        "big.dat": os.urandom(12 * 1024 * 1024 + 3),  # three 5 MiB parts
        "name with spaces & ünïcode": b"odd name",
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


@pytest.mark.parametrize("command", ["cp", "sync"])
def test_help_has_an_example(lading: Any, command: str) -> None:
    done = lading(command, "--help")
    assert done.returncode == 0 and "Example" in done.stdout


def test_a_tree_goes_up_and_comes_back_byte_identical(
    lading: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    files = make_tree(tmp_path / "up")
    up = summary(
        lading(
            "cp",
            "-r",
            str(tmp_path / "up"),
            f"s3://{bucket}/run1",
            "--part-size",
            "5",
            "--upload-cutoff",
            "5",
            "--json",
        )
    )
    assert (up["files_copied"], up["files_failed"], up["retries"]) == (len(files), 0, 0)
    assert up["bytes_copied"] == sum(map(len, files.values()))
    assert objects(s3, bucket) == {f"run1/{k}": v for k, v in files.items()}
    etag = s3.head_object(Bucket=bucket, Key="run1/big.dat")["ETag"]
    assert etag.endswith('-3"')  # it went in parts
    down = summary(lading("sync", f"s3://{bucket}/run1", str(tmp_path / "down"), "--json"))
    assert down["files_copied"] == len(files)
    got = {
        str(p.relative_to(tmp_path / "down")): p.read_bytes()
        for p in (tmp_path / "down").rglob("*")
        if p.is_file()
    }
    assert got == files


@pytest.mark.parametrize(("cutoff", "etag_suffix"), [([], ""), (["--upload-cutoff", "5"], "-3")])
def test_files_up_to_the_upload_cutoff_go_in_one_streamed_put(
    lading: Any, s3: Any, bucket: str, tmp_path: Path, cutoff: list[str], etag_suffix: str
) -> None:
    data = os.urandom(12 * 1024 * 1024 + 5)  # three parts of 5 MiB, under the 200 MiB default
    (tmp_path / "one.bin").write_bytes(data)
    (tmp_path / "empty").write_bytes(b"")
    for name in ("one.bin", "empty"):
        done = summary(
            lading(
                "cp", str(tmp_path / name), f"s3://{bucket}/", "--part-size", "5", *cutoff, "--json"
            )
        )
        assert (done["files_copied"], done["files_failed"], done["retries"]) == (1, 0, 0)
    assert objects(s3, bucket) == {"one.bin": data, "empty": b""}
    etag = s3.head_object(Bucket=bucket, Key="one.bin")["ETag"].strip('"')
    if etag_suffix:
        assert etag.endswith(etag_suffix)
    else:
        assert etag == hashlib.md5(data).hexdigest()  # one PUT, its MD5 checked end to end


def test_a_sync_with_nothing_changed_copies_nothing(
    lading: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    files = make_tree(tmp_path / "src")
    summary(lading("sync", str(tmp_path / "src"), f"s3://{bucket}/t", "--json"))
    again = summary(lading("sync", str(tmp_path / "src"), f"s3://{bucket}/t", "--json"))
    assert (again["files_copied"], again["files_skipped"], again["bytes_transferred"]) == (
        0,
        len(files),
        0,
    )


def test_sync_copies_changes_and_deletes_extras(
    lading: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    make_tree(src)
    summary(lading("sync", str(src), f"s3://{bucket}/t", "--json"))
    time.sleep(1.1)
    (src / "a.txt").write_bytes(b"alpha, longer now\n")  # changed
    (src / "new.txt").write_bytes(b"new")  # added
    (src / "sub/b.bin").unlink()  # deleted on the source
    s3.put_object(Bucket=bucket, Key="t/extra.txt", Body=b"only at the destination")
    (src / "sub/deeper/c.csv").touch()  # touched: newer, same size
    plan = summary(lading("sync", str(src), f"s3://{bucket}/t", "--delete", "--dry-run", "--json"))
    assert (plan["files_copied"], plan["files_deleted"], plan["dry_run"]) == (3, 2, True)
    assert "t/extra.txt" in objects(s3, bucket)
    done = summary(lading("sync", str(src), f"s3://{bucket}/t", "--delete", "--json"))
    assert (done["files_copied"], done["files_deleted"], done["files_failed"]) == (3, 2, 0)
    expected = {str(p.relative_to(src)): p.read_bytes() for p in src.rglob("*") if p.is_file()}
    assert objects(s3, bucket) == {f"t/{k}": v for k, v in expected.items()}


def test_sync_level_checksum_finds_same_size_rewrites(
    lading: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_bytes(b"version-1")
    summary(lading("sync", str(src), f"s3://{bucket}/c", "--json"))
    s3.put_object(Bucket=bucket, Key="c/f", Body=b"VERSION-2")  # same size, newer at the dst
    by_size = summary(
        lading("sync", str(src), f"s3://{bucket}/c", "--sync-level", "size", "--json")
    )
    assert by_size["files_copied"] == 0
    by_sum = summary(
        lading("sync", str(src), f"s3://{bucket}/c", "--sync-level", "checksum", "--json")
    )
    assert by_sum["files_copied"] == 1
    assert objects(s3, bucket) == {"c/f": b"version-1"}


def test_one_file_into_a_prefix_and_under_a_new_name(
    lading: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    (tmp_path / "one.txt").write_bytes(b"one")
    summary(lading("cp", str(tmp_path / "one.txt"), f"s3://{bucket}/dir/", "--json"))
    summary(lading("cp", str(tmp_path / "one.txt"), f"s3://{bucket}/renamed.txt", "--json"))
    summary(lading("cp", f"s3://{bucket}/renamed.txt", str(tmp_path / "back.txt"), "--json"))
    assert objects(s3, bucket) == {"dir/one.txt": b"one", "renamed.txt": b"one"}
    assert (tmp_path / "back.txt").read_bytes() == b"one"


def test_exclude_and_filter_rules(lading: Any, s3: Any, bucket: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    for name in ("keep.csv", "drop.tmp", "logs/x.log", "logs/keep.log"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(name.encode())
    args = ["--filter", "+ keep.log", "--exclude", "*.log", "--exclude", "*.tmp", "--json"]
    summary(lading("sync", str(src), f"s3://{bucket}/f", *args))
    assert sorted(objects(s3, bucket)) == ["f/keep.csv", "f/logs/keep.log"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cp", "/no/such/file", "s3://b/x"], "no such file"),
        (["cp", "{tmp}", "s3://b/x"], "is a directory: use --recursive"),
        (["cp", "{tmp}/f", "gs://b/x"], "only local paths, s3://BUCKET/PREFIX and ENDPOINT:PATH"),
        (["cp", "{tmp}/f", "s3://"], "name a bucket"),
        (["sync", "{tmp}", "s3://b/../x"], "'.' and '..' are not allowed"),
        (["sync", "{tmp}", "s3://b/x", "--filter", "* x"], "write '+ GLOB' or '- GLOB'"),
        (["sync", "{tmp}", "s3://b/x", "--deadline", "soon"], "not an ISO 8601 moment"),
        (["sync", "{tmp}", "s3://b/x", "--sync-level", "fast"], "Invalid value"),
        (["sync", "{tmp}", "s3://b/x", "--transfers", "0"], "at least 1"),
    ],
)
def test_bad_input_is_a_usage_error(
    lading: Any, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "f").write_bytes(b"x")
    done = lading(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert done.returncode == 2, done.stderr
    assert message in done.stderr


def test_a_missing_bucket_or_bad_keys_fail_clearly_and_store_nothing(
    lading: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    (tmp_path / "f").write_bytes(b"x")
    done = lading("sync", str(tmp_path), "s3://t-no-such-bucket-zz/x")
    assert done.returncode == 1 and "no such bucket" in done.stderr
    done = lading("sync", str(tmp_path), f"s3://{bucket}/x", AWS_SECRET_ACCESS_KEY="wrong" * 8)
    assert done.returncode == 1 and "denied" in done.stderr.lower()
    assert objects(s3, bucket) == {}


def test_a_file_the_server_refuses_fails_alone(
    lading: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    (tmp_path / "ok").write_bytes(b"fine")
    long_name = "k/" + "n" * 250 + "/" + "m" * 250 + "/" + "o" * 250 + "/" + "p" * 250
    # a key longer than S3's 1024 bytes: the server answers KeyTooLongError for that file only
    deep = tmp_path / long_name
    deep.parent.mkdir(parents=True)
    deep.write_bytes(b"too long a key")
    done = lading("sync", str(tmp_path), f"s3://{bucket}/" + "q" * 20, "--json")
    assert done.returncode == 1
    found = json.loads(done.stdout)
    assert (found["files_copied"], found["files_failed"]) == (1, 1)
    assert found["failures"][0]["path"].endswith("p" * 250)
    assert list(objects(s3, bucket)) == ["q" * 20 + "/ok"]
