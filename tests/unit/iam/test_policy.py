"""What the bucket's grants reach under each object ownership setting, as pure functions."""

from __future__ import annotations

import json
from types import MappingProxyType

import pytest

from lading.iam.policy import (
    ANONYMOUS_OWNER,
    Access,
    Action,
    Verdict,
    authorize,
    bucket_owns,
    object_allows,
)
from lading.iam.principals import Principal
from lading.metadata.models import Bucket, ObjectVersion, ProjectAccess, User

A = Action
OWNER = User(1, "owner", "Owner", False, 0)
MEMBER = User(2, "member", "Member", False, 0)
OTHER = User(3, "other", "Other", False, 0)
OPEN_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}
        ],
    }
)


def bucket(ownership: str | None = None, policy: str | None = None) -> Bucket:
    configs: dict[str, str] = {}
    if ownership is not None:
        configs["ownership"] = json.dumps({"Rule": [{"ObjectOwnership": ownership}]})
    if policy is not None:
        configs["policy"] = policy
    project = ProjectAccess(7, "lab", MappingProxyType({1: "admin", 2: "writer"}))
    return Bucket(1, "b", OWNER, "us-east-1", 0, configs=MappingProxyType(configs), project=project)


def verdict(user: User, action: Action, b: Bucket) -> Verdict:
    return authorize(Access(Principal(user), "Op", action, b, "k"))


def obj(owner_id: int) -> ObjectVersion:
    return ObjectVersion(1, "k", "null", 0, "etag", 0, "text/plain", owner_id=owner_id)


@pytest.mark.parametrize("ownership", [None, "ObjectWriter", "BucketOwnerPreferred"])
@pytest.mark.parametrize("action", [A.READ_OBJECT, A.READ_OBJECT_ACP, A.WRITE_OBJECT_ACP])
def test_the_owner_reads_objects_only_of_its_own_account(
    ownership: str | None, action: Action
) -> None:
    assert verdict(OWNER, action, bucket(ownership)) is Verdict.BUCKET_OWNED


@pytest.mark.parametrize("ownership", [None, "ObjectWriter", "BucketOwnerEnforced"])
@pytest.mark.parametrize("action", [A.WRITE_OBJECT, A.DELETE_OBJECT, A.READ_BUCKET])
def test_deleting_writing_and_listing_stay_the_owners(
    ownership: str | None, action: Action
) -> None:
    assert verdict(OWNER, action, bucket(ownership)) is Verdict.ALLOW


def test_bucket_owner_enforced_gives_the_owner_every_object() -> None:
    assert verdict(OWNER, A.READ_OBJECT, bucket("BucketOwnerEnforced")) is Verdict.ALLOW


def test_a_policy_allow_reaches_only_the_buckets_account() -> None:
    assert verdict(OTHER, A.READ_OBJECT, bucket(policy=OPEN_POLICY)) is Verdict.BUCKET_OWNED
    enforced = bucket("BucketOwnerEnforced", policy=OPEN_POLICY)
    assert verdict(OTHER, A.READ_OBJECT, enforced) is Verdict.ALLOW
    assert verdict(OTHER, A.READ_OBJECT, bucket()) is Verdict.OBJECT_ACL


def test_the_buckets_account_is_its_owner_its_project_members_and_anonymous() -> None:
    access = Access(Principal(OWNER), "GetObject", A.READ_OBJECT, bucket(), "k")
    assert bucket_owns(access, obj(OWNER.id))
    assert bucket_owns(access, obj(MEMBER.id))
    assert bucket_owns(access, obj(ANONYMOUS_OWNER))
    assert not bucket_owns(access, obj(OTHER.id))


def test_an_object_whose_owner_is_gone_is_the_buckets() -> None:
    access = Access(Principal(OWNER), "GetObject", A.READ_OBJECT, bucket(), "k")
    gone = obj(99)
    assert object_allows(access, gone, None, Verdict.BUCKET_OWNED)
    assert not object_allows(access, gone, None, Verdict.OBJECT_ACL)
    assert not object_allows(access, obj(OTHER.id), OTHER.name, Verdict.BUCKET_OWNED)
