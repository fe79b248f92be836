"""Queries of shares, share links, their recorded uses and the notification outbox.

They share the MetadataStore's engine and write helpers (its group commit on SQLite). A
bucket's shares are read with the bucket itself (`bucket_shares`), so authorization finds
them on the cached bucket record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from lading import errors
from lading.metadata import schema as t
from lading.metadata.models import LinkUse, OutboxMessage, Share, ShareLink

if TYPE_CHECKING:
    from lading.metadata.store import MetadataStore


def _share(row: Any) -> Share:
    return Share(
        row.id,
        row.bucket_id,
        row.prefix,
        row.principal_type,
        row.principal_id,
        row.principal_name,
        row.permission,
        row.created_by,
        row.created_at,
        row.expires_at,
        row.message,
        row.notify_email,
    )


def _link(row: Any) -> ShareLink:
    return ShareLink(
        row.id,
        row.bucket_id,
        row.bucket_name,
        row.prefix,
        bool(row.is_object),
        row.created_by,
        row.created_at,
        row.expires_at,
        row.max_uses,
        row.max_bytes,
        row.uses,
        row.bytes_served,
        row.revoked_at,
        row.note,
    )


def bucket_shares(conn: sa.Connection, bucket_id: int) -> tuple[Share, ...]:
    """The bucket's shares, oldest first (read with the bucket record)."""
    c = t.shares.c
    rows = conn.execute(sa.select(t.shares).where(c.bucket_id == bucket_id).order_by(c.id))
    return tuple(_share(row) for row in rows)


def forget_group_shares(conn: sa.Connection, group_id: int) -> None:
    """Delete the shares made to a group that is being deleted (in its transaction)."""
    c = t.shares.c
    conn.execute(t.shares.delete().where(c.principal_type == "group", c.principal_id == group_id))


def _link_query() -> sa.Select[Any]:
    return sa.select(t.share_links, t.buckets.c.name.label("bucket_name")).join(
        t.buckets, t.buckets.c.id == t.share_links.c.bucket_id
    )


