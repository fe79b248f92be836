"""CQL2 filters (text or JSON, parsed by pygeofilter) compiled to SQLAlchemy conditions.

The compiler knows the catalog's model, not its tables: `SearchTarget` says which columns
hold the system fields and which tables hold attribute rows and extents. An attribute
condition becomes `object id IN (rows of that attribute that match)`, so the indexes on
(name, value) drive selective queries. A condition on an object that lacks the attribute is
false (CQL2's unknown), so `x <> 1` matches only objects that have an `x`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from lark import Lark, v_args
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parser as cql2_text
from pygeofilter.util import parse_datetime

from lading import errors
from lading.catalog.attributes import geometry_bbox, parse_timestamp, to_micros

MAX_FILTER = 20_000  # characters of one filter
Expr = sa.ColumnElement[bool]


@dataclass(frozen=True, slots=True)
class SearchTarget:
    """Where the compiled conditions point."""

    object_id: sa.ColumnElement[int]
    system: dict[str, sa.ColumnElement[Any]]  # "size" -> objects.size, ...
    time_fields: frozenset[str]  # system fields held as epoch microseconds
    attributes: sa.Table  # object_id, name, position, type, v_str, v_num
    extents: sa.Table  # object_id, xmin, ymin, xmax, ymax, start, end
    dialect: str  # "sqlite" or "postgresql"


@v_args(meta=False, inline=True)
class _Transformer(cql2_text.CQLTransformer):  # type: ignore[misc]
    """pygeofilter's CQL2 text transformer, reading timestamps with the standard library.

    pygeofilter reads every TIMESTAMP through dateparser, about 10 ms each: most of a
    selective search. The grammar's timestamps are ISO 8601, which `fromisoformat` reads to
    the same instant; anything it refuses still goes to pygeofilter.
    """

    def DATETIME(self, token: str) -> dt.datetime:  # noqa: N802 (the grammar's terminal)
        try:
            return dt.datetime.fromisoformat(str(token))
        except ValueError:
            parsed: dt.datetime = parse_datetime(str(token))
            return parsed


@functools.cache
def text_parser() -> Lark:
    """pygeofilter's CQL2 text grammar with the faster transformer (built once)."""
    here = os.path.dirname(cql2_text.__file__)
    return Lark.open(
        "grammar.lark",
        rel_to=cql2_text.__file__,
        parser="lalr",
        maybe_placeholders=False,
        transformer=_Transformer(),
        import_paths=[os.path.dirname(here)],
    )


def parse_cql2_text(text: str) -> ast.Node:
    node: ast.Node = text_parser().parse(text)
    return node


def parse_filter(text: str | dict[str, Any], lang: str = "cql2-text") -> ast.Node:
    """The AST of a CQL2 filter; InvalidArgument with the parser's reason when malformed."""
    if isinstance(text, str) and len(text) > MAX_FILTER:
        raise errors.InvalidArgument(f"the filter is longer than {MAX_FILTER} characters")
    try:
        if lang == "cql2-json":
            document = json.loads(text) if isinstance(text, str) else text
            return parse_cql2_json(document)
        if lang != "cql2-text":
            raise errors.InvalidArgument(f"filter-lang {lang!r}: use cql2-text or cql2-json")
        if not isinstance(text, str):
            raise errors.InvalidArgument("a cql2-text filter is a string")
        return parse_cql2_text(text)
    except errors.LadingError:
        raise
    except Exception as exc:  # lark and pygeofilter raise many kinds: all mean "malformed"
        reason = " ".join(str(exc).split())[:300]
        raise errors.InvalidArgument(f"invalid CQL2 filter: {reason}") from None


def compile_filter(node: ast.Node, target: SearchTarget, *, correlated: bool = False) -> Expr:
    """A condition on the objects table for a parsed CQL2 filter.

    `correlated` conditions test each candidate row (another condition drives the query).
    """
    compiler = _Compiler(target)
    compiler.correlated = correlated
    return compiler.visit(node)


