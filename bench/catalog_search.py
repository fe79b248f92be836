#!/usr/bin/env python3
"""Catalog search latency over a large index: selective equality, range and full text.

    python bench/catalog_search.py --objects 1000000 --url sqlite:////tmp/cat/metadata.db
    python bench/catalog_search.py --objects 1000000 \
        --url postgresql+psycopg://postgres@127.0.0.1:5432/lading_bench

Fills a fresh database with N objects of three attributes each (experiment_id, date,
comment), written in large transactions with exactly the rows the change hook writes for a
PUT and the catalog service writes for attributes; then times CatalogService.search (the
call the API makes, authorization included) and prints p50/p99 per query kind, of wall time
and of the process's CPU time (all threads: less noisy than wall time on a shared machine);
on a local PostgreSQL also the database backends' CPU time per query (mean, from /proc).
`--reuse` skips the fill when the database already holds the objects.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from lading.catalog.attributes import text_body, to_micros  # noqa: E402
from lading.iam.principals import Principal  # noqa: E402
from lading.metadata import schema as t  # noqa: E402
from lading.metadata.catalog import CatalogQueries, index_change  # noqa: E402
from lading.metadata.migrate import upgrade  # noqa: E402
from lading.metadata.store import MetadataStore, create_engine, now_us  # noqa: E402
from lading.services.buckets import BucketService  # noqa: E402
from lading.services.catalog import CatalogService, SearchRequest  # noqa: E402
from lading.storage.memory import MemoryBlobStore  # noqa: E402

EXPERIMENTS = 100_000  # ~10 objects each at 1M
WORDS = [f"w{i:04d}" for i in range(5000)]  # each word in ~1,000 comments at 1M
START = dt.datetime(2016, 1, 1, tzinfo=dt.UTC)
SPAN_SECONDS = 365 * 86400
BATCH = 20_000


def fill(store: MetadataStore, objects: int, rng: random.Random) -> None:
    """Insert the objects with their hook rows and attribute rows, BATCH per transaction.

    Rows go in through the driver (executemany on SQLite, COPY on PostgreSQL): building
    them through SQLAlchemy would take longer than the measurement itself.
    """
    owner = store.create_user("bench")
    bucket = store.create_bucket("bench-catalog", owner, "us-east-1")
    postgres = store.engine.dialect.name == "postgresql"
    started = time.perf_counter()
    modified = now_us()
    start_us = to_micros(START)
    for first in range(0, objects, BATCH):
        count = min(BATCH, objects - first)
        object_rows, attribute_rows, text_rows = [], [], []
        with store.engine.begin() as conn:
            next_id = (conn.execute(sa.select(sa.func.max(t.objects.c.id))).scalar() or 0) + 1
            for i in range(first, first + count):
                object_id = next_id + i - first
                key = f"runs/{i // 1000:04d}/sample-{i:07d}.dat"
                object_rows.append((object_id, bucket.id, key, rng.randrange(1, 10_000_000)))
                comment = " ".join(rng.choices(WORDS, k=5))
                date = float(start_us + rng.randrange(SPAN_SECONDS) * 1_000_000)
                experiment = f"exp-{rng.randrange(EXPERIMENTS)}"
                attribute_rows += [
                    (object_id, "experiment_id", 0, "s", experiment, None),
                    (object_id, "date", 0, "t", None, date),
                    (object_id, "comment", 0, "s", comment, None),
                ]
                text_rows.append((object_id, text_body(key, [comment, experiment])))
            raw: Any = conn.connection.driver_connection
            if postgres:
                with raw.cursor() as cursor:
                    with cursor.copy(
                        "COPY objects (id, bucket_id, key, size, version_id, is_latest, "
                        "is_delete_marker, etag, last_modified, content_type, segments, meta, "
                        "headers, checksums, storage_class, owner_id) FROM STDIN"
                    ) as copy:
                        for object_id, bucket_id, key, size in object_rows:
                            copy.write_row(
                                (
                                    object_id,
                                    bucket_id,
                                    key,
                                    size,
                                    "null",
                                    True,
                                    False,
                                    '"0"',
                                    modified,
                                    "application/octet-stream",
                                    "[]",
                                    "{}",
                                    "{}",
                                    "{}",
                                    "STANDARD",
                                    owner.id,
                                )
                            )
                    with cursor.copy(
                        "COPY catalog_attributes (object_id, name, position, type, v_str, v_num) "
                        "FROM STDIN"
                    ) as copy:
                        for row in attribute_rows:
                            copy.write_row(row)
                    with cursor.copy("COPY catalog_text (object_id, body) FROM STDIN") as copy:
                        for row in text_rows:
                            copy.write_row(row)
            else:
                cursor = raw.cursor()
                cursor.executemany(
                    "INSERT INTO objects (id, bucket_id, key, size, version_id, is_latest, "
                    "is_delete_marker, etag, last_modified, content_type, segments, meta, "
                    "headers, checksums, storage_class, owner_id) VALUES (?, ?, ?, ?, 'null', "
                    "1, 0, '\"0\"', ?, 'application/octet-stream', '[]', '{}', '{}', '{}', "
                    "'STANDARD', ?)",
                    [(*row, modified, owner.id) for row in object_rows],
                )
                cursor.executemany(
                    "INSERT INTO catalog_attributes (object_id, name, position, type, v_str, "
                    "v_num) VALUES (?, ?, ?, ?, ?, ?)",
                    attribute_rows,
                )
                cursor.executemany(
                    "INSERT INTO catalog_text (object_id, body) VALUES (?, ?)", text_rows
                )
        done = first + count
        rate = done / (time.perf_counter() - started)
        print(f"\r  filled {done:,} objects ({rate:,.0f}/s)", end="", file=sys.stderr)
    print(file=sys.stderr)
    with store.engine.begin() as conn:
        if postgres:  # COPY wrote explicit ids: move the sequence past them
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('objects', 'id'), max(id)) FROM objects"
            )
        if not postgres:
            conn.exec_driver_sql("ANALYZE")
    if postgres:
        vacuum(store.engine)


def vacuum(engine: sa.Engine) -> None:
    """VACUUM ANALYZE, as autovacuum does after a burst of inserts: until then the visibility
    map is empty and every index-only scan still reads each row's heap page."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def backend_cpu(engine: sa.Engine) -> float | None:
    """CPU seconds so far of the PostgreSQL backends serving this database (None: not local)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        pids = conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        ).scalars()
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


async def measure(
    catalog: CatalogService, principal: Principal, requests: list[SearchRequest]
) -> tuple[list[float], list[float], list[int]]:
    timings, cpu, counts = [], [], []
    await catalog.search(principal, requests[0])  # warm caches and statement compilation
    for request in requests:
        started, cpu_started = time.perf_counter(), time.process_time()
        result = await catalog.search(principal, request)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        counts.append(len(result.entries))
    return timings, cpu, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument(
        "--vacuum", action="store_true", help="with --reuse on PostgreSQL: VACUUM ANALYZE first"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument("--fill-only", action="store_true", help="fill, do not measure")
    parser.add_argument("--limit", type=int, default=100, help="page size (default 100)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    engine = create_engine(args.url)
    upgrade(engine)
    store = MetadataStore(engine, hooks=(index_change,))
    with engine.connect() as conn:
        present = conn.execute(sa.select(sa.func.count()).select_from(t.objects)).scalar()
    if not (args.reuse and present):
        print(f"filling {args.objects:,} objects into {engine.dialect.name}", file=sys.stderr)
        fill(store, args.objects, rng)
    elif args.vacuum and engine.dialect.name == "postgresql":
        vacuum(engine)
    if args.fill_only:
        engine.dispose()
        return
    owner = store.get_user("bench")
    queries = CatalogQueries(store)
    catalog = CatalogService(store, queries, BucketService(store, MemoryBlobStore(), "x", 60))
    principal = Principal(owner)

    def dates() -> str:
        start = START + dt.timedelta(seconds=rng.randrange(SPAN_SECONDS - 3600))
        end = start + dt.timedelta(hours=1)
        iso = "%Y-%m-%dT%H:%M:%SZ"
        return f"date >= TIMESTAMP('{start:{iso}}') AND date < TIMESTAMP('{end:{iso}}')"

    kinds: dict[str, Any] = {
        "equality": lambda: SearchRequest(
            filter=f"experiment_id = 'exp-{rng.randrange(EXPERIMENTS)}'"
        ),
        "range (1 hour of dates)": lambda: SearchRequest(filter=dates()),
        "equality AND range": lambda: SearchRequest(
            filter=f"experiment_id = 'exp-{rng.randrange(EXPERIMENTS)}' AND "
            f"date >= TIMESTAMP('2016-03-01T00:00:00Z')"
        ),
        "full text (1 word)": lambda: SearchRequest(q=rng.choice(WORDS)),
        "full text (2 words)": lambda: SearchRequest(q=f"{rng.choice(WORDS)} {rng.choice(WORDS)}"),
    }
    results = {}
    for name, make in kinds.items():
        requests = [dataclasses.replace(make(), limit=args.limit) for _ in range(args.queries)]
        backend_before = backend_cpu(engine)
        timings, cpu, counts = asyncio.run(measure(catalog, principal, requests))
        backend_after = backend_cpu(engine)
        found = results[name] = {
            "p50_ms": round(statistics.median(timings), 2),
            "p99_ms": round(percentile(timings, 0.99), 2),
            "cpu_p50_ms": round(statistics.median(cpu), 2),
            "cpu_p99_ms": round(percentile(cpu, 0.99), 2),
            "mean_results": round(sum(counts) / len(counts), 1),
        }
        backend = ""
        if backend_before is not None and backend_after is not None:
            per_query = (backend_after - backend_before) * 1000 / (len(requests) + 1)
            found["db_cpu_mean_ms"] = round(per_query, 2)
            backend = f"   db cpu mean {per_query:6.2f} ms"
        print(
            f"{name:28} p50 {found['p50_ms']:7.2f} ms   p99 {found['p99_ms']:7.2f} ms   "
            f"cpu p50 {found['cpu_p50_ms']:6.2f} ms   cpu p99 {found['cpu_p99_ms']:6.2f} ms   "
            f"results/page {found['mean_results']}{backend}"
        )
    if args.explain:
        from lading.catalog.query import parse_filter

        node = parse_filter(f"experiment_id = 'exp-1' AND {dates()}")
        bucket = store.get_bucket("bench-catalog")
        query = queries._base([bucket.id]).where(
            *queries._conditions([bucket.id], node, "w0001", None, None)
        )
        with engine.connect() as conn:
            compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
            prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
            for row in conn.exec_driver_sql(prefix + str(compiled)):
                print(row)
    print(
        json.dumps(
            {"dialect": engine.dialect.name, "objects": present or args.objects, "results": results}
        )
    )
    engine.dispose()


if __name__ == "__main__":
    main()
