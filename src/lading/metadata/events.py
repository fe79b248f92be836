"""Topics and the event outbox: the queries of bucket notifications.

`OutboxWriter` is a change hook (lading.metadata.hooks): it runs inside every object
transaction and, for a bucket whose "notification" document asks for the change, inserts the
S3 event in `event_outbox` on the same connection, so the event commits or rolls back with
the object row. For a bucket without that document it costs one dictionary lookup.

`EventStore` holds the topics (SNS-compatible API) and the outbox's consumer side: deliverers
in any process claim rows with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one
writer at a time), delete them once delivered, and push failed ones back with a later time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lading import errors, notifications
from lading.metadata import schema as t
from lading.metadata.hooks import ObjectChange, Origin
from lading.metadata.models import User
from lading.metadata.store import MetadataStore, now_us

CONFIG = "notification"  # the bucket configuration document that holds the rules
_RULES_KEPT = 256  # parsed configuration documents an OutboxWriter keeps


@dataclass(frozen=True, slots=True)
class Topic:
    """A notification topic: where events go (push-endpoint) and how (the other attributes)."""

    id: int
    owner_id: int
    owner_name: str
    name: str
    attributes: Mapping[str, str]
    created_at: int

    def arn(self, region: str) -> str:
        return str(notifications.TopicArn(region, self.owner_name, self.name))


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An outbox row claimed for delivery."""

    id: int
    topic_id: int
    payload: str
    attempts: int
    created_at: int


def _topic(row: Any) -> Topic:
    return Topic(
        row.id, row.owner_id, row.owner_name, row.name, dict(row.attributes), row.created_at
    )


def _topic_query() -> sa.Select[Any]:
    return sa.select(t.topics, t.users.c.name.label("owner_name")).join(
        t.users, t.users.c.id == t.topics.c.owner_id
    )


