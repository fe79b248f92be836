"""`lading user|group|project|usage` against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from lading.cli.commands.group import VERBS as GROUP_VERBS
from lading.cli.commands.project import VERBS as PROJECT_VERBS
from lading.cli.commands.user import VERBS as USER_VERBS
from lading.testing.server import RunningServer
from tests.conftest import make_client, new_bucket_name

HELP = [
    ["user"],
    ["group"],
    ["project"],
    ["usage"],
    *(["user", verb] for verb in USER_VERBS),
    *(["group", verb] for verb in GROUP_VERBS),
    *(["project", verb] for verb in PROJECT_VERBS),
]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lading", *args], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.parametrize("command", HELP, ids=" ".join)
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    done = run(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert "Example" in done.stdout


@pytest.fixture
def env(server: RunningServer, tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LADING_"))}
    return {
        **clean,
        "HOME": str(tmp_path),
        "LADING_ENDPOINT": server.url,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
    }


def ok(*args: str, env: dict[str, str]) -> Any:
    done = run(*args, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "--json" in args else done.stdout


def test_users_groups_and_projects_from_the_command_line(
    server: RunningServer, env: dict[str, str]
) -> None:
    stem = uuid.uuid4().hex[:8]
    user = ok("user", "create", f"ann-{stem}", "--email", "ann@lab.example", "--json", env=env)
    assert user["email"] == "ann@lab.example" and user["secret_key"]
    assert ok("user", "disable", user["name"], "--json", env=env)["enabled"] is False
    assert ok("user", "enable", user["name"], "--json", env=env)["enabled"] is True
    listed = ok("user", "list", "--json", env=env)
    assert user["name"] in {u["name"] for u in listed}

    group = f"imaging-{stem}"
    ok("group", "create", group, "--description", "Imaging", "--json", env=env)
    added = ok("group", "add-member", group, user["name"], "--json", env=env)
    assert added["members"] == [user["name"]]
    assert "imaging" in ok("group", "list", env=env).lower()
    assert ok("group", "remove-member", group, user["name"], "--json", env=env)["members"] == []
    assert ok("group", "delete", group, "--json", env=env) == {"deleted": group}

    project = f"genomics-{stem}"
    made = ok(
        "project",
        "create",
        project,
        "--quota-bytes",
        "2KiB",
        "--quota-objects",
        "10",
        "--expires",
        "2099-06-30",
        "--json",
        env=env,
    )
    assert (made["quota_bytes"], made["quota_objects"]) == (2048, 10)
    assert made["expires_at"] == "2099-06-30T00:00:00Z"
    ok("project", "set-member", project, user["name"], "writer", "--json", env=env)
    bucket = new_bucket_name()
    ann_env = {
        **env,
        "AWS_ACCESS_KEY_ID": user["access_key"],
        "AWS_SECRET_ACCESS_KEY": user["secret_key"],
    }
    ok("project", "create-bucket", project, bucket, "--json", env=ann_env)
    ann = make_client(server.url, user["access_key"], user["secret_key"])
    ann.put_object(Bucket=bucket, Key="k", Body=b"x" * 100)
    shown = ok("project", "show", project, "--json", env=env)
    assert shown["buckets"] == [bucket] and shown["used_bytes"] == 100
    updated = ok("project", "update", project, "--quota-bytes", "none", "--json", env=env)
    assert updated["quota_bytes"] is None and updated["quota_objects"] == 10
    refused = run("project", "delete", project, env=env)
    assert refused.returncode != 0 and "still owns buckets" in refused.stderr
    ann.delete_object(Bucket=bucket, Key="k")
    ann.delete_bucket(Bucket=bucket)
    ok("project", "remove-member", project, user["name"], "--json", env=env)
    assert ok("project", "delete", project, "--json", env=env) == {"deleted": project}
    assert project not in {p["name"] for p in ok("project", "list", "--json", env=env)}


def test_bad_input_is_refused_in_the_users_terms(env: dict[str, str]) -> None:
    done = run("project", "create", "x-" + uuid.uuid4().hex[:6], "--quota-bytes", "lots", env=env)
    assert done.returncode != 0 and "not a size" in done.stderr
    done = run("project", "show", "no-such-" + uuid.uuid4().hex[:6], env=env)
    assert done.returncode != 0 and "does not exist" in done.stderr
    done = run("group", "add-member", "no-such-" + uuid.uuid4().hex[:6], "root", env=env)
    assert done.returncode != 0 and "NoSuchGroup" in done.stderr


def test_commands_say_when_you_are_not_logged_in(server: RunningServer, tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LADING_"))}
    env = {**clean, "HOME": str(tmp_path), "LADING_ENDPOINT": server.url}
    for args in (["project", "list"], ["usage", "--from", "2026-01-01", "--to", "2026-01-02"]):
        done = run(*args, env=env)
        assert done.returncode != 0 and "Not logged in" in done.stderr
