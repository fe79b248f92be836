"""Multipart uploads through boto3's managed transfer and the low-level calls."""

from __future__ import annotations

import hashlib
import io
import os
import urllib.request
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from tests.conftest import sending_body

MIB = 1024 * 1024


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_managed_transfer_of_40_mib(s3_any: Any, bucket: str) -> None:
    data = os.urandom(40 * MIB)
    config = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB)
    s3_any.upload_fileobj(io.BytesIO(data), bucket, "big.bin", Config=config)
    head = s3_any.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == len(data)
    parts = [hashlib.md5(data[i : i + 8 * MIB]).digest() for i in range(0, len(data), 8 * MIB)]
    assert head["ETag"] == f'"{hashlib.md5(b"".join(parts)).hexdigest()}-5"'
    out = io.BytesIO()
    s3_any.download_fileobj(bucket, "big.bin", out, Config=config)
    assert hashlib.sha256(out.getvalue()).digest() == hashlib.sha256(data).digest()
    part = s3_any.get_object(Bucket=bucket, Key="big.bin", PartNumber=2)
    assert part["Body"].read() == data[8 * MIB : 16 * MIB]
    assert part["PartsCount"] == 5


def test_completion_stores_a_manifest_not_a_copy(server: Any, s3: Any, bucket: str) -> None:
    def blob_bytes() -> int:
        return sum(p.stat().st_size for p in (server.data_dir / "blobs").rglob("*") if p.is_file())

    before = blob_bytes()
    upload = s3.create_multipart_upload(Bucket=bucket, Key="m")
    parts = []
    for number in (1, 2):
        etag = s3.upload_part(
            Bucket=bucket,
            Key="m",
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=b"p" * (5 * MIB),
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(
        Bucket=bucket, Key="m", UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    assert blob_bytes() - before == 10 * MIB


def _upload_two_parts(s3: Any, bucket: str, first: int = 5 * MIB) -> tuple[str, list[Any]]:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    parts = []
    for number, size in ((1, first), (2, 1000)):
        etag = s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=number, Body=b"x" * size
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    return upload_id, parts


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda parts: list(reversed(parts)), "InvalidPartOrder"),
        (lambda parts: [parts[0], {**parts[1], "ETag": '"0000"'}], "InvalidPart"),
        (lambda parts: [parts[0], {**parts[1], "PartNumber": 7}], "InvalidPart"),
    ],
    ids=["out-of-order", "wrong-etag", "missing-part"],
)
def test_complete_rejects_bad_part_lists(s3: Any, bucket: str, mutate: Any, code: str) -> None:
    upload_id, parts = _upload_two_parts(s3, bucket)
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": mutate(parts)}
        )
    assert code_of(exc) == code
    # the upload is intact and can still be completed correctly
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    assert s3.head_object(Bucket=bucket, Key="mp")["ContentLength"] == 5 * MIB + 1000


def test_complete_rejects_small_parts_but_the_last(s3: Any, bucket: str) -> None:
    upload_id, parts = _upload_two_parts(s3, bucket, first=1000)
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    assert code_of(exc) == "EntityTooSmall"


def test_complete_rejects_malformed_xml(server: Any, s3: Any, bucket: str) -> None:
    upload_id, _ = _upload_two_parts(s3, bucket)

    with (
        sending_body(s3, "CompleteMultipartUpload", b"<CompleteMultipartUpload><Part>"),
        pytest.raises(ClientError) as exc,
    ):
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="mp",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": "x"}]},
        )
    assert code_of(exc) == "MalformedXML"
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id)


def test_abort_removes_the_upload(s3: Any, bucket: str) -> None:
    upload_id, _ = _upload_two_parts(s3, bucket)
    listed = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in listed] == [("mp", upload_id)]
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)
    assert code_of(exc) == "NoSuchUpload"


def test_list_parts_pages(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="lp")["UploadId"]
    for number in range(1, 6):
        s3.upload_part(Bucket=bucket, Key="lp", UploadId=upload_id, PartNumber=number, Body=b"x")
    seen = []
    for page in s3.get_paginator("list_parts").paginate(
        Bucket=bucket, Key="lp", UploadId=upload_id, PaginationConfig={"PageSize": 2}
    ):
        seen += [p["PartNumber"] for p in page["Parts"]]
    assert seen == [1, 2, 3, 4, 5]
    s3.abort_multipart_upload(Bucket=bucket, Key="lp", UploadId=upload_id)


