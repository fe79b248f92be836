"""Endpoint kind -> driver, imported lazily (rclone backend/all, fsspec's registry)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lading.transfer.drivers.base import EndpointDriver
from lading.transfer.errors import InvalidPath, NoSuchContainer

KINDS = ("s3", "posix")
ADDRESSING = ("path", "virtual")


def check_config(kind: str, config: Mapping[str, Any], posix_roots: Mapping[str, str]) -> None:
    """ValueError with a sentence when an endpoint's configuration is unusable."""
    if kind == "s3":
        url = str(config.get("url", ""))
        if not url.startswith(("http://", "https://")):
            raise ValueError("an s3 endpoint needs url, an http:// or https:// URL")
        if not config.get("bucket"):
            raise ValueError("an s3 endpoint needs bucket")
        if config.get("addressing_style", "path") not in ADDRESSING:
            raise ValueError("addressing_style must be path or virtual")
    elif kind == "posix":
        root = str(config.get("root", ""))
        if root not in posix_roots:
            known = ", ".join(sorted(posix_roots)) or "none are configured"
            raise ValueError(f"root must be one the administrator exported ({known})")
    else:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")


def build(
    kind: str,
    config: Mapping[str, Any],
    credentials: Mapping[str, str],
    *,
    posix_roots: Mapping[str, str],
    connections: int = 32,
) -> EndpointDriver:
    """A driver for a stored endpoint."""
    if kind == "s3":
        from lading.transfer.drivers.s3 import S3Driver, make_client

        client = make_client(
            str(config["url"]),
            access_key=credentials.get("access_key"),
            secret_key=credentials.get("secret_key"),
            region=str(config.get("region") or "us-east-1"),
            addressing_style=str(config.get("addressing_style") or "path"),
            max_connections=connections,
        )
        return S3Driver(client, str(config["bucket"]), "", endpoint_url=str(config["url"]))
    if kind == "posix":
        from lading.transfer.drivers.local import LocalDriver

        root = posix_roots.get(str(config.get("root")))
        if root is None:
            raise NoSuchContainer(str(config.get("root")))
        return LocalDriver(Path(root))
    raise InvalidPath(kind, "no such endpoint kind")
