"""Byte-days from storage samples, and the per-process request meter."""

from __future__ import annotations

import pytest

from lading.metadata.identity import Sample
from lading.services.usage import DAY_US, UsageMeter, integrate

D = DAY_US


@pytest.mark.parametrize(
    ("samples", "start", "end", "expected"),
    [
        ([], 0, 10 * D, (0.0, 0, None)),
        ([Sample(0, 100, 1)], 0, 10 * D, (1000.0, 100, Sample(0, 100, 1))),
        # nothing counted before the first sample
        ([Sample(5 * D, 100, 1)], 0, 10 * D, (500.0, 100, Sample(5 * D, 100, 1))),
        # a sample before the period holds into it; one after it does not count
        (
            [Sample(0, 100, 1), Sample(4 * D, 300, 2), Sample(20 * D, 9, 9)],
            2 * D,
            6 * D,
            (100 * 2 + 300 * 2.0, 300, Sample(4 * D, 300, 2)),
        ),
        # half a day
        ([Sample(0, 10, 1)], 0, D // 2, (5.0, 10, Sample(0, 10, 1))),
    ],
)
def test_integrate(
    samples: list[Sample], start: int, end: int, expected: tuple[float, int, Sample | None]
) -> None:
    assert integrate(samples, start, end) == expected


def test_the_meter_counts_per_project_and_starts_afresh_when_drained() -> None:
    meter = UsageMeter()
    meter.count(1, 10)
    meter.count(1, 0)
    meter.count(2, 5)
    assert sorted(meter.drain()) == [(1, 2, 10), (2, 1, 5)]
    assert meter.drain() == []
