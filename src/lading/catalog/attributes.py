"""Typed catalog attributes and the attribute-value rows they are stored as.

An attribute is a name and a typed value: string, number, boolean, timestamp or list of
strings. On the wire a value is plain JSON (a string, a number, a boolean, a list of strings)
or, for types JSON lacks, `{"type": "timestamp", "value": "2016-06-06T00:00:00Z"}`.
Each value becomes one row per element (`AttributeRow`), indexed by name and value.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lading import errors

AttributeType = Literal["string", "number", "boolean", "timestamp", "list", "geometry"]
TYPE_CODES: dict[AttributeType, str] = {
    "string": "s",
    "number": "n",
    "boolean": "b",
    "timestamp": "t",
    "list": "l",
    "geometry": "g",  # GeoJSON; the row marks it, catalog_extents holds it
}
GEOJSON_TYPES = frozenset(
    {
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }
)
# Attributes that place an object in space and time (and make it a STAC item).
TEMPORAL_NAMES = ("datetime", "start_datetime", "end_datetime")
CODE_TYPES = {code: name for name, code in TYPE_CODES.items()}

META_PREFIX = "meta:"  # x-amz-meta-* of the object, as "meta:<name>"
TAG_PREFIX = "tag:"  # the object's S3 tags, as "tag:<name>"
# What every object has, searchable by these names; attributes cannot take them.
SYSTEM_FIELDS = frozenset(
    {
        "bucket",
        "key",
        "version_id",
        "size",
        "etag",
        "content_type",
        "last_modified",
        "owner",
        "storage_class",
        "checksums",
        "url",
    }
)
MAX_NAME = 128
MAX_STRING = 600  # characters of one string value (the index keeps whole values)
MAX_LIST = 100
MAX_ATTRIBUTES = 200  # per object version
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True, slots=True)
class Attribute:
    """One typed attribute value: str, float, bool, datetime, tuple[str, ...] or GeoJSON."""

    name: str
    type: AttributeType
    value: str | float | bool | dt.datetime | tuple[str, ...] | dict[str, Any]

    def to_json(self) -> Any:
        """The plain JSON form (timestamps as RFC 3339 strings)."""
        if isinstance(self.value, dt.datetime):
            return format_timestamp(self.value)
        if isinstance(self.value, tuple):
            return list(self.value)
        if self.type == "number" and isinstance(self.value, float) and self.value.is_integer():
            return int(self.value)
        return self.value


@dataclass(frozen=True, slots=True)
class AttributeRow:
    """One row of the attribute-value table."""

    name: str
    position: int
    type: str  # one letter of TYPE_CODES
    v_str: str | None
    v_num: float | None


def format_timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def to_micros(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int | float) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=int(micros))


def parse_timestamp(text: str) -> dt.datetime:
    """An RFC 3339 timestamp or a date (midnight UTC); InvalidArgument otherwise."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise errors.InvalidArgument(f"{text!r} is not an RFC 3339 timestamp") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def check_name(name: str) -> None:
    """Refuse names that are system fields, prefixed, too long or not identifiers."""
    if name in SYSTEM_FIELDS:
        raise errors.InvalidArgument(f"{name!r} is a system field and cannot be set")
    if len(name) > MAX_NAME or not _NAME.match(name):
        raise errors.InvalidArgument(
            f"attribute name {name!r} must start with a letter or '_' and hold only letters, "
            f"digits, '_', '.', '-' (at most {MAX_NAME} characters)"
        )


def _string(name: str, value: str) -> str:
    if len(value) > MAX_STRING:
        raise errors.InvalidArgument(f"attribute {name!r} is longer than {MAX_STRING} characters")
    return value


