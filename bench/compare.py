#!/usr/bin/env python3
"""Run s3bench.py against Lading, moto and Ceph radosgw ONE AFTER THE OTHER (each server is
started, measured and stopped before the next one starts) and print a side-by-side Markdown
table. Per-server JSON, the combined JSON and the table are saved under bench/results/.

    .venv/bin/python bench/compare.py [--peers lading,moto,radosgw] [--lading-workers N]
                                      [--rounds N] [--install]
                                      [any s3bench.py option, e.g. --duration 5]

With --rounds N (default 1) the peers are measured N times, the order reversed every other
round (A B, B A, A B, ...) so that a machine that drifts favours nobody, and the table shows
each line's median over the rounds; every round's figures are in the combined JSON. On a small
shared VM one peer's figures can move 2x from one run to the next: 3 rounds or more decide a
ratio, one run does not.

Peers come from peers.sh ($PEERS_SH, default ../shared/peers/peers.sh next to the repo).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from s3bench import Metrics, markdown_table, parse_args

HERE = Path(__file__).resolve().parent
PEERS_SH = os.environ.get("PEERS_SH", str(HERE.parent.parent / "shared" / "peers" / "peers.sh"))
LADING_KEYS = {"ACCESS_KEY": "benchadmin", "SECRET_KEY": "benchadmin-secret-0123456789"}
Server = dict[str, str]  # ENDPOINT, ACCESS_KEY, SECRET_KEY, REGION, STARTUP_S, VERSION


def log(msg: str) -> None:
    print(f"[compare {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def peer(name: str) -> Iterator[Server]:
    """Start a peer with peers.sh, yield what it printed, and always stop it."""
    try:
        cmd = [PEERS_SH, "start", name]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=900).stdout
        yield dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    finally:
        subprocess.run([PEERS_SH, "stop", name], check=False, timeout=300)


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"lading serve exited with status {proc.returncode}")
        with contextlib.suppress(OSError), opener.open(url, timeout=2) as r:
            if r.status == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer 200 within {timeout} s")


@contextlib.contextmanager
def lading(workers: int | None, log_path: Path) -> Iterator[Server]:
    """`python -m lading serve` (this venv) on a free port and a fresh data dir."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tempfile.mkdtemp(prefix="lading-bench-")
    cmd = [sys.executable, "-m", "lading", "serve", "--data-dir", data]
    cmd += ["--address", f"127.0.0.1:{port}"] + (["--workers", str(workers)] if workers else [])
    env = os.environ | {
        "LADING_ROOT_ACCESS_KEY": LADING_KEYS["ACCESS_KEY"],
        "LADING_ROOT_SECRET_KEY": LADING_KEYS["SECRET_KEY"],
    }
    t0 = time.monotonic()
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=HERE.parent,
            start_new_session=True,  # its own process group: workers are stopped with it
        )  # fmt: skip
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_healthy(f"{endpoint}/_/health", proc, timeout=120)
        try:
            version = "lading " + importlib.metadata.version("lading")
        except importlib.metadata.PackageNotFoundError:
            version = "lading"
        startup = f"{time.monotonic() - t0:.1f}"
        yield {"ENDPOINT": endpoint, **LADING_KEYS, "STARTUP_S": startup, "VERSION": version}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                log("lading did not stop on SIGTERM within 30 s; killing its process group")
            os.killpg(proc.pid, signal.SIGKILL)  # stragglers of the group, if any
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)


def measure(srv: Server, out: Path, timeout: int, extra: list[str]) -> Metrics:
    cmd = [sys.executable, str(HERE / "s3bench.py"), "--endpoint", srv["ENDPOINT"]]
    cmd += ["--access-key", srv["ACCESS_KEY"], "--secret-key", srv["SECRET_KEY"]]
    cmd += ["--region", srv.get("REGION", "us-east-1"), "--json", str(out)]
    cmd += ["--timeout", str(timeout), *extra]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, timeout=timeout + 300)
    metrics: Metrics = json.loads(out.read_text())["metrics"]
    return metrics


