"""bucket configurations; object tags, ACL, lock and encryption; upload attributes

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

IdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bucket_configs",
        sa.Column("bucket_id", IdType, nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bucket_id"],
            ["buckets.id"],
            name=op.f("fk_bucket_configs_bucket_id_buckets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bucket_id", "name", name=op.f("pk_bucket_configs")),
    )
    with op.batch_alter_table("objects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("acl", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "lock_mode", sa.String(length=16), server_default=sa.text("''"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("lock_until", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("legal_hold", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("encryption", sa.JSON(), nullable=True))
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attributes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_column("attributes")
    with op.batch_alter_table("objects", schema=None) as batch_op:
        for column in ("encryption", "legal_hold", "lock_until", "lock_mode", "acl", "tags"):
            batch_op.drop_column(column)
    op.drop_table("bucket_configs")
