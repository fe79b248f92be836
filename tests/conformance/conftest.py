"""The conformance suites live in the package; let pytest explain their failed asserts."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("lading.testing.store_suite", "lading.testing.metadata_suite")
