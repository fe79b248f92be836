"""`lading link create|list|show|revoke|uses` against a real server."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from lading.testing.server import RunningServer
from tests.conftest import new_bucket_name
from tests.integration.access.conftest import Actor, add_actor
from tests.integration.cli.share.test_share import runner


@pytest.fixture(scope="module")
def owner(server: RunningServer) -> Actor:
    return add_actor(server, "cli-linker")


def test_link_create_list_uses_revoke(server: RunningServer, owner: Actor, tmp_path: Path) -> None:
    run = runner(server, owner, tmp_path)
    bucket = new_bucket_name()
    owner.s3.create_bucket(Bucket=bucket)
    owner.s3.put_object(Bucket=bucket, Key="out/report.txt", Body=b"report")
    done = run(
        "link",
        "create",
        bucket,
        "--prefix",
        "out/",
        "--max-uses",
        "3",
        "--max-bytes",
        "1KB",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)
    assert made["url"].startswith(server.url + "/_/s/")
    assert made["max_bytes"] == 1000
    assert httpx.get(made["url"] + "/report.txt").content == b"report"
    listed = json.loads(run("link", "list", "--bucket", bucket, "--json").stdout)
    assert [(x["id"], x["uses"], x["state"]) for x in listed] == [(made["id"], 1, "active")]
    assert "token" not in listed[0]
    uses = json.loads(run("link", "uses", str(made["id"]), "--json").stdout)
    assert [(u["outcome"], u["key"], u["bytes"]) for u in uses] == [("served", "out/report.txt", 6)]
    shown = json.loads(run("link", "show", str(made["id"]), "--json").stdout)
    assert (shown["id"], shown["uses"], shown["bytes_served"]) == (made["id"], 1, 6)
    assert "token" not in shown and "url" not in shown
    missing = run("link", "show", "999999")
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr
    text = run("link", "uses", str(made["id"])).stdout
    assert "served" in text and "out/report.txt" in text
    revoked = run("link", "revoke", str(made["id"]))
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert httpx.get(made["url"] + "/report.txt").status_code == 410


def test_link_create_needs_a_prefix_or_a_key(
    server: RunningServer, owner: Actor, tmp_path: Path
) -> None:
    run = runner(server, owner, tmp_path)
    bucket = new_bucket_name()
    owner.s3.create_bucket(Bucket=bucket)
    neither = run("link", "create", bucket)
    assert neither.returncode == 2 and "--prefix or --key" in neither.stderr
    zero = run("link", "create", bucket, "--key", "k", "--max-uses", "0")
    assert zero.returncode == 2
    size = run("link", "create", bucket, "--key", "k", "--max-bytes", "lots")
    assert size.returncode == 2 and "not a size" in size.stderr
    assert json.loads(run("link", "list", "--bucket", bucket, "--json").stdout) == []
