"""The audit log and S3 server access logs, through a real server, boto3, SDK and CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import botocore.exceptions
import pytest

from lading.client import AuditClient, AuthClient, AuthenticationError, PermissionDeniedError
from lading.testing.server import RunningServer
from tests.conftest import empty_bucket, make_client, new_bucket_name
from tests.integration.credentials.conftest import ClockedServer


def eventually(check: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def audit(server: Any, **filters: Any) -> list[dict[str, Any]]:
    with AuditClient(server.url, access_key=server.access_key, secret_key=server.secret_key) as c:
        return list(c.list_audit(**filters))


def test_writes_and_denials_are_audited_reads_are_not(
    server: RunningServer, s3: Any, s3_alt: Any, alt_user: dict[str, str]
) -> None:
    bucket = new_bucket_name()
    s3.create_bucket(Bucket=bucket)
    try:
        s3.put_object(Bucket=bucket, Key="a/b.txt", Body=b"hello")
        s3.get_object(Bucket=bucket, Key="a/b.txt")
        with pytest.raises(botocore.exceptions.ClientError):
            s3_alt.get_object(Bucket=bucket, Key="a/b.txt")
        with pytest.raises(botocore.exceptions.ClientError):
            s3_alt.put_object(Bucket=bucket, Key="intruder", Body=b"x")

        def records() -> list[dict[str, Any]]:
            found = audit(server, bucket=bucket)
            return found if len(found) >= 4 else []

        found = eventually(records)
        operations = [(r["operation"], r["user"], r["outcome"]) for r in reversed(found)]
        assert operations == [
            ("CreateBucket", "root", "ok"),
            ("PutObject", "root", "ok"),
            ("GetObject", alt_user["user"], "denied"),
            ("PutObject", alt_user["user"], "denied"),
        ]
        put = found[2]
        assert put["key"] == "a/b.txt" and put["status"] == 200 and put["client"] == "127.0.0.1"
        assert put["request_id"] and put["api"] == "s3"
        denied = audit(server, bucket=bucket, outcome="denied")
        assert {r["code"] for r in denied} == {"AccessDenied"}
        mine = audit(server, bucket=bucket, user=alt_user["user"])
        assert len(mine) == 2
    finally:
        empty_bucket(s3, bucket)


def test_control_api_calls_and_failed_logins_are_audited(server: RunningServer) -> None:
    name = f"nobody-{uuid.uuid4().hex[:6]}"
    with AuthClient(server.url) as anonymous, pytest.raises(AuthenticationError):
        anonymous.login(name, "wrong password")

    def failed() -> list[dict[str, Any]]:
        return audit(server, user=name)

    found = eventually(failed)
    assert found[0]["operation"] == "POST /_/api/v1/auth/login"
    assert found[0]["outcome"] == "denied" and found[0]["code"] == "InvalidCredentials"
    assert found[0]["api"] == "control"


def test_audit_is_for_administrators_and_pages(
    server: RunningServer, s3: Any, alt_user: dict[str, str]
) -> None:
    with (
        AuditClient(
            server.url, access_key=alt_user["access_key"], secret_key=alt_user["secret_key"]
        ) as client,
        pytest.raises(PermissionDeniedError),
    ):
        list(client.list_audit())
    bucket = new_bucket_name()
    s3.create_bucket(Bucket=bucket)
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"")
    eventually(lambda: len(audit(server, bucket=bucket)) >= 6)
    small_pages = audit(server, bucket=bucket, limit=2)
    assert [r["key"] for r in small_pages] == ["k4", "k3", "k2", "k1", "k0", ""]
    empty_bucket(s3, bucket)


def test_cli_audit_list(server: RunningServer, s3: Any, tmp_path: Any) -> None:
    bucket = new_bucket_name()
    s3.create_bucket(Bucket=bucket)
    eventually(lambda: audit(server, bucket=bucket))
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LADING_ENDPOINT": server.url,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
    }
    done = subprocess.run(
        [sys.executable, "-m", "lading", "audit", "list", "--bucket", bucket, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert [r["operation"] for r in json.loads(done.stdout)] == ["CreateBucket"]
    bad = subprocess.run(
        [sys.executable, "-m", "lading", "audit", "list", "--from", "yesterday"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert bad.returncode == 2 and "not a date" in bad.stderr
    s3.delete_bucket(Bucket=bucket)


# --- S3 server access logging -----------------------------------------------------------------


def logging_status(target: str, prefix: str) -> dict[str, Any]:
    return {"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": prefix}}


def allow_logs(s3: Any, target: str, source: str, *, action: str = "s3:PutObject") -> None:
    """The target bucket policy AWS asks for: the logging service may put the logs."""
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": [action],
        "Resource": f"arn:aws:s3:::{target}/logs/*",
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{source}"}},
    }
    s3.put_bucket_policy(
        Bucket=target, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )


def test_put_and_get_bucket_logging(s3: Any, s3_alt: Any) -> None:
    source, target = new_bucket_name(), new_bucket_name()
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=target)
    try:
        assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=source)
        # without a policy that lets the logging service write, the target is refused
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            s3.put_bucket_logging(
                Bucket=source, BucketLoggingStatus=logging_status(target, "logs/")
            )
        assert caught.value.response["Error"]["Code"] == "AccessDenied"
        allow_logs(s3, target, source, action="s3:GetObject")
        with pytest.raises(botocore.exceptions.ClientError):
            s3.put_bucket_logging(
                Bucket=source, BucketLoggingStatus=logging_status(target, "logs/")
            )
        assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=source)
        allow_logs(s3, target, source)
        s3.put_bucket_logging(Bucket=source, BucketLoggingStatus=logging_status(target, "logs/"))
        found = s3.get_bucket_logging(Bucket=source)["LoggingEnabled"]
        assert found == {
            "TargetBucket": target,
            "TargetPrefix": "logs/",
            "TargetObjectKeyFormat": {"SimplePrefix": {}},
        }
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            s3.put_bucket_logging(
                Bucket=source, BucketLoggingStatus=logging_status("no-such-bucket-x1", "")
            )
        assert caught.value.response["Error"]["Code"] == "InvalidTargetBucketForLogging"
        assert s3.get_bucket_logging(Bucket=source)["LoggingEnabled"]["TargetBucket"] == target
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            s3_alt.put_bucket_logging(Bucket=source, BucketLoggingStatus={})
        assert caught.value.response["Error"]["Code"] == "AccessDenied"
        # only the bucket's owner sets its logging, whatever its policy grants (as AWS)
        anyone = {
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:PutBucketLogging", "s3:GetBucketLogging"],
            "Resource": f"arn:aws:s3:::{source}",
        }
        s3.put_bucket_policy(Bucket=source, Policy=json.dumps({"Statement": [anyone]}))
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            s3_alt.put_bucket_logging(Bucket=source, BucketLoggingStatus={})
        assert caught.value.response["Error"]["Code"] == "AccessDenied"
        assert s3_alt.get_bucket_logging(Bucket=source)["LoggingEnabled"]["TargetBucket"] == target
        s3.delete_bucket_policy(Bucket=source)
        s3.put_bucket_logging(Bucket=source, BucketLoggingStatus={})
        assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=source)
    finally:
        empty_bucket(s3, source)
        empty_bucket(s3, target)


def test_access_log_records_are_delivered_in_aws_format(clocked_server: ClockedServer) -> None:
    s3 = make_client(clocked_server.url, clocked_server.access_key, clocked_server.secret_key)
    source, target = new_bucket_name(), new_bucket_name()
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=target)
    allow_logs(s3, target, source)
    s3.put_bucket_logging(Bucket=source, BucketLoggingStatus=logging_status(target, "logs/"))
    s3.put_object(Bucket=source, Key="data/one two.txt", Body=b"12345")
    s3.get_object(Bucket=source, Key="data/one two.txt")
    with pytest.raises(botocore.exceptions.ClientError):
        s3.get_object(Bucket=source, Key="missing")

    def delivered() -> list[str]:
        listed = s3.list_objects_v2(Bucket=target, Prefix="logs/").get("Contents", [])
        lines: list[str] = []
        for item in listed:
            body = s3.get_object(Bucket=target, Key=item["Key"])["Body"].read().decode()
            lines.extend(body.splitlines())
        return lines if len(lines) >= 3 else []

    lines = eventually(delivered)
    assert len(lines) == 3, lines
    put, get, missing = lines
    fields = put.split(" ")
    assert fields[0] == "root" and fields[1] == source
    assert fields[2].startswith("[") and fields[3].endswith("+0000]")
    assert fields[4] == "127.0.0.1" and fields[5] == "root"
    assert fields[7] == "REST.PUT.OBJECT" and fields[8] == "data/one%20two.txt"
    assert '"PUT /' in put and " 200 - " in put
    assert " REST.GET.OBJECT " in get and " 200 - 5 5 " in get
    assert " 404 NoSuchKey " in missing
    assert " SigV4 " in put and " AuthHeader " in put
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=target)["Contents"]]
    assert all(k.startswith("logs/2") and len(k) == len("logs/") + 19 + 1 + 16 for k in keys)


def test_access_logs_say_when_an_acl_admitted_and_stop_when_the_policy_does(
    clocked_server: ClockedServer,
) -> None:
    server = clocked_server
    s3 = make_client(server.url, server.access_key, server.secret_key)
    with AuditClient(server.url, access_key=server.access_key, secret_key=server.secret_key) as c:
        guest = c.request("POST", "/users", json={"name": f"guest-{uuid.uuid4().hex[:6]}"})
    other = make_client(server.url, guest["access_key"], guest["secret_key"])
    source, target = new_bucket_name(), new_bucket_name()
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=target)
    allow_logs(s3, target, source)
    s3.put_bucket_logging(Bucket=source, BucketLoggingStatus=logging_status(target, "logs/"))
    s3.put_object(Bucket=source, Key="by-acl", Body=b"a", ACL="public-read")
    s3.put_object(Bucket=source, Key="own", Body=b"b")
    s3.put_bucket_acl(Bucket=source, ACL="public-read")
    other.get_object(Bucket=source, Key="by-acl")  # the object's ACL admits the guest
    other.list_objects_v2(Bucket=source)  # and the bucket's ACL
    s3.get_object(Bucket=source, Key="own")  # the owner needs no ACL

    def lines() -> list[str]:
        found: list[str] = []
        for item in s3.list_objects_v2(Bucket=target, Prefix="logs/").get("Contents", []):
            body = s3.get_object(Bucket=target, Key=item["Key"])["Body"].read().decode()
            found.extend(body.splitlines())
        return found

    def guests() -> list[str]:
        found = [x for x in lines() if x.split(" ")[5] == guest["name"]]
        return found if len(found) >= 2 else []

    delivered = eventually(guests)
    assert len(delivered) == 2, lines()
    assert all(line.endswith(" Yes") for line in delivered), delivered
    owners = [x for x in lines() if " REST.GET.OBJECT own " in x]
    assert len(owners) == 1 and owners[0].endswith(" -")

    # the target's owner takes the permission back: nothing more is delivered
    s3.delete_bucket_policy(Bucket=target)
    before = s3.list_objects_v2(Bucket=target).get("KeyCount", 0)
    s3.get_object(Bucket=source, Key="own")
    time.sleep(1.5)  # three times access_log_seconds
    s3.get_object(Bucket=source, Key="own")
    assert s3.list_objects_v2(Bucket=target).get("KeyCount", 0) == before


def test_copies_and_multi_object_deletes_are_logged_as_aws_logs_them(
    clocked_server: ClockedServer,
) -> None:
    s3 = make_client(clocked_server.url, clocked_server.access_key, clocked_server.secret_key)
    source, copies, target = new_bucket_name(), new_bucket_name(), new_bucket_name()
    for name in (source, copies, target):
        s3.create_bucket(Bucket=name)
    allow_logs(s3, target, source)
    s3.put_bucket_logging(Bucket=source, BucketLoggingStatus=logging_status(target, "logs/"))
    s3.put_object(Bucket=source, Key="orig", Body=b"12345")
    s3.put_object(Bucket=source, Key="gone-1", Body=b"a")
    s3.put_object(Bucket=source, Key="gone-2", Body=b"b")
    s3.copy_object(Bucket=copies, Key="copy", CopySource={"Bucket": source, "Key": "orig"})
    s3.copy_object(Bucket=source, Key="same", CopySource={"Bucket": source, "Key": "orig"})
    s3.delete_objects(
        Bucket=source, Delete={"Objects": [{"Key": "gone-1"}, {"Key": "gone-2"}, {"Key": "x"}]}
    )

    def operations() -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for item in s3.list_objects_v2(Bucket=target, Prefix="logs/").get("Contents", []):
            body = s3.get_object(Bucket=target, Key=item["Key"])["Body"].read().decode()
            found.extend(
                (f[1], f[7] + " " + f[8]) for f in (x.split(" ") for x in body.splitlines())
            )
        return found if len(found) >= 10 else []

    found = eventually(operations)
    # batches may end in log objects of the same second, which list in any order
    assert sorted(op for bucket, op in found if "REST.PUT.OBJECT" not in op) == sorted(
        [
            "REST.COPY.OBJECT_GET orig",  # the source's side of the copy into another bucket
            "REST.COPY.OBJECT same",  # a copy within the bucket: both sides
            "REST.COPY.OBJECT_GET orig",
            "REST.POST.MULTI_OBJECT_DELETE -",
            "BATCH.DELETE.OBJECT gone-1",
            "BATCH.DELETE.OBJECT gone-2",
            "BATCH.DELETE.OBJECT x",  # S3 deletes a missing key without complaint
        ]
    )
    assert {bucket for bucket, _ in found} == {source}
