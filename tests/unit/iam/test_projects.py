"""Project roles and the read-only state of expired projects, as pure functions."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from lading import errors
from lading.iam import projects
from lading.iam.policy import Access, Action, authorize
from lading.iam.principals import Principal
from lading.metadata.models import Bucket, ProjectAccess, User

A = Action
ALLOWED = {
    "admin": set(Action),
    "writer": {A.READ_BUCKET, A.READ_OBJECT, A.WRITE_OBJECT, A.DELETE_OBJECT},
    "reader": {A.READ_BUCKET, A.READ_OBJECT},
    None: set(),
}


@pytest.mark.parametrize("role", ["admin", "writer", "reader", None])
@pytest.mark.parametrize("action", list(Action))
def test_role_table(role: str | None, action: Action) -> None:
    assert projects.role_allows(role, action) is (action in ALLOWED[role])


OWNER = User(1, "owner", "Owner", False, 0)
WRITER = User(2, "writer", "Writer", False, 0)
READER = User(3, "reader", "Reader", False, 0)
OTHER = User(4, "other", "Other", False, 0)


def bucket(expires_at: int | None = None, policy: str | None = None) -> Bucket:
    project = ProjectAccess(
        7, "lab", MappingProxyType({2: "writer", 3: "reader"}), expires_at=expires_at
    )
    configs = MappingProxyType({"policy": policy} if policy else {})
    return Bucket(1, "b", OWNER, "us-east-1", 0, configs=configs, project_id=7, project=project)


def decide(user: User, action: Action, b: Bucket, now: int = 100) -> str:
    access = Access(Principal(user), "Op", action, b, "k", now_us=now)
    try:
        return authorize(access).value
    except errors.ProjectExpired:
        return "expired"
    except errors.AccessDenied:
        return "deny"


@pytest.mark.parametrize(
    ("user", "action", "expected"),
    [
        (OWNER, A.WRITE_OBJECT, "allow"),
        (WRITER, A.WRITE_OBJECT, "allow"),
        (WRITER, A.DELETE_OBJECT, "allow"),
        (WRITER, A.WRITE_BUCKET_CONFIG, "deny"),
        (READER, A.READ_OBJECT, "bucket-owned"),
        (READER, A.READ_BUCKET, "allow"),
        (READER, A.WRITE_OBJECT, "deny"),
        (OTHER, A.READ_BUCKET, "deny"),
        (OTHER, A.READ_OBJECT, "object-acl"),
    ],
)
def test_authorize_admits_project_roles(user: User, action: Action, expected: str) -> None:
    assert decide(user, action, bucket()) == expected


def test_an_explicit_policy_deny_beats_a_project_role() -> None:
    deny = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", '
        '"Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}]}'
    )
    access = Access(Principal(WRITER), "PutObject", A.WRITE_OBJECT, bucket(policy=deny), "k")
    with pytest.raises(errors.AccessDenied):
        authorize(access)


@pytest.mark.parametrize("user", [OWNER, WRITER])
def test_an_expired_project_is_read_only_for_everyone(user: User) -> None:
    expired = bucket(expires_at=100)
    assert decide(user, A.WRITE_OBJECT, expired, now=100) == "expired"
    assert decide(user, A.DELETE_OBJECT, expired, now=100) == "expired"
    assert decide(user, A.READ_OBJECT, expired, now=100) == "bucket-owned"
    assert decide(user, A.WRITE_OBJECT, expired, now=99) == "allow"
    if user is OWNER:
        assert decide(user, A.WRITE_BUCKET_CONFIG, expired, now=100) == "expired"
        assert decide(user, A.READ_BUCKET_CONFIG, expired, now=100) == "allow"


def test_an_outsider_is_not_told_that_the_project_expired() -> None:
    expired = bucket(expires_at=100)
    assert decide(OTHER, A.WRITE_OBJECT, expired, now=100) == "deny"
    assert decide(READER, A.WRITE_OBJECT, expired, now=100) == "deny"
