"""A `lading worker` killed with SIGKILL in the middle of a 1 GiB multipart copy: the next
worker takes the file over when the lease runs out and sends only the missing parts."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lading.app import open_for_work
from lading.metadata import schema
from lading.services.transfers import Submission
from lading.settings import Settings, TransferSettings
from lading.testing.server import RunningServer

GiB = 1024**3
PART_MIB = 64
PART = PART_MIB * 1024 * 1024


def start_worker(data_dir: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "lading", "worker", "--data-dir", str(data_dir)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def parts_done(meta: Any) -> int:
    with meta.engine.connect() as conn:
        found = conn.execute(sa.select(schema.transfer_files.c.parts)).scalars().all()
    return max((len(p["parts"]) for p in found if p), default=0)


@pytest.mark.slow
def test_a_killed_worker_is_followed_by_one_that_resumes_from_the_last_part(
    server: RunningServer, s3: Any, bucket: str, tmp_path: Path
) -> None:
    lab = tmp_path / "lab"
    lab.mkdir()
    md5 = hashlib.md5()
    with (lab / "big.bin").open("wb") as f:
        for _ in range(GiB // (16 * 1024 * 1024)):
            block = os.urandom(16 * 1024 * 1024)
            md5.update(block)
            f.write(block)
    data_dir = tmp_path / "data"
    transfers = TransferSettings(
        posix_roots={"lab": str(lab)},
        parts=1,  # one part in flight: at most one is lost with the process
        part_size_mib=PART_MIB,
        lease_seconds=2,
        poll_seconds=0.2,
    )
    settings = Settings(data_dir=data_dir, lifecycle_seconds=0, transfers=transfers)
    meta, services, _ = open_for_work(settings)
    owner = meta.create_user(f"u{uuid.uuid4().hex[:6]}").id
    svc = services.transfers
    svc.create_endpoint(owner, "lab", "posix", {"root": "lab"})
    svc.create_endpoint(
        owner,
        "store",
        "s3",
        {"url": server.url, "bucket": bucket},
        {"access_key": server.access_key, "secret_key": server.secret_key},
    )
    task, _ = svc.submit(
        owner,
        Submission(
            source="lab",
            destination="store",
            items=[{"source_path": "big.bin", "destination_path": "big.bin"}],
        ),
    )
    env = {
        **os.environ,
        "LADING_LIFECYCLE_SECONDS": "0",
        "LADING_TRANSFERS__POSIX_ROOTS": json.dumps({"lab": str(lab)}),
        "LADING_TRANSFERS__PARTS": "1",
        "LADING_TRANSFERS__PART_SIZE_MIB": str(PART_MIB),
        "LADING_TRANSFERS__LEASE_SECONDS": "2",
        "LADING_TRANSFERS__POLL_SECONDS": "0.2",
    }
    log = tmp_path / "worker.log"
    first = start_worker(data_dir, env, log)
    try:
        deadline = time.monotonic() + 300
        while parts_done(meta) < 3:
            assert first.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
    finally:
        kill(first)
    done_before = parts_done(meta)
    assert 3 <= done_before < GiB // PART
    second = start_worker(data_dir, env, log)
    try:
        ended = svc.wait(owner, task["task_id"], timeout=300)
    finally:
        kill(second)
    assert ended["status"] == "SUCCEEDED", (ended, log.read_text())
    # the dead worker never recorded its counters: these are the second worker's bytes,
    # exactly the parts the checkpoint lacked; the first had sent those `done_before` parts
    # and at most one more, so less than two parts' worth crossed the wire twice
    assert ended["bytes_transferred"] == GiB - done_before * PART
    copied = [e for e in svc.events(owner, task["task_id"]) if e["kind"] == "copied"]
    assert [e["details"]["parts_resumed"] for e in copied] == [done_before]
    got = hashlib.md5()
    for chunk in s3.get_object(Bucket=bucket, Key="big.bin")["Body"].iter_chunks(1 << 20):
        got.update(chunk)
    assert got.hexdigest() == md5.hexdigest()
    meta.engine.dispose()
