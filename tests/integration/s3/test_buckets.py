"""Bucket operations through real boto3."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import empty_bucket, new_bucket_name


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_create_list_head_and_delete_bucket(s3: Any) -> None:
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    listed = s3.list_buckets()
    entry = next(b for b in listed["Buckets"] if b["Name"] == name)
    assert entry["CreationDate"].year >= 2024
    assert listed["Owner"]["ID"] == "root"
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket=name)
    assert exc.value.response["Error"]["Code"] == "404"


def test_create_bucket_accepts_the_servers_own_region_as_location(s3: Any) -> None:
    name = new_bucket_name()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    empty_bucket(s3, name)


def test_create_bucket_refuses_another_region(s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(
            Bucket=new_bucket_name(),
            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        )
    assert error_code(exc) == "InvalidLocationConstraint"


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "a" * 64,
        "UPPER-case",
        "-leading-hyphen",
        "trailing-hyphen-",
        "two..dots",
        "192.168.5.4",
        "under_score",
        "_lading",
        "xn--reserved",
    ],
)
def test_create_bucket_refuses_invalid_names(s3: Any, name: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket=name)
    assert error_code(exc) == "InvalidBucketName"


def test_owner_recreating_a_bucket_in_us_east_1_succeeds_and_keeps_it(s3: Any, bucket: str) -> None:
    # AWS's legacy region answers 200 here (other regions: BucketAlreadyOwnedByYou)
    s3.put_object(Bucket=bucket, Key="kept", Body=b"x")
    s3.create_bucket(Bucket=bucket)
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"x"


def test_create_bucket_taken_by_another_user_says_already_exists(s3_alt: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3_alt.create_bucket(Bucket=bucket)
    assert error_code(exc) == "BucketAlreadyExists"


def test_delete_non_empty_bucket_is_refused_and_keeps_data(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="keep", Body=b"data")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=bucket)
    assert error_code(exc) == "BucketNotEmpty"
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"data"


def test_users_see_only_their_own_buckets(s3_alt: Any, bucket: str) -> None:
    names = [b["Name"] for b in s3_alt.list_buckets()["Buckets"]]
    assert bucket not in names


@pytest.mark.parametrize(
    "call",
    [
        lambda c, b: c.list_objects_v2(Bucket=b),
        lambda c, b: c.get_object(Bucket=b, Key="k"),
        lambda c, b: c.put_object(Bucket=b, Key="intruder", Body=b"x"),
        lambda c, b: c.delete_object(Bucket=b, Key="k"),
        lambda c, b: c.delete_bucket(Bucket=b),
        lambda c, b: c.get_bucket_location(Bucket=b),
    ],
    ids=["list", "get", "put", "delete-object", "delete-bucket", "location"],
)
def test_other_users_are_denied_on_a_bucket(s3: Any, s3_alt: Any, bucket: str, call: Any) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"private")
    with pytest.raises(ClientError) as exc:
        call(s3_alt, bucket)
    assert error_code(exc) == "AccessDenied"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"private"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]


def test_anonymous_requests_are_denied(server: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"private")
    for url in (f"{server.url}/", f"{server.url}/{bucket}", f"{server.url}/{bucket}/k"):
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(url)
        assert exc.value.code == 403
        body = exc.value.read().decode()
        assert "<Code>AccessDenied</Code>" in body and "<RequestId>" in body


def test_operations_of_later_features_answer_not_implemented(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_website(Bucket=bucket)
    assert error_code(exc) == "NotImplemented"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_health_reports_ready(server: Any) -> None:
    import json

    with urllib.request.urlopen(f"{server.url}/_/health") as resp:
        assert json.load(resp)["status"] == "ok"


@pytest.mark.parametrize(
    "call",
    [
        lambda c, b: c.put_object(
            Bucket=b, Key="k", Body=b"x", ServerSideEncryption="aws:kms:dsse", SSEKMSKeyId="k"
        ),
    ],
    ids=["sse-kms-dsse"],
)
def test_features_of_later_issues_are_refused_not_ignored(s3: Any, bucket: str, call: Any) -> None:
    # accepting them would be a wrong success: nothing would be public, granted, tagged or
    # encrypted as asked
    with pytest.raises(ClientError) as exc:
        call(s3, bucket)
    assert error_code(exc) == "NotImplemented"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    assert bucket + "-pub" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_private_acl_is_accepted(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="private")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_every_response_carries_a_distinct_request_id(s3: Any, bucket: str) -> None:
    ids = {
        s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
        for _ in range(20)
    }
    assert len(ids) == 20
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="missing")
    assert exc.value.response["ResponseMetadata"]["RequestId"] not in ids
    assert len(exc.value.response["ResponseMetadata"]["RequestId"]) == 16
