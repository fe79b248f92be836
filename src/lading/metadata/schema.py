"""The metadata schema, written once with SQLAlchemy Core for SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Keys sort by code point (S3 orders by UTF-8 bytes): SQLite compares bytes; PostgreSQL needs "C".
KeyType = sa.String(1024).with_variant(sa.String(1024, collation="C"), "postgresql")
NameType = sa.String(255).with_variant(sa.String(255, collation="C"), "postgresql")
IdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite rowid alias
Micros = sa.BigInteger

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(255), nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", Micros, nullable=False),
)

access_keys = sa.Table(
    "access_keys",
    metadata,
    sa.Column("access_key", sa.String(128), primary_key=True),
    sa.Column("secret_key", sa.Text, nullable=False),  # sealed (Keyring.seal) since 0010
    sa.Column("user_id", IdType, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="active"),
    sa.Column("created_at", Micros, nullable=False),
)

buckets = sa.Table(
    "buckets",
    metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(63), nullable=False, unique=True),
    sa.Column("owner_id", IdType, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("region", sa.String(64), nullable=False),
    sa.Column("created_at", Micros, nullable=False),
    sa.Column("versioning", sa.String(16), nullable=False, default=""),
    sa.Index(None, "owner_id", "name"),
)

objects = sa.Table(
    "objects",
    metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column("bucket_id", IdType, sa.ForeignKey("buckets.id"), nullable=False),
    sa.Column("key", KeyType, nullable=False),
    sa.Column("version_id", sa.String(64), nullable=False),
    sa.Column("is_latest", sa.Boolean, nullable=False),
    sa.Column("is_delete_marker", sa.Boolean, nullable=False, default=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("etag", sa.String(80), nullable=False),
    sa.Column("last_modified", Micros, nullable=False),
    sa.Column("content_type", sa.String(255), nullable=False),
    sa.Column("segments", sa.JSON, nullable=False),  # [[blob_id, size], ...]
    sa.Column("part_sizes", sa.JSON, nullable=True),
    sa.Column("meta", sa.JSON, nullable=False),
    sa.Column("headers", sa.JSON, nullable=False),
    sa.Column("checksums", sa.JSON, nullable=False),
    sa.Column("storage_class", sa.String(32), nullable=False),
    sa.Column("owner_id", IdType, nullable=False),
    # what listings show of `checksums`, kept apart so a listing decodes no JSON
    sa.Column("checksum_algorithm", sa.String(16), nullable=False, server_default=sa.text("''")),
    sa.Column("checksum_type", sa.String(16), nullable=False, server_default=sa.text("''")),
    # per-version attributes that change without a new version (S3 tags, ACL, object lock)
    sa.Column("tags", sa.JSON, nullable=True),  # {key: value}
    sa.Column("acl", sa.JSON, nullable=True),  # grants; NULL = private to the owner
    sa.Column("lock_mode", sa.String(16), nullable=False, server_default=sa.text("''")),
    sa.Column("lock_until", Micros, nullable=False, server_default=sa.text("0")),
    sa.Column("legal_hold", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("encryption", sa.JSON, nullable=True),  # the SSE envelope; never a key in clear
    sa.UniqueConstraint("bucket_id", "key", "version_id"),
    sa.Index("ix_objects_versions", "bucket_id", "key", "id"),
)
# At most one current version per key; listings seek through this partial index.
sa.Index(
    "ix_objects_current",
    objects.c.bucket_id,
    objects.c.key,
    unique=True,
    sqlite_where=objects.c.is_latest == sa.true(),
    postgresql_where=objects.c.is_latest == sa.true(),
)

# One document per bucket and kind ("cors", "lifecycle", "policy", "acl", "tagging",
# "encryption", "object-lock", "public-access-block"), stored as the service normalised it.
bucket_configs = sa.Table(
    "bucket_configs",
    metadata,
    sa.Column(
        "bucket_id",
        IdType,
        sa.ForeignKey("buckets.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("updated_at", Micros, nullable=False),
)

uploads = sa.Table(
    "uploads",
    metadata,
    sa.Column("upload_id", sa.String(64), primary_key=True),
    sa.Column("bucket_id", IdType, sa.ForeignKey("buckets.id"), nullable=False),
    sa.Column("key", KeyType, nullable=False),
    sa.Column("created_at", Micros, nullable=False),
    sa.Column("owner_id", IdType, nullable=False),
    sa.Column("content_type", sa.String(255), nullable=False),
    sa.Column("meta", sa.JSON, nullable=False),
    sa.Column("headers", sa.JSON, nullable=False),
    sa.Column("checksum_algorithm", sa.String(16), nullable=False),
    sa.Column("checksum_type", sa.String(16), nullable=False),
    sa.Column("storage_class", sa.String(32), nullable=False),
    # what the completed object inherits: tags, acl, lock, encryption (as on objects)
    sa.Column("attributes", sa.JSON, nullable=True),
    sa.Index(None, "bucket_id", "key", "created_at"),
)

parts = sa.Table(
    "parts",
    metadata,
    sa.Column(
        "upload_id",
        sa.String(64),
        sa.ForeignKey("uploads.upload_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("part_number", sa.Integer, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("etag", sa.String(80), nullable=False),
    sa.Column("blob_id", sa.String(64), nullable=False),
    sa.Column("last_modified", Micros, nullable=False),
    sa.Column("checksum", sa.String(128), nullable=False),
    sa.Column("encryption", sa.JSON, nullable=True),  # the part's SSE envelope
)

# --- credentials: access-key lifecycle, passwords, tokens and the audit log (migration 0010) ---

access_keys.append_column(sa.Column("expires_at", Micros, nullable=True))  # NULL: never
access_keys.append_column(sa.Column("last_used_at", Micros, nullable=True))  # flushed ~1/min

user_passwords = sa.Table(
    "user_passwords",
    metadata,
    sa.Column("user_id", IdType, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),  # argon2id, PHC string
    sa.Column("updated_at", Micros, nullable=False),
)

# Bearer tokens, stored only as SHA-256 hashes (they are 256-bit random strings).
auth_tokens = sa.Table(
    "auth_tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # public handle shown in listings
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(8), nullable=False),  # "access" or "refresh"
    sa.Column("user_id", IdType, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("parent_id", sa.String(32), nullable=True),  # an access token's refresh token
    sa.Column("description", sa.String(255), nullable=False, server_default=sa.text("''")),
    sa.Column("created_at", Micros, nullable=False),
    sa.Column("expires_at", Micros, nullable=False),
    sa.Column("last_used_at", Micros, nullable=True),
    sa.Column("revoked_at", Micros, nullable=True),
    sa.Index(None, "user_id", "kind"),
    sa.Index(None, "parent_id"),
)

# Every mutating request and every denial, S3 and control API, written in batches.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column("at", Micros, nullable=False),
    sa.Column("request_id", sa.String(32), nullable=False),
    sa.Column("api", sa.String(8), nullable=False),  # "s3" or "control"
    sa.Column("user_name", sa.String(64), nullable=False),  # "" for anonymous
    sa.Column("access_key", sa.String(128), nullable=False),
    sa.Column("operation", sa.String(128), nullable=False),
    sa.Column("bucket", sa.String(63), nullable=False),
    sa.Column("key", sa.String(1024), nullable=False),
    sa.Column("client", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(8), nullable=False),  # "ok", "denied" or "error"
    sa.Index(None, "at"),
    sa.Index(None, "user_name", "id"),
    sa.Index(None, "bucket", "id"),
    sa.Index(None, "outcome", "id"),
)

# --- bucket notifications (migration 0007) ------------------------------------------------------
# SNS-compatible topics (a push endpoint and its options) and the outbox of events waiting for
# delivery. An event row is written in the transaction that changes the object; a deliverer
# claims rows with a lease (lease_owner, lease_until), publishes them and deletes them.

topics = sa.Table(
    "topics",
    metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column("owner_id", IdType, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("attributes", sa.JSON, nullable=False),  # {"push-endpoint": ..., ...}
    sa.Column("created_at", Micros, nullable=False),
    sa.UniqueConstraint("owner_id", "name"),
)

event_outbox = sa.Table(
    "event_outbox",
    metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column("topic_id", IdType, sa.ForeignKey("topics.id", ondelete="CASCADE"), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # the S3 event JSON ({"Records": [...]})
    sa.Column("created_at", Micros, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("next_attempt_at", Micros, nullable=False),
    sa.Column("lease_owner", sa.String(64), nullable=False, server_default=sa.text("''")),
    sa.Column("lease_until", Micros, nullable=False, server_default=sa.text("0")),
    sa.Column("last_error", sa.Text, nullable=False, server_default=sa.text("''")),
    sa.Index(None, "next_attempt_at", "id"),
    sa.Index(None, "topic_id", "id"),
)

# --- identity: users' email and enabled flag, groups, projects, usage (migration 0005) ---------
# Columns added to tables declared above are appended here, so this section stays whole.
users.append_column(
    sa.Column("email", sa.String(255), nullable=False, server_default=sa.text("''"))
)
users.append_column(sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()))

groups = sa.Table(
    "groups",
    metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("description", sa.String(1024), nullable=False, server_default=sa.text("''")),
    sa.Column("created_at", Micros, nullable=False),
)

group_members = sa.Table(
    "group_members",
    metadata,
    sa.Column("group_id", IdType, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", IdType, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Index(None, "user_id"),
)

# A project owns buckets and holds their quota, expiry and the usage counters that the object
# change hook keeps in the same transaction as every object write and delete.
projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("description", sa.String(1024), nullable=False, server_default=sa.text("''")),
    # the user whose personal project this is (one each); NULL for shared projects
    sa.Column(
        "personal_user_id",
        IdType,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=True,
        unique=True,
    ),
    sa.Column("quota_bytes", sa.BigInteger, nullable=True),  # NULL: no limit
    sa.Column("quota_objects", sa.BigInteger, nullable=True),
    sa.Column("expires_at", Micros, nullable=True),  # buckets turn read-only after it
    sa.Column("grace_days", sa.Integer, nullable=False, server_default=sa.text("30")),
    sa.Column("used_bytes", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    sa.Column("used_objects", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    sa.Column("created_at", Micros, nullable=False),
)

project_members = sa.Table(
    "project_members",
    metadata,
    sa.Column(
        "project_id", IdType, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("user_id", IdType, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),  # admin, writer or reader
    sa.Index(None, "user_id"),
)

# The project a bucket belongs to (its creator's personal project unless named otherwise).
buckets.append_column(sa.Column("project_id", IdType, nullable=True))
sa.Index("ix_buckets_project_id", buckets.c.project_id)

# Bytes and objects stored, sampled by each usage pass (byte-days integrate these).
usage_samples = sa.Table(
    "usage_samples",
    metadata,
    sa.Column(
        "project_id", IdType, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("at", Micros, primary_key=True),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("objects", sa.BigInteger, nullable=False),
)

# Requests served and bytes downloaded, counted in memory by each process and flushed here.
usage_traffic = sa.Table(
    "usage_traffic",
    metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column(
        "project_id", IdType, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("at", Micros, nullable=False),
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("bytes_out", sa.BigInteger, nullable=False),
    sa.Index(None, "project_id", "at"),
)
