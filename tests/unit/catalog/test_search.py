"""Catalog search: a table of CQL2 filters and full-text queries with the objects they find,
on SQLite and PostgreSQL, plus sorting, pages, facets, permissions and index maintenance."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from lading import errors
from lading.iam.policy_language import user_arn
from lading.iam.principals import Principal
from lading.metadata.catalog import Match, Scope, Sort
from lading.metadata.identity import Directory
from lading.metadata.models import Bucket, ObjectVersion, User
from lading.metadata.shares import ShareStore
from lading.metadata.store import MetadataStore, now_us
from lading.services.catalog import CatalogService, SearchRequest

T = TypeVar("T")

A, B, C, README = "data/exp1/a.bin", "data/exp1/b.bin", "data/exp2/c.bin", "notes/readme.txt"
ALL = {A, B, C, README}


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def put(
    store: MetadataStore,
    bucket: Bucket,
    key: str,
    size: int,
    *,
    content_type: str = "application/octet-stream",
    metadata: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    version_id: str = "null",
    owner: User | None = None,
) -> None:
    store.put_object(
        bucket,
        ObjectVersion(
            bucket_id=bucket.id,
            key=key,
            version_id=version_id,
            size=size,
            etag='"e"',
            last_modified=now_us(),
            content_type=content_type,
            metadata=metadata or {},
            tags=tags or {},
            owner_id=(owner or bucket.owner).id,
        ),
    )


class World:
    def __init__(self, store: MetadataStore, catalog: CatalogService) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.store = store
        self.catalog = catalog
        self.owner = store.create_user(f"owner-{suffix}")
        self.other = store.create_user(f"other-{suffix}")
        self.bucket = store.create_bucket(f"cat-{suffix}", self.owner, "us-east-1")
        self.me = Principal(self.owner)
        put(store, self.bucket, A, 10, metadata={"instrument": "xray"})
        put(store, self.bucket, B, 2_000_000)
        put(store, self.bucket, C, 500, tags={"project": "alpha"})
        put(store, self.bucket, README, 5, content_type="text/plain")
        self.set(
            A,
            experiment_id="experiment1",
            date={"type": "timestamp", "value": "2016-06-06T00:00:00Z"},
            item_id=1,
            comment="first sample of the run",
            keywords=["red", "blue"],
            calibrated=True,
        )
        self.set(
            B,
            experiment_id="experiment1",
            date={"type": "timestamp", "value": "2016-06-07T00:00:00Z"},
            item_id=2,
            comment="second Sample",
            calibrated=False,
        )
        self.set(
            C,
            experiment_id="experiment2",
            date={"type": "timestamp", "value": "2016-05-01T00:00:00Z"},
            item_id=3,
            comment="other run",
        )

    def set(self, key: str, **attributes: Any) -> None:
        run(self.catalog.set_attributes(self.me, self.bucket.name, key, attributes, replace=True))

    def keys(self, principal: Principal | None = None, **request: Any) -> set[str]:
        request.setdefault("buckets", [self.bucket.name])
        found = run(self.catalog.search(principal or self.me, SearchRequest(**request)))
        return {e.key for e in found.entries}


@pytest.fixture(scope="module")
def world(store: MetadataStore, catalog: CatalogService) -> World:
    return World(store, catalog)


FILTERS = [
    ("experiment_id = 'experiment1'", {A, B}),
    (
        "experiment_id = 'experiment1' AND date >= TIMESTAMP('2016-06-01T00:00:00Z') "
        "AND size > 1000000",
        {B},
    ),
    ("item_id > 1", {B, C}),
    ("item_id = 1.0", {A}),
    ("1 < item_id", {B, C}),
    ("item_id BETWEEN 1 AND 2", {A, B}),
    ("item_id NOT BETWEEN 1 AND 2", {C, README}),
    ("experiment_id IN ('experiment2', 'nope')", {C}),
    ("experiment_id NOT IN ('experiment2')", {A, B, README}),
    ("experiment_id <> 'experiment1'", {C}),
    ("NOT experiment_id = 'experiment1'", {C, README}),
    ("comment IS NULL", {README}),
    ("comment IS NOT NULL", {A, B, C}),
    ("comment LIKE '%Sample%'", {B}),
    ("comment LIKE 'first%'", {A}),
    ("comment NOT LIKE '%run'", {B, README}),
    ("keywords = 'blue'", {A}),
    ("calibrated = true", {A}),
    ("calibrated = false", {B}),
    ("date < DATE('2016-06-01')", {C}),
    ("date = TIMESTAMP('2016-06-06T00:00:00Z')", {A}),
    # pygeofilter's cql2-text grammar writes temporal predicates infix
    ("date T_AFTER TIMESTAMP('2016-06-06T12:00:00Z')", {B}),
    ("date T_BEFORE TIMESTAMP('2016-06-06T12:00:00Z')", {A, C}),
    ("date T_DURING INTERVAL('2016-06-01T00:00:00Z','2016-06-30T00:00:00Z')", {A, B}),
    ("date T_EQUALS TIMESTAMP('2016-05-01T00:00:00Z')", {C}),
    # the same instants with an offset, as fractions, without separators, without a zone
    ("date = TIMESTAMP('2016-06-06T02:00:00+02:00')", {A}),
    ("date = TIMESTAMP('2016-06-06T00:00:00.000Z')", {A}),
    ("date = TIMESTAMP('20160606T000000Z')", {A}),
    ("date = TIMESTAMP('2016-06-06 00:00:00')", {A}),
    ("meta:instrument = 'xray'", {A}),
    ("\"meta:instrument\" = 'xray'", {A}),
    ("tag:project = 'alpha'", {C}),
    ("content_type = 'text/plain'", {README}),
    ("key LIKE 'data/exp1/%'", {A, B}),
    ("key = 'notes/readme.txt'", {README}),
    ("size >= 500 OR experiment_id = 'experiment1'", {A, B, C}),
    ("last_modified > TIMESTAMP('2000-01-01T00:00:00Z')", ALL),
    ("last_modified < TIMESTAMP('2000-01-01T00:00:00Z')", set()),
    ("experiment_id = 'experiment1' AND (item_id = 2 OR comment LIKE '%run')", {A, B}),
    ("date >= 5", set()),  # a number never equals a time
    ("INCLUDE", ALL),
]


@pytest.mark.parametrize(("text", "expected"), FILTERS, ids=[f[0] for f in FILTERS])
def test_cql2_text_filters_find_exactly(world: World, text: str, expected: set[str]) -> None:
    assert world.keys(filter=text) == expected


def test_cql2_json_filters_find_exactly(world: World) -> None:
    document = {
        "op": "and",
        "args": [
            {"op": "=", "args": [{"property": "experiment_id"}, "experiment1"]},
            {"op": ">", "args": [{"property": "size"}, 1000000]},
        ],
    }
    assert world.keys(filter=document, filter_lang="cql2-json") == {B}
    assert world.keys(filter=json.dumps(document), filter_lang="cql2-json") == {B}


@pytest.mark.parametrize(
    "text",
    [
        "experiment_id = ",
        "size + 1 > 2",
        "S_INTERSECTS(comment, POINT(1 2))",
        "item_id = experiment_id",
        "last_modified LIKE '2016%'",
        "date BETWEEN 1 AND TIMESTAMP('2016-01-01T00:00:00Z')",
    ],
)
def test_malformed_filters_are_refused_clearly(world: World, text: str) -> None:
    with pytest.raises(errors.InvalidArgument, match="CQL2|filter"):
        world.keys(filter=text)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("sample", {A, B}),
        ("SAMPLE run", {A}),
        ("exp2", {C}),
        ("readme", {README}),
        ("samp*", {A, B}),
        ("xray", {A}),
        ("alpha", {C}),
        ("nothing-like-this", set()),
    ],
)
def test_full_text_searches_keys_and_string_values(
    world: World, q: str, expected: set[str]
) -> None:
    assert world.keys(q=q) == expected


def test_full_text_and_filter_combine(world: World) -> None:
    assert world.keys(q="sample", filter="item_id = 2") == {B}


def test_sort_and_cursor_pages_cover_every_match_once(world: World) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        page = run(
            world.catalog.search(
                world.me,
                SearchRequest(
                    buckets=[world.bucket.name], sortby=["-size"], limit=3, cursor=cursor
                ),
            )
        )
        seen += [e.key for e in page.entries]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [B, C, A, README]


def test_a_forged_cursor_is_refused(world: World) -> None:
    with pytest.raises(errors.InvalidArgument, match="cursor"):
        world.keys(cursor="bm90LWEtY3Vyc29y")


def test_unknown_sort_field_is_refused(world: World) -> None:
    with pytest.raises(errors.InvalidArgument, match="sort"):
        world.keys(sortby=["comment"])


def test_facets_count_values_among_matches(world: World) -> None:
    result = run(
        world.catalog.search(
            world.me,
            SearchRequest(
                buckets=[world.bucket.name],
                filter="item_id >= 1",
                facets=["experiment_id", "content_type", "calibrated"],
            ),
        )
    )
    assert result.facets["experiment_id"] == [("experiment1", 2), ("experiment2", 1)]
    assert result.facets["content_type"] == [("application/octet-stream", 3)]
    assert sorted(result.facets["calibrated"], key=str) == [(False, 1), (True, 1)]


def test_results_hold_only_buckets_the_caller_may_read(world: World, store: MetadataStore) -> None:
    stranger = Principal(world.other)
    assert world.keys(stranger, buckets=()) == set()
    with pytest.raises(errors.AccessDenied):
        world.keys(stranger)
    assert world.keys(Principal(None), buckets=()) == set()
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [user_arn(world.other.name)]},
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{world.bucket.name}/*"],
            }
        ],
    }
    store.set_bucket_config(world.bucket, "policy", json.dumps(policy))
    try:
        assert world.keys(stranger, buckets=(), filter="experiment_id = 'experiment1'") == {
            A,
            B,
        }
        assert world.keys(Principal(None), buckets=()) == set()
    finally:
        store.set_bucket_config(world.bucket, "policy", None)
    assert world.keys(stranger, buckets=()) == set()


def test_facets_leave_out_what_a_deny_hides_and_refuse_past_the_check_limit(
    world: World, store: MetadataStore
) -> None:
    """Facets used to count keys a Deny of the bucket's policy hides. They are checked key by
    key, up to `max_deny_checks` matches; past that a facet search is refused, not counted."""
    stranger = Principal(world.other)
    resource = f"arn:aws:s3:::{world.bucket.name}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": effect,
                "Principal": {"AWS": [user_arn(world.other.name)]},
                "Action": ["s3:GetObject"],
                "Resource": [f"{resource}/{keys}"],
            }
            for effect, keys in (("Allow", "*"), ("Deny", "notes/*"))
        ],
    }

    def facets(limit: int, **request: Any) -> dict[str, list[tuple[Any, int]]]:
        queries, buckets = world.catalog.queries, world.catalog.buckets
        service = CatalogService(store, queries, buckets, max_deny_checks=limit)
        asked = SearchRequest(buckets=[world.bucket.name], facets=["content_type"], **request)
        return run(service.search(stranger, asked)).facets

    store.set_bucket_config(world.bucket, "policy", json.dumps(policy))
    try:
        assert facets(4) == {"content_type": [("application/octet-stream", 3)]}  # no README
        with pytest.raises(errors.InvalidArgument, match="narrow the search"):
            facets(3)  # four matches to check
        assert facets(3, filter="item_id >= 1") == {
            "content_type": [("application/octet-stream", 3)]
        }
        assert world.keys(stranger) == {A, B, C}  # entries are still checked one by one
    finally:
        store.set_bucket_config(world.bucket, "policy", None)
    owner = run(world.catalog.search(world.me, SearchRequest(facets=["content_type"])))
    assert ("text/plain", 1) in owner.facets["content_type"]


def test_other_writers_objects_stay_out_unless_the_bucket_owner_enforces(
    store: MetadataStore, catalog: CatalogService
) -> None:
    suffix = uuid.uuid4().hex[:8]
    owner = store.create_user(f"bo-{suffix}")
    writer = store.create_user(f"w-{suffix}")
    plain = store.create_bucket(f"plain-{suffix}", owner, "us-east-1")
    enforced = store.create_bucket(f"enf-{suffix}", owner, "us-east-1")
    rule = {"Rule": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    store.set_bucket_config(enforced, "ownership", json.dumps(rule))
    me = Principal(owner)
    for bucket in (plain, enforced):
        put(store, bucket, "mine", 1, metadata={"kind": "k"})
        put(store, bucket, "theirs", 2, metadata={"kind": "k"}, owner=writer)

    def found(**request: Any) -> tuple[list[tuple[str, str]], dict[str, Any]]:
        request.setdefault("buckets", [plain.name, enforced.name])
        result = run(catalog.search(me, SearchRequest(sortby=["bucket", "key"], **request)))
        return [(e.bucket, e.key) for e in result.entries], result.facets

    expected = [(plain.name, "mine"), (enforced.name, "mine"), (enforced.name, "theirs")]
    entries, facets = found(facets=["bucket", "owner"])
    assert entries == expected
    assert sorted(facets["bucket"]) == sorted([(plain.name, 1), (enforced.name, 2)])
    assert facets["owner"] == [(owner.name, 2), (writer.name, 1)]
    assert found(buckets=[plain.name], filter="meta:kind = 'k'")[0] == expected[:1]
    assert found(q="theirs")[0] == expected[2:]
    assert found(buckets=[plain.name], q="theirs")[0] == []
    pages, cursor = [], None
    while True:
        page = run(catalog.search(me, SearchRequest(buckets=[plain.name], limit=1, cursor=cursor)))
        pages.append([e.key for e in page.entries])
        if not (cursor := page.next_cursor):
            break
    assert pages == [["mine"]]
    with pytest.raises(errors.AccessDenied):
        run(catalog.get_entry(me, plain.name, "theirs"))
    with pytest.raises(errors.AccessDenied):
        run(catalog.set_attributes(me, plain.name, "theirs", {"a": 1}, replace=True))
    assert run(catalog.get_entry(me, enforced.name, "theirs")).key == "theirs"
    # the writer sees its own object once a bucket grant lets it read
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [user_arn(writer.name)]},
                "Action": ["s3:GetObject", "s3:PutObjectTagging"],
                "Resource": [f"arn:aws:s3:::{plain.name}/*"],
            }
        ],
    }
    store.set_bucket_config(plain, "policy", json.dumps(policy))
    them = Principal(writer)
    run(catalog.set_attributes(them, plain.name, "theirs", {"run": 1}, replace=True))
    result = run(catalog.search(them, SearchRequest(buckets=[plain.name], filter="run = 1")))
    assert [e.key for e in result.entries] == ["theirs"]
    assert run(catalog.get_entry(them, plain.name, "mine")).key == "mine"


def test_attribute_errors_change_nothing(world: World) -> None:
    before = run(world.catalog.get_entry(world.me, world.bucket.name, A)).attributes
    for bad in (
        {"size": 3},
        {"bad name": 1},
        {"ok": 1, "nested": {"a": 1}},
        {"list": [1, 2]},
        {"when": {"type": "timestamp", "value": "yesterday"}},
        {"x" * 200: 1},
        {"long": "x" * 601},
    ):
        with pytest.raises(errors.InvalidArgument):
            run(world.catalog.set_attributes(world.me, world.bucket.name, A, bad, replace=True))
    after = run(world.catalog.get_entry(world.me, world.bucket.name, A)).attributes
    assert after == before


def test_patch_merges_and_null_removes(world: World) -> None:
    catalog, me, bucket = world.catalog, world.me, world.bucket.name
    put(world.store, world.bucket, "patch/p.bin", 1)
    run(catalog.set_attributes(me, bucket, "patch/p.bin", {"a": 1, "b": "x"}, replace=True))
    entry = run(
        catalog.set_attributes(me, bucket, "patch/p.bin", {"b": None, "c": True}, replace=False)
    )
    assert {a.name: a.to_json() for a in entry.attributes} == {"a": 1, "c": True}
    assert world.keys(q="x", filter="key = 'patch/p.bin'") == set()


def test_writes_need_write_access(world: World) -> None:
    with pytest.raises(errors.AccessDenied):
        run(
            world.catalog.set_attributes(
                Principal(world.other), world.bucket.name, A, {"a": 1}, replace=True
            )
        )


def test_missing_object_is_no_such_key(world: World) -> None:
    with pytest.raises(errors.NoSuchKey):
        run(world.catalog.set_attributes(world.me, world.bucket.name, "nope", {}, replace=True))


def test_index_follows_overwrite_delete_and_tag_changes(
    store: MetadataStore, catalog: CatalogService
) -> None:
    owner: User = store.create_user(f"o-{uuid.uuid4().hex[:8]}")
    bucket = store.create_bucket(f"idx-{uuid.uuid4().hex[:8]}", owner, "us-east-1")
    me = Principal(owner)

    def keys(**request: Any) -> set[str]:
        found = run(catalog.search(me, SearchRequest(buckets=[bucket.name], **request)))
        return {e.key for e in found.entries}

    put(store, bucket, "k", 1, metadata={"colour": "green"}, tags={"stage": "raw"})
    run(catalog.set_attributes(me, bucket.name, "k", {"run": 7}, replace=True))
    assert keys(filter="meta:colour = 'green'") == {"k"}
    assert keys(filter="run = 7") == {"k"}
    # an overwrite replaces the version: its metadata, tags and attributes go with it
    put(store, bucket, "k", 2, metadata={"colour": "blue"})
    assert keys(filter="meta:colour = 'green'") == set()
    assert keys(filter="run = 7") == set()
    assert keys(q="green") == set()
    assert keys(filter="meta:colour = 'blue'") == {"k"}
    # tags changed in place re-index
    store.update_object(bucket, "k", None, lambda v: {"tags": {"stage": "done"}}, "Tagging")
    assert keys(filter="tag:stage = 'done'") == {"k"}
    assert keys(q="done") == {"k"}
    # a delete removes everything
    store.delete_object(bucket, "k")
    assert keys(filter="meta:colour = 'blue'") == set()
    assert keys(q="blue") == set()
    assert keys() == set()


def test_full_text_follows_any_sequence_of_writes(
    store: MetadataStore, catalog: CatalogService
) -> None:
    """Overwrites, deletes and tag changes in any order, the index brought up to date at
    random points (as a server's pass does) or only by the search itself: each word finds
    exactly the current objects whose text holds it. On SQLite the queued changes of the
    FTS5 index are then all applied, and FTS5 finds its index equal to the text table."""
    owner = store.create_user(f"ft-{uuid.uuid4().hex[:8]}")
    bucket = store.create_bucket(f"ft-{uuid.uuid4().hex[:8]}", owner, "us-east-1")
    me = Principal(owner)
    vocabulary = ["alpha", "beta", "gamma", "delta"]
    rng = random.Random(20261202)
    text: dict[str, tuple[str, str]] = {}  # key -> the words of its metadata and its tag
    for _step in range(400):
        key = f"obj{rng.randrange(15)}"
        roll = rng.random()
        if roll < 0.55:
            word = rng.choice(vocabulary)
            put(store, bucket, key, 1, metadata={"w": word})
            text[key] = (word, "")
        elif roll < 0.75:
            store.delete_object(bucket, key)
            text.pop(key, None)
        elif key in text:
            word = rng.choice(vocabulary)
            store.update_object(bucket, key, None, lambda v, w=word: {"tags": {"t": w}}, "Tag")
            text[key] = (text[key][0], word)
        if rng.random() < 0.02:
            catalog.queries.index_pending_text()
    for word in vocabulary:
        found = run(catalog.search(me, SearchRequest(buckets=[bucket.name], q=word)))
        assert {e.key for e in found.entries} == {k for k, words in text.items() if word in words}
    if store.engine.dialect.name == "sqlite":
        assert catalog.queries.index_pending_text() == 0
        with store.engine.begin() as conn:
            queued = conn.exec_driver_sql("SELECT count(*) FROM catalog_text_pending").scalar()
            assert queued == 0
            # raises "database disk image is malformed" if the index and the text differ
            conn.exec_driver_sql(
                "INSERT INTO catalog_fts(catalog_fts, rank) VALUES ('integrity-check', 1)"
            )


def test_versions_keep_their_own_rows_and_search_sees_the_current_one(
    store: MetadataStore, catalog: CatalogService
) -> None:
    owner = store.create_user(f"v-{uuid.uuid4().hex[:8]}")
    bucket = store.create_bucket(f"ver-{uuid.uuid4().hex[:8]}", owner, "us-east-1")
    me = Principal(owner)
    put(store, bucket, "k", 1, metadata={"n": "one"}, version_id="v1")
    put(store, bucket, "k", 1, metadata={"n": "two"}, version_id="v2")

    def keys(text: str) -> list[tuple[str, str]]:
        found = run(catalog.search(me, SearchRequest(buckets=[bucket.name], filter=text)))
        return [(e.key, e.version_id) for e in found.entries]

    assert keys("meta:n = 'two'") == [("k", "v2")]
    assert keys("meta:n = 'one'") == []
    store.delete_object(bucket, "k", "v2")  # v1 becomes current again, still indexed
    assert keys("meta:n = 'one'") == [("k", "v1")]


def test_a_scope_limits_each_bucket_to_its_owners_and_key_prefixes(
    world: World, store: MetadataStore, catalog: CatalogService
) -> None:
    queries = catalog.queries
    mine, theirs = world.owner, world.other
    suffix = uuid.uuid4().hex[:8]
    first = store.create_bucket(f"scoped1-{suffix}", mine, "us-east-1")
    other = store.create_bucket(f"scoped2-{suffix}", mine, "us-east-1")
    for key in sorted(ALL):
        put(store, first, key, 1)
    for key, owner in [
        ("data/x", mine),
        ("Data/y", mine),
        ("data/z", theirs),
        ("datum", mine),
        ("é/1", mine),
    ]:
        put(store, other, key, 1, owner=owner)
    b, o = first.id, other.id

    def found(scope: dict[int, Scope], match: Match | None = None, **options: Any) -> list[str]:
        page = queries.search(
            scope, match or Match(), sort=[Sort("bucket"), Sort("key")], **options
        )
        return [e.key for e in page.entries]

    assert found({b: Scope(prefixes=frozenset({"data/exp1/", "notes/"}))}) == [A, B, README]
    # keys as stored, to the byte: "Data/" is not "data/", "data/" not "datum"
    assert found({o: Scope(prefixes=frozenset({"data/"}))}) == ["data/x", "data/z"]
    assert found({o: Scope(prefixes=frozenset({"Data/"}))}) == ["Data/y"]
    assert found({o: Scope(prefixes=frozenset({"é/"}))}) == ["é/1"]
    every = ["Data/y", "data/x", "data/z", "datum", "é/1"]
    assert found({o: Scope(prefixes=frozenset({""}))}) == every
    # owners and prefixes together, beside a bucket shown whole and one with other limits
    assert found({b: Scope(), o: Scope(frozenset({mine.id}), frozenset({"data/"}))}) == [
        A,
        B,
        C,
        README,
        "data/x",
    ]
    scope = {
        b: Scope(prefixes=frozenset({"notes/"})),
        o: Scope(frozenset({theirs.id}), frozenset({"data/", "é/"})),
    }
    assert found(scope) == [README, "data/z"]
    assert found(scope, Match(text="readme")) == [README]
    assert found(scope, Match(node=None), limit=1) == [README]
    # facets count, and pages cover, the same objects
    page = queries.search(scope, facets=["owner", "key"])
    assert sorted(page.facets["owner"]) == sorted([(mine.name, 1), (theirs.name, 1)])
    assert sorted(page.facets["key"]) == [("data/z", 1), (README, 1)]
    pages, cursor = [], None
    while True:
        page = queries.search(scope, limit=1, cursor=cursor)
        pages.append([e.key for e in page.entries])
        if not (cursor := page.next_cursor):
            break
    assert pages == [[README], ["data/z"]]


def test_shares_open_the_catalog_to_the_keys_they_share(
    store: MetadataStore, catalog: CatalogService
) -> None:
    suffix = uuid.uuid4().hex[:8]
    owner = store.create_user(f"so-{suffix}")
    grantee = store.create_user(f"sg-{suffix}")
    member = store.create_user(f"sm-{suffix}")
    writer = store.create_user(f"sw-{suffix}")
    bucket = store.create_bucket(f"shared-{suffix}", owner, "us-east-1")
    for key in ("docs/a", "docs/sub/b", "docsx/c", "team/t", "private/p"):
        put(store, bucket, key, 1, metadata={"kind": "k"})
    put(store, bucket, "docs/theirs", 1, metadata={"kind": "k"}, owner=writer)
    directory, shares = Directory(store), ShareStore(store)
    group = directory.create_group(f"team-{suffix}")
    directory.set_group_member(group.name, member.name, True)
    service = CatalogService(store, catalog.queries, catalog.buckets, groups(shares))

    def share(prefix: str, kind: str, principal: int | None, **extra: Any) -> None:
        shares.create_share(
            bucket_id=bucket.id,
            prefix=prefix,
            principal_type=kind,
            principal_id=principal,
            principal_name="",
            permission=extra.get("permission", "r"),
            created_by=owner.id,
            created_at=now_us(),
            expires_at=extra.get("expires_at"),
            message="",
            notify_email="",
        )

    def found(user: User, *buckets: str) -> list[str]:
        request = SearchRequest(filter="meta:kind = 'k'", buckets=buckets, sortby=["key"])
        return [e.key for e in run(service.search(Principal(user), request)).entries]

    assert found(grantee) == []
    share("docs/", "user", grantee.id)
    share("docs/sub/", "user", grantee.id)
    share("private/", "user", grantee.id, expires_at=now_us() - 1)
    share("team/", "group", group.id, permission="rw")
    # keys under the live shares' prefixes, of the bucket's own account only
    assert found(grantee) == ["docs/a", "docs/sub/b"]
    assert found(grantee, bucket.name) == ["docs/a", "docs/sub/b"]
    assert found(member) == ["team/t"]
    assert found(writer) == []
    assert run(service.get_entry(Principal(member), bucket.name, "team/t")).key == "team/t"
    run(service.set_attributes(Principal(member), bucket.name, "team/t", {"n": 1}, replace=True))
    for user, key in ((grantee, "docs/a"), (grantee, "private/p"), (member, "docs/a")):
        with pytest.raises(errors.AccessDenied):
            run(service.set_attributes(Principal(user), bucket.name, key, {"n": 1}, replace=True))
    with pytest.raises(errors.AccessDenied):
        run(service.get_entry(Principal(grantee), bucket.name, "private/p"))
    # the policy's explicit Deny refuses a shared prefix all the same
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket.name}/docs/*"],
            }
        ],
    }
    store.set_bucket_config(bucket, "policy", json.dumps(deny))
    assert found(grantee) == []
    with pytest.raises(errors.AccessDenied):
        found(grantee, bucket.name)
    assert found(member) == ["team/t"]
    # a share of the whole bucket shows it whole (the bucket account's objects, and the
    # caller's own)
    store.set_bucket_config(bucket, "policy", None)
    share("", "all_authenticated_users", None)
    whole = ["docs/a", "docs/sub/b", "docsx/c", "private/p", "team/t"]
    assert found(grantee) == whole
    assert found(writer) == sorted([*whole, "docs/theirs"])


def groups(shares: ShareStore) -> Any:
    async def groups_of(user_id: int) -> frozenset[int]:
        return shares.member_groups(user_id)

    return groups_of
