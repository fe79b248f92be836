"""Cursor pagination: list endpoints answer {"items": [...], "next": CURSOR | null}."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def paginate(fetch: Callable[[str | None], dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Yield every item of every page; `fetch(cursor)` returns one page."""
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.get("items", [])
        cursor = page.get("next")
        if not cursor:
            return
