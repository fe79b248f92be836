"""Schema migrations (Alembic), run once before a server starts serving."""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine) -> None:
    """Bring the schema to the newest revision; idempotent."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
