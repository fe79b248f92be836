"""Fault injection against a real server: the S3 driver wrapped to fail on purpose."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

from lading.testing.faults import Fault, FaultyDriver, http_500, http_503, reset
from lading.testing.server import RunningServer
from lading.transfer.accounting import EventList
from lading.transfer.drivers.memory import MemoryDriver
from lading.transfer.drivers.s3 import S3Driver, make_client
from lading.transfer.engine import Engine, Item, Options
from lading.transfer.retry import RetryPolicy

MiB = 1024 * 1024
FILES = {
    "small/a": b"a" * 1000,
    "small/b": os.urandom(64 * 1024),
    "large/c": os.urandom(11 * MiB + 5),  # three 5 MiB parts
}


def s3_driver(server: RunningServer, bucket: str) -> S3Driver:
    client = make_client(server.url, access_key=server.access_key, secret_key=server.secret_key)
    return S3Driver(client, bucket, endpoint_url=server.url)


def run(src: Any, dst: Any, **options: Any) -> tuple[Any, EventList]:
    events = EventList()
    engine = Engine(
        src,
        dst,
        Options(files=4, parts=3, part_size=5 * MiB, upload_cutoff=5 * MiB, **options),
        retry=RetryPolicy(base=0.01, cap=0.05),
        events=events,
    )
    return engine.run([Item("", "up", recursive=True)]), events


def stored(s3: Any, bucket: str) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


@pytest.mark.parametrize(
    "fault",
    [
        Fault("write", times=2, error=reset),
        Fault("write", times=2, error=http_500),
        Fault("write_part", times=3, error=http_503),
        Fault("write_part", times=2, delay=0.5),  # a slow endpoint: late, but no error
        Fault("complete_multipart", times=1, error=http_500),
    ],
    ids=["resets", "500", "503-on-parts", "slow", "500-on-complete"],
)
def test_an_upload_through_faults_ends_byte_identical(
    server: RunningServer, s3: Any, bucket: str, fault: Fault
) -> None:
    src = MemoryDriver()
    for path, data in FILES.items():
        src.write(path, [data], size=len(data))
    dst = FaultyDriver(s3_driver(server, bucket), [fault])
    stats, events = run(src, dst)
    assert stored(s3, bucket) == {f"up/{k}": v for k, v in FILES.items()}
    assert stats.files_failed == 0
    expected_retries = 0 if fault.delay else fault.times
    assert fault.hits == fault.times
    assert stats.retries == expected_retries == len(events.of_kind("retry"))


def test_truncated_reads_from_the_server_are_retried(
    server: RunningServer, s3: Any, bucket: str
) -> None:
    for path, data in FILES.items():
        s3.put_object(Bucket=bucket, Key=f"src/{path}", Body=data)
    src = FaultyDriver(s3_driver(server, bucket), [Fault("open_read", times=3, truncate=True)])
    dst = MemoryDriver()
    events = EventList()
    engine = Engine(
        src,
        dst,
        Options(files=2, parts=2, part_size=5 * MiB, upload_cutoff=5 * MiB),
        retry=RetryPolicy(base=0.01, cap=0.05),
        events=events,
    )
    stats = engine.run([Item("src", "copy", recursive=True)])
    got = {e.path: b"".join(dst.open_read(e.path)) for e in dst.list()}
    assert got == {f"copy/{k}": v for k, v in FILES.items()}
    assert stats.retries == 3 and stats.files_failed == 0


def test_a_checksum_mismatch_at_the_destination_is_found_and_the_file_copied_again(
    server: RunningServer, s3: Any, bucket: str
) -> None:
    src = MemoryDriver()
    for path, data in FILES.items():
        src.write(path, [data], size=len(data))
    # flip a byte after the source's MD5 was taken: the stored object differs from the source
    faults = [Fault("write", times=1, corrupt=True, path="a"), Fault("write_part", corrupt=True)]
    dst = FaultyDriver(s3_driver(server, bucket), faults)
    stats, events = run(src, dst)
    assert stored(s3, bucket) == {f"up/{k}": v for k, v in FILES.items()}
    retried = {e["path"] for e in events.of_kind("retry")}
    assert retried == {"up/small/a", "up/large/c"}
    assert all("checksum" in e["error"] for e in events.of_kind("retry"))
    assert stats.retries == 2 and stats.files_failed == 0


def test_a_bucket_copy_within_one_server_is_server_side(
    server: RunningServer, s3: Any, bucket: str
) -> None:
    for path, data in FILES.items():
        s3.put_object(Bucket=bucket, Key=f"src/{path}", Body=data)
    driver = s3_driver(server, bucket)
    events = EventList()
    stats = Engine(driver, driver, Options(), events=events).run(
        [Item("src", f"copy-{uuid.uuid4().hex[:4]}", recursive=True)]
    )
    assert stats.files_copied == 3 and stats.bytes_transferred == 0
    assert all(e["server_side"] for e in events.of_kind("copied"))
