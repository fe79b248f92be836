"""Access-key lifecycle, passwords and bearer tokens.

Keys: at most `max_active_keys` active pairs per user (so one can be rotated while services
run on the other), each disabled, enabled, deleted or given an expiry; secrets are sealed with
the server's master keys (`IdentityService.seal`). When a key or token was last used is kept
in memory per process and written in one batch every `last_used_seconds`: a crash loses at
most that much of this bookkeeping, never a credential.

Passwords are argon2id hashes. `login` trades one for a short-lived access token and a
long-lived refresh token; both are random 256-bit strings stored only as SHA-256 hashes.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import argon2

from lading import errors
from lading.concurrency import run_blocking
from lading.metadata.credentials import ACTIVE, DISABLED, KeyRecord, TokenRecord
from lading.metadata.models import User
from lading.services.cache import TtlCache
from lading.services.identity import IdentityService, new_key_pair
from lading.settings import CredentialSettings

log = logging.getLogger(__name__)
ACCESS = "access"
REFRESH = "refresh"
ACCESS_PREFIX = "lat_"
REFRESH_PREFIX = "lrt_"
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
TOKEN_CACHE_SECONDS = 2.0
US = 1_000_000


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def micros(moment: datetime) -> int:
    return int(moment.timestamp() * US)


@dataclass(frozen=True, slots=True)
class NewKey:
    record: KeyRecord
    secret_key: str


@dataclass(frozen=True, slots=True)
class Tokens:
    """What login and refresh hand out (the refresh token only from login)."""

    access_token: str
    access_expires_at: int
    refresh_token: str | None
    refresh_expires_at: int
    refresh_id: str


@dataclass(frozen=True, slots=True)
class TokenCaller:
    user: User
    token_id: str
    expires_at: int


class CredentialService:
    """Keys, passwords and tokens of users; the bearer-token check of every API call."""

    def __init__(
        self,
        identity: IdentityService,
        settings: CredentialSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self.identity = identity
        self.store = identity.credentials
        self.settings = settings
        self.clock = clock
        self._hasher = argon2.PasswordHasher()  # argon2id with the library's RFC 9106 profile
        self._dummy_hash = ""  # made on first need: checked for unknown users, same cost
        self._tokens: TtlCache[str, TokenRecord | None] = TtlCache(TOKEN_CACHE_SECONDS)
        self.token_use: dict[str, int] = {}

    def now(self) -> int:
        return micros(self.clock())

    # --- access keys ---------------------------------------------------------------------------

    async def create_key(self, user: User, *, expires_at: int | None = None) -> NewKey:
        """A fresh active key pair; TooManyAccessKeys when the user holds the maximum."""
        if expires_at is not None and expires_at <= self.now():
            raise errors.InvalidArgument("The expiry date of a new key must be in the future.")
        access, secret = new_key_pair()
        await run_blocking(
            lambda: self.store.create_key(
                user.id,
                access,
                self.identity.seal(secret),
                expires_at=expires_at,
                max_active=self.settings.max_active_keys,
            )
        )
        record = await run_blocking(self.store.get_key, access)
        return NewKey(record, secret)

    async def list_keys(self, user: User) -> list[KeyRecord]:
        return await run_blocking(self.store.list_keys, user.id)

    async def get_key(self, access_key: str) -> KeyRecord:
        """Raises NoSuchAccessKey."""
        return await run_blocking(self.store.get_key, access_key)

    async def update_key(
        self,
        access_key: str,
        *,
        enabled: bool | None = None,
        expires_at: int | None | object = ...,
    ) -> KeyRecord:
        """Enable, disable and/or (re)set the expiry; `...` leaves the expiry unchanged."""
        status = None if enabled is None else (ACTIVE if enabled else DISABLED)
        await run_blocking(
            lambda: self.store.update_key(
                access_key,
                status=status,
                expires_at=expires_at,
                max_active=self.settings.max_active_keys,
            )
        )
        self.identity.forget_key(access_key)
        return await run_blocking(self.store.get_key, access_key)

    async def delete_key(self, access_key: str) -> None:
        await run_blocking(self.store.delete_key, access_key)
        self.identity.forget_key(access_key)

    # --- passwords -----------------------------------------------------------------------------

    async def set_password(self, user: User, password: str) -> None:
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise errors.InvalidArgument(
                f"A password is {MIN_PASSWORD} to {MAX_PASSWORD} characters long."
            )
        hashed = await run_blocking(self._hasher.hash, password)
        await run_blocking(self.store.set_password, user.id, hashed)

    async def check_password(self, user: User, password: str) -> bool:
        """Whether `password` is the user's (False when the user has none)."""
        stored = await run_blocking(self.store.password_hash, user.id)
        if not stored and not self._dummy_hash:
            self._dummy_hash = await run_blocking(self._hasher.hash, secrets.token_hex(16))

        def verify() -> bool:
            try:
                return self._hasher.verify(stored or self._dummy_hash, password) and bool(stored)
            except argon2.exceptions.VerificationError:
                return False
            except argon2.exceptions.InvalidHashError:
                log.warning("user %s has an unreadable password hash", user.name)
                return False

        ok = await run_blocking(verify)
        if ok and stored and self._hasher.check_needs_rehash(stored):
            await self.set_password(user, password)
        return ok

    async def has_password(self, user: User) -> bool:
        return await run_blocking(self.store.password_hash, user.id) is not None

    # --- tokens --------------------------------------------------------------------------------

    async def login(self, username: str, password: str, description: str = "") -> Tokens:
        """A new refresh token and access token; InvalidCredentials for a wrong pair."""
        try:
            user = await run_blocking(self.identity.meta.get_user, username)
        except errors.NoSuchUser:
            await self.check_password(User(0, "", "", False, 0), password)  # same cost
            raise errors.InvalidCredentials() from None
        if not await self.check_password(user, password) or not user.enabled:
            raise errors.InvalidCredentials()
        now = self.now()
        refresh_expires = now + int(self.settings.refresh_token_days * 86_400 * US)
        refresh, refresh_id = await self._issue(
            REFRESH, user, refresh_expires, description=description
        )
        access_expires = min(now + self.settings.access_token_seconds * US, refresh_expires)
        access, _ = await self._issue(ACCESS, user, access_expires, parent_id=refresh_id)
        return Tokens(access, access_expires, refresh, refresh_expires, refresh_id)

    async def refresh(self, refresh_token: str) -> Tokens:
        """A new access token from a valid refresh token; InvalidCredentials otherwise."""
        found = await self._valid(refresh_token, REFRESH)
        now = self.now()
        self.token_use[found.id] = now
        access_expires = min(now + self.settings.access_token_seconds * US, found.expires_at)
        access, _ = await self._issue(ACCESS, found.user, access_expires, parent_id=found.id)
        return Tokens(access, access_expires, None, found.expires_at, found.id)

    async def revoke(self, token: str) -> None:
        """Revoke a token (a refresh token with its access tokens); unknown tokens are ignored."""
        hashed = token_hash(token)
        found = await run_blocking(self.store.token_by_hash, hashed)
        if found is not None:
            await self.revoke_id(found.id)
        self._tokens.forget(hashed)

    async def revoke_id(self, token_id: str) -> None:
        await run_blocking(self.store.revoke_token, token_id, self.now())
        self._tokens = TtlCache(TOKEN_CACHE_SECONDS)  # its access tokens may be cached too

    async def list_tokens(self, user: User) -> list[TokenRecord]:
        """The user's refresh tokens that are not revoked (expired ones included)."""
        return await run_blocking(self.store.list_tokens, user.id, REFRESH)

    async def authenticate(self, token: str) -> TokenCaller:
        """The user a bearer access token belongs to; InvalidCredentials if it is not valid."""
        found = await self._valid(token, ACCESS)
        self.token_use[found.id] = self.now()
        return TokenCaller(found.user, found.id, found.expires_at)

    async def _valid(self, token: str, kind: str) -> TokenRecord:
        prefix = ACCESS_PREFIX if kind == ACCESS else REFRESH_PREFIX
        if not token.startswith(prefix):
            raise errors.InvalidCredentials(
                f"This is not a{'n' if kind == ACCESS else ''} {kind} token."
            )
        found = await self._tokens.fetch(
            token_hash(token), lambda h: run_blocking(self.store.token_by_hash, h)
        )
        if (
            found is None
            or found.kind != kind
            or found.revoked_at is not None
            or not found.user.enabled
        ):
            raise errors.InvalidCredentials(f"The {kind} token is not valid (revoked?).")
        if found.expires_at <= self.now():
            raise errors.InvalidCredentials(f"The {kind} token has expired.")
        return found

    async def _issue(
        self,
        kind: str,
        user: User,
        expires_at: int,
        *,
        parent_id: str | None = None,
        description: str = "",
    ) -> tuple[str, str]:
        prefix = ACCESS_PREFIX if kind == ACCESS else REFRESH_PREFIX
        token = prefix + secrets.token_urlsafe(32)
        token_id = secrets.token_hex(8)
        await run_blocking(
            lambda: self.store.add_token(
                token_id,
                token_hash(token),
                kind=kind,
                user_id=user.id,
                expires_at=expires_at,
                parent_id=parent_id,
                description=description,
            )
        )
        return token, token_id

    # --- bookkeeping ---------------------------------------------------------------------------

    async def flush_last_used(self) -> None:
        """Write when keys and tokens were last used (one batch).

        The maps are swapped on the event loop, which is the only writer of them.
        """
        keys, self.identity.key_use = self.identity.key_use, {}
        tokens, self.token_use = self.token_use, {}
        await run_blocking(self._store_last_used, keys, tokens)

    def _store_last_used(self, keys: dict[str, int], tokens: dict[str, int]) -> None:
        self.store.record_key_use(keys)
        for token_id, at in tokens.items():
            self.store.touch_token(token_id, at)

    def purge(self) -> None:
        """Forget tokens that expired or were revoked more than a day ago."""
        self.store.purge_tokens(self.now() - 86_400 * US)
