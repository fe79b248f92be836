"""Compare two sorted listings and decide, file by file, what a transfer does; pure.

`plan` walks the source and destination listings of one directory in lock step (rclone's
march), so neither is ever held whole: memory stays constant however many files there are.
Paths in the listings are relative to the two directories being compared.

Sync levels (Globus's vocabulary), for a file present on both sides:

    None       always copy
    exists     skip
    size       copy when the sizes differ
    mtime      copy when the sizes differ or the source is newer than the destination
    checksum   copy when the sizes differ or the checksums do; when a side's checksum is not
               known without reading, emit `Compare` and let the engine hash it

A file only on the source is copied; one only on the destination is deleted when
`delete_extra` is set. Filter rules are (action, glob) pairs, the first match wins, and a file
no rule matches is included; an excluded file is neither copied nor deleted. A glob with a '/'
is matched against the whole relative path, one without against the file name.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from lading.transfer.drivers.base import Entry

MTIME_WINDOW = 1.0  # seconds: S3 keeps whole seconds; closer times count as equal


class SyncLevel(StrEnum):
    EXISTS = "exists"
    SIZE = "size"
    MTIME = "mtime"
    CHECKSUM = "checksum"


@dataclass(frozen=True, slots=True)
class FilterRule:
    action: Literal["include", "exclude"]
    pattern: str

    @classmethod
    def parse(cls, action: str, pattern: str) -> FilterRule:
        if action not in ("include", "exclude"):
            raise ValueError(f"filter action must be include or exclude, not {action!r}")
        if not pattern:
            raise ValueError("a filter pattern must not be empty")
        return cls(action, pattern)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Copy:
    path: str
    src: Entry
    dst: Entry | None
    reason: str


@dataclass(frozen=True, slots=True)
class Skip:
    path: str
    src: Entry
    dst: Entry
    reason: str


@dataclass(frozen=True, slots=True)
class Compare:
    """Checksum level, a checksum unknown: hash, then copy if they differ."""

    path: str
    src: Entry
    dst: Entry


@dataclass(frozen=True, slots=True)
class Delete:
    path: str
    dst: Entry


Action = Copy | Skip | Compare | Delete


def included(path: str, rules: Sequence[FilterRule]) -> bool:
    """Whether the first matching rule includes `path` (no match: included)."""
    name = path.rpartition("/")[2]
    for rule in rules:
        subject = path if "/" in rule.pattern else name
        if fnmatch.fnmatchcase(subject, rule.pattern):
            return rule.action == "include"
    return True


def decide(path: str, src: Entry, dst: Entry | None, level: SyncLevel | None) -> Action:
    """The action for one file present on the source (and maybe on the destination)."""
    if dst is None:
        return Copy(path, src, None, "missing")
    if level is None:
        return Copy(path, src, dst, "always")
    if level is SyncLevel.EXISTS:
        return Skip(path, src, dst, "exists")
    if src.size != dst.size:
        return Copy(path, src, dst, "size")
    if level is SyncLevel.SIZE:
        return Skip(path, src, dst, "same size")
    if level is SyncLevel.MTIME:
        if src.mtime > dst.mtime + MTIME_WINDOW:
            return Copy(path, src, dst, "newer")
        return Skip(path, src, dst, "not newer")
    same = same_checksum(src.checksum, dst.checksum)
    if same is None:
        return Compare(path, src, dst)
    return Skip(path, src, dst, "same checksum") if same else Copy(path, src, dst, "checksum")


def same_checksum(a: str | None, b: str | None) -> bool | None:
    """True/False when two checksums can be compared, None when they cannot."""
    if a is None or b is None:
        return None
    if a.startswith("md5:") and b.startswith("md5:"):
        return a == b
    if a == b:
        return True  # two equal multipart ETags: same parts, same bytes
    return None


def plan(
    src: Iterable[Entry],
    dst: Iterable[Entry],
    *,
    sync_level: SyncLevel | None = None,
    delete_extra: bool = False,
    filter_rules: Sequence[FilterRule] = (),
) -> Iterator[Action]:
    """Actions in path order for two listings sorted by path (ValueError if they are not)."""
    src_it, dst_it = _checked(src, "source"), _checked(dst, "destination")
    s, d = next(src_it, None), next(dst_it, None)
    while s is not None or d is not None:
        if d is None or (s is not None and s.path < d.path):
            assert s is not None
            if included(s.path, filter_rules):
                yield decide(s.path, s, None, sync_level)
            s = next(src_it, None)
        elif s is None or d.path < s.path:
            if delete_extra and included(d.path, filter_rules):
                yield Delete(d.path, d)
            d = next(dst_it, None)
        else:
            if included(s.path, filter_rules):
                yield decide(s.path, s, d, sync_level)
            s, d = next(src_it, None), next(dst_it, None)


def _checked(entries: Iterable[Entry], side: str) -> Iterator[Entry]:
    last: str | None = None
    for entry in entries:
        if last is not None and entry.path <= last:
            raise ValueError(f"{side} listing is not sorted: {entry.path!r} after {last!r}")
        last = entry.path
        yield entry
