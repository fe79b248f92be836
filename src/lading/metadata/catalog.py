"""The catalog's queries: the change hook that indexes every object version, attribute
writes, and search (CQL2 filter, full text, sort, keyset pages, facets).

Rows of the catalog tables reference objects.id with ON DELETE CASCADE: a delete, an
overwrite or a lifecycle expiry removes them with the version, in the same statement.
Full text is the one dialect-specific part: SQLite's FTS5, PostgreSQL's to_tsvector.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from lading import errors
from lading.catalog.attributes import (
    TAG_PREFIX,
    Attribute,
    AttributeRow,
    Extent,
    RowValues,
    extent_of,
    from_rows,
    from_values,
    system_rows,
    text_body,
    to_rows,
    words,
)
from lading.catalog.query import SearchTarget, compile_filter, extent_query, filter_rank
from lading.metadata import schema as t
from lading.metadata.hooks import ObjectChange
from lading.metadata.models import Bucket
from lading.metadata.store import DriverQuery, MetadataStore, key_successor

_O = t.objects.c
_A = t.catalog_attributes.c
MAX_FACET_VALUES = 50

# The one statement a PUT without user metadata or tags adds: the key's words, indexed.
_INSERT_TEXT = sa.insert(t.catalog_text).from_select(
    ["object_id", "body"],
    sa.select(_O.id, sa.bindparam("p_body", type_=sa.Text)).where(
        _O.bucket_id == sa.bindparam("p_bucket"),
        _O.key == sa.bindparam("p_key"),
        _O.version_id == sa.bindparam("p_version"),
    ),
)
_OBJECT_ID = sa.select(_O.id).where(
    _O.bucket_id == sa.bindparam("p_bucket"),
    _O.key == sa.bindparam("p_key"),
    _O.version_id == sa.bindparam("p_version"),
)
_INSERT_ROWS = t.catalog_attributes.insert()


def _row_values(object_id: int, rows: Iterable[AttributeRow]) -> list[dict[str, Any]]:
    return [
        {
            "object_id": object_id,
            "name": r.name,
            "position": r.position,
            "type": r.type,
            "v_str": r.v_str,
            "v_num": r.v_num,
        }
        for r in rows
    ]


def index_change(conn: sa.Connection, change: ObjectChange) -> None:
    """The change hook: index a written version, re-index changed tags.

    Removed versions need nothing: their rows cascade with the object row.
    """
    _index(conn, change, lambda params: conn.execute(_INSERT_TEXT, params))


class CatalogIndexer:
    """index_change as a server runs it: on SQLite, the one statement of a plain PUT (the
    key's words) runs on the driver of the write transaction, compiled once; SQLAlchemy's
    execution of it cost more than the rest of the hook."""

    def __init__(self) -> None:
        self._insert_text: DriverQuery | None = None

    def __call__(self, conn: sa.Connection, change: ObjectChange) -> None:
        if conn.dialect.name != "sqlite":
            index_change(conn, change)
            return
        driver = self._insert_text
        if driver is None or driver.engine is not conn.engine:
            driver = self._insert_text = DriverQuery(conn.engine, _INSERT_TEXT)
        _index(conn, change, lambda params: driver.rows(conn, params))


def _index(conn: sa.Connection, change: ObjectChange, insert_text: Callable[[Any], Any]) -> None:
    version = change.version
    if version.is_delete_marker or change.kind == "removed":
        return
    rows = system_rows(version.metadata, version.tags)
    if change.kind == "written":
        body = text_body(version.key, [r.v_str or "" for r in rows])
        params = {
            "p_bucket": version.bucket_id,
            "p_key": version.key,
            "p_version": version.version_id,
            "p_body": body,
        }
        if not rows:
            insert_text(params)
            return
        object_id = conn.execute(_OBJECT_ID, params).scalar_one()
        conn.execute(t.catalog_text.insert(), {"object_id": object_id, "body": body})
        conn.execute(_INSERT_ROWS, _row_values(object_id, rows))
        return
    # "updated": tags (or ACL, lock) changed in place; the tag rows follow
    object_id = version.row_id
    conn.execute(
        t.catalog_attributes.delete().where(
            _A.object_id == object_id, _A.name.startswith(TAG_PREFIX, autoescape=True)
        )
    )
    tag_rows = [r for r in rows if r.name.startswith(TAG_PREFIX)]
    if tag_rows:
        conn.execute(_INSERT_ROWS, _row_values(object_id, tag_rows))
    _rewrite_text(conn, object_id, version.key)


def _rewrite_text(conn: sa.Connection, object_id: int, key: str) -> None:
    strings = conn.execute(
        sa.select(_A.v_str)
        .where(_A.object_id == object_id, _A.v_str.is_not(None))
        .order_by(_A.name, _A.position)
    ).scalars()
    body = text_body(key, [s for s in strings if s])
    conn.execute(t.catalog_text.delete().where(t.catalog_text.c.object_id == object_id))
    conn.execute(t.catalog_text.insert(), {"object_id": object_id, "body": body})


# SQLite: the triggers on catalog_text queue their changes (migration 0015); these apply them.
TEXT_BATCH = 10_000  # queued changes applied per transaction
_PENDING_TEXT = "SELECT seq, object_id, body, added FROM catalog_text_pending ORDER BY seq LIMIT ?"
_ANY_PENDING_TEXT = "SELECT 1 FROM catalog_text_pending LIMIT 1"
_FTS_DELETE = "INSERT INTO catalog_fts(catalog_fts, rowid, body) VALUES ('delete', ?, ?)"
_FTS_INSERT = "INSERT INTO catalog_fts(rowid, body) VALUES (?, ?)"
_DROP_PENDING_TEXT = "DELETE FROM catalog_text_pending WHERE seq <= ?"


def apply_pending_text(conn: sa.Connection, limit: int = TEXT_BATCH) -> int:
    """Apply up to `limit` queued text changes to the FTS5 index, oldest first, in conn's
    write transaction; returns how many were taken from the queue.

    An object id's changes alternate, added and removed (catalog_text holds one row per
    object). A text added and removed again within the batch never reaches the index; what
    is left of an id is at most the removal of what the index holds, then one addition, so
    all removals go first and all additions after them.
    """
    queued = conn.exec_driver_sql(_PENDING_TEXT, (limit,)).all()
    if not queued:
        return 0
    removals: list[tuple[int, str]] = []
    additions: dict[int, str] = {}  # object id -> text not yet in the index
    for _seq, object_id, body, added in queued:
        if added:
            additions[object_id] = body
        elif additions.pop(object_id, None) is None:  # else added in this batch: never indexed
            removals.append((object_id, body))
    if removals:
        conn.exec_driver_sql(_FTS_DELETE, removals)
    if additions:
        conn.exec_driver_sql(_FTS_INSERT, list(additions.items()))
    conn.exec_driver_sql(_DROP_PENDING_TEXT, (queued[-1][0],))
    return len(queued)


@dataclass(frozen=True, slots=True)
class Entry:
    """One catalog entry: an object's current version with its attributes."""

    object_id: int
    bucket: str
    key: str
    version_id: str
    size: int
    etag: str
    content_type: str
    last_modified: int
    owner: str
    storage_class: str
    checksums: dict[str, Any]
    metadata: dict[str, str]
    tags: dict[str, str]
    attributes: list[Attribute] = field(default_factory=list)
    extent: Extent | None = None


