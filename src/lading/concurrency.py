"""Running blocking work (file and database I/O) off the event loop, in one way."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


async def run_blocking(func: Callable[..., T], *args: object) -> T:
    """Run func(*args) in the loop's executor (sized by the composition root).

    Cheaper per call than anyio.to_thread (no limiter or cancel scope): the hot path of a
    small GET makes one or two of these.
    """
    call = functools.partial(func, *args) if args else func
    return await asyncio.get_running_loop().run_in_executor(None, call)


def blocking_executor(threads: int) -> ThreadPoolExecutor:
    """The executor blocking calls run in; threads bound concurrent fsyncs and queries."""
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="lading-io")
