"""Scratch PostgreSQL databases for tests: one fresh database each, dropped afterwards.

Tests name a server through LADING_TEST_POSTGRES_URL (a database on it they may use to create
others), e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres; without it the
PostgreSQL legs skip.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import sqlalchemy as sa

SERVER_ENV = "LADING_TEST_POSTGRES_URL"
NO_POSTGRES = f"set {SERVER_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1/postgres)"


def server_url() -> str:
    """The configured server URL, or "" when the PostgreSQL legs are off."""
    return os.environ.get(SERVER_ENV, "")


@contextlib.contextmanager
def scratch_database(server: str, prefix: str = "lading_test") -> Iterator[str]:
    """Create an empty UTF-8 database on `server`, yield its URL, drop it (forcibly) on exit."""
    url = sa.make_url(server)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        admin.dispose()
