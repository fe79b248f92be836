"""Projects remember the expiry for which administrators were told to archive or delete them

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE ADD COLUMN: a batch copy of `projects` would trip its foreign keys
    op.add_column("projects", sa.Column("attention_notice_for", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("projects", "attention_notice_for")
