"""Settings precedence: explicit values > environment (LADING_*) > TOML file > defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from lading.settings import Settings, load_settings

CONFIG = """
region = "eu-west-1"
address = "0.0.0.0:9100"
root_secret_key = "file-secret"

[s3]
base_domain = "s3.from-file.test"
max_skew_seconds = 60

[storage]
fsync = false
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No LADING_* variable of the test run leaks into the settings under test."""
    for name in list(os.environ):
        if name.upper().startswith("LADING_"):
            monkeypatch.delenv(name)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "lading.toml"
    path.write_text(CONFIG)
    return path


def test_defaults_without_file_or_environment() -> None:
    settings = load_settings()
    assert settings == Settings()
    assert settings.data_dir == Path("./lading-data")
    assert (settings.address, settings.host, settings.port) == ("127.0.0.1:9000", "127.0.0.1", 9000)
    assert (settings.region, settings.workers, settings.log_level) == ("us-east-1", 1, "info")
    assert settings.root_access_key is None and settings.root_secret_key is None
    assert (settings.s3.base_domain, settings.s3.max_skew_seconds) == ("", 900)
    assert settings.s3.min_part_size == 5 * 1024 * 1024
    assert (settings.storage.fsync, settings.storage.orphan_grace_seconds) == (True, 0)
    assert (settings.metadata.url, settings.metadata.pool_size) == ("", 8)


def test_metadata_url_defaults_to_sqlite_in_the_data_directory(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.metadata_url == f"sqlite:///{tmp_path.resolve() / 'metadata.db'}"
    explicit = load_settings(data_dir=tmp_path, metadata={"url": "postgresql://db/lading"})
    assert explicit.metadata_url == "postgresql://db/lading"


def test_toml_file_sets_top_level_and_nested_fields(config_file: Path) -> None:
    settings = load_settings(config_file)
    assert (settings.region, settings.port) == ("eu-west-1", 9100)
    assert settings.s3.base_domain == "s3.from-file.test"
    assert settings.s3.max_skew_seconds == 60
    assert settings.storage.fsync is False
    assert settings.root_secret_key is not None
    assert settings.root_secret_key.get_secret_value() == "file-secret"
    assert "file-secret" not in repr(settings)
    assert settings.s3.min_part_size == 5 * 1024 * 1024  # untouched fields keep defaults


def test_environment_overrides_the_file(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LADING_REGION", "ap-south-1")
    monkeypatch.setenv("LADING_S3__BASE_DOMAIN", "s3.from-env.test")
    settings = load_settings(config_file)
    assert settings.region == "ap-south-1"
    assert settings.s3.base_domain == "s3.from-env.test"
    # the nested section is merged, not replaced: the file's other S3 fields stay
    assert settings.s3.max_skew_seconds == 60
    assert settings.address == "0.0.0.0:9100"


def test_environment_overrides_defaults_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LADING_REGION", "ap-south-1")
    monkeypatch.setenv("LADING_S3__BASE_DOMAIN", "s3.from-env.test")
    settings = load_settings()
    assert (settings.region, settings.s3.base_domain) == ("ap-south-1", "s3.from-env.test")
    assert settings.s3.max_skew_seconds == 900


@pytest.mark.parametrize("config", [False, True], ids=["no-file", "file"])
def test_explicit_values_override_environment_and_file(
    config: bool, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LADING_REGION", "ap-south-1")
    settings = load_settings(config_file if config else None, region="sa-east-1")
    assert settings.region == "sa-east-1"


def test_explicit_none_means_not_given(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LADING_REGION", "ap-south-1")
    settings = load_settings(config_file, region=None, data_dir=None)
    assert settings.region == "ap-south-1"
    assert settings.data_dir == Path("./lading-data")


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("LADING_STORAGE__FSYNC", "false", ("storage", "fsync"), False),
        ("LADING_STORAGE__ORPHAN_GRACE_SECONDS", "3600", ("storage", "orphan_grace_seconds"), 3600),
        ("LADING_METADATA__URL", "postgresql://db/x", ("metadata", "url"), "postgresql://db/x"),
        ("LADING_S3__MAX_SKEW_SECONDS", "30", ("s3", "max_skew_seconds"), 30),
        ("lading_region", "lower-case-name", ("region",), "lower-case-name"),
    ],
)
def test_environment_variables_reach_nested_fields(
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    field: tuple[str, ...],
    expected: object,
) -> None:
    monkeypatch.setenv(variable, value)
    found: object = load_settings()
    for name in field:
        found = getattr(found, name)
    assert found == expected


def test_missing_config_file_raises_file_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(FileNotFoundError, match="nope.toml"):
        load_settings(missing)


def test_config_path_that_is_a_directory_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_settings(tmp_path)


@pytest.mark.parametrize(
    "config",
    ["workers = 0", 'workers = "many"', "[storage]\nfsync = 3"],
    ids=["below-minimum", "not-a-number", "not-a-bool"],
)
def test_invalid_values_in_the_file_raise_validation_error(tmp_path: Path, config: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(config)
    with pytest.raises(ValidationError):
        load_settings(path)


def test_invalid_environment_value_raises_validation_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LADING_WORKERS", "0")
    with pytest.raises(ValidationError):
        load_settings()
