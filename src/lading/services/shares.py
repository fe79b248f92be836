"""Shares (access rules on a bucket prefix) and share links (revocable bearer links).

Who may share: the bucket's owner, an admin of the bucket's project, and the server's
admins. Creating or deleting a share takes effect at once in this process (the bucket record
is reloaded) and within the bucket cache time (`s3.bucket_cache_seconds`) in other server
processes; an expired share or link refuses from the moment it expires. Deleting a share
or revoking a link never touches data.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable

from lading import errors
from lading.concurrency import run_blocking
from lading.iam import shares as rules
from lading.iam.policy import Access, Action, denied_by_policy
from lading.iam.principals import Principal
from lading.metadata.models import Bucket, LinkUse, Share, ShareLink, User
from lading.metadata.shares import ShareStore
from lading.services.buckets import BucketService
from lading.services.cache import TtlCache
from lading.services.identity import IdentityService
from lading.services.mail import Mailer

GROUP_CACHE_SECONDS = 2.0
MAX_PREFIX = 1024
MAX_MESSAGE = 4000
DEFAULT_LINK_SECONDS = 7 * 24 * 3600


def now_us() -> int:
    return time.time_ns() // 1000


def token_hash(token: str) -> str:
    """How a link token is stored: its SHA-256 (the token itself is shown once)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_state(link: ShareLink, now: int) -> str:
    """ "active", or why the link no longer opens: revoked, expired, used-up, byte-cap."""
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at is not None and now >= link.expires_at:
        return "expired"
    if link.max_uses is not None and link.uses >= link.max_uses:
        return "used-up"
    if link.max_bytes is not None and link.bytes_served >= link.max_bytes:
        return "byte-cap"
    return "active"


_REFUSALS = {
    "revoked": "This share link has been revoked.",
    "expired": "This share link has expired.",
    "used-up": "This share link has been used as many times as it allows.",
    "byte-cap": "This share link has served as many bytes as it allows.",
}


