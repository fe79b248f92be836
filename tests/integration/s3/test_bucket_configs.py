"""Tagging, CORS, object lock, encryption defaults and ownership documents through boto3."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from lading.testing.server import RunningServer
from tests.conftest import new_bucket_name


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def test_bucket_tagging_round_trip_limits_and_removal(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as err:
        s3.get_bucket_tagging(Bucket=bucket)
    assert _code(err) == "NoSuchTagSet"
    tags = [{"Key": "project", "Value": "cryo-em"}, {"Key": "pi", "Value": "Ada"}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tags
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    with pytest.raises(ClientError) as err:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": too_many})
    assert _code(err) == "InvalidTag"
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tags  # the old set survives
    s3.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_tagging(Bucket=bucket)


def test_object_tags_from_header_api_and_copy_directive(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="stage=raw&instrument=krios")
    tags = s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"stage": "raw", "instrument": "krios"}
    assert (
        s3.head_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPHeaders"][
            "x-amz-tagging-count"
        ]
        == "2"
    )
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"})
    assert len(s3.get_object_tagging(Bucket=bucket, Key="copy")["TagSet"]) == 2
    s3.copy_object(
        Bucket=bucket,
        Key="replaced",
        CopySource={"Bucket": bucket, "Key": "k"},
        TaggingDirective="REPLACE",
        Tagging="stage=processed",
    )
    replaced = s3.get_object_tagging(Bucket=bucket, Key="replaced")["TagSet"]
    assert replaced == [{"Key": "stage", "Value": "processed"}]
    s3.put_object_tagging(
        Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "stage", "Value": "done"}]}
    )
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [
        {"Key": "stage", "Value": "done"}
    ]
    with pytest.raises(ClientError) as err:
        s3.put_object_tagging(
            Bucket=bucket,
            Key="k",
            Tagging={"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]},
        )
    assert _code(err) == "InvalidTag"
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"x", Tagging="aws:owner=me")
    assert _code(err) == "InvalidTag"
    s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    with pytest.raises(ClientError) as err:
        s3.get_object_tagging(Bucket=bucket, Key="missing")
    assert _code(err) == "NoSuchKey"


def test_tagging_header_fields_without_a_value_and_sorted_tag_sets(s3: Any, bucket: str) -> None:
    # "bar" without '=' is the tag bar with an empty value; tags come back sorted by key
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="zeta=last&bar&alpha=a%26b")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [
        {"Key": "alpha", "Value": "a&b"},
        {"Key": "bar", "Value": ""},
        {"Key": "zeta", "Value": "last"},
    ]
    s3.copy_object(
        Bucket=bucket,
        Key="copy",
        CopySource={"Bucket": bucket, "Key": "k"},
        TaggingDirective="REPLACE",
        Tagging="solo",
    )
    assert s3.get_object_tagging(Bucket=bucket, Key="copy")["TagSet"] == [
        {"Key": "solo", "Value": ""}
    ]
    s3.put_object_tagging(
        Bucket=bucket,
        Key="k",
        Tagging={"TagSet": [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}]},
    )
    assert [t["Key"] for t in s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]] == [
        "a",
        "b",
    ]
    for bad, code in (
        ("=value", "InvalidArgument"),
        ("a&&b", "InvalidArgument"),
        ("a&a=1", "InvalidTag"),
    ):
        with pytest.raises(ClientError) as err:
            s3.put_object(Bucket=bucket, Key="bad", Body=b"x", Tagging=bad)
        assert _code(err) == code, bad
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket=bucket, Key="bad")
    assert _code(err) == "404"


CORS = {
    "CORSRules": [
        {
            "AllowedOrigins": ["https://viewer.example.org"],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 600,
        }
    ]
}


def test_cors_preflight_and_actual_responses(server: RunningServer, s3: Any, bucket: str) -> None:
    url = f"{server.url}/{bucket}/obj"
    preflight = {
        "Origin": "https://viewer.example.org",
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type, x-amz-date",
    }
    assert httpx.options(url, headers=preflight).status_code == 403  # CORS not enabled
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=CORS)
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == CORS["CORSRules"]
    answer = httpx.options(url, headers=preflight)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "https://viewer.example.org"
    assert "PUT" in answer.headers["access-control-allow-methods"]
    assert answer.headers["access-control-max-age"] == "600"
    assert "x-amz-date" in answer.headers["access-control-allow-headers"]
    refused = httpx.options(url, headers={**preflight, "Origin": "https://evil.example"})
    assert refused.status_code == 403
    bad = httpx.options(url, headers={**preflight, "Access-Control-Request-Method": "DELETE"})
    assert bad.status_code == 403
    assert httpx.options(url).status_code == 400  # no Origin
    # an actual request from the allowed origin carries the CORS headers
    s3.put_object(Bucket=bucket, Key="obj", Body=b"x")
    got = s3.get_object(Bucket=bucket, Key="obj")  # no Origin: none added
    assert "access-control-allow-origin" not in got["ResponseMetadata"]["HTTPHeaders"]

    def add_origin(request: Any, **_: Any) -> None:
        request.headers["Origin"] = "https://viewer.example.org"

    s3.meta.events.register("before-sign.s3.GetObject", add_origin)
    try:
        head = s3.get_object(Bucket=bucket, Key="obj")["ResponseMetadata"]["HTTPHeaders"]
    finally:
        s3.meta.events.unregister("before-sign.s3.GetObject", add_origin)
    s3.delete_bucket_cors(Bucket=bucket)
    assert head["access-control-allow-origin"] == "https://viewer.example.org"
    assert head["access-control-expose-headers"] == "ETag"


def test_invalid_cors_rules_are_refused(s3: Any, bucket: str) -> None:
    rules = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}
    with pytest.raises(ClientError) as err:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=rules)
    assert _code(err) == "InvalidRequest"
    with pytest.raises(ClientError) as err:
        s3.get_bucket_cors(Bucket=bucket)
    assert _code(err) == "NoSuchCORSConfiguration"


@pytest.fixture
def locked_bucket(s3: Any) -> Iterator[str]:
    """A bucket created with object lock; governance-locked versions are removed after."""
    name = new_bucket_name()
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    yield name
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        for v in page.get("Versions", []):
            s3.put_object_legal_hold(
                Bucket=name, Key=v["Key"], VersionId=v["VersionId"], LegalHold={"Status": "OFF"}
            )
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(
                Bucket=name, Key=v["Key"], VersionId=v["VersionId"], BypassGovernanceRetention=True
            )
    s3.delete_bucket(Bucket=name)


def _soon(seconds: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


def test_object_lock_bucket_is_versioned_and_has_its_configuration(
    s3: Any, locked_bucket: str, bucket: str
) -> None:
    assert s3.get_bucket_versioning(Bucket=locked_bucket)["Status"] == "Enabled"
    config = s3.get_object_lock_configuration(Bucket=locked_bucket)["ObjectLockConfiguration"]
    assert config["ObjectLockEnabled"] == "Enabled"
    with pytest.raises(ClientError) as err:
        s3.put_bucket_versioning(
            Bucket=locked_bucket, VersioningConfiguration={"Status": "Suspended"}
        )
    assert _code(err) == "InvalidBucketState"
    enable = {"ObjectLockEnabled": "Enabled"}
    for status in (None, "Suspended"):  # an existing bucket needs versioning enabled first
        if status:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})
        with pytest.raises(ClientError) as err:
            s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=enable)
        assert _code(err) == "InvalidBucketState"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=enable)
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"] == enable
    with pytest.raises(ClientError) as err:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert _code(err) == "InvalidBucketState"


def test_compliance_retention_refuses_deletion_by_the_owner(s3: Any, locked_bucket: str) -> None:
    version = s3.put_object(
        Bucket=locked_bucket,
        Key="raw/scan.tif",
        Body=b"immutable",
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=_soon(3),
    )["VersionId"]
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=locked_bucket, Key="raw/scan.tif", VersionId=version)
    assert _code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        s3.delete_object(
            Bucket=locked_bucket,
            Key="raw/scan.tif",
            VersionId=version,
            BypassGovernanceRetention=True,
        )
    assert _code(err) == "AccessDenied"
    retention = s3.get_object_retention(Bucket=locked_bucket, Key="raw/scan.tif")["Retention"]
    assert retention["Mode"] == "COMPLIANCE"
    with pytest.raises(ClientError) as err:  # compliance retention cannot be shortened
        s3.put_object_retention(
            Bucket=locked_bucket,
            Key="raw/scan.tif",
            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": _soon(2)},
            BypassGovernanceRetention=True,
        )
    assert _code(err) == "AccessDenied"
    # a plain delete only stacks a marker: the locked version stays
    s3.delete_object(Bucket=locked_bucket, Key="raw/scan.tif")
    body = s3.get_object(Bucket=locked_bucket, Key="raw/scan.tif", VersionId=version)["Body"]
    assert body.read() == b"immutable"
    time.sleep(3.5)  # once retention expires, the version can go
    s3.delete_object(Bucket=locked_bucket, Key="raw/scan.tif", VersionId=version)


def test_governance_retention_gives_way_to_the_bypass_header(s3: Any, locked_bucket: str) -> None:
    s3.put_object_lock_configuration(
        Bucket=locked_bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    version = s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x")["VersionId"]
    head = s3.head_object(Bucket=locked_bucket, Key="k")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=locked_bucket, Key="k", VersionId=version)
    assert _code(err) == "AccessDenied"
    s3.delete_object(
        Bucket=locked_bucket, Key="k", VersionId=version, BypassGovernanceRetention=True
    )


def test_governance_mode_changes_only_with_the_bypass_header(s3: Any, locked_bucket: str) -> None:
    until = _soon(30)
    s3.put_object(
        Bucket=locked_bucket,
        Key="g",
        Body=b"x",
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=until,
    )
    stricter = {"Mode": "COMPLIANCE", "RetainUntilDate": until}
    with pytest.raises(ClientError) as err:
        s3.put_object_retention(Bucket=locked_bucket, Key="g", Retention=stricter)
    assert _code(err) == "AccessDenied"
    assert s3.get_object_retention(Bucket=locked_bucket, Key="g")["Retention"]["Mode"] == (
        "GOVERNANCE"
    )
    s3.put_object_retention(
        Bucket=locked_bucket,
        Key="g",
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": _soon(1)},
        BypassGovernanceRetention=True,
    )
    time.sleep(1.5)


def test_legal_hold_blocks_deletion_until_released(s3: Any, locked_bucket: str) -> None:
    version = s3.put_object(
        Bucket=locked_bucket, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON"
    )["VersionId"]
    assert s3.get_object_legal_hold(Bucket=locked_bucket, Key="k")["LegalHold"]["Status"] == "ON"
    with pytest.raises(ClientError) as err:
        s3.delete_object(
            Bucket=locked_bucket, Key="k", VersionId=version, BypassGovernanceRetention=True
        )
    assert _code(err) == "AccessDenied"
    s3.put_object_legal_hold(Bucket=locked_bucket, Key="k", LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=locked_bucket, Key="k", VersionId=version)


def test_lock_headers_on_a_bucket_without_lock_are_refused(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as err:
        s3.put_object(
            Bucket=bucket,
            Key="k",
            Body=b"x",
            ObjectLockMode="GOVERNANCE",
            ObjectLockRetainUntilDate=_soon(60),
        )
    assert _code(err) == "InvalidRequest"
    with pytest.raises(ClientError) as err:
        s3.get_object_retention(Bucket=bucket, Key="k")
    assert _code(err) == "InvalidRequest"


def test_configurations_survive_a_restart(s3: Any, server: RunningServer, bucket: str) -> None:
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=CORS)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    server.restart()
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "a", "Value": "b"}]
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == CORS["CORSRules"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_admin_show_bucket_lists_every_configuration(
    s3: Any, server: RunningServer, bucket: str
) -> None:
    import json
    import subprocess

    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=CORS)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "old-versions",
                    "Filter": {"Prefix": ""},
                    "Status": "Enabled",
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 10},
                }
            ]
        },
    )
    shown = json.loads(server.admin("show-bucket", bucket, "--json"))
    assert shown["versioning"] == "Enabled"
    assert set(shown["configurations"]) == {"cors", "acl", "lifecycle"}
    assert shown["configurations"]["lifecycle"]["Rule"][0]["ID"] == "old-versions"
    text = server.admin("show-bucket", bucket)
    assert "versioning:  Enabled" in text and "lifecycle:" in text
    with pytest.raises(subprocess.CalledProcessError) as err:
        server.admin("show-bucket", "no-such-bucket-here")
    assert "does not exist" in err.value.stderr
