"""Identity metadata (groups, projects, usage counters, quotas) on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from lading import errors
from lading.metadata.identity import PERSONAL_PREFIX, Directory, UsageCounter
from lading.metadata.migrate import alembic_config, upgrade
from lading.metadata.models import Bucket, ObjectVersion, Segment, User
from lading.metadata.store import MetadataStore, create_engine
from lading.testing.postgres import NO_POSTGRES, scratch_database

POSTGRES_URL = os.environ.get("LADING_TEST_POSTGRES_URL", "")


def unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgres",
            marks=[pytest.mark.postgres, pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)],
        ),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'identity.db'}"
        return
    with scratch_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture
def meta(database_url: str) -> Iterator[MetadataStore]:
    engine = create_engine(database_url)
    upgrade(engine)
    try:
        yield MetadataStore(engine, hooks=(UsageCounter(),))
    finally:
        engine.dispose()


def new_user(meta: MetadataStore) -> User:
    user = meta.create_user(unique("u"))
    Directory(meta).personal_project_id(user)
    return user


def version(bucket: Bucket, key: str, size: int, version_id: str = "null") -> ObjectVersion:
    return ObjectVersion(
        bucket_id=bucket.id,
        key=key,
        version_id=version_id,
        size=size,
        etag='"e"',
        last_modified=1,
        content_type="x",
        segments=(Segment(uuid.uuid4().hex, size),),
        owner_id=bucket.owner.id,
    )


def test_a_user_gets_one_personal_project_with_themselves_as_admin(meta: MetadataStore) -> None:
    directory = Directory(meta)
    user = new_user(meta)
    first = directory.personal_project_id(user)
    assert directory.personal_project_id(user) == first
    project = directory.get_project(PERSONAL_PREFIX + user.name)
    assert project.id == first and project.personal
    assert project.members == {user.name: "admin"}
    with pytest.raises(errors.Conflict):
        directory.delete_project(project.name)


def test_groups_gain_and_lose_members(meta: MetadataStore) -> None:
    directory = Directory(meta)
    alice, bob = new_user(meta), new_user(meta)
    name = unique("g")
    directory.create_group(name, "lab")
    with pytest.raises(errors.GroupAlreadyExists):
        directory.create_group(name)
    directory.set_group_member(name, alice.name, True)
    directory.set_group_member(name, alice.name, True)  # idempotent
    group = directory.set_group_member(name, bob.name, True)
    assert group.members == tuple(sorted([alice.name, bob.name]))
    assert group.id in directory.group_ids_of(alice.id)
    group = directory.set_group_member(name, alice.name, False)
    assert group.members == (bob.name,)
    assert [g.name for g in directory.list_groups(member=bob.id)] == [name]
    with pytest.raises(errors.NoSuchUser):
        directory.set_group_member(name, "nobody-" + name, True)
    directory.delete_group(name)
    with pytest.raises(errors.NoSuchGroup):
        directory.get_group(name)
    assert directory.group_ids_of(bob.id) == frozenset()


def test_project_members_roles_and_limits(meta: MetadataStore) -> None:
    directory = Directory(meta)
    alice, bob = new_user(meta), new_user(meta)
    name = unique("p")
    project = directory.create_project(name, quota_bytes=10, expires_at=5, admin=alice)
    assert project.members == {alice.name: "admin"}
    directory.set_project_member(name, bob.name, "reader")
    project = directory.set_project_member(name, bob.name, "writer")
    assert project.members == {alice.name: "admin", bob.name: "writer"}
    with pytest.raises(errors.InvalidArgument):
        directory.set_project_member(name, bob.name, "owner")
    access = directory.project_access(project.id)
    assert access is not None
    assert dict(access.roles) == {alice.id: "admin", bob.id: "writer"}
    assert (access.quota_bytes, access.expires_at) == (10, 5)
    project = directory.update_project(name, quota_bytes=None, grace_days=1)
    assert project.quota_bytes is None and project.expires_at == 5 and project.grace_days == 1
    assert project.expired(5) and not project.expired(4)
    assert project.needs_attention(5 + 86_400_000_000) and not project.needs_attention(6)
    personal = PERSONAL_PREFIX + bob.name
    assert sorted(p.name for p in directory.list_projects(member=bob.id)) == [name, personal]
    directory.set_project_member(name, bob.name, None)
    assert [p.name for p in directory.list_projects(member=bob.id)] == [personal]
    with pytest.raises(errors.ProjectAlreadyExists):
        directory.create_project(name)
    directory.delete_project(name)
    with pytest.raises(errors.NoSuchProject):
        directory.get_project(name)


def test_an_attention_notice_is_claimed_once_per_expiry(meta: MetadataStore) -> None:
    directory = Directory(meta)
    project = directory.create_project(unique("p"), expires_at=5)
    assert directory.claim_attention_notice(project.id, 5)
    assert not directory.claim_attention_notice(project.id, 5)
    assert directory.claim_attention_notice(project.id, 7)  # extended, then lapsed again
    admin = meta.create_user(unique("a"), is_admin=True)
    meta.create_user(unique("n"))
    assert admin.name in [u.name for u in directory.administrators()]
    assert all(u.is_admin for u in directory.administrators())


def test_counters_follow_writes_overwrites_and_deletes(meta: MetadataStore) -> None:
    directory = Directory(meta)
    owner = new_user(meta)
    project = directory.create_project(unique("p"))
    bucket = meta.create_bucket(unique("b"), owner, "us-east-1", project.id)
    meta.put_object(bucket, version(bucket, "a", 100))
    meta.put_object(bucket, version(bucket, "b", 50))
    assert directory.used(project.id) == (150, 2)
    meta.put_object(bucket, version(bucket, "a", 30))  # replaces the null version of "a"
    assert directory.used(project.id) == (80, 2)
    meta.put_object(bucket, version(bucket, "a", 7, "v1"))  # a second version of "a"
    assert directory.used(project.id) == (87, 3)
    meta.delete_object(bucket, "a", "v1")
    meta.delete_object(bucket, "b")
    meta.delete_object(bucket, "b")  # already gone: nothing changes
    assert directory.used(project.id) == (30, 1)
    marker = ObjectVersion(bucket.id, "c", "m1", 0, "", 1, "", is_delete_marker=True)
    meta.put_object(bucket, marker)
    assert directory.used(project.id) == (30, 1)


def test_a_write_past_the_quota_is_refused_and_leaves_nothing(meta: MetadataStore) -> None:
    directory = Directory(meta)
    owner = new_user(meta)
    project = directory.create_project(unique("p"), quota_bytes=100, quota_objects=2)
    bucket = meta.create_bucket(unique("b"), owner, "us-east-1", project.id)
    meta.put_object(bucket, version(bucket, "a", 60))
    with pytest.raises(errors.QuotaExceeded):
        meta.put_object(bucket, version(bucket, "b", 41))
    with pytest.raises(errors.NoSuchKey):
        meta.get_object(bucket, "b")
    assert directory.used(project.id) == (60, 1)
    meta.put_object(bucket, version(bucket, "a", 100))  # an overwrite within the quota
    assert directory.used(project.id) == (100, 1)
    meta.put_object(bucket, version(bucket, "b", 0))
    with pytest.raises(errors.QuotaExceeded, match="2 objects"):
        meta.put_object(bucket, version(bucket, "c", 0))
    assert directory.used(project.id) == (100, 2)
    meta.delete_object(bucket, "a")  # shrinking is always allowed
    directory.update_project(project.name, quota_bytes=10)
    meta.delete_object(bucket, "b")
    assert directory.used(project.id) == (0, 0)


def test_usage_samples_and_traffic_are_kept_per_project(meta: MetadataStore) -> None:
    directory = Directory(meta)
    owner = new_user(meta)
    project = directory.create_project(unique("p"))
    bucket = meta.create_bucket(unique("b"), owner, "us-east-1", project.id)
    meta.put_object(bucket, version(bucket, "a", 10))
    directory.record_samples(1_000)
    directory.record_samples(1_000)  # a pass repeated at the same moment replaces its samples
    meta.put_object(bucket, version(bucket, "b", 5))
    directory.record_samples(2_000)
    samples = directory.samples(project.id, 3_000)
    assert [(s.at, s.bytes, s.objects) for s in samples] == [(1_000, 10, 1), (2_000, 15, 2)]
    directory.record_traffic(1_500, [(project.id, 3, 30), (999_999_999, 1, 1)])
    directory.record_traffic(2_500, [(project.id, 1, 5)])
    assert directory.traffic(project.id, 1_000, 2_000) == (3, 30)
    assert directory.traffic(project.id, 0, 3_000) == (4, 35)


def test_migration_gives_existing_users_personal_projects(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0004")
            conn.exec_driver_sql(
                "INSERT INTO users (id, name, display_name, is_admin, created_at) "
                "VALUES (1, 'root', 'Root', true, 0), (2, 'ann', 'Ann', false, 0)"
            )
            conn.exec_driver_sql(
                "INSERT INTO buckets (id, name, owner_id, region, created_at, versioning) "
                "VALUES (1, 'b1', 2, 'us-east-1', 0, ''), (2, 'b2', 1, 'us-east-1', 0, '')"
            )
            for key, size, marker in (("x", 5, False), ("y", 7, False), ("z", 0, True)):
                conn.execute(
                    sa.text(
                        "INSERT INTO objects (bucket_id, key, version_id, is_latest, "
                        "is_delete_marker, size, etag, last_modified, content_type, segments, "
                        "meta, headers, checksums, storage_class, owner_id) VALUES "
                        "(1, :key, 'null', true, :marker, :size, 'e', 0, 'x', '[]', '{}', "
                        "'{}', '{}', 'STANDARD', 2)"
                    ),
                    {"key": key, "size": size, "marker": marker},
                )
        upgrade(engine)
        directory = Directory(MetadataStore(engine))
        ann = directory.get_project(PERSONAL_PREFIX + "ann")
        root = directory.get_project(PERSONAL_PREFIX + "root")
        assert (ann.used_bytes, ann.used_objects) == (12, 2)
        assert ann.members == {"ann": "admin"}
        assert (root.used_bytes, root.used_objects) == (0, 0)
        assert directory.bucket_names(ann.id) == ["b1"]
        assert directory.bucket_names(root.id) == ["b2"]
        assert directory.get_user("ann").enabled is True
        assert directory.get_user("ann").email == ""
    finally:
        engine.dispose()
