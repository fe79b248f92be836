"""bucket notifications: topics and the event outbox

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

IdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "topics",
        sa.Column("id", IdType, autoincrement=True, nullable=False),
        sa.Column("owner_id", IdType, nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_topics_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
        sa.UniqueConstraint("owner_id", "name", name=op.f("uq_topics_owner_id_name")),
    )
    op.create_table(
        "event_outbox",
        sa.Column("id", IdType, autoincrement=True, nullable=False),
        sa.Column("topic_id", IdType, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=False),
        sa.Column(
            "lease_owner", sa.String(length=64), server_default=sa.text("''"), nullable=False
        ),
        sa.Column("lease_until", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_event_outbox_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_outbox")),
    )
    op.create_index(
        op.f("ix_event_outbox_next_attempt_at_id"),
        "event_outbox",
        ["next_attempt_at", "id"],
    )
    op.create_index(op.f("ix_event_outbox_topic_id_id"), "event_outbox", ["topic_id", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_event_outbox_topic_id_id"), table_name="event_outbox")
    op.drop_index(op.f("ix_event_outbox_next_attempt_at_id"), table_name="event_outbox")
    op.drop_table("event_outbox")
    op.drop_table("topics")
