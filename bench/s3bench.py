#!/usr/bin/env python3
"""Benchmark one S3 endpoint: small-object PUT/GET (wrk, presigned SigV4), large PUT/GET (curl),
multipart PUT (boto3), ListObjectsV2 page latency; and the machine's own disk and loopback limits.

    python bench/s3bench.py --endpoint http://127.0.0.1:9101 --access-key K --secret-key S

Uses a fresh bucket pair per run and deletes them afterwards. Needs `wrk` and `curl`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

MiB = 1 << 20
LUA = Path(__file__).resolve().parent / "rotate.lua"
EXPIRY = 7 * 24 * 3600  # the SigV4 maximum
Metrics = dict[str, float | None]
DISK_WRITE = "machine: disk write, O_DIRECT (MiB/s)"
DISK_READ = "machine: disk read, O_DIRECT (MiB/s)"
CACHE_READ = "machine: page-cache read (MiB/s)"
CPU_BUSY = "machine: CPU busy before the run, % (others' load)"
LOOP_PUT = "machine: curl PUT to a discarding loopback server (MiB/s)"
LOOP_GET = "machine: curl GET from a sendfile loopback server (MiB/s)"


def log(msg: str) -> None:
    print(f"[s3bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def size_label(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", MiB), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} B"


def fmt(v: float | None) -> str:
    if v is None:
        return "–"
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def markdown_table(columns: dict[str, Metrics]) -> str:
    """Rows = the union of metric names (in first-seen order), one column per result."""
    rows = list(dict.fromkeys(k for metrics in columns.values() for k in metrics))
    lines = ["| measure | " + " | ".join(columns) + " |", "|---" + "|---:" * len(columns) + "|"]
    lines += [
        f"| {r} | " + " | ".join(fmt(c.get(r)) for c in columns.values()) + " |" for r in rows
    ]
    return "\n".join(lines)


def s3_client(a: argparse.Namespace) -> Any:
    cfg = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=10,
        read_timeout=300,
        max_pool_connections=32,
    )
    return boto3.client(
        "s3",
        endpoint_url=a.endpoint,
        aws_access_key_id=a.access_key,
        aws_secret_access_key=a.secret_key,
        region_name=a.region,
        config=cfg,
    )


def parallel(fn: Callable[[str], object], items: Iterable[str], workers: int = 32) -> None:
    """Run fn over items on a thread pool; on any error (or timeout) drop what has not started."""
    pool = ThreadPoolExecutor(workers)
    try:
        for _ in pool.map(fn, items):
            pass
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LC_ALL": "C"}
    return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=timeout, env=env)


def make_file(path: Path, size: int) -> Path:
    """A file of random content, on disk before it returns: left dirty, its 1.25 GiB went
    to disk 30 s later (the kernel's dirty_expire), in the small-object phases, and every
    fsync of the server then waited behind it (PUT c=1 p99 of 0.3-1.6 s, for any server)."""
    chunk = os.urandom(min(size, 64 * MiB))
    with path.open("wb") as f:
        for off in range(0, size, len(chunk)):
            f.write(chunk[: size - off])
        f.flush()
        os.fsync(f.fileno())
    return path


def dd(*args: str) -> float:
    """MiB/s of one dd run, as dd itself reports it."""
    err = run(["dd", "bs=4M", *args], timeout=600).stderr
    m = re.search(r"(\d+) bytes .*copied, ([\d.e+-]+) s", err)
    if not m:
        raise RuntimeError(f"cannot parse dd output: {err!r}")
    return int(m[1]) / MiB / float(m[2])


def cpu_busy(seconds: float = 2.0) -> float | None:
    """Share of all CPUs busy over a short sample (/proc/stat): anything else running now."""

    def sample() -> list[int]:
        return [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]

    try:
        before = sample()
        time.sleep(seconds)
        delta = [b - a for a, b in zip(before, sample(), strict=True)]
    except OSError:
        return None
    return 100 * (1 - (delta[3] + delta[4]) / (sum(delta) or 1))  # idle + iowait


def disk_limits(tmp: Path, src: Path) -> Metrics:
    """Disk write/read with O_DIRECT (random data from src, in page cache) and page-cache read."""
    target = tmp / "dd.bin"
    write = dd(f"if={src}", f"of={target}", "oflag=direct", "conv=fsync")
    read = dd(f"if={target}", "of=/dev/null", "iflag=direct")
    target.unlink()
    dd(f"if={src}", "of=/dev/null")  # make sure src is cached
    cached = dd(f"if={src}", "of=/dev/null")
    return {DISK_WRITE: write, DISK_READ: read, CACHE_READ: cached}


def loopback_limits(src: Path) -> Metrics:
    """curl PUT/GET of src against a trivial HTTP server on 127.0.0.1 that discards the upload
    or answers with sendfile(): the ceiling of one curl transfer over loopback."""
    size = src.stat().st_size
    srv = socket.create_server(("127.0.0.1", 0))
    ok = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n"

    def serve() -> None:
        for _ in range(2):
            conn, _ = srv.accept()
            with conn, conn.makefile("rb") as r, src.open("rb") as f:
                head = r.readline()
                while r.readline() not in (b"\r\n", b""):
                    pass
                if head.startswith(b"PUT"):
                    buf, left = memoryview(bytearray(MiB)), size
                    while left > 0 and (n := r.readinto(buf[: min(left, MiB)])):
                        left -= n
                    conn.sendall(ok.format(0).encode())
                else:
                    conn.sendall(ok.format(size).encode())
                    conn.sendfile(f)

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{srv.getsockname()[1]}/x"
    try:
        return {LOOP_PUT: curl(url, size, src), LOOP_GET: curl(url, size)}
    finally:
        srv.close()


def machine_limits(tmp: Path, big: Path, mp: Path, repeats: int) -> Metrics:
    """Best of `repeats` runs of each: the ceilings the server's transfers are compared with."""
    runs = [disk_limits(tmp, mp) | loopback_limits(big) for _ in range(repeats)]
    return {k: max(r[k] or 0.0 for r in runs) for k in runs[0]}


def presigned_paths(s3: Any, method: str, bucket: str, keys: list[str]) -> list[str]:
    op = {"GET": "get_object", "PUT": "put_object"}[method]
    urls = (
        s3.generate_presigned_url(op, Params={"Bucket": bucket, "Key": k}, ExpiresIn=EXPIRY)
        for k in keys
    )
    return [f"{u.path}?{u.query}" for u in map(urlsplit, urls)]


def wrk_phase(
    endpoint: str, paths: Path, method: str, body: int, conns: int, duration: int
) -> dict[str, float]:
    """One wrk run (one thread, `conns` keep-alive connections) rotating through presigned paths."""
    base = f"{endpoint.rstrip('/')}/"
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--timeout", "10s", "-s", str(LUA), base]
    out = run([*cmd, "--", str(paths), method, str(body)], timeout=duration + 60).stdout
    stats = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    ok = stats["requests"] - stats["errors_status"]
    return {
        "ops": ok / (stats["duration_us"] / 1e6),
        "p50_ms": stats["p50_us"] / 1000,
        "p99_ms": stats["p99_us"] / 1000,
        "errors": stats["errors_status"] + stats["errors_socket"],
        "requests": stats["requests"],
    }


def small_objects(s3: Any, a: argparse.Namespace, bucket: str, tmp: Path) -> Metrics:
    get_keys = [f"get/{i:06d}" for i in range(a.small_keys)]
    body = os.urandom(a.small_size)
    log(f"uploading {a.small_keys} x {size_label(a.small_size)} objects for the GET phases")
    parallel(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=body), get_keys)
    put_keys = [f"put/{i:06d}" for i in range(a.small_keys)]
    m: Metrics = {}
    errors = 0
    for method, keys in (("PUT", put_keys), ("GET", get_keys)):
        paths = tmp / f"{method}.paths"
        paths.write_text("\n".join(presigned_paths(s3, method, bucket, keys)) + "\n")
        for conns in a.concurrency:
            log(f"wrk {method} {size_label(a.small_size)} c={conns} for {a.duration} s")
            size = a.small_size if method == "PUT" else 0
            r = wrk_phase(a.endpoint, paths, method, size, conns, a.duration)
            name = f"{size_label(a.small_size)} {method} c={conns}"
            m[f"{name}: ops/s"] = r["ops"]
            m[f"{name}: p50 ms"] = r["p50_ms"]
            m[f"{name}: p99 ms"] = r["p99_ms"]
            errors += int(r["errors"])
    m[f"{size_label(a.small_size)}: failed requests (all wrk runs)"] = errors
    return m


