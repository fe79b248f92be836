"""A `lading cp` killed with SIGKILL in the middle of a 1 GiB multipart upload resumes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lading.testing.server import RunningServer

GiB = 1024**3
PART = 64 * 1024 * 1024


def checkpointed_parts(directory: Path) -> int:
    found = 0
    for path in directory.glob("*.json"):
        try:
            found = max(found, len(json.loads(path.read_text())["parts"]))
        except (ValueError, KeyError, FileNotFoundError):
            continue
    return found


@pytest.mark.slow
def test_a_killed_upload_resumes_from_its_last_part(
    server: RunningServer, s3: Any, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "one-gib.bin"
    md5 = hashlib.md5()
    with source.open("wb") as f:
        for _ in range(GiB // (16 * 1024 * 1024)):
            block = os.urandom(16 * 1024 * 1024)
            md5.update(block)
            f.write(block)
    checkpoints = tmp_path / "checkpoints"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "LADING_ENDPOINT": server.url,
    }
    # one part at a time, so at most one part is in flight when the process dies
    args = [sys.executable, "-m", "lading", "cp", str(source), f"s3://{bucket}/big.bin"]
    args += ["--parts", "1", "--part-size", "64", "--checkpoint-dir", str(checkpoints), "--json"]
    first = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while checkpointed_parts(checkpoints) < 3:
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    done_before = checkpointed_parts(checkpoints)
    assert 3 <= done_before < GiB // PART

    second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    # only the parts the checkpoint lacked were sent again: the first run had sent those
    # `done_before` parts and at most one more (in flight when it died), so less than two
    # parts' worth of bytes crossed the wire twice
    assert summary["bytes_transferred"] == GiB - done_before * PART
    assert summary["files_copied"] == 1 and summary["retries"] == 0
    got = hashlib.md5()
    for chunk in s3.get_object(Bucket=bucket, Key="big.bin")["Body"].iter_chunks(1 << 20):
        got.update(chunk)
    assert got.hexdigest() == md5.hexdigest()
    assert list(checkpoints.glob("*.json")) == []  # dropped once the file is complete
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
