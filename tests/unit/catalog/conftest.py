"""A migrated metadata store with the catalog hook, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from lading.metadata.catalog import CatalogQueries, index_change
from lading.metadata.migrate import upgrade
from lading.metadata.store import MetadataStore, create_engine
from lading.services.buckets import BucketService
from lading.services.catalog import CatalogService
from lading.storage.memory import MemoryBlobStore

POSTGRES_URL = os.environ.get("LADING_TEST_POSTGRES_URL", "")
NO_POSTGRES = "set LADING_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1/postgres)"


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    server = sa.make_url(POSTGRES_URL)
    name = f"lading_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
        yield server.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        admin.dispose()


@pytest.fixture(
    scope="module",
    params=[
        "sqlite",
        pytest.param("postgresql", marks=[pytest.mark.postgres]),
    ],
)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MetadataStore]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("catalog") / "metadata.db"
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_database")
    engine = create_engine(url)
    upgrade(engine)
    yield MetadataStore(engine, hooks=(index_change,))
    engine.dispose()


@pytest.fixture(scope="module")
def catalog(store: MetadataStore) -> CatalogService:
    buckets = BucketService(store, MemoryBlobStore(), "us-east-1", 0)
    return CatalogService(store, CatalogQueries(store), buckets)
