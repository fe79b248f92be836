"""schemathesis against the served OpenAPI document: no 5xx, responses as documented.

Runs schemathesis' CLI against a real server: every operation of the control API gets
generated requests (valid and invalid, then stateful sequences along the API's links),
authenticated with bearer tokens (schemathesis_hooks.py), a bounded number of examples each
and a time budget for the whole run. Two passes: every operation as a plain user, then the
administrators' operations that cannot reach anyone's keys as an administrator (an admin
fuzzer would find root's access key in the audit log and disable it).

The positive-data check is left out: business rules (an expiry in the past, a too-short
password) answer 400 to requests the schema alone allows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from lading.testing.server import RunningServer

API = "/_/api/v1"
EXAMPLES = 25  # per operation and phase: a few hundred requests in all
BUDGET_SECONDS = 50  # per pass
HERE = Path(__file__).resolve().parent
ADMIN_ONLY = ["--include-path", "/audit", "--include-path", "/passwords/{user}"]


@pytest.mark.slow
@pytest.mark.parametrize(("admin", "selection"), [(False, []), (True, ADMIN_ONLY)])
def test_control_api_conforms_to_its_openapi_document(
    server: RunningServer, tmp_path: Path, admin: bool, selection: list[str]
) -> None:
    user = f"fuzz-{uuid.uuid4().hex[:6]}"
    server.admin("add-user", user, *(["--admin"] if admin else []))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
        "LADING_FUZZ_URL": server.url,
        "LADING_FUZZ_USER": user,
        "LADING_FUZZ_PASSWORD": uuid.uuid4().hex,
        "LADING_FUZZ_ROOT_ACCESS_KEY": server.access_key,
        "LADING_FUZZ_ROOT_SECRET_KEY": server.secret_key,
    }
    cli = Path(sys.executable).with_name("schemathesis")
    done = subprocess.run(
        [
            str(cli),
            "run",
            f"{server.url}{API}/openapi.json",
            "--url",
            f"{server.url}{API}",
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            *selection,
            "--max-examples",
            str(EXAMPLES),
            "--max-time",
            str(BUDGET_SECONDS),
            "--seed",
            "4",
            "--workers",
            "1",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=BUDGET_SECONDS + 60,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]
