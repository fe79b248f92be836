"""transfer endpoints, tasks, their files (claims and part checkpoints), events, schedules

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

IdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KeyType = sa.String(1024).with_variant(sa.String(1024, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "transfer_endpoints",
        sa.Column("id", IdType, autoincrement=True, nullable=False),
        sa.Column("owner_id", IdType, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_transfer_endpoints_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_endpoints")),
        sa.UniqueConstraint("owner_id", "name", name=op.f("uq_transfer_endpoints_owner_id_name")),
    )
    op.create_table(
        "transfer_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", IdType, nullable=False),
        sa.Column("submission_id", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("source_id", IdType, nullable=False),
        sa.Column("destination_id", IdType, nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("notify", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("deadline", sa.BigInteger(), nullable=True),
        *[
            sa.Column(name, sa.BigInteger(), nullable=False)
            for name in (
                "files_planned",
                "bytes_planned",
                "files_copied",
                "bytes_copied",
                "bytes_transferred",
                "files_skipped",
                "files_deleted",
                "files_failed",
                "retries",
            )
        ],
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("completed_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_transfer_tasks_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_tasks")),
        sa.UniqueConstraint(
            "owner_id", "submission_id", name=op.f("uq_transfer_tasks_owner_id_submission_id")
        ),
    )
    op.create_index(op.f("ix_transfer_tasks_status_phase"), "transfer_tasks", ["status", "phase"])
    op.create_table(
        "transfer_files",
        sa.Column("id", IdType, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("item", sa.Integer(), nullable=False),
        sa.Column("path", KeyType, nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime", sa.Float(), nullable=False),
        sa.Column("checksum", sa.String(length=128), nullable=True),
        sa.Column("dst", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("parts", sa.JSON(), nullable=True),
        sa.Column("result", sa.String(length=128), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["transfer_tasks.id"],
            name=op.f("fk_transfer_files_task_id_transfer_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_files")),
    )
    op.create_index(op.f("ix_transfer_files_task_id_state"), "transfer_files", ["task_id", "state"])
    op.create_table(
        "transfer_events",
        sa.Column("id", IdType, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("path", KeyType, nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["transfer_tasks.id"],
            name=op.f("fk_transfer_events_task_id_transfer_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_events")),
    )
    op.create_index(op.f("ix_transfer_events_task_id_id"), "transfer_events", ["task_id", "id"])
    op.create_table(
        "transfer_schedules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", IdType, nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("template", sa.JSON(), nullable=False),
        sa.Column("every_seconds", sa.Integer(), nullable=True),
        sa.Column("cron", sa.String(length=128), nullable=True),
        sa.Column("next_run", sa.BigInteger(), nullable=False),
        sa.Column("last_task_id", sa.String(length=36), nullable=True),
        sa.Column("runs", sa.BigInteger(), nullable=False),
        sa.Column("skipped", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_transfer_schedules_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_schedules")),
    )
    op.create_index(op.f("ix_transfer_schedules_next_run"), "transfer_schedules", ["next_run"])


def downgrade() -> None:
    op.drop_table("transfer_schedules")
    op.drop_table("transfer_events")
    op.drop_table("transfer_files")
    op.drop_table("transfer_tasks")
    op.drop_table("transfer_endpoints")