def curl(url: str, size: int, upload: Path | None = None) -> float:
    """MiB/s of one curl transfer (PUT of `upload`, else GET to /dev/null); checks the size."""
    cmd = ["curl", "-sS", "--fail", "--max-time", "600", "-o", "/dev/null"]
    cmd += ["-w", "%{time_total} %{size_upload} %{size_download}", url]
    if upload:
        cmd += ["-T", str(upload), "-H", "Expect:"]
    secs, up, down = (float(x) for x in run(cmd, timeout=660).stdout.split())
    if max(up, down) != size:
        raise RuntimeError(f"curl moved {max(up, down):.0f} bytes, expected {size}")
    return size / MiB / secs


def large_objects(
    s3: Any, a: argparse.Namespace, bucket: str, big: Path, mp: Path, machine: Metrics
) -> Metrics:
    def url(op: str, key: str) -> str:
        params = {"Bucket": bucket, "Key": key}
        return str(s3.generate_presigned_url(op, Params=params, ExpiresIn=EXPIRY))

    size, label = big.stat().st_size, size_label(big.stat().st_size)
    log(f"curl PUT + GET {label}, {a.repeats} times each (median)")
    put = statistics.median(curl(url("put_object", "large"), size, big) for _ in range(a.repeats))
    get = statistics.median(curl(url("get_object", "large"), size) for _ in range(a.repeats))

    mp_size, mp_label = mp.stat().st_size, size_label(mp.stat().st_size)
    log(f"boto3 multipart PUT {mp_label} (64 MiB parts, 8 threads), then curl GET")
    chunk = 64 * MiB
    tc = TransferConfig(multipart_threshold=chunk, multipart_chunksize=chunk, max_concurrency=8)
    t0 = time.perf_counter()
    s3.upload_file(str(mp), bucket, "multipart", Config=tc)
    mpu = mp_size / MiB / (time.perf_counter() - t0)
    return {
        f"{label} PUT, one request (MiB/s)": put,
        f"{label} PUT as % of disk write": 100 * put / (machine[DISK_WRITE] or 1),
        f"{label} PUT as % of loopback curl PUT": 100 * put / (machine[LOOP_PUT] or 1),
        f"{label} GET (MiB/s)": get,
        f"{label} GET as % of page-cache read": 100 * get / (machine[CACHE_READ] or 1),
        f"{label} GET as % of loopback curl GET": 100 * get / (machine[LOOP_GET] or 1),
        f"{mp_label} multipart PUT, boto3 (MiB/s)": mpu,
        f"{mp_label} GET of the multipart object (MiB/s)": curl(
            url("get_object", "multipart"), mp_size
        ),
    }


