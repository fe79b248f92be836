"""Projects through a real server: roles with boto3, expiry, quotas, disabled users, usage."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lading.client import (
    BadRequestError,
    IdentityClient,
    NotFoundError,
    PermissionDeniedError,
    ProjectsClient,
    SharesClient,
)
from lading.testing.server import RunningServer, run_server
from tests.conftest import empty_bucket, make_client, new_bucket_name

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of its own that flushes its request counts every 0.2 s."""
    running = run_server(
        tmp_path_factory.mktemp("projects") / "data",
        env={"LADING_USAGE_FLUSH_SECONDS": "0.2", "LADING_S3__MIN_PART_SIZE": "1024"},
    )
    yield running
    running.kill()


@pytest.fixture(scope="module")
def identity(site: RunningServer) -> Iterator[IdentityClient]:
    with IdentityClient(site.url, access_key=site.access_key, secret_key=site.secret_key) as c:
        yield c


@pytest.fixture(scope="module")
def projects(site: RunningServer) -> Iterator[ProjectsClient]:
    with ProjectsClient(site.url, access_key=site.access_key, secret_key=site.secret_key) as c:
        yield c


@pytest.fixture(scope="module")
def root_s3(site: RunningServer) -> Any:
    return make_client(site.url, site.access_key, site.secret_key)


def unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def new_user(site: RunningServer, identity: IdentityClient) -> tuple[dict[str, Any], Any]:
    """A fresh user and a boto3 client signing as them."""
    created = identity.create_user(unique("u"), email="someone@lab.example")
    return created, make_client(site.url, created["access_key"], created["secret_key"])


@contextlib.contextmanager
def in_project(client: Any, project: str) -> Iterator[None]:
    """Make boto3's CreateBucket name the project the bucket belongs to."""

    def add(request: Any, **_: Any) -> None:
        request.headers["x-lading-project"] = project

    client.meta.events.register("before-sign.s3.CreateBucket", add)
    try:
        yield
    finally:
        client.meta.events.unregister("before-sign.s3.CreateBucket", add)


def code_of(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"])


def keys(client: Any, bucket: str) -> dict[str, int]:
    found = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: o["Size"] for o in found}


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- roles -------------------------------------------------------------------------------------


def test_project_roles_decide_what_members_may_do(
    site: RunningServer, identity: IdentityClient, projects: ProjectsClient, root_s3: Any
) -> None:
    writer, writer_s3 = new_user(site, identity)
    reader, reader_s3 = new_user(site, identity)
    _, outsider_s3 = new_user(site, identity)
    name = unique("roles")
    projects.create_project(name)
    projects.set_member(name, writer["name"], "writer")
    projects.set_member(name, reader["name"], "reader")
    bucket = new_bucket_name()
    with in_project(root_s3, name):
        root_s3.create_bucket(Bucket=bucket)
    assert projects.get_project(name)["buckets"] == [bucket]
    root_s3.put_object(Bucket=bucket, Key="by-root", Body=b"root")

    writer_s3.put_object(Bucket=bucket, Key="by-writer", Body=b"w")
    assert writer_s3.get_object(Bucket=bucket, Key="by-root")["Body"].read() == b"root"
    writer_s3.delete_object(Bucket=bucket, Key="by-writer")
    assert (
        code_of(
            lambda: writer_s3.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )
        )
        == "AccessDenied"
    )

    assert reader_s3.get_object(Bucket=bucket, Key="by-root")["Body"].read() == b"root"
    assert set(keys(reader_s3, bucket)) == {"by-root"}
    assert [b["Name"] for b in reader_s3.list_buckets()["Buckets"]] == [bucket]
    assert outsider_s3.list_buckets()["Buckets"] == []
    assert code_of(lambda: reader_s3.put_object(Bucket=bucket, Key="r", Body=b"r")) == (
        "AccessDenied"
    )
    assert code_of(lambda: reader_s3.delete_object(Bucket=bucket, Key="by-root")) == (
        "AccessDenied"
    )

    assert code_of(lambda: outsider_s3.get_object(Bucket=bucket, Key="by-root")) == ("AccessDenied")
    assert code_of(lambda: outsider_s3.list_objects_v2(Bucket=bucket)) == "AccessDenied"

    projects.set_member(name, writer["name"], "admin")  # admins manage configurations too
    writer_s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    projects.remove_member(name, reader["name"])
    assert code_of(lambda: reader_s3.get_object(Bucket=bucket, Key="by-root")) == "AccessDenied"
    assert reader_s3.list_buckets()["Buckets"] == []
    assert keys(root_s3, bucket) == {"by-root": 4}
    empty_bucket(root_s3, bucket)


