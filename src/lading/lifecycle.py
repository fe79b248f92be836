"""Bucket lifecycle rules: validation, the x-amz-expiration header, and the pass applying them.

A configuration arrives as the tree `lading.http.s3.xml.parse_config` builds (element -> text,
or dict of children; Rule, Tag, Transition and NoncurrentVersionTransition always lists).
`parse_rules` validates it as S3 does and `normalize` gives the canonical tree to store.
`run_lifecycle` makes one pass over every bucket that has a configuration: it expires current
versions, removes noncurrent versions and lone delete markers, and aborts stale multipart
uploads. Transitions are accepted and kept but do nothing: there is one storage class.

Every due time is rounded up to midnight UTC, as S3 computes them: an object written on
1/15 10:30 UTC under a 3-day rule expires on 1/19 00:00 UTC.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import email.utils
import fcntl
import functools
import itertools
import json
import logging
import os
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import sqlalchemy as sa

from lading import errors
from lading.concurrency import run_blocking
from lading.metadata.models import Bucket, ObjectVersion, Upload
from lading.metadata.store import MetadataStore
from lading.services.multipart import MultipartService
from lading.services.objects import DeleteConditions, ObjectService

log = logging.getLogger(__name__)

DAY_US = 86_400 * 1_000_000
MAX_RULES = 1000
MAX_ID_LENGTH = 255
MAX_NEWER_NONCURRENT = 100
MAX_DAYS = 2**31 - 1
PAGE = 1000  # versions or uploads read per metadata query
# the latest moment an HTTP date can show (a rule of MAX_DAYS lands far beyond it)
LAST_SHOWN_US = int(dt.datetime(9999, 12, 31, tzinfo=dt.UTC).timestamp()) * 1_000_000

RULE_FIELDS = (
    "ID",
    "Filter",
    "Prefix",
    "Status",
    "Expiration",
    "Transition",
    "NoncurrentVersionTransition",
    "NoncurrentVersionExpiration",
    "AbortIncompleteMultipartUpload",
)
ACTIONS = RULE_FIELDS[4:]
PREDICATES = ("Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan")
_INTEGER = re.compile(r"[+-]?\d+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?")


# --- rules -----------------------------------------------------------------------------------


def due_at(start_us: int, days: int) -> int:
    """Midnight UTC on or after start + days (S3 rounds every lifecycle time up to midnight)."""
    moment = start_us + days * DAY_US
    return -(-moment // DAY_US) * DAY_US


@dataclass(frozen=True, slots=True)
class Rule:
    """One validated lifecycle rule; times are epoch microseconds (UTC)."""

    id: str
    enabled: bool
    prefix: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    size_greater_than: int | None = None
    size_less_than: int | None = None
    expiration_days: int | None = None
    expiration_date: int | None = None
    expired_object_delete_marker: bool = False
    noncurrent_days: int | None = None
    newer_noncurrent_versions: int = 0
    abort_days: int | None = None

    def matches(self, key: str, size: int, tags: Mapping[str, str]) -> bool:
        """Whether the rule's filter selects an object of this key, size and tag set."""
        if not key.startswith(self.prefix):
            return False
        if self.size_greater_than is not None and not size > self.size_greater_than:
            return False
        if self.size_less_than is not None and not size < self.size_less_than:
            return False
        return all(tags.get(name) == value for name, value in self.tags)

    def matches_marker(self, key: str) -> bool:
        """Whether the filter selects a delete marker: by prefix; it has no tags or size."""
        return key.startswith(self.prefix) and not self.tags

    def applies_to(self, version: ObjectVersion) -> bool:
        """matches() for an object version, matches_marker() for a delete marker."""
        if version.is_delete_marker:
            return self.matches_marker(version.key)
        return self.matches(version.key, version.size, version.tags)

    def expires_at(self, last_modified_us: int) -> int | None:
        """When Expiration (Days or Date) ends a current object written then; None: never."""
        if self.expiration_days is not None:
            return due_at(last_modified_us, self.expiration_days)
        return self.expiration_date

    def removes_marker(self, marker: ObjectVersion, now_us: int) -> bool:
        """Whether this rule removes a delete marker that is the only version of its key.

        ExpiredObjectDeleteMarker removes it at once; Expiration Days once the marker is
        that old (S3 cleans expired markers up with Days, not with Date).
        """
        if not self.matches_marker(marker.key):
            return False
        if self.expired_object_delete_marker:
            return True
        days = self.expiration_days
        return days is not None and now_us >= due_at(marker.last_modified, days)


