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


def test_concurrent_misses_share_one_load() -> None:
    loads: list[str] = []
    release = asyncio.Event()

    async def load(key: str) -> str:
        loads.append(key)
        await release.wait()
        return f"{key}-{len(loads)}"

    cache: TtlCache[str, str] = TtlCache(1.0, clock=Clock())

    async def scenario() -> list[str]:
        waiting = [asyncio.ensure_future(cache.fetch("b", load)) for _ in range(5)]
        await asyncio.sleep(0)
        release.set()
        return list(await asyncio.gather(*waiting))

    assert asyncio.run(scenario()) == ["b-1"] * 5
    assert loads == ["b"]


def test_a_load_under_way_is_not_kept_after_forget() -> None:
    loads: list[str] = []
    release = asyncio.Event()

    async def load(key: str) -> str:
        loads.append(key)
        number = len(loads)
        if number == 1:
            await release.wait()  # the old record, read before the change
        return f"{key}-{number}"

    cache: TtlCache[str, str] = TtlCache(60.0, clock=Clock())

    async def scenario() -> tuple[str, str, str]:
        before = asyncio.ensure_future(cache.fetch("b", load))
        await asyncio.sleep(0)
        cache.forget("b")  # changed by this process while the first load ran
        after = await cache.fetch("b", load)
        release.set()
        return await before, after, await cache.fetch("b", load)

    assert asyncio.run(scenario()) == ("b-1", "b-2", "b-2")
    assert loads == ["b", "b"]


def test_a_failed_load_fails_every_waiter_and_is_not_kept() -> None:
    loads: list[str] = []

    async def load(key: str) -> str:
        loads.append(key)
        await asyncio.sleep(0)
        raise KeyError(key)

    cache: TtlCache[str, str] = TtlCache(60.0, clock=Clock())

    async def scenario() -> list[object]:
        waiting = [cache.fetch("b", load) for _ in range(3)]
        return list(await asyncio.gather(*waiting, return_exceptions=True))

    outcomes = asyncio.run(scenario())
    assert all(isinstance(o, KeyError) for o in outcomes)
    assert loads == ["b"]
    assert asyncio.run(scenario()) and loads == ["b", "b"]