def parse_value(name: str, raw: Any) -> Attribute:
    """An attribute from its JSON form; InvalidArgument for anything else."""
    check_name(name)
    if name == "bbox":
        return Attribute("geometry", "geometry", bbox_polygon(raw))
    if isinstance(raw, dict) and raw.get("type") in GEOJSON_TYPES:
        if name != "geometry":
            raise errors.InvalidArgument(f"attribute {name!r}: only 'geometry' holds GeoJSON")
        geometry_bbox(raw)  # refuses a geometry without coordinates
        return Attribute(name, "geometry", dict(raw))
    if isinstance(raw, dict):
        kind, value = raw.get("type"), raw.get("value")
        if set(raw) != {"type", "value"} or kind not in TYPE_CODES:
            raise errors.InvalidArgument(
                f"attribute {name!r}: a typed value is {{'type': one of "
                f"{sorted(TYPE_CODES)}, 'value': ...}}"
            )
        if kind == "timestamp":
            if not isinstance(value, str):
                raise errors.InvalidArgument(f"attribute {name!r}: a timestamp is a string")
            return Attribute(name, "timestamp", parse_timestamp(value))
        parsed = parse_value(name, value)
        if parsed.type != kind:
            raise errors.InvalidArgument(f"attribute {name!r}: {value!r} is not a {kind}")
        return parsed
    if isinstance(raw, bool):
        return Attribute(name, "boolean", raw)
    if isinstance(raw, int | float):
        number = float(raw)
        if not math.isfinite(number):
            raise errors.InvalidArgument(f"attribute {name!r}: numbers must be finite")
        return Attribute(name, "number", number)
    if isinstance(raw, str):
        return Attribute(name, "string", _string(name, raw))
    if isinstance(raw, list):
        if not all(isinstance(item, str) for item in raw):
            raise errors.InvalidArgument(f"attribute {name!r}: a list holds only strings")
        if len(raw) > MAX_LIST:
            raise errors.InvalidArgument(f"attribute {name!r}: at most {MAX_LIST} elements")
        return Attribute(name, "list", tuple(_string(name, item) for item in raw))
    raise errors.InvalidArgument(f"attribute {name!r}: unsupported value {raw!r}")


def parse_attributes(document: Mapping[str, Any]) -> list[Attribute]:
    """Every attribute of a JSON object `{name: value}`; InvalidArgument for a bad one."""
    if not isinstance(document, Mapping):
        raise errors.InvalidArgument("attributes are a JSON object of name: value")
    if len(document) > MAX_ATTRIBUTES:
        raise errors.InvalidArgument(f"at most {MAX_ATTRIBUTES} attributes per object")
    return [parse_value(name, raw) for name, raw in document.items()]


def to_rows(attribute: Attribute) -> list[AttributeRow]:
    code = TYPE_CODES[attribute.type]
    value = attribute.value
    if isinstance(value, tuple):
        return [AttributeRow(attribute.name, i, code, item, None) for i, item in enumerate(value)]
    if isinstance(value, dict):
        return [AttributeRow(attribute.name, 0, code, None, None)]
    if isinstance(value, str):
        return [AttributeRow(attribute.name, 0, code, value, None)]
    if isinstance(value, dt.datetime):
        return [AttributeRow(attribute.name, 0, code, None, float(to_micros(value)))]
    return [AttributeRow(attribute.name, 0, code, None, float(value))]


def from_rows(
    rows: Iterable[AttributeRow], geometry: dict[str, Any] | None = None
) -> list[Attribute]:
    """Attributes from their rows (in name, position order) and the stored geometry."""
    return from_values(((r.name, r.position, r.type, r.v_str, r.v_num) for r in rows), geometry)


RowValues = tuple[str, int, str, str | None, float | None]  # name, position, type, v_str, v_num


def from_values(
    rows: Iterable[RowValues], geometry: dict[str, Any] | None = None
) -> list[Attribute]:
    """Attributes from plain row tuples (in name, position order): what a page of search
    results reads, without building a record per row."""
    found: list[Attribute] = []
    elements: list[str] | None = None  # the open list attribute's values
    previous = None
    for name, _, code, v_str, v_num in rows:
        if name == previous:
            if elements is not None:
                elements.append(v_str or "")
            continue
        if elements is not None:
            found.append(Attribute(previous, "list", tuple(elements)))  # type: ignore[arg-type]
            elements = None
        previous = name
        kind = CODE_TYPES[code]
        if kind == "list":
            elements = [v_str or ""]
        elif kind == "string":
            found.append(Attribute(name, kind, v_str or ""))
        elif kind == "timestamp":
            found.append(Attribute(name, kind, from_micros(v_num or 0)))
        elif kind == "geometry":
            found.append(Attribute(name, kind, geometry or {}))
        elif kind == "boolean":
            found.append(Attribute(name, kind, bool(v_num)))
        else:
            found.append(Attribute(name, kind, float(v_num or 0)))
    if elements is not None:
        found.append(Attribute(previous, "list", tuple(elements)))  # type: ignore[arg-type]
    return found


