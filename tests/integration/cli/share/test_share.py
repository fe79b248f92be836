"""`lading share create|list|show|delete|outbox` against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from lading.testing.server import RunningServer
from tests.conftest import new_bucket_name
from tests.integration.access.conftest import Actor, add_actor

Run = Callable[..., subprocess.CompletedProcess[str]]


def runner(server: RunningServer, actor: Actor | None, home: Path) -> Run:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "LADING_ENDPOINT": server.url,
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "none"),
    }
    if actor is not None:
        env["AWS_ACCESS_KEY_ID"] = actor.access_key
        env["AWS_SECRET_ACCESS_KEY"] = actor.secret_key

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lading", *args], capture_output=True, text=True, env=env
        )

    return run


@pytest.fixture(scope="module")
def owner(server: RunningServer) -> Actor:
    return add_actor(server, "cli-owner")


@pytest.fixture(scope="module")
def grantee(server: RunningServer) -> Actor:
    return add_actor(server, "cli-grantee")


@pytest.mark.parametrize(
    "command",
    [
        ["share", "--help"],
        ["share", "create", "--help"],
        ["share", "list", "--help"],
        ["share", "show", "--help"],
        ["share", "delete", "--help"],
        ["share", "outbox", "--help"],
        ["link", "--help"],
        ["link", "create", "--help"],
        ["link", "list", "--help"],
        ["link", "revoke", "--help"],
        ["link", "uses", "--help"],
    ],
)
def test_every_share_and_link_command_has_help_with_an_example(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lading", *command], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "Example" in done.stdout


def test_share_create_list_show_delete(
    server: RunningServer, owner: Actor, grantee: Actor, tmp_path: Path
) -> None:
    run = runner(server, owner, tmp_path)
    bucket = new_bucket_name()
    owner.s3.create_bucket(Bucket=bucket)
    owner.s3.put_object(Bucket=bucket, Key="docs/a", Body=b"a")
    done = run(
        "share",
        "create",
        bucket,
        "--prefix",
        "docs/",
        "--user",
        grantee.name,
        "--permissions",
        "rw",
        "--expires",
        "7d",
        "--message",
        "for you",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)
    assert (made["principal"], made["permissions"], made["prefix"]) == (grantee.name, "rw", "docs/")
    assert made["expires_at"] is not None
    grantee.s3.put_object(Bucket=bucket, Key="docs/b", Body=b"b")
    listed = json.loads(run("share", "list", "--bucket", bucket, "--json").stdout)
    assert [s["id"] for s in listed] == [made["id"]]
    table = run("share", "list", "--bucket", bucket).stdout
    assert table.splitlines()[0].split()[:3] == ["ID", "BUCKET", "PREFIX"]
    assert grantee.name in table
    shown = run("share", "show", str(made["id"]))
    assert shown.returncode == 0 and "principal:" in shown.stdout
    deleted = run("share", "delete", str(made["id"]))
    assert deleted.returncode == 0 and "deleted" in deleted.stdout
    with pytest.raises(ClientError):
        grantee.s3.get_object(Bucket=bucket, Key="docs/a")
    missing = run("share", "show", str(made["id"]))
    assert missing.returncode == 1
    assert "NoSuchShare" in missing.stderr


def test_share_create_refuses_bad_input_clearly(
    server: RunningServer, owner: Actor, grantee: Actor, tmp_path: Path
) -> None:
    run = runner(server, owner, tmp_path)
    bucket = new_bucket_name()
    owner.s3.create_bucket(Bucket=bucket)
    two = run("share", "create", bucket, "--user", grantee.name, "--anonymous")
    assert two.returncode == 2 and "exactly one grantee" in two.stderr
    when = run("share", "create", bucket, "--anonymous", "--expires", "next tuesday")
    assert when.returncode == 2 and "ISO 8601" in when.stderr
    unknown = run("share", "create", bucket, "--user", "no-such-user-xyz")
    assert unknown.returncode == 1 and "does not exist" in unknown.stderr
    assert json.loads(run("share", "list", "--bucket", bucket, "--json").stdout) == []


def test_share_commands_say_when_you_are_not_logged_in(
    server: RunningServer, tmp_path: Path
) -> None:
    done = runner(server, None, tmp_path)("share", "list")
    assert done.returncode == 1
    assert "Not logged in" in done.stderr


def test_share_outbox_is_for_admins(server: RunningServer, owner: Actor, tmp_path: Path) -> None:
    admin = Actor("root", server.access_key, server.secret_key, None)
    listed = runner(server, admin, tmp_path)("share", "outbox", "--json")
    assert listed.returncode == 0, listed.stderr
    assert isinstance(json.loads(listed.stdout), list)
    refused = runner(server, owner, tmp_path)("share", "outbox")
    assert refused.returncode == 1 and "administrator" in refused.stderr
