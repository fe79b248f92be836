"""Lifecycle passes over real stores, and `lading worker` against a running server's data.

The clock moves forward with `lading worker --once --now ...` (and `now_us` of run_lifecycle),
as an operator would to check rules without waiting for days.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from lading.app import open_for_work
from lading.lifecycle import LifecycleReport, PassLock, normalize, run_lifecycle
from lading.metadata.models import Bucket
from lading.services.container import Services
from lading.services.objects import BodyChecks, NewObject
from lading.settings import Settings
from lading.testing.server import RunningServer, run_server
from tests.conftest import empty_bucket, make_client, new_bucket_name

DAY_US = 86_400 * 1_000_000


def days_later(days: float) -> int:
    return time.time_ns() // 1000 + int(days * DAY_US)


# --- the pass over real stores, without HTTP -------------------------------------------------


class Store:
    """A data directory opened as `lading worker` opens it, with a user to own buckets."""

    def __init__(self, data_dir: Path) -> None:
        self.meta, self.services, _ = open_for_work(Settings(data_dir=data_dir))
        self.owner = self.meta.create_user("owner")

    def bucket(self, name: str, *, versioning: str = "", rules: list[dict[str, Any]]) -> Bucket:
        bucket = self.meta.create_bucket(name, self.owner, "us-east-1")
        if versioning:
            self.meta.set_versioning(bucket, versioning)
        document = json.dumps(normalize({"Rule": rules}))
        self.meta.set_bucket_config(bucket, "lifecycle", document)
        return self.meta.get_bucket(name)

    def put(self, bucket: Bucket, key: str, **attributes: Any) -> str:
        async def body() -> AsyncIterator[bytes]:
            yield key.encode()

        obj = asyncio.run(
            self.services.objects.put_object(
                bucket,
                key,
                body(),
                owner_id=self.owner.id,
                new=NewObject(attributes=attributes),
                checks=BodyChecks(),
            )
        )
        return obj.version_id

    def delete(self, bucket: Bucket, key: str) -> None:
        asyncio.run(self.services.objects.delete_object(bucket, key, owner_id=self.owner.id))

    def versions(self, bucket: Bucket) -> list[tuple[str, str, bool]]:
        """(key, version id, is delete marker) of every version, keys in order, newest first."""
        listing = self.meta.list_versions(bucket)
        return [(v.key, v.version_id, v.is_delete_marker) for v in listing.versions]

    def run(self, now_us: int, **kwargs: Any) -> LifecycleReport:
        services: Services = self.services
        return asyncio.run(
            run_lifecycle(self.meta, services.objects, services.multipart, now_us, **kwargs)
        )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "data")
    yield opened
    opened.meta.engine.dispose()


def test_noncurrent_versions_go_after_their_days_and_newer_ones_stay(store: Store) -> None:
    rules = [
        {
            "ID": "nc",
            "Filter": {"Prefix": "logs/"},
            "Status": "Enabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": "10", "NewerNoncurrentVersions": "1"},
        }
    ]
    bucket = store.bucket("versioned", versioning="Enabled", rules=rules)
    ids = [store.put(bucket, "logs/a") for _ in range(3)]
    other = [store.put(bucket, "data/b") for _ in range(2)]
    assert store.run(days_later(9)).noncurrent_removed == 0
    report = store.run(days_later(11))
    assert (report.buckets, report.noncurrent_removed, report.expired) == (1, 1, 0)
    kept = [v for k, v, _ in store.versions(bucket) if k == "logs/a"]
    assert kept == [ids[2], ids[1]]  # the current one and the newest noncurrent one
    assert [v for k, v, _ in store.versions(bucket) if k == "data/b"] == other[::-1]
    assert store.run(days_later(11)).noncurrent_removed == 0  # idempotent


def test_expiration_in_versioned_and_unversioned_buckets(store: Store) -> None:
    rules = [
        {"ID": "e", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": "1"}}
    ]
    plain = store.bucket("plain", rules=rules)
    versioned = store.bucket("versioned", versioning="Enabled", rules=rules)
    store.put(plain, "a")
    kept_id = store.put(versioned, "a")
    assert store.run(days_later(0.5)).expired == 0
    report = store.run(days_later(2))
    assert report.expired == 2
    assert store.versions(plain) == []
    versions = store.versions(versioned)
    assert len(versions) == 2 and versions[0][2] and versions[1][1] == kept_id
    # the marker is current now: a second pass stacks no other one on it
    assert store.run(days_later(2)).expired == 0
    assert len(store.versions(versioned)) == 2


def test_lone_delete_markers_and_the_versions_under_them(store: Store) -> None:
    rules = [
        {
            "ID": "m",
            "Status": "Enabled",
            "Filter": {"Prefix": "test1/"},
            "Expiration": {"ExpiredObjectDeleteMarker": "true"},
            "NoncurrentVersionExpiration": {"NoncurrentDays": "1"},
        }
    ]
    bucket = store.bucket("markers", versioning="Enabled", rules=rules)
    for key in ("test1/a", "test2/a"):
        store.put(bucket, key)
        store.delete(bucket, key)
    report = store.run(days_later(3))
    assert (report.noncurrent_removed, report.markers_removed) == (1, 1)
    assert [k for k, _, _ in store.versions(bucket)] == ["test2/a", "test2/a"]


def test_locked_versions_are_skipped_and_counted(store: Store) -> None:
    rules = [
        {
            "ID": "nc",
            "Filter": "",
            "Status": "Enabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": "1"},
        }
    ]
    bucket = store.bucket("locked", versioning="Enabled", rules=rules)
    held = store.put(bucket, "k", legal_hold=True)
    store.put(bucket, "k")
    report = store.run(days_later(5))
    assert (report.skipped_locked, report.noncurrent_removed) == (1, 0)
    assert held in [v for _, v, _ in store.versions(bucket)]


def test_stale_uploads_under_the_prefix_are_aborted(store: Store) -> None:
    rules = [
        {
            "ID": "mpu",
            "Prefix": "tmp/",
            "Status": "Enabled",
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": "2"},
        }
    ]
    bucket = store.bucket("uploads", rules=rules)

    async def create(key: str) -> None:
        await store.services.multipart.create_upload(
            bucket, key, owner_id=store.owner.id, new=NewObject()
        )

    for key in ("tmp/a", "tmp/a", "tmp/b", "keep/c"):
        asyncio.run(create(key))
    assert store.run(days_later(1)).uploads_aborted == 0
    assert store.run(days_later(3)).uploads_aborted == 3
    left = store.meta.list_uploads(bucket).uploads
    assert [u.key for u in left] == ["keep/c"]


def test_a_broken_bucket_does_not_stop_the_pass(store: Store) -> None:
    rules = [
        {"ID": "e", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": "1"}}
    ]
    broken = store.bucket("a-broken", rules=rules)
    store.meta.set_bucket_config(broken, "lifecycle", "{not json")
    fine = store.bucket("b-fine", rules=rules)
    store.put(fine, "x")
    report = store.run(days_later(2))
    assert (report.buckets, report.failed_buckets, report.expired) == (2, 1, 1)


def test_one_pass_at_a_time(store: Store) -> None:
    rules = [
        {"ID": "e", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": "1"}}
    ]
    bucket = store.bucket("busy", rules=rules)
    store.put(bucket, "x")
    lock = PassLock(store.meta)
    assert lock.acquire(wait=False)
    try:
        assert store.run(days_later(2)).busy
    finally:
        lock.release()
    assert store.run(days_later(2)).expired == 1


# --- `lading worker` against a running server ------------------------------------------------


@pytest.fixture(scope="module")
def lc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of this module's own: worker passes see every bucket of the data directory."""
    running = run_server(tmp_path_factory.mktemp("lifecycle") / "data")
    yield running
    running.kill()


