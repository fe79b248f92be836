"""Bucket ownership controls: who owns what another user writes, and ACLs switched off."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import empty_bucket, new_bucket_name


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def _open_to_all(s3: Any, bucket: str) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def _owner(s3: Any, bucket: str, key: str) -> str:
    return str(s3.get_object_acl(Bucket=bucket, Key=key)["Owner"]["ID"])


@pytest.fixture
def created(s3: Any) -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        s3.delete_bucket_policy(Bucket=name)
        empty_bucket(s3, name)


def test_bucket_owner_enforced(
    s3: Any, s3_alt: Any, alt_user: dict[str, str], created: list[str]
) -> None:
    name = new_bucket_name()
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerEnforced")
    created.append(name)
    rules = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    _open_to_all(s3, name)
    owner = s3.get_bucket_acl(Bucket=name)["Owner"]["ID"]
    s3_alt.put_object(Bucket=name, Key="by-alt", Body=b"x")
    assert _owner(s3, name, "by-alt") == owner
    s3_alt.put_object(Bucket=name, Key="bofc", Body=b"x", ACL="bucket-owner-full-control")
    upload = s3_alt.create_multipart_upload(Bucket=name, Key="mp")["UploadId"]
    parts = s3_alt.list_parts(Bucket=name, Key="mp", UploadId=upload)
    assert parts["Owner"]["ID"] == owner
    s3_alt.abort_multipart_upload(Bucket=name, Key="mp", UploadId=upload)
    for call in (
        lambda: s3_alt.put_object(Bucket=name, Key="p", Body=b"x", ACL="private"),
        lambda: s3_alt.put_object(Bucket=name, Key="p", Body=b"x", GrantRead=f'id="{owner}"'),
        lambda: s3.put_bucket_acl(Bucket=name, ACL="private"),
        lambda: s3.put_object_acl(Bucket=name, Key="by-alt", ACL="public-read"),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert _code(err) == "AccessControlListNotSupported"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]]
    assert keys == ["bofc", "by-alt"]


def test_bucket_owner_preferred_and_object_writer(
    s3: Any, s3_alt: Any, alt_user: dict[str, str], created: list[str]
) -> None:
    preferred, writer = new_bucket_name(), new_bucket_name()
    s3.create_bucket(Bucket=preferred, ObjectOwnership="BucketOwnerPreferred")
    s3.create_bucket(Bucket=writer)
    created.extend([preferred, writer])
    s3.put_bucket_ownership_controls(
        Bucket=writer, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    owner = s3.get_bucket_acl(Bucket=preferred)["Owner"]["ID"]
    for name in (preferred, writer):
        _open_to_all(s3, name)
        s3_alt.put_object(Bucket=name, Key="plain", Body=b"x")
        s3_alt.put_object(Bucket=name, Key="bofc", Body=b"x", ACL="bucket-owner-full-control")
        assert _owner(s3_alt, name, "plain") == alt_user["user"]
    assert _owner(s3, preferred, "bofc") == owner
    assert _owner(s3, writer, "bofc") == alt_user["user"]
    s3.put_bucket_acl(Bucket=writer, ACL="private")  # ACLs still work


def test_enforcing_needs_a_private_bucket_acl(s3: Any, bucket: str) -> None:
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    enforced = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    with pytest.raises(ClientError) as err:
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=enforced)
    assert _code(err) == "InvalidBucketAclWithObjectOwnership"
    with pytest.raises(ClientError) as err:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert _code(err) == "OwnershipControlsNotFoundError"
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=enforced)
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    with pytest.raises(ClientError) as err:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert _code(err) == "OwnershipControlsNotFoundError"


def test_unknown_ownership_on_create_is_refused(s3: Any) -> None:
    name = new_bucket_name()

    def bogus(request: Any, **_: Any) -> None:
        request.headers["x-amz-object-ownership"] = "Everyone"

    s3.meta.events.register_first("before-sign.s3.CreateBucket", bogus)
    try:
        with pytest.raises(ClientError) as err:
            s3.create_bucket(Bucket=name)
    finally:
        s3.meta.events.unregister("before-sign.s3.CreateBucket", bogus)
    assert _code(err) == "InvalidArgument"
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def _status(err: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    response = err.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


_TAGS = {"TagSet": [{"Key": "stage", "Value": "raw"}]}


def _writable_by_all(s3: Any, bucket: str) -> None:
    """A policy that lets anyone write into the bucket, and nothing more."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