def filter_rank(node: Any) -> int:
    """How selective a filter looks before it runs: 0 (an equality) to 9 (a scan)."""
    if isinstance(node, ast.And):
        return min(filter_rank(node.lhs), filter_rank(node.rhs))
    return _rank(node)


def _micros(value: Any) -> int:
    if isinstance(value, dt.datetime):
        return to_micros(value)
    if isinstance(value, dt.date):
        return to_micros(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC))
    if isinstance(value, str):
        return to_micros(parse_timestamp(value))
    raise errors.InvalidArgument(f"{value!r} is not a time")


_OPS: dict[type[ast.Node], Callable[[Any, Any], Any]] = {
    ast.Equal: lambda a, b: a == b,
    ast.NotEqual: lambda a, b: a != b,
    ast.LessThan: lambda a, b: a < b,
    ast.LessEqual: lambda a, b: a <= b,
    ast.GreaterThan: lambda a, b: a > b,
    ast.GreaterEqual: lambda a, b: a >= b,
}
_FLIPPED: dict[type[ast.Node], type[ast.Node]] = {
    ast.Equal: ast.Equal,
    ast.NotEqual: ast.NotEqual,
    ast.LessThan: ast.GreaterThan,
    ast.LessEqual: ast.GreaterEqual,
    ast.GreaterThan: ast.LessThan,
    ast.GreaterEqual: ast.LessEqual,
}


