"""Who may do what: canned ACLs, anonymous access, bucket policies, public access block."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import s3fs
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from lading.testing.server import RunningServer
from tests.conftest import make_client


@pytest.fixture(scope="module")
def anon(server: RunningServer) -> Any:
    """boto3 sending unsigned requests, as a browser or `--no-sign-request` does."""
    return make_client(server.url, "x", "y", signature_version=UNSIGNED)


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def test_a_private_object_is_refused_to_anonymous_and_other_users(
    s3: Any, s3_alt: Any, anon: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="secret", Body=b"x")
    for client in (anon, s3_alt):
        with pytest.raises(ClientError) as err:
            client.get_object(Bucket=bucket, Key="secret")
        assert _code(err) == "AccessDenied"
        with pytest.raises(ClientError) as err:
            client.list_objects_v2(Bucket=bucket)
        assert _code(err) == "AccessDenied"


def test_public_read_object_in_a_private_bucket(s3: Any, anon: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="open", Body=b"hi", ACL="public-read")
    s3.put_object(Bucket=bucket, Key="closed", Body=b"no")
    assert anon.get_object(Bucket=bucket, Key="open")["Body"].read() == b"hi"
    with pytest.raises(ClientError) as err:
        anon.get_object(Bucket=bucket, Key="closed")
    assert _code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:  # no listing right: a missing key is hidden too
        anon.get_object(Bucket=bucket, Key="missing")
    assert _code(err) == "AccessDenied"
    grants = s3.get_object_acl(Bucket=bucket, Key="open")["Grants"]
    assert {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"} in [
        g["Grantee"] for g in grants
    ]


def test_public_read_bucket_lists_and_s3fs_reads_it_anonymously(
    server: RunningServer, s3: Any, anon: Any, bucket: str
) -> None:
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    s3.put_object(Bucket=bucket, Key="data/a.csv", Body=b"x,y\n1,2\n", ACL="public-read")
    keys = [o["Key"] for o in anon.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["data/a.csv"]
    with pytest.raises(ClientError) as err:  # listing is allowed, so a missing key is a 404
        anon.get_object(Bucket=bucket, Key="nope")
    assert _code(err) == "NoSuchKey"
    with pytest.raises(ClientError) as err:  # READ is not WRITE
        anon.put_object(Bucket=bucket, Key="vandal", Body=b"x")
    assert _code(err) == "AccessDenied"
    fs = s3fs.S3FileSystem(anon=True, client_kwargs={"endpoint_url": server.url})
    assert fs.ls(bucket) == [f"{bucket}/data"]
    assert fs.cat(f"{bucket}/data/a.csv") == b"x,y\n1,2\n"


def test_bucket_acl_round_trip_and_grants_to_a_user(
    s3: Any, s3_alt: Any, alt_user: dict[str, str], bucket: str
) -> None:
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
    s3.put_bucket_acl(
        Bucket=bucket,
        AccessControlPolicy={
            "Owner": owner,
            "Grants": [
                {
                    "Grantee": {"Type": "CanonicalUser", "ID": alt_user["user"]},
                    "Permission": "WRITE",
                }
            ],
        },
    )
    # an ACL given grant by grant is shown as given: the owner's grant was not in it
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert [(g["Grantee"].get("ID"), g["Permission"]) for g in grants] == [
        (alt_user["user"], "WRITE"),
    ]
    s3_alt.put_object(Bucket=bucket, Key="from-alt", Body=b"x")
    with pytest.raises(ClientError) as err:  # WRITE does not give READ
        s3_alt.list_objects_v2(Bucket=bucket)
    assert _code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        s3.put_bucket_acl(Bucket=bucket, GrantRead='id="no-such-user-here"')
    assert _code(err) == "InvalidArgument"


def test_canned_acls_show_group_grants_then_the_owner(s3: Any, bucket: str) -> None:
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    assert [(g["Grantee"].get("URI") or g["Grantee"]["ID"], g["Permission"]) for g in grants] == [
        ("http://acs.amazonaws.com/groups/global/AllUsers", "READ"),
        ("http://acs.amazonaws.com/groups/global/AllUsers", "WRITE"),
        (owner, "FULL_CONTROL"),
    ]
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    assert [g["Grantee"]["ID"] for g in s3.get_bucket_acl(Bucket=bucket)["Grants"]] == [owner]


def test_revoking_every_grant_leaves_the_owner_in_control(s3: Any, bucket: str) -> None:
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": []})
    assert s3.get_bucket_acl(Bucket=bucket)["Grants"] == []
    s3.put_object(Bucket=bucket, Key="still-mine", Body=b"x")  # the owner keeps its rights
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    assert len(s3.get_bucket_acl(Bucket=bucket)["Grants"]) == 1


def test_recreating_an_owned_bucket_resets_its_acl(s3: Any, bucket: str) -> None:
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    s3.put_object(Bucket=bucket, Key="kept", Body=b"x")
    s3.create_bucket(Bucket=bucket)  # us-east-1: 200 to the owner
    assert len(s3.get_bucket_acl(Bucket=bucket)["Grants"]) == 1
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["kept"]


def test_policy_allows_anonymous_reads_under_a_prefix_and_denies_another(
    s3: Any, s3_alt: Any, anon: Any, bucket: str
) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicData",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                "Resource": f"arn:aws:s3:::{bucket}/public/*",
            },
            {
                "Sid": "NoRawDeletes",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:DeleteObject",
                "Resource": f"arn:aws:s3:::{bucket}/raw/*",
            },
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == policy
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    s3.put_object(Bucket=bucket, Key="public/a", Body=b"open")
    s3.put_object(Bucket=bucket, Key="private/a", Body=b"closed")
    s3.put_object(Bucket=bucket, Key="raw/scan.tif", Body=b"raw")
    assert anon.get_object(Bucket=bucket, Key="public/a")["Body"].read() == b"open"
    assert s3_alt.get_object(Bucket=bucket, Key="public/a")["Body"].read() == b"open"
    with pytest.raises(ClientError) as err:
        anon.get_object(Bucket=bucket, Key="private/a")
    assert _code(err) == "AccessDenied"
    # the explicit deny binds the owner too, for single and multi-object deletes
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=bucket, Key="raw/scan.tif")
    assert _code(err) == "AccessDenied"
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "raw/scan.tif"}]})
    assert result["Errors"][0]["Code"] == "AccessDenied"
    assert s3.get_object(Bucket=bucket, Key="raw/scan.tif")["Body"].read() == b"raw"
    s3.delete_bucket_policy(Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="raw/scan.tif")
    with pytest.raises(ClientError) as err:
        s3.get_bucket_policy(Bucket=bucket)
    assert _code(err) == "NoSuchBucketPolicy"


def test_policy_conditions_on_prefix_and_source_ip(
    s3: Any, s3_alt: Any, alt_user: dict[str, str], bucket: str
) -> None:
    arn = f"arn:aws:iam::lading:user/{alt_user['user']}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": arn},
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{bucket}",
                "Condition": {
                    "StringLike": {"s3:prefix": "shared/*"},
                    "IpAddress": {"aws:SourceIp": "127.0.0.0/8"},
                },
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    s3.put_object(Bucket=bucket, Key="shared/x", Body=b"x")
    assert s3_alt.list_objects_v2(Bucket=bucket, Prefix="shared/")["KeyCount"] == 1
    with pytest.raises(ClientError) as err:
        s3_alt.list_objects_v2(Bucket=bucket)
    assert _code(err) == "AccessDenied"
    policy["Statement"][0]["Condition"]["IpAddress"]["aws:SourceIp"] = "10.9.0.0/16"
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    with pytest.raises(ClientError) as err:
        s3_alt.list_objects_v2(Bucket=bucket, Prefix="shared/")
    assert _code(err) == "AccessDenied"


def test_a_policy_refusing_unencrypted_uploads(s3: Any, bucket: str) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}},
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert _code(err) == "AccessDenied"
    s3.delete_bucket_policy(Bucket=bucket)


def test_a_policy_on_existing_object_tags(s3: Any, s3_alt: Any, bucket: str) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject", "s3:GetObjectTagging"],
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"StringEquals": {"s3:ExistingObjectTag/security": "public"}},
            }
        ],
    }
    s3.put_object(Bucket=bucket, Key="public", Body=b"p", Tagging="security=public")
    s3.put_object(Bucket=bucket, Key="private", Body=b"q", Tagging="security=private")
    s3.put_object(Bucket=bucket, Key="untagged", Body=b"r")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    try:
        assert s3_alt.get_object(Bucket=bucket, Key="public")["Body"].read() == b"p"
        assert s3_alt.get_object_tagging(Bucket=bucket, Key="public")["TagSet"]
        for key in ("private", "untagged", "missing"):
            with pytest.raises(ClientError) as err:
                s3_alt.get_object(Bucket=bucket, Key=key)
            assert _code(err) == "AccessDenied"
        # retagging the object changes the answer
        s3.put_object_tagging(
            Bucket=bucket,
            Key="private",
            Tagging={"TagSet": [{"Key": "security", "Value": "public"}]},
        )
        assert s3_alt.get_object(Bucket=bucket, Key="private")["Body"].read() == b"q"
    finally:
        s3.delete_bucket_policy(Bucket=bucket)


def test_a_missing_key_is_404_where_a_listing_of_its_name_is_allowed(
    s3: Any, s3_alt: Any, anon: Any, bucket: str
) -> None:
    # listing is allowed only under public/: a caller who may list a key's name learns
    # nothing new from a 404; elsewhere a missing key stays AccessDenied
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{bucket}",
                "Condition": {"StringLike": {"s3:prefix": "public/*"}},
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    s3.put_object(Bucket=bucket, Key="public/there", Body=b"x")
    for client in (s3_alt, anon):
        with pytest.raises(ClientError) as err:
            client.head_object(Bucket=bucket, Key="public/missing")
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        with pytest.raises(ClientError) as err:
            client.get_object(Bucket=bucket, Key="public/missing")
        assert _code(err) == "NoSuchKey"
        for key in ("private/missing", "public/there"):  # no GetObject: existing is refused
            with pytest.raises(ClientError) as err:
                client.get_object(Bucket=bucket, Key=key)
            assert _code(err) == "AccessDenied", key
        with pytest.raises(ClientError) as err:
            client.head_object(Bucket=bucket, Key="private/missing")
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_policy_requiring_conditional_writes(s3: Any, bucket: str) -> None:
    # AWS's example: refuse uploads that carry neither If-None-Match nor If-Match
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"Null": {"s3:if-none-match": "true", "s3:if-match": "true"}},
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert _code(err) == "AccessDenied"
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"x", IfNoneMatch="*")["ETag"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"y", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"y"
    s3.delete_bucket_policy(Bucket=bucket)


def test_a_policy_requiring_customer_keys(s3: Any, bucket: str) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {
                    "Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "true"}
                },
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    try:
        for extra in ({}, {"ServerSideEncryption": "AES256"}):
            with pytest.raises(ClientError) as err:
                s3.put_object(Bucket=bucket, Key="plain", Body=b"x", **extra)
            assert _code(err) == "AccessDenied"
        key = b"k" * 32
        s3.put_object(
            Bucket=bucket,
            Key="sealed",
            Body=b"x",
            SSECustomerAlgorithm="AES256",
            SSECustomerKey=key,
        )
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
        assert keys == ["sealed"]
    finally:
        s3.delete_bucket_policy(Bucket=bucket)


def test_a_bucket_policy_may_repeat_a_statement_id(s3: Any, anon: Any, bucket: str) -> None:
    # S3 takes them (IAM does not); every statement counts
    statements = [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/{prefix}/*",
        }
        for prefix in ("one", "two")
    ]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Statement": statements}))
    try:
        for key in ("one/k", "two/k"):
            s3.put_object(Bucket=bucket, Key=key, Body=b"x")
            assert anon.get_object(Bucket=bucket, Key=key)["Body"].read() == b"x"
    finally:
        s3.delete_bucket_policy(Bucket=bucket)
        for key in ("one/k", "two/k"):
            s3.delete_object(Bucket=bucket, Key=key)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("not json", "valid JSON"),
        ('{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]}', ""),
        (
            '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", '
            '"Resource": "arn:aws:s3:::another-bucket/*"}]}',
            "resource",
        ),
    ],
)
def test_malformed_policies_are_refused_with_the_reason(
    s3: Any, bucket: str, document: str, reason: str
) -> None:
    with pytest.raises(ClientError) as err:
        s3.put_bucket_policy(Bucket=bucket, Policy=document)
    assert _code(err) == "MalformedPolicy"
    assert reason in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=bucket)


def test_public_access_block_overrides_acls_and_policies(s3: Any, anon: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")
    assert anon.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    flags = {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=flags)
    got = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert got == flags
    with pytest.raises(ClientError) as err:
        anon.get_object(Bucket=bucket, Key="k")
    assert _code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="k2", Body=b"x", ACL="public-read")
    assert _code(err) == "AccessDenied"
    public = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ]
    }
    with pytest.raises(ClientError) as err:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public))
    assert _code(err) == "AccessDenied"
    s3.delete_public_access_block(Bucket=bucket)
    assert anon.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_anonymous_requests_need_no_signature_at_all(
    server: RunningServer, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="plain.txt", Body=b"plain", ACL="public-read")
    response = httpx.get(f"{server.url}/{bucket}/plain.txt")
    assert response.status_code == 200 and response.content == b"plain"
    refused = httpx.get(f"{server.url}/{bucket}")
    assert refused.status_code == 403 and b"<Code>AccessDenied</Code>" in refused.content
