"""What a control-API route may ask for: the services and the authenticated caller."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from lading import errors
from lading.http.s3 import auth
from lading.iam.principals import Principal
from lading.metadata.models import User
from lading.services.container import Services
from lading.settings import Settings

# what `caller` leaves in the request scope: (user name, access key) and the expiry, for the
# audit trail and whoami
CALLER_SCOPE = "lading.caller"
EXPIRY_SCOPE = "lading.credentials_expire"


@dataclass(frozen=True, slots=True)
class ApiContext:
    """Per-application values the routes share (set by build_api on app.state)."""

    settings: Settings
    clock: Callable[[], datetime]


def services(request: Request) -> Services:
    found: Services = request.state.services
    return found


def context(request: Request) -> ApiContext:
    found: ApiContext = request.app.state.lading
    return found


def _headers(request: Request) -> dict[str, str]:
    return {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in request.scope["headers"]
    }


async def caller(request: Request) -> Principal:
    """The user a request is signed by (SigV4 with an access key, as S3 requests are), or
    whose bearer access token it carries.

    Raises NotAuthenticated without credentials, InvalidCredentials for a bad, revoked or
    expired token, and the S3 authentication errors (InvalidAccessKeyId,
    SignatureDoesNotMatch, RequestTimeTooSkewed...) for bad signatures.
    """
    svc, ctx, headers = services(request), context(request), _headers(request)
    authorization = headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        found = await svc.credentials.authenticate(authorization[7:].strip())
        request.scope[CALLER_SCOPE] = (found.user.name, "")
        request.scope[EXPIRY_SCOPE] = found.expires_at
        return Principal(found.user, None)
    raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    view = auth.RequestView(
        request.method,
        raw_path.partition("?")[0],
        request.scope.get("query_string", b"").decode("latin-1"),
        headers,
    )
    parsed = auth.parse_auth(view)
    if parsed is None:
        raise errors.NotAuthenticated()
    key = await svc.identity.lookup_key(parsed.access_key)
    spec = auth.verify(
        view,
        parsed,
        key.secret_key,
        region=ctx.settings.region,
        now=ctx.clock(),
        max_skew_seconds=ctx.settings.s3.max_skew_seconds,
    )
    if key.policies is not None:  # the control API is not bounded by IAM policies
        raise errors.AccessDenied("IAM users use the S3, SNS and IAM APIs only.")
    request.scope[CALLER_SCOPE] = (key.user.name, key.access_key)
    request.scope[EXPIRY_SCOPE] = key.expires_at
    if spec.chunked:
        raise errors.InvalidRequest("The control API takes plain (not aws-chunked) bodies.")
    if spec.expected_sha256 is not None:
        body = await request.body()
        if hashlib.sha256(body).hexdigest() != spec.expected_sha256:
            raise errors.ContentSHA256Mismatch()
    return Principal(key.user, key.access_key)


def credentials_expire(request: Request) -> int | None:
    """When the credentials of this (authenticated) request expire, epoch us; None: never."""
    found: int | None = request.scope.get(EXPIRY_SCOPE)
    return found


Svc = Annotated[Services, Depends(services)]
Ctx = Annotated[ApiContext, Depends(context)]
Caller = Annotated[Principal, Depends(caller)]


async def admin_caller(principal: Caller) -> Principal:
    """The caller, who must be an administrator (AccessDenied otherwise)."""
    if principal.user is None or not principal.user.is_admin:
        raise errors.AccessDenied("Only an administrator may do this.")
    return principal


AdminCaller = Annotated[Principal, Depends(admin_caller)]


def user_of(principal: Principal) -> User:
    """The user behind an authenticated caller (`caller` refuses anonymous requests)."""
    assert principal.user is not None
    return principal.user