def _is_time(value: Any) -> bool:
    return isinstance(value, dt.date)  # datetime is a date too


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bbox(value: Any) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of a geometry or envelope literal."""
    if isinstance(value, values.Envelope):
        return (
            min(value.x1, value.x2),
            min(value.y1, value.y2),
            max(value.x1, value.x2),
            max(value.y1, value.y2),
        )
    if isinstance(value, values.Geometry):
        return geometry_bbox(value.geometry)
    raise errors.InvalidArgument(f"{value!r} is not a geometry")


def _rank(node: Any) -> int:
    """How well a condition drives a query through the indexes (lower is better)."""
    if isinstance(node, ast.Equal):
        return 0
    if isinstance(node, ast.In) and not node.not_:
        return 1
    if isinstance(node, ast.Between) and not node.not_:
        return 2
    if isinstance(node, ast.Like) and not node.not_:
        return 3
    if isinstance(node, ast.Comparison | ast.TemporalPredicate | ast.BBox):
        return 4
    if isinstance(node, ast.SpatialComparisonPredicate):
        return 4
    if isinstance(node, ast.Or):
        return max(_rank(node.lhs), _rank(node.rhs)) + 1
    return 9


class _Compiler:
    def __init__(self, target: SearchTarget) -> None:
        self.t = target
        # inside an AND, the conditions other than the one that drives the query test each
        # candidate by primary key (EXISTS) instead of listing every matching id (IN)
        self.correlated = False

    def visit(self, node: Any) -> Expr:
        if isinstance(node, ast.And):
            return self.conjunction(node)
        if isinstance(node, ast.Or):
            return sa.or_(self.visit(node.lhs), self.visit(node.rhs))
        if isinstance(node, ast.Not):
            return sa.not_(self.visit(node.sub_node))
        if isinstance(node, ast.Include):
            return sa.false() if node.not_ else sa.true()
        if isinstance(node, bool):
            return sa.true() if node else sa.false()
        if isinstance(node, ast.Comparison):
            return self.comparison(node)
        if isinstance(node, ast.Between):
            return self.between(node)
        if isinstance(node, ast.Like):
            return self.like(node)
        if isinstance(node, ast.In):
            return self.in_(node)
        if isinstance(node, ast.IsNull):
            return self.is_null(node)
        if isinstance(node, ast.TemporalPredicate):
            return self.temporal(node)
        if isinstance(node, ast.SpatialComparisonPredicate | ast.BBox):
            return self.spatial(node)
        raise errors.InvalidArgument(f"CQL2 filter: {type(node).__name__} is not supported")

    def conjunction(self, node: ast.And) -> Expr:
        """AND, with the bounds of one attribute (`d >= a AND d < b`) in one index range."""
        parts: list[Any] = []
        pending = [node]
        while pending:
            item = pending.pop()
            if isinstance(item, ast.And):
                pending += [item.rhs, item.lhs]
            else:
                parts.append(item)
        bounds: dict[tuple[str, str], list[tuple[Callable[[Any, Any], Any], float]]] = {}
        others: list[Any] = []
        for part in parts:
            bound = self._bound(part)
            if bound is None:
                others.append(part)
            else:
                name, code, op, value = bound
                bounds.setdefault((name, code), []).append((op, value))
        # candidates: (rank, compile) pairs; the best one lists ids, the rest test each row
        candidates: list[tuple[int, Callable[[], Expr]]] = []
        a = self.t.attributes.c
        for (name, code), tests in bounds.items():

            def ranged(name: str = name, code: str = code, tests: Any = tests) -> Expr:
                return self._rows(name, a.type == code, *[op(a.v_num, v) for op, v in tests])

            candidates.append((2 if len(tests) > 1 else 4, ranged))
        for part in others:
            candidates.append((_rank(part), functools.partial(self.visit, part)))
        candidates.sort(key=lambda c: c[0])
        outer = self.correlated
        compiled: list[Expr] = []
        for index, (_rank_value, make) in enumerate(candidates):
            self.correlated = outer or index > 0
            compiled.append(make())
        self.correlated = outer
        return sa.and_(*compiled)

    def _bound(self, node: Any) -> tuple[str, str, Callable[[Any, Any], Any], float] | None:
        """(name, type code, op, value) of a range bound on a numeric or time attribute."""
        if not isinstance(node, ast.Comparison) or isinstance(node, ast.Equal | ast.NotEqual):
            return None
        kind: type[ast.Node] = type(node)
        lhs, rhs = node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
            lhs, rhs, kind = rhs, lhs, _FLIPPED[kind]
        if not isinstance(lhs, ast.Attribute) or lhs.name in self.t.system:
            return None
        if _is_number(rhs):
            return str(lhs.name), "n", _OPS[kind], float(rhs)
        if _is_time(rhs):
            return str(lhs.name), "t", _OPS[kind], float(_micros(rhs))
        return None

    # --- attributes and values -----------------------------------------------------------------

    @staticmethod
    def _name(node: Any) -> str:
        if not isinstance(node, ast.Attribute):
            raise errors.InvalidArgument(
                f"CQL2 filter: expected a property name, found {node!r}; comparisons are "
                "between a property and a literal"
            )
        return str(node.name)

    def _rows(self, name: str, *conditions: Expr) -> Expr:
        a = self.t.attributes.c
        if self.correlated:
            return sa.exists().where(a.object_id == self.t.object_id, a.name == name, *conditions)
        rows = sa.select(a.object_id).where(a.name == name, *conditions)
        return self.t.object_id.in_(rows)

    def _attribute_test(self, name: str, literal: Any, op: Callable[[Any, Any], Any]) -> Expr:
        """Rows of `name` whose value of the literal's type satisfies op(value, literal)."""
        a = self.t.attributes.c
        if isinstance(literal, bool):
            return self._rows(name, a.type == "b", op(a.v_num, 1.0 if literal else 0.0))
        if _is_number(literal):
            return self._rows(name, a.type == "n", op(a.v_num, float(literal)))
        if _is_time(literal):
            return self._rows(name, a.type == "t", op(a.v_num, float(_micros(literal))))
        if isinstance(literal, str):
            return self._rows(name, a.v_str.is_not(None), op(a.v_str, literal))
        raise errors.InvalidArgument(f"CQL2 filter: cannot compare {name} with {literal!r}")

    def _system_test(self, name: str, literal: Any, op: Callable[[Any, Any], Any]) -> Expr:
        column = self.t.system[name]
        if name in self.t.time_fields:
            return sa.and_(op(column, _micros(literal)))
        if isinstance(literal, bool | dt.date):
            raise errors.InvalidArgument(f"CQL2 filter: {name} cannot be compared with {literal}")
        return sa.and_(op(column, literal))

    def test(self, name: str, literal: Any, op: Callable[[Any, Any], Any]) -> Expr:
        if isinstance(literal, ast.Node | values.Geometry | values.Envelope | values.Interval):
            raise errors.InvalidArgument(f"CQL2 filter: cannot compare {name} with {literal}")
        if name in self.t.system:
            return self._system_test(name, literal, op)
        return self._attribute_test(name, literal, op)

    # --- predicates ----------------------------------------------------------------------------

    def comparison(self, node: ast.Comparison) -> Expr:
        kind: type[ast.Node] = type(node)
        lhs, rhs = node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
            lhs, rhs, kind = rhs, lhs, _FLIPPED[kind]
        return self.test(self._name(lhs), rhs, _OPS[kind])

    def between(self, node: ast.Between) -> Expr:
        name = self._name(node.lhs)
        low, high = node.low, node.high
        if _is_time(low) != _is_time(high) or _is_number(low) != _is_number(high):
            raise errors.InvalidArgument(f"CQL2 filter: {name} BETWEEN mixes kinds of value")
        if _is_time(low):
            low, high = _micros(low), _micros(high)
            if name in self.t.system:
                found = sa.and_(self.t.system[name].between(low, high))
            else:
                a = self.t.attributes.c
                found = self._rows(name, a.type == "t", a.v_num.between(low, high))
        else:
            found = self.test(name, low, lambda column, value: column.between(value, high))
        return sa.not_(found) if node.not_ else found

    def like(self, node: ast.Like) -> Expr:
        name = self._name(node.lhs)
        pattern = node.pattern
        if not isinstance(pattern, str):
            raise errors.InvalidArgument("CQL2 filter: LIKE takes a string pattern")
        if name in self.t.time_fields:
            raise errors.InvalidArgument(f"CQL2 filter: {name} is a time; LIKE needs a string")
        escape = node.escapechar or "\\"
        pattern = _translate_like(pattern, node.wildcard, node.singlechar)

        def matches(column: Any) -> Any:
            if self.t.dialect == "sqlite":  # GLOB: case-sensitive, as LIKE is on PostgreSQL
                return column.op("GLOB")(_like_to_glob(pattern, escape))
            return column.like(pattern, escape=escape)

        if name in self.t.system:
            found: Expr = sa.and_(matches(self.t.system[name]))
        else:
            a = self.t.attributes.c
            found = self._rows(name, a.v_str.is_not(None), matches(a.v_str))
        return sa.not_(found) if node.not_ else found

    def in_(self, node: ast.In) -> Expr:
        name = self._name(node.lhs)
        options = list(node.sub_nodes)
        if not options:
            return sa.false()
        found = sa.or_(*[self.test(name, option, lambda a, b: a == b) for option in options])
        if name not in self.t.system and all(isinstance(o, str) for o in options):
            a = self.t.attributes.c
            found = self._rows(name, a.v_str.in_(options))  # one index probe per option
        return sa.not_(found) if node.not_ else found

    def is_null(self, node: ast.IsNull) -> Expr:
        name = self._name(node.lhs)
        if name in self.t.system:
            present: Expr = sa.true()
        else:
            present = self._rows(name)
        return present if node.not_ else sa.not_(present)

    def temporal(self, node: ast.TemporalPredicate) -> Expr:
        name = self._name(node.lhs)
        other = node.rhs
        if isinstance(other, values.Interval):
            start = _micros(other.start) if other.start is not None else None
            end = _micros(other.end) if other.end is not None else None
        elif _is_time(other):
            start = end = _micros(other)
        else:
            raise errors.InvalidArgument(f"CQL2 filter: {other!r} is not a time or an interval")

        def within(value: Any, low: int | None, high: int | None, strict: bool) -> Any:
            parts = []
            if low is not None:
                parts.append(value > low if strict else value >= low)
            if high is not None:
                parts.append(value < high if strict else value <= high)
            return sa.and_(*parts) if parts else sa.true()

        if isinstance(node, ast.TimeAfter):
            bound = end if end is not None else start
            return self._time(name, lambda v: v > bound)
        if isinstance(node, ast.TimeBefore):
            bound = start if start is not None else end
            return self._time(name, lambda v: v < bound)
        if isinstance(node, ast.TimeDuring):
            return self._time(name, lambda v: within(v, start, end, True))
        if isinstance(node, ast.TimeEquals):
            return self._time(name, lambda v: v == start)
        if isinstance(node, ast.TimeDisjoint):
            return sa.not_(self._time(name, lambda v: within(v, start, end, False)))
        raise errors.InvalidArgument(f"CQL2 filter: {type(node).__name__} is not supported")

    def _time(self, name: str, condition: Callable[[Any], Any]) -> Expr:
        if name in self.t.system:
            if name not in self.t.time_fields:
                raise errors.InvalidArgument(f"CQL2 filter: {name} is not a time")
            return sa.and_(condition(self.t.system[name]))
        a = self.t.attributes.c
        return self._rows(name, a.type == "t", condition(a.v_num))

    def spatial(self, node: Any) -> Expr:
        name = self._name(node.lhs)
        if name not in ("geometry", "bbox"):
            raise errors.InvalidArgument(
                f"CQL2 filter: spatial predicates apply to 'geometry', not {name!r}"
            )
        if isinstance(node, ast.BBox):
            box = (node.minx, node.miny, node.maxx, node.maxy)
            kind = "intersects"
        else:
            box = _bbox(node.rhs)
            kind = {
                ast.GeometryIntersects: "intersects",
                ast.GeometryWithin: "within",
                ast.GeometryDisjoint: "disjoint",
                ast.GeometryContains: "contains",
            }.get(type(node), "")
            if not kind:
                raise errors.InvalidArgument(
                    f"CQL2 filter: {type(node).__name__} is not supported (use S_INTERSECTS, "
                    "S_WITHIN, S_CONTAINS, S_DISJOINT or BBOX)"
                )
        return self.t.object_id.in_(extent_query(self.t.extents, box, kind))