@dataclass(frozen=True, slots=True)
class Sort:
    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    entries: list[Entry]
    next_cursor: str | None
    facets: dict[str, list[tuple[Any, int]]]


@dataclass(frozen=True, slots=True)
class Scope:
    """What a search shows of one bucket: the objects of `owners` (None: everyone's) whose
    keys start with one of `prefixes` (None: every key)."""

    owners: frozenset[int] | None = None
    prefixes: frozenset[str] | None = None

    def limits(self) -> tuple[frozenset[int] | None, frozenset[str] | None]:
        """(owners, prefixes), None for what does not limit (a prefix "" holds every key)."""
        prefixes = self.prefixes
        if prefixes is not None and "" in prefixes:
            prefixes = None
        return self.owners, prefixes


@dataclass(frozen=True, slots=True)
class Match:
    """What a search matches in its scope: a parsed CQL2 filter (`node`), full-text words,
    the STAC bbox and datetime interval, and with `extents_only` only STAC items."""

    node: Any = None
    text: str | None = None
    box: tuple[float, float, float, float] | None = None
    interval: tuple[int | None, int | None] | None = None
    extents_only: bool = False


SORTABLE = {
    "bucket": _O.bucket_id,  # buckets in creation order, as ids
    "key": _O.key,
    "size": _O.size,
    "last_modified": _O.last_modified,
    "content_type": _O.content_type,
    "etag": _O.etag,
}


