"""IAM users on the S3 endpoint: administrators create them, give them keys and attach
managed policies, and every request of an IAM user is bounded by those policies."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lading.client import CatalogClient, PermissionDeniedError
from lading.testing.server import RunningServer
from tests.conftest import make_client, new_bucket_name

SNS_READ = "arn:aws:iam::aws:policy/AmazonSNSReadOnlyAccess"
S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


def client(server: RunningServer, service: str, access_key: str, secret_key: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def code(caught: pytest.ExceptionInfo[ClientError]) -> str:
    found: str = caught.value.response["Error"]["Code"]
    return found


@pytest.fixture
def iam(server: RunningServer) -> Any:
    return client(server, "iam", server.access_key, server.secret_key)


@pytest.fixture
def iam_user(iam: Any) -> Iterator[tuple[str, dict[str, str]]]:
    """A fresh IAM user under /tests/ with one key; deleted the IAM way afterwards."""
    name = f"iam-{uuid.uuid4().hex[:8]}"
    created = iam.create_user(UserName=name, Path="/tests/")["User"]
    assert created["Arn"] == f"arn:aws:iam::lading:user/tests/{name}"
    key = iam.create_access_key(UserName=name)["AccessKey"]
    yield name, key
    for attached in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
        iam.detach_user_policy(UserName=name, PolicyArn=attached["PolicyArn"])
    for listed in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=listed["AccessKeyId"])
    iam.delete_user(UserName=name)


def test_an_iam_user_can_do_only_what_its_policies_allow(
    server: RunningServer, iam: Any, iam_user: tuple[str, dict[str, str]], s3: Any
) -> None:
    name, key = iam_user
    sns = client(server, "sns", key["AccessKeyId"], key["SecretAccessKey"])
    s3_user = make_client(server.url, key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as caught:
        sns.list_topics()
    assert code(caught) == "AuthorizationError"
    with pytest.raises(ClientError) as caught:
        s3_user.list_buckets()
    assert code(caught) == "AccessDenied"

    iam.attach_user_policy(UserName=name, PolicyArn=SNS_READ)
    iam.attach_user_policy(UserName=name, PolicyArn=SNS_READ)  # again: no change
    attached = iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]
    assert attached == [{"PolicyName": "AmazonSNSReadOnlyAccess", "PolicyArn": SNS_READ}]
    assert "Topics" in sns.list_topics()
    with pytest.raises(ClientError) as caught:  # read-only: no new topics
        sns.create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")
    assert code(caught) == "AuthorizationError"
    with pytest.raises(ClientError):
        s3_user.list_buckets()  # SNS policies say nothing about S3

    # S3 read access still needs what the bucket's owner grants: the policy only bounds it
    bucket = new_bucket_name()
    s3.create_bucket(Bucket=bucket)
    try:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data")
        iam.attach_user_policy(UserName=name, PolicyArn=S3_READ)
        s3_user.list_buckets()
        with pytest.raises(ClientError) as caught:
            s3_user.get_object(Bucket=bucket, Key="k")
        assert code(caught) == "AccessDenied"
        grant = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::lading:user/{name}"},
                    "Action": ["s3:GetObject", "s3:PutObject"],
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(grant))
        assert s3_user.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
        with pytest.raises(ClientError) as caught:  # the bucket allows it, the user's policy not
            s3_user.put_object(Bucket=bucket, Key="new", Body=b"x")
        assert code(caught) == "AccessDenied"

        iam.detach_user_policy(UserName=name, PolicyArn=S3_READ)
        with pytest.raises(ClientError):
            s3_user.get_object(Bucket=bucket, Key="k")
    finally:
        s3.delete_object(Bucket=bucket, Key="k")
        s3.delete_bucket(Bucket=bucket)


def test_iam_users_are_listed_read_and_deleted_in_order(
    iam: Any, iam_user: tuple[str, dict[str, str]]
) -> None:
    name, key = iam_user
    listed = iam.list_users(PathPrefix="/tests/")["Users"]
    assert name in [u["UserName"] for u in listed]
    assert iam.list_users(PathPrefix="/elsewhere/")["Users"] == []
    assert name in [u["UserName"] for u in iam.list_users(PathPrefix="/te")["Users"]]
    assert iam.get_user(UserName=name)["User"]["Path"] == "/tests/"
    keys = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in keys] == [(key["AccessKeyId"], "Active")]
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == []
    with pytest.raises(ClientError) as caught:  # keys first
        iam.delete_user(UserName=name)
    assert code(caught) == "DeleteConflict"


def test_bad_iam_requests_get_iam_errors(
    server: RunningServer, iam: Any, iam_user: tuple[str, dict[str, str]]
) -> None:
    name, key = iam_user
    with pytest.raises(ClientError) as caught:
        iam.create_user(UserName=name)
    assert code(caught) == "EntityAlreadyExists"
    with pytest.raises(ClientError) as caught:
        iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/NoSuchThing")
    assert code(caught) == "NoSuchEntity"
    with pytest.raises(ClientError) as caught:
        iam.detach_user_policy(UserName=name, PolicyArn=SNS_READ)  # not attached
    assert code(caught) == "NoSuchEntity"
    with pytest.raises(ClientError) as caught:
        iam.attach_user_policy(UserName="nobody-here", PolicyArn=SNS_READ)
    assert code(caught) == "NoSuchEntity"
    with pytest.raises(ClientError) as caught:
        iam.attach_user_policy(UserName="root", PolicyArn=SNS_READ)  # an account, not IAM's
    assert code(caught) == "NoSuchEntity"
    with pytest.raises(ClientError) as caught:
        iam.create_user(UserName="bad name!")
    assert code(caught) == "InvalidInput"
    with pytest.raises(ClientError) as caught:
        iam.create_user(UserName=f"p-{uuid.uuid4().hex[:6]}", Path="no-slashes")
    assert code(caught) == "InvalidInput"
    with pytest.raises(ClientError) as caught:
        iam.delete_access_key(UserName=name, AccessKeyId="AKIANOTAKEYOFTHEUSER")
    assert code(caught) == "NoSuchEntity"
    with pytest.raises(ClientError) as caught:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument="{}")
    assert code(caught) == "InvalidAction"


def test_only_administrators_manage_iam_users(
    server: RunningServer, iam_user: tuple[str, dict[str, str]]
) -> None:
    name, key = iam_user
    plain = json.loads(server.admin("add-user", f"plain-{uuid.uuid4().hex[:6]}"))
    iam_plain = client(server, "iam", plain["access_key"], plain["secret_key"])
    for call in (
        lambda: iam_plain.create_user(UserName=f"x-{uuid.uuid4().hex[:6]}"),
        lambda: iam_plain.attach_user_policy(UserName=name, PolicyArn=SNS_READ),
        lambda: iam_plain.create_access_key(UserName=name),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert code(caught) == "AccessDenied"
    assert iam_plain.list_users()["Users"] == []  # its account has no IAM users
    # an IAM user's own key neither manages IAM nor reaches the control API
    iam_self = client(server, "iam", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as caught:
        iam_self.create_user(UserName=f"y-{uuid.uuid4().hex[:6]}")
    assert code(caught) == "AccessDenied"
    with (
        CatalogClient(
            server.url, access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"]
        ) as catalog,
        pytest.raises(PermissionDeniedError),
    ):
        catalog.search("size > 0")