class OutboxWriter:
    """The change hook that writes matching S3 events to the outbox, in the change's transaction."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._rules: dict[str, tuple[notifications.Rule, ...]] = {}

    def rules(self, document: str) -> tuple[notifications.Rule, ...]:
        found = self._rules.get(document)
        if found is None:
            found = notifications.rules_of(json.loads(document))
            if len(self._rules) >= _RULES_KEPT:
                self._rules.clear()
            self._rules[document] = found
        return found

    def __call__(self, conn: sa.Connection, change: ObjectChange) -> None:
        document = change.bucket.configs.get(CONFIG)
        if document is None:  # the hot path: no notification configuration
            return
        version = change.version
        name = notifications.event_name(change.kind, change.cause, version.is_delete_marker)
        if name is None:
            return
        matched = [r for r in self.rules(document) if r.matches(name, version.key)]
        if not matched:
            return
        principal = conn.execute(
            sa.select(t.users.c.name).where(t.users.c.id == version.owner_id)
        ).scalar()
        moment = version.last_modified if change.kind == "written" else now_us()
        origin = change.origin or Origin()  # none: the server's own change
        for rule in matched:
            try:
                arn = notifications.parse_arn(rule.topic_arn)
            except errors.InvalidArgument:
                continue
            topic = conn.execute(
                _topic_query().where(t.users.c.name == arn.account, t.topics.c.name == arn.name)
            ).first()
            if topic is None:  # deleted since the configuration named it: nowhere to go
                continue
            record = notifications.record(
                name,
                rule_id=rule.id,
                region=self.region,
                bucket=change.bucket.name,
                bucket_owner=change.bucket.owner.name,
                principal=principal or change.bucket.owner.name,
                key=version.key,
                size=version.size,
                etag=version.etag,
                version_id=version.version_id if change.bucket.versioning else "",
                event_time=moment,
                opaque=topic.attributes.get("OpaqueData", ""),
                source_ip=origin.source_ip,
                request_id=origin.request_id,
            )
            conn.execute(
                t.event_outbox.insert().values(
                    topic_id=topic.id,
                    payload=json.dumps({"Records": [record]}, separators=(",", ":")),
                    created_at=moment,
                    attempts=0,
                    next_attempt_at=0,
                    lease_owner="",
                    lease_until=0,
                    last_error="",
                )
            )


class EventStore:
    """Topics and the outbox's consumer side, over the metadata store's engine."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    # --- topics ----------------------------------------------------------------------------

    def put_topic(self, owner: User, name: str, attributes: Mapping[str, str]) -> Topic:
        """Create the owner's topic, or replace the attributes of the one of that name."""
        c = t.topics.c

        def work(conn: sa.Connection) -> Topic:
            found = conn.execute(
                sa.select(c.id).where(c.owner_id == owner.id, c.name == name)
            ).scalar()
            if found is None:
                conn.execute(
                    t.topics.insert().values(
                        owner_id=owner.id,
                        name=name,
                        attributes=dict(attributes),
                        created_at=now_us(),
                    )
                )
            else:
                conn.execute(
                    t.topics.update().where(c.id == found).values(attributes=dict(attributes))
                )
            row = conn.execute(_topic_query().where(c.owner_id == owner.id, c.name == name)).one()
            return _topic(row)

        return self.store._write(work)

    def get_topic(self, account: str, name: str) -> Topic:
        """The topic `name` of user `account`; raises NoSuchTopic."""
        with self.store._read() as conn:
            row = conn.execute(
                _topic_query().where(t.users.c.name == account, t.topics.c.name == name)
            ).first()
        if row is None:
            raise errors.NoSuchTopic(f"{account}:{name}")
        return _topic(row)

    def topics_by_id(self, ids: Iterable[int]) -> dict[int, Topic]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        with self.store._read() as conn:
            rows = conn.execute(_topic_query().where(t.topics.c.id.in_(wanted))).all()
        return {row.id: _topic(row) for row in rows}

    def list_topics(self, owner_id: int) -> list[Topic]:
        with self.store._read() as conn:
            rows = conn.execute(
                _topic_query().where(t.topics.c.owner_id == owner_id).order_by(t.topics.c.name)
            ).all()
        return [_topic(row) for row in rows]

    def set_topic_attributes(self, topic: Topic, attributes: Mapping[str, str]) -> None:
        self.store._write(
            lambda conn: conn.execute(
                t.topics.update()
                .where(t.topics.c.id == topic.id)
                .values(attributes=dict(attributes))
            )
        )

    def delete_topic(self, topic: Topic) -> None:
        """Delete a topic and its undelivered events (idempotent)."""

        def work(conn: sa.Connection) -> None:
            conn.execute(t.event_outbox.delete().where(t.event_outbox.c.topic_id == topic.id))
            conn.execute(t.topics.delete().where(t.topics.c.id == topic.id))

        self.store._write(work)

    # --- the outbox ------------------------------------------------------------------------

    def has_due(self, now: int) -> bool:
        """Whether a row is due and unleased (a read: idle pollers take no write lock)."""
        c = t.event_outbox.c
        with self.store._read() as conn:
            found = conn.execute(
                sa.select(c.id).where(c.next_attempt_at <= now, c.lease_until <= now).limit(1)
            ).first()
        return found is not None

    def claim(self, owner: str, limit: int, lease_until: int, now: int) -> list[PendingEvent]:
        """Lease up to `limit` due rows to `owner` until `lease_until`, oldest first."""
        c = t.event_outbox.c
        due = (
            sa.select(c.id)
            .where(c.next_attempt_at <= now, c.lease_until <= now)
            .order_by(c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )

        def work(conn: sa.Connection) -> list[PendingEvent]:
            ids = list(conn.execute(due).scalars())
            if not ids:
                return []
            rows = conn.execute(
                t.event_outbox.update()
                .where(c.id.in_(ids), c.lease_until <= now)
                .values(lease_owner=owner, lease_until=lease_until)
                .returning(c.id, c.topic_id, c.payload, c.attempts, c.created_at)
            ).all()
            return sorted(
                (PendingEvent(r.id, r.topic_id, r.payload, r.attempts, r.created_at) for r in rows),
                key=lambda e: e.id,
            )

        return self.store._write(work)

    def delivered(self, owner: str, ids: Iterable[int]) -> None:
        """Remove delivered rows (those still leased to `owner`)."""
        done = list(ids)
        if not done:
            return
        c = t.event_outbox.c
        self.store._write(
            lambda conn: conn.execute(
                t.event_outbox.delete().where(c.id.in_(done), c.lease_owner == owner)
            )
        )

    def retry_later(self, owner: str, ids: Iterable[int], at: int, error: str) -> None:
        """Give failed rows back for another attempt at `at` (epoch microseconds)."""
        failed = list(ids)
        if not failed:
            return
        c = t.event_outbox.c
        self.store._write(
            lambda conn: conn.execute(
                t.event_outbox.update()
                .where(c.id.in_(failed), c.lease_owner == owner)
                .values(
                    attempts=c.attempts + 1,
                    next_attempt_at=at,
                    lease_owner="",
                    lease_until=0,
                    last_error=error[:1000],
                )
            )
        )

    def release(self, owner: str) -> None:
        """Give back every row leased to `owner` (a deliverer that stops)."""
        c = t.event_outbox.c
        self.store._write(
            lambda conn: conn.execute(
                t.event_outbox.update()
                .where(c.lease_owner == owner)
                .values(lease_owner="", lease_until=0)
            )
        )

    def trim(self, max_per_topic: int, older_than: int) -> int:
        """Drop undelivered rows past the bounds; returns how many were dropped.

        Rows created before `older_than` go, then each topic keeps its newest
        `max_per_topic` rows.
        """
        c = t.event_outbox.c

        def work(conn: sa.Connection) -> int:
            dropped = conn.execute(t.event_outbox.delete().where(c.created_at < older_than))
            count = dropped.rowcount or 0
            crowded = conn.execute(
                sa.select(c.topic_id, sa.func.count())
                .group_by(c.topic_id)
                .having(sa.func.count() > max_per_topic)
            ).all()
            for topic_id, total in crowded:
                cut = conn.execute(
                    sa.select(c.id)
                    .where(c.topic_id == topic_id)
                    .order_by(c.id)
                    .offset(total - max_per_topic - 1)
                    .limit(1)
                ).scalar_one()
                result = conn.execute(
                    t.event_outbox.delete().where(c.topic_id == topic_id, c.id <= cut)
                )
                count += result.rowcount or 0
            return count

        return self.store._write(work)

    def pending(self) -> int:
        """How many events wait for delivery."""
        with self.store._read() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(t.event_outbox)).scalar_one()
            )
