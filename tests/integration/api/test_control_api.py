"""The control API's frame: SigV4 or nothing, problem documents, the OpenAPI document."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from lading.client import AuthenticationError, IdentityClient, NotFoundError
from lading.client._sigv4 import SigV4
from lading.client.errors import PermissionDeniedError
from lading.testing.server import RunningServer

API = "/_/api/v1"


def test_whoami_names_the_signing_user(server: RunningServer, alt_user: dict[str, str]) -> None:
    with IdentityClient(
        server.url, access_key=alt_user["access_key"], secret_key=alt_user["secret_key"]
    ) as client:
        me = client.whoami()
    assert me["user"] == alt_user["user"]
    assert me["access_key"] == alt_user["access_key"]
    assert me["is_admin"] is False


def test_root_is_an_admin(server: RunningServer) -> None:
    with IdentityClient(
        server.url, access_key=server.access_key, secret_key=server.secret_key
    ) as client:
        assert client.whoami()["is_admin"] is True


def test_an_unsigned_call_gets_a_401_problem(server: RunningServer) -> None:
    response = httpx.get(f"{server.url}{API}/whoami")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "NotAuthenticated"
    assert problem["status"] == 401
    assert problem["request_id"] == response.headers["x-request-id"]
    with IdentityClient(server.url) as anonymous, pytest.raises(AuthenticationError):
        anonymous.whoami()


@pytest.mark.parametrize(
    ("secret_change", "code"),
    [("wrong-secret", "SignatureDoesNotMatch"), ("", "InvalidAccessKeyId")],
)
def test_bad_credentials_are_refused(server: RunningServer, secret_change: str, code: str) -> None:
    access = server.access_key if secret_change else "LADNOSUCHKEY000000000"
    secret = secret_change or server.secret_key
    with (
        IdentityClient(server.url, access_key=access, secret_key=secret) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.whoami()
    assert caught.value.code == code


def test_a_body_that_does_not_match_its_signed_hash_is_refused(server: RunningServer) -> None:
    signer = SigV4(server.access_key, server.secret_key, "us-east-1")
    signed = next(
        signer.sync_auth_flow(httpx.Request("GET", f"{server.url}{API}/whoami", content=b"{}"))
    )
    tampered = httpx.Request("GET", signed.url, headers=signed.headers, content=b"[]")
    with httpx.Client() as plain:
        response = plain.send(tampered)
    assert response.status_code == 400
    assert response.json()["code"] == "ContentSHA256Mismatch"
    assert signed.headers["x-amz-content-sha256"] == hashlib.sha256(b"{}").hexdigest()


def test_unknown_routes_are_problems_too(server: RunningServer) -> None:
    with (
        IdentityClient(server.url, access_key=server.access_key, secret_key=server.secret_key) as c,
        pytest.raises(NotFoundError) as caught,
    ):
        c.request("GET", "/no-such-thing")
    assert caught.value.http_status == 404
    assert caught.value.request_id


def test_the_openapi_document_describes_the_routes(server: RunningServer) -> None:
    document: dict[str, Any] = httpx.get(f"{server.url}{API}/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert "/whoami" in document["paths"]
    assert document["servers"] == [{"url": API}]


def lading(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lading", *args], capture_output=True, text=True, env=env, timeout=60
    )


def cli_env(server: RunningServer, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LADING_"))}
    return {
        **env,
        "HOME": str(tmp_path),
        "LADING_ENDPOINT": server.url,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        **extra,
    }


def test_cli_whoami_signs_with_the_aws_environment(
    server: RunningServer, alt_user: dict[str, str], tmp_path: Path
) -> None:
    env = cli_env(
        server,
        tmp_path,
        AWS_ACCESS_KEY_ID=alt_user["access_key"],
        AWS_SECRET_ACCESS_KEY=alt_user["secret_key"],
    )
    done = lading("whoami", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["user"] == alt_user["user"]


def test_cli_whoami_reads_an_aws_profile(
    server: RunningServer, alt_user: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "credentials").write_text(
        "[lab]\n"
        f"aws_access_key_id = {alt_user['access_key']}\n"
        f"aws_secret_access_key = {alt_user['secret_key']}\n"
    )
    done = lading("whoami", "--profile", "lab", env=cli_env(server, tmp_path))
    assert done.returncode == 0, done.stderr
    assert "user:" in done.stdout and alt_user["user"] in done.stdout


def test_cli_without_credentials_says_so(server: RunningServer, tmp_path: Path) -> None:
    done = lading("whoami", env=cli_env(server, tmp_path))
    assert done.returncode != 0
    assert "Not logged in" in done.stderr and "lading login" in done.stderr


def test_cli_with_no_server_says_where_it_looked(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "LADING_ENDPOINT": "http://127.0.0.1:9",
    }
    done = lading("whoami", env=env)
    assert done.returncode != 0
    assert "cannot reach http://127.0.0.1:9" in done.stderr


def test_the_sdk_raises_permission_denied_as_a_typed_error() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            403,
            json={"code": "AccessDenied", "detail": "no", "request_id": "R1", "status": 403},
        )

    with (
        IdentityClient("http://server", transport=httpx.MockTransport(answer)) as client,
        pytest.raises(PermissionDeniedError) as caught,
    ):
        client.whoami()
    assert (caught.value.code, caught.value.request_id) == ("AccessDenied", "R1")
