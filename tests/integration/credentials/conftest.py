"""A real server whose clock the test moves: uvicorn in a thread serving create_app(clock=)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn

from lading.app import create_app, prepare_data_dir
from lading.settings import Settings
from lading.testing.server import ROOT_ACCESS_KEY, ROOT_SECRET_KEY, free_port


class MovableClock:
    """The wall clock plus an offset a test may move forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


@dataclass
class ClockedServer:
    url: str
    data_dir: Path
    access_key: str
    secret_key: str
    clock: MovableClock
    settings: Settings


@pytest.fixture
def clocked_server(tmp_path: Path) -> Iterator[ClockedServer]:
    port = free_port()
    settings = Settings(
        data_dir=tmp_path / "data",
        address=f"127.0.0.1:{port}",
        root_access_key=ROOT_ACCESS_KEY,
        root_secret_key=ROOT_SECRET_KEY,
        credentials={"audit_flush_seconds": 0.2, "access_log_seconds": 0.5},
    )
    prepare_data_dir(settings)
    clock = MovableClock()
    app = create_app(settings, clock=clock)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the clocked server did not start"
        time.sleep(0.05)
    yield ClockedServer(
        f"http://127.0.0.1:{port}",
        settings.data_dir,
        ROOT_ACCESS_KEY,
        ROOT_SECRET_KEY,
        clock,
        settings,
    )
    server.should_exit = True
    thread.join(timeout=30)
