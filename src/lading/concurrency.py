"""Running blocking work (file and database I/O) off the event loop, in one way."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


async def run_blocking(
    func: Callable[..., T], *args: object, executor: Executor | None = None
) -> T:
    """Run func(*args) in a worker thread: the loop's default executor unless one is given.

    Cheaper per call than anyio.to_thread (no limiter or cancel scope): the hot path of a
    small GET makes one of these. The default executor is kept small (short lookups contend
    for the GIL); writes that wait on fsync get an executor of their own with more threads.
    """
    call = functools.partial(func, *args) if args else func
    return await asyncio.get_running_loop().run_in_executor(executor, call)


def blocking_executor(threads: int, name: str = "lading-io") -> ThreadPoolExecutor:
    """An executor for blocking calls; its threads bound how many run at once."""
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