class CatalogQueries:
    """Attribute writes and searches over the store's engine."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store
        self.dialect = store.engine.dialect.name
        self._owners = sa.alias(t.users, "owner")
        self._buckets = sa.alias(t.buckets, "bucket")
        system: dict[str, sa.ColumnElement[Any]] = {
            "key": _O.key,
            "version_id": _O.version_id,
            "size": _O.size,
            "etag": _O.etag,
            "content_type": _O.content_type,
            "last_modified": _O.last_modified,
            "storage_class": _O.storage_class,
            "bucket": self._buckets.c.name,
            "owner": self._owners.c.name,
        }
        self.target = SearchTarget(
            object_id=_O.id,
            system=system,
            time_fields=frozenset({"last_modified"}),
            attributes=t.catalog_attributes,
            extents=t.catalog_extents,
            dialect=self.dialect,
        )
        self._entries_query, self._attributes_query = self._entry_statements()

    def index_pending_text(self) -> int:
        """Bring SQLite's full-text index up to date with every committed write (a server
        does so every `metadata.text_index_seconds`, and before each full-text search);
        returns how many queued changes it applied. Nothing to do on PostgreSQL."""
        if self.dialect != "sqlite":
            return 0
        applied = 0
        while True:
            with self.store._read() as conn:
                if conn.exec_driver_sql(_ANY_PENDING_TEXT).first() is None:
                    return applied
            taken = self.store._write(apply_pending_text)
            applied += taken
            if taken < TEXT_BATCH:
                return applied

    def _entry_statements(self) -> tuple[sa.Select[Any], sa.Select[Any]]:
        """The two statements that read a page of entries, built once (ids bound on use)."""
        b, owner = self._buckets, self._owners
        e = t.catalog_extents.c
        ids: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
        objects = (
            sa.select(
                _O.id,
                b.c.name,
                _O.key,
                _O.version_id,
                _O.size,
                _O.etag,
                _O.content_type,
                _O.last_modified,
                owner.c.name,
                _O.storage_class,
                _O.checksums,
                _O.meta,
                _O.tags,
                e.object_id,
                e.west,
                e.south,
                e.east,
                e.north,
                e.geometry,
                e.start,
                e.end,
            )
            .select_from(
                t.objects.join(b, b.c.id == _O.bucket_id)
                .join(owner, owner.c.id == _O.owner_id)
                .outerjoin(t.catalog_extents, e.object_id == _O.id)
            )
            .where(_O.id.in_(ids))
        )
        attributes = (
            sa.select(_A.object_id, _A.name, _A.position, _A.type, _A.v_str, _A.v_num)
            .where(_A.object_id.in_(ids), sa.not_(_A.name.contains(":")))
            .order_by(_A.object_id, _A.name, _A.position)
        )
        return objects, attributes

    def candidate_bucket_names(self, user_id: int | None) -> list[str]:
        """Buckets a user owns or whose project they are a member of, those whose policy or
        ACL may admit others, and those with a share to the user, a group of theirs, every
        authenticated user or anyone (one query; authorization then decides, the project
        role and expiry included)."""
        b, configs, s = t.buckets.c, t.bucket_configs.c, t.shares.c
        granted: Any = s.principal_type == "anonymous"
        if user_id is not None:
            groups = sa.select(t.group_members.c.group_id).where(
                t.group_members.c.user_id == user_id
            )
            granted = sa.or_(
                granted,
                s.principal_type == "all_authenticated_users",
                sa.and_(s.principal_type == "user", s.principal_id == user_id),
                sa.and_(s.principal_type == "group", s.principal_id.in_(groups)),
            )
        open_to_others = sa.union(
            sa.select(configs.bucket_id).where(configs.name.in_(["policy", "acl"])),
            sa.select(s.bucket_id).where(granted),
        )
        condition: Any = b.id.in_(open_to_others)
        if user_id is not None:
            m = t.project_members.c
            member_of = sa.select(m.project_id).where(m.user_id == user_id)
            condition = sa.or_(b.owner_id == user_id, b.project_id.in_(member_of), condition)
        with self.store._read() as conn:
            return list(conn.execute(sa.select(b.name).where(condition).order_by(b.name)).scalars())

    # --- attributes ----------------------------------------------------------------------------

    def set_attributes(
        self,
        bucket: Bucket,
        key: str,
        version_id: str | None,
        attributes: Sequence[Attribute],
        *,
        replace: bool,
        remove: Sequence[str] = (),
        owners: Set[int] | None = None,
    ) -> Entry:
        """Set attributes on a version (the current one by default); returns the entry.

        `replace` drops every other typed attribute first (PUT); else only the named ones
        change and `remove` names attributes to drop (PATCH). Raises NoSuchKey/NoSuchVersion,
        and AccessDenied if `owners` is given and the version's owner is not one of them.
        """

        def work(conn: sa.Connection) -> int:
            object_id = self._version_id(conn, bucket, key, version_id, owners)
            typed = sa.not_(_A.name.contains(":"))
            if replace:
                doomed: Any = typed
            else:
                doomed = _A.name.in_([a.name for a in attributes] + list(remove))
            conn.execute(
                t.catalog_attributes.delete().where(_A.object_id == object_id, typed, doomed)
            )
            values = _row_values(object_id, (r for a in attributes for r in to_rows(a)))
            if values:
                conn.execute(_INSERT_ROWS, values)
            self._rewrite_extent(conn, object_id, attributes, replace)
            _rewrite_text(conn, object_id, key)
            return object_id

        object_id = self.store._write(work)
        found = self.entries([object_id])
        return found[0]

    def _version_id(
        self,
        conn: sa.Connection,
        bucket: Bucket,
        key: str,
        version_id: str | None,
        owners: Set[int] | None = None,
    ) -> int:
        query = sa.select(_O.id, _O.is_delete_marker, _O.owner_id).where(
            _O.bucket_id == bucket.id, _O.key == key
        )
        if version_id is None:
            query = query.where(_O.is_latest == sa.true())
        else:
            query = query.where(_O.version_id == version_id)
        row = conn.execute(query).first()
        if row is None or (version_id is None and row.is_delete_marker):
            if version_id is not None:
                raise errors.NoSuchVersion(bucket.name, key, version_id)
            raise errors.NoSuchKey(bucket.name, key)
        if owners is not None and row.owner_id not in owners:
            raise errors.AccessDenied()
        return int(row.id)

    def _rewrite_extent(
        self, conn: sa.Connection, object_id: int, changed: Sequence[Attribute], replace: bool
    ) -> None:
        e = t.catalog_extents
        old = conn.execute(sa.select(e.c.geometry).where(e.c.object_id == object_id)).first()
        rows = [
            AttributeRow(r.name, r.position, r.type, r.v_str, r.v_num)
            for r in conn.execute(
                sa.select(_A.name, _A.position, _A.type, _A.v_str, _A.v_num)
                .where(
                    _A.object_id == object_id,
                    _A.name.in_(["geometry", "datetime", "start_datetime", "end_datetime"]),
                )
                .order_by(_A.name, _A.position)
            )
        ]
        geometry = next((a.value for a in changed if a.name == "geometry"), None)
        if geometry is None and old is not None and old.geometry:
            geometry = json.loads(old.geometry)
        extent = extent_of(from_rows(rows, geometry if isinstance(geometry, dict) else None))
        conn.execute(e.delete().where(e.c.object_id == object_id))
        if extent is None:
            return
        box = extent.bbox or (None, None, None, None)
        conn.execute(
            e.insert(),
            {
                "object_id": object_id,
                "west": box[0],
                "south": box[1],
                "east": box[2],
                "north": box[3],
                "geometry": json.dumps(extent.geometry) if extent.geometry else None,
                "start": extent.start,
                "end": extent.end,
            },
        )

    def get_entry(
        self,
        bucket: Bucket,
        key: str,
        version_id: str | None = None,
        owners: Set[int] | None = None,
    ) -> Entry:
        """One version's entry; raises NoSuchKey / NoSuchVersion, and AccessDenied if
        `owners` is given and the version's owner is not one of them."""
        with self.store._read() as conn:
            object_id = self._version_id(conn, bucket, key, version_id, owners)
        return self.entries([object_id])[0]

    # --- search --------------------------------------------------------------------------------

    def _base(self) -> sa.Select[Any]:
        b, owner = self._buckets, self._owners
        return (
            sa.select(_O.id)
            .select_from(
                t.objects.join(b, b.c.id == _O.bucket_id).join(owner, owner.c.id == _O.owner_id)
            )
            .where(
                _O.is_latest == sa.true(),
                _O.is_delete_marker == sa.false(),
            )
        )

    def _conditions(
        self,
        scope: Mapping[int, Scope],
        node: Any,
        text: str | None,
        box: Any,
        interval: Any,
    ) -> list[sa.ColumnElement[bool]]:
        selective = node is not None or bool(text) or box is not None or interval is not None
        # with another condition, drive the query from the catalog indexes, not the bucket's
        # whole listing (`+ 0` keeps SQLite's planner off the objects index)
        bucket_column = _O.bucket_id + 0 if selective else _O.bucket_id
        conditions: list[sa.ColumnElement[bool]] = [bucket_column.in_(list(scope))]
        scoped = _scoped(scope)
        if scoped is not None:
            conditions.append(scoped)
        # the filter drives the query unless full text looks more selective
        text_drives = bool(text) and (node is None or filter_rank(node) > 2)
        if node is not None:
            conditions.append(compile_filter(node, self.target, correlated=text_drives))
        if text:
            conditions.append(self._text_condition(text, correlated=not text_drives))
        if box is not None:
            conditions.append(_O.id.in_(extent_query(t.catalog_extents, box)))
        if interval is not None:
            e = t.catalog_extents.c
            start, end = interval
            parts = [e.start.is_not(None)]
            if end is not None:
                parts.append(e.start <= end)
            if start is not None:
                parts.append(sa.func.coalesce(e.end, e.start) >= start)
            conditions.append(_O.id.in_(sa.select(e.object_id).where(*parts)))
        return conditions

    def _text_condition(self, text: str, *, correlated: bool) -> sa.ColumnElement[bool]:
        terms = [
            (w, text_term.endswith("*")) for text_term in text.split() for w in words(text_term)
        ]
        if not terms:
            raise errors.InvalidArgument("the full-text query has no words")
        if self.dialect == "postgresql":
            query = " & ".join(f"{w}:*" if prefix else w for w, prefix in terms)
            text_table = t.catalog_text.c
            match = sa.func.to_tsvector(sa.literal_column("'simple'"), text_table.body).op("@@")(
                sa.func.to_tsquery(sa.literal_column("'simple'"), query)
            )
            if correlated:
                return sa.exists().where(text_table.object_id == _O.id, match)
            return _O.id.in_(sa.select(text_table.object_id).where(match))
        query = " ".join(f'"{w}"*' if prefix else f'"{w}"' for w, prefix in terms)
        if correlated:
            return sa.text(
                "EXISTS (SELECT 1 FROM catalog_fts WHERE catalog_fts MATCH :fts "
                "AND catalog_fts.rowid = objects.id)"
            ).bindparams(fts=query)  # type: ignore[return-value]
        matching = sa.text("SELECT rowid FROM catalog_fts WHERE catalog_fts MATCH :fts")
        return _O.id.in_(matching.bindparams(fts=query))

    def search(
        self,
        scope: Mapping[int, Scope],
        match: Match = Match(),
        *,
        sort: Sequence[Sort] = (),
        limit: int = 100,
        cursor: str | None = None,
        facets: Sequence[str] = (),
        exclude: Sequence[int] = (),
    ) -> Page:
        """A page of current versions in the buckets of `scope` that `match`, in `sort` order.

        `scope` maps a bucket id to the objects that count there: those of some owners, under
        some key prefixes (`Scope`); facet counts see the same objects. `exclude`: object ids
        left out. `cursor` continues a previous page of the same query. InvalidArgument for an
        unknown sort field or a cursor of another query.
        """
        if not scope:
            return Page([], None, {name: [] for name in facets})
        conditions = self._matching(scope, match, exclude)
        order = [s for s in sort if s.field != "id"] or [Sort("bucket"), Sort("key")]
        for s in order:
            if s.field not in SORTABLE:
                raise errors.InvalidArgument(
                    f"cannot sort by {s.field!r}: sort by one of {', '.join(sorted(SORTABLE))}"
                )
        columns = [SORTABLE[s.field] for s in order] + [_O.id]
        directions = [s.descending for s in order] + [False]
        query = self._base().add_columns(*columns[:-1]).where(*conditions)
        if cursor:
            query = query.where(_after(columns, directions, _decode_cursor(cursor, len(columns))))
        query = query.order_by(
            *[c.desc() if d else c.asc() for c, d in zip(columns, directions, strict=True)]
        ).limit(limit + 1)
        with self.store._read() as conn:
            if self.dialect == "postgresql":
                # a plan per search: a generic plan of a prepared statement cannot tell an
                # equality on one value from a range over half the table
                conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
            rows = conn.execute(query).all()
            facet_counts = {name: self._facet(conn, name, conditions) for name in facets}
            more = len(rows) > limit
            rows = rows[:limit]
            entries = self._entries(conn, [r[0] for r in rows])
        next_cursor = None
        if more and rows:
            last = rows[-1]
            next_cursor = _encode_cursor([*last[1:], last[0]])
        return Page(entries, next_cursor, facet_counts)

    def _matching(
        self, scope: Mapping[int, Scope], match: Match, exclude: Sequence[int] = ()
    ) -> list[sa.ColumnElement[bool]]:
        """The conditions of a search (`search` tells the arguments)."""
        if match.text:
            self.index_pending_text()  # a search sees every write committed before it
        conditions = self._conditions(scope, match.node, match.text, match.box, match.interval)
        if match.extents_only:
            conditions.append(_O.id.in_(sa.select(t.catalog_extents.c.object_id)))
        if exclude:
            conditions.append(_O.id.not_in(list(exclude)))
        return conditions

    def matching_keys(
        self, scope: Mapping[int, Scope], match: Match, *, limit: int
    ) -> list[tuple[int, int, str]]:
        """(object id, bucket id, key) of up to `limit` objects a search finds (`search`), in
        no order: for checks key by key."""
        if not scope:
            return []
        conditions = self._matching(scope, match)
        query = self._base().add_columns(_O.bucket_id, _O.key).where(*conditions).limit(limit)
        with self.store._read() as conn:
            return [(row[0], row[1], row[2]) for row in conn.execute(query)]

    def _facet(
        self,
        conn: sa.Connection,
        name: str,
        conditions: list[sa.ColumnElement[bool]],
    ) -> list[tuple[Any, int]]:
        matching = self._base().where(*conditions)
        if name in self.target.system:
            column = self.target.system[name]
            counted = (
                matching.with_only_columns(column.label("value"), sa.func.count().label("n"))
                .group_by(column)
                .order_by(sa.func.count().desc(), column)
                .limit(MAX_FACET_VALUES)
            )
            return [(r.value, int(r.n)) for r in conn.execute(counted)]
        value = sa.func.coalesce(_A.v_str, sa.cast(_A.v_num, sa.String))
        counted = (
            sa.select(_A.v_str, _A.v_num, _A.type, sa.func.count(sa.distinct(_A.object_id)))
            .where(_A.name == name, _A.object_id.in_(matching))
            .group_by(_A.v_str, _A.v_num, _A.type)
            .order_by(sa.func.count(sa.distinct(_A.object_id)).desc(), value)
            .limit(MAX_FACET_VALUES)
        )
        found: list[tuple[Any, int]] = []
        for v_str, v_num, kind, n in conn.execute(counted):
            attribute = from_rows([AttributeRow(name, 0, kind, v_str, v_num)])[0]
            found.append((attribute.to_json(), int(n)))
        return found

    def entries(self, object_ids: Sequence[int]) -> list[Entry]:
        """The entries of these object rows, in the order given."""
        with self.store._read() as conn:
            return self._entries(conn, object_ids)

    def _entries(self, conn: sa.Connection, object_ids: Sequence[int]) -> list[Entry]:
        """Two queries for the whole page: the objects with their extents, then their typed
        attributes. Rows are read as plain tuples: a page is hundreds of rows."""
        if not object_ids:
            return []
        ids = list(object_ids)
        rows = {row[0]: row for row in conn.execute(self._entries_query, {"ids": ids})}
        attributes: dict[int, list[RowValues]] = {}
        for values in conn.execute(self._attributes_query, {"ids": ids}):
            found_rows = attributes.get(values[0])
            if found_rows is None:
                attributes[values[0]] = [values[1:]]
            else:
                found_rows.append(values[1:])
        found = []
        for object_id in object_ids:
            row = rows.get(object_id)
            if row is None:
                continue
            (
                _,
                bucket,
                key,
                version_id,
                size,
                etag,
                content_type,
                last_modified,
                owner,
                storage_class,
                checksums,
                meta,
                tags,
                extent_id,
                west,
                south,
                east,
                north,
                geometry_text,
                start,
                end,
            ) = row
            geometry = None
            extent = None
            if extent_id is not None:
                geometry = json.loads(geometry_text) if geometry_text else None
                box = (west, south, east, north)
                extent = Extent(box if west is not None else None, geometry, start, end)
            found.append(
                Entry(
                    object_id=object_id,
                    bucket=bucket,
                    key=key,
                    version_id=version_id,
                    size=size,
                    etag=etag,
                    content_type=content_type,
                    last_modified=last_modified,
                    owner=owner,
                    storage_class=storage_class,
                    checksums=checksums or {},
                    metadata=meta or {},
                    tags=tags or {},
                    attributes=from_values(attributes.get(object_id, ()), geometry),
                    extent=extent,
                )
            )
        return found

    def bucket_extent(
        self, bucket: Bucket, scope: Scope | None = None, exclude: Sequence[int] = ()
    ) -> tuple[Any, ...]:
        """(xmin, ymin, xmax, ymax, start, end) over a bucket's current items (those of
        `scope`, if given, but the object ids of `exclude`)."""
        e = t.catalog_extents.c
        query = (
            sa.select(
                sa.func.min(e.west),
                sa.func.min(e.south),
                sa.func.max(e.east),
                sa.func.max(e.north),
                sa.func.min(e.start),
                sa.func.max(sa.func.coalesce(e.end, e.start)),
            )
            .select_from(t.catalog_extents.join(t.objects, _O.id == e.object_id))
            .where(_O.bucket_id == bucket.id, _O.is_latest == sa.true())
        )
        if scope is not None and scope.limits() != (None, None):
            query = query.where(_limit(*scope.limits()))
        if exclude:
            query = query.where(_O.id.not_in(list(exclude)))
        with self.store._read() as conn:
            return tuple(conn.execute(query).one())


