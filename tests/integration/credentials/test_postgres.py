"""Keys, tokens and the audit log on PostgreSQL (the same queries as on SQLite)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import botocore.exceptions
import pytest

from lading.client import AuditClient, AuthClient, ConflictError, IdentityClient, KeysClient
from lading.testing.postgres import scratch_database
from lading.testing.server import serving
from tests.conftest import make_client

POSTGRES_URL = os.environ.get("LADING_TEST_POSTGRES_URL")


@pytest.fixture
def postgres_database() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("LADING_TEST_POSTGRES_URL is not set")
    with scratch_database(POSTGRES_URL) as url:
        yield url


@pytest.mark.postgres
def test_credentials_and_audit_on_postgresql(tmp_path: Path, postgres_database: str) -> None:
    env = {
        "LADING_METADATA__URL": postgres_database,
        "LADING_CREDENTIALS__AUDIT_FLUSH_SECONDS": "0.2",
        "LADING_CREDENTIALS__LAST_USED_SECONDS": "0.5",
    }
    with serving(tmp_path / "data", env=env) as server:
        user = json.loads(server.admin("add-user", "pg-user"))
        root = {"access_key": server.access_key, "secret_key": server.secret_key}
        with KeysClient(server.url, **root) as keys:
            made = keys.create_key(user="pg-user")
            with pytest.raises(ConflictError):
                keys.create_key(user="pg-user")
            s3 = make_client(server.url, made["access_key"], made["secret_key"])
            s3.list_buckets()
            keys.disable_key(made["access_key"])
            with pytest.raises(botocore.exceptions.ClientError):
                s3.list_buckets()
            time.sleep(1)  # the last use reaches the database
            stored = [k for k in keys.list_keys(user="pg-user") if k["last_used"]]
            assert [k["access_key"] for k in stored] == [made["access_key"]]
        with AuthClient(server.url, **root) as auth:
            auth.set_password("pg-user", "a long password")
        with AuthClient(server.url) as anonymous:
            pair = anonymous.login("pg-user", "a long password")
        with IdentityClient(server.url, token=pair["access_token"]) as me:
            assert me.whoami()["user"] == "pg-user"
        make_client(server.url, user["access_key"], user["secret_key"]).create_bucket(
            Bucket="pg-audited"
        )
        time.sleep(0.5)
        with AuditClient(server.url, **root) as audit:
            found = list(audit.list_audit(bucket="pg-audited"))
            denied = list(audit.list_audit(outcome="denied"))
        assert [r["operation"] for r in found] == ["CreateBucket"]
        refused = [r for r in denied if r["access_key"] == made["access_key"]]
        assert [(r["operation"], r["code"]) for r in refused] == [
            ("ListBuckets", "InvalidAccessKeyId")
        ]
