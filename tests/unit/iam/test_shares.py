"""The pure share evaluation: who, which action class, which key or listing prefix, when."""

from __future__ import annotations

import pytest

from lading.iam import shares as rules
from lading.metadata.models import Share

NOW = 1_000_000_000


def share(
    kind: str = "user",
    principal_id: int | None = 7,
    *,
    prefix: str = "docs/",
    permission: str = "r",
    expires_at: int | None = None,
) -> Share:
    return Share(1, 1, prefix, kind, principal_id, "", permission, 1, 0, expires_at)


def allows(
    shares: list[Share],
    action: str,
    operation: str,
    *,
    key: str | None = None,
    prefix: str | None = None,
    user_id: int | None = 7,
    groups: frozenset[int] = frozenset(),
    now: int = NOW,
) -> bool:
    return rules.allows(
        shares,
        user_id=user_id,
        groups=groups,
        action=action,
        operation=operation,
        key=key,
        prefix=prefix,
        now_us=now,
    )


@pytest.mark.parametrize(
    ("permission", "action", "operation", "key", "prefix", "expected"),
    [
        ("r", "read-object", "GetObject", "docs/a", None, True),
        ("r", "read-object", "GetObject", "docsx", None, False),
        ("r", "read-object", "GetObject", "other/a", None, False),
        ("r", "write-object", "PutObject", "docs/a", None, False),
        ("rw", "write-object", "PutObject", "docs/a", None, True),
        ("rw", "write-object", "PutObject", "other/a", None, False),
        ("rw", "delete-object", "DeleteObject", "docs/a", None, True),
        ("rw", "delete-object", "DeleteObjects", None, None, True),
        ("r", "delete-object", "DeleteObjects", None, None, False),
        ("r", "read-bucket", "ListObjectsV2", None, "docs/", True),
        ("r", "read-bucket", "ListObjectsV2", None, "docs/sub/", True),
        ("r", "read-bucket", "ListObjectsV2", None, "doc", False),
        ("r", "read-bucket", "ListObjectsV2", None, None, False),
        ("r", "read-bucket", "ListObjects", None, "", False),
        ("r", "read-bucket", "ListObjectVersions", None, "docs/", True),
        ("r", "read-bucket", "HeadBucket", None, None, True),
        ("r", "read-bucket", "GetBucketLocation", None, None, True),
        ("rw", "read-bucket", "GetBucketWebsite", None, None, False),
        ("rw", "write-bucket-acp", "PutBucketAcl", None, None, False),
        ("rw", "read-object-acp", "GetObjectAcl", "docs/a", None, False),
        ("rw", "write-object-acp", "PutObjectAcl", "docs/a", None, False),
        ("rw", "write-bucket-config", "PutBucketPolicy", None, None, False),
        ("rw", "read-bucket-config", "GetBucketCors", None, None, False),
        ("rw", "delete-bucket", "DeleteBucket", None, None, False),
    ],
)
def test_permissions_by_action_class(
    permission: str,
    action: str,
    operation: str,
    key: str | None,
    prefix: str | None,
    expected: bool,
) -> None:
    found = allows([share(permission=permission)], action, operation, key=key, prefix=prefix)
    assert found is expected


def test_a_whole_bucket_share_allows_a_listing_without_prefix() -> None:
    assert allows([share(prefix="")], "read-bucket", "ListObjectsV2")


@pytest.mark.parametrize(
    ("kind", "principal_id", "user_id", "groups", "expected"),
    [
        ("user", 7, 7, frozenset(), True),
        ("user", 7, 8, frozenset(), False),
        ("user", 7, None, frozenset(), False),
        ("group", 3, 7, frozenset({3}), True),
        ("group", 3, 7, frozenset({4}), False),
        ("group", 3, None, frozenset(), False),
        ("all_authenticated_users", None, 8, frozenset(), True),
        ("all_authenticated_users", None, None, frozenset(), False),
        ("anonymous", None, None, frozenset(), True),
        ("anonymous", None, 8, frozenset(), True),
    ],
)
def test_principals(
    kind: str, principal_id: int | None, user_id: int | None, groups: frozenset[int], expected: bool
) -> None:
    rule = share(kind, principal_id)
    assert (
        allows([rule], "read-object", "GetObject", key="docs/a", user_id=user_id, groups=groups)
        is expected
    )


def test_an_expired_share_refuses_from_its_expiry_on() -> None:
    rule = share(expires_at=NOW)
    assert allows([rule], "read-object", "GetObject", key="docs/a", now=NOW - 1)
    assert not allows([rule], "read-object", "GetObject", key="docs/a", now=NOW)


def test_one_live_share_among_expired_ones_is_enough() -> None:
    shares = [share(expires_at=NOW - 5), share(permission="rw")]
    assert allows(shares, "write-object", "PutObject", key="docs/a")


def test_groups_are_needed_only_for_group_shares() -> None:
    assert not rules.needs_groups([share(), share("anonymous", None)])
    assert rules.needs_groups([share(), share("group", 3)])


@pytest.mark.parametrize(
    ("kind", "principal_id", "user_id", "expected"),
    [
        ("anonymous", None, None, False),
        ("all_authenticated_users", None, 8, False),
        ("user", 7, 7, True),
        ("group", 3, 7, True),
    ],
)
def test_restricted_public_buckets_ignore_public_shares(
    kind: str, principal_id: int | None, user_id: int | None, expected: bool
) -> None:
    found = rules.allows(
        [share(kind, principal_id)],
        user_id=user_id,
        groups=frozenset({3}),
        action="read-object",
        operation="GetObject",
        key="docs/a",
        prefix=None,
        now_us=NOW,
        public=False,
    )
    assert found is expected


def test_read_prefixes_combine_the_live_shares_of_the_principal() -> None:
    shares = [
        share(prefix="docs/"),
        share(prefix="docs/sub/", permission="rw"),  # inside docs/: adds nothing
        share(prefix="data/", expires_at=NOW),  # expired
        share("user", 8, prefix="private/"),  # someone else's
        share("group", 3, prefix="team/"),
        share("anonymous", None, prefix="public/"),
    ]

    def prefixes(user_id: int | None, groups: frozenset[int] = frozenset()) -> frozenset[str]:
        return rules.read_prefixes(shares, user_id=user_id, groups=groups, now_us=NOW)

    assert prefixes(7) == {"docs/", "public/"}
    assert prefixes(7, frozenset({3})) == {"docs/", "team/", "public/"}
    assert prefixes(None) == {"public/"}
    assert rules.read_prefixes(shares, user_id=7, groups=frozenset(), now_us=NOW - 1) == {
        "docs/",
        "data/",
        "public/",
    }
    whole = [*shares, share(prefix="")]
    assert rules.read_prefixes(whole, user_id=7, groups=frozenset(), now_us=NOW) == {""}
    assert rules.read_prefixes(shares, user_id=9, groups=frozenset(), now_us=NOW, public=False) == (
        frozenset()
    )
