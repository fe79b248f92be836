"""access-key lifecycle, passwords, tokens and the audit log

Revision ID: 0010
Revises: 0009

Secrets already stored in clear are sealed by the first server start after this migration
(`IdentityService.seal_clear_secrets`): the master keys live outside the database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

IdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("access_keys", schema=None) as batch_op:
        batch_op.alter_column("secret_key", type_=sa.Text(), existing_nullable=False)
        batch_op.add_column(sa.Column("expires_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("last_used_at", sa.BigInteger(), nullable=True))
    op.create_table(
        "user_passwords",
        sa.Column("user_id", IdType, nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_user_passwords_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_passwords"),
    )
    op.create_table(
        "auth_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("user_id", IdType, nullable=False),
        sa.Column("parent_id", sa.String(32), nullable=True),
        sa.Column("description", sa.String(255), server_default=sa.text("''"), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("last_used_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_auth_tokens_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_auth_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_auth_tokens_token_hash"),
    )
    op.create_index("ix_auth_tokens_user_id_kind", "auth_tokens", ["user_id", "kind"])
    op.create_index("ix_auth_tokens_parent_id", "auth_tokens", ["parent_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", IdType, autoincrement=True, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("api", sa.String(8), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("access_key", sa.String(128), nullable=False),
        sa.Column("operation", sa.String(128), nullable=False),
        sa.Column("bucket", sa.String(63), nullable=False),
        sa.Column("key", sa.String(1024), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_user_name_id", "audit_log", ["user_name", "id"])
    op.create_index("ix_audit_log_bucket_id", "audit_log", ["bucket", "id"])
    op.create_index("ix_audit_log_outcome_id", "audit_log", ["outcome", "id"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("auth_tokens")
    op.drop_table("user_passwords")
    with op.batch_alter_table("access_keys", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("expires_at")
        batch_op.alter_column("secret_key", type_=sa.String(128), existing_nullable=False)
