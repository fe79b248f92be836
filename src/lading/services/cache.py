"""A small per-process cache of records that change rarely but are read on every request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Keep loaded values for `seconds`; never more than `max_entries` (then start afresh)."""

    def __init__(
        self,
        seconds: float,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[K, tuple[float, V]] = {}
        # loads under way: callers that miss meanwhile wait for the same load (a key that
        # expires under 32 concurrent requests is loaded once, not 32 times)
        self._loading: dict[K, asyncio.Task[V]] = {}

    async def fetch(self, key: K, load: Callable[[K], Awaitable[V]]) -> V:
        """The cached value, or load(key) when missing or older than the time to live."""
        now = self.clock()
        hit = self._entries.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        task = self._loading.get(key)
        if task is None:
            task = asyncio.ensure_future(self._load(key, load, now))
            task.add_done_callback(_retrieve)
            self._loading[key] = task
        # shielded: a caller that goes away does not cancel the others' load
        return await asyncio.shield(task)

    async def _load(self, key: K, load: Callable[[K], Awaitable[V]], now: float) -> V:
        task = asyncio.current_task()
        try:
            value = await load(key)
        finally:
            forgotten = self._loading.get(key) is not task
            if not forgotten:
                del self._loading[key]
        if not forgotten:  # a load that began before a forget() must not be kept
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (now, value)
        return value

    def forget(self, key: K) -> None:
        """Drop a key this process just changed, so the next read loads it afresh."""
        self._entries.pop(key, None)
        self._loading.pop(key, None)

    def clear(self) -> None:
        """Drop everything (a change that touches many keys, such as a project's members)."""
        self._entries.clear()
        self._loading.clear()


def _retrieve(task: asyncio.Task[object]) -> None:
    """Mark a load's error as seen: its callers got it, or all of them went away."""
    if not task.cancelled():
        task.exception()
