"""The catalog: typed attributes on objects and permission-aware search.

Indexing happens in the metadata store's change hook (lading.metadata.catalog.index_change),
inside every object transaction; this service sets typed attributes and searches. Results
hold only objects the bucket's own grants let the caller read, as `lading.iam.policy.authorize`
decides: in a bucket without BucketOwnerEnforced, that is the objects of the bucket's account
(`bucket_owns`) and the caller's own. An object readable only through a grant in its own ACL
stays out of the catalog, as do objects of buckets the caller may not read. In a bucket the
caller reaches only through shares of some prefixes, results hold the keys under those
prefixes (`lading.iam.policy.readable_keys`); an entry is read or written as GetObject and
PutObjectTagging of its key would be.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from lading import configs, errors
from lading.catalog.attributes import (
    SYSTEM_FIELDS,
    Attribute,
    format_timestamp,
    from_micros,
    parse_attributes,
    parse_timestamp,
    to_micros,
)
from lading.catalog.query import parse_filter, text_parser
from lading.concurrency import run_blocking
from lading.iam.policy import (
    Access,
    Action,
    Verdict,
    authorize,
    bucket_account,
    denied_by_policy,
    policy_denies_some,
    readable_keys,
)
from lading.iam.principals import Principal
from lading.iam.shares import needs_groups
from lading.metadata.catalog import CatalogQueries, Entry, Match, Page, Scope, Sort
from lading.metadata.models import Bucket
from lading.metadata.store import MetadataStore
from lading.services.buckets import BucketService

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_FACETS = 10
# objects checked key by key against a bucket policy's Deny statements for facet counts and
# STAC extents, at most (a search that finds more in such buckets refuses facets)
MAX_DENY_CHECKS = 20_000


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """One search, as the API, the SDK and the CLI express it."""

    filter: str | dict[str, Any] | None = None
    filter_lang: str = "cql2-text"
    q: str | None = None  # full text over keys and string values
    buckets: Sequence[str] = ()  # restrict to these (each must be readable)
    sortby: Sequence[str] = ()  # "size", "-last_modified" ...
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    facets: Sequence[str] = ()
    bbox: Sequence[float] | None = None
    datetime: str | None = None  # STAC: "a/b", "a/..", "../b" or one instant
    items_only: bool = False  # only objects with a spatial or temporal extent


@dataclass(frozen=True, slots=True)
class SearchResult:
    entries: list[Entry]
    next_cursor: str | None
    facets: dict[str, list[tuple[Any, int]]] = field(default_factory=dict)


def parse_sort(fields: Sequence[str]) -> list[Sort]:
    """`["-size", "key"]` (or "+key") as Sort records."""
    found = []
    for raw in fields:
        for item in raw.split(","):
            name = item.strip()
            if not name:
                continue
            descending = name.startswith("-")
            found.append(Sort(name.lstrip("+-"), descending))
    return found


def parse_interval(text: str) -> tuple[int | None, int | None]:
    """A STAC datetime parameter as (start, end) epoch microseconds; None is open."""
    parts = text.split("/")
    if len(parts) == 1:
        instant = to_micros(parse_timestamp(parts[0]))
        return instant, instant
    if len(parts) != 2 or parts == ["..", ".."] or parts == ["", ""]:
        raise errors.InvalidArgument(f"datetime {text!r}: use an instant or start/end")
    start, end = (None if p in ("", "..") else to_micros(parse_timestamp(p)) for p in parts)
    if start is not None and end is not None and start > end:
        raise errors.InvalidArgument(f"datetime {text!r}: the start is after the end")
    return start, end


def parse_bbox(values: Sequence[float]) -> tuple[float, float, float, float]:
    if len(values) == 6:  # 3D: drop the heights
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4:
        raise errors.InvalidArgument("bbox is four numbers: xmin, ymin, xmax, ymax")
    xmin, ymin, xmax, ymax = (float(v) for v in values)
    if ymin > ymax:
        raise errors.InvalidArgument("bbox: ymin is greater than ymax")
    return xmin, ymin, xmax, ymax


def entry_record(entry: Entry, base_url: str) -> dict[str, Any]:
    """An entry as a flat JSON record: system fields, url, metadata, tags, attributes."""
    record: dict[str, Any] = {
        "bucket": entry.bucket,
        "key": entry.key,
        "url": object_url(base_url, entry.bucket, entry.key),
        "version_id": entry.version_id,
        "size": entry.size,
        "etag": entry.etag,
        "content_type": entry.content_type,
        "last_modified": format_timestamp(from_micros(entry.last_modified)),
        "owner": entry.owner,
        "storage_class": entry.storage_class,
        "checksums": {k: v for k, v in entry.checksums.items() if k != "type"},
        "metadata": dict(entry.metadata),
        "tags": dict(entry.tags),
        "attributes": {a.name: a.to_json() for a in entry.attributes},
        "attribute_types": {a.name: a.type for a in entry.attributes},
    }
    return record


def object_url(base_url: str, bucket: str, key: str) -> str:
    """The path-style URL of an object (what the seeds' catalogs store as `url`)."""
    return f"{base_url.rstrip('/')}/{bucket}/{quote(key, safe='/~')}"


def select_fields(record: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """Only `fields` of a record; an attribute name picks it from `attributes`."""
    if not fields:
        return dict(record)
    chosen: dict[str, Any] = {}
    for name in fields:
        if name in record:
            chosen[name] = record[name]
        elif name in record.get("attributes", {}):
            chosen[name] = record["attributes"][name]
        elif name.startswith("meta:") and name[5:] in record.get("metadata", {}):
            chosen[name] = record["metadata"][name[5:]]
        elif name.startswith("tag:") and name[4:] in record.get("tags", {}):
            chosen[name] = record["tags"][name[4:]]
        else:
            chosen[name] = None
    return chosen


class CatalogService:
    """Attributes and search, with authorization through `lading.iam.policy`."""

    def __init__(
        self,
        meta: MetadataStore,
        queries: CatalogQueries,
        buckets: BucketService,
        groups_of: Callable[[int], Awaitable[frozenset[int]]] | None = None,
        max_deny_checks: int = MAX_DENY_CHECKS,
    ) -> None:
        self.meta = meta
        self.queries = queries
        self.buckets = buckets
        self.groups_of = groups_of  # a user's groups, which shares to a group need
        self.max_deny_checks = max_deny_checks
        text_parser()  # build the CQL2 parser now rather than in the first search

    # --- authorization -------------------------------------------------------------------------

    @staticmethod
    def _verdict(
        principal: Principal, bucket: Bucket, operation: str, action: Action, key: str
    ) -> Verdict | None:
        """What the bucket policy, ownership or bucket ACL grant: ALLOW, BUCKET_OWNED (only
        on objects of the bucket's account), or None (object ACLs alone do not open the
        catalog)."""
        try:
            verdict = authorize(Access(principal, operation, action, bucket, key))
        except errors.AccessDenied:
            return None
        return None if verdict is Verdict.OBJECT_ACL else verdict

    @classmethod
    def _scope(cls, principal: Principal, bucket: Bucket) -> Scope | None:
        """What a search shows of the bucket: the owners and key prefixes GetObject reaches
        without the objects' own ACLs (None: nothing)."""
        try:
            verdict, prefixes = readable_keys(
                Access(principal, "GetObject", Action.READ_OBJECT, bucket)
            )
        except errors.AccessDenied:
            return None
        owned = verdict is Verdict.BUCKET_OWNED
        return Scope(cls._owners(principal, bucket) if owned else None, prefixes)

    async def _with_groups(self, principal: Principal, buckets: Sequence[Bucket]) -> Principal:
        """The principal with its groups, when one of the buckets shares with a group."""
        user = principal.user
        if user is None or principal.groups or self.groups_of is None:
            return principal
        if not any(needs_groups(bucket.shares) for bucket in buckets):
            return principal
        groups = await self.groups_of(user.id)
        return dataclasses.replace(principal, groups=groups) if groups else principal

    @staticmethod
    def _owners(principal: Principal, bucket: Bucket) -> frozenset[int] | None:
        """Whose objects the bucket's grants reach: everyone's (None) if the bucket is
        BucketOwnerEnforced, else those of its account (`bucket_owns`) and the caller's."""
        if configs.object_ownership(bucket.configs) == configs.ENFORCED:
            return None
        account = bucket_account(bucket)
        user = principal.user
        return account | {user.id} if user is not None else account

    async def _readable_scopes(
        self, principal: Principal, names: Sequence[str] = ()
    ) -> tuple[Principal, list[tuple[Bucket, Scope]]]:
        """The principal with the groups the buckets' shares need, and the buckets whose
        objects it may read (all of `names`, if given), each with the objects a search shows
        of it.

        A named bucket the caller may not read raises AccessDenied (NoSuchBucket if absent).
        """
        if names:
            chosen = [await self.buckets.get_bucket(name) for name in names]
        else:
            chosen = []
            for name in await run_blocking(self._candidate_names, principal):
                try:
                    chosen.append(await self.buckets.get_bucket(name))
                except errors.NoSuchBucket:
                    continue
        principal = await self._with_groups(principal, chosen)
        found = []
        for bucket in chosen:
            scope = self._scope(principal, bucket)
            if scope is None:
                if names:
                    raise errors.AccessDenied()
                continue
            found.append((bucket, scope))
        return principal, found

    def _candidate_names(self, principal: Principal) -> list[str]:
        """Owned buckets, those with a policy or ACL that may admit others, shared ones."""
        user = principal.user
        return self.queries.candidate_bucket_names(user.id if user is not None else None)

    async def _writable(
        self, principal: Principal, bucket_name: str, key: str
    ) -> tuple[Bucket, frozenset[int] | None]:
        """The bucket, and the owners of the objects whose attributes the caller may set."""
        bucket = await self.buckets.get_bucket(bucket_name)
        principal = await self._with_groups(principal, [bucket])
        verdict = self._verdict(principal, bucket, "PutObjectTagging", Action.WRITE_OBJECT, key)
        if verdict is None:
            raise errors.AccessDenied()
        return bucket, self._owners(principal, bucket)

    async def _readable(
        self, principal: Principal, bucket_name: str, key: str
    ) -> tuple[Bucket, frozenset[int] | None]:
        """The bucket, and the owners of the objects whose entries the caller may read."""
        bucket = await self.buckets.get_bucket(bucket_name)
        principal = await self._with_groups(principal, [bucket])
        verdict = self._verdict(principal, bucket, "GetObject", Action.READ_OBJECT, key)
        if verdict is None:
            raise errors.AccessDenied()
        owned = verdict is Verdict.BUCKET_OWNED
        return bucket, self._owners(principal, bucket) if owned else None

    # --- attributes ----------------------------------------------------------------------------

    async def get_entry(
        self, principal: Principal, bucket_name: str, key: str, version_id: str | None = None
    ) -> Entry:
        """An object's entry; AccessDenied, NoSuchBucket, NoSuchKey, NoSuchVersion.

        AccessDenied too, as for GetObject, for an object of another account than the
        bucket's (unless BucketOwnerEnforced), even if its own ACL would grant the read.
        """
        bucket, owners = await self._readable(principal, bucket_name, key)
        return await run_blocking(self.queries.get_entry, bucket, key, version_id, owners)

    async def set_attributes(
        self,
        principal: Principal,
        bucket_name: str,
        key: str,
        document: Mapping[str, Any],
        *,
        replace: bool,
        version_id: str | None = None,
    ) -> Entry:
        """Set typed attributes (PUT: `replace` all; PATCH: merge, a null value removes one).

        InvalidArgument for a bad name or value, before anything changes; AccessDenied, as for
        PutObjectTagging, on an object of another account than the bucket's (unless
        BucketOwnerEnforced) that the caller does not own.
        """
        if not isinstance(document, Mapping):
            raise errors.InvalidArgument("attributes are a JSON object of name: value")
        remove = [name for name, value in document.items() if value is None]
        if replace and remove:
            raise errors.InvalidArgument("PUT sets every attribute: null values are for PATCH")
        attributes = parse_attributes(
            {name: value for name, value in document.items() if value is not None}
        )
        bucket, owners = await self._writable(principal, bucket_name, key)
        return await run_blocking(
            lambda: self.queries.set_attributes(
                bucket, key, version_id, attributes, replace=replace, remove=remove, owners=owners
            )
        )

    # --- search --------------------------------------------------------------------------------

    async def search(self, principal: Principal, request: SearchRequest) -> SearchResult:
        """One page of the caller's readable objects that match; InvalidArgument if malformed."""
        if not 1 <= request.limit <= MAX_LIMIT:
            raise errors.InvalidArgument(f"limit must be between 1 and {MAX_LIMIT}")
        if len(request.facets) > MAX_FACETS:
            raise errors.InvalidArgument(f"at most {MAX_FACETS} facets")
        node = None
        if request.filter:
            node = parse_filter(request.filter, request.filter_lang)
        sort = parse_sort(request.sortby)
        box = parse_bbox(request.bbox) if request.bbox is not None else None
        interval = parse_interval(request.datetime) if request.datetime else None
        for name in request.facets:
            if name in SYSTEM_FIELDS and name not in self.queries.target.system:
                raise errors.InvalidArgument(f"cannot count facets of {name!r}")
        principal, scopes = await self._readable_scopes(principal, request.buckets)
        match = Match(node, request.q, box, interval, request.items_only)
        denied: list[int] = []
        if request.facets:  # counts, unlike entries, cannot be filtered after the query
            found = await self._denied_ids(principal, scopes, match)
            if found is None:
                raise errors.InvalidArgument(
                    f"cannot count facets over more than {self.max_deny_checks} objects of "
                    "buckets whose policy denies you some keys: narrow the search"
                )
            denied = found
        page: Page = await run_blocking(
            lambda: self.queries.search(
                {bucket.id: scope for bucket, scope in scopes},
                match,
                sort=sort,
                limit=request.limit,
                cursor=request.cursor,
                facets=list(request.facets),
                exclude=denied,
            )
        )
        entries = self._not_denied(principal, [bucket for bucket, _ in scopes], page.entries)
        return SearchResult(entries, page.next_cursor, page.facets)

    async def _denied_ids(
        self,
        principal: Principal,
        scopes: Sequence[tuple[Bucket, Scope]],
        match: Match,
    ) -> list[int] | None:
        """The ids of the objects that `match` in `scopes` and that a Deny of their bucket's
        policy refuses GetObject of; None when there are more than `max_deny_checks` objects
        to check."""
        denying = {bucket.id: bucket for bucket, _ in scopes if policy_denies_some(bucket)}
        if not denying:
            return []
        scope = {bucket.id: scope for bucket, scope in scopes if bucket.id in denying}
        found = await run_blocking(
            lambda: self.queries.matching_keys(scope, match, limit=self.max_deny_checks + 1)
        )
        if len(found) > self.max_deny_checks:
            return None
        return [
            object_id
            for object_id, bucket_id, key in found
            if _read_denied(principal, denying[bucket_id], key)
        ]

    @staticmethod
    def _not_denied(
        principal: Principal, buckets: Sequence[Bucket], entries: list[Entry]
    ) -> list[Entry]:
        """The entries but those a Deny of their bucket's policy refuses GetObject of, key by
        key: a scope is of whole buckets and prefixes, a Deny may name any key pattern. A page
        may then hold fewer entries than its limit (facets leave those out before the query:
        `_denied_ids`)."""
        denying = {bucket.name: bucket for bucket in buckets if policy_denies_some(bucket)}
        if not denying:
            return entries
        return [
            entry
            for entry in entries
            if entry.bucket not in denying
            or not _read_denied(principal, denying[entry.bucket], entry.key)
        ]

    async def readable_extents(
        self, principal: Principal, names: Sequence[str] = ()
    ) -> list[tuple[Bucket, tuple[Any, ...]]]:
        """The readable buckets (`_readable_scopes`), each with the extent of the items a
        search shows of it (no extent, all None, when a Deny of its policy leaves more than
        `max_deny_checks` items to check)."""
        principal, scopes = await self._readable_scopes(principal, names)
        extents = []
        for bucket, scope in scopes:
            denied = await self._denied_ids(principal, [(bucket, scope)], Match(extents_only=True))
            if denied is None:
                extents.append((bucket, (None,) * 6))
                continue
            extent = await run_blocking(self.queries.bucket_extent, bucket, scope, denied)
            extents.append((bucket, extent))
        return extents


def _read_denied(principal: Principal, bucket: Bucket, key: str) -> bool:
    """Whether a Deny of the bucket's policy refuses the principal GetObject of key."""
    return denied_by_policy(Access(principal, "GetObject", Action.READ_OBJECT, bucket, key))


def attribute_json(attributes: Sequence[Attribute]) -> dict[str, Any]:
    return {a.name: a.to_json() for a in attributes}


def typed_attribute_json(attributes: Sequence[Attribute]) -> dict[str, Any]:
    """Attributes with their types, as GET returns them."""
    return {a.name: {"type": a.type, "value": a.to_json()} for a in attributes}


def now_iso() -> str:
    return format_timestamp(dt.datetime.now(dt.UTC))
