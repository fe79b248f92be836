"""Classification of errors and the backoff policy (with an injected clock and sleep)."""

from __future__ import annotations

import random

import pytest

from lading.transfer.errors import (
    ChecksumMismatch,
    EndpointAccessDenied,
    EndpointUnavailable,
    NoSuchContainer,
    NoSuchPath,
    TruncatedRead,
)
from lading.transfer.retry import DeadlineExceeded, RetryPolicy, classify


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (EndpointUnavailable("SlowDown", 503), "retryable"),
        (EndpointUnavailable("InternalError", 500), "retryable"),
        (TruncatedRead("p", 10, 5), "retryable"),
        (ChecksumMismatch("p", "a", "b"), "retryable"),
        (ConnectionResetError(), "retryable"),
        (TimeoutError(), "retryable"),
        (EndpointAccessDenied(), "fatal"),
        (NoSuchContainer("b"), "fatal"),
        (NoSuchPath("p"), "fatal"),
        (ValueError("a bug"), "fatal"),
    ],
)
def test_classify(error: Exception, kind: str) -> None:
    assert classify(error) == kind


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def flaky(failures: list[Exception]) -> object:
    def fn() -> str:
        if failures:
            raise failures.pop(0)
        return "done"

    return fn


def test_retryable_errors_are_retried_with_growing_jittered_backoff() -> None:
    clock = Clock()
    policy = RetryPolicy(base=1.0, cap=100.0, clock=clock, sleep=clock.sleep, rng=random.Random(7))
    retries: list[int] = []
    fn = flaky([EndpointUnavailable("x", 503)] * 5)
    assert policy.call(fn, lambda n, _: retries.append(n)) == "done"  # type: ignore[arg-type]
    assert retries == [1, 2, 3, 4, 5]
    assert all(0 <= s <= 2.0**i for i, s in enumerate(clock.slept))
    assert len(set(clock.slept)) == 5  # jittered, not a fixed ladder


def test_the_backoff_is_capped() -> None:
    policy = RetryPolicy(base=1.0, cap=3.0, rng=random.Random(1))
    assert max(policy.delay(30) for _ in range(200)) <= 3.0


def test_fatal_errors_are_not_retried() -> None:
    clock = Clock()
    policy = RetryPolicy(clock=clock, sleep=clock.sleep)
    with pytest.raises(EndpointAccessDenied):
        policy.call(flaky([EndpointAccessDenied()]))  # type: ignore[arg-type]
    assert clock.slept == []


def test_attempts_are_bounded() -> None:
    clock = Clock()
    policy = RetryPolicy(max_attempts=3, clock=clock, sleep=clock.sleep)
    with pytest.raises(EndpointUnavailable):
        policy.call(flaky([EndpointUnavailable("x")] * 10))  # type: ignore[arg-type]
    assert len(clock.slept) == 2


def test_nothing_is_retried_past_the_deadline() -> None:
    clock = Clock()
    policy = RetryPolicy(
        base=10.0, cap=10.0, max_attempts=1000, deadline=1035.0, clock=clock, sleep=clock.sleep
    )
    with pytest.raises(DeadlineExceeded):
        policy.call(flaky([EndpointUnavailable("x")] * 1000))  # type: ignore[arg-type]
    assert clock.now <= 1035.0


def test_a_passed_deadline_stops_before_the_first_try() -> None:
    clock = Clock()
    policy = RetryPolicy(deadline=999.0, clock=clock, sleep=clock.sleep)
    with pytest.raises(DeadlineExceeded):
        policy.call(lambda: "never")