def test_a_project_admin_manages_members_but_not_limits(
    site: RunningServer, identity: IdentityClient, projects: ProjectsClient
) -> None:
    lead, _ = new_user(site, identity)
    member, member_s3 = new_user(site, identity)
    name = unique("managed")
    projects.create_project(name, admin=lead["name"], quota_bytes=100)
    with ProjectsClient(
        site.url, access_key=lead["access_key"], secret_key=lead["secret_key"]
    ) as as_lead:
        found = as_lead.set_member(name, member["name"], "writer")
        assert {"user": member["name"], "role": "writer"} in found["members"]
        with pytest.raises(PermissionDeniedError):
            as_lead.update_project(name, quota_bytes=10**12)
        with pytest.raises(PermissionDeniedError):
            as_lead.create_project(unique("nope"))
        assert as_lead.update_project(name, description="lab")["description"] == "lab"
        mine = {p["name"] for p in as_lead.list_projects()}
        assert name in mine and all(p == name or p.startswith("personal-") for p in mine)
    with ProjectsClient(
        site.url, access_key=member["access_key"], secret_key=member["secret_key"]
    ) as as_member:
        with pytest.raises(PermissionDeniedError):
            as_member.set_member(name, member["name"], "admin")
        bucket = new_bucket_name()
        assert as_member.create_bucket(name, bucket) == {"name": bucket, "project": name}
    member_s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert projects.get_project(name)["used_bytes"] == 1
    empty_bucket(member_s3, bucket)


def test_bad_project_requests_are_clear_problems(projects: ProjectsClient) -> None:
    with pytest.raises(BadRequestError) as caught:
        projects.create_project("personal-someone")
    assert "personal" in caught.value.message
    with pytest.raises(BadRequestError):
        projects.create_project("bad name!")
    with pytest.raises(BadRequestError):
        projects.create_project(unique("neg"), quota_bytes=-1)
    with pytest.raises(NotFoundError):
        projects.get_project(unique("missing"))
    name = unique("roles")
    projects.create_project(name)
    with pytest.raises(BadRequestError):
        projects.set_member(name, "root", "owner")
    with pytest.raises(NotFoundError):
        projects.set_member(name, unique("nobody"), "reader")
    assert projects.get_project(name)["members"] == []


# --- expiry ------------------------------------------------------------------------------------


def test_an_expired_project_refuses_writes_and_serves_reads(
    projects: ProjectsClient, root_s3: Any
) -> None:
    name = unique("expiring")
    projects.create_project(name)
    bucket = new_bucket_name()
    with in_project(root_s3, name):
        root_s3.create_bucket(Bucket=bucket)
    root_s3.put_object(Bucket=bucket, Key="kept", Body=b"data")
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    project = projects.update_project(name, expires_at=iso(yesterday))
    assert project["expired"] is True and project["needs_attention"] is False

    with pytest.raises(ClientError) as caught:
        root_s3.put_object(Bucket=bucket, Key="new", Body=b"x")
    error = caught.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert f"The project '{name}' expired on" in error["Message"]
    assert "read-only" in error["Message"]
    assert code_of(lambda: root_s3.delete_object(Bucket=bucket, Key="kept")) == "AccessDenied"
    assert (
        code_of(
            lambda: root_s3.put_bucket_tagging(
                Bucket=bucket, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}
            )
        )
        == "AccessDenied"
    )
    assert code_of(lambda: root_s3.create_multipart_upload(Bucket=bucket, Key="m")) == (
        "AccessDenied"
    )
    with in_project(root_s3, name):
        assert code_of(lambda: root_s3.create_bucket(Bucket=new_bucket_name())) == ("AccessDenied")

    assert root_s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"data"
    assert keys(root_s3, bucket) == {"kept": 4}
    root_s3.head_bucket(Bucket=bucket)

    projects.update_project(name, expires_at=None)  # extended: writable again
    root_s3.put_object(Bucket=bucket, Key="new", Body=b"x")
    empty_bucket(root_s3, bucket)


