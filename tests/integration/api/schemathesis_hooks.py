"""schemathesis hooks (loaded through SCHEMATHESIS_HOOKS): bearer auth that survives the run.

The run may revoke the fuzzing user's tokens (GET /auth/tokens then DELETE one) or change
its password (PUT /passwords/{user}): each fresh token comes from resetting the password with
root's key pair (SigV4; no run may reach root's keys) and logging in again.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

from lading.client import AuthClient


@schemathesis.auth(refresh_interval=1)
class LadingBearer:
    def get(self, case: Any, context: Any) -> str:
        url = os.environ["LADING_FUZZ_URL"]
        user, password = os.environ["LADING_FUZZ_USER"], os.environ["LADING_FUZZ_PASSWORD"]
        with AuthClient(
            url,
            access_key=os.environ["LADING_FUZZ_ROOT_ACCESS_KEY"],
            secret_key=os.environ["LADING_FUZZ_ROOT_SECRET_KEY"],
        ) as root:
            root.set_password(user, password)
        with AuthClient(url) as anonymous:
            token: str = anonymous.login(user, password)["access_token"]
        return token

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
