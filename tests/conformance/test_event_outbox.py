"""The event outbox on SQLite and PostgreSQL: written with the change, claimed under leases."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lading import errors, notifications
from lading.metadata.events import CONFIG, EventStore, OutboxWriter
from lading.metadata.migrate import upgrade
from lading.metadata.models import Bucket, ObjectVersion, Segment
from lading.metadata.store import MetadataStore, create_engine, now_us
from lading.testing.postgres import NO_POSTGRES, scratch_database

POSTGRES_URL = os.environ.get("LADING_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'metadata.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    with scratch_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture
def meta(url: str) -> Iterator[MetadataStore]:
    engine = create_engine(url)
    upgrade(engine)
    try:
        yield MetadataStore(engine, hooks=(OutboxWriter("us-east-1"),))
    finally:
        engine.dispose()


def configured_bucket(meta: MetadataStore, events: EventStore, prefix: str = "in/") -> Bucket:
    """A bucket whose notification configuration sends created objects under prefix."""
    owner = meta.create_user(f"u{uuid.uuid4().hex[:6]}")
    topic = events.put_topic(owner, "t", {"push-endpoint": "http://127.0.0.1:9/"})
    bucket = meta.create_bucket(f"b{uuid.uuid4().hex[:8]}", owner, "us-east-1")
    tree = notifications.normalise(
        {
            "TopicConfiguration": [
                {
                    "Id": "created",
                    "Topic": topic.arn("us-east-1"),
                    "Event": ["s3:ObjectCreated:*"],
                    "Filter": {"S3Key": {"FilterRule": [{"Name": "prefix", "Value": prefix}]}},
                }
            ]
        }
    )
    meta.set_bucket_config(bucket, CONFIG, json.dumps(tree))
    return meta.get_bucket(bucket.name)


def version(bucket: Bucket, key: str, size: int = 3) -> ObjectVersion:
    return ObjectVersion(
        bucket_id=bucket.id,
        key=key,
        version_id="null",
        size=size,
        etag='"abc"',
        last_modified=now_us(),
        content_type="text/plain",
        segments=(Segment(uuid.uuid4().hex, size),),
        owner_id=bucket.owner.id,
    )


def test_an_event_is_written_with_its_change_and_only_then(meta: MetadataStore) -> None:
    events = EventStore(meta)
    bucket = configured_bucket(meta, events)
    meta.put_object(bucket, version(bucket, "in/a", 5))
    meta.put_object(bucket, version(bucket, "out/b"))  # outside the filter

    def refuse(_current: ObjectVersion | None) -> None:
        raise errors.PreconditionFailed()

    with pytest.raises(errors.PreconditionFailed):  # rolled back: no object, no event
        meta.put_object(bucket, version(bucket, "in/refused"), check=refuse)
    assert events.pending() == 1
    claimed = events.claim("a", 10, now_us() + 10_000_000, now_us())
    records = [json.loads(e.payload)["Records"][0] for e in claimed]
    assert [
        (r["eventName"], r["s3"]["object"]["key"], r["s3"]["object"]["size"]) for r in records
    ] == [("ObjectCreated:Put", "in/a", 5)]
    assert records[0]["s3"]["object"]["eTag"] == "abc"
    assert records[0]["s3"]["configurationId"] == "created"


def test_a_bucket_without_configuration_writes_no_event(meta: MetadataStore) -> None:
    events = EventStore(meta)
    owner = meta.create_user("plain")
    bucket = meta.create_bucket("plain-bucket", owner, "us-east-1")
    meta.put_object(bucket, version(bucket, "in/a"))
    meta.delete_object(bucket, "in/a")
    assert events.pending() == 0


def test_leases_keep_two_deliverers_apart_until_they_run_out(meta: MetadataStore) -> None:
    events = EventStore(meta)
    bucket = configured_bucket(meta, events)
    for index in range(3):
        meta.put_object(bucket, version(bucket, f"in/{index}"))
    now = now_us()
    first = events.claim("a", 2, now + 1_000_000, now)
    second = events.claim("b", 10, now + 60_000_000, now)
    assert len(first) == 2 and len(second) == 1
    assert {e.id for e in first}.isdisjoint({e.id for e in second})
    assert [e.id for e in first] == sorted(e.id for e in first)
    assert events.claim("c", 10, now + 1_000_000, now) == []
    # "a" dies; once its lease is over its rows go to the next claimer
    later = now + 2_000_000
    taken = events.claim("c", 10, later + 1_000_000, later)
    assert {e.id for e in taken} == {e.id for e in first}
    events.delivered("a", [e.id for e in first])  # too late: no longer a's
    assert events.pending() == 3
    events.delivered("c", [e.id for e in taken])
    events.delivered("b", [e.id for e in second])
    assert events.pending() == 0


def test_a_failed_event_waits_for_its_retry_time(meta: MetadataStore) -> None:
    events = EventStore(meta)
    bucket = configured_bucket(meta, events)
    meta.put_object(bucket, version(bucket, "in/a"))
    now = now_us()
    claimed = events.claim("a", 10, now + 1_000_000, now)
    events.retry_later("a", [e.id for e in claimed], now + 5_000_000, "broker down")
    assert not events.has_due(now + 1_000_000)
    assert events.claim("b", 10, now + 2_000_000, now + 1_000_000) == []
    assert events.has_due(now + 5_000_000)
    again = events.claim("b", 10, now + 9_000_000, now + 5_000_000)
    assert [e.attempts for e in again] == [1]


def test_released_rows_are_claimable_at_once(meta: MetadataStore) -> None:
    events = EventStore(meta)
    bucket = configured_bucket(meta, events)
    meta.put_object(bucket, version(bucket, "in/a"))
    now = now_us()
    assert len(events.claim("a", 10, now + 60_000_000, now)) == 1
    events.release("a")
    assert len(events.claim("b", 10, now + 60_000_000, now)) == 1


def test_trim_drops_the_oldest_past_the_bounds(meta: MetadataStore) -> None:
    events = EventStore(meta)
    bucket = configured_bucket(meta, events)
    for index in range(5):
        meta.put_object(bucket, version(bucket, f"in/{index}"))
    assert events.trim(2, 0) == 3
    kept = events.claim("a", 10, now_us() + 1_000_000, now_us())
    keys = [json.loads(e.payload)["Records"][0]["s3"]["object"]["key"] for e in kept]
    assert keys == ["in/3", "in/4"]
    assert events.trim(2, now_us() + 1) == 2  # older than the cutoff
    assert events.pending() == 0


def test_deleting_a_topic_drops_its_events(meta: MetadataStore) -> None:
    events = EventStore(meta)
    bucket = configured_bucket(meta, events)
    meta.put_object(bucket, version(bucket, "in/a"))
    topic = events.get_topic(bucket.owner.name, "t")
    events.delete_topic(topic)
    assert events.pending() == 0
    meta.put_object(bucket, version(bucket, "in/b"))  # the configuration names no topic now
    assert events.pending() == 0


def test_concurrent_claims_never_share_a_row(meta: MetadataStore) -> None:
    events = EventStore(meta)
    bucket = configured_bucket(meta, events)
    for index in range(40):
        meta.put_object(bucket, version(bucket, f"in/{index}"))
    now = now_us()
    got: dict[str, list[int]] = {}

    def claimer(owner: str) -> None:
        ids: list[int] = []
        while batch := events.claim(owner, 3, now + 60_000_000, now):
            ids += [e.id for e in batch]
        got[owner] = ids

    threads = [threading.Thread(target=claimer, args=(f"o{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for ids in got.values() for i in ids]
    assert len(every) == 40 and len(set(every)) == 40