def _scoped(scope: Mapping[int, Scope]) -> sa.ColumnElement[bool] | None:
    """The condition that keeps, in each bucket of `scope` limited to some owners or key
    prefixes, only those objects; None if no bucket is limited."""
    free: list[int] = []
    limited: dict[tuple[frozenset[int] | None, frozenset[str] | None], list[int]] = {}
    for bucket_id, bucket_scope in scope.items():
        limits = bucket_scope.limits()
        if limits == (None, None):
            free.append(bucket_id)
        else:
            limited.setdefault(limits, []).append(bucket_id)
    if not limited:
        return None
    if not free and len(limited) == 1:  # the common case: one limit for every bucket
        return _limit(*next(iter(limited)))
    bucket = _O.bucket_id + 0  # tests rows found, not a way to find them
    alternatives: list[sa.ColumnElement[bool]] = [bucket.in_(free)] if free else []
    for (owners, prefixes), bucket_ids in limited.items():
        alternatives.append(sa.and_(bucket.in_(bucket_ids), _limit(owners, prefixes)))
    return sa.or_(*alternatives)


def _limit(
    owners: frozenset[int] | None, prefixes: frozenset[str] | None
) -> sa.ColumnElement[bool]:
    """Objects of these owners, under these key prefixes (None: no limit)."""
    parts: list[sa.ColumnElement[bool]] = []
    if owners is not None:
        parts.append(_O.owner_id.in_(sorted(owners)))
    if prefixes is not None:
        ranges: list[sa.ColumnElement[bool]] = []
        for prefix in sorted(prefixes):
            # a key range rather than LIKE: exact on both databases (SQLite's LIKE ignores
            # case) and a seek in the (bucket, key) index
            upper = key_successor(prefix)
            lower = _O.key >= prefix
            ranges.append(lower if upper is None else sa.and_(lower, _O.key < upper))
        parts.append(sa.or_(*ranges) if ranges else sa.false())
    return sa.and_(*parts)


def _after(
    columns: Sequence[sa.ColumnElement[Any]], descending: Sequence[bool], values: Sequence[Any]
) -> sa.ColumnElement[bool]:
    """Rows after `values` in the order of `columns` (keyset pagination)."""
    alternatives = []
    for i, (column, desc) in enumerate(zip(columns, descending, strict=True)):
        equal = [c == v for c, v in zip(columns[:i], values[:i], strict=True)]
        beyond = column < values[i] if desc else column > values[i]
        alternatives.append(sa.and_(*equal, beyond))
    return sa.or_(*alternatives)


def _encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, width: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, TypeError):
        raise errors.InvalidArgument("the cursor is not one this search returned") from None
    if not isinstance(values, list) or len(values) != width:
        raise errors.InvalidArgument("the cursor is not one this search returned")
    return values
