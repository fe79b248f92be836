"""The SDK's public names: complete and sorted (as httpx checks its own)."""

from __future__ import annotations

import lading.client


def test_all_is_sorted_and_complete() -> None:
    public = {
        name
        for name, value in vars(lading.client).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("lading.")
    }
    assert lading.client.__all__ == sorted(lading.client.__all__)
    assert public == set(lading.client.__all__)
