"""The catalog service: typed attributes on objects and search."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from lading.client._base import BaseClient
from lading.client.paging import paginate

log = logging.getLogger(__name__)


def _path(bucket: str, key: str) -> str:
    return f"/catalog/{quote(bucket, safe='')}/{quote(key, safe='/')}/attributes"


class CatalogClient(BaseClient):
    """Attributes and search of the metadata catalog."""

    def get_attributes(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> dict[str, Any]:
        """An object's entry: system metadata, user metadata, tags and typed attributes.

        API: GET /_/api/v1/catalog/{bucket}/{key}/attributes
        """
        found: dict[str, Any] = self.request(
            "GET", _path(bucket, key), params={"version_id": version_id}
        )
        return found

    def set_attributes(
        self,
        bucket: str,
        key: str,
        attributes: Mapping[str, Any],
        *,
        replace: bool = False,
        version_id: str | None = None,
    ) -> dict[str, Any]:
        """Set attributes: merge (a None value removes one), or `replace` them all.

        Values: str, int/float, bool, list of str, {"type": "timestamp", "value": "..."},
        a GeoJSON `geometry` or a `bbox` list. Returns the entry.

        API: PATCH (or PUT with replace) /_/api/v1/catalog/{bucket}/{key}/attributes
        """
        found: dict[str, Any] = self.request(
            "PUT" if replace else "PATCH",
            _path(bucket, key),
            params={"version_id": version_id},
            json={"attributes": dict(attributes)},
        )
        return found

    def search(
        self,
        filter: str | dict[str, Any] | None = None,
        *,
        q: str | None = None,
        buckets: Sequence[str] = (),
        sortby: Sequence[str] = (),
        fields: Sequence[str] = (),
        facets: Sequence[str] = (),
        limit: int = 100,
        cursor: str | None = None,
        filter_lang: str | None = None,
    ) -> dict[str, Any]:
        """One page: {"items": [...], "next": cursor or None, "facets": {...}}.

        `filter` is CQL2 text, or CQL2 JSON (a dict). `fields` picks what each item holds
        (e.g. ["url"]).

        API: POST /_/api/v1/catalog/search
        """
        body = {
            "filter": filter,
            "filter-lang": filter_lang or ("cql2-json" if isinstance(filter, dict) else None),
            "q": q,
            "buckets": list(buckets),
            "sortby": list(sortby),
            "fields": list(fields),
            "facets": list(facets),
            "limit": limit,
            "cursor": cursor,
        }
        found: dict[str, Any] = self.request(
            "POST", "/catalog/search", json={k: v for k, v in body.items() if v is not None}
        )
        return found

    def search_all(
        self, filter: str | dict[str, Any] | None = None, **options: Any
    ) -> Iterator[dict[str, Any]]:
        """Every matching item, page after page (the options of `search`)."""
        return paginate(lambda cursor: self.search(filter, cursor=cursor, **options))
