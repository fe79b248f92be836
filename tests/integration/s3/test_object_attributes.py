"""GetObjectAttributes through real boto3."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
PART = 5 * 1024 * 1024


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_plain_object(s3: Any, bucket: str) -> None:
    data = b"attributes"
    put = s3.put_object(
        Bucket=bucket,
        Key="k",
        Body=data,
        ChecksumSHA256=base64.b64encode(hashlib.sha256(data).digest()).decode(),
    )
    got = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=ALL)
    assert got["ETag"] == put["ETag"].strip('"')
    assert got["ObjectSize"] == len(data)
    assert got["StorageClass"] == "STANDARD"
    assert got["Checksum"]["ChecksumSHA256"] == put["ChecksumSHA256"]
    assert "ObjectParts" not in got and "VersionId" not in got
    assert got["LastModified"] == s3.head_object(Bucket=bucket, Key="k")["LastModified"]
    only = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])
    assert only["ObjectSize"] == len(data) and "ETag" not in only


def test_multipart_parts_are_paged(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    sizes = [PART, PART, PART, 1234]
    done = []
    for number, size in enumerate(sizes, 1):
        part = s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number, Body=b"p" * size
        )
        done.append({"PartNumber": number, "ETag": part["ETag"]})
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": done}
    )
    got = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=ALL)
    parts = got["ObjectParts"]
    assert parts["TotalPartsCount"] == 4 and parts["IsTruncated"] is False
    assert [(p["PartNumber"], p["Size"]) for p in parts["Parts"]] == list(enumerate(sizes, 1))
    assert got["ObjectSize"] == sum(sizes)
    page = s3.get_object_attributes(
        Bucket=bucket, Key="mp", ObjectAttributes=ALL, MaxParts=2, PartNumberMarker=1
    )["ObjectParts"]
    assert [p["PartNumber"] for p in page["Parts"]] == [2, 3]
    assert (page["IsTruncated"], page["NextPartNumberMarker"]) == (True, 3)


def test_versions_and_delete_markers(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="v", Body=b"one")["VersionId"]
    s3.put_object(Bucket=bucket, Key="v", Body=b"second")
    got = s3.get_object_attributes(
        Bucket=bucket, Key="v", VersionId=first, ObjectAttributes=["ObjectSize"]
    )
    assert (got["VersionId"], got["ObjectSize"]) == (first, 3)
    s3.delete_object(Bucket=bucket, Key="v")
    with pytest.raises(ClientError) as exc:
        s3.get_object_attributes(Bucket=bucket, Key="v", ObjectAttributes=["ObjectSize"])
    assert code_of(exc) == "NoSuchKey"


def test_sse_c_object_needs_its_key(s3: Any, bucket: str) -> None:
    key = b"c" * 32
    sse = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}
    s3.put_object(Bucket=bucket, Key="c", Body=b"sealed", **sse)
    with pytest.raises(ClientError) as exc:
        s3.get_object_attributes(Bucket=bucket, Key="c", ObjectAttributes=["ObjectSize"])
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # boto3 does not encode the key of this operation itself
    encoded = {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": base64.b64encode(key).decode(),
        "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(key).digest()).decode(),
    }
    got = s3.get_object_attributes(
        Bucket=bucket, Key="c", ObjectAttributes=["ObjectSize"], **encoded
    )
    assert got["ObjectSize"] == 6


def test_bad_requests(s3: Any, s3_alt: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["Colour"])
    assert code_of(exc) == "InvalidArgument"
    with pytest.raises(ClientError) as exc:
        s3.get_object_attributes(Bucket=bucket, Key="missing", ObjectAttributes=["ETag"])
    assert code_of(exc) == "NoSuchKey"
    with pytest.raises(ClientError) as exc:
        s3_alt.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ETag"])
    assert code_of(exc) == "AccessDenied"


def test_parts_carry_their_checksums(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="sums", ChecksumAlgorithm="SHA256")
    bodies = [b"a" * PART, b"tail"]
    done, sums = [], []
    for number, body in enumerate(bodies, 1):
        part = s3.upload_part(
            Bucket=bucket,
            Key="sums",
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=body,
            ChecksumAlgorithm="SHA256",
        )
        sums.append(part["ChecksumSHA256"])
        done.append({"PartNumber": number, "ETag": part["ETag"], "ChecksumSHA256": sums[-1]})
    finished = s3.complete_multipart_upload(
        Bucket=bucket, Key="sums", UploadId=upload["UploadId"], MultipartUpload={"Parts": done}
    )
    got = s3.get_object_attributes(Bucket=bucket, Key="sums", ObjectAttributes=ALL)
    assert got["Checksum"]["ChecksumSHA256"] == finished["ChecksumSHA256"]
    assert [p["ChecksumSHA256"] for p in got["ObjectParts"]["Parts"]] == sums
    # the per-part record is not an algorithm: HEAD and listings show SHA256 alone
    head = s3.head_object(Bucket=bucket, Key="sums", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == finished["ChecksumSHA256"]
    assert not any(
        h.startswith("x-amz-checksum-parts") for h in head["ResponseMetadata"]["HTTPHeaders"]
    )
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert listed["ChecksumAlgorithm"] == ["SHA256"]


def test_part_get_answers_the_parts_checksum(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="pc", ChecksumAlgorithm="CRC32")
    bodies = [b"x" * PART, b"end"]
    done = []
    for number, body in enumerate(bodies, 1):
        part = s3.upload_part(
            Bucket=bucket,
            Key="pc",
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=body,
            ChecksumAlgorithm="CRC32",
        )
        done.append(
            {"PartNumber": number, "ETag": part["ETag"], "ChecksumCRC32": part["ChecksumCRC32"]}
        )
    s3.complete_multipart_upload(
        Bucket=bucket, Key="pc", UploadId=upload["UploadId"], MultipartUpload={"Parts": done}
    )
    second = s3.get_object(Bucket=bucket, Key="pc", PartNumber=2)
    assert second["Body"].read() == b"end"
    assert (second["ChecksumCRC32"], second["ChecksumType"]) == (
        done[1]["ChecksumCRC32"],
        "COMPOSITE",
    )
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="pc", PartNumber=3)
    assert code_of(exc) == "InvalidPart"


def test_uploads_list_each_initiator(
    s3: Any, s3_alt: Any, alt_user: dict[str, str], bucket: str
) -> None:
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    mine = s3.create_multipart_upload(Bucket=bucket, Key="a")["UploadId"]
    theirs = s3_alt.create_multipart_upload(Bucket=bucket, Key="b")["UploadId"]
    try:
        uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
        owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
        assert [(u["Key"], u["Owner"]["ID"], u["Initiator"]["ID"]) for u in uploads] == [
            ("a", owner, owner),
            ("b", alt_user["user"], alt_user["user"]),
        ]
    finally:
        s3.abort_multipart_upload(Bucket=bucket, Key="a", UploadId=mine)
        s3_alt.abort_multipart_upload(Bucket=bucket, Key="b", UploadId=theirs)
        s3.put_bucket_acl(Bucket=bucket, ACL="private")
