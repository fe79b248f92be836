"""Lifecycle rules: validation as S3 does it, filters, due times and what a pass removes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from lading import errors
from lading.lifecycle import (
    Rule,
    abort_headers,
    due_at,
    expiration_header,
    noncurrent_expired,
    normalize,
    parse_rules,
    plan_key,
    rules_from_document,
)
from lading.metadata.models import ObjectVersion


def us(text: str) -> int:
    """Epoch microseconds of an ISO 8601 UTC moment."""
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()) * 1_000_000


def config(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"Rule": list(rules)}


def rule(**fields: Any) -> dict[str, Any]:
    """A valid rule tree (prefix filter, 30-day expiration) with fields replaced or added."""
    base: dict[str, Any] = {
        "ID": "r1",
        "Filter": {"Prefix": "logs/"},
        "Status": "Enabled",
        "Expiration": {"Days": "30"},
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def version(
    version_id: str,
    modified: str,
    *,
    key: str = "k",
    latest: bool = False,
    marker: bool = False,
    size: int = 5,
    tags: dict[str, str] | None = None,
) -> ObjectVersion:
    return ObjectVersion(
        bucket_id=1,
        key=key,
        version_id=version_id,
        size=0 if marker else size,
        etag="" if marker else '"e"',
        last_modified=us(modified),
        content_type="",
        is_latest=latest,
        is_delete_marker=marker,
        tags=tags or {},
    )


# --- validation ------------------------------------------------------------------------------


def test_the_documented_example_parses() -> None:
    tree = config(
        {
            "ID": "r1",
            "Filter": {
                "And": {
                    "Prefix": "logs/",
                    "Tag": [{"Key": "a", "Value": "b"}],
                    "ObjectSizeGreaterThan": "10",
                }
            },
            "Status": "Enabled",
            "Expiration": {"Days": "30"},
            "NoncurrentVersionExpiration": {"NoncurrentDays": "10", "NewerNoncurrentVersions": "2"},
        }
    )
    [parsed] = parse_rules(tree)
    assert parsed == Rule(
        id="r1",
        enabled=True,
        prefix="logs/",
        tags=(("a", "b"),),
        size_greater_than=10,
        expiration_days=30,
        noncurrent_days=10,
        newer_noncurrent_versions=2,
    )


def test_legacy_prefix_empty_filter_and_no_filter_all_parse() -> None:
    rules = parse_rules(
        config(
            rule(ID="a", Filter=None, Prefix="tmp/"),
            rule(ID="b", Filter=""),
            rule(ID="c", Filter=None),
            rule(ID="d", Filter={"Prefix": ""}, Status="Disabled"),
        )
    )
    assert [(r.id, r.prefix, r.enabled) for r in rules] == [
        ("a", "tmp/", True),
        ("b", "", True),
        ("c", "", True),
        ("d", "", False),
    ]


@pytest.mark.parametrize(
    ("tree", "error", "message"),
    [
        ({}, errors.MalformedXML, None),
        (config(*[rule(ID=str(i)) for i in range(1001)]), errors.MalformedXML, None),
        (config(rule(ID="x" * 256)), errors.InvalidArgument, "255"),
        (
            config(rule(ID="same"), rule(ID="same")),
            errors.InvalidArgument,
            "Rule ID must be unique. Found same ID for more than one rule",
        ),
        (config(rule(Status="enabled")), errors.MalformedXML, None),
        (config(rule(Status=None)), errors.MalformedXML, None),
        (config(rule(Prefix="a/")), errors.MalformedXML, None),
        (
            config(rule(Filter={"Prefix": "a", "ObjectSizeLessThan": "3"})),
            errors.MalformedXML,
            None,
        ),
        (
            config(rule(Filter={"Tag": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]})),
            errors.MalformedXML,
            None,
        ),
        (config(rule(Filter={"And": ""})), errors.MalformedXML, None),
        (config(rule(Filter={"Tag": [{"Key": "a"}]})), errors.MalformedXML, None),
        (
            config(rule(Filter={"And": {"Tag": [{"Key": "a", "Value": "1"}] * 2}})),
            errors.InvalidArgument,
            "Duplicate",
        ),
        (
            config(rule(Filter={"And": {"ObjectSizeGreaterThan": "9", "ObjectSizeLessThan": "9"}})),
            errors.InvalidArgument,
            None,
        ),
        (config(rule(Filter={"ObjectSizeGreaterThan": "ten"})), errors.MalformedXML, None),
        (config(rule(Filter={"Suffix": ".log"})), errors.MalformedXML, None),
        (config(rule(Expiration=None)), errors.InvalidRequest, "At least one action"),
        (config(rule(Expiration="")), errors.MalformedXML, None),
        (config(rule(Expiration={"Days": "1", "Date": "2030-01-01"})), errors.MalformedXML, None),
        (
            config(rule(Expiration={"Days": "0"})),
            errors.InvalidArgument,
            "'Days' for Expiration action must be a positive integer",
        ),
        (config(rule(Expiration={"Days": "-3"})), errors.InvalidArgument, None),
        (config(rule(Expiration={"Days": "1.5"})), errors.MalformedXML, None),
        (
            config(rule(Expiration={"Date": "2030-01-01T12:00:00Z"})),
            errors.InvalidArgument,
            "'Date' must be at midnight GMT",
        ),
        (config(rule(Expiration={"Date": "20300101"})), errors.InvalidArgument, "ISO 8601"),
        (config(rule(Expiration={"ExpiredObjectDeleteMarker": "yes"})), errors.MalformedXML, None),
        (
            config(
                rule(
                    Filter={"Tag": [{"Key": "a", "Value": "1"}]},
                    Expiration={"ExpiredObjectDeleteMarker": "true"},
                )
            ),
            errors.InvalidRequest,
            "ExpiredObjectDeleteMarker",
        ),
        (
            config(rule(NoncurrentVersionExpiration={"NoncurrentDays": "0"})),
            errors.InvalidArgument,
            "NoncurrentDays",
        ),
        (config(rule(NoncurrentVersionExpiration={})), errors.MalformedXML, None),
        (
            config(
                rule(
                    NoncurrentVersionExpiration={
                        "NoncurrentDays": "1",
                        "NewerNoncurrentVersions": "101",
                    }
                )
            ),
            errors.InvalidArgument,
            "NewerNoncurrentVersions",
        ),
        (
            config(rule(AbortIncompleteMultipartUpload={"DaysAfterInitiation": "0"})),
            errors.InvalidArgument,
            "DaysAfterInitiation",
        ),
        (
            config(
                rule(
                    Filter={"And": {"Prefix": "a", "Tag": [{"Key": "a", "Value": "1"}]}},
                    AbortIncompleteMultipartUpload={"DaysAfterInitiation": "1"},
                )
            ),
            errors.InvalidRequest,
            "AbortIncompleteMultipartUpload",
        ),
        (config(rule(Transition=[{"Days": "30"}])), errors.MalformedXML, None),
        (
            config(rule(Transition=[{"Days": "30", "Date": "2030-01-01", "StorageClass": "X"}])),
            errors.MalformedXML,
            None,
        ),
        (
            config(rule(NoncurrentVersionTransition=[{"StorageClass": "GLACIER"}])),
            errors.MalformedXML,
            None,
        ),
        (config(rule(Unknown="x")), errors.MalformedXML, None),
    ],
)
def test_invalid_configurations_are_refused_as_s3_does(
    tree: dict[str, Any], error: type[errors.LadingError], message: str | None
) -> None:
    with pytest.raises(error) as raised:
        parse_rules(tree)
    assert type(raised.value) is error
    if message is not None:
        assert message in raised.value.message


def test_transitions_are_accepted_and_change_nothing() -> None:
    [parsed] = parse_rules(
        config(
            rule(
                Expiration=None,
                Transition=[
                    {"Days": "0", "StorageClass": "GLACIER"},
                    {"Days": "90", "StorageClass": "DEEP_ARCHIVE"},
                ],
                NoncurrentVersionTransition=[{"NoncurrentDays": "30", "StorageClass": "GLACIER"}],
            )
        )
    )
    assert parsed.expires_at(0) is None and parsed.noncurrent_days is None


def test_normalize_orders_elements_fills_ids_and_keeps_a_legacy_prefix() -> None:
    tree = config(
        {
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": " 7 "},
            "Expiration": {"Date": "2030-01-01"},
            "Status": "Enabled",
            "Prefix": "tmp/",
        },
        {
            "Status": "Disabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": "10"},
            "Filter": {"And": {"Tag": [{"Key": "a", "Value": "b"}], "Prefix": "x/"}},
            "ID": "second",
        },
    )
    stored = normalize(tree)
    first, second = stored["Rule"]
    assert list(first) == ["ID", "Prefix", "Status", "Expiration", "AbortIncompleteMultipartUpload"]
    assert first["ID"] and first["Prefix"] == "tmp/"
    assert first["Expiration"] == {"Date": "2030-01-01T00:00:00.000Z"}
    assert first["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": "7"}
    assert second == {
        "ID": "second",
        "Filter": {"And": {"Prefix": "x/", "Tag": [{"Key": "a", "Value": "b"}]}},
        "Status": "Disabled",
        "NoncurrentVersionExpiration": {"NoncurrentDays": "10"},
    }
    # what is stored parses back to the same rules (with the generated ID)
    again = rules_from_document(json.dumps(stored))
    assert again[0].id == first["ID"] and again[0].expiration_date == us("2030-01-01T00:00:00")
    assert normalize(stored) == stored


# --- filters ---------------------------------------------------------------------------------


def test_filters_match_prefix_tags_and_sizes() -> None:
    by_prefix = Rule(id="p", enabled=True, prefix="logs/")
    assert by_prefix.matches("logs/a", 1, {}) and not by_prefix.matches("log", 1, {})
    tagged = Rule(id="t", enabled=True, tags=(("a", "1"), ("b", "2")))
    assert tagged.matches("k", 1, {"a": "1", "b": "2", "c": "3"})
    assert not tagged.matches("k", 1, {"a": "1"})
    assert not tagged.matches("k", 1, {"a": "1", "b": "x"})
    sized = Rule(id="s", enabled=True, size_greater_than=10, size_less_than=20)
    assert [sized.matches("k", n, {}) for n in (10, 11, 19, 20)] == [False, True, True, False]


def test_and_filter_combines_every_predicate() -> None:
    [parsed] = parse_rules(
        config(
            rule(
                Filter={
                    "And": {
                        "Prefix": "logs/",
                        "Tag": [{"Key": "a", "Value": "b"}],
                        "ObjectSizeLessThan": "100",
                    }
                }
            )
        )
    )
    assert parsed.matches("logs/x", 99, {"a": "b"})
    assert not parsed.matches("data/x", 99, {"a": "b"})
    assert not parsed.matches("logs/x", 100, {"a": "b"})
    assert not parsed.matches("logs/x", 99, {})


def test_delete_markers_match_on_prefix_only_and_never_a_tag_filter() -> None:
    assert Rule(id="p", enabled=True, prefix="a/", size_greater_than=5).matches_marker("a/k")
    assert not Rule(id="t", enabled=True, tags=(("a", "1"),)).matches_marker("k")


# --- due times and headers -------------------------------------------------------------------


def test_due_times_round_up_to_the_next_midnight_utc() -> None:
    assert due_at(us("2014-01-15T10:30:00"), 3) == us("2014-01-19T00:00:00")
    assert due_at(us("2014-01-15T00:00:00"), 3) == us("2014-01-18T00:00:00")
    assert due_at(us("2014-01-15T23:59:59"), 1) == us("2014-01-17T00:00:00")


def test_expiration_header_names_the_earliest_enabled_rule() -> None:
    rules = parse_rules(
        config(
            rule(ID="late", Filter={"Prefix": ""}, Expiration={"Days": "30"}),
            rule(ID="soon", Filter={"Prefix": "logs/"}, Expiration={"Days": "3"}),
            rule(ID="off", Filter={"Prefix": ""}, Expiration={"Days": "1"}, Status="Disabled"),
            rule(
                ID="tagged", Filter={"Tag": [{"Key": "t", "Value": "1"}]}, Expiration={"Days": "2"}
            ),
        )
    )
    written = us("2012-12-19T10:30:00")
    header = expiration_header(rules, "logs/a", 1, {}, written)
    assert header == 'expiry-date="Sun, 23 Dec 2012 00:00:00 GMT", rule-id="soon"'
    assert expiration_header(rules, "data/a", 1, {}, written) == (
        'expiry-date="Sat, 19 Jan 2013 00:00:00 GMT", rule-id="late"'
    )
    assert 'rule-id="tagged"' in (expiration_header(rules, "data/a", 1, {"t": "1"}, written) or "")
    assert expiration_header(rules, "logs/a", 1, {}, written, is_latest=False) is None


def test_expiration_header_with_a_date_and_without_a_rule() -> None:
    rules = parse_rules(config(rule(Expiration={"Date": "2030-01-01T00:00:00.000Z"})))
    assert expiration_header(rules, "logs/a", 1, {}, 0) == (
        'expiry-date="Tue, 01 Jan 2030 00:00:00 GMT", rule-id="r1"'
    )
    assert expiration_header(rules, "other", 1, {}, 0) is None
    marker_only = parse_rules(config(rule(Expiration={"ExpiredObjectDeleteMarker": "true"})))
    assert expiration_header(marker_only, "logs/a", 1, {}, 0) is None


def test_abort_headers_of_a_new_upload() -> None:
    rules = parse_rules(
        config(rule(Expiration=None, AbortIncompleteMultipartUpload={"DaysAfterInitiation": "7"}))
    )
    assert abort_headers(rules, "logs/big", us("2024-11-22T08:00:00")) == {
        "x-amz-abort-date": "Sat, 30 Nov 2024 00:00:00 GMT",
        "x-amz-abort-rule-id": "r1",
    }
    assert abort_headers(rules, "data/big", 0) == {}


# --- what a pass removes ---------------------------------------------------------------------


def noncurrent_rule(days: int, newer: int = 0, prefix: str = "") -> Rule:
    return Rule(
        id="nc", enabled=True, prefix=prefix, noncurrent_days=days, newer_noncurrent_versions=newer
    )


def test_noncurrent_versions_go_days_after_their_successor_was_written() -> None:
    versions = [
        version("v3", "2024-03-10T12:00:00", latest=True),
        version("v2", "2024-03-05T12:00:00"),  # noncurrent since 03-10 12:00
        version("v1", "2024-03-01T12:00:00"),  # noncurrent since 03-05 12:00
    ]
    rules = [noncurrent_rule(10)]
    due_v1 = us("2024-03-16T00:00:00")  # 03-05 12:00 + 10 days, rounded up to midnight
    assert noncurrent_expired(rules, versions, due_v1 - 1) == []
    assert [v.version_id for v in noncurrent_expired(rules, versions, due_v1)] == ["v1"]
    later = us("2024-03-21T00:00:00")
    assert [v.version_id for v in noncurrent_expired(rules, versions, later)] == ["v2", "v1"]


def test_newer_noncurrent_versions_are_kept_whatever_their_age() -> None:
    versions = [version("v9", "2024-01-09T00:00:00", latest=True)] + [
        version(f"v{i}", f"2024-01-0{i}T00:00:00") for i in range(8, 0, -1)
    ]
    later = us("2025-01-01T00:00:00")
    kept_three = noncurrent_expired([noncurrent_rule(1, newer=3)], versions, later)
    assert [v.version_id for v in kept_three] == ["v5", "v4", "v3", "v2", "v1"]
    assert len(noncurrent_expired([noncurrent_rule(1)], versions, later)) == 8
    assert noncurrent_expired([noncurrent_rule(1, newer=100)], versions, later) == []


def test_noncurrent_selection_follows_the_filter_and_skips_disabled_rules() -> None:
    versions = [
        version("v2", "2024-01-02T00:00:00", key="logs/a", latest=True),
        version("v1", "2024-01-01T00:00:00", key="logs/a"),
    ]
    later = us("2025-01-01T00:00:00")
    assert noncurrent_expired([noncurrent_rule(1, prefix="data/")], versions, later) == []
    off = Rule(id="off", enabled=False, noncurrent_days=1)
    assert noncurrent_expired([off], versions, later) == []


def test_plan_expires_a_due_current_version_only() -> None:
    rules = [Rule(id="e", enabled=True, expiration_days=1)]
    current = version("null", "2024-01-01T10:00:00", latest=True)
    assert plan_key(rules, [current], us("2024-01-02T23:59:59")).expire is None
    assert plan_key(rules, [current], us("2024-01-03T00:00:00")).expire == current
    dated = [Rule(id="d", enabled=True, expiration_date=us("2024-06-01T00:00:00"))]
    assert plan_key(dated, [current], us("2024-05-31T00:00:00")).expire is None
    assert plan_key(dated, [current], us("2024-06-01T00:00:00")).expire == current


def test_plan_removes_a_lone_delete_marker() -> None:
    marker = version("m", "2024-01-05T00:00:00", latest=True, marker=True)
    old = version("v1", "2024-01-01T00:00:00")
    cleanup = [Rule(id="m", enabled=True, expired_object_delete_marker=True)]
    now = us("2024-01-06T00:00:00")
    assert plan_key(cleanup, [marker], now).marker == marker
    assert plan_key(cleanup, [marker, old], now).marker is None  # a version still hides under it
    # noncurrent expiration removing the last version leaves the marker alone: it goes too
    both = [*cleanup, noncurrent_rule(1)]
    plan = plan_key(both, [marker, old], now)
    assert plan.noncurrent == (old,) and plan.marker == marker
    # Expiration Days removes lone markers once they are that old
    days = [Rule(id="d", enabled=True, expiration_days=5)]
    assert plan_key(days, [marker], now).marker is None
    assert plan_key(days, [marker], us("2024-01-10T00:00:00")).marker == marker


def test_plan_does_nothing_for_disabled_rules() -> None:
    rules = [Rule(id="off", enabled=False, expiration_days=1, noncurrent_days=1)]
    versions = [
        version("v2", "2024-01-02T00:00:00", latest=True),
        version("v1", "2024-01-01T00:00:00"),
    ]
    plan = plan_key(rules, versions, us("2030-01-01T00:00:00"))
    assert plan.expire is None and plan.noncurrent == () and plan.marker is None
