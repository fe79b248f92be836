"""Bearer tokens of `lading login`, kept per endpoint in the user's config directory (0600).

The file is $XDG_CONFIG_HOME/lading/tokens.json (default ~/.config/lading/tokens.json):
{endpoint: {user, access_token, expires_at, refresh_token, refresh_expires_at, ...}} with
times as epoch seconds.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import click

REFRESH_MARGIN = 30  # seconds: an access token this close to expiry is refreshed first
LOGIN_EXPIRED = "Your login to {endpoint} has expired or was revoked: run `lading login` again."


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "lading"


def tokens_path() -> Path:
    return config_dir() / "tokens.json"


def load_all() -> dict[str, dict[str, Any]]:
    path = tokens_path()
    try:
        found: dict[str, dict[str, Any]] = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise click.ClickException(f"{path} is not valid JSON: remove it and log in.") from exc
    return found


def save_all(entries: dict[str, dict[str, Any]]) -> None:
    """Write the file atomically, readable by its owner only."""
    path = tokens_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".tokens.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(entries, fh, indent=2, sort_keys=True)
    os.replace(temporary, path)


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def store(endpoint: str, user: str, pair: dict[str, Any], refresh_token: str) -> dict[str, Any]:
    """Remember a login (or a refreshed access token) for `endpoint`."""
    entries = load_all()
    entry = {
        "user": user,
        "access_token": pair["access_token"],
        "expires_at": _epoch(pair["expires_at"]),
        "refresh_token": refresh_token,
        "refresh_expires_at": _epoch(pair["refresh_expires_at"]),
        "refresh_token_id": pair["refresh_token_id"],
    }
    entries[endpoint] = entry
    save_all(entries)
    return entry


def forget(endpoint: str) -> dict[str, Any] | None:
    entries = load_all()
    gone = entries.pop(endpoint, None)
    if gone is not None:
        save_all(entries)
    return gone


def current(endpoint: str) -> dict[str, Any] | None:
    """The stored login of `endpoint`, its access token refreshed when it has (nearly) expired.

    None when there is no login; a ClickException when it can no longer be refreshed.
    """
    entry = load_all().get(endpoint)
    if entry is None:
        return None
    if entry["expires_at"] - REFRESH_MARGIN > time.time():
        return entry
    from lading.client.auth import AuthClient
    from lading.client.errors import AuthenticationError

    try:
        with AuthClient(endpoint) as client:
            pair = client.refresh(entry["refresh_token"])
    except AuthenticationError as exc:
        raise click.ClickException(LOGIN_EXPIRED.format(endpoint=endpoint)) from exc
    return store(endpoint, entry["user"], pair, entry["refresh_token"])