def parse_rules(tree: Mapping[str, Any]) -> list[Rule]:
    """Validate a LifecycleConfiguration tree as S3 does; raises MalformedXML and friends."""
    _only(tree, ("Rule",))
    raw_rules = tree.get("Rule")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise errors.MalformedXML()
    if len(raw_rules) > MAX_RULES:
        raise errors.MalformedXML(f"A lifecycle configuration may hold at most {MAX_RULES} rules.")
    rules: list[Rule] = []
    seen: set[str] = set()
    for raw in raw_rules:
        rule = _parse_rule(raw)
        if rule.id:
            if rule.id in seen:
                raise errors.InvalidArgument(
                    "Rule ID must be unique. Found same ID for more than one rule"
                )
            seen.add(rule.id)
        rules.append(rule)
    return rules


def normalize(tree: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical tree to store for a configuration (validated here as well).

    Elements in S3's order, numbers and dates in canonical form, and an ID generated for a
    rule without one, as S3 does. A legacy top-level Prefix stays a Prefix.
    """
    rules = parse_rules(tree)
    out: list[dict[str, Any]] = []
    for raw, rule in zip(tree["Rule"], rules, strict=True):
        entry: dict[str, Any] = {"ID": rule.id or _generated_id()}
        if "Filter" in raw:
            entry["Filter"] = _normal_filter(_section(raw, "Filter") or {})
        elif "Prefix" in raw:
            entry["Prefix"] = _text(raw, "Prefix")
        entry["Status"] = _text(raw, "Status")
        expiration = _section(raw, "Expiration")
        if expiration is not None:
            entry["Expiration"] = _normal_expiration(expiration)
        transitions = [_normal_transition(t, "Days") for t in _sections(raw, "Transition")]
        if transitions:
            entry["Transition"] = transitions
        noncurrent_transitions = [
            _normal_transition(t, "NoncurrentDays")
            for t in _sections(raw, "NoncurrentVersionTransition")
        ]
        if noncurrent_transitions:
            entry["NoncurrentVersionTransition"] = noncurrent_transitions
        if rule.noncurrent_days is not None:
            noncurrent: dict[str, Any] = {"NoncurrentDays": str(rule.noncurrent_days)}
            if rule.newer_noncurrent_versions:
                noncurrent["NewerNoncurrentVersions"] = str(rule.newer_noncurrent_versions)
            entry["NoncurrentVersionExpiration"] = noncurrent
        if rule.abort_days is not None:
            entry["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": str(rule.abort_days)}
        out.append(entry)
    return {"Rule": out}


@functools.lru_cache(maxsize=1024)
def rules_from_document(document: str) -> tuple[Rule, ...]:
    """The rules of a stored configuration document (json of a normalized tree), cached."""
    try:
        tree = json.loads(document)
    except ValueError as exc:
        raise errors.MalformedXML("The stored lifecycle configuration is not valid.") from exc
    if not isinstance(tree, dict):
        raise errors.MalformedXML("The stored lifecycle configuration is not valid.")
    return tuple(parse_rules(tree))


def _generated_id() -> str:
    return base64.b64encode(str(uuid.uuid4()).encode()).decode().rstrip("=")


def _parse_rule(raw: Any) -> Rule:
    if not isinstance(raw, dict):
        raise errors.MalformedXML()
    _only(raw, RULE_FIELDS)
    rule_id = _text(raw, "ID") or ""
    if len(rule_id) > MAX_ID_LENGTH:
        raise errors.InvalidArgument(
            f"ID length should not exceed allowed limit of {MAX_ID_LENGTH}"
        )
    status = _text(raw, "Status")
    if status not in ("Enabled", "Disabled"):
        raise errors.MalformedXML()
    if "Filter" in raw and "Prefix" in raw:
        raise errors.MalformedXML("A rule may hold a Filter or a Prefix, not both.")
    if "Filter" in raw:
        fields = _parse_filter(_section(raw, "Filter") or {})
    else:
        fields = {"prefix": _text(raw, "Prefix") or ""}
    if not any(name in raw for name in ACTIONS):
        raise errors.InvalidRequest("At least one action needs to be specified in a rule")
    tagged = bool(fields.get("tags"))
    expiration = _section(raw, "Expiration")
    if expiration is not None:
        fields.update(_parse_expiration(expiration, tagged))
    for transition in _sections(raw, "Transition"):
        _check_transition(transition, "Days", "Transition")
    for transition in _sections(raw, "NoncurrentVersionTransition"):
        _check_transition(transition, "NoncurrentDays", "NoncurrentVersionTransition")
    noncurrent = _section(raw, "NoncurrentVersionExpiration")
    if noncurrent is not None:
        fields.update(_parse_noncurrent(noncurrent))
    abort = _section(raw, "AbortIncompleteMultipartUpload")
    if abort is not None:
        if tagged:
            raise errors.InvalidRequest(
                "Tag-based filter cannot be used with AbortIncompleteMultipartUpload action"
            )
        _only(abort, ("DaysAfterInitiation",))
        fields["abort_days"] = _positive(
            abort, "DaysAfterInitiation", "AbortIncompleteMultipartUpload"
        )
    return Rule(id=rule_id, enabled=status == "Enabled", **fields)


def _parse_filter(node: Mapping[str, Any]) -> dict[str, Any]:
    _only(node, (*PREDICATES, "And"))
    if len(node) > 1:
        raise errors.MalformedXML("A Filter may hold only one predicate; combine them with And.")
    if "And" in node:
        inner = _section(node, "And")
        if not inner:
            raise errors.MalformedXML("And must hold at least one predicate.")
        return _predicates(inner)
    tags = node.get("Tag")
    if isinstance(tags, list) and len(tags) > 1:
        raise errors.MalformedXML("A Filter may hold only one Tag; combine them with And.")
    return _predicates(node)


def _predicates(node: Mapping[str, Any]) -> dict[str, Any]:
    _only(node, PREDICATES)
    fields: dict[str, Any] = {"prefix": _text(node, "Prefix") or ""}
    tags = _tags(node)
    if tags:
        fields["tags"] = tags
    for name, field in (
        ("ObjectSizeGreaterThan", "size_greater_than"),
        ("ObjectSizeLessThan", "size_less_than"),
    ):
        text = _text(node, name)
        if text is not None:
            size = _integer(text)
            if size < 0:
                raise errors.InvalidArgument(f"'{name}' must be a nonnegative integer")
            fields[field] = size
    low, high = fields.get("size_greater_than"), fields.get("size_less_than")
    if low is not None and high is not None and low >= high:
        raise errors.InvalidArgument("ObjectSizeGreaterThan must be less than ObjectSizeLessThan")
    return fields


def _tags(node: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    value = node.get("Tag")
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    found: list[tuple[str, str]] = []
    for item in items:
        if not isinstance(item, dict):
            raise errors.MalformedXML()
        _only(item, ("Key", "Value"))
        key, tag_value = _text(item, "Key"), _text(item, "Value")
        if key is None or tag_value is None:
            raise errors.MalformedXML("A Tag must hold a Key and a Value.")
        if not 1 <= len(key) <= 128 or len(tag_value) > 256:
            raise errors.InvalidArgument("The TagKey or TagValue you have provided is invalid")
        if any(key == seen for seen, _ in found):
            raise errors.InvalidArgument("Duplicate Tag Keys are not allowed.")
        found.append((key, tag_value))
    return tuple(found)


def _parse_expiration(node: Mapping[str, Any], tagged: bool) -> dict[str, Any]:
    _only(node, ("Days", "Date", "ExpiredObjectDeleteMarker"))
    if len(node) != 1:
        raise errors.MalformedXML(
            "Expiration must hold exactly one of Days, Date or ExpiredObjectDeleteMarker."
        )
    if "Days" in node:
        return {"expiration_days": _positive(node, "Days", "Expiration")}
    if "Date" in node:
        return {"expiration_date": _date(_text(node, "Date") or "")}
    marker = (_text(node, "ExpiredObjectDeleteMarker") or "").strip().lower()
    if marker not in ("true", "false"):
        raise errors.MalformedXML()
    if tagged:
        raise errors.InvalidRequest(
            "Tag-based filter cannot be used with ExpiredObjectDeleteMarker action"
        )
    return {"expired_object_delete_marker": marker == "true"}


def _parse_noncurrent(node: Mapping[str, Any]) -> dict[str, Any]:
    _only(node, ("NoncurrentDays", "NewerNoncurrentVersions"))
    fields: dict[str, Any] = {
        "noncurrent_days": _positive(node, "NoncurrentDays", "NoncurrentVersionExpiration")
    }
    newer = _text(node, "NewerNoncurrentVersions")
    if newer is not None:
        count = _integer(newer)
        if not 1 <= count <= MAX_NEWER_NONCURRENT:
            raise errors.InvalidArgument(
                "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be "
                f"a positive integer up to {MAX_NEWER_NONCURRENT}"
            )
        fields["newer_noncurrent_versions"] = count
    return fields


def _check_transition(node: Mapping[str, Any], days_name: str, action: str) -> None:
    """A transition is kept but does nothing here; it must still be well formed."""
    if days_name == "Days":
        _only(node, ("Days", "Date", "StorageClass"))
        if ("Days" in node) == ("Date" in node):
            raise errors.MalformedXML(f"{action} must hold exactly one of Days or Date.")
    else:
        _only(node, ("NoncurrentDays", "StorageClass", "NewerNoncurrentVersions"))
        if "NoncurrentDays" not in node:
            raise errors.MalformedXML(f"{action} must hold NoncurrentDays.")
        newer = _text(node, "NewerNoncurrentVersions")
        if newer is not None and not 1 <= _integer(newer) <= MAX_NEWER_NONCURRENT:
            raise errors.InvalidArgument(
                f"'NewerNoncurrentVersions' for {action} action must be a positive integer "
                f"up to {MAX_NEWER_NONCURRENT}"
            )
    if not (_text(node, "StorageClass") or "").strip():
        raise errors.MalformedXML(f"{action} must hold a StorageClass.")
    if days_name in node and _integer(_text(node, days_name) or "") < 0:
        raise errors.InvalidArgument(
            f"'{days_name}' for {action} action must be a nonnegative integer"
        )
    if "Date" in node:
        _date(_text(node, "Date") or "")


def _positive(node: Mapping[str, Any], name: str, action: str) -> int:
    text = _text(node, name)
    if text is None:
        raise errors.MalformedXML(f"{action} must hold {name}.")
    value = _integer(text)
    if value < 1:
        raise errors.InvalidArgument(f"'{name}' for {action} action must be a positive integer")
    return value


def _integer(text: str) -> int:
    stripped = text.strip()
    if not _INTEGER.fullmatch(stripped):
        raise errors.MalformedXML()
    value = int(stripped)
    if value > MAX_DAYS:
        raise errors.MalformedXML(f"A lifecycle number must not exceed {MAX_DAYS}.")
    return value


def _date(text: str) -> int:
    """Epoch microseconds of an ISO 8601 date, which S3 wants at midnight UTC."""
    stripped = text.strip()
    try:
        if not _ISO_DATE.fullmatch(stripped):
            raise ValueError(stripped)
        moment = dt.datetime.fromisoformat(stripped)
    except ValueError as exc:
        raise errors.InvalidArgument("'Date' must be in ISO 8601 format") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    moment = moment.astimezone(dt.UTC)
    if moment.time() != dt.time(0):
        raise errors.InvalidArgument("'Date' must be at midnight GMT")
    return int(moment.timestamp()) * 1_000_000


def _only(node: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unexpected = set(node) - set(allowed)
    if unexpected:
        raise errors.MalformedXML(f"Unexpected element {sorted(unexpected)[0]}.")


def _text(node: Mapping[str, Any], name: str) -> str | None:
    """A leaf's text (None when absent); MalformedXML when it has children or repeats."""
    value = node.get(name)
    if isinstance(value, list):
        if len(value) != 1:
            raise errors.MalformedXML(f"The element {name} may appear only once.")
        value = value[0]
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and not value:
        return ""
    raise errors.MalformedXML()


def _section(node: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """An element holding children (an empty one is {}); None when absent."""
    value = node.get(name)
    if isinstance(value, list):
        if len(value) != 1:
            raise errors.MalformedXML(f"The element {name} may appear only once.")
        value = value[0]
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, str) and not value.strip():
        return {}
    raise errors.MalformedXML()


def _sections(node: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    """A repeated element's entries (each holding children)."""
    value = node.get(name)
    if value is None:
        return []
    found = []
    for item in value if isinstance(value, list) else [value]:
        section = _section({name: item}, name)
        if not section:
            raise errors.MalformedXML()
        found.append(section)
    return found


def _canonical_date(text: str) -> str:
    seconds = _date(text) // 1_000_000
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _normal_predicates(node: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "Prefix" in node:
        out["Prefix"] = _text(node, "Prefix")
    tags = _tags(node)
    if tags:
        out["Tag"] = [{"Key": key, "Value": value} for key, value in tags]
    for name in ("ObjectSizeGreaterThan", "ObjectSizeLessThan"):
        text = _text(node, name)
        if text is not None:
            out[name] = str(_integer(text))
    return out


def _normal_filter(node: Mapping[str, Any]) -> dict[str, Any]:
    if "And" in node:
        return {"And": _normal_predicates(_section(node, "And") or {})}
    return _normal_predicates(node)


def _normal_expiration(node: Mapping[str, Any]) -> dict[str, str]:
    if "Days" in node:
        return {"Days": str(_integer(_text(node, "Days") or ""))}
    if "Date" in node:
        return {"Date": _canonical_date(_text(node, "Date") or "")}
    marker = (_text(node, "ExpiredObjectDeleteMarker") or "").strip().lower()
    return {"ExpiredObjectDeleteMarker": marker}


def _normal_transition(node: Mapping[str, Any], days_name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if days_name in node:
        out[days_name] = str(_integer(_text(node, days_name) or ""))
    if "Date" in node:
        out["Date"] = _canonical_date(_text(node, "Date") or "")
    out["StorageClass"] = (_text(node, "StorageClass") or "").strip()
    newer = _text(node, "NewerNoncurrentVersions")
    if newer is not None:
        out["NewerNoncurrentVersions"] = str(_integer(newer))
    return out


# --- response headers ------------------------------------------------------------------------


def http_date(micros: int) -> str:
    """An RFC 7231 date, as x-amz-expiration and x-amz-abort-date show them."""
    seconds = min(micros, LAST_SHOWN_US) // 1_000_000
    return email.utils.formatdate(seconds, usegmt=True)


def expiration_header(
    rules: Iterable[Rule],
    key: str,
    size: int,
    tags: Mapping[str, str],
    last_modified_us: int,
    is_latest: bool = True,
) -> str | None:
    """x-amz-expiration of a current object: the earliest expiry of the enabled rules.

    `expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="rule-1"`; None when no enabled
    Expiration (Days or Date) rule selects the object, or for a noncurrent version.
    """
    if not is_latest:
        return None
    earliest: tuple[int, str] | None = None
    for rule in rules:
        if not rule.enabled or not rule.matches(key, size, tags):
            continue
        at = rule.expires_at(last_modified_us)
        if at is not None and (earliest is None or at < earliest[0]):
            earliest = (at, rule.id)
    if earliest is None:
        return None
    return f'expiry-date="{http_date(earliest[0])}", rule-id="{earliest[1]}"'


def abort_headers(rules: Iterable[Rule], key: str, initiated_us: int) -> dict[str, str]:
    """x-amz-abort-date and x-amz-abort-rule-id of a new multipart upload ({} when none).

    The earliest AbortIncompleteMultipartUpload of the enabled rules whose prefix holds key.
    """
    earliest: tuple[int, str] | None = None
    for rule in rules:
        if rule.enabled and rule.abort_days is not None and key.startswith(rule.prefix):
            at = due_at(initiated_us, rule.abort_days)
            if earliest is None or at < earliest[0]:
                earliest = (at, rule.id)
    if earliest is None:
        return {}
    return {"x-amz-abort-date": http_date(earliest[0]), "x-amz-abort-rule-id": earliest[1]}


# --- what a pass does to one key -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyPlan:
    """What a pass removes of one key's versions."""

    expire: ObjectVersion | None = None  # the current version, whose Expiration is due
    noncurrent: tuple[ObjectVersion, ...] = ()  # noncurrent versions (and markers) to remove
    marker: ObjectVersion | None = None  # a current delete marker left alone, to remove


def noncurrent_expired(
    rules: Iterable[Rule], versions: Sequence[ObjectVersion], now_us: int
) -> list[ObjectVersion]:
    """The noncurrent versions of one key that NoncurrentVersionExpiration removes now.

    `versions` are every version of the key, newest first. A version became noncurrent when
    its next newer version was written; it goes NoncurrentDays after that (rounded up to
    midnight UTC), except that a rule keeps its NewerNoncurrentVersions newest noncurrent
    versions whatever their age.
    """
    active = [r for r in rules if r.enabled and r.noncurrent_days is not None]
    removed: list[ObjectVersion] = []
    if not active:
        return removed
    newer = 0  # noncurrent versions newer than the one looked at
    for index, version in enumerate(versions):
        if version.is_latest:
            continue
        if index > 0:  # the newest version is never noncurrent with a known start
            since = versions[index - 1].last_modified
            for rule in active:
                days = rule.noncurrent_days
                if (
                    days is not None
                    and newer >= rule.newer_noncurrent_versions
                    and now_us >= due_at(since, days)
                    and rule.applies_to(version)
                ):
                    removed.append(version)
                    break
        newer += 1
    return removed


def plan_key(rules: Iterable[Rule], versions: Sequence[ObjectVersion], now_us: int) -> KeyPlan:
    """What the enabled rules remove of one key's versions (newest first) at now_us."""
    active = [r for r in rules if r.enabled]
    noncurrent = noncurrent_expired(active, versions, now_us)
    current = versions[0] if versions and versions[0].is_latest else None
    if current is None:
        return KeyPlan(noncurrent=tuple(noncurrent))
    if current.is_delete_marker:
        alone = len(noncurrent) == len(versions) - 1
        if alone and any(rule.removes_marker(current, now_us) for rule in active):
            return KeyPlan(noncurrent=tuple(noncurrent), marker=current)
        return KeyPlan(noncurrent=tuple(noncurrent))
    for rule in active:
        if rule.matches(current.key, current.size, current.tags):
            at = rule.expires_at(current.last_modified)
            if at is not None and now_us >= at:
                return KeyPlan(expire=current, noncurrent=tuple(noncurrent))
    return KeyPlan(noncurrent=tuple(noncurrent))


# --- the pass --------------------------------------------------------------------------------


@dataclass(slots=True)
class LifecycleReport:
    """What one pass did."""

    buckets: int = 0
    expired: int = 0
    noncurrent_removed: int = 0
    markers_removed: int = 0
    uploads_aborted: int = 0
    skipped_locked: int = 0
    failed_buckets: int = 0
    busy: bool = False  # another process was running a pass; this one did nothing

    def as_dict(self) -> dict[str, Any]:
        """The counts by name, for JSON."""
        return dataclasses.asdict(self)

    def summary(self) -> str:
        """One line for people."""
        if self.busy:
            return "lifecycle: skipped, another pass is running"
        line = (
            f"lifecycle: {self.buckets} buckets, {self.expired} expired, "
            f"{self.noncurrent_removed} noncurrent removed, {self.markers_removed} delete "
            f"markers removed, {self.uploads_aborted} uploads aborted"
        )
        if self.skipped_locked:
            line += f", {self.skipped_locked} locked skipped"
        if self.failed_buckets:
            line += f", {self.failed_buckets} buckets failed"
        return line


class PassLock:
    """One lifecycle pass at a time over a metadata database, across processes and nodes.

    Two passes at once would each stack a delete marker on an expiring object. SQLite: an
    exclusive flock on a file beside the database; PostgreSQL: a session advisory lock on a
    connection of its own. Methods block.
    """

    ADVISORY_KEY = 0x6C6164_6C6966  # any fixed number; only lifecycle passes take it

    def __init__(self, meta: MetadataStore) -> None:
        self.engine = meta.engine
        self._fd: int | None = None
        self._conn: sa.Connection | None = None

    def acquire(self, wait: bool) -> bool:
        """Take the lock (waiting for it with wait); False when another pass holds it."""
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            database = self.engine.url.database
            if not database or database == ":memory:":
                return True
            fd = os.open(f"{database}.lifecycle-lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
            return True
        if dialect == "postgresql":
            call = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
            conn = self.engine.connect()
            try:
                got = conn.execute(sa.text(f"SELECT {call}(:key)"), {"key": self.ADVISORY_KEY})
                held = wait or bool(got.scalar())
                conn.commit()
            except BaseException:
                conn.close()
                raise
            if not held:
                conn.close()
                return False
            self._conn = conn
            return True
        return True

    def release(self) -> None:
        """Give the lock back (closing its descriptor or its session releases it too)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self.ADVISORY_KEY})
                conn.commit()
            except Exception:
                log.warning("lifecycle lock release failed; dropping its session", exc_info=True)
                conn.invalidate()
            finally:
                conn.close()


async def run_lifecycle(
    meta: MetadataStore,
    objects: ObjectService,
    multipart: MultipartService,
    now_us: int,
    *,
    wait: bool = False,
) -> LifecycleReport:
    """One pass of every bucket's lifecycle rules as at now_us (epoch microseconds).

    Idempotent. A bucket that fails is logged and counted, and the pass goes on; versions
    under object lock are skipped and counted. When another process is running a pass, this
    one waits for it with `wait`, else returns at once with `busy` set.
    """
    report = LifecycleReport()
    lock = PassLock(meta)
    if not await run_blocking(lock.acquire, wait):
        log.info("lifecycle pass skipped: another one is running")
        report.busy = True
        return report
    try:
        for bucket in await run_blocking(meta.buckets_with_config, "lifecycle"):
            report.buckets += 1
            try:
                await _BucketPass(meta, objects, multipart, bucket, now_us, report).run()
            except Exception:
                report.failed_buckets += 1
                log.exception("lifecycle pass failed for bucket %s", bucket.name)
    finally:
        with anyio.CancelScope(shield=True):
            await run_blocking(lock.release)
    log.info("%s", report.summary())
    return report


class _BucketPass:
    """The lifecycle pass over one bucket."""

    def __init__(
        self,
        meta: MetadataStore,
        objects: ObjectService,
        multipart: MultipartService,
        bucket: Bucket,
        now_us: int,
        report: LifecycleReport,
    ) -> None:
        self.meta = meta
        self.objects = objects
        self.multipart = multipart
        self.bucket = bucket
        self.now = now_us
        self.report = report
        document = bucket.configs.get("lifecycle", "")
        self.rules = [r for r in rules_from_document(document) if r.enabled]

    async def run(self) -> None:
        version_rules = [
            r
            for r in self.rules
            if r.expiration_days is not None
            or r.expiration_date is not None
            or r.expired_object_delete_marker
            or r.noncurrent_days is not None
        ]
        if version_rules:
            await self.versions(version_rules)
        abort_rules = [r for r in self.rules if r.abort_days is not None]
        if abort_rules:
            await self.uploads(abort_rules)

    async def versions(self, rules: list[Rule]) -> None:
        """Page through every version under the rules' common prefix, one key at a time.

        The versions of a page's last key wait for the next page (they may go on there), so
        the version the next page resumes from is never one this pass has removed.
        """
        prefix = os.path.commonprefix([r.prefix for r in rules])
        key_marker = version_marker = ""
        pending: list[ObjectVersion] = []
        while True:
            page = await run_blocking(
                functools.partial(
                    self.meta.list_versions,
                    self.bucket,
                    prefix=prefix,
                    key_marker=key_marker,
                    version_marker=version_marker,
                    max_keys=PAGE,
                )
            )
            listed = pending + page.versions
            more = page.truncated and bool(page.versions)
            if more:
                last = listed[-1].key
                cut = next(i for i, v in enumerate(listed) if v.key == last)
                listed, pending = listed[:cut], listed[cut:]
            for _key, group in itertools.groupby(listed, key=lambda v: v.key):
                await self.apply(rules, list(group))
            if not more:
                return
            key_marker, version_marker = page.next_key_marker, page.next_version_marker

    async def apply(self, rules: list[Rule], versions: list[ObjectVersion]) -> None:
        """Carry out plan_key for one key's versions."""
        plan = plan_key(rules, versions, self.now)
        if plan.expire is not None:
            await self.expire(plan.expire)
        removed_all = True
        for version in plan.noncurrent:
            if await self.remove(version):
                self.report.noncurrent_removed += 1
            else:
                removed_all = False
        if plan.marker is not None and removed_all and await self.remove(plan.marker):
            self.report.markers_removed += 1

    async def expire(self, current: ObjectVersion) -> None:
        """Delete the key as a client would (a delete marker under versioning)."""
        unchanged = DeleteConditions(  # a version written since the listing stays
            if_match=current.etag, last_modified=float(current.last_modified // 1_000_000)
        )
        try:
            await self.objects.delete_object(
                self.bucket,
                current.key,
                None,
                unchanged,
                owner_id=self.bucket.owner.id,
                cause="LifecycleExpiration",
            )
        except errors.ObjectLocked:
            self.report.skipped_locked += 1
            log.debug("lifecycle: %s/%s is locked", self.bucket.name, current.key)
            return
        except errors.PreconditionFailed:
            log.debug("lifecycle: %s/%s changed; kept", self.bucket.name, current.key)
            return
        self.report.expired += 1
        log.debug("lifecycle: expired %s/%s", self.bucket.name, current.key)

    async def remove(self, version: ObjectVersion) -> bool:
        """Remove one version or delete marker for good; False when object lock holds it."""
        try:
            await self.objects.delete_object(
                self.bucket, version.key, version.version_id, cause="LifecycleExpiration"
            )
        except errors.ObjectLocked:
            self.report.skipped_locked += 1
            log.debug(
                "lifecycle: %s/%s version %s is locked",
                self.bucket.name,
                version.key,
                version.version_id,
            )
            return False
        log.debug(
            "lifecycle: removed %s/%s version %s",
            self.bucket.name,
            version.key,
            version.version_id,
        )
        return True

    async def uploads(self, rules: list[Rule]) -> None:
        """Abort the multipart uploads the rules find stale.

        They are gathered first, then aborted: listing resumes after an upload id, and one
        aborted under the listing would make it skip the rest of that key's uploads.
        """
        prefix = os.path.commonprefix([r.prefix for r in rules])
        stale: list[Upload] = []
        key_marker = upload_marker = ""
        while True:
            page = await run_blocking(
                functools.partial(
                    self.meta.list_uploads,
                    self.bucket,
                    prefix=prefix,
                    key_marker=key_marker,
                    upload_marker=upload_marker,
                    max_uploads=PAGE,
                )
            )
            stale += [u for u in page.uploads if self.upload_due(rules, u)]
            if not page.truncated or not page.uploads:
                break
            key_marker, upload_marker = page.next_key_marker, page.next_upload_marker
        for upload in stale:
            try:
                await self.multipart.abort_upload(upload)
            except errors.NoSuchUpload:
                continue  # completed or aborted since the listing
            self.report.uploads_aborted += 1
            log.debug("lifecycle: aborted upload %s of %s", upload.upload_id, upload.key)

    def upload_due(self, rules: list[Rule], upload: Upload) -> bool:
        return any(
            r.abort_days is not None
            and upload.key.startswith(r.prefix)
            and self.now >= due_at(upload.created_at, r.abort_days)
            for r in rules
        )
