"""The metadata store's conformance suite on SQLite and, when configured, PostgreSQL.

PostgreSQL runs when LADING_TEST_POSTGRES_URL names a server database the tests may use to
create (and drop) a scratch database, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lading.metadata import schema
from lading.metadata.migrate import upgrade
from lading.metadata.schema import DIALECT_OBJECTS
from lading.metadata.store import MetadataStore, create_engine
from lading.testing.metadata_suite import MetadataStoreSuite
from lading.testing.postgres import NO_POSTGRES, scratch_database

POSTGRES_URL = os.environ.get("LADING_TEST_POSTGRES_URL", "")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('metadata') / 'metadata.db'}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database for this test session, dropped at its end."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    with scratch_database(POSTGRES_URL) as url:
        yield url


def migrated_store(url: str) -> Iterator[MetadataStore]:
    engine = create_engine(url)
    try:
        upgrade(engine)
        yield MetadataStore(engine)
    finally:
        engine.dispose()


class TestSQLite(MetadataStoreSuite):
    @pytest.fixture(scope="class")
    @classmethod
    def meta(cls, sqlite_url: str) -> Iterator[MetadataStore]:
        yield from migrated_store(sqlite_url)


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)
class TestPostgres(MetadataStoreSuite):
    @pytest.fixture(scope="class")
    @classmethod
    def meta(cls, postgres_url: str) -> Iterator[MetadataStore]:
        yield from migrated_store(postgres_url)


@pytest.mark.parametrize(
    "url_fixture",
    [
        "sqlite_url",
        pytest.param(
            "postgres_url",
            marks=[pytest.mark.postgres, pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)],
        ),
    ],
)
def test_migrations_build_exactly_the_declared_schema(
    url_fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue(url_fixture)
    if url_fixture == "sqlite_url":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"  # a database nothing else touched
    engine = create_engine(url)
    try:
        upgrade(engine)
        upgrade(engine)  # idempotent
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "compare_server_default": True,
                    "include_object": lambda _obj, name, *_: name not in DIALECT_OBJECTS,
                },
            )
            differences = compare_metadata(context, schema.metadata)
    finally:
        engine.dispose()
    assert differences == []
