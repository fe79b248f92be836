"""POST Object: browser uploads signed by a policy document, against the real server."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from lading.testing.server import RunningServer
from tests.conftest import BASE_DOMAIN, make_client


@pytest.fixture(scope="module")
def s3v4(server: RunningServer) -> Any:
    """boto3 signing presigned posts with SigV4 (the default client signs them with SigV2)."""
    return make_client(server.url, server.access_key, server.secret_key, signature_version="s3v4")


@pytest.fixture(params=["sigv2", "sigv4"])
def signer(request: pytest.FixtureRequest, s3: Any, s3v4: Any) -> Any:
    """A client whose generate_presigned_post signs with SigV2, then one with SigV4."""
    return s3 if request.param == "sigv2" else s3v4


def _post(url: str, fields: dict[str, str], content: bytes, filename: str = "a.txt") -> Any:
    return httpx.post(url, data=fields, files={"file": (filename, content)}, timeout=30)


def _code(response: Any) -> str:
    return str(ET.fromstring(response.content).findtext("Code"))


def _message(response: Any) -> str:
    return str(ET.fromstring(response.content).findtext("Message"))


def test_upload_with_boto3_presigned_post(s3: Any, signer: Any, bucket: str) -> None:
    post = signer.generate_presigned_post(
        bucket,
        "docs/${filename}",
        Fields={"Content-Type": "text/plain", "x-amz-meta-owner": "ann"},
        Conditions=[
            ["starts-with", "$key", "docs/"],
            {"Content-Type": "text/plain"},
            {"x-amz-meta-owner": "ann"},
            ["content-length-range", 1, 1024],
        ],
        ExpiresIn=300,
    )
    response = _post(post["url"], post["fields"], b"hello", filename="note.txt")
    assert response.status_code == 204, response.text
    head = s3.head_object(Bucket=bucket, Key="docs/note.txt")
    assert head["ContentType"] == "text/plain"
    assert head["Metadata"] == {"owner": "ann"}
    assert response.headers["etag"] == head["ETag"]
    body = s3.get_object(Bucket=bucket, Key="docs/note.txt")["Body"].read()
    assert body == b"hello"


def test_success_status_201_answers_post_response(s3: Any, bucket: str) -> None:
    post = s3.generate_presigned_post(
        bucket,
        "k.bin",
        Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}],
    )
    response = _post(post["url"], post["fields"], b"x" * 3000)
    assert response.status_code == 201, response.text
    document = ET.fromstring(response.content)
    assert document.tag == "PostResponse"
    assert document.findtext("Bucket") == bucket
    assert document.findtext("Key") == "k.bin"
    etag = s3.head_object(Bucket=bucket, Key="k.bin")["ETag"]
    assert document.findtext("ETag") == etag
    assert str(document.findtext("Location")).endswith(f"/{bucket}/k.bin")


def test_success_action_redirect(s3: Any, bucket: str) -> None:
    target = "http://example.invalid/done"
    post = s3.generate_presigned_post(
        bucket,
        "r.txt",
        Fields={"success_action_redirect": target},
        Conditions=[{"success_action_redirect": target}],
    )
    response = _post(post["url"], post["fields"], b"data")
    assert response.status_code == 303, response.text
    etag = s3.head_object(Bucket=bucket, Key="r.txt")["ETag"].strip('"')
    assert response.headers["location"] == (f"{target}?bucket={bucket}&key=r.txt&etag=%22{etag}%22")


def test_content_length_range_is_enforced(s3: Any, bucket: str) -> None:
    post = s3.generate_presigned_post(bucket, "small", Conditions=[["content-length-range", 2, 4]])
    too_big = _post(post["url"], post["fields"], b"12345")
    assert too_big.status_code == 400
    assert _code(too_big) == "EntityTooLarge"
    too_small = _post(post["url"], post["fields"], b"1")
    assert too_small.status_code == 400
    assert _code(too_small) == "EntityTooSmall"
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_tampered_signature_is_refused(signer: Any, bucket: str) -> None:
    post = signer.generate_presigned_post(bucket, "t")
    fields = dict(post["fields"])
    name = "x-amz-signature" if "x-amz-signature" in fields else "signature"
    signature = fields[name]
    # a digit, so the change survives the server's case-insensitive hex comparison
    fields[name] = ("0" if signature[0] != "0" else "1") + signature[1:]
    response = _post(post["url"], fields, b"x")
    assert response.status_code == 403
    assert _code(response) == "SignatureDoesNotMatch"


def test_expired_policy_is_refused(signer: Any, bucket: str) -> None:
    post = signer.generate_presigned_post(bucket, "e", ExpiresIn=-60)
    response = _post(post["url"], post["fields"], b"x")
    assert response.status_code == 403
    assert _code(response) == "AccessDenied"
    assert "Policy expired" in _message(response)


def test_a_field_outside_the_policy_is_refused(signer: Any, bucket: str) -> None:
    post = signer.generate_presigned_post(bucket, "f")
    fields = {**post["fields"], "x-amz-meta-sneaky": "1"}
    response = _post(post["url"], fields, b"x")
    assert response.status_code == 403
    assert "Extra input fields: x-amz-meta-sneaky" in _message(response)
    ignored = {**post["fields"], "x-ignore-me": "1"}
    assert _post(post["url"], ignored, b"x").status_code == 204


def test_a_condition_not_met_is_refused(s3: Any, bucket: str) -> None:
    post = s3.generate_presigned_post(bucket, "user/${filename}")
    fields = {**post["fields"], "key": "other/x"}
    response = _post(post["url"], fields, b"x")
    assert response.status_code == 403
    assert "Policy Condition failed" in _message(response)


def test_missing_key_and_malformed_policy(s3: Any, bucket: str) -> None:
    post = s3.generate_presigned_post(bucket, "k")
    fields = {k: v for k, v in post["fields"].items() if k != "key"}
    response = _post(post["url"], fields, b"x")
    assert response.status_code == 400
    assert "field named 'key'" in _message(response)
    broken = {**post["fields"], "policy": "bm90IGpzb24="}
    response = _post(post["url"], broken, b"x")
    assert response.status_code == 400
    assert _code(response) == "InvalidPolicyDocument"
    no_file = httpx.post(post["url"], data=post["fields"], files={"other": ("a", b"x")})
    assert no_file.status_code == 400


def test_sigv2_form(server: RunningServer, bucket: str, s3: Any) -> None:
    expiration = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = {
        "expiration": expiration,
        "conditions": [{"bucket": bucket}, ["starts-with", "$key", "v2/"], {"acl": "private"}],
    }
    encoded = base64.b64encode(json.dumps(document).encode()).decode()
    digest = hmac.new(server.secret_key.encode(), encoded.encode(), hashlib.sha1).digest()
    fields = {
        "key": "v2/a",
        "AWSAccessKeyId": server.access_key,
        "acl": "private",
        "policy": encoded,
        "signature": base64.b64encode(digest).decode(),
    }
    response = _post(f"{server.url}/{bucket}", fields, b"v2 body")
    assert response.status_code == 204, response.text
    assert s3.get_object(Bucket=bucket, Key="v2/a")["Body"].read() == b"v2 body"


def test_anonymous_post(server: RunningServer, s3: Any, bucket: str) -> None:
    url = f"{server.url}/{bucket}"
    refused = _post(url, {"key": "anon"}, b"x")
    assert refused.status_code == 403
    assert _code(refused) == "AccessDenied"
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    tagging = "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>"
    allowed = _post(url, {"key": "anon", "tagging": tagging, "Content-Type": "a/b"}, b"open")
    assert allowed.status_code == 204, allowed.text
    assert s3.get_object(Bucket=bucket, Key="anon")["Body"].read() == b"open"
    tags = s3.get_object_tagging(Bucket=bucket, Key="anon")["TagSet"]
    assert tags == [{"Key": "k", "Value": "v"}]


def test_not_a_form_is_refused(server: RunningServer, bucket: str) -> None:
    response = httpx.post(f"{server.url}/{bucket}", content=b"key=x")
    assert response.status_code == 412


@pytest.mark.parametrize("size", [0, 3 * 1024 * 1024 + 5])
def test_sizes(s3: Any, s3v4: Any, bucket: str, size: int) -> None:
    post = s3v4.generate_presigned_post(bucket, "sized")
    data = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    response = _post(post["url"], post["fields"], data)
    assert response.status_code == 204, response.text
    assert s3.get_object(Bucket=bucket, Key="sized")["Body"].read() == data


def test_virtual_host_style(server: RunningServer, s3v4: Any, bucket: str) -> None:
    post = s3v4.generate_presigned_post(bucket, "vhost.txt")
    response = httpx.post(
        server.url,
        data=post["fields"],
        files={"file": ("a", b"vh")},
        headers={"host": f"{bucket}.{BASE_DOMAIN}"},
    )
    assert response.status_code == 204, response.text
    assert s3v4.get_object(Bucket=bucket, Key="vhost.txt")["Body"].read() == b"vh"


def _as_file_parts(url: str, fields: dict[str, str], content: bytes) -> Any:
    """Every field as a part with a filename, as python-requests' files= sends a form."""
    parts = [(name, (name, value.encode())) for name, value in fields.items()]
    return httpx.post(url, files=[*parts, ("file", ("file", content))], timeout=30)