def system_rows(metadata: Mapping[str, str], tags: Mapping[str, str]) -> list[AttributeRow]:
    """The rows of an object's user metadata and tags (strings, cut to the index's width)."""
    return [
        AttributeRow(f"{prefix}{name}"[:255], 0, "s", value[:MAX_STRING], None)
        for prefix, values in ((META_PREFIX, metadata), (TAG_PREFIX, tags))
        for name, value in values.items()
    ]


_WORDS = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str) -> list[str]:
    """The words full-text search sees in a key or value (split at punctuation, lower case)."""
    return [w.lower() for w in _WORDS.findall(text)]


def text_body(key: str, values: Iterable[str]) -> str:
    """The full-text document of one object version."""
    parts = [" ".join(words(key))]
    parts += [" ".join(words(v)) for v in values]
    return " ".join(p for p in parts if p)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def bbox_polygon(raw: Any) -> dict[str, Any]:
    """The polygon of a bbox [xmin, ymin, xmax, ymax]; InvalidArgument otherwise."""
    if not (isinstance(raw, list) and len(raw) == 4 and all(_is_number(v) for v in raw)):
        raise errors.InvalidArgument("bbox is a list of four numbers: xmin, ymin, xmax, ymax")
    x0, y0, x1, y1 = (float(v) for v in raw)
    if x0 > x1 or y0 > y1:
        raise errors.InvalidArgument("bbox: xmin > xmax or ymin > ymax")
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def geometry_bbox(geometry: Any) -> tuple[float, float, float, float]:
    """The bounding box of a GeoJSON geometry; InvalidArgument if it has no coordinates."""
    xs: list[float] = []
    ys: list[float] = []

    def walk(coordinates: Any) -> None:
        if (
            isinstance(coordinates, list | tuple)
            and len(coordinates) >= 2
            and all(_is_number(c) for c in coordinates)
        ):
            xs.append(float(coordinates[0]))
            ys.append(float(coordinates[1]))
        elif isinstance(coordinates, list | tuple):
            for item in coordinates:
                walk(item)

    if not isinstance(geometry, dict):
        raise errors.InvalidArgument("a geometry is a GeoJSON object")
    if geometry.get("type") == "GeometryCollection":
        for part in geometry.get("geometries", []):
            x0, y0, x1, y1 = geometry_bbox(part)
            xs += [x0, x1]
            ys += [y0, y1]
    else:
        walk(geometry.get("coordinates"))
    if not xs:
        raise errors.InvalidArgument("the geometry has no coordinates")
    return min(xs), min(ys), max(xs), max(ys)


@dataclass(frozen=True, slots=True)
class Extent:
    """Where and when an object is, from its geometry and temporal attributes."""

    bbox: tuple[float, float, float, float] | None
    geometry: dict[str, Any] | None
    start: int | None  # epoch microseconds
    end: int | None


def extent_of(attributes: Iterable[Attribute]) -> Extent | None:
    """The extent of a set of attributes, None when they place the object nowhere."""
    by_name = {a.name: a for a in attributes}
    geometry = by_name.get("geometry")
    shape = geometry.value if geometry is not None and isinstance(geometry.value, dict) else None
    times = {
        name: to_micros(a.value)
        for name, a in by_name.items()
        if name in TEMPORAL_NAMES and isinstance(a.value, dt.datetime)
    }
    start = times.get("start_datetime", times.get("datetime"))
    end = times.get("end_datetime", times.get("datetime"))
    if shape is None and start is None and end is None:
        return None
    return Extent(geometry_bbox(shape) if shape else None, shape, start, end)
