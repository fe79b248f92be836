"""SQLite: the full-text index is brought up to date in batches, off the write path

Revision ID: 0015
Revises: 0014

Until now the triggers on `catalog_text` updated the FTS5 index inside every write
transaction: FTS5 writes a new segment, its structure and its averages on each commit, which
was a third of the cost of a small PUT. The triggers now queue each change (the object id,
the text, added or removed) in `catalog_text_pending`, one row in a plain table, and
`lading.metadata.catalog.index_pending_text` applies the queue in one transaction: a server
does so every second, and a full-text search first, so a search still sees every committed
write. PostgreSQL's GIN index is unchanged.
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TRIGGERS = ("catalog_text_ai", "catalog_text_ad", "catalog_text_au")


def _drop_triggers() -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")


def _queue(row: str, added: int) -> str:
    """A trigger's statement queueing the text of `row` ("new" or "old") as added (1) or
    removed (0)."""
    return (
        "INSERT INTO catalog_text_pending(object_id, body, added) "
        f"VALUES ({row}.object_id, {row}.body, {added});"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    op.execute(
        "CREATE TABLE catalog_text_pending ("
        "seq INTEGER PRIMARY KEY, "
        "object_id INTEGER NOT NULL, "
        "body TEXT NOT NULL, "
        "added BOOLEAN NOT NULL)"
    )
    _drop_triggers()
    added, removed = _queue("new", 1), _queue("old", 0)
    op.execute(f"CREATE TRIGGER catalog_text_ai AFTER INSERT ON catalog_text BEGIN {added} END")
    op.execute(f"CREATE TRIGGER catalog_text_ad AFTER DELETE ON catalog_text BEGIN {removed} END")
    op.execute(
        f"CREATE TRIGGER catalog_text_au AFTER UPDATE ON catalog_text BEGIN {removed} {added} END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    _drop_triggers()
    op.execute("DROP TABLE catalog_text_pending")
    # the queue is gone: index the text table as it is, then update the index in each write
    op.execute("INSERT INTO catalog_fts(catalog_fts) VALUES ('rebuild')")
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
