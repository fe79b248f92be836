"""SSE-S3 master keys from the settings and the data directory."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from lading.app import KEYS_FILE, build_keyring
from lading.encryption import new_sse_s3, unwrap
from lading.settings import Settings


def b64key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_a_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = build_keyring(Settings(data_dir=tmp_path))
    path = tmp_path / KEYS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    envelope, data_key = new_sse_s3(first)
    again = build_keyring(Settings(data_dir=tmp_path))
    assert again.active_id == first.active_id
    assert unwrap(again, envelope) == data_key
    assert [p.name for p in tmp_path.iterdir()] == [KEYS_FILE]


def test_configured_keys_join_the_generated_one(tmp_path: Path) -> None:
    generated = build_keyring(Settings(data_dir=tmp_path))
    envelope, data_key = new_sse_s3(generated)
    rotated = build_keyring(Settings(data_dir=tmp_path, encryption_keys={"k2": b64key()}))
    assert rotated.active_id == "k2"
    assert unwrap(rotated, envelope) == data_key


def test_configured_keys_generate_nothing(tmp_path: Path) -> None:
    keyring = build_keyring(Settings(data_dir=tmp_path, encryption_keys={"k1": b64key()}))
    assert keyring.active_id == "k1"
    assert not (tmp_path / KEYS_FILE).exists()


def test_several_keys_need_an_active_one(tmp_path: Path) -> None:
    keys = {"k1": b64key(), "k2": b64key()}
    with pytest.raises(ValueError, match="encryption_active_key"):
        build_keyring(Settings(data_dir=tmp_path, encryption_keys=keys))
    chosen = build_keyring(
        Settings(data_dir=tmp_path, encryption_keys=keys, encryption_active_key="k2")
    )
    assert chosen.active_id == "k2"


def test_a_configured_key_may_not_replace_a_generated_one(tmp_path: Path) -> None:
    build_keyring(Settings(data_dir=tmp_path))
    generated_id = json.loads((tmp_path / KEYS_FILE).read_text())["active"]
    with pytest.raises(ValueError, match="another id"):
        build_keyring(Settings(data_dir=tmp_path, encryption_keys={generated_id: b64key()}))


def test_bad_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="32"):
        build_keyring(Settings(data_dir=tmp_path, encryption_keys={"k1": "c2hvcnQ="}))


def test_environment_sets_the_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = b64key()
    monkeypatch.setenv("LADING_ENCRYPTION_KEYS", json.dumps({"a": key, "b": b64key()}))
    monkeypatch.setenv("LADING_ENCRYPTION_ACTIVE_KEY", "a")
    keyring = build_keyring(Settings(data_dir=tmp_path))
    envelope, data_key = new_sse_s3(keyring)
    assert envelope.key_id == "a" and len(data_key) == 32
