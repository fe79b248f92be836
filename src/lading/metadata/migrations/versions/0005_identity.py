"""identity: users' email and enabled flag, groups, projects, project usage

Every existing user gets a personal project; every bucket joins its owner's personal project,
whose usage counters start from the objects already stored.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

IdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PERSONAL_PREFIX = "personal-"  # lading.metadata.identity.PERSONAL_PREFIX, frozen here


def upgrade() -> None:
    # plain ALTER TABLE ADD COLUMN: a batch copy of `users` would trip its foreign keys
    op.add_column(
        "users",
        sa.Column("email", sa.String(length=255), server_default=sa.text("''"), nullable=False),
    )
    op.add_column(
        "users", sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False)
    )
    op.create_table(
        "groups",
        sa.Column("id", IdType, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column(
            "description", sa.String(length=1024), server_default=sa.text("''"), nullable=False
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_groups_name")),
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", IdType, nullable=False),
        sa.Column("user_id", IdType, nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_members_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_group_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_group_members")),
    )
    op.create_index(op.f("ix_group_members_user_id"), "group_members", ["user_id"])
    op.create_table(
        "projects",
        sa.Column("id", IdType, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column(
            "description", sa.String(length=1024), server_default=sa.text("''"), nullable=False
        ),
        sa.Column("personal_user_id", IdType, nullable=True),
        sa.Column("quota_bytes", sa.BigInteger(), nullable=True),
        sa.Column("quota_objects", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("grace_days", sa.Integer(), server_default=sa.text("30"), nullable=False),
        sa.Column("used_bytes", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("used_objects", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["personal_user_id"],
            ["users.id"],
            name=op.f("fk_projects_personal_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("name", name=op.f("uq_projects_name")),
        sa.UniqueConstraint("personal_user_id", name=op.f("uq_projects_personal_user_id")),
    )
    op.create_table(
        "project_members",
        sa.Column("project_id", IdType, nullable=False),
        sa.Column("user_id", IdType, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_members_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_project_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "user_id", name=op.f("pk_project_members")),
    )
    op.create_index(op.f("ix_project_members_user_id"), "project_members", ["user_id"])
    op.add_column("buckets", sa.Column("project_id", IdType, nullable=True))
    op.create_index("ix_buckets_project_id", "buckets", ["project_id"])
    op.create_table(
        "usage_samples",
        sa.Column("project_id", IdType, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("objects", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_usage_samples_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "at", name=op.f("pk_usage_samples")),
    )
    op.create_table(
        "usage_traffic",
        sa.Column("id", IdType, autoincrement=True, nullable=False),
        sa.Column("project_id", IdType, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("bytes_out", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_usage_traffic_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_traffic")),
    )
    op.create_index(op.f("ix_usage_traffic_project_id_at"), "usage_traffic", ["project_id", "at"])
    _personal_projects()


def _personal_projects() -> None:
    """A personal project per user (its admin); buckets join their owner's; counters filled."""
    conn = op.get_bind()
    now = time.time_ns() // 1000
    conn.execute(
        sa.text(
            "INSERT INTO projects (name, description, personal_user_id, created_at) "
            "SELECT :prefix || name, '', id, :now FROM users"
        ),
        {"prefix": PERSONAL_PREFIX, "now": now},
    )
    conn.execute(
        sa.text(
            "INSERT INTO project_members (project_id, user_id, role) "
            "SELECT id, personal_user_id, 'admin' FROM projects "
            "WHERE personal_user_id IS NOT NULL"
        )
    )
    conn.execute(
        sa.text(
            "UPDATE buckets SET project_id = "
            "(SELECT p.id FROM projects p WHERE p.personal_user_id = buckets.owner_id)"
        )
    )
    conn.execute(
        sa.text(
            "UPDATE projects SET "
            "used_bytes = COALESCE((SELECT SUM(o.size) FROM objects o JOIN buckets b "
            "ON b.id = o.bucket_id WHERE b.project_id = projects.id "
            "AND NOT o.is_delete_marker), 0), "
            "used_objects = COALESCE((SELECT COUNT(*) FROM objects o JOIN buckets b "
            "ON b.id = o.bucket_id WHERE b.project_id = projects.id "
            "AND NOT o.is_delete_marker), 0)"
        )
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_usage_traffic_project_id_at"), table_name="usage_traffic")
    op.drop_table("usage_traffic")
    op.drop_table("usage_samples")
    op.drop_index("ix_buckets_project_id", table_name="buckets")
    with op.batch_alter_table("buckets", schema=None) as batch_op:
        batch_op.drop_column("project_id")
    op.drop_index(op.f("ix_project_members_user_id"), table_name="project_members")
    op.drop_table("project_members")
    op.drop_table("projects")
    op.drop_index(op.f("ix_group_members_user_id"), table_name="group_members")
    op.drop_table("group_members")
    op.drop_table("groups")
    op.drop_column("users", "enabled")
    op.drop_column("users", "email")