class ShareStore:
    """Shares, links, link uses and outbox rows, on the metadata store's database."""

    def __init__(self, meta: MetadataStore) -> None:
        self.meta = meta

    # --- shares --------------------------------------------------------------------------------

    def create_share(
        self,
        *,
        bucket_id: int,
        prefix: str,
        principal_type: str,
        principal_id: int | None,
        principal_name: str,
        permission: str,
        created_by: int,
        created_at: int,
        expires_at: int | None,
        message: str,
        notify_email: str,
    ) -> Share:
        values = {
            "bucket_id": bucket_id,
            "prefix": prefix,
            "principal_type": principal_type,
            "principal_id": principal_id,
            "principal_name": principal_name,
            "permission": permission,
            "created_by": created_by,
            "created_at": created_at,
            "expires_at": expires_at,
            "message": message,
            "notify_email": notify_email,
        }

        def work(conn: sa.Connection) -> Share:
            row = conn.execute(t.shares.insert().values(**values).returning(*t.shares.c)).one()
            return _share(row)

        return self.meta._write(work)

    def get_share(self, share_id: int) -> Share:
        """Raises NoSuchShare."""
        with self.meta._read() as conn:
            row = conn.execute(sa.select(t.shares).where(t.shares.c.id == share_id)).first()
        if row is None:
            raise errors.NoSuchShare(share_id)
        return _share(row)

    def list_shares(
        self,
        *,
        bucket_id: int | None = None,
        owner_id: int | None = None,
        grantee_id: int | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[Share]:
        """Shares by id: of one bucket, of the buckets an owner has, or granted to a user."""
        c = t.shares.c
        query = sa.select(t.shares).where(c.id > after)
        if bucket_id is not None:
            query = query.where(c.bucket_id == bucket_id)
        if owner_id is not None:
            owned = sa.select(t.buckets.c.id).where(t.buckets.c.owner_id == owner_id)
            query = query.where(c.bucket_id.in_(owned))
        if grantee_id is not None:
            query = query.where(c.principal_type == "user", c.principal_id == grantee_id)
        query = query.order_by(c.id).limit(limit)
        with self.meta._read() as conn:
            return [_share(row) for row in conn.execute(query)]

    def bucket_name(self, bucket_id: int) -> str | None:
        with self.meta._read() as conn:
            found: str | None = conn.execute(
                sa.select(t.buckets.c.name).where(t.buckets.c.id == bucket_id)
            ).scalar()
        return found

    def delete_share(self, share_id: int) -> None:
        """Remove the access rule (never any data); raises NoSuchShare."""

        def work(conn: sa.Connection) -> None:
            gone = conn.execute(t.shares.delete().where(t.shares.c.id == share_id))
            if gone.rowcount == 0:
                raise errors.NoSuchShare(share_id)

        self.meta._write(work)

    # --- groups --------------------------------------------------------------------------------
    # The two lookups shares make of the identity model's groups.

    def group_id(self, name: str) -> int | None:
        """The id of the group of this name, or None."""
        with self.meta._read() as conn:
            found = conn.execute(sa.select(t.groups.c.id).where(t.groups.c.name == name)).scalar()
        return None if found is None else int(found)

    def member_groups(self, user_id: int) -> frozenset[int]:
        """The ids of the groups the user belongs to."""
        m = t.group_members.c
        with self.meta._read() as conn:
            return frozenset(
                conn.execute(sa.select(m.group_id).where(m.user_id == user_id)).scalars()
            )

    # --- links ---------------------------------------------------------------------------------

    def create_link(
        self,
        *,
        token_hash: str,
        bucket_id: int,
        prefix: str,
        is_object: bool,
        created_by: int,
        created_at: int,
        expires_at: int | None,
        max_uses: int | None,
        max_bytes: int | None,
        note: str,
    ) -> ShareLink:
        values = {
            "token_hash": token_hash,
            "bucket_id": bucket_id,
            "prefix": prefix,
            "is_object": is_object,
            "created_by": created_by,
            "created_at": created_at,
            "expires_at": expires_at,
            "max_uses": max_uses,
            "max_bytes": max_bytes,
            "uses": 0,
            "bytes_served": 0,
            "revoked_at": None,
            "note": note,
        }

        def work(conn: sa.Connection) -> int:
            return int(
                conn.execute(
                    t.share_links.insert().values(**values).returning(t.share_links.c.id)
                ).scalar_one()
            )

        return self.get_link(self.meta._write(work))

    def get_link(self, link_id: int) -> ShareLink:
        """Raises NoSuchLink."""
        with self.meta._read() as conn:
            row = conn.execute(_link_query().where(t.share_links.c.id == link_id)).first()
        if row is None:
            raise errors.NoSuchLink(str(link_id))
        return _link(row)

    def link_by_token_hash(self, token_hash: str) -> ShareLink:
        """Raises NoSuchLink."""
        with self.meta._read() as conn:
            row = conn.execute(
                _link_query().where(t.share_links.c.token_hash == token_hash)
            ).first()
        if row is None:
            raise errors.NoSuchLink("")
        return _link(row)

    def list_links(
        self,
        *,
        bucket_id: int | None = None,
        owner_id: int | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[ShareLink]:
        """Links by id: of one bucket, or of the buckets an owner has (neither: all)."""
        c = t.share_links.c
        query = _link_query().where(c.id > after)
        if bucket_id is not None:
            query = query.where(c.bucket_id == bucket_id)
        if owner_id is not None:
            query = query.where(t.buckets.c.owner_id == owner_id)
        query = query.order_by(c.id).limit(limit)
        with self.meta._read() as conn:
            return [_link(row) for row in conn.execute(query)]

    def revoke_link(self, link_id: int, at: int) -> ShareLink:
        """Mark the link revoked (idempotent: the first revocation time stays)."""
        c = t.share_links.c

        def work(conn: sa.Connection) -> None:
            conn.execute(
                t.share_links.update()
                .where(c.id == link_id, c.revoked_at.is_(None))
                .values(revoked_at=at)
            )

        self.meta._write(work)
        return self.get_link(link_id)

    def consume_link(
        self, link_id: int, *, nbytes: int, at: int, remote: str, key: str, counts: bool
    ) -> bool:
        """Count one use of `nbytes` (if `counts`) and record it, atomically.

        False, recording nothing, when the link is revoked, expired, used up, or would pass
        its byte cap with this use.
        """
        c = t.share_links.c

        def work(conn: sa.Connection) -> bool:
            allowed = sa.and_(
                c.id == link_id,
                c.revoked_at.is_(None),
                sa.or_(c.expires_at.is_(None), c.expires_at > at),
                sa.or_(c.max_bytes.is_(None), c.bytes_served + nbytes <= c.max_bytes),
            )
            if counts:
                allowed = sa.and_(allowed, sa.or_(c.max_uses.is_(None), c.uses < c.max_uses))
            done = conn.execute(
                t.share_links.update()
                .where(allowed)
                .values(
                    uses=c.uses + (1 if counts else 0),
                    bytes_served=c.bytes_served + nbytes,
                )
            )
            if done.rowcount == 0:
                return False
            self._record(conn, link_id, at, remote, key, nbytes, "served")
            return True

        return self.meta._write(work)

    @staticmethod
    def _record(
        conn: sa.Connection, link_id: int, at: int, remote: str, key: str, nbytes: int, outcome: str
    ) -> None:
        conn.execute(
            t.share_link_uses.insert().values(
                link_id=link_id,
                at=at,
                remote=remote[:64],
                key=key[:1024].replace("\x00", "\ufffd"),
                bytes=nbytes,
                outcome=outcome[:32],
            )
        )

    def record_use(
        self, link_id: int, *, at: int, remote: str, key: str, nbytes: int, outcome: str
    ) -> None:
        """Record a request through the link that was not counted (an index page, a refusal)."""
        self.meta._write(lambda conn: self._record(conn, link_id, at, remote, key, nbytes, outcome))

    def list_uses(self, link_id: int, *, after: int = 0, limit: int = 100) -> list[LinkUse]:
        c = t.share_link_uses.c
        query = (
            sa.select(t.share_link_uses)
            .where(c.link_id == link_id, c.id > after)
            .order_by(c.id)
            .limit(limit)
        )
        with self.meta._read() as conn:
            return [
                LinkUse(r.id, r.link_id, r.at, r.remote, r.key, r.bytes, r.outcome)
                for r in conn.execute(query)
            ]

    # --- outbox --------------------------------------------------------------------------------

    def add_message(
        self,
        *,
        created_at: int,
        recipient: str,
        subject: str,
        body: str,
        status: str,
        error: str,
        share_id: int | None,
    ) -> OutboxMessage:
        values = {
            "created_at": created_at,
            "recipient": recipient,
            "subject": subject[:255],
            "body": body,
            "status": status,
            "error": error,
            "share_id": share_id,
        }

        def work(conn: sa.Connection) -> OutboxMessage:
            row = conn.execute(
                t.share_outbox.insert().values(**values).returning(*t.share_outbox.c)
            ).one()
            return _message(row)

        return self.meta._write(work)

    def list_messages(self, *, after: int = 0, limit: int = 100) -> list[OutboxMessage]:
        c = t.share_outbox.c
        query = sa.select(t.share_outbox).where(c.id > after).order_by(c.id).limit(limit)
        with self.meta._read() as conn:
            return [_message(row) for row in conn.execute(query)]


def _message(row: Any) -> OutboxMessage:
    return OutboxMessage(
        row.id,
        row.created_at,
        row.recipient,
        row.subject,
        row.body,
        row.status,
        row.error,
        row.share_id,
    )
