"""SSE-KMS (aws:kms under KMS keys named in the server's settings) through real boto3."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lading.testing.server import RunningServer, run_server
from tests.conftest import empty_bucket, make_client, new_bucket_name
from tests.integration.s3.test_encryption import (
    code_of,
    patterned,
    plaintext_blobs,
    sse_c,
    status_of,
)

KMS_KEYS = {name: base64.b64encode(os.urandom(32)).decode() for name in ("kms-a", "kms-b")}
SIZE = 200 * 1024 + 7


@pytest.fixture(scope="module")
def kms_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = run_server(
        tmp_path_factory.mktemp("kms") / "data", env={"LADING_KMS_KEYS": json.dumps(KMS_KEYS)}
    )
    yield running
    running.kill()


@pytest.fixture(scope="module")
def client(kms_server: RunningServer) -> Any:
    return make_client(kms_server.url, kms_server.access_key, kms_server.secret_key)


@pytest.fixture
def kbucket(client: Any) -> Iterator[str]:
    name = new_bucket_name()
    client.create_bucket(Bucket=name)
    yield name
    empty_bucket(client, name)


def kms(key_id: str) -> dict[str, str]:
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_id}


def with_headers(client: Any, operation: str, headers: dict[str, str]) -> Any:
    def add(request: Any, **_: Any) -> None:
        for name, value in headers.items():
            request.headers[name] = value

    client.meta.events.register_first(f"before-sign.s3.{operation}", add)
    return add


def test_round_trip_reports_the_key_and_stores_no_plaintext(
    kms_server: RunningServer, client: Any, kbucket: str
) -> None:
    data = patterned(SIZE)
    put = client.put_object(Bucket=kbucket, Key="k", Body=data, **kms("kms-a"))
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"]) == ("aws:kms", "kms-a")
    got = client.get_object(Bucket=kbucket, Key="k")
    assert got["Body"].read() == data
    assert (got["ServerSideEncryption"], got["SSEKMSKeyId"]) == ("aws:kms", "kms-a")
    head = client.head_object(Bucket=kbucket, Key="k")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", "kms-a")
    ranged = client.get_object(Bucket=kbucket, Key="k", Range="bytes=70000-140000")
    assert ranged["Body"].read() == data[70000:140001]
    assert plaintext_blobs(kms_server.data_dir) == []


def test_unknown_key_or_missing_key_id_is_invalid_argument(client: Any, kbucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        client.put_object(Bucket=kbucket, Key="k", Body=b"x", **kms("no-such-key"))
    assert (code_of(exc), status_of(exc)) == ("InvalidArgument", 400)
    assert "no-such-key" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        client.put_object(Bucket=kbucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms")
    assert (code_of(exc), status_of(exc)) == ("InvalidArgument", 400)
    assert "Contents" not in client.list_objects_v2(Bucket=kbucket)


def test_key_id_without_aws_kms_is_invalid_argument(client: Any, kbucket: str) -> None:
    hook = with_headers(
        client, "PutObject", {"x-amz-server-side-encryption-aws-kms-key-id": "kms-a"}
    )
    try:
        with pytest.raises(ClientError) as exc:
            client.put_object(Bucket=kbucket, Key="k", Body=b"x")
        assert (code_of(exc), status_of(exc)) == ("InvalidArgument", 400)
        with pytest.raises(ClientError) as exc:
            client.put_object(Bucket=kbucket, Key="k", Body=b"x", ServerSideEncryption="AES256")
        assert (code_of(exc), status_of(exc)) == ("InvalidArgument", 400)
    finally:
        client.meta.events.unregister("before-sign.s3.PutObject", hook)
    with pytest.raises(ClientError) as exc:
        client.put_object(
            Bucket=kbucket, Key="k", Body=b"x", **kms("kms-a"), **sse_c(os.urandom(32))
        )
    assert (code_of(exc), status_of(exc)) == ("InvalidArgument", 400)
    assert "Contents" not in client.list_objects_v2(Bucket=kbucket)


def test_get_naming_an_encryption_method_is_invalid_argument(client: Any, kbucket: str) -> None:
    client.put_object(Bucket=kbucket, Key="k", Body=b"x", **kms("kms-a"))
    hook = with_headers(
        client,
        "GetObject",
        {
            "x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id": "kms-a",
        },
    )
    try:
        with pytest.raises(ClientError) as exc:
            client.get_object(Bucket=kbucket, Key="k")
    finally:
        client.meta.events.unregister("before-sign.s3.GetObject", hook)
    assert (code_of(exc), status_of(exc)) == ("InvalidArgument", 400)
    assert client.get_object(Bucket=kbucket, Key="k")["Body"].read() == b"x"


def test_bucket_default_kms_key(client: Any, kbucket: str) -> None:
    rule = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "kms-b"}
    client.put_bucket_encryption(
        Bucket=kbucket,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": rule}]},
    )
    got = client.get_bucket_encryption(Bucket=kbucket)["ServerSideEncryptionConfiguration"]
    assert got["Rules"][0]["ApplyServerSideEncryptionByDefault"] == rule
    put = client.put_object(Bucket=kbucket, Key="plain", Body=b"default")
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"]) == ("aws:kms", "kms-b")
    # aws:kms without a key id takes the bucket's default key; an explicit method wins
    put = client.put_object(Bucket=kbucket, Key="no-id", Body=b"x", ServerSideEncryption="aws:kms")
    assert put["SSEKMSKeyId"] == "kms-b"
    put = client.put_object(Bucket=kbucket, Key="s3", Body=b"x", ServerSideEncryption="AES256")
    assert put["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in put
    assert client.get_object(Bucket=kbucket, Key="plain")["Body"].read() == b"default"


def test_bucket_default_kms_needs_a_key_id(client: Any, kbucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        client.put_bucket_encryption(
            Bucket=kbucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
            },
        )
    assert (code_of(exc), status_of(exc)) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as exc:
        client.get_bucket_encryption(Bucket=kbucket)
    assert code_of(exc) == "ServerSideEncryptionConfigurationNotFoundError"


def test_multipart_under_a_kms_key(client: Any, kbucket: str) -> None:
    create = client.create_multipart_upload(Bucket=kbucket, Key="mp", **kms("kms-a"))
    assert (create["ServerSideEncryption"], create["SSEKMSKeyId"]) == ("aws:kms", "kms-a")
    parts = [patterned(5 * 1024 * 1024), b"tail"]
    done = []
    for number, body in enumerate(parts, 1):
        part = client.upload_part(
            Bucket=kbucket, Key="mp", UploadId=create["UploadId"], PartNumber=number, Body=body
        )
        assert part["SSEKMSKeyId"] == "kms-a"
        done.append({"PartNumber": number, "ETag": part["ETag"]})
    finished = client.complete_multipart_upload(
        Bucket=kbucket, Key="mp", UploadId=create["UploadId"], MultipartUpload={"Parts": done}
    )
    assert finished["SSEKMSKeyId"] == "kms-a"
    got = client.get_object(Bucket=kbucket, Key="mp")
    assert got["Body"].read() == b"".join(parts)
    assert got["SSEKMSKeyId"] == "kms-a"
    with pytest.raises(ClientError) as exc:
        client.create_multipart_upload(Bucket=kbucket, Key="mp2", **kms("nope"))
    assert code_of(exc) == "InvalidArgument"
    assert client.list_multipart_uploads(Bucket=kbucket).get("Uploads", []) == []


def test_copy_into_and_out_of_kms(client: Any, kbucket: str) -> None:
    client.put_object(Bucket=kbucket, Key="src", Body=b"payload", **kms("kms-a"))
    copied = client.copy_object(
        Bucket=kbucket, Key="b", CopySource={"Bucket": kbucket, "Key": "src"}, **kms("kms-b")
    )
    assert copied["SSEKMSKeyId"] == "kms-b"
    got = client.get_object(Bucket=kbucket, Key="b")
    assert (got["Body"].read(), got["SSEKMSKeyId"]) == (b"payload", "kms-b")
    client.copy_object(Bucket=kbucket, Key="plain", CopySource={"Bucket": kbucket, "Key": "src"})
    got = client.get_object(Bucket=kbucket, Key="plain")
    assert got["Body"].read() == b"payload" and "ServerSideEncryption" not in got


def test_objects_stay_sealed_to_their_kms_key(tmp_path: Any) -> None:
    """Without the KMS key in the settings, its objects no longer open; others still do."""
    keys = {"kms-a": base64.b64encode(os.urandom(32)).decode()}
    running = run_server(tmp_path / "data", env={"LADING_KMS_KEYS": json.dumps(keys)})
    try:
        c = make_client(running.url, running.access_key, running.secret_key)
        name = new_bucket_name()
        c.create_bucket(Bucket=name)
        c.put_object(Bucket=name, Key="sealed", Body=b"secret", **kms("kms-a"))
        c.put_object(Bucket=name, Key="s3", Body=b"open", ServerSideEncryption="AES256")
        keys["kms-a"] = base64.b64encode(os.urandom(32)).decode()  # same id, other key
        running.env["LADING_KMS_KEYS"] = json.dumps(keys)
        running.restart()
        with pytest.raises(ClientError) as exc:
            c.get_object(Bucket=name, Key="sealed")
        assert status_of(exc) == 500
        assert c.get_object(Bucket=name, Key="s3")["Body"].read() == b"open"
        c.delete_object(Bucket=name, Key="sealed")
        c.delete_object(Bucket=name, Key="s3")
        c.delete_bucket(Bucket=name)
    finally:
        running.kill()