def extent_query(
    extents: sa.Table, box: Sequence[float], kind: str = "intersects"
) -> sa.Select[Any]:
    """Object ids whose bounding box relates to `box` (xmin, ymin, xmax, ymax) so."""
    e = extents.c
    xmin, ymin, xmax, ymax = box
    intersects = sa.and_(e.west <= xmax, e.east >= xmin, e.south <= ymax, e.north >= ymin)
    conditions: dict[str, Any] = {
        "intersects": intersects,
        "disjoint": sa.and_(e.west.is_not(None), sa.not_(intersects)),
        "within": sa.and_(e.west >= xmin, e.east <= xmax, e.south >= ymin, e.north <= ymax),
        "contains": sa.and_(e.west <= xmin, e.east >= xmax, e.south <= ymin, e.north >= ymax),
    }
    return sa.select(e.object_id).where(conditions[kind])


def _translate_like(pattern: str, wildcard: str, single: str) -> str:
    out = []
    for ch in pattern:
        if ch == wildcard:
            out.append("%")
        elif ch == single:
            out.append("_")
        else:
            out.append(ch)
    return "".join(out)


def _like_to_glob(pattern: str, escape: str) -> str:
    """A case-sensitive SQLite GLOB pattern for a SQL LIKE pattern."""
    out: list[str] = []
    chars = iter(pattern)
    for ch in chars:
        if ch == escape:
            literal = next(chars, "")
            out.append(f"[{literal}]" if literal in "*?[" else literal)
        elif ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)
