"""Options shared by the commands that open a data directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def data_options(func: F) -> F:
    """--data-dir and --config, the way `serve` and the admin commands find their data."""
    func = click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="TOML settings file (environment variables LADING_* override it).",
    )(func)
    func = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Directory for object data and the metadata database [default: ./lading-data].",
    )(func)
    return func


def load(config_file: Path | None, **overrides: Any) -> Any:
    """Load settings, turning a bad file or value into a CLI error."""
    from pydantic import ValidationError

    from lading.settings import load_settings

    try:
        return load_settings(config_file, **overrides)
    except (FileNotFoundError, ValidationError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