def test_fields_sent_as_file_parts_are_fields(s3: Any, bucket: str) -> None:
    post = s3.generate_presigned_post(
        bucket,
        "as-files.txt",
        Fields={"Content-Type": "text/plain", "x-amz-meta-a": "1"},
        Conditions=[{"Content-Type": "text/plain"}, {"x-amz-meta-a": "1"}],
    )
    response = _as_file_parts(post["url"], post["fields"], b"hello")
    assert response.status_code == 204, response.text
    head = s3.head_object(Bucket=bucket, Key="as-files.txt")
    assert (head["ContentType"], head["Metadata"]) == ("text/plain", {"a": "1"})
    # the policy still covers such fields: an uncovered one is refused
    post = s3.generate_presigned_post(bucket, "other.txt")
    response = _as_file_parts(post["url"], {**post["fields"], "x-amz-meta-b": "2"}, b"x")
    assert response.status_code == 403, response.text
    assert "x-amz-meta-b" in _message(response)
    assert "other.txt" not in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]


def test_a_field_part_too_long_is_malformed(s3: Any, bucket: str) -> None:
    post = s3.generate_presigned_post(bucket, "long.txt")
    fields = {**post["fields"], "x-ignore-pad": "p" * (64 * 1024 + 1)}
    response = _as_file_parts(post["url"], fields, b"x")
    assert (response.status_code, _code(response)) == (400, "MalformedPOSTRequest")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_checksum_fields_need_no_condition_and_are_verified(s3: Any, bucket: str) -> None:
    data = b"checked payload"
    good = base64.b64encode(hashlib.sha256(data).digest()).decode()
    post = s3.generate_presigned_post(bucket, "sum.txt")
    response = _post(post["url"], {**post["fields"], "x-amz-checksum-sha256": good}, data)
    assert response.status_code == 204, response.text
    assert s3.get_object(Bucket=bucket, Key="sum.txt")["Body"].read() == data
    bad = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    post = s3.generate_presigned_post(bucket, "bad.txt")
    response = _post(post["url"], {**post["fields"], "x-amz-checksum-sha256": bad}, data)
    assert response.status_code == 400, response.text
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["sum.txt"]


def test_form_encryption_fields_encrypt(s3: Any, bucket: str) -> None:
    post = s3.generate_presigned_post(
        bucket,
        "enc.txt",
        Fields={"x-amz-server-side-encryption": "AES256"},
        Conditions=[{"x-amz-server-side-encryption": "AES256"}],
    )
    response = _post(post["url"], post["fields"], b"sealed")
    assert response.status_code == 204, response.text
    head = s3.head_object(Bucket=bucket, Key="enc.txt")
    assert head["ServerSideEncryption"] == "AES256"
