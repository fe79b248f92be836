"""Bucket ownership controls: who owns what another user writes, and ACLs switched off."""

from __future__ import annotations

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
        assert _owner(s3, name, "plain") == alt_user["user"]
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
