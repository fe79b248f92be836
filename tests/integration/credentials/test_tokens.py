"""Passwords and bearer tokens through a real server, SDK and CLI."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from lading.client import AuthClient, AuthenticationError, IdentityClient
from lading.client.errors import BadRequestError, PermissionDeniedError
from lading.testing.server import RunningServer
from tests.integration.credentials.conftest import ClockedServer

PASSWORD = "correct horse battery"


def new_user(server: RunningServer) -> dict[str, str]:
    created: dict[str, str] = json.loads(server.admin("add-user", f"p-{uuid.uuid4().hex[:8]}"))
    return created


def with_password(server: RunningServer | ClockedServer) -> str:
    """A new user whose password root set; returns the user name."""
    name = f"p-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "lading",
            "admin",
            "add-user",
            name,
            "--data-dir",
            str(server.data_dir),
        ],
        check=True,
        capture_output=True,
    )
    with AuthClient(server.url, access_key=server.access_key, secret_key=server.secret_key) as a:
        a.set_password(name, PASSWORD)
    return name


def test_login_gives_tokens_that_the_api_accepts(server: RunningServer) -> None:
    name = with_password(server)
    with AuthClient(server.url) as anonymous:
        pair = anonymous.login(name, PASSWORD, description="laptop")
    assert pair["access_token"].startswith("lat_") and pair["refresh_token"].startswith("lrt_")
    assert 3500 <= pair["expires_in"] <= 3600
    with IdentityClient(server.url, token=pair["access_token"]) as me:
        found = me.whoami()
    assert found["user"] == name and found["access_key"] is None
    assert found["credentials_expire"] is not None
    with AuthClient(server.url, token=pair["access_token"]) as auth:
        tokens = auth.list_tokens()
    assert [t["description"] for t in tokens] == ["laptop"]
    assert tokens[0]["id"] == pair["refresh_token_id"]


@pytest.mark.parametrize(
    ("user_change", "password"), [("", "wrong password"), ("nobody-", PASSWORD)]
)
def test_a_wrong_password_or_user_is_refused(
    server: RunningServer, user_change: str, password: str
) -> None:
    name = with_password(server)
    with AuthClient(server.url) as anonymous, pytest.raises(AuthenticationError) as caught:
        anonymous.login(user_change + name, password)
    assert caught.value.code == "InvalidCredentials"
    assert caught.value.http_status == 401


def test_a_user_without_a_password_cannot_log_in(server: RunningServer) -> None:
    user = new_user(server)
    with AuthClient(server.url) as anonymous, pytest.raises(AuthenticationError):
        anonymous.login(user["user"], "any password at all")


def test_refresh_and_revocation(server: RunningServer) -> None:
    name = with_password(server)
    with AuthClient(server.url) as anonymous:
        pair = anonymous.login(name, PASSWORD)
        fresh = anonymous.refresh(pair["refresh_token"])
        assert fresh["refresh_token"] is None
        assert fresh["access_token"] != pair["access_token"]
        with IdentityClient(server.url, token=fresh["access_token"]) as me:
            assert me.whoami()["user"] == name
        anonymous.revoke(pair["refresh_token"])
        with pytest.raises(AuthenticationError) as caught:
            anonymous.refresh(pair["refresh_token"])
        assert caught.value.code == "InvalidCredentials"
        # the access tokens made from it went with it
        for token in (pair["access_token"], fresh["access_token"]):
            with IdentityClient(server.url, token=token) as me, pytest.raises(AuthenticationError):
                me.whoami()
        # an access token is not a refresh token, and garbage is no token at all
        with pytest.raises(AuthenticationError):
            anonymous.refresh(anonymous.login(name, PASSWORD)["access_token"])
    response = httpx.get(
        f"{server.url}/_/api/v1/whoami", headers={"authorization": "Bearer lat_nonsense"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "InvalidCredentials"


def test_an_access_token_expires_with_the_moved_clock(clocked_server: ClockedServer) -> None:
    name = with_password(clocked_server)
    with AuthClient(clocked_server.url) as anonymous:
        pair = anonymous.login(name, PASSWORD)
    with IdentityClient(clocked_server.url, token=pair["access_token"]) as me:
        me.whoami()
        clocked_server.clock.advance(timedelta(hours=1, seconds=1))
        with pytest.raises(AuthenticationError) as caught:
            me.whoami()
    assert "expired" in caught.value.message
    with AuthClient(clocked_server.url) as anonymous:
        fresh = anonymous.refresh(pair["refresh_token"])
        with IdentityClient(clocked_server.url, token=fresh["access_token"]) as me:
            assert me.whoami()["user"] == name
        clocked_server.clock.advance(timedelta(days=90))
        with pytest.raises(AuthenticationError):
            anonymous.refresh(pair["refresh_token"])


def test_changing_ones_own_password_needs_the_current_one(server: RunningServer) -> None:
    name = with_password(server)
    with AuthClient(server.url) as anonymous:
        token = anonymous.login(name, PASSWORD)["access_token"]
    with AuthClient(server.url, token=token) as auth:
        with pytest.raises(PermissionDeniedError):
            auth.set_my_password("another long one")
        with pytest.raises(PermissionDeniedError):
            auth.set_my_password("another long one", current_password="not it")
        with pytest.raises(BadRequestError):  # too short
            auth.set_my_password("short", current_password=PASSWORD)
        auth.set_my_password("another long one", current_password=PASSWORD)
    with AuthClient(server.url) as anonymous:
        with pytest.raises(AuthenticationError):
            anonymous.login(name, PASSWORD)
        anonymous.login(name, "another long one")
    # only administrators set other users' passwords
    with AuthClient(server.url, token=token) as auth, pytest.raises(PermissionDeniedError):
        auth.set_password("root", "taking over root")


def lading(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lading", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=60,
    )


def cli_env(server: RunningServer, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LADING_", "XDG_"))}
    return {
        **env,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "xdg"),
        "LADING_ENDPOINT": server.url,
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
    }


def test_cli_login_whoami_keys_and_logout(server: RunningServer, tmp_path: Path) -> None:
    name = with_password(server)
    env = cli_env(server, tmp_path)
    before = lading("key", "list", env=env)
    assert before.returncode != 0
    assert "Not logged in" in before.stderr and "lading login" in before.stderr
    wrong = lading("login", "-u", name, "--password-stdin", env=env, stdin="nope\n")
    assert wrong.returncode != 0 and "InvalidCredentials" in wrong.stderr
    assert not (tmp_path / "xdg" / "lading" / "tokens.json").exists()
    done = lading("login", "-u", name, "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    stored = tmp_path / "xdg" / "lading" / "tokens.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    who = json.loads(lading("whoami", "--json", env=env).stdout)
    assert who["user"] == name and who["credentials_expire"] and who["login_expires"]
    made = lading("key", "create", "--expires", "2099-01-01", "--json", env=env)
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    assert key["expires"].startswith("2099-01-01")
    listed = json.loads(lading("key", "list", "--json", env=env).stdout)
    assert [k["access_key"] for k in listed][-1] == key["access_key"]
    third = lading("key", "create", env=env)
    assert third.returncode != 0 and "TooManyAccessKeys" in third.stderr
    assert lading("key", "disable", key["access_key"], env=env).returncode == 0
    assert lading("key", "enable", key["access_key"], env=env).returncode == 0
    moved = lading("key", "expire", key["access_key"], "2098-06-30", "--json", env=env)
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout)["expires"].startswith("2098-06-30")
    shown = json.loads(lading("key", "show", key["access_key"], "--json", env=env).stdout)
    assert shown["expires"].startswith("2098-06-30") and shown["status"] == "active"
    past = lading("key", "expire", key["access_key"], "2001-01-01", "--json", env=env)
    assert json.loads(past.stdout)["expired"] is True  # a date gone by ends the key now
    never = json.loads(
        lading("key", "expire", key["access_key"], "never", "--json", env=env).stdout
    )
    assert never["expires"] is None and never["expired"] is False
    bad = lading("key", "expire", key["access_key"], "soon", env=env)
    assert bad.returncode == 2 and "is not a date like 2027-06-30" in bad.stderr
    deleted = lading("key", "delete", key["access_key"], "--json", env=env)
    assert json.loads(deleted.stdout) == {"deleted": key["access_key"]}
    gone = lading("key", "show", key["access_key"], env=env)
    assert gone.returncode == 1 and "HTTP 404" in gone.stderr
    # an access token that has expired is refreshed on its own
    entries = json.loads(stored.read_text())
    entries[server.url]["expires_at"] = 0
    stored.write_text(json.dumps(entries))
    assert lading("whoami", env=env).returncode == 0
    assert json.loads(stored.read_text())[server.url]["expires_at"] > 0
    out = lading("logout", env=env)
    assert out.returncode == 0, out.stderr
    after = lading("whoami", env=env)
    assert after.returncode != 0 and "Not logged in" in after.stderr
    # the refresh token was revoked on the server, not only forgotten
    with AuthClient(server.url) as anonymous, pytest.raises(AuthenticationError):
        anonymous.refresh(entries[server.url]["refresh_token"])


def test_cli_passwd_sets_ones_own_password(server: RunningServer, tmp_path: Path) -> None:
    user = new_user(server)
    env = {
        **cli_env(server, tmp_path),
        "AWS_ACCESS_KEY_ID": user["access_key"],
        "AWS_SECRET_ACCESS_KEY": user["secret_key"],
    }
    done = lading("passwd", "--password-stdin", env=env, stdin="first password\n\n")
    assert done.returncode == 0, done.stderr
    again = lading("passwd", "--password-stdin", env=env, stdin="second password\nwrong one\n")
    assert again.returncode != 0 and "current password is wrong" in again.stderr
    with AuthClient(server.url) as anonymous:
        anonymous.login(user["user"], "first password")
