"""Versioning through boto3: version ids, delete markers, the null version, listings."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from lading.testing.server import RunningServer


def _enable(s3: Any, bucket: str, status: str = "Enabled") -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def test_the_seed_slides_sequence_works_unchanged(server: RunningServer, bucket: str) -> None:
    resource = boto3.resource(
        "s3",
        endpoint_url=server.url,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
    )
    b = resource.Bucket(bucket)
    b.Versioning().enable()
    b.put_object(Key="hello", Body=b"hello v1")
    b.put_object(Key="hello", Body=b"hello v2")
    versions = list(b.object_versions.filter(Prefix="hello"))
    assert len(versions) == 2
    bodies = sorted(v.get()["Body"].read() for v in versions)
    assert bodies == [b"hello v1", b"hello v2"]
    assert resource.BucketVersioning(bucket).status == "Enabled"


def test_versioning_status_round_trips_and_rejects_nonsense(s3: Any, bucket: str) -> None:
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    _enable(s3, bucket)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    _enable(s3, bucket, "Suspended")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    with pytest.raises(ClientError) as err:
        _enable(s3, bucket, "Sometimes")
    assert err.value.response["Error"]["Code"] == "MalformedXML"


def test_each_put_makes_a_version_readable_by_id(s3: Any, bucket: str) -> None:
    _enable(s3, bucket)
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    second = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert first != second and "null" not in (first, second)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    old = s3.get_object(Bucket=bucket, Key="k", VersionId=first)
    assert old["Body"].read() == b"one" and old["VersionId"] == first
    assert s3.head_object(Bucket=bucket, Key="k", VersionId=second)["ContentLength"] == 3
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="k", VersionId="0000nosuchversion")
    assert err.value.response["Error"]["Code"] == "NoSuchVersion"


def test_delete_without_version_stacks_a_marker_and_keeps_the_data(s3: Any, bucket: str) -> None:
    _enable(s3, bucket)
    kept = s3.put_object(Bucket=bucket, Key="k", Body=b"data")["VersionId"]
    gone = s3.delete_object(Bucket=bucket, Key="k")
    assert gone["DeleteMarker"] is True
    marker = gone["VersionId"]
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="k")
    assert err.value.response["Error"]["Code"] == "NoSuchKey"
    assert err.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    listing = s3.list_object_versions(Bucket=bucket)
    assert [m["VersionId"] for m in listing["DeleteMarkers"]] == [marker]
    assert listing["DeleteMarkers"][0]["IsLatest"] is True
    assert [v["VersionId"] for v in listing["Versions"]] == [kept]
    # a delete marker asked for by id is not an object
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket=bucket, Key="k", VersionId=marker)
    assert err.value.response["Error"]["Code"] == "405"
    # removing the marker brings the object back
    removed = s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert removed["DeleteMarker"] is True and removed["VersionId"] == marker
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"


def test_deleting_a_version_promotes_the_previous_one(s3: Any, bucket: str) -> None:
    _enable(s3, bucket)
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    second = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=second)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [(first, True)]


def test_suspended_writes_replace_the_null_version_only(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"before")  # the null version
    _enable(s3, bucket)
    versioned = s3.put_object(Bucket=bucket, Key="k", Body=b"versioned")["VersionId"]
    _enable(s3, bucket, "Suspended")
    s3.put_object(Bucket=bucket, Key="k", Body=b"after")
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in versions] == ["null", versioned]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"after"
    # a suspended delete turns the null version into a null delete marker
    gone = s3.delete_object(Bucket=bucket, Key="k")
    assert gone["VersionId"] == "null" and gone["DeleteMarker"] is True
    listing = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in listing["Versions"]] == [versioned]
    assert [m["VersionId"] for m in listing["DeleteMarkers"]] == ["null"]


def test_listing_versions_pages_with_key_and_version_markers(s3: Any, bucket: str) -> None:
    _enable(s3, bucket)
    written = []
    for key in ("a", "b"):
        for n in range(3):
            written.append(
                (key, s3.put_object(Bucket=bucket, Key=key, Body=b"%d" % n)["VersionId"])
            )
    seen = []
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}
    )
    for page in pages:
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
    expected = [(k, v) for k in ("a", "b") for kk, v in reversed(written) if kk == k]
    assert seen == expected


def test_delete_objects_removes_named_versions_and_adds_markers(s3: Any, bucket: str) -> None:
    _enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="x", Body=b"1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="y", Body=b"2")
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "x", "VersionId": v1}, {"Key": "y"}]}
    )
    by_key = {d["Key"]: d for d in result["Deleted"]}
    assert by_key["x"]["VersionId"] == v1
    assert by_key["y"]["DeleteMarker"] is True and by_key["y"]["DeleteMarkerVersionId"]
    listing = s3.list_object_versions(Bucket=bucket)
    assert [v["Key"] for v in listing["Versions"]] == ["y"]


def test_copy_from_an_old_version(s3: Any, bucket: str) -> None:
    _enable(s3, bucket)
    old = s3.put_object(Bucket=bucket, Key="src", Body=b"old")["VersionId"]
    s3.put_object(Bucket=bucket, Key="src", Body=b"new")
    copied = s3.copy_object(
        Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src", "VersionId": old}
    )
    assert copied["CopySourceVersionId"] == old and copied["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"old"


def test_multipart_completion_makes_a_version(s3: Any, bucket: str) -> None:
    _enable(s3, bucket)
    first = s3.put_object(Bucket=bucket, Key="mp", Body=b"small")["VersionId"]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"big")
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert done["VersionId"] not in (None, first)
    assert len(s3.list_object_versions(Bucket=bucket)["Versions"]) == 2


def test_a_versioned_bucket_with_versions_cannot_be_deleted(s3: Any, bucket: str) -> None:
    _enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as err:
        s3.delete_bucket(Bucket=bucket)
    assert err.value.response["Error"]["Code"] == "BucketNotEmpty"


@pytest.mark.parametrize("status", ["Enabled", "Suspended"])
def test_reads_of_a_key_under_a_delete_marker_say_so(s3: Any, bucket: str, status: str) -> None:
    _enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    _enable(s3, bucket, status)
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    for read in (s3.head_object, s3.get_object, s3.get_object_tagging):
        with pytest.raises(ClientError) as err:
            read(Bucket=bucket, Key="k")
        response = err.value.response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 404, read
        headers = response["ResponseMetadata"]["HTTPHeaders"]
        assert headers["x-amz-delete-marker"] == "true", read
        assert headers["x-amz-version-id"] == marker, read
    # a key that was never there, or is gone for good, is a plain 404: S3 sends the header
    # only when it is true
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket=bucket, Key="never")
    assert "x-amz-delete-marker" not in err.value.response["ResponseMetadata"]["HTTPHeaders"]
    plain = s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="plain", VersionId=plain.get("VersionId", "null"))
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket=bucket, Key="plain")
    assert "x-amz-delete-marker" not in err.value.response["ResponseMetadata"]["HTTPHeaders"]
