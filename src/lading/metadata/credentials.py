"""Queries of the credentials aggregate: access-key lifecycle, passwords and bearer tokens.

Shares the MetadataStore's engine and write helpers; secrets arrive here already sealed and
tokens already hashed, so nothing in clear passes through this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lading import errors
from lading.encryption import SEALED_PREFIX
from lading.metadata import schema as t
from lading.metadata.models import User
from lading.metadata.store import MetadataStore, now_us

ACTIVE = "active"
DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One access key as stored (its secret still sealed)."""

    access_key: str
    sealed_secret: str
    user: User
    status: str
    created_at: int
    expires_at: int | None
    last_used_at: int | None


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: str
    kind: str
    user: User
    parent_id: str | None
    description: str
    created_at: int
    expires_at: int
    last_used_at: int | None
    revoked_at: int | None


def _user_of(row: Any) -> User:
    return User(
        id=row.user_id,
        name=row.name,
        display_name=row.display_name,
        is_admin=bool(row.is_admin),
        created_at=row.user_created_at,
        email=row.email,
        enabled=bool(row.enabled),
    )


_USER_COLUMNS = (
    t.users.c.name,
    t.users.c.display_name,
    t.users.c.is_admin,
    t.users.c.created_at.label("user_created_at"),
    t.users.c.email,
    t.users.c.enabled,
)