@pytest.fixture(scope="module")
def client(lc_server: RunningServer) -> Any:
    return make_client(lc_server.url, lc_server.access_key, lc_server.secret_key)


@pytest.fixture
def lc_bucket(client: Any) -> Iterator[str]:
    name = new_bucket_name()
    client.create_bucket(Bucket=name)
    yield name
    empty_bucket(client, name)


def worker(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lading", "worker", "--data-dir", str(server.data_dir), *args],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def set_rule(client: Any, bucket: str, rule_id: str, prefix: str, **action: Any) -> None:
    """One enabled lifecycle rule for the keys under prefix; `action`: Expiration=... etc."""
    rule = {"ID": rule_id, "Filter": {"Prefix": prefix}, "Status": "Enabled", **action}
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [rule]}
    )


def pass_at(server: RunningServer, days: float) -> dict[str, Any]:
    """Run `lading worker --once --now <days later> --json`; returns its report."""
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    done = worker(server, "--once", "--now", moment.isoformat(), "--json")
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def test_worker_removes_noncurrent_versions(
    lc_server: RunningServer, client: Any, lc_bucket: str
) -> None:
    client.put_bucket_versioning(Bucket=lc_bucket, VersioningConfiguration={"Status": "Enabled"})
    first = client.put_object(Bucket=lc_bucket, Key="hello", Body=b"hello 1")["VersionId"]
    second = client.put_object(Bucket=lc_bucket, Key="hello", Body=b"hello 2")["VersionId"]
    others = [client.put_object(Bucket=lc_bucket, Key="other", Body=b"o") for _ in range(2)]
    assert first != second
    set_rule(client, lc_bucket, "seed", "hel", NoncurrentVersionExpiration={"NoncurrentDays": 10})
    assert pass_at(lc_server, 9)["noncurrent_removed"] == 0
    report = pass_at(lc_server, 11)
    assert report["noncurrent_removed"] == 1 and report["failed_buckets"] == 0
    listed = client.list_object_versions(Bucket=lc_bucket, Prefix="hello")
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [(second, True)]
    assert "DeleteMarkers" not in listed
    assert client.get_object(Bucket=lc_bucket, Key="hello")["Body"].read() == b"hello 2"
    assert len(client.list_object_versions(Bucket=lc_bucket, Prefix="other")["Versions"]) == len(
        others
    )


