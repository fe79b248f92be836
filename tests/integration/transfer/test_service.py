"""The transfer service and its workers over a real metadata database (SQLite, PostgreSQL)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lading import errors
from lading.app import open_for_work
from lading.metadata import schema
from lading.services.container import Services
from lading.services.transfer_worker import TransferWorker
from lading.services.transfers import Submission
from lading.settings import MetadataSettings, Settings, TransferSettings
from lading.testing.postgres import NO_POSTGRES, scratch_database
from lading.testing.server import RunningServer
from lading.transfer.retry import RetryPolicy

POSTGRES = os.environ.get("LADING_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    with contextlib.ExitStack() as stack:
        url = ""
        if request.param == "postgresql":
            if not POSTGRES:
                pytest.skip(NO_POSTGRES)
            url = stack.enter_context(scratch_database(POSTGRES))
        for root in ("lab", "archive"):
            (tmp_path / root).mkdir()
        yield Settings(
            data_dir=tmp_path / "data",
            metadata=MetadataSettings(url=url),
            lifecycle_seconds=0,
            transfers=TransferSettings(
                posix_roots={"lab": str(tmp_path / "lab"), "archive": str(tmp_path / "archive")},
                part_size_mib=5,
                upload_cutoff_mib=5,
                lease_seconds=30,
            ),
        )


@pytest.fixture
def services(settings: Settings) -> Iterator[tuple[Any, Services, int]]:
    meta, services, _ = open_for_work(settings)
    user = meta.create_user(f"u{uuid.uuid4().hex[:6]}")
    yield meta, services, user.id
    meta.engine.dispose()


def worker(services: Services) -> TransferWorker:
    return TransferWorker(services.transfers, retry=RetryPolicy(base=0.01, cap=0.02))


def drain(services: Services, *workers: TransferWorker) -> None:
    for _ in range(100):
        if not any([w.run_once() for w in workers or [worker(services)]]):
            return
    raise AssertionError("the workers never ran out of work")


def tree(root: Path) -> dict[str, bytes]:
    files = {
        "run1/a.csv": b"x,y\n",
        "run1/b/c.bin": os.urandom(12 * 1024 * 1024),  # three parts of 5 MiB
        "run1/empty": b"",
        "run1/z.txt": b"zed",
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def on_disk(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def submission(**kwargs: Any) -> Submission:
    defaults: dict[str, Any] = {
        "source": "lab",
        "destination": "archive",
        "items": [{"source_path": "run1", "destination_path": "copy", "recursive": True}],
    }
    return Submission(**{**defaults, **kwargs})


def endpoints(svc: Services, owner: int) -> None:
    svc.transfers.create_endpoint(owner, "lab", "posix", {"root": "lab"})
    svc.transfers.create_endpoint(owner, "archive", "posix", {"root": "archive"})


def test_a_task_runs_to_success_with_counters_and_events(
    services: tuple[Any, Services, int], tmp_path: Path
) -> None:
    _, svc, owner = services
    endpoints(svc, owner)
    files = tree(tmp_path / "lab")
    task, created = svc.transfers.submit(owner, submission(label="nightly", submission_id="s-1"))
    assert created and task["status"] == "ACTIVE" and task["label"] == "nightly"
    drain(svc)
    done = svc.transfers.get_task(owner, task["task_id"])
    assert done["status"] == "SUCCEEDED" and done["completed_at"]
    assert (done["files_copied"], done["files_failed"]) == (4, 0)
    assert done["bytes_copied"] == done["bytes_transferred"] == sum(map(len, files.values()))
    assert on_disk(tmp_path / "archive") == {
        k.replace("run1/", "copy/"): v for k, v in files.items()
    }
    kinds = [e["kind"] for e in svc.transfers.events(owner, task["task_id"])]
    assert kinds[0] == "submitted" and kinds[-1] == "succeeded"
    assert kinds.count("copied") == 4
    copied = [e for e in svc.transfers.events(owner, task["task_id"]) if e["kind"] == "copied"]
    assert all(e["details"]["checksum"] for e in copied)
    # the same submission id returns the same task and does nothing new
    again, created = svc.transfers.submit(owner, submission(submission_id="s-1"))
    assert not created and again["task_id"] == task["task_id"]
    # a sync of the unchanged tree skips everything
    sync, _ = svc.transfers.submit(owner, submission(sync_level="checksum"))
    drain(svc)
    synced = svc.transfers.get_task(owner, sync["task_id"])
    assert (synced["status"], synced["files_copied"], synced["files_skipped"]) == (
        "SUCCEEDED",
        0,
        4,
    )


def test_two_workers_never_copy_the_same_file(
    services: tuple[Any, Services, int], tmp_path: Path
) -> None:
    _, svc, owner = services
    endpoints(svc, owner)
    for i in range(60):
        (tmp_path / "lab" / "run1" / f"f{i:03d}").parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "lab" / "run1" / f"f{i:03d}").write_bytes(os.urandom(100))
    svc.transfers.settings.batch_files = 5
    task, _ = svc.transfers.submit(owner, submission())
    a, b = worker(svc), worker(svc)
    a.run_once()  # plans, and copies a first batch
    threads = [threading.Thread(target=drain, args=(svc, w)) for w in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    drain(svc)
    done = svc.transfers.get_task(owner, task["task_id"])
    copied = [
        e["path"] for e in svc.transfers.events(owner, task["task_id"]) if e["kind"] == "copied"
    ]
    assert done["status"] == "SUCCEEDED" and done["files_copied"] == 60
    assert len(copied) == len(set(copied)) == 60


def test_failed_files_fail_the_task_and_others_are_copied(
    services: tuple[Any, Services, int], tmp_path: Path
) -> None:
    _, svc, owner = services
    endpoints(svc, owner)
    tree(tmp_path / "lab")
    (tmp_path / "archive" / "copy").mkdir()
    (tmp_path / "archive" / "copy" / "z.txt").mkdir()  # a directory where a file must go
    task, _ = svc.transfers.submit(owner, submission())
    drain(svc)
    done = svc.transfers.get_task(owner, task["task_id"])
    assert (done["status"], done["files_copied"], done["files_failed"]) == ("FAILED", 3, 1)
    failed = [e for e in svc.transfers.events(owner, task["task_id"]) if e["kind"] == "failed"]
    assert failed[0]["path"] == "copy/z.txt"


def test_pause_resume_cancel_and_delete(
    services: tuple[Any, Services, int], tmp_path: Path
) -> None:
    _, svc, owner = services
    endpoints(svc, owner)
    files = tree(tmp_path / "lab")
    task, _ = svc.transfers.submit(owner, submission())
    tid = task["task_id"]
    assert svc.transfers.pause(owner, tid)["status"] == "INACTIVE"
    with pytest.raises(errors.Conflict):
        svc.transfers.pause(owner, tid)
    assert not worker(svc).run_once()  # a paused task is left alone
    assert on_disk(tmp_path / "archive") == {}
    with pytest.raises(errors.Conflict):
        svc.transfers.delete_task(owner, tid)
    assert svc.transfers.resume(owner, tid)["status"] == "ACTIVE"
    drain(svc)
    assert svc.transfers.wait(owner, tid, timeout=5)["status"] == "SUCCEEDED"
    assert len(on_disk(tmp_path / "archive")) == len(files)
    with pytest.raises(errors.Conflict):
        svc.transfers.cancel(owner, tid)
    other, _ = svc.transfers.submit(owner, submission())
    cancelled = svc.transfers.cancel(owner, other["task_id"])
    assert (cancelled["status"], cancelled["error"]) == ("FAILED", "cancelled by its owner")
    assert not worker(svc).run_once()
    svc.transfers.delete_task(owner, tid)
    with pytest.raises(errors.NotFound):
        svc.transfers.get_task(owner, tid)


def test_tasks_and_endpoints_belong_to_their_owner(
    services: tuple[Any, Services, int], tmp_path: Path
) -> None:
    meta, svc, owner = services
    endpoints(svc, owner)
    task, _ = svc.transfers.submit(owner, submission())
    stranger = meta.create_user(f"s{uuid.uuid4().hex[:6]}").id
    with pytest.raises(errors.NotFound):
        svc.transfers.get_task(stranger, task["task_id"])
    with pytest.raises(errors.NotFound):
        svc.transfers.cancel(stranger, task["task_id"])
    with pytest.raises(errors.NotFound):
        svc.transfers.submit(stranger, submission())
    assert svc.transfers.list_tasks(stranger) == []
    assert [t["task_id"] for t in svc.transfers.list_tasks(owner)] == [task["task_id"]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"items": []}, "at least one item"),
        ({"items": [{"source_path": "a"}]}, "source_path and destination_path"),
        ({"items": [{"source_path": "../x", "destination_path": "y"}]}, "'..'"),
        ({"sync_level": "fast"}, "sync_level"),
        ({"filter_rules": [{"action": "drop", "pattern": "*"}]}, "include or exclude"),
        ({"notify_webhook": "ftp://x"}, "notify_webhook"),
        ({"notify_email": "me at example.org"}, "not an e-mail address"),
        ({"label": "x" * 300}, "label"),
    ],
)
def test_bad_submissions_are_refused_and_store_nothing(
    services: tuple[Any, Services, int], change: dict[str, Any], message: str
) -> None:
    _, svc, owner = services
    endpoints(svc, owner)
    with pytest.raises(errors.InvalidArgument, match=message):
        svc.transfers.submit(owner, submission(**change))
    assert svc.transfers.list_tasks(owner) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("bad name", "posix", {"root": "lab"}), "endpoint name"),
        (("x", "ftp", {}), "kind must be"),
        (("x", "posix", {"root": "/etc"}), "root must be one"),
        (("x", "s3", {"url": "s3.example"}), "url"),
        (("x", "s3", {"url": "http://h", "bucket": "b", "colour": 1}), "Unknown endpoint"),
        (("x", "posix", {"root": "lab"}, {"access_key": "a", "secret_key": "b"}), "Credentials"),
    ],
)
def test_bad_endpoints_are_refused(
    services: tuple[Any, Services, int], args: tuple[Any, ...], message: str
) -> None:
    _, svc, owner = services
    with pytest.raises(errors.InvalidArgument, match=message):
        svc.transfers.create_endpoint(owner, *args)
    assert svc.transfers.list_endpoints(owner) == []


def test_endpoints_keep_credentials_sealed_and_browse(
    services: tuple[Any, Services, int], tmp_path: Path
) -> None:
    meta, svc, owner = services
    made = svc.transfers.create_endpoint(
        owner,
        "remote",
        "s3",
        {"url": "http://127.0.0.1:1", "bucket": "b"},
        {"access_key": "AKIDEXAMPLE", "secret_key": "very-secret-value"},
    )
    assert made["has_credentials"] and "secret" not in str(made)
    with meta.engine.connect() as conn:
        stored = conn.execute(sa.select(schema.transfer_endpoints.c.secret)).scalar()
    assert "very-secret-value" not in stored and "AKIDEXAMPLE" not in stored
    row = svc.transfers.store.get_endpoint(owner, "remote")
    from lading.services.transfers import unseal

    assert unseal(svc.transfers.keyring, row.secret)["secret_key"] == "very-secret-value"
    with pytest.raises(errors.Conflict):
        svc.transfers.create_endpoint(owner, "remote", "posix", {"root": "lab"})
    endpoints(svc, owner)
    tree(tmp_path / "lab")
    svc.transfers.mkdir(owner, "lab", "new/dir")
    svc.transfers.rename(owner, "lab", "run1/z.txt", "new/dir/z.txt")
    listed = svc.transfers.ls(owner, "lab", "")
    assert [e["path"] for e in listed] == [
        "new/dir/z.txt",
        "run1/a.csv",
        "run1/b/c.bin",
        "run1/empty",
    ]
    with pytest.raises(errors.InvalidArgument):
        svc.transfers.ls(owner, "lab", "../..")
    task, _ = svc.transfers.submit(owner, submission())
    with pytest.raises(errors.Conflict):
        svc.transfers.delete_endpoint(owner, "lab")
    svc.transfers.cancel(owner, task["task_id"])
    svc.transfers.delete_endpoint(owner, "remote")
    assert [e["name"] for e in svc.transfers.list_endpoints(owner)] == ["archive", "lab"]


def test_a_passed_deadline_fails_the_task(
    services: tuple[Any, Services, int], tmp_path: Path
) -> None:
    _, svc, owner = services
    endpoints(svc, owner)
    tree(tmp_path / "lab")
    past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    task, _ = svc.transfers.submit(owner, submission(deadline=past))
    drain(svc)
    done = svc.transfers.get_task(owner, task["task_id"])
    assert done["status"] == "FAILED" and done["files_copied"] == 0


def test_a_task_to_the_s3_server_with_a_webhook(
    services: tuple[Any, Services, int], tmp_path: Path, server: RunningServer, s3: Any, bucket: str
) -> None:
    import http.server
    import json

    _, svc, owner = services
    svc.transfers.create_endpoint(owner, "lab", "posix", {"root": "lab"})
    svc.transfers.create_endpoint(
        owner,
        "store",
        "s3",
        {"url": server.url, "bucket": bucket},
        {"access_key": server.access_key, "secret_key": server.secret_key},
    )
    files = tree(tmp_path / "lab")
    received: list[dict[str, Any]] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    hook = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{hook.server_address[1]}/done"
        task, _ = svc.transfers.submit(owner, submission(destination="store", notify_webhook=url))
        drain(svc)
    finally:
        hook.shutdown()
        hook.server_close()
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    got = {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}
    assert got == {k.replace("run1/", "copy/"): v for k, v in files.items()}
    assert [r["task"]["status"] for r in received] == ["SUCCEEDED"]
    assert received[0]["task"]["task_id"] == task["task_id"]
    kinds = [e["kind"] for e in svc.transfers.events(owner, task["task_id"])]
    assert kinds[-1] == "notified"


def test_a_schedule_runs_a_sync_and_skips_while_the_last_run_goes_on(
    services: tuple[Any, Services, int], tmp_path: Path
) -> None:
    from lading.metadata.store import now_us

    _, svc, owner = services
    endpoints(svc, owner)
    files = tree(tmp_path / "lab")
    made = svc.transfers.create_schedule(owner, submission(label="hourly"), every_minutes=60)
    assert (made["sync_level"], made["every_minutes"], made["runs"]) == ("mtime", 60, 0)
    start = now_us()
    assert svc.transfers.run_due_schedules(start) == 1  # the first run is at creation
    assert svc.transfers.run_due_schedules(start) == 0  # not due again yet
    hour = 3600 * 1_000_000
    assert svc.transfers.run_due_schedules(start + hour + 1) == 0  # the first is still going
    shown = svc.transfers.get_schedule(owner, made["schedule_id"])
    assert (shown["runs"], shown["skipped"]) == (1, 1)
    drain(svc)
    first = svc.transfers.get_task(owner, shown["last_task_id"])
    assert first["status"] == "SUCCEEDED" and first["files_copied"] == len(files)
    assert svc.transfers.run_due_schedules(start + 2 * hour + 1) == 1
    drain(svc)
    again = svc.transfers.get_schedule(owner, made["schedule_id"])
    second = svc.transfers.get_task(owner, again["last_task_id"])
    assert (second["status"], second["files_copied"], second["files_skipped"]) == (
        "SUCCEEDED",
        0,
        len(files),
    )
    assert again["runs"] == 2
    svc.transfers.delete_schedule(owner, made["schedule_id"])
    assert svc.transfers.list_schedules(owner) == []


def test_cron_schedules_and_bad_schedules(services: tuple[Any, Services, int]) -> None:
    _, svc, owner = services
    endpoints(svc, owner)
    made = svc.transfers.create_schedule(owner, submission(), cron="30 2 * * *")
    assert made["cron"] == "30 2 * * *"
    svc.transfers.run_due_schedules()
    after = svc.transfers.get_schedule(owner, made["schedule_id"])
    assert after["next_run"].endswith("T02:30:00Z") and after["runs"] == 1
    for kwargs, message in [
        ({}, "either every_minutes or cron"),
        ({"every_minutes": 5, "cron": "* * * * *"}, "either every_minutes or cron"),
        ({"every_minutes": 0}, "between 1 and"),
        ({"cron": "every day"}, "not a cron expression"),
    ]:
        with pytest.raises(errors.InvalidArgument, match=message):
            svc.transfers.create_schedule(owner, submission(), **kwargs)
    with pytest.raises(errors.InvalidArgument, match="no deadline"):
        svc.transfers.create_schedule(
            owner, submission(deadline=dt.datetime(2030, 1, 1)), every_minutes=5
        )
    assert len(svc.transfers.list_schedules(owner)) == 1
