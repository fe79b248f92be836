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

# The bytes of small objects, kept in the metadata database instead of a blob file ("inline"
# blobs, as MinIO keeps small objects in xl.meta): written in the same transaction as the
# object's row, so a small PUT costs one WAL append of its batch instead of a file, its fsync
# and its directory's fsync. Ids start with INLINE_PREFIX (lading.storage.base).
inline_blobs = sa.Table(
    "inline_blobs",
    metadata,
    sa.Column("blob_id", sa.String(40), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", Micros, nullable=False),
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

# --- catalog -----------------------------------------------------------------------------------
# Searchable attributes of every object version as attribute-value rows (the iRODS AVU model):
# x-amz-meta-* as "meta:<name>", tags as "tag:<name>", typed catalog attributes by their own
# name. A list is one row per element. Rows go with their version (ON DELETE CASCADE), so an
# overwrite, a delete or a lifecycle expiry removes them in the same transaction.
catalog_attributes = sa.Table(
    "catalog_attributes",
    metadata,
    sa.Column(
        "object_id", IdType, sa.ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),  # 0, or the place in a list
    sa.Column("type", sa.String(1), nullable=False),  # s(tring) n(umber) b(ool) t(ime) l(ist)
    sa.Column("v_str", sa.String(600), nullable=True),  # strings and list elements
    sa.Column("v_num", sa.Float(53), nullable=True),  # numbers, booleans 0/1, times in µs
    # object_id in the value indexes: a search reads ids from the index alone
    sa.Index(None, "name", "v_str", "object_id"),
    sa.Index(None, "name", "type", "v_num", "object_id"),
    sqlite_with_rowid=False,  # rows clustered by (object_id, name, position)
)

# One full-text document per version: the key's words and every string value. SQLite indexes
# it with an FTS5 table kept by triggers; PostgreSQL with a GIN index on to_tsvector (0006).
catalog_text = sa.Table(
    "catalog_text",
    metadata,
    sa.Column(
        "object_id", IdType, sa.ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("body", sa.Text, nullable=False),
)

# The extent of versions with spatial or temporal attributes: what STAC searches.
catalog_extents = sa.Table(
    "catalog_extents",
    metadata,
    sa.Column(
        "object_id", IdType, sa.ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("west", sa.Float(53), nullable=True),
    sa.Column("south", sa.Float(53), nullable=True),
    sa.Column("east", sa.Float(53), nullable=True),
    sa.Column("north", sa.Float(53), nullable=True),
    sa.Column("geometry", sa.Text, nullable=True),  # GeoJSON
    sa.Column("start", Micros, nullable=True),
    sa.Column("end", Micros, nullable=True),
    sa.Index(None, "west", "east"),
    sa.Index(None, "start", "end"),
)

# Full-text objects the 0006 and 0015 migrations make for one dialect only, outside this metadata.
DIALECT_OBJECTS = frozenset(
    {
        "catalog_fts",  # SQLite FTS5 and its shadow tables
        "catalog_fts_data",
        "catalog_fts_idx",
        "catalog_fts_docsize",
        "catalog_fts_config",
        "catalog_fts_content",
        "catalog_text_pending",  # SQLite: the index's queue of changes (migration 0015)
        "ix_catalog_text_tsv",  # PostgreSQL GIN index on to_tsvector('simple', body)
    }
)

# --- shares and share links (migration 0011) ------------------------------------------------
# A share grants (bucket, prefix) to a user, a group, every authenticated user or anyone, with
# "r" or "rw"; a share link is a bearer token (kept only as its SHA-256) to a prefix or one
# object; every request through a link is recorded in share_link_uses; notification e-mails
# land in share_outbox (and are also sent when an SMTP server is configured).

shares = sa.Table(
    "shares",
    metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column("bucket_id", IdType, sa.ForeignKey("buckets.id", ondelete="CASCADE"), nullable=False),
    sa.Column("prefix", KeyType, nullable=False),
    sa.Column("principal_type", sa.String(32), nullable=False),
    sa.Column("principal_id", IdType, nullable=True),  # a user's or a group's id
    sa.Column("principal_name", sa.String(255), nullable=False),
    sa.Column("permission", sa.String(2), nullable=False),  # "r" or "rw"
    sa.Column("created_by", IdType, nullable=False),
    sa.Column("created_at", Micros, nullable=False),
    sa.Column("expires_at", Micros, nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("notify_email", sa.String(320), nullable=False),
    sa.Index(None, "bucket_id"),
    sa.Index(None, "principal_type", "principal_id"),
)

share_links = sa.Table(
    "share_links",
    metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("bucket_id", IdType, sa.ForeignKey("buckets.id", ondelete="CASCADE"), nullable=False),
    sa.Column("prefix", KeyType, nullable=False),
    sa.Column("is_object", sa.Boolean, nullable=False),
    sa.Column("created_by", IdType, nullable=False),
    sa.Column("created_at", Micros, nullable=False),
    sa.Column("expires_at", Micros, nullable=True),
    sa.Column("max_uses", sa.Integer, nullable=True),
    sa.Column("max_bytes", sa.BigInteger, nullable=True),
    sa.Column("uses", sa.Integer, nullable=False),
    sa.Column("bytes_served", sa.BigInteger, nullable=False),
    sa.Column("revoked_at", Micros, nullable=True),
    sa.Column("note", sa.Text, nullable=False),
    sa.Index(None, "bucket_id"),
)

share_link_uses = sa.Table(
    "share_link_uses",
    metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column(
        "link_id", IdType, sa.ForeignKey("share_links.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("at", Micros, nullable=False),
    sa.Column("remote", sa.String(64), nullable=False),
    sa.Column("key", KeyType, nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Index(None, "link_id", "id"),
)

share_outbox = sa.Table(
    "share_outbox",
    metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column("created_at", Micros, nullable=False),
    sa.Column("recipient", sa.String(320), nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("share_id", IdType, nullable=True),
)

# --- transfers (migration 0008): endpoints, tasks, their files and events --------------------

transfer_endpoints = sa.Table(
    "transfer_endpoints",
    metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column("owner_id", IdType, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # s3 | posix
    sa.Column("config", sa.JSON, nullable=False),  # url, region, addressing style, bucket, root
    sa.Column("secret", sa.Text, nullable=True),  # credentials, encrypted under the keyring
    sa.Column("created_at", Micros, nullable=False),
    sa.UniqueConstraint("owner_id", "name"),
)

transfer_tasks = sa.Table(
    "transfer_tasks",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("owner_id", IdType, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("submission_id", sa.String(128), nullable=False),
    sa.Column("label", sa.String(255), nullable=False),
    sa.Column("source_id", IdType, nullable=False),
    sa.Column("destination_id", IdType, nullable=False),
    sa.Column("items", sa.JSON, nullable=False),
    sa.Column("options", sa.JSON, nullable=False),
    sa.Column("notify", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # ACTIVE INACTIVE SUCCEEDED FAILED
    sa.Column("phase", sa.String(16), nullable=False),  # plan | copy | done
    sa.Column("claimed_by", sa.String(64), nullable=True),  # the worker planning it
    sa.Column("lease_until", Micros, nullable=True),
    sa.Column("deadline", Micros, nullable=True),
    sa.Column("files_planned", sa.BigInteger, nullable=False, default=0),
    sa.Column("bytes_planned", sa.BigInteger, nullable=False, default=0),
    sa.Column("files_copied", sa.BigInteger, nullable=False, default=0),
    sa.Column("bytes_copied", sa.BigInteger, nullable=False, default=0),
    sa.Column("bytes_transferred", sa.BigInteger, nullable=False, default=0),
    sa.Column("files_skipped", sa.BigInteger, nullable=False, default=0),
    sa.Column("files_deleted", sa.BigInteger, nullable=False, default=0),
    sa.Column("files_failed", sa.BigInteger, nullable=False, default=0),
    sa.Column("retries", sa.BigInteger, nullable=False, default=0),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("created_at", Micros, nullable=False),
    sa.Column("completed_at", Micros, nullable=True),
    sa.UniqueConstraint("owner_id", "submission_id"),
    sa.Index(None, "status", "phase"),
)

transfer_files = sa.Table(
    "transfer_files",
    metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column(
        "task_id",
        sa.String(36),
        sa.ForeignKey("transfer_tasks.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("item", sa.Integer, nullable=False),  # index into the task's items
    sa.Column("path", KeyType, nullable=False),  # relative to the item's roots
    sa.Column("action", sa.String(8), nullable=False),  # copy | compare | delete
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mtime", sa.Float, nullable=False),
    sa.Column("checksum", sa.String(128), nullable=True),  # the source's, when listed
    sa.Column("dst", sa.JSON, nullable=True),  # the destination entry, when there is one
    sa.Column("state", sa.String(12), nullable=False),  # pending done failed skipped
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("lease_until", Micros, nullable=True),
    sa.Column("parts", sa.JSON, nullable=True),  # the part checkpoint of a multipart copy
    sa.Column("result", sa.String(128), nullable=True),  # the checksum recorded
    sa.Column("error", sa.Text, nullable=True),
    sa.Index(None, "task_id", "state"),
)

transfer_events = sa.Table(
    "transfer_events",
    metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column(
        "task_id",
        sa.String(36),
        sa.ForeignKey("transfer_tasks.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("at", Micros, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("path", KeyType, nullable=True),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Index(None, "task_id", "id"),
)

transfer_schedules = sa.Table(
    "transfer_schedules",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("owner_id", IdType, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("label", sa.String(255), nullable=False),
    sa.Column("template", sa.JSON, nullable=False),  # the task each run submits
    sa.Column("every_seconds", sa.Integer, nullable=True),
    sa.Column("cron", sa.String(128), nullable=True),
    sa.Column("next_run", Micros, nullable=False),
    sa.Column("last_task_id", sa.String(36), nullable=True),
    sa.Column("runs", sa.BigInteger, nullable=False, default=0),
    sa.Column("skipped", sa.BigInteger, nullable=False, default=0),
    sa.Column("created_at", Micros, nullable=False),
    sa.Index(None, "next_run"),
)

# --- IAM users: Lading users created through the IAM API, and their policies (0012) --------

# A user with a row here is an IAM user: each of its requests needs an Allow from one of
# its attached policies, on top of what ownership, shares and bucket policies decide.
iam_users = sa.Table(
    "iam_users",
    metadata,
    sa.Column("user_id", IdType, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("path", sa.String(512), nullable=False),  # IAM's "/division/team/"
    sa.Column("created_by", IdType, nullable=False),  # the administrator's user id
)

iam_user_policies = sa.Table(
    "iam_user_policies",
    metadata,
    sa.Column(
        "user_id",
        IdType,
        sa.ForeignKey("iam_users.user_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("policy_arn", sa.String(2048), primary_key=True),
    sa.Column("attached_at", Micros, nullable=False),
)

# --- notices to administrators (migration 0014) ------------------------------------------------
# The expiry (epoch microseconds) for which administrators were told that a project's grace
# period is over: one notice per expiry, however many passes see it.
projects.append_column(sa.Column("attention_notice_for", Micros, nullable=True))
