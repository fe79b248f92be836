"""objects: checksum algorithm and type as columns, for listings

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("objects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "checksum_algorithm",
                sa.String(length=16),
                server_default=sa.text("''"),
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "checksum_type", sa.String(length=16), server_default=sa.text("''"), nullable=False
            )
        )
    objects = sa.table(
        "objects",
        sa.column("id", sa.BigInteger),
        sa.column("checksums", sa.Text),
        sa.column("checksum_algorithm", sa.String),
        sa.column("checksum_type", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(objects.c.id, objects.c.checksums).where(
            sa.cast(objects.c.checksums, sa.Text) != "{}"
        )
    ).all()
    for row_id, raw in rows:
        checksums = raw if isinstance(raw, dict) else json.loads(raw)
        algorithm = next((name for name in checksums if name != "type"), "")
        connection.execute(
            objects.update()
            .where(objects.c.id == row_id)
            .values(checksum_algorithm=algorithm, checksum_type=checksums.get("type", ""))
        )


def downgrade() -> None:
    with op.batch_alter_table("objects", schema=None) as batch_op:
        batch_op.drop_column("checksum_type")
        batch_op.drop_column("checksum_algorithm")
