"""x-amz-expected-bucket-owner and x-amz-source-expected-bucket-owner through boto3.

The expected owner is the canonical id Lading shows as Owner/ID; any other value is refused
with 403 AccessDenied before the operation runs, on bucket and object operations alike.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from lading.testing.server import RunningServer
from tests.conftest import make_client


def _owner(s3: Any, bucket: str) -> str:
    owner: str = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    return owner


def _denied(call: Any, **kwargs: Any) -> None:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    response = err.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403, kwargs
    assert response["Error"]["Code"] in ("AccessDenied", "403"), kwargs  # HEAD has no body


def test_bucket_operations_check_the_owner(s3: Any, bucket: str) -> None:
    owner = _owner(s3, bucket)
    wrong = owner + "x"
    s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=owner)
    s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=owner)
    _denied(s3.list_objects_v2, Bucket=bucket, ExpectedBucketOwner=wrong)
    _denied(s3.head_bucket, Bucket=bucket, ExpectedBucketOwner=wrong)
    _denied(s3.get_bucket_versioning, Bucket=bucket, ExpectedBucketOwner=wrong)
    _denied(
        s3.put_bucket_tagging,
        Bucket=bucket,
        Tagging={"TagSet": [{"Key": "a", "Value": "b"}]},
        ExpectedBucketOwner=wrong,
    )
    with pytest.raises(ClientError) as err:
        s3.get_bucket_tagging(Bucket=bucket)
    assert err.value.response["Error"]["Code"] == "NoSuchTagSet"
    _denied(s3.delete_bucket, Bucket=bucket, ExpectedBucketOwner="")
    s3.head_bucket(Bucket=bucket)  # still there


def test_object_operations_check_the_owner(s3: Any, bucket: str) -> None:
    owner = _owner(s3, bucket)
    wrong = "123456789012"
    s3.put_object(Bucket=bucket, Key="k", Body=b"data", ExpectedBucketOwner=owner)
    assert (
        s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=owner)["Body"].read() == b"data"
    )
    _denied(s3.put_object, Bucket=bucket, Key="other", Body=b"x", ExpectedBucketOwner=wrong)
    _denied(s3.get_object, Bucket=bucket, Key="k", ExpectedBucketOwner=wrong)
    _denied(s3.head_object, Bucket=bucket, Key="k", ExpectedBucketOwner=wrong)
    _denied(s3.delete_object, Bucket=bucket, Key="k", ExpectedBucketOwner=wrong)
    _denied(s3.get_object_tagging, Bucket=bucket, Key="k", ExpectedBucketOwner=wrong)
    _denied(
        s3.delete_objects,
        Bucket=bucket,
        Delete={"Objects": [{"Key": "k"}]},
        ExpectedBucketOwner=wrong,
    )
    _denied(s3.create_multipart_upload, Bucket=bucket, Key="mp", ExpectedBucketOwner=wrong)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["k"]


def test_copies_check_the_source_and_target_owners(s3: Any, bucket: str) -> None:
    owner = _owner(s3, bucket)
    s3.put_object(Bucket=bucket, Key="src", Body=b"data")
    source = {"Bucket": bucket, "Key": "src"}
    s3.copy_object(
        Bucket=bucket,
        Key="ok",
        CopySource=source,
        ExpectedBucketOwner=owner,
        ExpectedSourceBucketOwner=owner,
    )
    _denied(
        s3.copy_object,
        Bucket=bucket,
        Key="no",
        CopySource=source,
        ExpectedSourceBucketOwner=owner + "x",
    )
    _denied(s3.copy_object, Bucket=bucket, Key="no", CopySource=source, ExpectedBucketOwner="x")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    _denied(
        s3.upload_part_copy,
        Bucket=bucket,
        Key="mp",
        UploadId=upload,
        PartNumber=1,
        CopySource=source,
        ExpectedSourceBucketOwner="x",
    )
    part = s3.upload_part_copy(
        Bucket=bucket,
        Key="mp",
        UploadId=upload,
        PartNumber=1,
        CopySource=source,
        ExpectedSourceBucketOwner=owner,
    )
    assert part["CopyPartResult"]["ETag"]
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["ok", "src"]


def test_anonymous_callers_of_a_public_bucket_are_checked_too(
    server: RunningServer, s3: Any, bucket: str
) -> None:
    owner = _owner(s3, bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    anonymous = make_client(server.url, "x", "y", signature_version=UNSIGNED)
    anonymous.list_objects(Bucket=bucket, ExpectedBucketOwner=owner)
    _denied(anonymous.list_objects, Bucket=bucket, ExpectedBucketOwner=owner + "foo")
    _denied(
        anonymous.put_object, Bucket=bucket, Key="k", Body=b"x", ExpectedBucketOwner=owner + "foo"
    )
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
