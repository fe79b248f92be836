"""The planner, table-tested: every sync level against every kind of change on either side."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lading.transfer.drivers.base import Entry
from lading.transfer.plan import (
    Compare,
    Copy,
    Delete,
    FilterRule,
    Skip,
    SyncLevel,
    included,
    plan,
)

A, B = "md5:" + "a" * 32, "md5:" + "b" * 32
SAME = Entry("f", 3, 100.0, A)

# scenario -> (source entry or None, destination entry or None)
SCENARIOS: dict[str, tuple[Entry | None, Entry | None]] = {
    "unchanged": (SAME, SAME),
    "added on source": (SAME, None),
    "added on destination": (None, SAME),
    "grown on source": (Entry("f", 5, 200.0, B), SAME),
    "rewritten on source, same size": (Entry("f", 3, 200.0, B), SAME),
    "touched on source": (Entry("f", 3, 200.0, A), SAME),
    "touched on destination": (SAME, Entry("f", 3, 200.0, A)),
    "rewritten on destination, same size": (SAME, Entry("f", 3, 200.0, B)),
    "shrunk on destination": (SAME, Entry("f", 1, 200.0, B)),
    "older on source, same size, other bytes": (Entry("f", 3, 50.0, B), SAME),
    "destination checksum unknown": (SAME, Entry("f", 3, 100.0, None)),
    "within the mtime window": (Entry("f", 3, 100.9, A), SAME),
}

# expected action per sync level: None (always copy), exists, size, mtime, checksum
EXPECTED: dict[str, tuple[str, str, str, str, str]] = {
    "unchanged": ("Copy", "Skip", "Skip", "Skip", "Skip"),
    "added on source": ("Copy", "Copy", "Copy", "Copy", "Copy"),
    "added on destination": ("-", "-", "-", "-", "-"),
    "grown on source": ("Copy", "Skip", "Copy", "Copy", "Copy"),
    "rewritten on source, same size": ("Copy", "Skip", "Skip", "Copy", "Copy"),
    "touched on source": ("Copy", "Skip", "Skip", "Copy", "Skip"),
    "touched on destination": ("Copy", "Skip", "Skip", "Skip", "Skip"),
    "rewritten on destination, same size": ("Copy", "Skip", "Skip", "Skip", "Copy"),
    "shrunk on destination": ("Copy", "Skip", "Copy", "Copy", "Copy"),
    "older on source, same size, other bytes": ("Copy", "Skip", "Skip", "Skip", "Copy"),
    "destination checksum unknown": ("Copy", "Skip", "Skip", "Skip", "Compare"),
    "within the mtime window": ("Copy", "Skip", "Skip", "Skip", "Skip"),
}
LEVELS: list[SyncLevel | None] = [None, *SyncLevel]


def names(actions: Iterator[object]) -> list[str]:
    return [type(a).__name__ for a in actions]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("level", LEVELS, ids=lambda lv: str(lv))
@pytest.mark.parametrize("delete_extra", [False, True])
def test_sync_levels(scenario: str, level: SyncLevel | None, delete_extra: bool) -> None:
    src, dst = SCENARIOS[scenario]
    expected = EXPECTED[scenario][LEVELS.index(level)]
    if expected == "-":
        expected = "Delete" if delete_extra else ""
    actions = list(
        plan(
            [src] if src else [],
            [dst] if dst else [],
            sync_level=level,
            delete_extra=delete_extra,
        )
    )
    assert names(iter(actions)) == ([expected] if expected else [])
    assert all(a.path == "f" for a in actions)


def e(path: str, size: int = 1) -> Entry:
    return Entry(path, size, 100.0, A)


def test_a_merge_of_two_trees_in_path_order() -> None:
    src = [e("a"), e("b/x"), e("b/y", 2), e("c")]
    dst = [e("a"), e("a0"), e("b/y"), e("d")]
    actions = list(plan(src, dst, sync_level=SyncLevel.SIZE, delete_extra=True))
    assert [(type(a).__name__, a.path) for a in actions] == [
        ("Skip", "a"),
        ("Delete", "a0"),
        ("Copy", "b/x"),
        ("Copy", "b/y"),
        ("Copy", "c"),
        ("Delete", "d"),
    ]
    copy = actions[3]
    assert isinstance(copy, Copy) and copy.reason == "size" and copy.dst == e("b/y")


def test_extra_destination_files_stay_without_delete_extra() -> None:
    assert list(plan([], [e("x"), e("y")])) == []
    assert [type(a) for a in plan([], [e("x")], delete_extra=True)] == [Delete]


def test_unsorted_listings_are_refused() -> None:
    with pytest.raises(ValueError, match="source listing is not sorted"):
        list(plan([e("b"), e("a")], []))
    with pytest.raises(ValueError, match="destination listing is not sorted"):
        list(plan([], [e("b"), e("b")]))


def test_the_planner_streams_without_reading_ahead() -> None:
    pulled: list[str] = []

    def src() -> Iterator[Entry]:
        for i in range(1_000_000):
            pulled.append(str(i))
            yield e(f"{i:07d}")

    actions = plan(src(), iter([]))
    first = [next(actions) for _ in range(3)]
    assert [a.path for a in first] == ["0000000", "0000001", "0000002"]
    assert len(pulled) <= 4


RULES = [
    FilterRule("include", "keep/*.tmp"),
    FilterRule("exclude", "*.tmp"),
    FilterRule("exclude", "cache/*"),
    FilterRule("include", "*"),
]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("data.csv", True),
        ("x.tmp", False),
        ("deep/dir/x.tmp", False),
        ("keep/x.tmp", True),
        ("cache/blob", False),
        ("deep/cache/blob", True),  # a glob with '/' matches the whole relative path
    ],
)
def test_filter_rules_first_match_wins(path: str, expected: bool) -> None:
    assert included(path, RULES) is expected


def test_excluded_files_are_neither_copied_nor_deleted() -> None:
    rules = [FilterRule("exclude", "*.log")]
    actions = plan(
        [e("a.log"), e("b.txt")], [e("c.log"), e("d.txt")], delete_extra=True, filter_rules=rules
    )
    assert [(type(a).__name__, a.path) for a in actions] == [("Copy", "b.txt"), ("Delete", "d.txt")]


def test_filter_rule_actions_are_checked() -> None:
    with pytest.raises(ValueError, match="include or exclude"):
        FilterRule.parse("skip", "*")
    with pytest.raises(ValueError, match="empty"):
        FilterRule.parse("exclude", "")


def test_checksum_level_compares_unknown_checksums_later() -> None:
    [action] = plan([e("x")], [Entry("x", 1, 0.0, "etag:abc-2")], sync_level=SyncLevel.CHECKSUM)
    assert isinstance(action, Compare)
    [same] = plan(
        [Entry("x", 1, 0.0, "etag:abc-2")],
        [Entry("x", 1, 0.0, "etag:abc-2")],
        sync_level=SyncLevel.CHECKSUM,
    )
    assert isinstance(same, Skip)
