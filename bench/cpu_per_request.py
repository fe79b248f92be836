#!/usr/bin/env python3
"""Server CPU time per small S3 request: PUT, GET and HEAD of 4 KiB objects, ListObjectsV2 pages.

    .venv/bin/python bench/cpu_per_request.py [--requests 5000] [--concurrency 32]
        [--workers 1] [--size 4096] [--auth presigned|header] [--server uvicorn|granian]
        [--list-repeats 20] [--settle 3] [--profile DIR] [--json OUT]

Starts `python -m lading serve` (this venv) on a free port with a fresh data directory, creates
a bucket, then for each operation sends `--requests` requests over `--concurrency` keep-alive
connections (a small asyncio HTTP/1.1 client; every request signed beforehand, so the client
does no signing while it is timed) and reads the CPU time (utime + stime, /proc/PID/stat) of
every process of the server's session before and after. CPU microseconds per request is the
difference over the count. It moves much less than requests per second when other processes
share the machine, but it still moves (cache and hyperthread contention, more wake-ups per
request): compare versions in runs made one after the other. The server's idle CPU rate is
measured for three seconds first; each operation's figure also counts the `--settle` seconds
after its last response (the work its requests left to background tasks: WAL checkpoints,
audit flushes) less the idle rate over that time.

`--auth presigned` (the default) signs like bench/s3bench.py's wrk runs (query string,
`UNSIGNED-PAYLOAD`); `--auth header` signs like an SDK (Authorization header and the payload's
SHA-256). `--profile DIR` samples the server with py-spy (not a dependency of Lading: `pip install
py-spy`) during each operation and writes DIR/OPERATION.txt, py-spy's collapsed stacks of the
threads holding the GIL, i.e. Python's own CPU time (CPU figures are then inflated by the
sampler).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

HERE = Path(__file__).resolve().parent
KEYS = {"access": "benchadmin", "secret": "benchadmin-secret-0123456789"}
REGION = "us-east-1"
TICK = os.sysconf("SC_CLK_TCK")
Request = tuple[str, str, bytes]  # method, path with query, body


def log(msg: str) -> None:
    print(f"[cpu {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def session_cpu(sid: int) -> tuple[float, float]:
    """CPU seconds (user, system) of every live process in session `sid`."""
    user = system = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(entry.path, "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[3]) == sid:  # field 6, session
                user += int(fields[11])  # field 14, utime
                system += int(fields[12])  # field 15, stime
    return user / TICK, system / TICK


@contextlib.contextmanager
def server(a: argparse.Namespace) -> Iterator[tuple[str, int]]:
    """`python -m lading serve` on a free port and a fresh data dir; yields (endpoint, sid)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tempfile.mkdtemp(prefix="lading-cpu-")
    cmd = [sys.executable, "-m", "lading", "serve", "--data-dir", data, "--address"]
    cmd += [f"127.0.0.1:{port}", "--workers", str(a.workers)]
    env = os.environ | {
        "LADING_ROOT_ACCESS_KEY": KEYS["access"],
        "LADING_ROOT_SECRET_KEY": KEYS["secret"],
        "LADING_SERVER": a.server,
        "LADING_LOG_LEVEL": "warning",
    }
    out = open(Path(data).with_suffix(".log"), "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=HERE.parent,
        start_new_session=True,
    )  # fmt: skip
    try:
        endpoint = f"http://127.0.0.1:{port}"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"lading serve did not start; see {out.name}")
            with contextlib.suppress(OSError), opener.open(f"{endpoint}/_/health") as r:
                if r.status == 200:
                    break
            time.sleep(0.2)
        yield endpoint, proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        out.close()
        shutil.rmtree(data, ignore_errors=True)
        Path(out.name).unlink(missing_ok=True)


class Signer:
    def __init__(self, endpoint: str, auth: str) -> None:
        self.endpoint = endpoint
        self.auth = auth
        cfg = Config(signature_version="s3v4", s3={"addressing_style": "path"})
        self.s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=KEYS["access"],
            aws_secret_access_key=KEYS["secret"],
            region_name=REGION,
            config=cfg,
        )
        self.sigv4 = SigV4Auth(Credentials(KEYS["access"], KEYS["secret"]), "s3", REGION)

    def request(self, method: str, bucket: str, key: str, body: bytes = b"") -> bytes:
        """The bytes of one signed HTTP/1.1 request."""
        path = f"/{bucket}/{quote(key)}"
        host = urlsplit(self.endpoint).netloc
        if self.auth == "presigned":
            op = {"GET": "get_object", "PUT": "put_object", "HEAD": "head_object"}[method]
            url = urlsplit(
                self.s3.generate_presigned_url(op, Params={"Bucket": bucket, "Key": key})
            )
            headers = {"Host": host}
            target = f"{url.path}?{url.query}"
        else:
            raw = AWSRequest(method=method, url=f"{self.endpoint}{path}", data=body)
            raw.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
            self.sigv4.add_auth(raw)
            headers = {"Host": host, **dict(raw.headers.items())}
            target = path
        return http_bytes(method, target, headers, body)

    def list_page(self, bucket: str, token: str | None) -> bytes:
        host = urlsplit(self.endpoint).netloc
        query = "list-type=2&max-keys=1000" + (
            f"&continuation-token={quote(token)}" if token else ""
        )
        raw = AWSRequest(method="GET", url=f"{self.endpoint}/{bucket}?{query}")
        raw.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
        self.sigv4.add_auth(raw)
        return http_bytes("GET", f"/{bucket}?{query}", {"Host": host, **dict(raw.headers.items())})