def test_upload_part_copy_with_ranges(s3: Any, bucket: str) -> None:
    source = os.urandom(6 * MIB)
    s3.put_object(Bucket=bucket, Key="src", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    ranges = [(0, 5 * MIB - 1), (5 * MIB, 6 * MIB - 1)]
    parts = []
    for number, (start, end) in enumerate(ranges, start=1):
        result = s3.upload_part_copy(
            Bucket=bucket,
            Key="dst",
            UploadId=upload_id,
            PartNumber=number,
            CopySource={"Bucket": bucket, "Key": "src"},
            CopySourceRange=f"bytes={start}-{end}",
        )
        parts.append({"PartNumber": number, "ETag": result["CopyPartResult"]["ETag"]})
    s3.complete_multipart_upload(
        Bucket=bucket, Key="dst", UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == source


def test_upload_part_copy_range_past_the_source(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"tiny")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    with pytest.raises(ClientError) as exc:
        s3.upload_part_copy(
            Bucket=bucket,
            Key="dst",
            UploadId=upload_id,
            PartNumber=1,
            CopySource={"Bucket": bucket, "Key": "src"},
            CopySourceRange="bytes=0-100",
        )
    assert code_of(exc) == "InvalidRange"
    s3.abort_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload_id)


@pytest.mark.parametrize(
    ("algorithm", "kind"),
    [("CRC32", "COMPOSITE"), ("CRC64NVME", "FULL_OBJECT"), ("SHA256", "COMPOSITE")],
)
def test_multipart_checksums(s3: Any, bucket: str, algorithm: str, kind: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="ck", ChecksumAlgorithm=algorithm)
    upload_id = upload["UploadId"]
    parts = []
    for number, body in ((1, b"a" * (5 * MIB)), (2, b"b" * 10)):
        result = s3.upload_part(
            Bucket=bucket,
            Key="ck",
            UploadId=upload_id,
            PartNumber=number,
            Body=body,
            ChecksumAlgorithm=algorithm,
        )
        parts.append(
            {
                "PartNumber": number,
                "ETag": result["ETag"],
                f"Checksum{algorithm}": result[f"Checksum{algorithm}"],
            }
        )
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="ck", UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    value = done[f"Checksum{algorithm}"]
    assert value.endswith("-2") == (kind == "COMPOSITE")
    head = s3.head_object(Bucket=bucket, Key="ck", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == value
    assert head["ChecksumType"] == kind


def test_full_object_crc_matches_the_crc_of_the_whole(s3: Any, bucket: str) -> None:
    import base64

    from awscrt import checksums as crt

    data = os.urandom(5 * MIB + 77)
    s3.upload_fileobj(
        io.BytesIO(data),
        bucket,
        "full",
        ExtraArgs={"ChecksumAlgorithm": "CRC64NVME"},
        Config=TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB),
    )
    head = s3.head_object(Bucket=bucket, Key="full", ChecksumMode="ENABLED")
    expected = base64.b64encode(crt.crc64nvme(data).to_bytes(8, "big")).decode()
    assert head["ChecksumCRC64NVME"] == expected


def test_conditional_complete_refuses_to_overwrite(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="mp", Body=b"existing")
    upload_id, parts = _upload_two_parts(s3, bucket)
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="mp",
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
            IfNoneMatch="*",
        )
    assert code_of(exc) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"existing"


def _three_parts(s3: Any, bucket: str, key: str) -> bytes:
    """A 13 MiB object of parts 5, 5 and 3 MiB with distinct random bytes; returns them."""
    data = os.urandom(13 * MIB)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = []
    for number, (start, stop) in enumerate(((0, 5), (5, 10), (10, 13)), start=1):
        body = data[start * MIB : stop * MIB]
        etag = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    return data


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (0, 13 * MIB - 1),  # every piece of every part, read ahead while sent
        (MIB - 7, 11 * MIB + 3),  # starts and ends inside pieces, crosses both part edges
        (5 * MIB - 1, 5 * MIB),  # one byte on each side of an edge
        (12 * MIB + 5, 13 * MIB - 1),  # the tail of the last part only
    ],
)
def test_ranges_across_parts(s3: Any, bucket: str, first: int, last: int) -> None:
    data = _three_parts(s3, bucket, "three")
    got = s3.get_object(Bucket=bucket, Key="three", Range=f"bytes={first}-{last}")
    assert got["ContentRange"] == f"bytes {first}-{last}/{13 * MIB}"
    assert got["Body"].read() == data[first : last + 1]


def test_a_client_leaving_mid_get_leaves_the_server_serving(
    server: Any, s3: Any, bucket: str
) -> None:
    data = _three_parts(s3, bucket, "left")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "left"})
    for _ in range(5):  # more abandoned reads than the server reads ahead
        with urllib.request.urlopen(url) as response:
            assert response.read(100_000) == data[:100_000]
    assert s3.get_object(Bucket=bucket, Key="left")["Body"].read() == data
