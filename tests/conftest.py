"""Fixtures shared by every test tier: a real server process and real clients."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lading.testing.server import RunningServer, run_server

ROOT = Path(__file__).resolve().parent.parent
AWS_CLI = (
    os.environ.get("LADING_TEST_AWS_CLI")
    or next((str(p) for p in [ROOT / ".tools/awscli/bin/aws"] if p.exists()), None)
    or shutil.which("aws")
    or str(Path(sys.executable).with_name("aws"))
)


BASE_DOMAIN = "s3.lading.test"  # virtual-host-style requests: BUCKET.s3.lading.test


def make_client(
    url: str, access_key: str, secret_key: str, *, verify: str | bool = True, **config: Any
) -> Any:
    """A real boto3 S3 client for the server (default checksum behaviour unless overridden)."""
    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
        verify=verify,
        config=Config(**{"retries": {"max_attempts": 1, "mode": "standard"}, **config}),
    )


@contextlib.contextmanager
def sending_body(client: Any, operation: str, body: bytes) -> Iterator[None]:
    """Make boto3 send `body` as is for one operation (its digests of the old body dropped)."""

    def replace(request: Any, **_: Any) -> None:
        request.data = body
        stale = [
            h for h in request.headers if h.lower().startswith(("content-md5", "x-amz-checksum"))
        ]
        for name in stale:
            del request.headers[name]

    event = f"before-sign.s3.{operation}"
    client.meta.events.register_first(event, replace)
    try:
        yield
    finally:
        client.meta.events.unregister(event, replace)


def half_written(data_dir: Path) -> list[Path]:
    """Blobs a server started and never committed (<id>.part beside where they would live)."""
    return list((data_dir / "blobs").glob("*/*/*.part"))


def stored_blobs(data_dir: Path) -> tuple[int, int]:
    """(blob files, inline blobs) a SQLite server holds: bytes on disk and in its database."""
    files = sum(1 for p in (data_dir / "blobs").rglob("*") if p.is_file())
    with contextlib.closing(sqlite3.connect(data_dir / "metadata.db")) as db:
        inline = int(db.execute("SELECT count(*) FROM inline_blobs").fetchone()[0])
    return files, inline


INLINE_LIMIT = 64 * 1024  # the default storage.inline_kib: larger bodies become blob files


def new_bucket_name() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def empty_bucket(client: Any, name: str) -> None:
    """Remove every object, version and upload, then the bucket."""
    for page in client.get_paginator("list_object_versions").paginate(Bucket=name):
        entries = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if entries:
            client.delete_objects(Bucket=name, Delete={"Objects": entries, "Quiet": True})
    for upload in client.list_multipart_uploads(Bucket=name).get("Uploads", []):
        client.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    client.delete_bucket(Bucket=name)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = run_server(
        tmp_path_factory.mktemp("server") / "data", env={"LADING_S3__BASE_DOMAIN": BASE_DOMAIN}
    )
    yield running
    running.kill()


@pytest.fixture(scope="session")
def s3(server: RunningServer) -> Any:
    """boto3 with its defaults (CRC32 checksums on every upload since 1.36)."""
    return make_client(server.url, server.access_key, server.secret_key)


@pytest.fixture(scope="session")
def s3_when_required(server: RunningServer) -> Any:
    """boto3 that only sends checksums when an operation requires them."""
    return make_client(
        server.url,
        server.access_key,
        server.secret_key,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


@pytest.fixture(params=["default", "when_required"])
def s3_any(request: pytest.FixtureRequest, s3: Any, s3_when_required: Any) -> Any:
    """Both checksum behaviours of boto3, one after the other."""
    return s3 if request.param == "default" else s3_when_required


@pytest.fixture(scope="session")
def alt_user(server: RunningServer) -> dict[str, str]:
    """A second user, with nothing shared with root."""
    import json

    created: dict[str, str] = json.loads(server.admin("add-user", f"alt-{uuid.uuid4().hex[:6]}"))
    return created


@pytest.fixture(scope="session")
def s3_alt(server: RunningServer, alt_user: dict[str, str]) -> Any:
    return make_client(server.url, alt_user["access_key"], alt_user["secret_key"])


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    """A fresh bucket owned by root, emptied and deleted afterwards."""
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    yield name
    empty_bucket(s3, name)


@pytest.fixture(scope="session")
def aws(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    """Run the real aws CLI against the server: aws("s3", "ls", input=b"...")."""
    home = tmp_path_factory.mktemp("aws-home")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
    }

    def run(*args: str, input: bytes | None = None, check: bool = True) -> Any:
        return subprocess.run(
            [AWS_CLI, "--endpoint-url", server.url, *args],
            env=env,
            input=input,
            capture_output=True,
            check=check,
            timeout=300,
        )

    return run
