"""E-mail notices of transfer tasks through a real server: an SMTP server (aiosmtpd), the outbox
when none is configured, and the requests that are refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lading.client import BadRequestError, IdentityClient, SharesClient, TransferClient
from lading.testing.server import RunningServer, serving
from tests.integration.access.test_notifications import Inbox, smtp  # noqa: F401 (fixture)


def roots(tmp_path: Path) -> dict[str, str]:
    made = {}
    for name in ("lab", "archive"):
        (tmp_path / name).mkdir()
        made[name] = str(tmp_path / name)
    return {
        "LADING_TRANSFERS__POSIX_ROOTS": json.dumps(made),
        "LADING_TRANSFERS__POLL_SECONDS": "0.2",
    }


def researcher(server: RunningServer, email: str) -> TransferClient:
    """A new user with `email`, its lab and archive endpoints; its transfer client."""
    with IdentityClient(
        server.url, access_key=server.access_key, secret_key=server.secret_key
    ) as admin:
        made = admin.create_user(f"r{uuid.uuid4().hex[:6]}", email=email)
    client = TransferClient(
        server.url, access_key=made["access_key"], secret_key=made["secret_key"]
    )
    client.create_endpoint("lab", "posix", config={"root": "lab"})
    client.create_endpoint("archive", "posix", config={"root": "archive"})
    return client


def a_run(tmp_path: Path) -> str:
    name = f"run-{uuid.uuid4().hex[:6]}"
    (tmp_path / "lab" / name / "sub").mkdir(parents=True)
    (tmp_path / "lab" / name / "a.txt").write_bytes(b"alpha")
    (tmp_path / "lab" / name / "sub" / "b.bin").write_bytes(os.urandom(3000))
    return name


def item(name: str) -> list[dict[str, Any]]:
    return [{"source_path": name, "destination_path": name, "recursive": True}]


def outbox(server: RunningServer) -> list[dict[str, Any]]:
    with SharesClient(
        server.url, access_key=server.access_key, secret_key=server.secret_key
    ) as admin:
        return list(admin.list_outbox())


def test_the_ends_of_tasks_are_mailed_as_asked(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:  # noqa: F811
    inbox, port = smtp
    env = {
        **roots(tmp_path),
        "LADING_SMTP__HOST": "127.0.0.1",
        "LADING_SMTP__PORT": str(port),
        "LADING_SMTP__STARTTLS": "false",
        "LADING_SMTP__USER": "lading",
        "LADING_SMTP__PASSWORD": "s3cret",
        "LADING_SMTP__SENDER": "transfers@example.org",
    }
    with serving(tmp_path / "data", env=env) as server:
        client = researcher(server, "alice@lab.example")
        name = a_run(tmp_path)
        # by default: the end is mailed to the submitting user's address
        done = client.submit_transfer("lab", "archive", item(name), label="run 7")
        done = client.wait_transfer(done["task_id"], timeout=60)
        assert done["status"] == "SUCCEEDED"
        assert done["notify"]["email"] == [] and done["notify"]["on_succeeded"]
        # only failures, to given addresses: a success sends nothing...
        quiet = client.submit_transfer(
            "lab",
            "archive",
            item(name),
            notify_email="ops@example.org, pi@example.org",
            notify_on_succeeded=False,
        )
        quiet = client.wait_transfer(quiet["task_id"], timeout=60)
        assert quiet["status"] == "SUCCEEDED"
        # ...a failure is mailed to both (a missing source file fails the task)
        failed = client.submit_transfer(
            "lab",
            "archive",
            [{"source_path": f"{name}/missing", "destination_path": "x"}],
            label="broken",
            notify_email=["ops@example.org", "pi@example.org"],
            notify_on_succeeded=False,
        )
        failed = client.wait_transfer(failed["task_id"], timeout=60)
        assert failed["status"] == "FAILED"
        # a pause is mailed when asked (notify_on_inactive)
        paused = client.submit_transfer(
            "lab", "archive", item("nothing-here"), label="held", notify_on_inactive=True
        )
        assert client.pause_transfer(paused["task_id"])["status"] == "INACTIVE"
        assert client.cancel_transfer(paused["task_id"])["status"] == "FAILED"
        events = [e["kind"] for e in client.transfer_events(done["task_id"])]
        kept = outbox(server)
        log = server.log()
        client.close()
    assert events[-2:] == ["succeeded", "mailed"]
    by_subject = {}
    for recipients, message in inbox.messages:
        by_subject.setdefault(message["Subject"], []).append((recipients, message))
    [(to, first)] = by_subject["Transfer SUCCEEDED: run 7"]
    assert to == ["alice@lab.example"] and first["From"] == "transfers@example.org"
    body = first.get_payload()
    assert done["task_id"] in body and "run 7" in body
    assert "2 copied of 2 planned" in body and "0 failed" in body
    assert f"{3005} copied" in body
    assert f"lading transfer events {done['task_id']}" in body
    broken = by_subject["Transfer FAILED: broken"]
    assert sorted(r for to, _ in broken for r in to) == ["ops@example.org", "pi@example.org"]
    assert failed["task_id"] in broken[0][1].get_payload()
    assert not [s for s in by_subject if quiet["task_id"] in s]
    [(to, held)] = by_subject["Transfer INACTIVE: held"]
    assert to == ["alice@lab.example"] and "was paused" in held.get_payload()
    [(to, cancelled)] = by_subject["Transfer FAILED: held"]
    assert "cancelled by its owner" in cancelled.get_payload()
    assert {m["status"] for m in kept} == {"sent"}
    assert len(kept) == len(inbox.messages)
    assert "s3cret" not in log


def test_without_smtp_notices_wait_in_the_outbox(tmp_path: Path) -> None:
    with serving(tmp_path / "data", env=roots(tmp_path)) as server:
        client = researcher(server, "bob@lab.example")
        name = a_run(tmp_path)
        task = client.submit_transfer("lab", "archive", item(name), label="to the outbox")
        task = client.wait_transfer(task["task_id"], timeout=60)
        # a user without an address and no notify_email: nothing to mail
        nobody = TransferClient(
            server.url, access_key=server.access_key, secret_key=server.secret_key
        )
        nobody.create_endpoint("lab", "posix", config={"root": "lab"})
        single = [{"source_path": f"{name}/a.txt", "destination_path": f"{name}/copy.txt"}]
        silent = nobody.submit_transfer("lab", "lab", single)
        silent = nobody.wait_transfer(silent["task_id"], timeout=60)
        silent_events = [e["kind"] for e in nobody.transfer_events(silent["task_id"])]
        kept = outbox(server)
        client.close()
        nobody.close()
    assert task["status"] == "SUCCEEDED" and silent["status"] == "SUCCEEDED"
    [message] = kept
    assert (message["recipient"], message["status"], message["share_id"]) == (
        "bob@lab.example",
        "stored",
        None,
    )
    assert message["subject"] == "Transfer SUCCEEDED: to the outbox"
    assert task["task_id"] in message["body"] and "2 copied" in message["body"]
    assert "mailed" not in silent_events


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"notify_email": "not-an-address"}, "is not an e-mail address"),
        ({"notify_email": ["a@example.org", "b@exa mple.org"]}, "is not an e-mail address"),
        ({"notify_email": "a@example.org\r\nBcc: all@example.org"}, "is not an e-mail address"),
        ({"notify_email": [f"u{n}@example.org" for n in range(11)]}, "at most 10"),
        (
            {
                "notify_email": "a@example.org",
                "notify_on_succeeded": False,
                "notify_on_failed": False,
            },
            "are all false",
        ),
        ({"notify_on_failed": "sometimes"}, ""),
        ({"notify_email": 7}, ""),
    ],
)
def test_bad_notice_settings_are_refused(
    bad_server: RunningServer, change: dict[str, Any], detail: str
) -> None:
    body = {
        "source_endpoint": "lab",
        "destination_endpoint": "lab",
        "items": [{"source_path": "a", "destination_path": "b"}],
        **change,
    }
    with TransferClient(
        bad_server.url, access_key=bad_server.access_key, secret_key=bad_server.secret_key
    ) as client:
        if "lab" not in [e["name"] for e in client.list_endpoints()]:
            client.create_endpoint("lab", "posix", config={"root": "lab"})
        with pytest.raises(BadRequestError) as caught:
            client.request("POST", "/transfers", json=body)
        assert caught.value.http_status == (400 if detail else 422)
        assert caught.value.code and detail in caught.value.message
        assert list(client.list_transfers()) == []


def test_the_cli_sets_notices_and_refuses_bad_ones(bad_server: RunningServer) -> None:
    env = {
        **os.environ,
        "LADING_ENDPOINT": bad_server.url,
        "AWS_ACCESS_KEY_ID": bad_server.access_key,
        "AWS_SECRET_ACCESS_KEY": bad_server.secret_key,
    }
    lading = [sys.executable, "-m", "lading"]
    answer = subprocess.run(
        [*lading, "transfer", "submit", "lab:a", "lab:b", "--notify", "sometimes"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert answer.returncode == 2
    assert "--notify" in answer.stderr and "sometimes" in answer.stderr
    answer = subprocess.run(
        [*lading, "transfer", "submit", "lab:a", "lab:b", "--notify-email", "nobody"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert answer.returncode != 0 and "not an e-mail address" in answer.stderr
    # a user of its own (the other tests count root's tasks)
    made = json.loads(bad_server.admin("add-user", f"cli-{uuid.uuid4().hex[:6]}"))
    env |= {"AWS_ACCESS_KEY_ID": made["access_key"], "AWS_SECRET_ACCESS_KEY": made["secret_key"]}
    with TransferClient(
        bad_server.url, access_key=made["access_key"], secret_key=made["secret_key"]
    ) as client:
        client.create_endpoint("lab", "posix", config={"root": "lab"})
    answer = subprocess.run(
        [
            *lading,
            "transfer",
            "submit",
            "lab:a",
            "lab:b",
            "-r",
            "--notify",
            "failed,inactive",
            "--notify-email",
            "ops@example.org",
            "--notify-email",
            "pi@example.org",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    notify = json.loads(answer.stdout)["notify"]
    assert notify == {
        "webhook": "",
        "email": ["ops@example.org", "pi@example.org"],
        "on_succeeded": False,
        "on_failed": True,
        "on_inactive": True,
    }


@pytest.fixture(scope="module")
def bad_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    base = tmp_path_factory.mktemp("notices")
    with serving(base / "data", env=roots(base)) as server:
        yield server