def listing(a: argparse.Namespace, bucket: str) -> Metrics:
    """Page latency = request sent .. body received (botocore's XML parsing excluded);
    full listing = wall time of the boto3 paginator, parsing included."""
    s3 = s3_client(a)  # own client: the timing hooks stay off the others
    body = b"x"
    keys = [f"k/{i:07d}" for i in range(a.list_keys)]
    log(f"creating {a.list_keys} keys for the listing (not timed)")
    parallel(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=body), keys)
    pages: list[float] = []
    sent = 0.0

    def on_send(**_: object) -> None:
        nonlocal sent
        sent = time.perf_counter()

    def on_parse(**_: object) -> None:
        pages.append(time.perf_counter() - sent)

    s3.meta.events.register("before-send.s3.ListObjectsV2", on_send)
    s3.meta.events.register("before-parse.s3.ListObjectsV2", on_parse)
    full: list[float] = []
    log(f"listing {a.list_keys} keys in 1,000-key pages, {a.list_repeats} times")
    # the client's cyclic garbage collector stays off while listings are timed (it runs
    # before each): the objects of parsed pages set it off, and its pauses of up to ~70 ms
    # landed on whichever request was in flight, making the p99 the client's, not the server's
    gc.disable()
    try:
        for _ in range(a.list_repeats):
            gc.collect()
            t0 = time.perf_counter()
            paginator = s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, PaginationConfig={"PageSize": 1000}
            )
            n = sum(len(p.get("Contents", [])) for p in paginator)
            full.append(time.perf_counter() - t0)
            if n != a.list_keys:
                raise RuntimeError(f"listed {n} keys, expected {a.list_keys}")
    finally:
        gc.enable()
    q = statistics.quantiles(pages, n=100, method="inclusive")
    return {
        "ListObjectsV2 1,000-key page: p50 ms": statistics.median(pages) * 1000,
        "ListObjectsV2 1,000-key page: p99 ms": q[98] * 1000,
        f"ListObjectsV2 all {a.list_keys:,} keys, boto3 (s)": statistics.median(full),
    }