def test_worker_expires_objects_of_an_unversioned_bucket(
    lc_server: RunningServer, client: Any, lc_bucket: str
) -> None:
    client.put_object(Bucket=lc_bucket, Key="logs/a", Body=b"a")
    client.put_object(Bucket=lc_bucket, Key="keep/b", Body=b"b")
    set_rule(client, lc_bucket, "logs", "logs/", Expiration={"Days": 1})
    assert pass_at(lc_server, 0.5)["expired"] == 0
    assert pass_at(lc_server, 2)["expired"] == 1
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=lc_bucket).get("Contents", [])]
    assert keys == ["keep/b"]


def test_worker_aborts_stale_multipart_uploads(
    lc_server: RunningServer, client: Any, lc_bucket: str
) -> None:
    stale = client.create_multipart_upload(Bucket=lc_bucket, Key="tmp/x")["UploadId"]
    client.upload_part(Bucket=lc_bucket, Key="tmp/x", UploadId=stale, PartNumber=1, Body=b"p")
    client.create_multipart_upload(Bucket=lc_bucket, Key="keep/y")
    set_rule(
        client, lc_bucket, "mpu", "tmp/", AbortIncompleteMultipartUpload={"DaysAfterInitiation": 2}
    )
    assert pass_at(lc_server, 1)["uploads_aborted"] == 0
    assert pass_at(lc_server, 3)["uploads_aborted"] == 1
    uploads = client.list_multipart_uploads(Bucket=lc_bucket).get("Uploads", [])
    assert [u["Key"] for u in uploads] == ["keep/y"]


def test_a_download_under_way_outlives_its_objects_expiration_by_a_worker(
    lc_server: RunningServer, client: Any, lc_bucket: str, tmp_path: Path
) -> None:
    """A worker that deleted expired bytes at once cut short the GETs reading them."""
    body = random.randbytes(40 * 1024 * 1024)  # a blob file, read piece by piece
    blobs = lc_server.data_dir / "blobs"
    before = {path for path in blobs.rglob("*") if path.is_file()}
    client.put_object(Bucket=lc_bucket, Key="old/run.h5", Body=body)
    (blob,) = {path for path in blobs.rglob("*") if path.is_file()} - before
    download = client.get_object(Bucket=lc_bucket, Key="old/run.h5")["Body"]
    first = download.read(1024 * 1024)  # the server now waits for the client to read on
    set_rule(
        client,
        lc_bucket,
        "past",
        "old/",
        Expiration={"Date": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
    )
    env = {
        **lc_server.env,
        "LADING_LIFECYCLE_SECONDS": "1",
        "LADING_STORAGE__DELETE_DELAY_SECONDS": "60",
    }
    command = [sys.executable, "-m", "lading", "worker", "--data-dir", str(lc_server.data_dir)]
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        running = subprocess.Popen(
            [*command, "--transfers", "0"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while client.list_objects_v2(Bucket=lc_bucket, Prefix="old/")["KeyCount"]:
            assert time.monotonic() < deadline and running.poll() is None, "no expiration"
            time.sleep(0.2)
        assert first + download.read() == body  # the expired version's bytes, whole
        assert blob.exists()
        running.terminate()  # SIGTERM: a clean stop deletes what the worker held
        assert running.wait(timeout=60) == 0, log.read_text()
    finally:
        if running.poll() is None:  # its passes would go on expiring other tests' objects
            running.kill()
            running.wait()
    assert not blob.exists()


def test_worker_help_and_usage_errors(lc_server: RunningServer) -> None:
    done = worker(lc_server, "--help")
    assert done.returncode == 0 and "Example" in done.stdout
    assert worker(lc_server, "--now", "2030-01-01").returncode == 2  # --now needs --once
    bad = worker(lc_server, "--once", "--now", "next tuesday")
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr
    human = worker(lc_server, "--once")
    assert human.returncode == 0 and human.stdout.startswith("lifecycle: ")


def test_configuration_reads_back_as_written(client: Any, lc_bucket: str) -> None:
    rules = [
        {"ID": "test1/", "Expiration": {"Days": 31}, "Prefix": "test1/", "Status": "Enabled"},
        {
            "ID": "tagged",
            "Filter": {"And": {"Prefix": "x/", "Tags": [{"Key": "a", "Value": "b"}]}},
            "Status": "Disabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": 3, "NewerNoncurrentVersions": 2},
        },
    ]
    client.put_bucket_lifecycle_configuration(
        Bucket=lc_bucket, LifecycleConfiguration={"Rules": rules}
    )
    assert client.get_bucket_lifecycle_configuration(Bucket=lc_bucket)["Rules"] == rules
    unnamed = [{"Expiration": {"Days": 5}, "Filter": {}, "Status": "Enabled"}]
    client.put_bucket_lifecycle_configuration(
        Bucket=lc_bucket, LifecycleConfiguration={"Rules": unnamed}
    )
    [stored] = client.get_bucket_lifecycle_configuration(Bucket=lc_bucket)["Rules"]
    assert stored["ID"] and stored["Expiration"] == {"Days": 5}
