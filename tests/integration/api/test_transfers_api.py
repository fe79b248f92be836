"""Endpoints and transfers through the control API: the SDK and the CLI against a server
whose own worker threads carry the tasks out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lading.client import BadRequestError, ConflictError, NotFoundError, TransferClient
from lading.testing.server import RunningServer, run_server
from tests.conftest import make_client

API = "/_/api/v1"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lab")


@pytest.fixture(scope="module")
def tserver(tmp_path_factory: pytest.TempPathFactory, lab: Path) -> Iterator[RunningServer]:
    running = run_server(
        tmp_path_factory.mktemp("tserver") / "data",
        env={
            "LADING_TRANSFERS__POSIX_ROOTS": json.dumps({"lab": str(lab)}),
            "LADING_TRANSFERS__POLL_SECONDS": "0.2",
            "LADING_TRANSFERS__PART_SIZE_MIB": "5",
            "LADING_TRANSFERS__UPLOAD_CUTOFF_MIB": "5",
        },
    )
    yield running
    running.kill()


@pytest.fixture(scope="module")
def s3(tserver: RunningServer) -> Any:
    return make_client(tserver.url, tserver.access_key, tserver.secret_key)


@pytest.fixture
def client(tserver: RunningServer) -> Iterator[TransferClient]:
    with TransferClient(
        tserver.url, access_key=tserver.access_key, secret_key=tserver.secret_key
    ) as c:
        yield c


@pytest.fixture
def run_dir(lab: Path) -> tuple[str, dict[str, bytes]]:
    name = f"run-{uuid.uuid4().hex[:6]}"
    files = {"a.txt": b"alpha", "sub/b.bin": os.urandom(11 * 1024 * 1024), "sub/c": b""}
    for rel, data in files.items():
        (lab / name / rel).parent.mkdir(parents=True, exist_ok=True)
        (lab / name / rel).write_bytes(data)
    return name, files


@pytest.fixture
def store(client: TransferClient, tserver: RunningServer, s3: Any) -> Iterator[str]:
    bucket = f"t-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    name = f"store-{bucket}"
    client.create_endpoint(
        name,
        "s3",
        config={"url": tserver.url, "bucket": bucket},
        credentials={"access_key": tserver.access_key, "secret_key": tserver.secret_key},
    )
    yield name


def ensure_lab(client: TransferClient) -> None:
    if "lab" not in [e["name"] for e in client.list_endpoints()]:
        client.create_endpoint("lab", "posix", config={"root": "lab"})


def objects(s3: Any, bucket: str) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def test_a_submitted_transfer_is_carried_out_by_the_server(
    client: TransferClient, store: str, run_dir: tuple[str, dict[str, bytes]], s3: Any
) -> None:
    ensure_lab(client)
    name, files = run_dir
    item = {"source_path": name, "destination_path": name, "recursive": True}
    sid = uuid.uuid4().hex
    task = client.submit_transfer("lab", store, [item], label="api", submission_id=sid)
    assert task["status"] == "ACTIVE" and task["label"] == "api"
    again = client.submit_transfer("lab", store, [item], submission_id=sid)
    assert again["task_id"] == task["task_id"]
    done = client.wait_transfer(task["task_id"], timeout=120)
    assert done["status"] == "SUCCEEDED", done
    assert (done["files_copied"], done["files_failed"]) == (3, 0)
    bucket = client.get_endpoint(store)["config"]["bucket"]
    assert objects(s3, bucket) == {f"{name}/{k}": v for k, v in files.items()}
    kinds = [e["kind"] for e in client.transfer_events(task["task_id"], page_size=2)]
    assert kinds[0] == "submitted" and kinds.count("copied") == 3 and kinds[-1] == "succeeded"
    assert task["task_id"] in [t["task_id"] for t in client.list_transfers(page_size=1)]
    with pytest.raises(ConflictError):
        client.cancel_transfer(task["task_id"])
    client.delete_transfer(task["task_id"])
    with pytest.raises(NotFoundError):
        client.get_transfer(task["task_id"])


def test_pause_resume_and_cancel(client: TransferClient, store: str) -> None:
    ensure_lab(client)
    item = {"source_path": "nothing-here", "destination_path": "x", "recursive": True}
    task = client.submit_transfer("lab", store, [item])
    paused = client.pause_transfer(task["task_id"])
    assert paused["status"] in ("INACTIVE",)
    assert client.resume_transfer(task["task_id"])["status"] == "ACTIVE"
    ended = client.wait_transfer(task["task_id"], timeout=60)
    assert ended["status"] == "SUCCEEDED" and ended["files_copied"] == 0
    other = client.submit_transfer("lab", store, [item])
    client.pause_transfer(other["task_id"])
    cancelled = client.cancel_transfer(other["task_id"])
    assert cancelled["status"] == "FAILED" and cancelled["error"] == "cancelled by its owner"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"items": []}, 422),
        ({"sync_level": "fast"}, 422),
        ({"filter_rules": [{"action": "drop", "pattern": "*"}]}, 422),
        ({"items": [{"source_path": "../etc", "destination_path": "x"}]}, 400),
        ({"destination_endpoint": "no-such-endpoint"}, 404),
        ({"unknown_option": True}, 422),
    ],
)
def test_bad_submissions_get_problems_and_create_nothing(
    tserver: RunningServer, client: TransferClient, store: str, body: dict[str, Any], status: int
) -> None:
    ensure_lab(client)
    before = len(list(client.list_transfers()))
    full = {
        "source_endpoint": "lab",
        "destination_endpoint": store,
        "items": [{"source_path": "a", "destination_path": "b"}],
        **body,
    }
    with pytest.raises((BadRequestError, NotFoundError)) as caught:
        client.request("POST", "/transfers", json=full)
    assert caught.value.http_status == status
    assert caught.value.code
    assert len(list(client.list_transfers())) == before


def test_another_user_sees_nothing(
    tserver: RunningServer, client: TransferClient, store: str
) -> None:
    ensure_lab(client)
    task = client.submit_transfer(
        "lab", store, [{"source_path": "nothing", "destination_path": "x", "recursive": True}]
    )
    created = json.loads(tserver.admin("add-user", f"other-{uuid.uuid4().hex[:6]}"))
    with TransferClient(
        tserver.url, access_key=created["access_key"], secret_key=created["secret_key"]
    ) as other:
        with pytest.raises(NotFoundError):
            other.get_transfer(task["task_id"])
        with pytest.raises(NotFoundError):
            other.cancel_transfer(task["task_id"])
        assert list(other.list_transfers()) == []
        assert other.list_endpoints() == []


def test_endpoints_browse_and_refuse_bad_input(
    client: TransferClient, run_dir: tuple[str, dict[str, bytes]]
) -> None:
    ensure_lab(client)
    name, _ = run_dir
    client.endpoint_mkdir("lab", f"{name}/made")
    client.endpoint_rename("lab", f"{name}/a.txt", f"{name}/made/a.txt")
    paths = [f["path"] for f in client.endpoint_ls("lab", name)]
    assert paths == [f"{name}/made/a.txt", f"{name}/sub/b.bin", f"{name}/sub/c"]
    with pytest.raises(BadRequestError):
        client.endpoint_ls("lab", "../../etc")
    with pytest.raises(BadRequestError):
        client.create_endpoint("evil", "posix", config={"root": "/etc"})
    with pytest.raises(ConflictError):
        client.create_endpoint("lab", "posix", config={"root": "lab"})
    with pytest.raises(NotFoundError):
        client.get_endpoint("no-such-endpoint")
    shown = client.get_endpoint("lab")
    assert shown["kind"] == "posix" and shown["has_credentials"] is False


def test_credentials_are_never_returned(client: TransferClient, store: str) -> None:
    shown = client.get_endpoint(store)
    assert shown["has_credentials"] is True
    assert "credentials" not in shown and "secret" not in json.dumps(shown)


def test_the_openapi_document_has_the_transfer_routes(tserver: RunningServer) -> None:
    paths = httpx.get(f"{tserver.url}{API}/openapi.json").json()["paths"]
    assert {"/transfers", "/transfers/{task_id}/wait", "/endpoints/{name}/ls"} <= set(paths)


def cli(tserver: RunningServer, tmp_path: Path, *args: str) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LADING_"))}
    env.update(
        HOME=str(tmp_path),
        LADING_ENDPOINT=tserver.url,
        AWS_ACCESS_KEY_ID=tserver.access_key,
        AWS_SECRET_ACCESS_KEY=tserver.secret_key,
        LADING_ENDPOINT_SECRET_KEY=tserver.secret_key,
    )
    return subprocess.run(
        [sys.executable, "-m", "lading", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )


def test_the_cli_creates_endpoints_and_runs_a_transfer(
    tserver: RunningServer,
    client: TransferClient,
    tmp_path: Path,
    run_dir: tuple[str, dict[str, bytes]],
    s3: Any,
) -> None:
    ensure_lab(client)
    name, files = run_dir
    bucket = f"t-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    made = cli(
        tserver, tmp_path, "endpoint", "create", f"cli-{bucket}", "--kind", "s3",
        "--url", tserver.url, "--bucket", bucket, "--access-key", tserver.access_key, "--json",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["has_credentials"] is True
    listed = cli(tserver, tmp_path, "endpoint", "list", "--json")
    assert f"cli-{bucket}" in [e["name"] for e in json.loads(listed.stdout)]
    ls = cli(tserver, tmp_path, "endpoint", "ls", "lab", name, "--json")
    assert sorted(f["path"] for f in json.loads(ls.stdout)) == sorted(f"{name}/{k}" for k in files)
    done = cli(
        tserver, tmp_path, "transfer", "submit", f"lab:{name}", f"cli-{bucket}:copy",
        "--recursive", "--sync-level", "checksum", "--exclude", "c", "--wait", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    task = json.loads(done.stdout)
    assert task["status"] == "SUCCEEDED" and task["files_copied"] == 2
    assert sorted(objects(s3, bucket)) == ["copy/a.txt", "copy/sub/b.bin"]
    events = cli(tserver, tmp_path, "transfer", "events", task["task_id"], "--json")
    assert "copied" in [e["kind"] for e in json.loads(events.stdout)]
    shown = cli(tserver, tmp_path, "transfer", "show", task["task_id"])
    assert "SUCCEEDED" in shown.stdout
    bad = cli(tserver, tmp_path, "transfer", "submit", "no-colon", "lab:x")
    assert bad.returncode == 2 and "ENDPOINT:PATH" in bad.stderr
    missing = cli(tserver, tmp_path, "transfer", "show", "no-such-task")
    assert missing.returncode == 1 and "NotFound" in missing.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["endpoint", "--help"],
        *[
            ["endpoint", v, "--help"]
            for v in ("create", "list", "show", "delete", "ls", "mkdir", "rename")
        ],
        ["transfer", "--help"],
        *[
            ["transfer", v, "--help"]
            for v in (
                "submit",
                "show",
                "list",
                "events",
                "wait",
                "cancel",
                "pause",
                "resume",
                "delete",
            )
        ],
        ["transfer", "schedule", "--help"],
        *[["transfer", "schedule", v, "--help"] for v in ("create", "list", "show", "delete")],
    ],
)
def test_every_transfer_command_has_help_with_an_example(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lading", *command], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "Example" in done.stdout, done.stderr


def test_a_schedule_from_the_cli_runs_on_the_server(
    tserver: RunningServer,
    client: TransferClient,
    store: str,
    tmp_path: Path,
    run_dir: tuple[str, dict[str, bytes]],
) -> None:
    import time

    ensure_lab(client)
    name, files = run_dir
    made = cli(
        tserver, tmp_path, "transfer", "schedule", "create", f"lab:{name}", f"{store}:{name}",
        "-r", "--every", "60", "--label", "hourly", "--json",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    schedule = json.loads(made.stdout)
    assert (schedule["every_minutes"], schedule["sync_level"]) == (60, "mtime")
    deadline = time.monotonic() + 60
    while not client.get_schedule(schedule["schedule_id"])["last_task_id"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    shown = client.get_schedule(schedule["schedule_id"])
    task = client.wait_transfer(shown["last_task_id"], timeout=120)
    assert task["status"] == "SUCCEEDED" and task["files_copied"] == len(files)
    listed = cli(tserver, tmp_path, "transfer", "schedule", "list", "--json")
    assert schedule["schedule_id"] in [s["schedule_id"] for s in json.loads(listed.stdout)]
    both = cli(
        tserver, tmp_path, "transfer", "schedule", "create", f"lab:{name}", f"{store}:x",
        "--every", "5", "--cron", "* * * * *",
    )  # fmt: skip
    assert both.returncode == 1 and "either every_minutes or cron" in both.stderr
    gone = cli(tserver, tmp_path, "transfer", "schedule", "delete", schedule["schedule_id"])
    assert gone.returncode == 0, gone.stderr
    assert schedule["schedule_id"] not in [s["schedule_id"] for s in client.list_schedules()]
