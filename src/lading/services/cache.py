"""A small per-process cache of records that change rarely but are read on every request."""

from __future__ import annotations

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

    async def fetch(self, key: K, load: Callable[[K], Awaitable[V]]) -> V:
        """The cached value, or load(key) when missing or older than the time to live."""
        now = self.clock()
        hit = self._entries.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        value = await load(key)
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (now, value)
        return value

    def forget(self, key: K) -> None:
        """Drop a key this process just changed, so the next read loads it afresh."""
        self._entries.pop(key, None)

    def clear(self) -> None:
        """Drop everything (a change that touches many keys, such as a project's members)."""
        self._entries.clear()
