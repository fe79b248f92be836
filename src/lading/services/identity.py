"""Users and their access keys; the lookup S3 authentication uses on every request."""

from __future__ import annotations

import json
import os
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lading import errors
from lading.concurrency import run_blocking
from lading.encryption import SEALED_PREFIX, Keyring
from lading.metadata.credentials import ACTIVE, CredentialStore
from lading.metadata.identity import Directory
from lading.metadata.models import AccessKey, User
from lading.metadata.store import MetadataStore
from lading.services.cache import TtlCache

ROOT_USER = "root"
KEY_CACHE_SECONDS = 2.0
SECRET_PURPOSE = b"access-key-secret"  # what sealed access-key secrets are bound to
_KEY_ALPHABET = string.ascii_uppercase + string.digits


def new_key_pair() -> tuple[str, str]:
    """A fresh (access key id, secret key), in AWS's shapes."""
    access = "LAD" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(17))
    return access, secrets.token_urlsafe(30)[:40]


@dataclass(frozen=True, slots=True)
class NewCredentials:
    user: str
    access_key: str
    secret_key: str

    def as_json(self) -> str:
        return json.dumps(
            {"user": self.user, "access_key": self.access_key, "secret_key": self.secret_key}
        )


class IdentityService:
    """Resolves access keys (with a short per-process cache) and manages users."""

    def __init__(
        self,
        meta: MetadataStore,
        keyring: Keyring | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.meta = meta
        self.keyring = keyring  # seals secrets at rest; without one they stay in clear
        self.clock = clock
        self.credentials = CredentialStore(meta)
        self._keys: TtlCache[str, AccessKey] = TtlCache(KEY_CACHE_SECONDS)
        self._users: TtlCache[int, User] = TtlCache(KEY_CACHE_SECONDS)
        # access key -> when this process last saw it used (epoch us); flushed in batches
        self.key_use: dict[str, int] = {}

    async def lookup_key(self, access_key: str) -> AccessKey:
        """Raises InvalidAccessKeyId for an unknown, disabled or expired key."""
        key = await self._keys.fetch(access_key, self._load_key)
        now = int(self.clock().timestamp() * 1_000_000)
        if key.expires_at is not None and key.expires_at <= now:
            raise errors.InvalidAccessKeyId(access_key)
        self.key_use[access_key] = now  # a dict store: the hot path never writes the database
        return key

    def forget_key(self, access_key: str) -> None:
        """Drop a changed key from this process's cache (others see it within the TTL)."""
        self._keys.forget(access_key)

    async def _load_key(self, access_key: str) -> AccessKey:
        return await run_blocking(self._read_key, access_key)

    def _read_key(self, access_key: str) -> AccessKey:
        try:
            found = self.credentials.get_key(access_key)
        except errors.NoSuchAccessKey:
            raise errors.InvalidAccessKeyId(access_key) from None
        if found.status != ACTIVE or not found.user.enabled:
            raise errors.InvalidAccessKeyId(access_key)
        secret = self.open_secret(found.sealed_secret)
        policies = Directory(self.meta).identity_policies(found.user.id)
        return AccessKey(access_key, secret, found.user, found.status, found.expires_at, policies)

    def forget_user_keys(self, user_id: int) -> None:
        """Drop a user's keys from this process's cache (their policies changed)."""
        for record in self.credentials.list_keys(user_id):
            self._keys.forget(record.access_key)

    def seal(self, secret: str) -> str:
        """The form a secret key is stored in."""
        if self.keyring is None:
            return secret
        return self.keyring.seal(secret.encode(), SECRET_PURPOSE)

    def open_secret(self, stored: str) -> str:
        """A stored secret in clear (stored ones from before sealing are returned as they are)."""
        if not stored.startswith(SEALED_PREFIX):
            return stored
        if self.keyring is None:
            raise errors.LadingError("A sealed secret needs the server's encryption keys.")
        return self.keyring.open_sealed(stored, SECRET_PURPOSE).decode()

    def seal_clear_secrets(self) -> int:
        """Seal every secret still stored in clear (keys from before sealing); returns how many."""
        if self.keyring is None:
            return 0
        found = self.credentials.clear_secrets()
        for access_key, secret in found:
            self.credentials.replace_secret(access_key, secret, self.seal(secret))
        return len(found)

    async def user_by_id(self, user_id: int) -> User:
        """Raises NoSuchUser."""
        return await self._users.fetch(user_id, lambda i: run_blocking(self.meta.get_user_by_id, i))

    async def user_by_email(self, email: str) -> User:
        """The one user with this e-mail address (an ACL grantee given by e-mail).

        Raises UnresolvableGrantByEmailAddress or AmbiguousGrantByEmailAddress.
        """
        found = await run_blocking(Directory(self.meta).users_with_email, email)
        if not found:
            raise errors.UnresolvableGrantByEmailAddress()
        if len(found) > 1:
            raise errors.AmbiguousGrantByEmailAddress()
        return found[0]

    async def user_exists(self, name: str) -> bool:
        try:
            await run_blocking(self.meta.get_user, name)
        except errors.NoSuchUser:
            return False
        return True

    def add_user(self, name: str, *, is_admin: bool = False, email: str = "") -> NewCredentials:
        """Create a user, their personal project and one fresh key pair.

        Raises UserAlreadyExists.
        """
        if not name or len(name) > 64 or not all(c.isalnum() or c in "._-@" for c in name):
            raise errors.InvalidArgument(
                "A user name is 1 to 64 letters, digits and the characters . _ - @"
            )
        user = self.meta.create_user(name, is_admin=is_admin)
        directory = Directory(self.meta)
        if email:
            directory.update_user(name, email=email)
        directory.personal_project_id(user)
        access, secret = new_key_pair()
        self.meta.add_access_key(user.id, access, self.seal(secret))
        return NewCredentials(name, access, secret)

    def ensure_root(
        self, data_dir: Path, access_key: str | None, secret_key: str | None
    ) -> NewCredentials | None:
        """Make sure the root user and its keys exist; returns generated credentials once.

        Keys given in the settings win; otherwise the pair stored in the data directory
        (mode 0600) is used, and on the very first start a pair is generated and stored.
        """
        try:
            root: User = self.meta.get_user(ROOT_USER)
        except errors.NoSuchUser:
            root = self.meta.create_user(ROOT_USER, display_name="Root", is_admin=True)
        Directory(self.meta).personal_project_id(root)
        generated = None
        if not (access_key and secret_key):
            stored = data_dir / "root-credentials.json"
            if stored.exists():
                saved = json.loads(stored.read_text())
                access_key, secret_key = saved["access_key"], saved["secret_key"]
            else:
                access_key, secret_key = new_key_pair()
                generated = NewCredentials(ROOT_USER, access_key, secret_key)
                fd = os.open(stored, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(generated.as_json() + "\n")
        self.meta.add_access_key(root.id, access_key, self.seal(secret_key))
        return generated
