"""A migrated metadata store with the catalog hook, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lading.metadata.catalog import CatalogQueries, index_change
from lading.metadata.migrate import upgrade
from lading.metadata.store import MetadataStore, create_engine
from lading.services.buckets import BucketService
from lading.services.catalog import CatalogService
from lading.storage.memory import MemoryBlobStore
from lading.testing.postgres import NO_POSTGRES, scratch_database

POSTGRES_URL = os.environ.get("LADING_TEST_POSTGRES_URL", "")


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    with scratch_database(POSTGRES_URL) as url:
        yield url


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