def _plain(**fields: str | None) -> None:
    """Refuse text no database stores (NUL, lone surrogates) with a clear InvalidArgument."""
    for name, value in fields.items():
        if not value:
            continue
        if "\x00" in value:
            raise errors.InvalidArgument(f"{name} must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise errors.InvalidArgument(f"{name} is not valid Unicode text") from exc


def unavailable(reason: str) -> errors.LinkUnavailable:
    return errors.LinkUnavailable(reason, _REFUSALS.get(reason))


class ShareService:
    """Create, list and delete shares and links; open links; resolve group membership."""

    def __init__(
        self,
        store: ShareStore,
        buckets: BucketService,
        identity: IdentityService,
        mailer: Mailer,
        clock: Callable[[], int] = now_us,
    ) -> None:
        self.store = store
        self.buckets = buckets
        self.identity = identity
        self.mailer = mailer
        self.clock = clock
        self._groups: TtlCache[int, frozenset[int]] = TtlCache(GROUP_CACHE_SECONDS)

    # --- who may do what -----------------------------------------------------------------------

    @staticmethod
    def may_manage(user: User, bucket: Bucket) -> bool:
        """Whether the user may share the bucket and see its shares and links: its owner, an
        admin of its project, or a server admin."""
        if user.is_admin or user.id == bucket.owner.id:
            return True
        return bucket.project is not None and bucket.project.roles.get(user.id) == "admin"

    async def _managed_bucket(self, user: User, name: str) -> Bucket:
        bucket = await self.buckets.get_bucket(name)
        if not self.may_manage(user, bucket):
            raise errors.AccessDenied(f"Only the owner of bucket {name!r} may share it.")
        return bucket

    async def groups_of(self, user_id: int) -> frozenset[int]:
        """The user's groups (cached for a couple of seconds per process)."""
        return await self._groups.fetch(
            user_id, lambda uid: run_blocking(self.store.member_groups, uid)
        )

    # --- shares --------------------------------------------------------------------------------

    async def create_share(
        self,
        caller: User,
        bucket_name: str,
        *,
        prefix: str,
        principal_type: str,
        principal: str | None,
        permission: str,
        expires_at: int | None = None,
        message: str = "",
        notify_email: str = "",
    ) -> Share:
        """Grant (bucket, prefix); raises AccessDenied, NoSuchBucket, NoSuchUser, NoSuchGroup,
        InvalidArgument."""
        _plain(prefix=prefix, principal=principal, message=message, notify_email=notify_email)
        bucket = await self._managed_bucket(caller, bucket_name)
        if permission not in rules.PERMISSIONS:
            raise errors.InvalidArgument("permissions must be 'r' or 'rw'")
        if principal_type not in rules.PRINCIPAL_TYPES:
            raise errors.InvalidArgument(
                f"principal_type must be one of {', '.join(rules.PRINCIPAL_TYPES)}"
            )
        if len(prefix.encode("utf-8")) > MAX_PREFIX:
            raise errors.InvalidArgument(f"a prefix is at most {MAX_PREFIX} bytes")
        if len(message) > MAX_MESSAGE:
            raise errors.InvalidArgument(f"a message is at most {MAX_MESSAGE} characters")
        if notify_email and ("@" not in notify_email or len(notify_email) > 320):
            raise errors.InvalidArgument(f"{notify_email!r} is not an e-mail address")
        now = self.clock()
        if expires_at is not None and expires_at <= now:
            raise errors.InvalidArgument("expires_at must be in the future")
        principal_id, principal_name = await self._resolve(principal_type, principal)
        share = await run_blocking(
            lambda: self.store.create_share(
                bucket_id=bucket.id,
                prefix=prefix,
                principal_type=principal_type,
                principal_id=principal_id,
                principal_name=principal_name,
                permission=permission,
                created_by=caller.id,
                created_at=now,
                expires_at=expires_at,
                message=message,
                notify_email=notify_email,
            )
        )
        self.buckets.forget(bucket.name)
        if notify_email:
            await self.mailer.send(
                notify_email, *self._notice(caller, bucket, share), share_id=share.id
            )
        return share

    async def _resolve(self, principal_type: str, principal: str | None) -> tuple[int | None, str]:
        if principal_type in (rules.ANONYMOUS, rules.ALL_AUTHENTICATED):
            if principal:
                raise errors.InvalidArgument(f"a share to {principal_type} names no principal")
            return None, ""
        if not principal:
            raise errors.InvalidArgument(f"a share to a {principal_type} names the principal")
        if principal_type == rules.USER:
            user = await run_blocking(self.store.meta.get_user, principal)
            return user.id, user.name
        group_id = await run_blocking(self.store.group_id, principal)
        if group_id is None:
            raise errors.NoSuchGroup(principal)
        return group_id, principal

    @staticmethod
    def _notice(caller: User, bucket: Bucket, share: Share) -> tuple[str, str]:
        where = f"{bucket.name}/{share.prefix}"
        what = "read and write" if share.permission == "rw" else "read"
        subject = f"{caller.display_name or caller.name} shared {where} with you"
        lines = [
            f"{caller.display_name or caller.name} ({caller.name}) gave you {what} access "
            f"to s3://{where}.",
        ]
        if share.expires_at is not None:
            expires = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(share.expires_at / 1e6))
            lines.append(f"The share expires {expires}.")
        if share.message:
            lines += ["", share.message]
        return subject, "\n".join(lines) + "\n"

    async def get_share(self, caller: User, share_id: int) -> tuple[Share, Bucket]:
        """The share, to its bucket's owner, an admin or its user grantee; else NoSuchShare."""
        share = await run_blocking(self.store.get_share, share_id)
        bucket = await self._bucket_of(share.bucket_id, share_id)
        grantee = share.principal_type == rules.USER and share.principal_id == caller.id
        if not (grantee or self.may_manage(caller, bucket)):
            raise errors.NoSuchShare(share_id)
        return share, bucket

    async def bucket_name(self, bucket_id: int) -> str:
        """The name of a bucket known by id ("" if it is gone)."""
        return await run_blocking(self.store.bucket_name, bucket_id) or ""

    async def _bucket_of(self, bucket_id: int, share_id: int) -> Bucket:
        name = await run_blocking(self.store.bucket_name, bucket_id)
        if name is None:
            raise errors.NoSuchShare(share_id)
        return await self.buckets.get_bucket(name)

    async def list_shares(
        self,
        caller: User,
        *,
        bucket_name: str | None = None,
        granted: bool = False,
        after: int = 0,
        limit: int = 100,
    ) -> list[Share]:
        """The shares of one bucket (its owner, admins), of the caller's buckets, or (granted)
        those made to the caller."""
        if granted:
            return await run_blocking(
                lambda: self.store.list_shares(grantee_id=caller.id, after=after, limit=limit)
            )
        if bucket_name is not None:
            bucket = await self._managed_bucket(caller, bucket_name)
            return await run_blocking(
                lambda: self.store.list_shares(bucket_id=bucket.id, after=after, limit=limit)
            )
        owner = None if caller.is_admin else caller.id
        return await run_blocking(
            lambda: self.store.list_shares(owner_id=owner, after=after, limit=limit)
        )

    async def delete_share(self, caller: User, share_id: int) -> None:
        """Remove the access rule; the data stays. Raises NoSuchShare, AccessDenied."""
        share, bucket = await self.get_share(caller, share_id)
        if not self.may_manage(caller, bucket):
            raise errors.AccessDenied("Only the bucket's owner may delete its shares.")
        await run_blocking(self.store.delete_share, share.id)
        self.buckets.forget(bucket.name)

    # --- links ---------------------------------------------------------------------------------

    async def create_link(
        self,
        caller: User,
        bucket_name: str,
        *,
        prefix: str | None = None,
        key: str | None = None,
        expires_at: int | None = None,
        max_uses: int | None = None,
        max_bytes: int | None = None,
        note: str = "",
    ) -> tuple[ShareLink, str]:
        """A new link and its token (shown only now); exactly one of prefix and key."""
        _plain(prefix=prefix, key=key, note=note)
        bucket = await self._managed_bucket(caller, bucket_name)
        if (prefix is None) == (key is None):
            raise errors.InvalidArgument("a link names either a prefix or a key")
        scope = key if key is not None else prefix
        assert scope is not None
        if key is not None and not key:
            raise errors.InvalidArgument("a key is not empty")
        if len(scope.encode("utf-8")) > MAX_PREFIX:
            raise errors.InvalidArgument(f"a prefix or key is at most {MAX_PREFIX} bytes")
        now = self.clock()
        if expires_at is None:
            expires_at = now + DEFAULT_LINK_SECONDS * 1_000_000
        if expires_at <= now:
            raise errors.InvalidArgument("expires_at must be in the future")
        if max_uses is not None and max_uses < 1:
            raise errors.InvalidArgument("max_uses is at least 1")
        if max_bytes is not None and max_bytes < 0:
            raise errors.InvalidArgument("max_bytes is not negative")
        if len(note) > MAX_MESSAGE:
            raise errors.InvalidArgument(f"a note is at most {MAX_MESSAGE} characters")
        token = secrets.token_urlsafe(32)  # 256 random bits
        link = await run_blocking(
            lambda: self.store.create_link(
                token_hash=token_hash(token),
                bucket_id=bucket.id,
                prefix=scope,
                is_object=key is not None,
                created_by=caller.id,
                created_at=now,
                expires_at=expires_at,
                max_uses=max_uses,
                max_bytes=max_bytes,
                note=note,
            )
        )
        return link, token

    async def get_link(self, caller: User, link_id: int) -> ShareLink:
        """Raises NoSuchLink (also to those who may not see it)."""
        link = await run_blocking(self.store.get_link, link_id)
        bucket = await self.buckets.get_bucket(link.bucket_name)
        if not self.may_manage(caller, bucket):
            raise errors.NoSuchLink(str(link_id))
        return link

    async def list_links(
        self, caller: User, *, bucket_name: str | None = None, after: int = 0, limit: int = 100
    ) -> list[ShareLink]:
        if bucket_name is not None:
            bucket = await self._managed_bucket(caller, bucket_name)
            return await run_blocking(
                lambda: self.store.list_links(bucket_id=bucket.id, after=after, limit=limit)
            )
        owner = None if caller.is_admin else caller.id
        return await run_blocking(
            lambda: self.store.list_links(owner_id=owner, after=after, limit=limit)
        )

    async def revoke_link(self, caller: User, link_id: int) -> ShareLink:
        """The link stops opening at once; its record and uses stay for the audit."""
        link = await self.get_link(caller, link_id)
        return await run_blocking(self.store.revoke_link, link.id, self.clock())

    async def link_uses(
        self, caller: User, link_id: int, *, after: int = 0, limit: int = 100
    ) -> list[LinkUse]:
        link = await self.get_link(caller, link_id)
        return await run_blocking(lambda: self.store.list_uses(link.id, after=after, limit=limit))

    # --- opening links -------------------------------------------------------------------------

    async def open_link(self, token: str, *, remote: str, key: str = "") -> ShareLink:
        """The link a token opens; NoSuchLink, or LinkUnavailable (the refusal is recorded)."""
        if not token or len(token) > 128:
            raise errors.NoSuchLink("")
        link = await run_blocking(self.store.link_by_token_hash, token_hash(token))
        state = link_state(link, self.clock())
        if state != "active":
            await self.record(link, remote=remote, key=link.prefix + key, nbytes=0, outcome=state)
            raise unavailable(state)
        return link

    async def refuse_if_denied(
        self, link: ShareLink, bucket: Bucket, key: str, *, remote: str, listing: bool = False
    ) -> None:
        """AccessDenied (recorded) when the bucket's policy explicitly denies what the link
        does, judged as a request of the link's creator: a Deny binds links as it binds the
        creator's own requests and presigned URLs."""
        if "policy" not in bucket.configs:
            return
        try:
            creator: User | None = await self.identity.user_by_id(link.created_by)
        except errors.NoSuchUser:
            creator = None
        conditions: dict[str, str | list[str]] = {"aws:SourceIp": remote}
        if listing:
            conditions["s3:prefix"] = key
        access = Access(
            Principal(creator),
            "ListObjects" if listing else "GetObject",
            Action.READ_BUCKET if listing else Action.READ_OBJECT,
            bucket,
            None if listing else key,
            conditions=lambda: conditions,
            now_us=self.clock(),
            prefix=key if listing else None,
        )
        if denied_by_policy(access):
            await self.record(link, remote=remote, key=key, nbytes=0, outcome="denied")
            raise errors.AccessDenied(f"The policy of bucket {bucket.name} denies this.")

    async def consume(self, link: ShareLink, *, remote: str, key: str, nbytes: int) -> None:
        """Count one download of nbytes; LinkUnavailable (recorded) when it would pass a limit."""
        now = self.clock()
        done = await run_blocking(
            lambda: self.store.consume_link(
                link.id, nbytes=nbytes, at=now, remote=remote, key=key, counts=True
            )
        )
        if done:
            return
        fresh = await run_blocking(self.store.get_link, link.id)
        state = link_state(fresh, now)
        if state == "active":  # this download alone would pass the byte cap
            state = "byte-cap"
        await self.record(link, remote=remote, key=key, nbytes=0, outcome=state)
        raise unavailable(state)

    async def record(
        self, link: ShareLink, *, remote: str, key: str, nbytes: int, outcome: str
    ) -> None:
        """Record a request through the link that downloads nothing (index page, refusal)."""
        now = self.clock()
        await run_blocking(
            lambda: self.store.record_use(
                link.id, at=now, remote=remote, key=key, nbytes=nbytes, outcome=outcome
            )
        )
