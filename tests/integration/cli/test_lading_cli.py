"""The `lading` command itself: help, first start, admin users."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from lading.testing.server import run_server
from tests.conftest import make_client


def lading(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lading", *args], capture_output=True, text=True, env=env
    )


@pytest.mark.parametrize(
    "command",
    [
        ["--help"],
        ["serve", "--help"],
        ["worker", "--help"],
        ["admin", "add-user", "--help"],
        ["admin", "show-bucket", "--help"],
        ["whoami", "--help"],
        ["catalog", "--help"],
        *[["catalog", verb, "--help"] for verb in ("set", "get", "search", "ingest", "export")],
    ],
)
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    done = lading(*command)
    assert done.returncode == 0
    assert "Example" in done.stdout


def test_root_help_does_not_import_the_server() -> None:
    code = (
        "import sys; from lading.cli.main import cli\n"
        "try: cli(['--help'])\n"
        "except SystemExit: pass\n"
        "loaded = [m for m in ('uvicorn', 'starlette', 'sqlalchemy') if m in sys.modules]\n"
        "print('LOADED=' + ','.join(loaded))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "LOADED="


def test_first_start_generates_root_keys_once(tmp_path: Path) -> None:
    server = run_server(tmp_path / "data", known_root_keys=False)
    try:
        stored = tmp_path / "data" / "root-credentials.json"
        assert stat.S_IMODE(stored.stat().st_mode) == 0o600
        assert f"AWS_SECRET_ACCESS_KEY={server.secret_key}" in server.log()
        client = make_client(server.url, server.access_key, server.secret_key)
        assert client.list_buckets()["Owner"]["ID"] == "root"
        server.restart()
        assert server.log().count(server.secret_key) == 1  # printed once, on the first start
        client = make_client(server.url, server.access_key, server.secret_key)
        assert client.list_buckets()["Owner"]["ID"] == "root"
    finally:
        server.kill()


def test_a_new_data_directory_is_the_server_users_alone(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    done = lading("admin", "add-user", "alice", "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    # the database (sealed secrets, password hashes) and every blob live in it
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_a_data_directory_open_to_others_is_served_with_a_warning(tmp_path: Path) -> None:
    data = tmp_path / "shared"
    data.mkdir(mode=0o755)
    data.chmod(0o755)  # whatever the umask
    server = run_server(data)
    try:
        warning = f"data directory {data} is open to other users (mode 755)"
        assert server.log().count(warning) == 1  # once per start, not once per worker
        assert stat.S_IMODE(data.stat().st_mode) == 0o755  # the administrator's to change
    finally:
        server.kill()


def test_add_user_while_serving_gives_working_keys(server: object, tmp_path: Path) -> None:
    from lading.testing.server import RunningServer

    assert isinstance(server, RunningServer)
    created = json.loads(server.admin("add-user", "carol"))
    assert created["user"] == "carol"
    client = make_client(server.url, created["access_key"], created["secret_key"])
    assert client.list_buckets()["Buckets"] == []
    again = lading("admin", "add-user", "carol", "--data-dir", str(server.data_dir))
    assert again.returncode != 0 and "already exists" in again.stderr


def test_bad_config_file_is_a_clear_error(tmp_path: Path) -> None:
    done = lading("serve", "--config", str(tmp_path / "missing.toml"))
    assert done.returncode == 2 and "config file not found" in done.stderr
