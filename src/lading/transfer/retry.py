"""Which errors are worth another try, and when: exponential backoff with full jitter.

Only the engine calls `RetryPolicy.call`; drivers and operations just raise. A retryable
error (timeout, reset, 5xx, SlowDown, truncated read, checksum mismatch) is tried again after
`uniform(0, min(cap, base * 2**attempt))` seconds until `max_attempts` or the deadline; a fatal
one (access denied, no such bucket or file, bad path) is raised at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from lading.transfer.errors import Fatal, Retryable

T = TypeVar("T")
Kind = Literal["retryable", "fatal"]


def classify(exc: BaseException) -> Kind:
    """Retryable or fatal; anything unknown is fatal (retrying a bug only hides it)."""
    if isinstance(exc, Retryable):
        return "retryable"
    if isinstance(exc, Fatal):
        return "fatal"
    if isinstance(exc, ConnectionError | TimeoutError):
        return "retryable"
    return "fatal"


class DeadlineExceeded(Fatal):
    default_message = "The task's deadline passed."


@dataclass
class RetryPolicy:
    """Backoff parameters; `deadline` is a `clock()` value after which nothing is retried."""

    base: float = 0.2
    cap: float = 20.0
    max_attempts: int = 10
    deadline: float | None = None
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (from 0)."""
        return self.rng.uniform(0, min(self.cap, self.base * 2.0**attempt))

    def call(
        self, fn: Callable[[], T], on_retry: Callable[[int, BaseException], None] | None = None
    ) -> T:
        """fn(), retried while it raises retryable errors; the last error is raised."""
        attempt = 0
        while True:
            if self.deadline is not None and self.clock() >= self.deadline:
                raise DeadlineExceeded()
            try:
                return fn()
            except Exception as exc:  # classified below; unknown errors are re-raised
                if classify(exc) == "fatal" or attempt + 1 >= self.max_attempts:
                    raise
                wait = self.delay(attempt)
                if self.deadline is not None and self.clock() + wait >= self.deadline:
                    raise DeadlineExceeded(f"deadline passed while retrying: {exc}") from exc
                if on_retry is not None:
                    on_retry(attempt + 1, exc)
                self.sleep(wait)
                attempt += 1