@pytest.mark.parametrize("ownership", [None, "ObjectWriter", "BucketOwnerPreferred"])
def test_the_bucket_owner_needs_a_grant_to_read_what_another_user_owns(
    s3: Any, s3_alt: Any, alt_user: dict[str, str], created: list[str], ownership: str | None
) -> None:
    name = new_bucket_name()
    if ownership is None:
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, ObjectOwnership=ownership)
    created.append(name)
    _writable_by_all(s3, name)
    s3_alt.put_object(Bucket=name, Key="theirs", Body=b"alt's data")
    assert _owner(s3_alt, name, "theirs") == alt_user["user"]
    refused = [
        lambda: s3.get_object(Bucket=name, Key="theirs"),
        lambda: s3.get_object_acl(Bucket=name, Key="theirs"),
        lambda: s3.get_object_tagging(Bucket=name, Key="theirs"),
        lambda: s3.put_object_acl(Bucket=name, Key="theirs", ACL="public-read"),
        # the object's attributes are its owner's to change, as its ACL is
        lambda: s3.put_object_tagging(Bucket=name, Key="theirs", Tagging=_TAGS),
        lambda: s3.delete_object_tagging(Bucket=name, Key="theirs"),
    ]
    for call in refused:
        with pytest.raises(ClientError) as err:
            call()
        assert _status(err) == (403, "AccessDenied")
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket=name, Key="theirs")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket=name, Key="mine", CopySource={"Bucket": name, "Key": "theirs"})
    assert _status(err) == (403, "AccessDenied")
    # the bucket's own rights stay: listing, and deleting what it holds
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]]
    assert keys == ["theirs"]
    assert s3_alt.get_object_tagging(Bucket=name, Key="theirs")["TagSet"] == []  # unchanged
    s3.delete_object(Bucket=name, Key="theirs")
    assert "Contents" not in s3.list_objects_v2(Bucket=name)


def test_bucket_owner_read_and_full_control_open_the_object_to_the_bucket_owner(
    s3: Any, s3_alt: Any, alt_user: dict[str, str], created: list[str]
) -> None:
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    created.append(name)
    _writable_by_all(s3, name)
    s3_alt.put_object(Bucket=name, Key="read", Body=b"readable", ACL="bucket-owner-read")
    s3_alt.put_object(Bucket=name, Key="full", Body=b"all", ACL="bucket-owner-full-control")
    assert s3.get_object(Bucket=name, Key="read")["Body"].read() == b"readable"
    with pytest.raises(ClientError) as err:
        s3.get_object_acl(Bucket=name, Key="read")  # READ is not READ_ACP
    assert _status(err) == (403, "AccessDenied")
    assert s3.get_object(Bucket=name, Key="full")["Body"].read() == b"all"
    acl = s3.get_object_acl(Bucket=name, Key="full")
    assert acl["Owner"]["ID"] == alt_user["user"]
    s3.put_object_acl(Bucket=name, Key="full", ACL="bucket-owner-full-control")
    # a grant given afterwards by the object's owner opens it too
    s3_alt.put_object(Bucket=name, Key="later", Body=b"later")
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=name, Key="later")
    assert _status(err) == (403, "AccessDenied")
    s3_alt.put_object_acl(Bucket=name, Key="later", ACL="bucket-owner-read")
    assert s3.get_object(Bucket=name, Key="later")["Body"].read() == b"later"


def test_a_policy_allow_does_not_reach_another_users_object(
    s3: Any, s3_alt: Any, alt_user: dict[str, str], created: list[str]
) -> None:
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    created.append(name)
    _open_to_all(s3, name)
    s3.put_object(Bucket=name, Key="owners", Body=b"owner's data")
    s3_alt.put_object(Bucket=name, Key="theirs", Body=b"alt's data")
    assert s3_alt.get_object(Bucket=name, Key="owners")["Body"].read() == b"owner's data"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=name, Key="theirs")
    assert _status(err) == (403, "AccessDenied")
    assert s3_alt.get_object(Bucket=name, Key="theirs")["Body"].read() == b"alt's data"


def test_bucket_owner_enforced_gives_the_owner_every_object(
    s3: Any, s3_alt: Any, alt_user: dict[str, str], created: list[str]
) -> None:
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    created.append(name)
    _writable_by_all(s3, name)
    s3_alt.put_object(Bucket=name, Key="theirs", Body=b"alt's data")
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=name, Key="theirs")
    assert _status(err) == (403, "AccessDenied")
    s3.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    assert s3.get_object(Bucket=name, Key="theirs")["Body"].read() == b"alt's data"
    s3.put_object_tagging(Bucket=name, Key="theirs", Tagging=_TAGS)  # the owner's now
    assert s3.get_object_tagging(Bucket=name, Key="theirs")["TagSet"] == _TAGS["TagSet"]


def test_the_bucket_owner_cannot_lock_another_users_object(
    s3: Any, s3_alt: Any, alt_user: dict[str, str], created: list[str]
) -> None:
    name = new_bucket_name()
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    created.append(name)
    _writable_by_all(s3, name)
    version = s3_alt.put_object(Bucket=name, Key="theirs", Body=b"alt's data")["VersionId"]
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    refused = [
        lambda: s3.put_object_legal_hold(Bucket=name, Key="theirs", LegalHold={"Status": "ON"}),
        lambda: s3.put_object_retention(
            Bucket=name,
            Key="theirs",
            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until},
        ),
    ]
    for call in refused:
        with pytest.raises(ClientError) as err:
            call()
        assert _status(err) == (403, "AccessDenied")
    # nothing was locked: the bucket owner can still delete the version for good
    s3.delete_object(Bucket=name, Key="theirs", VersionId=version)
    assert "Versions" not in s3.list_object_versions(Bucket=name)
