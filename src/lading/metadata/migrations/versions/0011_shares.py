"""shares, share links, their recorded uses, and the notification outbox

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

IdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KeyType = sa.String(1024).with_variant(sa.String(1024, collation="C"), "postgresql")


def _id() -> sa.Column[int]:
    return sa.Column("id", IdType, autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "shares",
        _id(),
        sa.Column("bucket_id", IdType, nullable=False),
        sa.Column("prefix", KeyType, nullable=False),
        sa.Column("principal_type", sa.String(length=32), nullable=False),
        sa.Column("principal_id", IdType, nullable=True),
        sa.Column("principal_name", sa.String(length=255), nullable=False),
        sa.Column("permission", sa.String(length=2), nullable=False),
        sa.Column("created_by", IdType, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("notify_email", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["bucket_id"],
            ["buckets.id"],
            name=op.f("fk_shares_bucket_id_buckets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shares")),
    )
    op.create_index(op.f("ix_shares_bucket_id"), "shares", ["bucket_id"])
    op.create_index(
        op.f("ix_shares_principal_type_principal_id"), "shares", ["principal_type", "principal_id"]
    )
    op.create_table(
        "share_links",
        _id(),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("bucket_id", IdType, nullable=False),
        sa.Column("prefix", KeyType, nullable=False),
        sa.Column("is_object", sa.Boolean(), nullable=False),
        sa.Column("created_by", IdType, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("max_bytes", sa.BigInteger(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("bytes_served", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bucket_id"],
            ["buckets.id"],
            name=op.f("fk_share_links_bucket_id_buckets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_share_links_token_hash")),
    )
    op.create_index(op.f("ix_share_links_bucket_id"), "share_links", ["bucket_id"])
    op.create_table(
        "share_link_uses",
        _id(),
        sa.Column("link_id", IdType, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=False),
        sa.Column("key", KeyType, nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["share_links.id"],
            name=op.f("fk_share_link_uses_link_id_share_links"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_link_uses")),
    )
    op.create_index(op.f("ix_share_link_uses_link_id_id"), "share_link_uses", ["link_id", "id"])
    op.create_table(
        "share_outbox",
        _id(),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("share_id", IdType, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_outbox")),
    )


def downgrade() -> None:
    op.drop_table("share_outbox")
    op.drop_index(op.f("ix_share_link_uses_link_id_id"), table_name="share_link_uses")
    op.drop_table("share_link_uses")
    op.drop_index(op.f("ix_share_links_bucket_id"), table_name="share_links")
    op.drop_table("share_links")
    op.drop_index(op.f("ix_shares_principal_type_principal_id"), table_name="shares")
    op.drop_index(op.f("ix_shares_bucket_id"), table_name="shares")
    op.drop_table("shares")
