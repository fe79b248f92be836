"""Conditional deletes through boto3: If-Match, x-amz-if-match-last-modified-time and -size on
DeleteObject, ETag / LastModifiedTime / Size on DeleteObjects, in plain and versioned buckets.

A delete marker that is the current version over real versions fails every ETag, time or size
condition (AWS answers 412 for an ETag when the current version is a delete marker); a key that
has no data at all (never written, or only delete markers) is deleted whatever the condition.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import sending_body

BAD_TIME = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)


def _code(err: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    response = err.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def _enable(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def _versions(s3: Any, bucket: str) -> tuple[list[str], list[str]]:
    listing = s3.list_object_versions(Bucket=bucket)
    return (
        [v["VersionId"] for v in listing.get("Versions", [])],
        [m["VersionId"] for m in listing.get("DeleteMarkers", [])],
    )


def test_if_match_on_a_plain_bucket(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"data")["ETag"]
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=bucket, Key="k", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert _code(err) == (412, "PreconditionFailed")
    assert s3.head_object(Bucket=bucket, Key="k")["ETag"] == etag  # still there
    s3.delete_object(Bucket=bucket, Key="k", IfMatch=etag)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    # deleting what is not there is done, whatever the condition
    assert (
        s3.delete_object(Bucket=bucket, Key="k", IfMatch="badetag")["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 204
    )


def test_size_and_time_conditions_and_a_bad_size(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"four")
    mtime = s3.head_object(Bucket=bucket, Key="k")["LastModified"]
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=bucket, Key="k", IfMatchSize=5)
    assert _code(err) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=bucket, Key="k", IfMatchLastModifiedTime=BAD_TIME)
    assert _code(err) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as err:  # all three must hold
        s3.delete_object(
            Bucket=bucket, Key="k", IfMatch="*", IfMatchSize=4, IfMatchLastModifiedTime=BAD_TIME
        )
    assert _code(err) == (412, "PreconditionFailed")
    s3.delete_object(
        Bucket=bucket, Key="k", IfMatch="*", IfMatchSize=4, IfMatchLastModifiedTime=mtime
    )
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_a_size_that_is_not_a_number_is_refused(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")

    def bad_size(request: Any, **_: Any) -> None:
        request.headers["x-amz-if-match-size"] = "many"

    s3.meta.events.register_first("before-sign.s3.DeleteObject", bad_size)
    try:
        with pytest.raises(ClientError) as err:
            s3.delete_object(Bucket=bucket, Key="k")
    finally:
        s3.meta.events.unregister("before-sign.s3.DeleteObject", bad_size)
    assert _code(err) == (400, "InvalidArgument")
    assert s3.head_object(Bucket=bucket, Key="k")["ContentLength"] == 1


def test_current_version_of_a_versioned_bucket(s3: Any, bucket: str) -> None:
    _enable(s3, bucket)
    # a key never written: nothing to match, the delete stacks a marker as usual
    assert s3.delete_object(Bucket=bucket, Key="k", IfMatch="*")["DeleteMarker"] is True
    assert s3.delete_object(Bucket=bucket, Key="k", IfMatch="badetag")["DeleteMarker"] is True
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=bucket, Key="k", IfMatch="badetag")
    assert _code(err) == (412, "PreconditionFailed")
    gone = s3.delete_object(Bucket=bucket, Key="k", IfMatch=put["ETag"])
    assert gone["DeleteMarker"] is True
    # the current version is now a delete marker over the data: an ETag, size or time
    # cannot match it, and nothing more is stacked
    _, markers = _versions(s3, bucket)
    for condition in (
        {"IfMatch": put["ETag"]},
        {"IfMatch": "badetag"},
        {"IfMatchSize": 4},
        {"IfMatchLastModifiedTime": BAD_TIME},
    ):
        with pytest.raises(ClientError) as err:
            s3.delete_object(Bucket=bucket, Key="k", **condition)
        assert _code(err) == (412, "PreconditionFailed"), condition
    assert _versions(s3, bucket) == ([put["VersionId"]], markers)
    # once only markers are left, the key holds nothing and a conditional delete is done
    s3.delete_object(Bucket=bucket, Key="k", VersionId=put["VersionId"])
    assert s3.delete_object(Bucket=bucket, Key="k", IfMatch="badetag")["DeleteMarker"] is True


def test_a_version_by_id(s3: Any, bucket: str) -> None:
    _enable(s3, bucket)
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    s3.put_object(Bucket=bucket, Key="k", Body=b"newer")
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=bucket, Key="k", VersionId=put["VersionId"], IfMatchSize=9)
    assert _code(err) == (412, "PreconditionFailed")
    done = s3.delete_object(Bucket=bucket, Key="k", VersionId=put["VersionId"], IfMatch=put["ETag"])
    assert "DeleteMarker" not in done
    assert put["VersionId"] not in _versions(s3, bucket)[0]


def test_delete_objects_per_key_conditions(s3: Any, bucket: str) -> None:
    _enable(s3, bucket)
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    mtime = s3.head_object(Bucket=bucket, Key="k")["LastModified"]
    other = s3.put_object(Bucket=bucket, Key="other", Body=b"x")
    result = s3.delete_objects(
        Bucket=bucket,
        Delete={
            "Objects": [
                {"Key": "k", "ETag": "badetag"},
                {"Key": "other", "ETag": other["ETag"]},
            ]
        },
    )
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("k", "PreconditionFailed")]
    assert [(d["Key"], d["DeleteMarker"]) for d in result["Deleted"]] == [("other", True)]
    result = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "k", "LastModifiedTime": mtime, "Size": 4}]},
    )
    assert result["Deleted"][0]["DeleteMarker"] is True
    # a marker over data now: a condition fails for this key only
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "k", "Size": 4}, {"Key": "never"}]}
    )
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("k", "PreconditionFailed")]
    assert [d["Key"] for d in result["Deleted"]] == ["never"]
    assert put["VersionId"] in _versions(s3, bucket)[0]


@pytest.mark.parametrize(
    "condition",
    ["<Size>four</Size>", "<Size>-1</Size>", "<LastModifiedTime>soon</LastModifiedTime>"],
)
def test_delete_objects_refuses_malformed_conditions(s3: Any, bucket: str, condition: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"kept")
    body = f"<Delete><Object><Key>k</Key>{condition}</Object></Delete>".encode()
    with sending_body(s3, "DeleteObjects", body), pytest.raises(ClientError) as err:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})
    assert _code(err) == (400, "MalformedXML")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"kept"


def test_a_bucket_policy_can_require_conditional_deletes(s3: Any, bucket: str) -> None:
    # AWS's example: deny every delete that carries no If-Match (s3:if-match is null)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:DeleteObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"Null": {"s3:if-match": "true"}},
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    etags = {key: s3.put_object(Bucket=bucket, Key=key, Body=b"x")["ETag"] for key in "abc"}
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=bucket, Key="a")
    assert _code(err) == (403, "AccessDenied")
    s3.delete_object(Bucket=bucket, Key="a", IfMatch=etags["a"])
    result = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "b"}, {"Key": "c", "ETag": etags["c"]}]},
    )
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("b", "AccessDenied")]
    assert [d["Key"] for d in result["Deleted"]] == ["c"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["b"]
    s3.delete_bucket_policy(Bucket=bucket)
