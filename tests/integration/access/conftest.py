"""Users, clients and deployments for the access-control tests."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from lading.client import BaseClient
from lading.testing.postgres import scratch_database
from lading.testing.server import RunningServer, serving
from tests.conftest import make_client

POSTGRES_URL = os.environ.get("LADING_TEST_POSTGRES_URL")


@dataclass
class Actor:
    """A user of the server (or anonymous, with no keys) and its real clients."""

    name: str
    access_key: str
    secret_key: str
    s3: Any

    def api(self, server: RunningServer, cls: type[BaseClient] = BaseClient) -> Any:
        return cls(server.url, access_key=self.access_key, secret_key=self.secret_key)


def add_actor(server: RunningServer, role: str) -> Actor:
    created = json.loads(server.admin("add-user", f"{role}-{uuid.uuid4().hex[:6]}"))
    return Actor(
        created["user"],
        created["access_key"],
        created["secret_key"],
        make_client(server.url, created["access_key"], created["secret_key"]),
    )


def anonymous_actor(server: RunningServer) -> Actor:
    client = boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    return Actor("anonymous", "", "", client)


def root_api(server: RunningServer, cls: type[BaseClient] = BaseClient) -> Any:
    return cls(server.url, access_key=server.access_key, secret_key=server.secret_key)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this module, dropped at its end."""
    if not POSTGRES_URL:
        pytest.skip("LADING_TEST_POSTGRES_URL is not set")
    with scratch_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A fresh server on SQLite, then one whose metadata is in PostgreSQL."""
    env: dict[str, str] = {}
    if request.param == "postgresql":
        env["LADING_METADATA__URL"] = request.getfixturevalue("postgres_url")
    data = tmp_path_factory.mktemp(f"access-{request.param}") / "data"
    with serving(data, env=env) as server:
        yield server
    assert Path(data).exists()
