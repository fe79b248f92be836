"""Conformance suite for the metadata store (lading.metadata.store.MetadataStore).

A backend's test subclasses `MetadataStoreSuite` and provides a `meta` fixture of class or
session scope: a MetadataStore on a freshly migrated database (see
tests/conformance/test_metadata_stores.py). Every test makes its own users and buckets under
unique names, so one database serves the whole class, and the listing tables are seeded once.
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import pytest
import sqlalchemy as sa

from lading import errors
from lading.blob_ids import new_inline_id
from lading.metadata import schema
from lading.metadata.hooks import ObjectChange
from lading.metadata.models import (
    NULL_VERSION,
    Bucket,
    ObjectVersion,
    Part,
    Segment,
    Upload,
    User,
)
from lading.metadata.store import MetadataStore

# Keys for the listing table: neighbours of the delimiter ("a-" < "a." < "a/" < "a0"), empty
# path segments, a key equal to a prefix, non-ASCII keys inside and beyond the BMP (code point
# order is UTF-8 byte order, which UTF-16 order is not: U+E000 < U+1F600), and U+10FFFF, after
# which no string can follow.
LISTING_KEYS = sorted(
    [
        "a",
        "a-",
        "a-/x",
        "a.txt",
        "a/",
        "a//double",
        "a/b",
        "a/b/c",
        "a/b/d",
        "a/b-c",
        "a/bc",
        "a/c",
        "a0",
        "a0/x",
        "ab",
        "b",
        "b/",
        "b/a",
        "b/a/b",
        "c/d/e/f",
        "x y",
        "x+y",
        "ä",
        "ä/x",
        "日本/語",
        "日本語",
        "\ue000",
        "\uffff",
        "\U0001f600",
        "\U0001f600/x",
        "\U0001f600\U0001f600",
        "\U0001f600b/",
        "\U0010ffff",
        "\U0010ffff/z",
        "\U0010ffff\U0010ffff",
    ]
)
LISTING_PREFIXES = ["", "a", "a/", "a/b", "b/", "ä", "\U0001f600", "\U0010ffff", "zz"]
LISTING_DELIMITERS = ["", "/", "b/", "\U0001f600", "\U0010ffff"]
LISTING_AFTERS = ["", "a", "a-", "a/", "a/b", "a/b/c", "a0", "ä", "\U0001f600", "\U0010ffff"]
LISTING_PAGE_SIZES = [1, 2, 5, 1000]


def unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:16]}"


def reference_listing(keys: list[str], prefix: str, delimiter: str, after: str) -> list[str]:
    """S3 listing of keys, written the obvious way: entries (keys and common prefixes) in order.

    A common prefix is an entry of its own and stands for every key under it; one that is not
    after `after` (the marker lies inside it) is not listed again.
    """
    entries: list[str] = []
    for key in sorted(keys):
        if not key.startswith(prefix) or key <= after:
            continue
        entry = key
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                entry = key[: cut + len(delimiter)]
        if entry > after and (not entries or entries[-1] != entry):
            entries.append(entry)
    return entries


@dataclass
class QueryCounter:
    """Statements a block of code sends, and the rows those SELECTs yield."""

    statements: int = 0
    rows: int = 0

    def before(self, conn: sa.Connection, cursor: Any, statement: str, *_: Any) -> None:
        self.statements += 1

    def after(
        self,
        conn: sa.Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if not statement.lstrip().upper().startswith("SELECT"):
            return
        # the rows the statement yields, counted by running it again under COUNT(*) on the same
        # connection (PostgreSQL sends them all to the client whether or not they are read)
        counting = cursor.connection.cursor()
        try:
            counting.execute(f"SELECT count(*) FROM ({statement}) AS counted", parameters)
            self.rows += int(counting.fetchone()[0])
        finally:
            counting.close()

    @contextmanager
    def counting(self, engine: sa.Engine) -> Iterator[QueryCounter]:
        sa.event.listen(engine, "before_cursor_execute", self.before)
        sa.event.listen(engine, "after_cursor_execute", self.after)
        try:
            yield self
        finally:
            sa.event.remove(engine, "after_cursor_execute", self.after)
            sa.event.remove(engine, "before_cursor_execute", self.before)


def bulk_insert_objects(meta: MetadataStore, bucket: Bucket, keys: list[str]) -> None:
    """Current versions for many keys in one transaction, straight through the schema."""
    rows: list[dict[str, Any]] = [
        {
            "bucket_id": bucket.id,
            "key": key,
            "version_id": NULL_VERSION,
            "is_latest": True,
            "is_delete_marker": False,
            "size": 0,
            "etag": '"d41d8cd98f00b204e9800998ecf8427e"',
            "last_modified": 1,
            "content_type": "application/octet-stream",
            "segments": [],
            "part_sizes": None,
            "meta": {},
            "headers": {},
            "checksums": {},
            "storage_class": "STANDARD",
            "owner_id": bucket.owner.id,
        }
        for key in keys
    ]
    with meta.engine.begin() as conn:
        conn.execute(schema.objects.insert(), rows)


class MetadataStoreSuite:
    """The behaviour the metadata store shows on every database; subclasses provide `meta`."""

    # --- helpers -------------------------------------------------------------------------------

    @pytest.fixture
    def owner(self, meta: MetadataStore) -> User:
        return meta.create_user(unique("owner"))

    @pytest.fixture
    def bucket(self, meta: MetadataStore, owner: User) -> Bucket:
        return meta.create_bucket(unique("bucket"), owner, "us-east-1")

    @staticmethod
    def version(
        bucket: Bucket,
        key: str,
        *,
        version_id: str = NULL_VERSION,
        blobs: tuple[str, ...] = (),
        delete_marker: bool = False,
        size: int = 3,
    ) -> ObjectVersion:
        return ObjectVersion(
            bucket_id=bucket.id,
            key=key,
            version_id=version_id,
            size=0 if delete_marker else size,
            etag="" if delete_marker else '"etag"',
            last_modified=1_700_000_000_000_000,
            content_type="" if delete_marker else "text/plain",
            segments=tuple(Segment(blob, size) for blob in blobs),
            owner_id=bucket.owner.id,
            is_delete_marker=delete_marker,
        )

    @staticmethod
    def upload(bucket: Bucket, key: str, created_at: int = 1) -> Upload:
        return Upload(
            upload_id=uuid.uuid4().hex,
            bucket_id=bucket.id,
            key=key,
            created_at=created_at,
            owner_id=bucket.owner.id,
            content_type="application/octet-stream",
        )

    @staticmethod
    def part(number: int, blob_id: str | None = None) -> Part:
        return Part(
            part_number=number,
            size=5,
            etag=f'"part-{number}"',
            blob_id=blob_id or unique("blob"),
            last_modified=1,
            checksum="",
        )

    # --- users and keys ------------------------------------------------------------------------

    def test_created_user_can_be_read_back(self, meta: MetadataStore) -> None:
        name = unique("user")
        created = meta.create_user(name, display_name="A Person", is_admin=True)
        assert meta.get_user(name) == created
        assert (created.name, created.display_name, created.is_admin) == (name, "A Person", True)

    def test_display_name_defaults_to_the_name(self, meta: MetadataStore) -> None:
        name = unique("user")
        assert meta.create_user(name).display_name == name

    def test_duplicate_user_raises_user_already_exists(self, meta: MetadataStore) -> None:
        name = unique("user")
        meta.create_user(name)
        with pytest.raises(errors.UserAlreadyExists):
            meta.create_user(name)

    def test_unknown_user_raises_no_such_user(self, meta: MetadataStore) -> None:
        with pytest.raises(errors.NoSuchUser):
            meta.get_user(unique("nobody"))

    def test_access_key_resolves_to_its_user(self, meta: MetadataStore, owner: User) -> None:
        access = unique("AK")
        meta.add_access_key(owner.id, access, "secret-1")
        key = meta.get_access_key(access)
        assert (key.access_key, key.secret_key, key.user, key.status) == (
            access,
            "secret-1",
            owner,
            "active",
        )

    def test_adding_a_key_again_replaces_its_secret(self, meta: MetadataStore, owner: User) -> None:
        access = unique("AK")
        meta.add_access_key(owner.id, access, "old")
        meta.add_access_key(owner.id, access, "new")
        assert meta.get_access_key(access).secret_key == "new"

    def test_key_of_another_user_cannot_be_taken_over(
        self, meta: MetadataStore, owner: User
    ) -> None:
        access = unique("AK")
        meta.add_access_key(owner.id, access, "mine")
        thief = meta.create_user(unique("thief"))
        with pytest.raises(errors.Conflict):
            meta.add_access_key(thief.id, access, "theirs")
        assert meta.get_access_key(access).secret_key == "mine"

    def test_unknown_access_key_raises_invalid_access_key_id(self, meta: MetadataStore) -> None:
        with pytest.raises(errors.InvalidAccessKeyId):
            meta.get_access_key(unique("AK"))

    # --- buckets -------------------------------------------------------------------------------

    def test_created_bucket_can_be_read_back(self, meta: MetadataStore, owner: User) -> None:
        name = unique("bucket")
        created = meta.create_bucket(name, owner, "eu-west-1")
        assert meta.get_bucket(name) == created
        assert (created.name, created.owner, created.region) == (name, owner, "eu-west-1")

    def test_bucket_created_again_by_its_owner_raises_already_owned_by_you(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        with pytest.raises(errors.BucketAlreadyOwnedByYou):
            meta.create_bucket(bucket.name, bucket.owner, "us-east-1")

    def test_bucket_name_taken_by_another_user_raises_already_exists(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        other = meta.create_user(unique("other"))
        with pytest.raises(errors.BucketAlreadyExists):
            meta.create_bucket(bucket.name, other, "us-east-1")
        assert meta.get_bucket(bucket.name).owner == bucket.owner

    def test_unknown_bucket_raises_no_such_bucket(self, meta: MetadataStore) -> None:
        with pytest.raises(errors.NoSuchBucket):
            meta.get_bucket(unique("missing"))

    def test_list_buckets_shows_the_owners_buckets_by_name(
        self, meta: MetadataStore, owner: User
    ) -> None:
        stem = unique("list")
        names = [f"{stem}-c", f"{stem}-a", f"{stem}-b"]
        for name in names:
            meta.create_bucket(name, owner, "us-east-1")
        other = meta.create_user(unique("other"))
        meta.create_bucket(f"{stem}-other", other, "us-east-1")
        assert [b.name for b in meta.list_buckets(owner.id)] == sorted(names)
        assert [b.name for b in meta.list_buckets(other.id)] == [f"{stem}-other"]

    def test_empty_bucket_can_be_deleted(self, meta: MetadataStore, bucket: Bucket) -> None:
        assert meta.delete_bucket(bucket) == []
        with pytest.raises(errors.NoSuchBucket):
            meta.get_bucket(bucket.name)

    def test_bucket_with_an_object_raises_bucket_not_empty(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        meta.put_object(bucket, self.version(bucket, "k"))
        with pytest.raises(errors.BucketNotEmpty):
            meta.delete_bucket(bucket)
        assert meta.get_bucket(bucket.name) == bucket

    def test_bucket_with_only_a_delete_marker_raises_bucket_not_empty(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        meta.put_object(bucket, self.version(bucket, "k", version_id="v1", delete_marker=True))
        with pytest.raises(errors.BucketNotEmpty):
            meta.delete_bucket(bucket)

    def test_deleting_a_bucket_drops_its_uploads_and_returns_their_blobs(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        upload = self.upload(bucket, "k")
        meta.create_upload(upload)
        meta.put_part(upload.upload_id, self.part(1, "blob-1"))
        meta.put_part(upload.upload_id, self.part(2, "blob-2"))
        assert sorted(meta.delete_bucket(bucket)) == ["blob-1", "blob-2"]
        with pytest.raises(errors.NoSuchUpload):
            meta.abort_upload(upload.upload_id)

    # --- objects -------------------------------------------------------------------------------

    def test_put_object_round_trips_every_field(self, meta: MetadataStore, bucket: Bucket) -> None:
        obj = dataclasses.replace(
            self.version(bucket, "dir/ключ 🦀", blobs=(unique("b1"), unique("b2"))),
            part_sizes=(5, 3),
            metadata={"colour": "grün", "n": "1"},
            headers={"cache-control": "no-cache"},
            checksums={"CRC32": "AAAAAA==", "type": "COMPOSITE"},
            storage_class="STANDARD_IA",
        )
        assert meta.put_object(bucket, obj) == []
        got = meta.get_object(bucket, obj.key)
        assert got == dataclasses.replace(obj, row_id=got.row_id)
        assert got.row_id > 0

    def test_put_object_replacing_a_version_returns_its_blobs(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        old = self.version(bucket, "k", blobs=("old-1", "old-2"))
        new = self.version(bucket, "k", blobs=("new-1",))
        meta.put_object(bucket, old)
        assert sorted(meta.put_object(bucket, new)) == ["old-1", "old-2"]
        assert meta.get_object(bucket, "k").segments == new.segments
        assert meta.count_objects(bucket) == 1

    def test_put_object_of_a_new_version_keeps_the_old_one(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        meta.put_object(bucket, self.version(bucket, "k", version_id="v1", blobs=("b1",)))
        assert meta.put_object(bucket, self.version(bucket, "k", version_id="v2")) == []
        assert meta.get_object(bucket, "k").version_id == "v2"
        older = meta.get_object(bucket, "k", "v1")
        assert (older.is_latest, older.segments) == (False, (Segment("b1", 3),))

    def test_check_sees_the_current_version(self, meta: MetadataStore, bucket: Bucket) -> None:
        seen: list[ObjectVersion | None] = []
        meta.put_object(bucket, self.version(bucket, "k"), check=seen.append)
        meta.put_object(bucket, self.version(bucket, "k", size=9), check=seen.append)
        assert seen[0] is None
        assert seen[1] is not None and seen[1].size == 3

    def test_check_raising_aborts_the_write_and_keeps_the_old_row(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        meta.put_object(bucket, self.version(bucket, "k", blobs=("old",)))

        def refuse(current: ObjectVersion | None) -> None:
            raise errors.PreconditionFailed()

        with pytest.raises(errors.PreconditionFailed):
            meta.put_object(bucket, self.version(bucket, "k", blobs=("new",)), check=refuse)
        assert meta.get_object(bucket, "k").segments == (Segment("old", 3),)
        assert meta.count_objects(bucket) == 1

    def test_check_raising_keeps_the_upload_being_completed(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        upload = self.upload(bucket, "k")
        meta.create_upload(upload)
        meta.put_part(upload.upload_id, self.part(1, "p1"))

        def refuse(current: ObjectVersion | None) -> None:
            raise errors.PreconditionFailed()

        obj = self.version(bucket, "k", blobs=("p1",))
        with pytest.raises(errors.PreconditionFailed):
            meta.put_object(bucket, obj, check=refuse, upload_id=upload.upload_id)
        assert [p.blob_id for p in meta.list_parts(upload.upload_id)] == ["p1"]
        with pytest.raises(errors.NoSuchKey):
            meta.get_object(bucket, "k")

    def test_completing_an_upload_removes_it_and_returns_unused_part_blobs(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        upload = self.upload(bucket, "k")
        meta.create_upload(upload)
        for number in (1, 2, 3):
            meta.put_part(upload.upload_id, self.part(number, f"p{number}"))
        obj = self.version(bucket, "k", blobs=("p1", "p3"))
        assert meta.put_object(bucket, obj, upload_id=upload.upload_id) == ["p2"]
        assert meta.get_object(bucket, "k").segments == obj.segments
        with pytest.raises(errors.NoSuchUpload):
            meta.get_upload(bucket, "k", upload.upload_id)
        assert meta.list_parts(upload.upload_id) == []

    def test_completing_with_a_part_replaced_meanwhile_raises_invalid_part(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        """An UploadPart retried while the upload completes replaces the blob the completion
        listed: the object must not name a blob that is about to be deleted."""
        upload = self.upload(bucket, "k")
        meta.create_upload(upload)
        meta.put_part(upload.upload_id, self.part(1, "listed"))
        obj = self.version(bucket, "k", blobs=("listed",))  # made from the parts listed
        assert meta.put_part(upload.upload_id, self.part(1, "retried")) == ["listed"]
        with pytest.raises(errors.InvalidPart):
            meta.put_object(bucket, obj, upload_id=upload.upload_id)
        assert [p.blob_id for p in meta.list_parts(upload.upload_id)] == ["retried"]
        with pytest.raises(errors.NoSuchKey):
            meta.get_object(bucket, "k")

    def test_completing_an_unknown_upload_raises_no_such_upload_and_writes_nothing(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        with pytest.raises(errors.NoSuchUpload):
            meta.put_object(bucket, self.version(bucket, "k"), upload_id=uuid.uuid4().hex)
        assert meta.count_objects(bucket) == 0

    def test_get_object_of_unknown_key_raises_no_such_key(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        with pytest.raises(errors.NoSuchKey):
            meta.get_object(bucket, "missing")

    def test_get_object_of_unknown_version_raises_no_such_version(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        meta.put_object(bucket, self.version(bucket, "k", version_id="v1"))
        with pytest.raises(errors.NoSuchVersion):
            meta.get_object(bucket, "k", "v2")

    def test_current_delete_marker_hides_the_key_but_can_be_read_by_id(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        meta.put_object(bucket, self.version(bucket, "k", version_id="v1"))
        meta.put_object(bucket, self.version(bucket, "k", version_id="dm", delete_marker=True))
        with pytest.raises(errors.NoSuchKey):
            meta.get_object(bucket, "k")
        assert meta.get_object(bucket, "k", "dm").is_delete_marker
        assert meta.list_objects(bucket).objects == []

    def test_objects_of_other_buckets_are_invisible(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        other = meta.create_bucket(unique("other"), bucket.owner, "us-east-1")
        meta.put_object(other, self.version(other, "k"))
        with pytest.raises(errors.NoSuchKey):
            meta.get_object(bucket, "k")
        assert meta.list_objects(bucket).objects == []

    def test_delete_object_returns_the_version_and_its_blobs(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        meta.put_object(bucket, self.version(bucket, "k", blobs=("b1", "b2")))
        removed, blobs = meta.delete_object(bucket, "k")
        assert removed is not None and removed.key == "k"
        assert blobs == ["b1", "b2"]
        with pytest.raises(errors.NoSuchKey):
            meta.get_object(bucket, "k")

    # --- inline blobs (small objects' bytes beside their rows) --------------------------------

    def put_inline(
        self,
        meta: MetadataStore,
        bucket: Bucket,
        key: str,
        data: bytes,
        version_id: str = NULL_VERSION,
    ) -> tuple[str, list[str]]:
        blob = new_inline_id()
        obj = replace(
            self.version(bucket, key, version_id=version_id, blobs=(blob,)), size=len(data)
        )
        return blob, meta.put_object(bucket, obj, inline=(blob, data))

    def test_an_inline_blob_is_stored_with_its_row_and_read_by_range(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        blob, garbage = self.put_inline(meta, bucket, "k", b"0123456789")
        assert garbage == []
        assert meta.get_object(bucket, "k").segments[0].blob_id == blob
        assert meta.read_inline(blob, 0, 10) == b"0123456789"
        assert meta.read_inline(blob, 3, 4) == b"3456"
        assert meta.read_inline(blob, 8, 100) == b"89"
        assert blob in dict(meta.iter_inline())
        with pytest.raises(FileNotFoundError):
            meta.read_inline(new_inline_id(), 0, 1)

    def test_an_inline_blob_goes_with_the_version_that_replaced_or_deleted_it(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        first, _ = self.put_inline(meta, bucket, "k", b"one")
        second, garbage = self.put_inline(meta, bucket, "k", b"two")
        # removed in the overwrite's own transaction: nothing is left for the caller to delete
        assert garbage == []
        with pytest.raises(FileNotFoundError):
            meta.read_inline(first, 0, 3)
        removed, blobs = meta.delete_object(bucket, "k")
        assert removed is not None and blobs == []
        with pytest.raises(FileNotFoundError):
            meta.read_inline(second, 0, 3)
        # a file blob replaced by an inline one is still handed back
        meta.put_object(bucket, self.version(bucket, "f", blobs=("file-blob",)))
        assert self.put_inline(meta, bucket, "f", b"x")[1] == ["file-blob"]

    def test_a_small_object_is_looked_up_with_its_inline_bytes(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        self.put_inline(meta, bucket, "k", b"old", version_id="v1")
        self.put_inline(meta, bucket, "k", b"new!", version_id="v2")
        obj, data = meta.get_object_inline(bucket, "k", None, 4)
        assert (obj.version_id, data) == ("v2", b"new!")
        assert meta.get_object_inline(bucket, "k", "v1", 4)[1] == b"old"
        # larger than the limit: the version alone
        obj, data = meta.get_object_inline(bucket, "k", None, 3)
        assert (obj.version_id, data) == ("v2", None)
        # a file blob is read from its file
        meta.put_object(bucket, self.version(bucket, "f", blobs=("file-blob",)))
        assert meta.get_object_inline(bucket, "f", None, 1024)[1] is None
        # and what is missing is missing as for get_object
        with pytest.raises(errors.NoSuchKey):
            meta.get_object_inline(bucket, "nothing", None, 1024)
        with pytest.raises(errors.NoSuchVersion):
            meta.get_object_inline(bucket, "k", "v3", 1024)
        meta.delete_object(bucket, "k", "v2")  # v1 is current again: its own bytes
        assert meta.get_object_inline(bucket, "k", None, 4)[1] == b"old"

    def test_versions_keep_their_own_inline_blobs(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        old, _ = self.put_inline(meta, bucket, "k", b"old", version_id="v1")
        new, _ = self.put_inline(meta, bucket, "k", b"new", version_id="v2")
        assert (meta.read_inline(old, 0, 3), meta.read_inline(new, 0, 3)) == (b"old", b"new")
        meta.delete_object(bucket, "k", "v1")
        assert meta.read_inline(new, 0, 3) == b"new"
        with pytest.raises(FileNotFoundError):
            meta.read_inline(old, 0, 3)

    def test_a_refused_write_stores_no_inline_blob(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        blob = new_inline_id()

        def refuse(_current: ObjectVersion | None) -> None:
            raise errors.PreconditionFailed()

        with pytest.raises(errors.PreconditionFailed):
            meta.put_object(
                bucket, self.version(bucket, "k", blobs=(blob,)), check=refuse, inline=(blob, b"x")
            )
        assert blob not in dict(meta.iter_inline())

    def test_copy_and_delete_inline(self, meta: MetadataStore, bucket: Bucket) -> None:
        blob, _ = self.put_inline(meta, bucket, "k", b"bytes")
        copy = meta.copy_inline(blob)
        assert copy != blob and meta.read_inline(copy, 0, 5) == b"bytes"
        meta.delete_inline([copy, new_inline_id()])
        assert copy not in dict(meta.iter_inline())
        assert meta.read_inline(blob, 0, 5) == b"bytes"
        with pytest.raises(FileNotFoundError):
            meta.copy_inline(copy)

    def test_delete_object_is_idempotent(self, meta: MetadataStore, bucket: Bucket) -> None:
        meta.put_object(bucket, self.version(bucket, "k"))
        meta.delete_object(bucket, "k")
        assert meta.delete_object(bucket, "k") == (None, [])
        assert meta.delete_object(bucket, "never-there") == (None, [])
        assert meta.delete_object(bucket, "k", "no-such-version") == (None, [])

    def test_deleting_the_current_version_promotes_the_newest_remaining(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        for version_id in ("v1", "v2", "v3"):
            meta.put_object(bucket, self.version(bucket, "k", version_id=version_id))
        meta.delete_object(bucket, "k", "v3")
        assert meta.get_object(bucket, "k").version_id == "v2"
        meta.delete_object(bucket, "k", "v1")
        assert meta.get_object(bucket, "k").version_id == "v2"

    def test_deleting_a_non_current_version_leaves_the_current_one(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        meta.put_object(bucket, self.version(bucket, "k", version_id="v1"))
        meta.put_object(bucket, self.version(bucket, "k", version_id="v2"))
        removed, _ = meta.delete_object(bucket, "k", "v1")
        assert removed is not None and not removed.is_latest
        assert meta.get_object(bucket, "k").version_id == "v2"

    # --- change hooks --------------------------------------------------------------------------

    def test_hooks_see_each_change_inside_its_transaction(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        seen: list[tuple[str, str, str, int]] = []

        def hook(conn: sa.Connection, change: ObjectChange) -> None:
            # the hook's connection sees the change it is told about, uncommitted
            rows = conn.execute(
                sa.select(sa.func.count())
                .select_from(schema.objects)
                .where(schema.objects.c.bucket_id == change.bucket.id)
            ).scalar_one()
            seen.append((change.kind, change.version.key, change.cause, rows))

        hooked = MetadataStore(meta.engine, hooks=(hook,))
        hooked.put_object(bucket, self.version(bucket, "k", version_id="v1"), cause="Copy")
        hooked.update_object(bucket, "k", None, lambda v: {"tags": {"a": "b"}}, cause="Tagging")
        hooked.update_object(bucket, "k", None, lambda v: {})  # nothing changed: no call
        hooked.delete_object(bucket, "k", "v1", cause="LifecycleExpiration")
        assert seen == [
            ("written", "k", "Copy", 1),
            ("updated", "k", "Tagging", 1),
            ("removed", "k", "LifecycleExpiration", 0),
        ]

    def test_a_failing_hook_rolls_the_change_back(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        meta.put_object(bucket, self.version(bucket, "k", version_id="v1", size=1))

        def refuse(conn: sa.Connection, change: ObjectChange) -> None:
            raise errors.InvalidRequest("refused by a hook")

        hooked = MetadataStore(meta.engine, hooks=(refuse,))
        with pytest.raises(errors.InvalidRequest):
            hooked.put_object(bucket, self.version(bucket, "k", version_id="v2", size=2))
        with pytest.raises(errors.InvalidRequest):
            hooked.delete_object(bucket, "k", "v1")
        assert meta.get_object(bucket, "k").version_id == "v1"
        assert meta.get_object(bucket, "k").size == 1

    # --- list_objects --------------------------------------------------------------------------

    @pytest.fixture(scope="class")
    @classmethod
    def listing_bucket(cls, meta: MetadataStore) -> Bucket:
        owner = meta.create_user(unique("lister"))
        bucket = meta.create_bucket(unique("listing"), owner, "us-east-1")
        for key in LISTING_KEYS:
            meta.put_object(bucket, cls.version(bucket, key))
        # neither a delete marker nor an older version may show up in a listing
        meta.put_object(bucket, cls.version(bucket, "a/zz-deleted", version_id="v1"))
        meta.put_object(
            bucket, cls.version(bucket, "a/zz-deleted", version_id="v2", delete_marker=True)
        )
        meta.put_object(bucket, cls.version(bucket, "deleted/only", delete_marker=True))
        return bucket

    def page_through(
        self,
        meta: MetadataStore,
        bucket: Bucket,
        *,
        prefix: str,
        delimiter: str,
        after: str,
        max_keys: int,
    ) -> list[str]:
        """Every entry from after to the end, page by page, checking each page's shape."""
        entries: list[str] = []
        for _ in range(len(LISTING_KEYS) + 2):
            page = meta.list_objects(
                bucket, prefix=prefix, delimiter=delimiter, after=after, max_keys=max_keys
            )
            keys = [o.key for o in page.objects]
            assert keys == sorted(keys)
            assert page.prefixes == sorted(page.prefixes)
            found = sorted(keys + page.prefixes)
            assert len(found) <= max_keys
            entries += found
            if not page.truncated:
                return entries
            assert found, "a truncated page must make progress"
            assert page.next_marker == found[-1]
            after = page.next_marker
        raise AssertionError("the listing never ended")

    @pytest.mark.parametrize(
        ("prefix", "delimiter"), list(itertools.product(LISTING_PREFIXES, LISTING_DELIMITERS))
    )
    def test_list_objects_pages_match_the_reference_listing(
        self, meta: MetadataStore, listing_bucket: Bucket, prefix: str, delimiter: str
    ) -> None:
        for after, max_keys in itertools.product(LISTING_AFTERS, LISTING_PAGE_SIZES):
            expected = reference_listing(LISTING_KEYS, prefix, delimiter, after)
            got = self.page_through(
                meta,
                listing_bucket,
                prefix=prefix,
                delimiter=delimiter,
                after=after,
                max_keys=max_keys,
            )
            assert got == expected, f"after={after!r} max_keys={max_keys}"

    def test_list_objects_reports_objects_and_common_prefixes_apart(
        self, meta: MetadataStore, listing_bucket: Bucket
    ) -> None:
        page = meta.list_objects(listing_bucket, prefix="a/", delimiter="/")
        assert [o.key for o in page.objects] == ["a/", "a/b", "a/b-c", "a/bc", "a/c"]
        assert page.prefixes == ["a//", "a/b/"]
        assert not page.truncated

    def test_list_objects_of_an_empty_bucket_is_empty(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        page = meta.list_objects(bucket, delimiter="/")
        assert (page.objects, page.prefixes, page.truncated) == ([], [], False)

    def test_delimiter_listing_seeks_past_each_common_prefix(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        # 50 "directories" of 200 keys: one page of the bucket root must cost about one
        # statement per directory, however many keys each one holds
        bulk_insert_objects(
            meta, bucket, [f"dir{d:02d}/key{k:03d}" for d in range(50) for k in range(200)]
        )
        with QueryCounter().counting(meta.engine) as counter:
            page = meta.list_objects(bucket, delimiter="/", max_keys=1000)
        assert page.prefixes == [f"dir{d:02d}/" for d in range(50)]
        assert (page.objects, page.truncated) == ([], False)
        assert counter.statements <= 55
        assert counter.rows <= 1100

    def test_delimiter_version_listing_seeks_past_each_common_prefix(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        bulk_insert_objects(
            meta, bucket, [f"dir{d:02d}/key{k:03d}" for d in range(50) for k in range(200)]
        )
        with QueryCounter().counting(meta.engine) as counter:
            page = meta.list_versions(bucket, delimiter="/", max_keys=1000)
        assert page.prefixes == [f"dir{d:02d}/" for d in range(50)]
        assert (page.versions, page.truncated) == ([], False)
        assert counter.statements <= 55
        assert counter.rows <= 1100

    def test_listing_without_delimiter_reads_a_page_in_a_few_statements(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        bulk_insert_objects(meta, bucket, [f"key{k:05d}" for k in range(2000)])
        with QueryCounter().counting(meta.engine) as counter:
            page = meta.list_objects(bucket, max_keys=1000)
        assert [o.key for o in page.objects] == [f"key{k:05d}" for k in range(1000)]
        assert page.truncated and page.next_marker == "key00999"
        assert counter.statements <= 5
        assert counter.rows <= 1100

    # --- list_versions -------------------------------------------------------------------------

    @pytest.fixture(scope="class")
    @classmethod
    def versions_bucket(cls, meta: MetadataStore) -> tuple[Bucket, list[tuple[str, str]]]:
        """A bucket with several versions per key; returns it and (key, version) newest first."""
        owner = meta.create_user(unique("versioner"))
        bucket = meta.create_bucket(unique("versions"), owner, "us-east-1")
        layout = {
            "a": ["a1", "a2", "a3"],
            "a/x": ["ax1"],
            "a/y": ["ay1", "ay2"],
            "b": ["b1", "b2-dm", "b3"],
            "c/d/e": ["cde1", "cde2"],
            "d": ["d1-dm"],
            "🦀": ["crab1", "crab2"],
        }
        for key, version_ids in layout.items():
            for version_id in version_ids:
                obj = cls.version(
                    bucket, key, version_id=version_id, delete_marker=version_id.endswith("-dm")
                )
                meta.put_object(bucket, obj)
        expected = [(key, v) for key in sorted(layout) for v in reversed(layout[key])]
        return bucket, expected

    @pytest.mark.parametrize("max_keys", [1, 2, 3, 4, 1000])
    def test_list_versions_pages_through_every_version_newest_first(
        self,
        meta: MetadataStore,
        versions_bucket: tuple[Bucket, list[tuple[str, str]]],
        max_keys: int,
    ) -> None:
        bucket, expected = versions_bucket
        got: list[tuple[str, str]] = []
        latest: dict[str, str] = {}
        key_marker = version_marker = ""
        for _ in range(len(expected) + 2):
            page = meta.list_versions(
                bucket, key_marker=key_marker, version_marker=version_marker, max_keys=max_keys
            )
            assert len(page.versions) <= max_keys
            got += [(v.key, v.version_id) for v in page.versions]
            for v in page.versions:
                if v.is_latest:
                    latest[v.key] = v.version_id
            if not page.truncated:
                break
            last = page.versions[-1]
            assert (page.next_key_marker, page.next_version_marker) == (last.key, last.version_id)
            key_marker, version_marker = page.next_key_marker, page.next_version_marker
        assert got == expected
        assert latest == {key: version for key, version in reversed(expected)}

    @pytest.mark.parametrize("max_keys", [1, 2, 1000])
    def test_list_versions_with_delimiter_rolls_up_and_pages(
        self,
        meta: MetadataStore,
        versions_bucket: tuple[Bucket, list[tuple[str, str]]],
        max_keys: int,
    ) -> None:
        bucket, all_versions = versions_bucket
        expected = [
            e if "/" not in e[0] else (e[0][: e[0].index("/") + 1], "") for e in all_versions
        ]
        expected = [e for i, e in enumerate(expected) if e[1] or e not in expected[:i]]
        got: list[tuple[str, str]] = []
        key_marker = version_marker = ""
        for _ in range(len(expected) + 2):
            page = meta.list_versions(
                bucket,
                delimiter="/",
                key_marker=key_marker,
                version_marker=version_marker,
                max_keys=max_keys,
            )
            assert len(page.versions) + len(page.prefixes) <= max_keys
            entries = [(v.key, v.version_id) for v in page.versions]
            entries += [(p, "") for p in page.prefixes]
            got += sorted(entries, key=lambda e: e[0])  # stable: versions keep their order
            if not page.truncated:
                break
            key_marker, version_marker = page.next_key_marker, page.next_version_marker
        assert got == expected

    def test_list_versions_with_prefix_stays_inside_it(
        self, meta: MetadataStore, versions_bucket: tuple[Bucket, list[tuple[str, str]]]
    ) -> None:
        bucket, expected = versions_bucket
        page = meta.list_versions(bucket, prefix="a/")
        assert [(v.key, v.version_id) for v in page.versions] == [
            e for e in expected if e[0].startswith("a/")
        ]

    def test_list_versions_with_unknown_version_marker_raises_invalid_argument(
        self, meta: MetadataStore, versions_bucket: tuple[Bucket, list[tuple[str, str]]]
    ) -> None:
        bucket, _ = versions_bucket
        with pytest.raises(errors.InvalidArgument):
            meta.list_versions(bucket, key_marker="a", version_marker="no-such-version")

    # --- multipart uploads ---------------------------------------------------------------------

    def test_created_upload_can_be_read_back(self, meta: MetadataStore, bucket: Bucket) -> None:
        upload = dataclasses.replace(
            self.upload(bucket, "k"),
            metadata={"a": "b"},
            headers={"content-encoding": "gzip"},
            checksum_algorithm="CRC32",
            checksum_type="COMPOSITE",
        )
        meta.create_upload(upload)
        assert meta.get_upload(bucket, "k", upload.upload_id) == upload

    def test_upload_of_another_key_or_bucket_raises_no_such_upload(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        upload = self.upload(bucket, "k")
        meta.create_upload(upload)
        other = meta.create_bucket(unique("other"), bucket.owner, "us-east-1")
        with pytest.raises(errors.NoSuchUpload):
            meta.get_upload(bucket, "other-key", upload.upload_id)
        with pytest.raises(errors.NoSuchUpload):
            meta.get_upload(other, "k", upload.upload_id)

    def test_put_part_replacing_a_part_returns_its_blob(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        upload = self.upload(bucket, "k")
        meta.create_upload(upload)
        assert meta.put_part(upload.upload_id, self.part(1, "first")) == []
        assert meta.put_part(upload.upload_id, self.part(1, "second")) == ["first"]
        assert [p.blob_id for p in meta.list_parts(upload.upload_id)] == ["second"]

    def test_put_part_of_unknown_upload_raises_no_such_upload(self, meta: MetadataStore) -> None:
        with pytest.raises(errors.NoSuchUpload):
            meta.put_part(uuid.uuid4().hex, self.part(1))

    def test_list_parts_orders_by_number_and_pages(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        upload = self.upload(bucket, "k")
        meta.create_upload(upload)
        for number in (3, 10, 1, 2):
            meta.put_part(upload.upload_id, self.part(number))
        assert [p.part_number for p in meta.list_parts(upload.upload_id)] == [1, 2, 3, 10]
        assert [p.part_number for p in meta.list_parts(upload.upload_id, max_parts=2)] == [1, 2]
        listed = meta.list_parts(upload.upload_id, after=2, max_parts=5)
        assert [p.part_number for p in listed] == [3, 10]
        assert meta.list_parts(upload.upload_id, after=10) == []

    def test_part_round_trips_every_field(self, meta: MetadataStore, bucket: Bucket) -> None:
        upload = self.upload(bucket, "k")
        meta.create_upload(upload)
        part = Part(7, 5 * 1024 * 1024, '"abc"', "blob-7", 1_700_000_000_000_001, "AAAAAA==")
        meta.put_part(upload.upload_id, part)
        assert meta.list_parts(upload.upload_id) == [part]

    def test_abort_returns_part_blobs_and_forgets_the_upload(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        upload = self.upload(bucket, "k")
        meta.create_upload(upload)
        meta.put_part(upload.upload_id, self.part(1, "p1"))
        meta.put_part(upload.upload_id, self.part(2, "p2"))
        assert sorted(meta.abort_upload(upload.upload_id)) == ["p1", "p2"]
        assert meta.list_parts(upload.upload_id) == []
        with pytest.raises(errors.NoSuchUpload):
            meta.get_upload(bucket, "k", upload.upload_id)
        with pytest.raises(errors.NoSuchUpload):
            meta.abort_upload(upload.upload_id)

    def test_list_uploads_orders_by_key_then_initiation(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        created = [
            self.upload(bucket, "b", created_at=5),
            self.upload(bucket, "a", created_at=9),
            self.upload(bucket, "b", created_at=1),
            self.upload(bucket, "b", created_at=3),
        ]
        for upload in created:
            meta.create_upload(upload)
        listing = meta.list_uploads(bucket)
        assert [(u.key, u.created_at) for u in listing.uploads] == [
            ("a", 9),
            ("b", 1),
            ("b", 3),
            ("b", 5),
        ]
        assert not listing.truncated

    @pytest.mark.parametrize("max_uploads", [1, 2, 3])
    def test_list_uploads_pages_with_key_and_upload_markers(
        self, meta: MetadataStore, bucket: Bucket, max_uploads: int
    ) -> None:
        # several uploads of one key, created in an order their random ids do not share
        created = [self.upload(bucket, key, created_at=t) for t, key in enumerate("abbbbbc")]
        for upload in created:
            meta.create_upload(upload)
        got: list[str] = []
        key_marker = upload_marker = ""
        for _ in range(len(created) + 2):
            page = meta.list_uploads(
                bucket,
                key_marker=key_marker,
                upload_marker=upload_marker,
                max_uploads=max_uploads,
            )
            assert len(page.uploads) <= max_uploads
            got += [u.upload_id for u in page.uploads]
            if not page.truncated:
                break
            key_marker, upload_marker = page.next_key_marker, page.next_upload_marker
        assert got == [u.upload_id for u in created]

    @pytest.mark.parametrize("max_uploads", [1, 2, 1000])
    def test_list_uploads_with_delimiter_rolls_up_and_pages(
        self, meta: MetadataStore, bucket: Bucket, max_uploads: int
    ) -> None:
        keys = ["a", "d/1", "d/2", "d/3", "e", "f/g/1", "f/h", "z"]
        for t, key in enumerate(keys):
            meta.create_upload(self.upload(bucket, key, created_at=t))
        got: list[str] = []
        key_marker = upload_marker = ""
        for _ in range(len(keys) + 2):
            page = meta.list_uploads(
                bucket,
                delimiter="/",
                key_marker=key_marker,
                upload_marker=upload_marker,
                max_uploads=max_uploads,
            )
            found = sorted([u.key for u in page.uploads] + page.prefixes)
            assert 0 < len(found) <= max_uploads
            got += found
            if not page.truncated:
                break
            key_marker, upload_marker = page.next_key_marker, page.next_upload_marker
        assert got == ["a", "d/", "e", "f/", "z"]

    def test_list_uploads_with_prefix_stays_inside_it(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        for key in ("a", "ab", "ab/c", "b"):
            meta.create_upload(self.upload(bucket, key))
        assert [u.key for u in meta.list_uploads(bucket, prefix="ab").uploads] == ["ab", "ab/c"]

    # --- housekeeping --------------------------------------------------------------------------

    def test_referenced_blobs_covers_objects_and_parts(
        self, meta: MetadataStore, bucket: Bucket
    ) -> None:
        object_blobs = {unique("obj"), unique("obj")}
        old_version_blob, part_blob = unique("old"), unique("part")
        meta.put_object(
            bucket, self.version(bucket, "k", version_id="v1", blobs=(old_version_blob,))
        )
        meta.put_object(
            bucket, self.version(bucket, "k", version_id="v2", blobs=tuple(object_blobs))
        )
        upload = self.upload(bucket, "u")
        meta.create_upload(upload)
        meta.put_part(upload.upload_id, self.part(1, part_blob))
        assert object_blobs | {old_version_blob, part_blob} <= meta.referenced_blobs()

        meta.abort_upload(upload.upload_id)
        meta.delete_object(bucket, "k", "v1")
        remaining = meta.referenced_blobs()
        assert object_blobs <= remaining
        assert not {old_version_blob, part_blob} & remaining