def medians(rounds: list[Metrics]) -> Metrics:
    """Each line's median over the rounds that measured it (one round: its own figures)."""
    lines = list(dict.fromkeys(line for metrics in rounds for line in metrics))
    out: Metrics = {}
    for line in lines:
        values = [v for metrics in rounds if (v := metrics.get(line)) is not None]
        out[line] = statistics.median(values) if values else None
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--peers", default="lading,moto,radosgw", help="comma-separated, in order")
    p.add_argument("--lading-workers", type=int, help="passed as `lading serve --workers N`")
    p.add_argument("--install", action="store_true", help="peers.sh install bench + peers")
    p.add_argument("--timeout", type=int, default=1800, help="s3bench limit per server, s")
    p.add_argument("--results", type=Path, default=HERE / "results")
    p.add_argument("--rounds", type=int, default=1, help="measure every peer N times (medians)")
    a, extra = p.parse_known_args()
    if a.rounds < 1:
        p.error("--rounds must be at least 1")
    parse_args(["--endpoint=-", "--access-key=-", "--secret-key=-", *extra])  # fail early
    stamp = time.strftime("%Y%m%d-%H%M%S")
    a.results.mkdir(parents=True, exist_ok=True)
    peers = a.peers.split(",")
    if a.install:  # "bench" = wrk and curl (apt) and moto
        for name in ["bench", *(n for n in peers if n not in ("lading", "moto"))]:
            subprocess.run([PEERS_SH, "install", name], check=True, timeout=3600)

    report: dict[str, dict[str, Any]] = {name: {"rounds": []} for name in peers}
    for round_number in range(1, a.rounds + 1):
        order = peers if round_number % 2 else peers[::-1]
        for name in order:
            entry = report[name]
            tag = name if a.rounds == 1 else f"{name}-round{round_number}"
            out = a.results / f"{stamp}-{tag}.json"
            server: contextlib.AbstractContextManager[Server] = (
                lading(a.lading_workers, a.results / f"{stamp}-{tag}.log")
                if name == "lading"
                else peer(name)
            )
            log(f"round {round_number} of {a.rounds}: starting {name}")
            try:
                with server as srv:
                    entry["version"] = srv.get("VERSION", name)
                    startup = float(srv["STARTUP_S"]) if srv.get("STARTUP_S") else None
                    log(f"{entry['version']} up at {srv['ENDPOINT']}; running s3bench")
                    metrics = measure(srv, out, a.timeout, extra)
                    entry["rounds"].append({"server startup (s)": startup, **metrics})
            except Exception as exc:  # one server failing must not lose the others' results
                stderr = getattr(exc, "stderr", None)
                entry["error"] = f"{exc}" + (f": {stderr.strip()[-500:]}" if stderr else "")
                log(f"{name} failed: {entry['error']}")

    columns = {n: medians(e["rounds"]) for n, e in report.items()}
    notes = [f"- {n}: {e.get('version', '?')}" for n, e in report.items()]
    if a.rounds > 1:
        counts = ", ".join(f"{n} {len(e['rounds'])}" for n, e in report.items())
        notes.insert(0, f"- medians of {a.rounds} rounds, order reversed every other round")
        notes.insert(1, f"- rounds measured: {counts}")
    notes += [f"- {n} FAILED: {e['error']}" for n, e in report.items() if "error" in e]
    text = markdown_table(columns) + "\n\n" + "\n".join(notes) + "\n"
    print(text)
    (a.results / f"{stamp}-compare.md").write_text(text)
    summary = {"started": stamp, "s3bench_args": extra, "servers": report}
    (a.results / f"{stamp}-compare.json").write_text(json.dumps(summary, indent=2) + "\n")
    log(f"saved {a.results}/{stamp}-compare.{{md,json}}")
    return 1 if any("error" in e for e in report.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
