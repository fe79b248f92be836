"""Object operations through real boto3, with and without default checksums."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import zlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import INLINE_LIMIT, sending_body, stored_blobs


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def status_of(exc: pytest.ExceptionInfo[ClientError]) -> int:
    return int(exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


@pytest.mark.parametrize(
    "key",
    [
        "plain.txt",
        "../escape",
        "a//b",
        "dir/sub dir/file with spaces",
        "unicode-ü-日本-🦀",
        "x" * 1024,
        "question?hash#percent%plus+",
        "trailing/",
    ],
)
def test_put_get_roundtrip_keeps_bytes_for_any_key(s3_any: Any, bucket: str, key: str) -> None:
    body = os.urandom(3000)
    s3_any.put_object(Bucket=bucket, Key=key, Body=body)
    assert s3_any.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    listed = s3_any.list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in listed] == [key]


def test_keys_are_stored_apart_from_the_data_directory_layout(
    server: Any, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="../../../../etc/lading-escape", Body=b"x")
    assert not os.path.exists("/etc/lading-escape")
    names = {p.name for p in server.data_dir.rglob("*")}
    assert "lading-escape" not in names


def test_key_longer_than_1024_bytes_is_refused(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="é" * 513, Body=b"x")
    assert code_of(exc) == "KeyTooLongError"


def test_metadata_and_standard_headers_come_back(s3: Any, bucket: str) -> None:
    s3.put_object(
        Bucket=bucket,
        Key="m",
        Body=b"meta",
        ContentType="image/tiff",
        Metadata={"fairease.catalog.mediatype": "COG", "experiment": "exp1"},
        CacheControl="max-age=60",
        ContentDisposition='attachment; filename="m.tif"',
        ContentLanguage="fr",
    )
    head = s3.head_object(Bucket=bucket, Key="m")
    assert head["ContentType"] == "image/tiff"
    assert head["Metadata"] == {"fairease.catalog.mediatype": "COG", "experiment": "exp1"}
    assert head["CacheControl"] == "max-age=60"
    assert head["ContentDisposition"] == 'attachment; filename="m.tif"'
    assert head["ContentLanguage"] == "fr"
    assert head["ContentLength"] == 4
    assert head["ETag"] == '"' + hashlib.md5(b"meta").hexdigest() + '"'


def test_metadata_over_2kb_is_refused_and_nothing_stored(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"new", Metadata={"big": "v" * 2100})
    assert code_of(exc) == "MetadataTooLarge"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"old"


def test_get_missing_key_says_no_such_key(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="missing")
    assert code_of(exc) == "NoSuchKey"


def test_delete_is_idempotent(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for _ in range(2):
        assert s3.delete_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


@pytest.mark.parametrize(
    ("size", "kind"), [(3, "inline"), (INLINE_LIMIT, "inline"), (INLINE_LIMIT + 1, "file")]
)
def test_overwrite_replaces_bytes_and_frees_the_old_blob(
    server: Any, s3: Any, bucket: str, size: int, kind: str
) -> None:
    one, two = b"1" * size, b"2" * size
    before = stored_blobs(server.data_dir)
    s3.put_object(Bucket=bucket, Key="k", Body=one)
    files, inline = stored_blobs(server.data_dir)
    # bodies up to the inline limit live in the database with their row, others in a file
    assert (files - before[0], inline - before[1]) == ((0, 1) if kind == "inline" else (1, 0))
    s3.put_object(Bucket=bucket, Key="k", Body=two)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == two
    assert stored_blobs(server.data_dir) == (files, inline)
    s3.delete_object(Bucket=bucket, Key="k")
    assert stored_blobs(server.data_dir) == before


BODY = bytes(range(256)) * 4  # 1,024 bytes


@pytest.mark.parametrize(
    ("header", "expected", "content_range"),
    [
        ("bytes=0-9", BODY[0:10], "bytes 0-9/1024"),
        ("bytes=1000-", BODY[1000:], "bytes 1000-1023/1024"),
        ("bytes=-24", BODY[-24:], "bytes 1000-1023/1024"),
        ("bytes=1000-5000", BODY[1000:], "bytes 1000-1023/1024"),
        ("bytes=-5000", BODY, "bytes 0-1023/1024"),
    ],
)
def test_range_get_returns_the_requested_bytes(
    s3: Any, bucket: str, header: str, expected: bytes, content_range: str
) -> None:
    s3.put_object(Bucket=bucket, Key="r", Body=BODY)
    got = s3.get_object(Bucket=bucket, Key="r", Range=header)
    assert got["Body"].read() == expected
    assert got["ContentRange"] == content_range
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206


@pytest.mark.parametrize("header", ["bytes=1024-", "bytes=5000-6000"])
def test_range_past_the_end_is_invalid_range(s3: Any, bucket: str, header: str) -> None:
    s3.put_object(Bucket=bucket, Key="r", Body=BODY)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="r", Range=header)
    assert code_of(exc) == "InvalidRange"
    assert status_of(exc) == 416


def test_range_on_empty_object_is_invalid_range(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert s3.get_object(Bucket=bucket, Key="empty")["Body"].read() == b""
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="empty", Range="bytes=0-0")
    assert code_of(exc) == "InvalidRange"


def test_response_header_overrides(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="o", Body=b"x", ContentType="text/plain")
    got = s3.get_object(
        Bucket=bucket,
        Key="o",
        ResponseContentType="application/json",
        ResponseContentDisposition="attachment",
        ResponseCacheControl="no-cache",
    )
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == "attachment"
    assert got["CacheControl"] == "no-cache"


def _conditional(s3: Any, bucket: str, **kwargs: Any) -> int:
    try:
        return int(
            s3.get_object(Bucket=bucket, Key="c", **kwargs)["ResponseMetadata"]["HTTPStatusCode"]
        )
    except ClientError as exc:
        return int(exc.response["ResponseMetadata"]["HTTPStatusCode"])


def test_conditional_get_follows_s3_precedence(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"cond")["ETag"]
    past = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    cases = [
        ({"IfMatch": etag}, 200),
        ({"IfMatch": '"nope"'}, 412),
        ({"IfNoneMatch": etag}, 304),
        ({"IfNoneMatch": '"nope"'}, 200),
        ({"IfModifiedSince": past}, 200),
        ({"IfModifiedSince": future}, 304),
        ({"IfUnmodifiedSince": past}, 412),
        ({"IfUnmodifiedSince": future}, 200),
        # If-Match true wins over If-Unmodified-Since false
        ({"IfMatch": etag, "IfUnmodifiedSince": past}, 200),
        # If-None-Match false wins over If-Modified-Since true
        ({"IfNoneMatch": etag, "IfModifiedSince": past}, 304),
    ]
    got = [(kwargs, _conditional(s3, bucket, **kwargs)) for kwargs, _ in cases]
    assert got == cases


def test_conditional_put_if_none_match_refuses_overwrite(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
    assert code_of(exc) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"first"


def test_conditional_put_if_match(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfMatch=etag)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"v3", IfMatch=etag)
    assert code_of(exc) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"


def test_bad_content_md5_is_refused_and_old_object_kept(s3_when_required: Any, bucket: str) -> None:
    s3 = s3_when_required
    s3.put_object(Bucket=bucket, Key="k", Body=b"original")
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"replacement", ContentMD5=wrong)
    assert code_of(exc) == "BadDigest"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"replacement", ContentMD5="not-base64!")
    assert code_of(exc) == "InvalidDigest"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"original"


def test_checksum_header_mismatch_is_refused_and_old_object_kept(
    s3_when_required: Any, bucket: str
) -> None:
    s3 = s3_when_required
    s3.put_object(Bucket=bucket, Key="k", Body=b"original")
    wrong = base64.b64encode(zlib.crc32(b"other").to_bytes(4, "big")).decode()
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"replacement", ChecksumCRC32=wrong)
    assert code_of(exc) == "BadDigest"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"original"


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_additional_checksums_are_stored_and_returned(s3: Any, bucket: str, algorithm: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"checksummed", ChecksumAlgorithm=algorithm)
    sent = put[f"Checksum{algorithm}"]
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == sent
    got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"checksummed"  # boto3 validates the checksum on read
    if algorithm == "SHA256":
        assert sent == base64.b64encode(hashlib.sha256(b"checksummed").digest()).decode()


def test_delete_objects_batch_and_quiet(s3_any: Any, bucket: str) -> None:
    for i in range(5):
        s3_any.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x")
    result = s3_any.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "k0"}, {"Key": "k1"}, {"Key": "nope"}]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == ["k0", "k1", "nope"]
    quiet = s3_any.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k2"}], "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet
    assert [o["Key"] for o in s3_any.list_objects_v2(Bucket=bucket)["Contents"]] == ["k3", "k4"]


def test_copy_object_keeps_or_replaces_metadata(s3: Any, bucket: str) -> None:
    s3.put_object(
        Bucket=bucket, Key="src", Body=b"copy me", Metadata={"a": "1"}, ContentType="text/plain"
    )
    s3.copy_object(Bucket=bucket, Key="same", CopySource={"Bucket": bucket, "Key": "src"})
    head = s3.head_object(Bucket=bucket, Key="same")
    assert head["Metadata"] == {"a": "1"} and head["ContentType"] == "text/plain"
    s3.copy_object(
        Bucket=bucket,
        Key="replaced",
        CopySource={"Bucket": bucket, "Key": "src"},
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
        ContentType="application/x-test",
    )
    head = s3.head_object(Bucket=bucket, Key="replaced")
    assert head["Metadata"] == {"b": "2"} and head["ContentType"] == "application/x-test"
    assert s3.get_object(Bucket=bucket, Key="replaced")["Body"].read() == b"copy me"


def test_copy_onto_itself_needs_replace(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="self", Body=b"x", Metadata={"v": "1"})
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"})
    assert code_of(exc) == "InvalidRequest"
    s3.copy_object(
        Bucket=bucket,
        Key="self",
        CopySource={"Bucket": bucket, "Key": "self"},
        MetadataDirective="REPLACE",
        Metadata={"v": "2"},
    )
    assert s3.head_object(Bucket=bucket, Key="self")["Metadata"] == {"v": "2"}


def test_copy_source_conditions(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="src", Body=b"x")["ETag"]
    source = {"Bucket": bucket, "Key": "src"}
    s3.copy_object(Bucket=bucket, Key="ok", CopySource=source, CopySourceIfMatch=etag)
    for kwargs in ({"CopySourceIfMatch": '"other"'}, {"CopySourceIfNoneMatch": etag}):
        with pytest.raises(ClientError) as exc:
            s3.copy_object(Bucket=bucket, Key="no", CopySource=source, **kwargs)
        assert code_of(exc) == "PreconditionFailed"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["ok", "src"]


def test_copy_from_a_bucket_of_another_user_is_denied(s3: Any, s3_alt: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="secret", Body=b"x")
    alt_bucket = f"alt-{bucket}"
    s3_alt.create_bucket(Bucket=alt_bucket)
    try:
        with pytest.raises(ClientError) as exc:
            s3_alt.copy_object(
                Bucket=alt_bucket, Key="stolen", CopySource={"Bucket": bucket, "Key": "secret"}
            )
        assert code_of(exc) == "AccessDenied"
    finally:
        s3_alt.delete_bucket(Bucket=alt_bucket)


@pytest.mark.parametrize(
    "body",
    [
        b"<Delete><Object><Key>k</Key></Object>",  # not well-formed
        b"<Delete><Quiet>true</Quiet></Delete>",  # no objects
        b"<Remove><Object><Key>k</Key></Object></Remove>",  # wrong root
        b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>",  # over 1,000
    ],
    ids=["unclosed", "empty", "wrong-root", "too-many"],
)
def test_delete_objects_refuses_malformed_xml_and_deletes_nothing(
    s3: Any, bucket: str, body: bytes
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"kept")

    with sending_body(s3, "DeleteObjects", body), pytest.raises(ClientError) as exc:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})
    assert code_of(exc) == "MalformedXML"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"kept"


@pytest.mark.parametrize(
    ("content_md5", "code"),
    [
        (base64.b64encode(hashlib.md5(b"something else").digest()).decode(), "BadDigest"),
        (base64.b64encode(b"short").decode(), "InvalidDigest"),
    ],
)
def test_delete_objects_checks_content_md5_and_deletes_nothing(
    s3: Any, bucket: str, content_md5: str, code: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"kept")

    def set_md5(request: Any, **_: Any) -> None:
        for name in [
            h for h in request.headers if h.lower().startswith(("content-md5", "x-amz-checksum"))
        ]:
            del request.headers[name]
        request.headers["Content-MD5"] = content_md5

    s3.meta.events.register("before-sign.s3.DeleteObjects", set_md5)
    try:
        with pytest.raises(ClientError) as exc:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})
    finally:
        s3.meta.events.unregister("before-sign.s3.DeleteObjects", set_md5)
    assert code_of(exc) == code
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"kept"
