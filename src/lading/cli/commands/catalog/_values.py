"""Typing command-line values: `name=value` guesses the type, `name:=JSON` says it."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import click

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


def guess(text: str) -> Any:
    """A number, a boolean, a timestamp (ISO 8601 date or time) or else the string."""
    if _NUMBER.match(text) and not (
        len(text) > 1 and text.lstrip("+-").startswith("0") and text.lstrip("+-")[1:2].isdigit()
    ):
        number = float(text)
        return (
            int(number)
            if number.is_integer() and "." not in text and "e" not in text.lower()
            else number
        )
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _DATE.match(text):
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        stamp = value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        return {"type": "timestamp", "value": stamp}
    return text


def column_name(header: str) -> str:
    """A CSV header as an attribute name: `Item ID` -> `item_id`."""
    name = re.sub(r"[^0-9A-Za-z_.-]+", "_", header.strip()).strip("_").lower()
    if not name or not (name[0].isalpha() or name[0] == "_"):
        name = f"_{name}"
    return name


def parse_assignment(text: str) -> tuple[str, Any]:
    """`name=value` (typed by guess) or `name:=JSON`; BadParameter otherwise."""
    if ":=" in text and text.index(":=") < text.index("=") + 1:
        name, _, raw = text.partition(":=")
        try:
            return name, json.loads(raw)
        except ValueError as exc:
            raise click.BadParameter(f"{text!r}: the value after := must be JSON") from exc
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{text!r}: expected name=value or name:=JSON")
    return name, guess(value)


def split_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); BadParameter otherwise."""
    if not url.startswith("s3://"):
        raise click.BadParameter(f"{url!r}: expected s3://bucket/key")
    bucket, _, key = url[5:].partition("/")
    if not bucket or not key:
        raise click.BadParameter(f"{url!r}: expected s3://bucket/key")
    return bucket, key
