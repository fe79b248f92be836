"""THE table from domain errors to control-API problem documents (RFC 9457 problem+json).

Resolved through the exception's MRO like the S3 table: the most specific mapped class wins.
A problem document carries `type`, `title`, `status`, `detail`, `code` (the domain error's
name, which the SDK turns back into a typed error) and `request_id`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Match

from lading import errors

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"

STATUS: dict[type[errors.LadingError], int] = {
    errors.LadingError: 500,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.AccessDenied: 403,
    errors.AuthError: 401,
    errors.InvalidRequest: 400,
    errors.PreconditionFailed: 412,
    errors.NotModified: 304,
    errors.MethodNotAllowed: 405,
    errors.NotImplementedOperation: 501,
    errors.ServiceUnavailable: 503,
}
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Access denied",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    422: "Invalid request body or parameters",
    500: "Internal error",
    501: "Not implemented",
    503: "Service unavailable",
}


def status_of(exc: errors.LadingError) -> int:
    for cls in type(exc).__mro__:
        found = STATUS.get(cls)
        if found is not None:
            return found
    return 500


def request_id(request: Request) -> str:
    found: str = request.scope.get("lading.request_id", "")
    return found


def problem(request: Request, status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    """The one builder of error responses for the control API."""
    body = {
        "type": f"urn:lading:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id(request),
        **extra,
    }
    headers = {"WWW-Authenticate": 'Bearer realm="lading"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.LadingError)
    status = status_of(exc)
    if status == 500:
        log.error("unmapped domain error, request id %s", request_id(request), exc_info=exc)
        return problem(request, 500, "InternalError", "The server failed to answer.")
    return problem(request, status, type(exc).__name__, exc.message)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    first = details[0] if details else {"loc": [], "msg": "invalid"}
    detail = f"{'.'.join(first['loc'])}: {first['msg']}" if first["loc"] else str(first["msg"])
    return problem(request, 422, "ValidationError", detail, errors=details)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
    response = problem(request, exc.status_code, code, str(exc.detail))
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(allowed_methods(request))
    return response


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the path takes (Starlette names only the first route's)."""
    found: set[str] = set()
    router = getattr(request.app, "router", None)
    for route in getattr(router, "routes", []):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            found.update(getattr(route, "methods", None) or ())
    return sorted(found)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error, request id %s", request_id(request), exc_info=exc)
    return problem(request, 500, "InternalError", "The server failed to answer.")


# How every route documents its errors in the OpenAPI document: one problem+json schema for
# any 4xx/5xx (it also stands in for FastAPI's own 422 description, which is not what we send).
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code", "request_id"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "the error's name, e.g. NoSuchAccessKey"},
        "request_id": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "default": {
        "description": "An error, as an RFC 9457 problem document",
        "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
    }
}

HANDLERS = {
    errors.LadingError: domain_error,
    RequestValidationError: validation_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
