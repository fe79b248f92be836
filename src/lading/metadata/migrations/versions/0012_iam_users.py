"""IAM users (Lading users created through the IAM API) and their attached policies

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

IdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "iam_users",
        sa.Column("user_id", IdType, nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("created_by", IdType, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_iam_users_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_iam_users")),
    )
    op.create_table(
        "iam_user_policies",
        sa.Column("user_id", IdType, nullable=False),
        sa.Column("policy_arn", sa.String(length=2048), nullable=False),
        sa.Column("attached_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["iam_users.user_id"],
            name=op.f("fk_iam_user_policies_user_id_iam_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "policy_arn", name=op.f("pk_iam_user_policies")),
    )


def downgrade() -> None:
    op.drop_table("iam_user_policies")
    op.drop_table("iam_users")
