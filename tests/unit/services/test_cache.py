"""The per-process TTL cache of bucket and key records."""

from __future__ import annotations

import asyncio

from lading.services.cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_cache_reloads_after_its_time_to_live_and_after_forget() -> None:
    clock = Clock()
    loads: list[str] = []

    async def load(key: str) -> str:
        loads.append(key)
        return f"{key}-{len(loads)}"

    cache: TtlCache[str, str] = TtlCache(1.0, clock=clock)

    async def scenario() -> list[str]:
        seen = [await cache.fetch("b", load)]
        clock.now = 0.5
        seen.append(await cache.fetch("b", load))  # still fresh
        clock.now = 1.5
        seen.append(await cache.fetch("b", load))  # expired
        cache.forget("b")
        seen.append(await cache.fetch("b", load))  # changed locally
        return seen

    assert asyncio.run(scenario()) == ["b-1", "b-1", "b-2", "b-3"]
    assert loads == ["b", "b", "b"]


def test_cache_never_grows_past_its_bound() -> None:
    cache: TtlCache[int, int] = TtlCache(60.0, max_entries=3)

    async def load(key: int) -> int:
        return key * 10

    async def fill() -> None:
        for key in range(10):
            assert await cache.fetch(key, load) == key * 10

    asyncio.run(fill())
    assert len(cache._entries) <= 3
