"""Whether a bucket's shares let a principal do one action class on a key or prefix.

Pure: the shares come with the bucket record and the caller's groups with the principal.

- `r` admits GetObject/HeadObject (and reading an object's tags and lock state) of keys
  under the shared prefix, HeadBucket and GetBucketLocation, and listings (objects,
  versions, uploads) whose prefix lies inside the shared prefix. A listing with another
  prefix, or with none, is refused as AWS refuses it: the grantee of `docs/` lists with
  Prefix=docs/, and a bare ListObjects answers AccessDenied unless the whole bucket
  (prefix "") is shared.
- `rw` adds writing and deleting keys under the prefix: PutObject, the destination of
  CopyObject, the multipart operations and DeleteObject(s).
- Shares never admit ACL or bucket-configuration operations, and an expired share admits
  nothing from the moment it expires.

A prefix is a plain string prefix of keys: `docs/` shares a folder, `docs` would also share
`docs-old/...`.
"""

from __future__ import annotations

from collections.abc import Iterable

from lading.metadata.models import Share

USER = "user"
GROUP = "group"
ALL_AUTHENTICATED = "all_authenticated_users"
ANONYMOUS = "anonymous"
PRINCIPAL_TYPES = (USER, GROUP, ALL_AUTHENTICATED, ANONYMOUS)
PERMISSIONS = ("r", "rw")

# action classes (lading.iam.policy.Action values) and what they need of a share
_READ_KEY = frozenset({"read-object"})
_WRITE_KEY = frozenset({"write-object", "delete-object"})
_BUCKET_LOOKUPS = frozenset({"HeadBucket", "GetBucketLocation"})
_LISTING = frozenset({"ListObjects", "ListObjectsV2", "ListObjectVersions", "ListMultipartUploads"})


def grants(share: Share, user_id: int | None, groups: frozenset[int]) -> bool:
    """Whether the share names this principal (None: anonymous)."""
    kind = share.principal_type
    if kind == ANONYMOUS:
        return True
    if user_id is None:
        return False
    if kind == ALL_AUTHENTICATED:
        return True
    if kind == USER:
        return share.principal_id == user_id
    return kind == GROUP and share.principal_id in groups


def needs_groups(shares: Iterable[Share]) -> bool:
    """Whether deciding needs the caller's groups (some share names a group)."""
    return any(share.principal_type == GROUP for share in shares)


def allows(
    shares: Iterable[Share],
    *,
    user_id: int | None,
    groups: frozenset[int],
    action: str,
    operation: str,
    key: str | None,
    prefix: str | None,
    now_us: int,
    public: bool = True,
) -> bool:
    """Whether some live share admits the action (see the module docstring).

    With public False (the bucket's public access block restricts public buckets), shares
    to anyone and to every authenticated user count for nothing, as public ACLs do not.
    """
    for share in shares:
        # who first: most shares of a bucket name someone else (grants(), inlined)
        kind = share.principal_type
        if kind == USER:
            if user_id is None or share.principal_id != user_id:
                continue
        elif kind == GROUP:
            if user_id is None or share.principal_id not in groups:
                continue
        elif kind == ALL_AUTHENTICATED:
            if user_id is None or not public:
                continue
        elif kind != ANONYMOUS or not public:
            continue
        if share.expires_at is not None and now_us >= share.expires_at:
            continue
        if action in _READ_KEY:
            if key is not None and key.startswith(share.prefix):
                return True
        elif action in _WRITE_KEY:
            if share.permission != "rw":
                continue
            if key is None:
                # DeleteObjects: each named key is authorized again on its own
                if operation == "DeleteObjects":
                    return True
            elif key.startswith(share.prefix):
                return True
        elif action == "read-bucket":
            if operation in _BUCKET_LOOKUPS:
                return True
            if operation in _LISTING and (prefix or "").startswith(share.prefix):
                return True
    return False


def read_prefixes(
    shares: Iterable[Share],
    *,
    user_id: int | None,
    groups: frozenset[int],
    now_us: int,
    public: bool = True,
) -> frozenset[str]:
    """The key prefixes under which some live share lets the principal read, as `allows`
    judges reading a key there; none inside another (the whole bucket shared: {""})."""
    found = [
        share.prefix
        for share in shares
        if allows(
            (share,),
            user_id=user_id,
            groups=groups,
            action="read-object",
            operation="GetObject",
            key=share.prefix,
            prefix=None,
            now_us=now_us,
            public=public,
        )
    ]
    return frozenset(
        prefix
        for prefix in found
        if not any(other != prefix and prefix.startswith(other) for other in found)
    )
