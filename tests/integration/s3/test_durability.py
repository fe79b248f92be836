"""Acknowledged means durable: SIGKILL the server during concurrent uploads, restart, verify."""

from __future__ import annotations

import base64
import hashlib
import random
import threading
import time
import zlib
from pathlib import Path

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from lading.testing.server import serving
from tests.conftest import INLINE_LIMIT, half_written, make_client, stored_blobs

pytestmark = pytest.mark.slow


def payload(key: str) -> bytes:
    """Deterministic content for a key (so unacknowledged writes can be checked too)."""
    rng = random.Random(key)
    return rng.randbytes(rng.choice([0, 1, 4096, 70_000, 1_500_000]))


def test_sigkill_during_uploads_loses_nothing_acknowledged(tmp_path: Path) -> None:
    with serving(tmp_path / "data") as server:
        client = make_client(server.url, server.access_key, server.secret_key)
        client.create_bucket(Bucket="durable")
        acknowledged: set[str] = set()
        attempted: set[str] = set()
        lock = threading.Lock()
        stop = threading.Event()

        def uploader(worker: int) -> None:
            own = make_client(server.url, server.access_key, server.secret_key)
            n = 0
            while not stop.is_set():
                key = f"w{worker}/obj-{n:05d}"
                n += 1
                with lock:
                    attempted.add(key)
                try:
                    own.put_object(Bucket="durable", Key=key, Body=payload(key))
                except (ClientError, BotoCoreError, OSError):
                    return  # the server died under us
                with lock:
                    acknowledged.add(key)

        threads = [threading.Thread(target=uploader, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # SIGKILL, mid-flight
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert len(acknowledged) >= 150

        server.restart()
        client = make_client(server.url, server.access_key, server.secret_key)
        listed = {
            obj["Key"]
            for page in client.get_paginator("list_objects_v2").paginate(Bucket="durable")
            for obj in page.get("Contents", [])
        }
        assert acknowledged <= listed, "an acknowledged upload is missing after the crash"
        assert listed <= attempted
        for key in sorted(listed):
            expected = payload(key)
            got = client.get_object(Bucket="durable", Key=key, ChecksumMode="ENABLED")
            assert got["Body"].read() == expected, f"{key} is torn"
            assert (
                got["ChecksumCRC32"]
                == base64.b64encode(zlib.crc32(expected).to_bytes(4, "big")).decode()
            )
            assert got["ETag"] == f'"{hashlib.md5(expected).hexdigest()}"'
        # the start-up sweep removed every half-written or unreferenced blob; objects up to
        # the inline limit keep their bytes in the database instead of a file
        assert not half_written(server.data_dir)
        small = {key for key in listed if len(payload(key)) <= INLINE_LIMIT}
        assert small and small != listed, "both kinds of blob were written"
        assert stored_blobs(server.data_dir) == (len(listed - small), len(small))


def test_the_wal_is_checkpointed_in_the_background(tmp_path: Path) -> None:
    env = {"LADING_METADATA__CHECKPOINT_SECONDS": "0.2"}
    with serving(tmp_path / "data", env=env) as server:
        client = make_client(server.url, server.access_key, server.secret_key)
        client.create_bucket(Bucket="wal")
        database = server.data_dir / "metadata.db"
        time.sleep(0.5)
        before = database.stat().st_size
        for i in range(400):
            client.put_object(Bucket="wal", Key=f"k{i:04d}" + "x" * 200, Body=b"x")
        deadline = time.monotonic() + 10
        while database.stat().st_size <= before and time.monotonic() < deadline:
            time.sleep(0.1)
        # commits leave the WAL alone (no auto-checkpoint): only the task copies pages back
        assert database.stat().st_size > before
        assert len(client.list_objects_v2(Bucket="wal")["Contents"]) == 400
