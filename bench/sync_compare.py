#!/usr/bin/env python3
"""`lading sync` against `rclone sync` (Debian's rclone, S3 remote), side by side, one run.

Both upload the same local trees to the same Lading server (a fresh bucket each), one tool
after the other, with each tool's default settings: 10,000 files of 4 KiB, 20 files of
100 MiB, then a re-run of the small tree with nothing changed. Wall time and the peak RSS of
the tool's process (wait4's ru_maxrss) are printed as a Markdown table.

    .venv/bin/python bench/sync_compare.py [--small-files 10000] [--small-kib 4]
        [--large-files 20] [--large-mib 100] [--workers 2] [--scratch /tmp] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from lading.testing.server import serving


def log(msg: str) -> None:
    print(f"[sync-compare {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def make_tree(root: Path, files: int, size: int) -> None:
    """`files` random files of `size` bytes, 100 to a directory."""
    for i in range(files):
        path = root / f"d{i // 100:04d}" / f"f{i:06d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            left = size
            while left:
                n = min(left, 16 * 1024 * 1024)
                f.write(os.urandom(n))
                left -= n


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in MiB, stderr tail) of one process; raises if it fails.

    The tool is started by GNU time when there is one: a child forked from this (large)
    Python process inherits its RSS high-water mark across exec, so wait4's ru_maxrss would
    never report less than this process's own size.
    """
    gnu_time = Path("/usr/bin/time")
    report = Path(tempfile.mkstemp(prefix="sync-compare-rss-")[1])
    launch = [str(gnu_time), "-q", "-f", "%M", "-o", str(report)] if gnu_time.exists() else []
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*launch, *cmd], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}):\n{out}\n{err}")
    peak_kib = usage.ru_maxrss
    if launch:
        peak_kib = int(report.read_text().split()[-1])
    report.unlink()
    return wall, peak_kib // 1024, (out + err).strip()[-300:]


def count_objects(s3: Any, bucket: str) -> tuple[int, int]:
    files = size = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            files += 1
            size += obj["Size"]
    return files, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-files", type=int, default=10_000)
    parser.add_argument("--small-kib", type=int, default=4)
    parser.add_argument("--large-files", type=int, default=20)
    parser.add_argument("--large-mib", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="lading serve --workers")
    parser.add_argument("--scratch", default=tempfile.gettempdir())
    parser.add_argument("--json", dest="json_out")
    args = parser.parse_args()
    rclone = shutil.which("rclone")
    if rclone is None:
        sys.exit("rclone is not installed (apt-get install rclone)")
    version = subprocess.run([rclone, "version"], capture_output=True, text=True).stdout
    lading = [sys.executable, "-m", "lading"]

    work = Path(tempfile.mkdtemp(prefix="sync-compare-", dir=args.scratch))
    rows: list[dict[str, Any]] = []
    try:
        small, large = work / "small", work / "large"
        log(
            f"writing {args.small_files} x {args.small_kib} KiB and "
            f"{args.large_files} x {args.large_mib} MiB under {work}"
        )
        make_tree(small, args.small_files, args.small_kib * 1024)
        make_tree(large, args.large_files, args.large_mib * 1024 * 1024)
        extra = ["--workers", str(args.workers)] if args.workers > 1 else []
        with serving(work / "server", extra_args=extra, timeout=60) as server:
            s3 = boto3.client(
                "s3",
                endpoint_url=server.url,
                aws_access_key_id=server.access_key,
                aws_secret_access_key=server.secret_key,
                region_name="us-east-1",
                config=Config(s3={"addressing_style": "path"}),
            )
            # loopback HTTP: a CA bundle from the environment only trips rclone's S3 client up
            base = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
            env = {
                **base,
                "HOME": str(work),
                "AWS_ACCESS_KEY_ID": server.access_key,
                "AWS_SECRET_ACCESS_KEY": server.secret_key,
                "AWS_DEFAULT_REGION": "us-east-1",
                "LADING_ENDPOINT": server.url,
                "RCLONE_CONFIG": str(work / "rclone.conf"),
                "RCLONE_CONFIG_LADING_TYPE": "s3",
                "RCLONE_CONFIG_LADING_PROVIDER": "Other",
                "RCLONE_CONFIG_LADING_ENDPOINT": server.url,
                "RCLONE_CONFIG_LADING_ACCESS_KEY_ID": server.access_key,
                "RCLONE_CONFIG_LADING_SECRET_ACCESS_KEY": server.secret_key,
                "RCLONE_CONFIG_LADING_REGION": "us-east-1",
                "RCLONE_CONFIG_LADING_FORCE_PATH_STYLE": "true",
            }
            cases = [
                (f"{args.small_files} x {args.small_kib} KiB", small, False),
                (f"{args.large_files} x {args.large_mib} MiB", large, False),
                (f"re-run, nothing changed ({args.small_files} files)", small, True),
            ]
            buckets: dict[tuple[str, Path], str] = {}
            for name, tree, again in cases:
                row: dict[str, Any] = {"case": name}
                for tool in ("lading", "rclone"):
                    if again:
                        bucket = buckets[(tool, tree)]
                    else:
                        bucket = f"sync-{tool}-{uuid.uuid4().hex[:8]}"
                        s3.create_bucket(Bucket=bucket)
                        buckets[(tool, tree)] = bucket
                    if tool == "lading":
                        cmd = [*lading, "sync", str(tree), f"s3://{bucket}/data", "--json", "-q"]
                    else:
                        cmd = [rclone, "sync", str(tree), f"lading:{bucket}/data"]
                    log(f"{name}: {tool}")
                    wall, rss, tail = timed(cmd, env)
                    files, size = count_objects(s3, bucket)
                    row[tool] = {
                        "seconds": round(wall, 2),
                        "peak_rss_mib": rss,
                        "objects": files,
                        "bytes": size,
                    }
                    log(f"  {wall:.2f} s, {rss} MiB, {files} objects; {tail[-120:]!r}")
                rows.append(row)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    lines = [
        "| case | lading sync (s) | rclone sync (s) | lading peak RSS (MiB) "
        "| rclone peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        la, rc = row["lading"], row["rclone"]
        lines.append(
            f"| {row['case']} | {la['seconds']:.2f} | {rc['seconds']:.2f} "
            f"| {la['peak_rss_mib']} | {rc['peak_rss_mib']} |"
        )
    table = "\n".join(lines)
    print(table)
    print(
        f"\nrclone: {version.splitlines()[0] if version else '?'}; "
        f"lading serve --workers {args.workers}; {os.cpu_count()} CPUs"
    )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
