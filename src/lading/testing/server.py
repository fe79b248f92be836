"""Run a real `lading serve` process for tests and benchmarks: free port, readiness poll."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT_ACCESS_KEY = "LADINGTESTROOT"
ROOT_SECRET_KEY = "lading-test-root-secret-key-0000000000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    """A `lading serve` child process and how to reach it."""

    url: str
    data_dir: Path
    access_key: str
    secret_key: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Stop the process (SIGKILL by default, as a crash would)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # workers that outlived their parent

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def restart(self, timeout: float = 30) -> None:
        """Start again on the same port and data directory."""
        self.kill()
        self.process = _spawn(self.args, self.env, self.log_path)
        wait_ready(self.url, self.process, self.log_path, timeout)

    def admin(self, *args: str) -> str:
        """Run `lading admin ...` against this server's data directory; returns stdout."""
        done = subprocess.run(
            [sys.executable, "-m", "lading", "admin", *args, "--data-dir", str(self.data_dir)],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout


def _spawn(args: list[str], env: Mapping[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:  # the child keeps its own descriptor
        # a session of its own: killing the group also ends worker processes it spawned
        return subprocess.Popen(
            args, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_ready(
    url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 30
) -> None:
    """Poll /_/health until it answers 200; raise with the server log if it never does."""
    import ssl

    context = ssl._create_unverified_context() if url.startswith("https") else None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"lading serve exited early:\n{log_path.read_text()}")
        health = f"{url}/_/health"
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(health, timeout=2, context=context) as resp,
        ):
            if resp.status == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"lading serve did not become ready:\n{log_path.read_text()}")


def run_server(
    data_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    extra_args: list[str] | None = None,
    tls: tuple[Path, Path] | None = None,
    timeout: float = 30,
    known_root_keys: bool = True,
) -> RunningServer:
    """Start `python -m lading serve` on a free loopback port.

    With known_root_keys the root keys are ROOT_ACCESS_KEY / ROOT_SECRET_KEY; without, the
    server generates them on its first start and they are read from the data directory.
    """
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("LADING_ROOT_")}
    if known_root_keys:
        child_env["LADING_ROOT_ACCESS_KEY"] = ROOT_ACCESS_KEY
        child_env["LADING_ROOT_SECRET_KEY"] = ROOT_SECRET_KEY
    # replaced bytes go at once: tests count blob files right after an overwrite or a delete
    # (tests of storage.delete_delay_seconds set their own)
    child_env.setdefault("LADING_STORAGE__DELETE_DELAY_SECONDS", "0")
    child_env.update(env or {})
    args = [
        sys.executable,
        "-m",
        "lading",
        "serve",
        "--data-dir",
        str(data_dir),
        "--address",
        f"127.0.0.1:{port}",
        *(extra_args or []),
    ]
    if tls is not None:
        child_env["LADING_TLS_CERTFILE"], child_env["LADING_TLS_KEYFILE"] = map(str, tls)
    scheme = "https" if tls else "http"
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"{data_dir.name}-server.log"
    process = _spawn(args, child_env, log_path)
    url = f"{scheme}://127.0.0.1:{port}"
    server = RunningServer(
        url,
        data_dir,
        child_env.get("LADING_ROOT_ACCESS_KEY", ""),
        child_env.get("LADING_ROOT_SECRET_KEY", ""),
        process,
        log_path,
        child_env,
        args,
    )
    try:
        wait_ready(url, process, log_path, timeout)
    except BaseException:
        server.kill()
        raise
    if not known_root_keys:
        import json

        stored = json.loads((data_dir / "root-credentials.json").read_text())
        server.access_key, server.secret_key = stored["access_key"], stored["secret_key"]
    return server


@contextlib.contextmanager
def serving(data_dir: Path, **kwargs: object) -> Iterator[RunningServer]:
    """run_server as a context manager that always stops the process."""
    server = run_server(data_dir, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.kill()