def test_projects_past_their_grace_period_need_attention(
    site: RunningServer, projects: ProjectsClient, identity: IdentityClient, tmp_path: Path
) -> None:
    name = unique("late")
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    projects.create_project(name, expires_at=iso(long_ago), grace_days=30)
    fresh = unique("fresh")
    projects.create_project(fresh, expires_at=iso(long_ago), grace_days=60)
    late = {p["name"] for p in projects.list_projects(needs_attention=True)}
    assert name in late and fresh not in late
    done = lading(site, tmp_path, "project", "list", "--needs-attention", "--json")
    assert done.returncode == 0, done.stderr
    listed = {p["name"]: p for p in json.loads(done.stdout)}
    assert listed[name]["needs_attention"] is True and fresh not in listed
    admin = identity.create_user(unique("admin"), email="storage-admin@lab.example", is_admin=True)
    done = lading_worker(site, "--once", "--now", iso(dt.datetime.now(dt.UTC)))
    assert f"project {name} expired on" in done.stderr
    assert f"project {fresh} " not in done.stderr

    # the administrators are told once per expiry, in the outbox (mailed when SMTP is set)
    def notices(project: str) -> list[dict[str, Any]]:
        with SharesClient(site.url, access_key=site.access_key, secret_key=site.secret_key) as c:
            return [m for m in c.list_outbox() if f"Project {project}:" in m["subject"]]

    told = notices(name)
    assert [(m["recipient"], m["status"]) for m in told] == [(admin["email"], "stored")]
    assert "grace period over, archive or delete it" in told[0]["subject"]
    assert f"lading project show {name}" in told[0]["body"]
    assert notices(fresh) == []
    lading_worker(site, "--once", "--now", iso(dt.datetime.now(dt.UTC)))
    assert len(notices(name)) == 1
    projects.update_project(name, expires_at=iso(long_ago - dt.timedelta(days=1)))
    lading_worker(site, "--once", "--now", iso(dt.datetime.now(dt.UTC)))
    assert len(notices(name)) == 2  # a new expiry, a new notice


# --- quotas ------------------------------------------------------------------------------------


def quota_bucket(
    projects: ProjectsClient,
    root_s3: Any,
    *,
    quota_bytes: int | None = None,
    quota_objects: int | None = None,
) -> tuple[str, str]:
    name = unique("quota")
    projects.create_project(name, quota_bytes=quota_bytes, quota_objects=quota_objects)
    bucket = new_bucket_name()
    with in_project(root_s3, name):
        root_s3.create_bucket(Bucket=bucket)
    return name, bucket


def test_a_quota_refusal_leaves_the_bucket_exactly_as_it_was(
    site: RunningServer, projects: ProjectsClient, root_s3: Any
) -> None:
    name, bucket = quota_bucket(projects, root_s3, quota_bytes=10_000)
    root_s3.put_object(Bucket=bucket, Key="a", Body=b"a" * 6_000)
    before = keys(root_s3, bucket)

    with pytest.raises(ClientError) as caught:
        root_s3.put_object(Bucket=bucket, Key="b", Body=b"b" * 4_001)
    assert caught.value.response["Error"]["Code"] == "QuotaExceeded"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert name in caught.value.response["Error"]["Message"]
    assert (
        code_of(
            lambda: root_s3.copy_object(
                Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "a"}
            )
        )
        == "QuotaExceeded"
    )
    assert keys(root_s3, bucket) == before
    assert projects.get_project(name)["used_bytes"] == 6_000

    # an overwrite counts the replaced bytes out: 6000 -> 9000 fits
    root_s3.put_object(Bucket=bucket, Key="a", Body=b"A" * 9_000)
    assert projects.get_project(name)["used_bytes"] == 9_000

    upload = root_s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    assert (
        code_of(
            lambda: root_s3.upload_part(
                Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"p" * 1_001
            )
        )
        == "QuotaExceeded"
    )
    part = root_s3.upload_part(
        Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"p" * 800
    )
    root_s3.put_object(Bucket=bucket, Key="small", Body=b"s" * 500)  # 9500 used now
    before = keys(root_s3, bucket)
    assert (
        code_of(
            lambda: root_s3.complete_multipart_upload(
                Bucket=bucket,
                Key="mp",
                UploadId=upload,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
            )
        )
        == "QuotaExceeded"
    )
    assert keys(root_s3, bucket) == before
    parts = root_s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 800)]
    assert projects.get_project(name)["used_bytes"] == 9_500

    projects.update_project(name, quota_bytes=None)  # lifted: the same completion succeeds
    root_s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert projects.get_project(name)["used_bytes"] == 10_300
    empty_bucket(root_s3, bucket)
    assert projects.get_project(name)["used_bytes"] == 0
    assert not list((site.data_dir / "blobs").rglob("*.part"))


