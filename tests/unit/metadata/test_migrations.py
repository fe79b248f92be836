"""Migrations carry existing data forward."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from lading.metadata.migrate import alembic_config, upgrade
from lading.metadata.store import create_engine


def test_0002_backfills_the_listed_checksum_columns(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.exec_driver_sql(
            "INSERT INTO users (id, name, display_name, is_admin, created_at) "
            "VALUES (1, 'root', 'Root', 1, 0)"
        )
        conn.exec_driver_sql(
            "INSERT INTO buckets (id, name, owner_id, region, created_at, versioning) "
            "VALUES (1, 'b', 1, 'us-east-1', 0, '')"
        )
        for key, checksums in (
            ("with", '{"CRC32": "AAAAAA==", "type": "FULL_OBJECT"}'),
            ("without", "{}"),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO objects (bucket_id, key, version_id, is_latest, "
                    "is_delete_marker, size, etag, last_modified, content_type, segments, "
                    "part_sizes, meta, headers, checksums, storage_class, owner_id) VALUES "
                    "(1, :key, 'null', 1, 0, 1, 'e', 0, 'x', '[]', NULL, '{}', '{}', "
                    ":checksums, 'STANDARD', 1)"
                ),
                {"key": key, "checksums": checksums},
            )
    upgrade(engine)
    with engine.connect() as conn:
        rows = dict(
            (key, (algorithm, kind))
            for key, algorithm, kind in conn.exec_driver_sql(
                "SELECT key, checksum_algorithm, checksum_type FROM objects"
            )
        )
    engine.dispose()
    assert rows == {"with": ("CRC32", "FULL_OBJECT"), "without": ("", "")}


def test_0010_keeps_keys_and_the_first_start_seals_their_secrets(tmp_path: Path) -> None:
    from lading.app import prepare_data_dir
    from lading.settings import Settings

    settings = Settings(data_dir=tmp_path)
    engine = create_engine(settings.metadata_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0009")
        conn.exec_driver_sql(
            "INSERT INTO users (id, name, display_name, is_admin, created_at) "
            "VALUES (7, 'alice', 'Alice', 0, 0)"
        )
        conn.exec_driver_sql(
            "INSERT INTO access_keys (access_key, secret_key, user_id, status, created_at) "
            "VALUES ('LADOLDKEY', 'clear-secret-from-before', 7, 'active', 0)"
        )
    engine.dispose()
    prepare_data_dir(settings)
    engine = create_engine(settings.metadata_url)
    with engine.connect() as conn:
        stored, expires = conn.exec_driver_sql(
            "SELECT secret_key, expires_at FROM access_keys WHERE access_key = 'LADOLDKEY'"
        ).one()
    engine.dispose()
    assert stored.startswith("sealed:v1:") and "clear-secret" not in stored
    assert expires is None

    from lading.app import build_keyring
    from lading.services.identity import SECRET_PURPOSE

    assert build_keyring(settings).open_sealed(stored, SECRET_PURPOSE) == (
        b"clear-secret-from-before"
    )


def test_0015_queues_full_text_changes_and_its_downgrade_indexes_the_queue(
    tmp_path: Path,
) -> None:
    from lading.metadata.catalog import CatalogQueries, index_change
    from lading.metadata.models import ObjectVersion
    from lading.metadata.store import MetadataStore, now_us

    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0014")
    store = MetadataStore(engine, hooks=(index_change,))
    owner = store.create_user("owner")
    bucket = store.create_bucket("texts", owner, "us-east-1")

    def put(key: str, word: str) -> None:
        version = ObjectVersion(
            bucket_id=bucket.id,
            key=key,
            version_id="null",
            size=1,
            etag='"e"',
            last_modified=now_us(),
            content_type="text/plain",
            metadata={"w": word},
            owner_id=owner.id,
        )
        store.put_object(bucket, version)

    def matching(word: str) -> list[str]:
        with engine.connect() as conn:
            return list(
                conn.exec_driver_sql(
                    "SELECT o.key FROM catalog_fts f JOIN objects o ON o.id = f.rowid "
                    "WHERE catalog_fts MATCH ? ORDER BY o.key",
                    (word,),
                ).scalars()
            )

    def queued() -> int:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM catalog_text_pending").scalar())

    def index_is_whole() -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO catalog_fts(catalog_fts, rank) VALUES ('integrity-check', 1)"
            )

    put("one", "before")  # 0014: indexed in the write
    assert matching("before") == ["one"]
    upgrade(engine)
    assert matching("before") == ["one"]  # what was indexed stays
    put("two", "after")
    put("one", "changed")  # an overwrite: the old text's removal, the new text's addition
    assert queued() == 3
    assert matching("after") == []  # queued, not yet in the index
    assert CatalogQueries(store).index_pending_text() == 3
    assert queued() == 0
    assert (matching("after"), matching("changed"), matching("before")) == (["two"], ["one"], [])
    index_is_whole()
    put("three", "waiting")  # still queued when the schema goes back
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0014")
    assert matching("waiting") == ["three"]
    put("four", "direct")  # 0014's triggers index in the write again
    assert matching("direct") == ["four"]
    index_is_whole()
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
    engine.dispose()
    assert "catalog_text_pending" not in tables
