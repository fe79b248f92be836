"""Counters of one transfer job and the two small protocols that observe it.

`Stats` is updated from many worker threads under one lock; `snapshot()` gives a consistent
copy. `Progress` is told about bytes as they move (the CLI's progress bar) and `EventSink`
about each file's fate (the service's per-file event list).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol


@dataclass
class Stats:
    """What a job did: files and bytes by outcome, retries, and when it ran."""

    files_planned: int = 0
    bytes_planned: int = 0
    files_copied: int = 0
    bytes_copied: int = 0  # size of the files copied
    bytes_transferred: int = 0  # bytes actually sent, parts resumed from a checkpoint excluded
    files_skipped: int = 0
    bytes_skipped: int = 0
    files_deleted: int = 0
    files_failed: int = 0
    retries: int = 0
    started: float = 0.0
    ended: float = 0.0
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **deltas: int) -> None:
        with self.lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def start(self) -> None:
        self.started = self.clock()

    def finish(self) -> None:
        self.ended = self.clock()

    def snapshot(self) -> Stats:
        with self.lock:
            return replace(self, lock=threading.Lock())

    @property
    def elapsed(self) -> float:
        end = self.ended or self.clock()
        return max(0.0, end - self.started) if self.started else 0.0

    @property
    def throughput(self) -> float:
        """Bytes sent per second over the job so far."""
        return self.bytes_transferred / self.elapsed if self.elapsed > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        snap = self.snapshot()
        found = {f.name: getattr(snap, f.name) for f in fields(snap) if f.compare}
        found["elapsed_seconds"] = round(snap.elapsed, 3)
        found["bytes_per_second"] = round(snap.throughput, 1)
        return found


class Progress(Protocol):
    """Told as a job plans files and moves bytes (called from worker threads)."""

    def planned(self, files: int, size: int) -> None: ...

    def moved(self, nbytes: int) -> None: ...

    def finished_file(self, path: str, outcome: str) -> None: ...


class EventSink(Protocol):
    """Receives one event per file outcome and per retry (called from worker threads)."""

    def event(self, kind: str, path: str, **details: Any) -> None: ...


class NoProgress:
    def planned(self, files: int, size: int) -> None:
        pass

    def moved(self, nbytes: int) -> None:
        pass

    def finished_file(self, path: str, outcome: str) -> None:
        pass


@dataclass
class EventList:
    """Events kept in memory, in order (the CLI's --json and the tests)."""

    events: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def event(self, kind: str, path: str, **details: Any) -> None:
        with self.lock:
            self.events.append({"kind": kind, "path": path, **details})

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.events if e["kind"] == kind]