def delete_bucket(s3: Any, bucket: str) -> None:
    try:
        for up in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=up["Key"], UploadId=up["UploadId"])
    except ClientError:
        pass
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
    for i in range(0, len(keys), 1000):
        chunk = keys[i : i + 1000]
        try:
            objs = [{"Key": k} for k in chunk]
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objs, "Quiet": True})
        except ClientError:
            parallel(lambda k: s3.delete_object(Bucket=bucket, Key=k), chunk)
    s3.delete_bucket(Bucket=bucket)


def bench(a: argparse.Namespace) -> dict[str, Any]:
    s3 = s3_client(a)
    run_id = f"s3bench-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    buckets = [run_id, f"{run_id}-list"]
    tmp = Path(tempfile.mkdtemp(prefix="s3bench-", dir=a.scratch))
    m: Metrics = {}
    created: list[str] = []
    try:
        log(f"writing test files under {tmp}; measuring the disk")
        big = make_file(tmp / "large.bin", a.large_mib * MiB)
        mp = make_file(tmp / "multipart.bin", a.multipart_mib * MiB)
        machine = {CPU_BUSY: cpu_busy()} | machine_limits(tmp, big, mp, a.repeats)
        loc = {} if a.region == "us-east-1" else {"LocationConstraint": a.region}
        for b in buckets:
            s3.create_bucket(Bucket=b, **({"CreateBucketConfiguration": loc} if loc else {}))
            created.append(b)
        m |= small_objects(s3, a, buckets[0], tmp)
        m |= large_objects(s3, a, buckets[0], big, mp, machine)
        m |= listing(a, buckets[1])
        m |= machine
    finally:
        for b in created:
            try:
                log(f"deleting bucket {b}")
                delete_bucket(s3, b)
            except Exception as e:  # cleanup is best effort
                log(f"could not delete bucket {b}: {e}")
        shutil.rmtree(tmp, ignore_errors=True)
    settings = {k: v for k, v in vars(a).items() if k != "secret_key"}
    return {"endpoint": a.endpoint, "bucket": run_id, "settings": settings, "metrics": m}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--endpoint", required=True, help="e.g. http://127.0.0.1:9101")
    p.add_argument("--access-key", required=True)
    p.add_argument("--secret-key", required=True)
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    p.add_argument("--small-size", type=int, default=4096, help="bytes (default 4096)")
    p.add_argument("--small-keys", type=int, default=1000, help="keys rotated through by wrk")
    p.add_argument("--large-mib", type=int, default=256)
    p.add_argument("--multipart-mib", type=int, default=1024)
    p.add_argument("--list-keys", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=3, help="large PUT/GET (median)")
    p.add_argument("--list-repeats", type=int, default=5, help="full listings")
    p.add_argument("--scratch", default=tempfile.gettempdir(), help="test files and dd target")
    p.add_argument("--timeout", type=int, default=1800, help="abort the run after this many s")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    for tool in ("wrk", "curl", "dd"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (apt-get install -y wrk curl)")
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        os.environ.pop(var, None)  # never measure through a proxy

    def on_alarm(signum: int, frame: object) -> None:
        raise TimeoutError(f"s3bench exceeded --timeout {a.timeout} s")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(a.timeout)
    result = bench(a)
    signal.alarm(0)
    print(markdown_table({a.endpoint: result["metrics"]}))
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
