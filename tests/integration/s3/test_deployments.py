"""The same S3 behaviour on other deployments: PostgreSQL metadata, several workers, vhosts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lading.testing.postgres import scratch_database
from lading.testing.server import RunningServer, serving
from tests.conftest import BASE_DOMAIN, make_client
from tests.integration.s3.test_auth import send, signed_request

POSTGRES_URL = os.environ.get("LADING_TEST_POSTGRES_URL")


def exercise(client: Any) -> None:
    """A representative workflow: the operations every deployment must get right."""
    client.create_bucket(Bucket="workflow")
    for key in ("a/1", "a/2", "b/1", "c"):
        client.put_object(Bucket="workflow", Key=key, Body=key.encode(), Metadata={"k": key})
    listed = client.list_objects_v2(Bucket="workflow", Delimiter="/")
    assert [o["Key"] for o in listed["Contents"]] == ["c"]
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["a/", "b/"]
    assert client.head_object(Bucket="workflow", Key="a/2")["Metadata"] == {"k": "a/2"}
    upload = client.create_multipart_upload(Bucket="workflow", Key="mp")["UploadId"]
    etag = client.upload_part(
        Bucket="workflow", Key="mp", UploadId=upload, PartNumber=1, Body=b"part"
    )["ETag"]
    client.complete_multipart_upload(
        Bucket="workflow",
        Key="mp",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    client.copy_object(
        Bucket="workflow", Key="mp-copy", CopySource={"Bucket": "workflow", "Key": "mp"}
    )
    assert client.get_object(Bucket="workflow", Key="mp-copy")["Body"].read() == b"part"
    with pytest.raises(ClientError) as exc:
        client.put_object(Bucket="workflow", Key="c", Body=b"x", IfNoneMatch="*")
    assert exc.value.response["Error"]["Code"] == "PreconditionFailed"
    with pytest.raises(ClientError) as exc:
        client.delete_bucket(Bucket="workflow")
    assert exc.value.response["Error"]["Code"] == "BucketNotEmpty"
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="workflow")["Contents"]]
    client.delete_objects(Bucket="workflow", Delete={"Objects": [{"Key": k} for k in keys]})
    client.delete_bucket(Bucket="workflow")


@pytest.fixture
def postgres_database() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("LADING_TEST_POSTGRES_URL is not set")
    with scratch_database(POSTGRES_URL) as url:
        yield url


@pytest.mark.postgres
def test_server_on_postgresql(tmp_path: Path, postgres_database: str) -> None:
    with serving(tmp_path / "data", env={"LADING_METADATA__URL": postgres_database}) as server:
        exercise(make_client(server.url, server.access_key, server.secret_key))
        assert not (tmp_path / "data" / "metadata.db").exists()


def test_server_with_two_workers(tmp_path: Path) -> None:
    with serving(tmp_path / "data", extra_args=["--workers", "2"]) as server:
        exercise(make_client(server.url, server.access_key, server.secret_key))


def test_virtual_host_style_requests(server: RunningServer, s3: Any, bucket: str) -> None:
    host = f"{bucket}.{BASE_DOMAIN}:{server.url.rsplit(':', 1)[1]}"
    request, _ = signed_request(
        server,
        "PUT",
        "/vhost-key",
        body=b"virtual",
        headers={"Host": host},
        payload="UNSIGNED-PAYLOAD",
    )
    status, body = send(server.url, request)
    assert status == 200, body
    assert s3.get_object(Bucket=bucket, Key="vhost-key")["Body"].read() == b"virtual"
    listing, _ = signed_request(server, "GET", "/?list-type=2", headers={"Host": host})
    status, body = send(server.url, listing)
    assert status == 200 and b"<Key>vhost-key</Key>" in body


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def test_a_dead_worker_is_replaced_and_sigterm_stops_all(tmp_path: Path) -> None:
    import signal
    import time

    with serving(tmp_path / "data", extra_args=["--workers", "2"]) as server:
        # boto3's own retries, as users run it: a connection the kernel had queued on the
        # killed worker's socket is reset, and the client retries it on the survivor
        client = make_client(
            server.url,
            server.access_key,
            server.secret_key,
            retries={"max_attempts": 5, "mode": "standard"},
        )
        client.create_bucket(Bucket="respawn")
        workers = {
            pid
            for pid in _children(server.process.pid)
            if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
        }
        assert len(workers) == 2
        victim = sorted(workers)[0]
        os.kill(victim, signal.SIGKILL)
        for i in range(20):  # served throughout by the survivor, then by both again
            client.put_object(Bucket="respawn", Key=f"k{i}", Body=b"x")
        deadline = time.monotonic() + 15
        replaced: set[int] = set()
        while not replaced and time.monotonic() < deadline:
            replaced = {
                pid
                for pid in _children(server.process.pid) - workers
                if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
            }
            time.sleep(0.2)
        assert replaced, "the killed worker was not replaced"
        assert client.head_object(Bucket="respawn", Key="k19")["ContentLength"] == 1
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=30)
        assert server.process.returncode is not None
