"""STAC records: buckets as collections, objects with a place or a time as items.

Pure mapping from catalog records (the JSON the catalog API returns) to STAC 1.0 JSON.
"""

from __future__ import annotations

from typing import Any

from lading.catalog.attributes import TEMPORAL_NAMES, format_timestamp, from_micros

STAC_VERSION = "1.0.0"
CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0-rc.2/item-search#filter",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
]
GEOJSON = "application/geo+json"


def _iso(micros: int | None) -> str | None:
    return format_timestamp(from_micros(micros)) if micros is not None else None


def landing_page(base: str, title: str) -> dict[str, Any]:
    return {
        "type": "Catalog",
        "stac_version": STAC_VERSION,
        "id": "lading",
        "title": title,
        "description": "Buckets as collections; objects with a place or a time as items.",
        "conformsTo": CONFORMANCE,
        "links": [
            {"rel": "self", "href": f"{base}/", "type": "application/json"},
            {"rel": "root", "href": f"{base}/", "type": "application/json"},
            {"rel": "conformance", "href": f"{base}/conformance", "type": "application/json"},
            {"rel": "data", "href": f"{base}/collections", "type": "application/json"},
            {"rel": "search", "href": f"{base}/search", "type": GEOJSON, "method": "GET"},
            {"rel": "search", "href": f"{base}/search", "type": GEOJSON, "method": "POST"},
        ],
    }


def collection(
    base: str, name: str, created: int, extent: tuple[Any, ...] | None
) -> dict[str, Any]:
    """A bucket as a collection; `extent` is (west, south, east, north, start, end)."""
    west, south, east, north, start, end = extent or (None,) * 6
    bbox = [west, south, east, north] if west is not None else [-180.0, -90.0, 180.0, 90.0]
    return {
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "id": name,
        "title": name,
        "description": f"The objects of bucket {name} that have a place or a time.",
        "license": "other",
        "extent": {
            "spatial": {"bbox": [bbox]},
            "temporal": {"interval": [[_iso(start) or _iso(created), _iso(end)]]},
        },
        "links": [
            {"rel": "self", "href": f"{base}/collections/{name}", "type": "application/json"},
            {"rel": "root", "href": f"{base}/", "type": "application/json"},
            {"rel": "parent", "href": f"{base}/", "type": "application/json"},
            {"rel": "items", "href": f"{base}/collections/{name}/items", "type": GEOJSON},
        ],
    }


def item(base: str, record: dict[str, Any], extent: dict[str, Any] | None) -> dict[str, Any]:
    """An object (a catalog record with its extent) as a STAC item."""
    attributes = dict(record.get("attributes", {}))
    geometry = attributes.pop("geometry", None)
    properties: dict[str, Any] = {
        name: value for name, value in attributes.items() if name not in TEMPORAL_NAMES
    }
    start = extent.get("start") if extent else None
    end = extent.get("end") if extent else None
    if "datetime" in attributes:
        properties["datetime"] = attributes["datetime"]
    elif start is not None and end is not None and start == end:
        properties["datetime"] = _iso(start)
    else:
        properties["datetime"] = None
    if "start_datetime" in attributes or properties["datetime"] is None:
        properties["start_datetime"] = _iso(start)
        properties["end_datetime"] = _iso(end)
    properties["updated"] = record["last_modified"]
    for name, value in record.get("metadata", {}).items():
        properties[f"meta:{name}"] = value
    bucket, key = record["bucket"], record["key"]
    self_href = f"{base}/collections/{bucket}/items/{key}"
    found: dict[str, Any] = {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "id": key,
        "collection": bucket,
        "geometry": geometry,
        "properties": properties,
        "assets": {
            "data": {
                "href": record["url"],
                "type": record["content_type"],
                "roles": ["data"],
                "file:size": record["size"],
            }
        },
        "links": [
            {"rel": "self", "href": self_href, "type": GEOJSON},
            {"rel": "collection", "href": f"{base}/collections/{bucket}"},
            {"rel": "parent", "href": f"{base}/collections/{bucket}"},
            {"rel": "root", "href": f"{base}/"},
        ],
    }
    if extent and extent.get("bbox"):
        found["bbox"] = list(extent["bbox"])
    return found
