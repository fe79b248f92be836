"""catalog attributes and search index

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

IdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _object_id(primary_key: bool = True) -> sa.Column[int]:
    return sa.Column(
        "object_id",
        IdType,
        sa.ForeignKey("objects.id", ondelete="CASCADE", name=None),
        primary_key=primary_key,
    )


def upgrade() -> None:
    op.create_table(
        "catalog_attributes",
        _object_id(),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("type", sa.String(1), nullable=False),
        sa.Column("v_str", sa.String(600), nullable=True),
        sa.Column("v_num", sa.Float(53), nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_catalog_attributes_name_v_str_object_id",
        "catalog_attributes",
        ["name", "v_str", "object_id"],
    )
    op.create_index(
        "ix_catalog_attributes_name_type_v_num_object_id",
        "catalog_attributes",
        ["name", "type", "v_num", "object_id"],
    )
    op.create_table(
        "catalog_text",
        _object_id(),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "catalog_extents",
        _object_id(),
        sa.Column("west", sa.Float(53), nullable=True),
        sa.Column("south", sa.Float(53), nullable=True),
        sa.Column("east", sa.Float(53), nullable=True),
        sa.Column("north", sa.Float(53), nullable=True),
        sa.Column("geometry", sa.Text, nullable=True),
        sa.Column("start", sa.BigInteger, nullable=True),
        sa.Column("end", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_catalog_extents_west_east", "catalog_extents", ["west", "east"])
    op.create_index("ix_catalog_extents_start_end", "catalog_extents", ["start", "end"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_catalog_text_tsv ON catalog_text "
            "USING gin (to_tsvector('simple', body))"
        )
    else:
        # an external-content FTS5 index over catalog_text, kept in step by triggers
        op.execute(
            "CREATE VIRTUAL TABLE catalog_fts USING fts5("
            "body, content='catalog_text', content_rowid='object_id')"
        )
        op.execute(
            "CREATE TRIGGER catalog_text_ai AFTER INSERT ON catalog_text BEGIN "
            "INSERT INTO catalog_fts(rowid, body) VALUES (new.object_id, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER catalog_text_ad AFTER DELETE ON catalog_text BEGIN "
            "INSERT INTO catalog_fts(catalog_fts, rowid, body) "
            "VALUES ('delete', old.object_id, old.body); END"
        )
        op.execute(
            "CREATE TRIGGER catalog_text_au AFTER UPDATE ON catalog_text BEGIN "
            "INSERT INTO catalog_fts(catalog_fts, rowid, body) "
            "VALUES ('delete', old.object_id, old.body); "
            "INSERT INTO catalog_fts(rowid, body) VALUES (new.object_id, new.body); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for trigger in ("catalog_text_ai", "catalog_text_ad", "catalog_text_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS catalog_fts")
    op.drop_table("catalog_extents")
    op.drop_table("catalog_text")
    op.drop_table("catalog_attributes")
