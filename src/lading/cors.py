"""CORS: bucket rules validated, and the rule that answers a browser's request found."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lading import errors

MAX_RULES = 100
METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if any(isinstance(item, dict | list) for item in items):
        raise errors.MalformedXML()
    return [str(item or "") for item in items]


def normalise(tree: Mapping[str, Any]) -> dict[str, Any]:
    """CORSConfiguration, checked as S3 does (methods, one wildcard per origin, limits)."""
    rules = tree.get("CORSRule") or []
    if not rules or len(rules) > MAX_RULES:
        raise errors.MalformedXML(f"Specify between 1 and {MAX_RULES} CORS rules.")
    out = []
    for raw in rules:
        if not isinstance(raw, dict):
            raise errors.MalformedXML()
        methods = _list(raw.get("AllowedMethod"))
        origins = _list(raw.get("AllowedOrigin"))
        if not methods or not origins:
            raise errors.MalformedXML("A CORS rule needs AllowedMethod and AllowedOrigin.")
        for method in methods:
            if method not in METHODS:
                raise errors.InvalidRequest(
                    f"Found unsupported HTTP method in CORS config. Unsupported method is {method}"
                )
        for pattern in origins + _list(raw.get("AllowedHeader")):
            if pattern.count("*") > 1:
                raise errors.InvalidRequest(
                    f'AllowedOrigin "{pattern}" can not have more than one wildcard.'
                )
        rule: dict[str, Any] = {}
        if raw.get("ID"):
            rule["ID"] = str(raw["ID"])
        rule["AllowedMethod"] = methods
        rule["AllowedOrigin"] = origins
        for name in ("AllowedHeader", "ExposeHeader"):
            if raw.get(name) is not None:
                rule[name] = _list(raw[name])
        if raw.get("MaxAgeSeconds") not in (None, ""):
            age = str(raw["MaxAgeSeconds"])
            if not age.isdigit():
                raise errors.MalformedXML("MaxAgeSeconds must be an integer.")
            rule["MaxAgeSeconds"] = age
        out.append(rule)
    return {"CORSRule": out}


@functools.lru_cache(maxsize=256)
def load(document: str) -> Mapping[str, Any]:
    """A stored CORS configuration (JSON of the normalised tree), parsed once per process."""
    config: Mapping[str, Any] = json.loads(document)
    return config


def _matches(pattern: str, value: str, *, fold: bool = False) -> bool:
    if fold:
        pattern, value = pattern.lower(), value.lower()
    if "*" not in pattern:
        return pattern == value
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, re.DOTALL) is not None


@dataclass(frozen=True, slots=True)
class Answer:
    """The CORS headers a matching rule gives a response."""

    headers: dict[str, str]


def answer(
    config: Mapping[str, Any],
    origin: str,
    method: str,
    request_headers: Sequence[str] = (),
    *,
    preflight: bool = False,
) -> Answer | None:
    """The first rule allowing origin, method and headers, as response headers; else None."""
    for rule in config.get("CORSRule", []):
        if method not in rule["AllowedMethod"]:
            continue
        allowed_origin = next((o for o in rule["AllowedOrigin"] if _matches(o, origin)), None)
        if allowed_origin is None:
            continue
        allowed_headers = rule.get("AllowedHeader", [])
        if not all(
            any(_matches(p, h, fold=True) for p in allowed_headers) for h in request_headers
        ):
            continue
        headers = {
            "access-control-allow-origin": "*" if allowed_origin == "*" else origin,
            "access-control-allow-methods": ", ".join(rule["AllowedMethod"]),
            "vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
        }
        if allowed_origin != "*":
            headers["access-control-allow-credentials"] = "true"
        if preflight and request_headers:
            headers["access-control-allow-headers"] = ", ".join(request_headers)
        if rule.get("ExposeHeader"):
            headers["access-control-expose-headers"] = ", ".join(rule["ExposeHeader"])
        if rule.get("MaxAgeSeconds"):
            headers["access-control-max-age"] = rule["MaxAgeSeconds"]
        return Answer(headers)
    return None
