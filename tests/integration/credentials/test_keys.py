"""Access keys through a real server: two active at most, disable, enable, expire, delete."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.exceptions
import pytest

from lading.client import (
    AuditClient,
    AuthClient,
    AuthenticationError,
    ConflictError,
    KeysClient,
    NotFoundError,
    PermissionDeniedError,
)
from lading.client.errors import BadRequestError
from lading.testing.server import RunningServer
from tests.conftest import make_client, new_bucket_name
from tests.integration.credentials.conftest import ClockedServer


def new_user(server: RunningServer) -> dict[str, str]:
    created: dict[str, str] = json.loads(server.admin("add-user", f"k-{uuid.uuid4().hex[:8]}"))
    return created


def keys_of(server: Any, creds: dict[str, str]) -> KeysClient:
    return KeysClient(server.url, access_key=creds["access_key"], secret_key=creds["secret_key"])


def refused(client: Any) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.list_buckets()
    code: str = caught.value.response["Error"]["Code"]
    return code


def test_a_third_active_key_is_a_conflict_and_changes_nothing(server: RunningServer) -> None:
    user = new_user(server)
    with keys_of(server, user) as keys:
        second = keys.create_key()
        assert second["status"] == "active" and second["secret_key"]
        with pytest.raises(ConflictError) as caught:
            keys.create_key()
        assert caught.value.code == "TooManyAccessKeys"
        assert "at most 2" in caught.value.message
        listed = list(keys.list_keys())
        assert {k["access_key"] for k in listed} == {user["access_key"], second["access_key"]}
        # a disabled key frees a place; enabling it again while two are active is refused
        keys.disable_key(second["access_key"])
        third = keys.create_key()
        with pytest.raises(ConflictError):
            keys.enable_key(second["access_key"])
        assert keys.get_key(second["access_key"])["status"] == "disabled"
        keys.delete_key(third["access_key"])
        assert keys.enable_key(second["access_key"])["status"] == "active"


def test_disabled_keys_are_refused_and_enabled_ones_work_again(server: RunningServer) -> None:
    user = new_user(server)
    with keys_of(server, user) as keys:
        spare = keys.create_key()
        s3 = make_client(server.url, spare["access_key"], spare["secret_key"])
        s3.list_buckets()
        keys.disable_key(spare["access_key"])
        assert refused(s3) == "InvalidAccessKeyId"
        keys.enable_key(spare["access_key"])
        s3.list_buckets()
        keys.delete_key(spare["access_key"])
        assert refused(s3) == "InvalidAccessKeyId"
        with pytest.raises(NotFoundError):
            keys.get_key(spare["access_key"])


def test_users_manage_only_their_own_keys(server: RunningServer) -> None:
    alice, bob = new_user(server), new_user(server)
    with keys_of(server, alice) as keys:
        with pytest.raises(NotFoundError):
            keys.disable_key(bob["access_key"])
        with pytest.raises(PermissionDeniedError):
            keys.create_key(user=bob["user"])
        with pytest.raises(PermissionDeniedError):
            list(keys.list_keys(user=bob["user"]))
    root = {"access_key": server.access_key, "secret_key": server.secret_key}
    with keys_of(server, root) as admin:
        made = admin.create_key(user=bob["user"])
        assert made["user"] == bob["user"]
        assert len(list(admin.list_keys(user=bob["user"]))) == 2
        admin.delete_key(made["access_key"])
    # bob's key still works: alice's attempts changed nothing
    make_client(server.url, bob["access_key"], bob["secret_key"]).list_buckets()


def test_a_key_expiry_in_the_past_is_refused_at_creation(server: RunningServer) -> None:
    user = new_user(server)
    with keys_of(server, user) as keys, pytest.raises(BadRequestError):
        keys.create_key(expires=datetime.now(UTC) - timedelta(days=1))
    with keys_of(server, user) as keys:
        assert len(list(keys.list_keys())) == 1


def test_an_expired_key_is_refused_like_a_disabled_one(clocked_server: ClockedServer) -> None:
    root = {"access_key": clocked_server.access_key, "secret_key": clocked_server.secret_key}
    with keys_of(clocked_server, root) as keys:
        made = keys.create_key(expires=datetime.now(UTC) + timedelta(days=30))
    s3 = make_client(clocked_server.url, made["access_key"], made["secret_key"])
    s3.list_buckets()
    clocked_server.clock.advance(timedelta(days=31))
    # the signature's own time must stay within the skew of the moved server clock
    later = make_client(clocked_server.url, made["access_key"], made["secret_key"])
    later.meta.events.register("before-sign.s3", _sign_at(clocked_server.clock))
    assert refused(later) == "InvalidAccessKeyId"


def test_an_expiry_can_be_set_and_removed(server: RunningServer) -> None:
    user = new_user(server)
    s3 = make_client(server.url, user["access_key"], user["secret_key"])
    root = {"access_key": server.access_key, "secret_key": server.secret_key}
    with keys_of(server, root) as admin:
        past = datetime.now(UTC) - timedelta(minutes=1)
        shown = admin.update_key(user["access_key"], expires=past)
        assert shown["expired"] is True and shown["status"] == "active"
        assert refused(s3) == "InvalidAccessKeyId"
        shown = admin.update_key(user["access_key"], expires=None)
        assert shown["expired"] is False and shown["expires"] is None
    s3.list_buckets()


def _sign_at(clock: Any) -> Any:
    import botocore.auth

    def shift(request: Any, **_: Any) -> None:
        request.context["timestamp"] = clock().strftime(botocore.auth.SIGV4_TIMESTAMP)

    return shift


def test_secrets_are_sealed_at_rest_and_last_use_is_recorded(
    clocked_server: ClockedServer,
) -> None:
    root = {"access_key": clocked_server.access_key, "secret_key": clocked_server.secret_key}
    with keys_of(clocked_server, root) as keys:
        made = keys.create_key()
        assert made["last_used"] is None
        make_client(clocked_server.url, made["access_key"], made["secret_key"]).list_buckets()
        # this process's own view is immediate; the database gets it within a minute
        assert keys.get_key(made["access_key"])["last_used"] is not None
    db = sqlite3.connect(clocked_server.data_dir / "metadata.db")
    stored = dict(db.execute("SELECT access_key, secret_key FROM access_keys").fetchall())
    db.close()
    assert stored[made["access_key"]].startswith("sealed:v1:")
    assert made["secret_key"] not in stored[made["access_key"]]
    assert all(s.startswith("sealed:v1:") for s in stored.values())  # root's too
    assert ROOT_SECRET not in json.dumps(stored)


ROOT_SECRET = "lading-test-root-secret-key-0000000000000"


@pytest.mark.slow
def test_key_rotation_loses_no_request(server: RunningServer) -> None:
    """An agent uploads without pause on key 1; key 2 is made, the agent switches, key 1 is
    disabled: not one request fails, and key 1 is refused afterwards."""
    user = new_user(server)
    owner = make_client(server.url, user["access_key"], user["secret_key"])
    bucket = new_bucket_name()
    owner.create_bucket(Bucket=bucket)
    current = {"client": owner}
    failures: list[BaseException] = []
    uploaded = [0]
    stop = threading.Event()

    def agent() -> None:
        while not stop.is_set():
            try:
                current["client"].put_object(
                    Bucket=bucket, Key=f"obj-{uploaded[0]}", Body=b"x" * 1024
                )
                uploaded[0] += 1
            except BaseException as exc:  # every failure counts
                failures.append(exc)

    thread = threading.Thread(target=agent)
    thread.start()
    try:
        time.sleep(0.5)
        with keys_of(server, user) as keys:
            second = keys.create_key()
            time.sleep(0.3)
            current["client"] = make_client(server.url, second["access_key"], second["secret_key"])
            time.sleep(0.3)  # the request in flight with key 1 finishes first
            before = uploaded[0]
            keys.disable_key(user["access_key"])
            time.sleep(0.5)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert failures == []
    assert uploaded[0] > before > 0
    assert refused(owner) == "InvalidAccessKeyId"
    listed = current["client"].list_objects_v2(Bucket=bucket)
    assert listed["KeyCount"] == uploaded[0]


def test_secrets_and_passwords_are_never_logged_or_audited_and_hashed_with_argon2(
    server: RunningServer,
) -> None:
    user = new_user(server)
    with keys_of(server, user) as keys:
        made = keys.create_key()
        keys.request("PUT", "/me/password", json={"password": "never-logged-pw-1"})
    good = make_client(server.url, made["access_key"], made["secret_key"])
    bucket = new_bucket_name()
    good.create_bucket(Bucket=bucket)
    good.put_object(Bucket=bucket, Key="k", Body=b"x")
    forged = make_client(server.url, made["access_key"], made["secret_key"][::-1])
    with pytest.raises(botocore.exceptions.ClientError):
        forged.put_object(Bucket=bucket, Key="k", Body=b"y")
    with AuthClient(server.url) as anonymous, pytest.raises(AuthenticationError):
        anonymous.login(user["user"], "never-logged-wrong-pw")
    with AuditClient(server.url, access_key=server.access_key, secret_key=server.secret_key) as c:

        def audited() -> str:
            return json.dumps(list(c.list_audit(user=user["user"])))

        deadline = time.monotonic() + 10
        while made["access_key"] not in audited() and time.monotonic() < deadline:
            time.sleep(0.2)
        records = audited()
    assert made["access_key"] in records  # the key is named, its secret never
    for secret in (made["secret_key"], user["secret_key"], "never-logged-pw"):
        assert secret not in records
        assert secret not in server.log()
    db = sqlite3.connect(server.data_dir / "metadata.db")
    [stored] = db.execute(
        "SELECT password_hash FROM user_passwords JOIN users ON users.id = user_id "
        "WHERE users.name = ?",
        (user["user"],),
    ).fetchall()
    db.close()
    assert stored[0].startswith("$argon2id$") and "never-logged" not in stored[0]
    good.delete_object(Bucket=bucket, Key="k")
    good.delete_bucket(Bucket=bucket)
