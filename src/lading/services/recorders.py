"""The background work of the request recorders: last-used times, audit log, access logs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from lading.concurrency import run_blocking
from lading.errors import LadingError
from lading.services.container import Services

log = logging.getLogger(__name__)


async def _last_used(services: Services) -> None:
    every = services.credentials.settings.last_used_seconds
    while True:
        await asyncio.sleep(every)
        try:
            await services.credentials.flush_last_used()
            await run_blocking(services.credentials.purge)
        except Exception:  # the next pass tries again
            log.exception("writing when credentials were last used failed")


def recorders(services: Services, clock: Callable[[], datetime]) -> list[Coroutine[Any, Any, None]]:
    """The loops a server process runs beside its requests."""
    return [_last_used(services), services.audit.run(clock), services.access_logs.run()]


async def flush_recorders(services: Services) -> None:
    """Write what the recorders hold, at shutdown."""
    with contextlib.suppress(LadingError):
        await services.access_logs.deliver()
    await services.audit.flush()
    await services.credentials.flush_last_used()