class CredentialStore:
    """Access keys, passwords and tokens in the metadata database."""

    def __init__(self, meta: MetadataStore) -> None:
        self.meta = meta

    # --- access keys ---------------------------------------------------------------------------

    def _key_query(self) -> sa.Select[Any]:
        k = t.access_keys.c
        return sa.select(
            k.access_key,
            k.secret_key,
            k.user_id,
            k.status,
            k.created_at,
            k.expires_at,
            k.last_used_at,
            *_USER_COLUMNS,
        ).join(t.users, t.users.c.id == k.user_id)

    @staticmethod
    def _key(row: Any) -> KeyRecord:
        return KeyRecord(
            access_key=row.access_key,
            sealed_secret=row.secret_key,
            user=_user_of(row),
            status=row.status,
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
        )

    def get_key(self, access_key: str) -> KeyRecord:
        """Any key, whatever its status; raises NoSuchAccessKey."""
        with self.meta._read() as conn:
            row = conn.execute(
                self._key_query().where(t.access_keys.c.access_key == access_key)
            ).first()
        if row is None:
            raise errors.NoSuchAccessKey(access_key)
        return self._key(row)

    def list_keys(self, user_id: int) -> list[KeyRecord]:
        with self.meta._read() as conn:
            rows = conn.execute(
                self._key_query()
                .where(t.access_keys.c.user_id == user_id)
                .order_by(t.access_keys.c.created_at, t.access_keys.c.access_key)
            ).all()
        return [self._key(row) for row in rows]

    def create_key(
        self,
        user_id: int,
        access_key: str,
        sealed_secret: str,
        *,
        expires_at: int | None,
        max_active: int,
    ) -> None:
        """Add an active key; raises TooManyAccessKeys when the user has max_active already."""

        def work(conn: sa.Connection) -> None:
            self._check_room(conn, user_id, max_active)
            conn.execute(
                t.access_keys.insert().values(
                    access_key=access_key,
                    secret_key=sealed_secret,
                    user_id=user_id,
                    status=ACTIVE,
                    created_at=now_us(),
                    expires_at=expires_at,
                )
            )

        self.meta._write(work)

    @staticmethod
    def _check_room(conn: sa.Connection, user_id: int, max_active: int) -> None:
        k = t.access_keys.c
        active = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.access_keys)
            .where(k.user_id == user_id, k.status == ACTIVE)
        ).scalar_one()
        if active >= max_active:
            raise errors.TooManyAccessKeys(max_active)

    def update_key(
        self,
        access_key: str,
        *,
        status: str | None = None,
        expires_at: int | None | object = ...,
        max_active: int = 2,
    ) -> None:
        """Change a key's status and/or expiry (`...` leaves the expiry as is)."""

        def work(conn: sa.Connection) -> None:
            k = t.access_keys.c
            row = conn.execute(
                sa.select(k.user_id, k.status).where(k.access_key == access_key)
            ).first()
            if row is None:
                raise errors.NoSuchAccessKey(access_key)
            values: dict[str, Any] = {}
            if status is not None and status != row.status:
                if status == ACTIVE:
                    self._check_room(conn, row.user_id, max_active)
                values["status"] = status
            if expires_at is not ...:
                values["expires_at"] = expires_at
            if values:
                conn.execute(
                    t.access_keys.update().where(k.access_key == access_key).values(values)
                )

        self.meta._write(work)

    def delete_key(self, access_key: str) -> None:
        """Raises NoSuchAccessKey."""

        def work(conn: sa.Connection) -> None:
            done = conn.execute(
                t.access_keys.delete().where(t.access_keys.c.access_key == access_key)
            )
            if done.rowcount == 0:
                raise errors.NoSuchAccessKey(access_key)

        self.meta._write(work)

    def record_key_use(self, last_used: Mapping[str, int]) -> None:
        """Store when keys were last used (one transaction for the whole batch)."""
        if not last_used:
            return
        k = t.access_keys.c

        def work(conn: sa.Connection) -> None:
            statement = (
                t.access_keys.update()
                .where(k.access_key == sa.bindparam("b_key"))
                .where(sa.or_(k.last_used_at.is_(None), k.last_used_at < sa.bindparam("b_at")))
                .values(last_used_at=sa.bindparam("b_at"))
            )
            conn.execute(statement, [{"b_key": a, "b_at": at} for a, at in last_used.items()])

        self.meta._write(work)

    def clear_secrets(self) -> list[tuple[str, str]]:
        """(access key, secret) of every key whose secret is still stored in clear."""
        k = t.access_keys.c
        with self.meta._read() as conn:
            rows = conn.execute(
                sa.select(k.access_key, k.secret_key).where(
                    sa.not_(k.secret_key.startswith(SEALED_PREFIX, autoescape=True))
                )
            ).all()
        return [(row.access_key, row.secret_key) for row in rows]

    def replace_secret(self, access_key: str, expected: str, sealed_secret: str) -> None:
        """Store the sealed form of a secret, unless it changed meanwhile."""
        k = t.access_keys.c

        def work(conn: sa.Connection) -> None:
            conn.execute(
                t.access_keys.update()
                .where(k.access_key == access_key, k.secret_key == expected)
                .values(secret_key=sealed_secret)
            )

        self.meta._write(work)

    # --- passwords -----------------------------------------------------------------------------

    def set_password(self, user_id: int, password_hash: str) -> None:
        p = t.user_passwords.c

        def work(conn: sa.Connection) -> None:
            done = conn.execute(
                t.user_passwords.update()
                .where(p.user_id == user_id)
                .values(password_hash=password_hash, updated_at=now_us())
            )
            if done.rowcount == 0:
                conn.execute(
                    t.user_passwords.insert().values(
                        user_id=user_id, password_hash=password_hash, updated_at=now_us()
                    )
                )

        self.meta._write(work)

    def password_hash(self, user_id: int) -> str | None:
        with self.meta._read() as conn:
            found: str | None = conn.execute(
                sa.select(t.user_passwords.c.password_hash).where(
                    t.user_passwords.c.user_id == user_id
                )
            ).scalar()
        return found

    # --- tokens --------------------------------------------------------------------------------

    def add_token(
        self,
        token_id: str,
        token_hash: str,
        *,
        kind: str,
        user_id: int,
        expires_at: int,
        parent_id: str | None = None,
        description: str = "",
    ) -> None:
        def work(conn: sa.Connection) -> None:
            conn.execute(
                t.auth_tokens.insert().values(
                    id=token_id,
                    token_hash=token_hash,
                    kind=kind,
                    user_id=user_id,
                    parent_id=parent_id,
                    description=description[:255],
                    created_at=now_us(),
                    expires_at=expires_at,
                )
            )

        self.meta._write(work)

    def _token_query(self) -> sa.Select[Any]:
        a = t.auth_tokens.c
        return sa.select(
            a.id,
            a.kind,
            a.user_id,
            a.parent_id,
            a.description,
            a.created_at,
            a.expires_at,
            a.last_used_at,
            a.revoked_at,
            *_USER_COLUMNS,
        ).join(t.users, t.users.c.id == a.user_id)

    @staticmethod
    def _token(row: Any) -> TokenRecord:
        return TokenRecord(
            id=row.id,
            kind=row.kind,
            user=_user_of(row),
            parent_id=row.parent_id,
            description=row.description,
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )

    def token_by_hash(self, token_hash: str) -> TokenRecord | None:
        with self.meta._read() as conn:
            row = conn.execute(
                self._token_query().where(t.auth_tokens.c.token_hash == token_hash)
            ).first()
        return None if row is None else self._token(row)

    def list_tokens(self, user_id: int, kind: str) -> list[TokenRecord]:
        a = t.auth_tokens.c
        with self.meta._read() as conn:
            rows = conn.execute(
                self._token_query()
                .where(a.user_id == user_id, a.kind == kind, a.revoked_at.is_(None))
                .order_by(a.created_at, a.id)
            ).all()
        return [self._token(row) for row in rows]

    def revoke_token(self, token_id: str, at: int) -> None:
        """Revoke a token and every access token made from it."""
        a = t.auth_tokens.c

        def work(conn: sa.Connection) -> None:
            conn.execute(
                t.auth_tokens.update()
                .where(sa.or_(a.id == token_id, a.parent_id == token_id), a.revoked_at.is_(None))
                .values(revoked_at=at)
            )

        self.meta._write(work)

    def touch_token(self, token_id: str, at: int) -> None:
        a = t.auth_tokens.c

        def work(conn: sa.Connection) -> None:
            conn.execute(t.auth_tokens.update().where(a.id == token_id).values(last_used_at=at))

        self.meta._write(work)

    def purge_tokens(self, before: int) -> int:
        """Delete tokens that expired or were revoked before `before`; returns how many."""
        a = t.auth_tokens.c

        def work(conn: sa.Connection) -> int:
            done = conn.execute(
                t.auth_tokens.delete().where(sa.or_(a.expires_at < before, a.revoked_at < before))
            )
            return int(done.rowcount or 0)

        result: int = self.meta._write(work)
        return result
