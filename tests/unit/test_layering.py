"""The dependency direction of STYLE.md Part B, checked on every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "lading"

# package -> packages it must never import (directly or by name)
FORBIDDEN = {
    "storage": ("lading.http", "lading.services", "lading.metadata", "lading.app", "lading.cli"),
    "metadata": ("lading.http", "lading.services", "lading.storage", "lading.app", "lading.cli"),
    "iam": ("lading.http", "lading.services", "lading.app", "lading.cli", "lading.storage"),
    "services": ("lading.http", "lading.app", "lading.cli", "lading.storage.local"),
    "http": ("lading.app", "lading.cli", "lading.storage.local", "lading.metadata.store"),
    "cli": ("lading.http", "lading.services", "lading.metadata", "lading.storage"),
}
# the SDK is shipped to users who run no server: it imports nothing of Lading but itself
SDK_ALLOWED = "lading.client"
LEAVES = ("errors.py", "checksums.py", "concurrency.py", "settings.py")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules_of(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downwards(package: str) -> None:
    offences = [
        f"{path.relative_to(SRC)} imports {module}"
        for path in modules_of(package)
        if "migrations" not in path.parts
        for module in imported_modules(path)
        if module.startswith(FORBIDDEN[package])
    ]
    assert offences == []


@pytest.mark.parametrize("leaf", LEAVES)
def test_leaf_modules_import_no_other_layer(leaf: str) -> None:
    imports = {m for m in imported_modules(SRC / leaf) if m.startswith("lading.")}
    assert imports <= {"lading.errors"}, imports


def test_the_composition_root_is_the_only_builder_of_concrete_stores() -> None:
    builders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "lading.storage.local" in imported_modules(path)
        and path.relative_to(SRC).parts[0] not in ("storage", "testing")
    ]
    assert builders == ["app.py"]


def test_the_sdk_imports_only_itself() -> None:
    offences = [
        f"{path.relative_to(SRC)} imports {module}"
        for path in modules_of("client")
        for module in imported_modules(path)
        if module.startswith("lading") and not module.startswith(SDK_ALLOWED)
    ]
    assert offences == []