def test_an_object_count_quota_refuses_one_object_too_many(
    projects: ProjectsClient, root_s3: Any
) -> None:
    name, bucket = quota_bucket(projects, root_s3, quota_objects=2)
    root_s3.put_object(Bucket=bucket, Key="1", Body=b"")
    root_s3.put_object(Bucket=bucket, Key="2", Body=b"")
    root_s3.put_object(Bucket=bucket, Key="2", Body=b"again")  # an overwrite adds no object
    assert code_of(lambda: root_s3.put_object(Bucket=bucket, Key="3", Body=b"")) == (
        "QuotaExceeded"
    )
    assert keys(root_s3, bucket) == {"1": 0, "2": 5}
    root_s3.delete_object(Bucket=bucket, Key="1")
    root_s3.put_object(Bucket=bucket, Key="3", Body=b"")
    assert projects.get_project(name)["used_objects"] == 2
    empty_bucket(root_s3, bucket)


# --- users -------------------------------------------------------------------------------------


def test_a_disabled_users_keys_stop_working(site: RunningServer, identity: IdentityClient) -> None:
    user, user_s3 = new_user(site, identity)
    assert user["enabled"] is True and user["email"] == "someone@lab.example"
    personal = f"personal-{user['name']}"
    bucket = new_bucket_name()
    user_s3.create_bucket(Bucket=bucket)
    with ProjectsClient(site.url, access_key=site.access_key, secret_key=site.secret_key) as p:
        assert p.get_project(personal)["buckets"] == [bucket]
    assert identity.update_user(user["name"], enabled=False)["enabled"] is False
    deadline = time.monotonic() + 5  # the key cache keeps a key at most 2 s
    while time.monotonic() < deadline:
        try:
            user_s3.list_objects_v2(Bucket=bucket)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "InvalidAccessKeyId"
            break
        time.sleep(0.2)
    else:
        pytest.fail("the disabled user's key still works")
    identity.update_user(user["name"], enabled=True)
    time.sleep(2.2)
    user_s3.delete_bucket(Bucket=bucket)


def test_users_and_groups_through_the_sdk(site: RunningServer, identity: IdentityClient) -> None:
    user, _ = new_user(site, identity)
    assert user["name"] in {u["name"] for u in identity.list_users(limit=2)}  # several pages
    with IdentityClient(
        site.url, access_key=user["access_key"], secret_key=user["secret_key"]
    ) as as_user:
        assert as_user.update_user(user["name"], display_name="Ann")["display_name"] == "Ann"
        with pytest.raises(PermissionDeniedError):
            as_user.update_user(user["name"], is_admin=True)
        with pytest.raises(PermissionDeniedError):
            as_user.get_user("root")
        with pytest.raises(PermissionDeniedError):
            as_user.create_group(unique("g"))
    with pytest.raises(BadRequestError):
        identity.update_user(user["name"], email="not an address")
    group = unique("g")
    identity.create_group(group, description="imaging")
    identity.add_group_member(group, user["name"])
    assert identity.get_group(group)["members"] == [user["name"]]
    assert identity.remove_group_member(group, user["name"])["members"] == []
    identity.delete_group(group)
    with pytest.raises(NotFoundError):
        identity.get_group(group)


# --- usage -------------------------------------------------------------------------------------


