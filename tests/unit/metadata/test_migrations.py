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
