"""`lading cp` / `lading sync` with ENDPOINT:PATH: a registered endpoint reached through the
server's relay routes, by real CLI processes against a real server."""

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

from lading.client import (
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    TransferClient,
)
from lading.testing.server import RunningServer, run_server


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lab")


@pytest.fixture(scope="module")
def rserver(tmp_path_factory: pytest.TempPathFactory, lab: Path) -> Iterator[RunningServer]:
    running = run_server(
        tmp_path_factory.mktemp("rserver") / "data",
        env={"LADING_TRANSFERS__POSIX_ROOTS": json.dumps({"lab": str(lab)})},
    )
    yield running
    running.kill()


def new_user(server: RunningServer) -> dict[str, str]:
    made: dict[str, str] = json.loads(server.admin("add-user", f"u-{uuid.uuid4().hex[:6]}"))
    return made


def cli(server: RunningServer, user: dict[str, str], home: Path) -> Any:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            "AWS_ACCESS_KEY_ID": user["access_key"],
            "AWS_SECRET_ACCESS_KEY": user["secret_key"],
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "none"),
            "AWS_CONFIG_FILE": str(home / "none"),
            "LADING_ENDPOINT": server.url,
        }
        return subprocess.run(
            [sys.executable, "-m", "lading", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    return run


def summary(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def files_under(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


@pytest.fixture
def owner(rserver: RunningServer, tmp_path: Path) -> tuple[dict[str, str], Any]:
    user = new_user(rserver)
    with TransferClient(
        rserver.url, access_key=user["access_key"], secret_key=user["secret_key"]
    ) as client:
        client.create_endpoint("mylab", "posix", config={"root": "lab"})
    home = tmp_path / "home"
    home.mkdir()
    return user, cli(rserver, user, home)


def test_a_tree_goes_to_a_posix_endpoint_and_back(
    owner: tuple[dict[str, str], Any], lab: Path, tmp_path: Path
) -> None:
    _, lading = owner
    run = f"runs/{uuid.uuid4().hex[:6]}"
    up = tmp_path / "up"
    files = {
        "a.txt": b"alpha",
        "sub/big.bin": os.urandom(12 * 1024 * 1024 + 7),  # three parts of 5 MiB
        "sub/empty": b"",
    }
    for rel, data in files.items():
        (up / rel).parent.mkdir(parents=True, exist_ok=True)
        (up / rel).write_bytes(data)
    sizes = ["--part-size", "5", "--upload-cutoff", "5"]  # big.bin goes in parts
    sent = summary(lading("cp", "-r", str(up), f"mylab:{run}", *sizes, "--json"))
    assert (sent["files_copied"], sent["files_failed"]) == (3, 0)
    assert files_under(lab / run) == files
    # and back, then a sync with nothing to do
    got = summary(lading("sync", f"mylab:{run}", str(tmp_path / "down"), "--json"))
    assert got["files_copied"] == 3 and files_under(tmp_path / "down") == files
    again = summary(lading("sync", f"mylab:{run}", str(tmp_path / "down"), "--json"))
    assert again["files_copied"] == 0
    # one file, into a directory
    one = summary(lading("cp", f"mylab:{run}/a.txt", str(tmp_path / "one") + "/", "--json"))
    assert one["files_copied"] == 1 and (tmp_path / "one" / "a.txt").read_bytes() == b"alpha"
    # a sync with --delete removes what the source no longer has, on the endpoint
    (up / "a.txt").unlink()
    synced = summary(lading("sync", str(up), f"mylab:{run}", "--delete", "--json"))
    assert synced["files_deleted"] == 1
    assert sorted(files_under(lab / run)) == ["sub/big.bin", "sub/empty"]


def test_unknown_endpoints_and_other_users_endpoints_are_refused(
    owner: tuple[dict[str, str], Any], rserver: RunningServer, lab: Path, tmp_path: Path
) -> None:
    _, lading = owner
    (tmp_path / "f").write_bytes(b"x")
    (lab / "shared.txt").write_bytes(b"in the lab")
    done = lading("cp", str(tmp_path / "f"), "nosuch:x")
    assert done.returncode == 1
    assert "'nosuch' is not one of your endpoints" in done.stderr
    # another user reaches no endpoint of the owner, by the CLI or the API
    other = new_user(rserver)
    home = tmp_path / "other"
    home.mkdir()
    done = cli(rserver, other, home)("cp", "mylab:shared.txt", str(tmp_path / "stolen"))
    assert done.returncode == 1 and "'mylab' is not one of your endpoints" in done.stderr
    assert not (tmp_path / "stolen").exists()
    with TransferClient(
        rserver.url, access_key=other["access_key"], secret_key=other["secret_key"]
    ) as client:
        with pytest.raises(NotFoundError):
            client.endpoint_stat("mylab", "shared.txt")
        with pytest.raises(NotFoundError):
            client.endpoint_write("mylab", "planted.txt", [b"x"], size=1)
    assert not (lab / "planted.txt").exists()


def test_nothing_outside_the_root_is_reachable(
    owner: tuple[dict[str, str], Any], rserver: RunningServer, lab: Path, tmp_path: Path
) -> None:
    user, lading = owner
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"not exported")
    link = lab / f"escape-{uuid.uuid4().hex[:6]}"
    link.symlink_to(outside)
    done = lading("cp", "mylab:../secret.txt", str(tmp_path / "x"))
    assert done.returncode == 2 and "'..'" in done.stderr
    done = lading("cp", f"mylab:{link.name}/secret.txt", str(tmp_path / "x"))
    assert done.returncode == 1 and not (tmp_path / "x").exists()
    (tmp_path / "f").write_bytes(b"planted")
    done = lading("cp", str(tmp_path / "f"), f"mylab:{link.name}/planted.txt")
    assert done.returncode == 1 and not (outside / "planted.txt").exists()
    with TransferClient(
        rserver.url, access_key=user["access_key"], secret_key=user["secret_key"]
    ) as client:
        with pytest.raises(PermissionDeniedError) as caught:
            client.endpoint_stat("mylab", f"{link.name}/secret.txt")
        assert caught.value.code == "PathOutsideRoot"
        with pytest.raises(BadRequestError):
            client.endpoint_stat("mylab", "../secret.txt")
        # a body shorter than announced is refused (retryable) and leaves no file
        with pytest.raises(ServerError) as short:
            client.endpoint_write("mylab", "short.txt", [b"abc"], size=10)
        assert (short.value.http_status, short.value.code) == (503, "TruncatedRead")
        assert not (lab / "short.txt").exists()