def lading(site: RunningServer, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LADING_"))}
    env.update(
        HOME=str(home),
        LADING_ENDPOINT=site.url,
        AWS_ACCESS_KEY_ID=site.access_key,
        AWS_SECRET_ACCESS_KEY=site.secret_key,
    )
    return subprocess.run(
        [sys.executable, "-m", "lading", *args], capture_output=True, text=True, env=env, timeout=60
    )


def lading_worker(site: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "lading", "worker", *args, "--data-dir", str(site.data_dir)],
        capture_output=True,
        text=True,
        env=site.env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_usage_report_integrates_samples_into_byte_days(
    site: RunningServer, projects: ProjectsClient, root_s3: Any, tmp_path: Path
) -> None:
    name, bucket = quota_bucket(projects, root_s3)
    root_s3.put_object(Bucket=bucket, Key="a", Body=b"a" * 1_000)
    lading_worker(site, "--once", "--now", "2025-01-01T00:00:00Z")
    root_s3.put_object(Bucket=bucket, Key="b", Body=b"b" * 2_000)
    lading_worker(site, "--once", "--now", "2025-01-11T00:00:00Z")
    root_s3.delete_object(Bucket=bucket, Key="a")
    lading_worker(site, "--once", "--now", "2025-01-16T00:00:00Z")
    root_s3.delete_object(Bucket=bucket, Key="b")
    lading_worker(site, "--once", "--now", "2025-01-21T00:00:00Z")

    # 1000 B x 10 days + 3000 B x 5 days + 2000 B x 5 days + 0 B x 10 days (to 01-31)
    [line] = projects.usage("2025-01-01", "2025-01-30", projects=[name])
    assert line["byte_days"] == 35_000
    assert (line["max_bytes"], line["bytes_at_end"], line["objects_at_end"]) == (3_000, 0, 0)
    assert line["from"] == "2025-01-01T00:00:00Z" and line["to"] == "2025-01-31T00:00:00Z"
    [partial] = projects.usage("2025-01-06", "2025-01-12T00:00:00Z", projects=[name])
    assert partial["byte_days"] == 1_000 * 5 + 3_000 * 1

    done = lading(
        site,
        tmp_path,
        "usage",
        "--project",
        name,
        "--from",
        "2025-01-01",
        "--to",
        "2025-01-30",
        "--format",
        "csv",
    )
    assert done.returncode == 0, done.stderr
    [row] = list(csv.DictReader(io.StringIO(done.stdout)))
    assert row["project"] == name and float(row["byte_days"]) == 35_000
    assert done.stdout.startswith("project,from,to,byte_days,")
    bad = lading(site, tmp_path, "usage", "--from", "someday", "--to", "2025-01-30")
    assert bad.returncode != 0 and "not a date" in bad.stderr


def test_usage_counts_requests_and_bytes_downloaded(projects: ProjectsClient, root_s3: Any) -> None:
    name, bucket = quota_bucket(projects, root_s3)
    root_s3.put_object(Bucket=bucket, Key="k", Body=b"x" * 1_234)
    root_s3.get_object(Bucket=bucket, Key="k")["Body"].read()
    root_s3.get_object(Bucket=bucket, Key="k", Range="bytes=0-99")["Body"].read()
    today = dt.datetime.now(dt.UTC).date()
    span = (str(today - dt.timedelta(days=1)), str(today + dt.timedelta(days=1)))
    deadline = time.monotonic() + 10
    line: dict[str, Any] = {}
    while time.monotonic() < deadline:
        [line] = projects.usage(*span, projects=[name])
        if line["requests"] >= 3:
            break
        time.sleep(0.2)
    assert (line["requests"], line["bytes_downloaded"]) == (3, 1_334)
    with pytest.raises(BadRequestError):
        projects.usage(span[1], span[0], projects=[name])
    root_s3.delete_object(Bucket=bucket, Key="k")


def test_the_openapi_document_describes_the_identity_routes(site: RunningServer) -> None:
    import httpx

    paths = httpx.get(f"{site.url}/_/api/v1/openapi.json").json()["paths"]
    for path in (
        "/users",
        "/users/{name}",
        "/groups/{name}/members/{user}",
        "/projects/{name}/members/{user}",
        "/projects/{name}/buckets",
        "/usage",
    ):
        assert path in paths
    assert {"get", "patch", "delete"} <= set(paths["/projects/{name}"])