def http_bytes(method: str, target: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    host = headers["Host"]
    headers = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "host")}
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if method == "PUT":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes, head: bool
) -> tuple[int, bytes]:
    writer.write(request)
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    chunked = False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "transfer-encoding" and "chunked" in value:
            chunked = True
    if head:
        return status, b""
    if chunked:
        body = b""
        while size := int((await reader.readline()).strip(), 16):
            body += await reader.readexactly(size)
            await reader.readline()
        await reader.readline()
        return status, body
    return status, await reader.readexactly(length)


async def run_all(host: str, port: int, requests: list[bytes], head: bool, conc: int) -> None:
    queue = iter(requests)
    failed: list[int] = []

    async def one_connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for request in queue:
                status, _ = await exchange(reader, writer, request, head)
                if status >= 300:
                    failed.append(status)
        finally:
            writer.close()

    await asyncio.gather(*(one_connection() for _ in range(conc)))
    if failed:
        raise RuntimeError(f"{len(failed)} requests failed, e.g. status {failed[0]}")


def timed(
    sid: int,
    fn: Any,
    profile: Path | None = None,
    settle: float = 0.0,
    idle: tuple[float, float] = (0.0, 0.0),
) -> tuple[float, float]:
    """Server CPU seconds (user, system) spent while fn runs and for `settle` seconds after
    it (work the requests left behind: WAL checkpoints, audit flushes), less the idle rate
    over the settle time; sampled by py-spy into `profile` if given."""
    spy = None
    if profile is not None:
        profile.parent.mkdir(parents=True, exist_ok=True)
        spy_bin = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        cmd = [spy_bin, "record", "--format", "raw", "--rate", "250", "--subprocesses", "--gil"]
        cmd += ["--nonblocking", "-o", str(profile), "--pid", str(sid)]
        spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # py-spy attaches
    before = session_cpu(sid)
    fn()
    time.sleep(settle)
    after = session_cpu(sid)
    spent = (
        after[0] - before[0] - idle[0] * settle,
        after[1] - before[1] - idle[1] * settle,
    )
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)
    return spent


def per_request(cpu: tuple[float, float], count: int, wall: float) -> dict[str, float]:
    return {
        "cpu_us_per_request": round(sum(cpu) / count * 1e6),
        "user_us": round(cpu[0] / count * 1e6),
        "system_us": round(cpu[1] / count * 1e6),
        "requests_per_s": round(count / wall, 1),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--requests", type=int, default=5000, help="requests per operation")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--workers", type=int, default=1, help="lading serve --workers")
    p.add_argument("--size", type=int, default=4096, help="object size, bytes")
    p.add_argument("--auth", choices=["presigned", "header"], default="presigned")
    p.add_argument("--server", choices=["uvicorn", "granian"], default="uvicorn")
    p.add_argument("--list-repeats", type=int, default=20, help="full listings of the bucket")
    p.add_argument(
        "--settle", type=float, default=3.0, help="seconds counted after each operation, s"
    )
    p.add_argument("--profile", type=Path, help="run the server under cProfile, stats to DIR")
    p.add_argument("--json", type=Path, help="also save the results here")
    a = p.parse_args()

    results: dict[str, Any] = {"args": {k: str(v) for k, v in vars(a).items()}}
    with server(a) as (endpoint, sid):
        host, port = urlsplit(endpoint).hostname or "", urlsplit(endpoint).port or 0
        signer = Signer(endpoint, a.auth)
        bucket = f"cpu-{uuid.uuid4().hex[:12]}"
        signer.s3.create_bucket(Bucket=bucket)
        keys = [f"obj/{i:07d}" for i in range(a.requests)]
        body = os.urandom(a.size)
        log(f"server up at {endpoint}; signing {3 * a.requests} requests")
        ops = {
            "PUT": [signer.request("PUT", bucket, k, body) for k in keys],
            "GET": [signer.request("GET", bucket, k) for k in keys],
            "HEAD": [signer.request("HEAD", bucket, k) for k in keys],
        }
        quiet = timed(sid, lambda: time.sleep(3.0))
        idle = quiet[0] / 3.0, quiet[1] / 3.0
        results["idle_cpu_ms_per_s"] = round(sum(idle) * 1000, 1)
        for op, requests in ops.items():
            t0 = time.monotonic()
            cpu = timed(
                sid,
                lambda r=requests, h=(op == "HEAD"): asyncio.run(  # type: ignore[misc]
                    run_all(host, port, r, h, a.concurrency)
                ),
                a.profile / f"{op}.txt" if a.profile else None,
                a.settle,
                idle,
            )
            wall = time.monotonic() - t0 - a.settle
            results[op] = per_request(cpu, len(requests), wall)
            log(f"{op}: {results[op]}")

        pages = 0

        async def listings() -> None:
            nonlocal pages
            reader, writer = await asyncio.open_connection(host, port)
            try:
                for _ in range(a.list_repeats):
                    token: str | None = None
                    while True:
                        _, xml = await exchange(
                            reader, writer, signer.list_page(bucket, token), False
                        )
                        pages += 1
                        marker = xml.find(b"<NextContinuationToken>")
                        if marker < 0:
                            break
                        end = xml.index(b"</", marker + 23)
                        token = xml[marker + 23 : end].decode()
            finally:
                writer.close()

        t0 = time.monotonic()
        cpu = timed(
            sid,
            lambda: asyncio.run(listings()),
            a.profile / "LIST.txt" if a.profile else None,
            a.settle,
            idle,
        )
        results["LIST page (1000 keys)"] = per_request(cpu, pages, time.monotonic() - t0 - a.settle)
        log(f"LIST: {results['LIST page (1000 keys)']}")
    print(json.dumps(results, indent=2))
    if a.json:
        a.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
