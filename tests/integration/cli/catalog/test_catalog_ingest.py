"""The seeds' sample-collection workflow with the real server and the real `lading` CLI:
ingest a CSV of samples and their files, find experiment1's URLs, download them, export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pandas as pd
import pytest

from lading.client._sigv4 import SigV4
from lading.testing.server import RunningServer

SAMPLES = [
    ("1", "experiment1", "2016-06-06", "sample1.bin", "first run"),
    ("2", "experiment1", "2016-06-07", "sample2.bin", "second run, calibrated"),
    ("3", "experiment2", "2016-06-08", "sample3.bin", "other experiment"),
    ("4", "experiment2", "2016-05-01", "sample4.bin", "older"),
]


def lading(
    server: RunningServer, home: Path, *args: str, user: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "LADING_ENDPOINT": server.url,
        "AWS_ACCESS_KEY_ID": user["access_key"] if user else server.access_key,
        "AWS_SECRET_ACCESS_KEY": user["secret_key"] if user else server.secret_key,
    }
    return subprocess.run(
        [sys.executable, "-m", "lading", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture
def samples(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    files = tmp_path / "datafiles"
    files.mkdir()
    contents = {}
    for _item, _experiment, _date, name, _comment in SAMPLES:
        contents[name] = os.urandom(1000 + len(contents) * 7)
        (files / name).write_bytes(contents[name])
    table = tmp_path / "experiments.csv"
    lines = ["item id,experiment id,date,filename,comment"]
    lines += [",".join(f'"{v}"' if "," in v else v for v in row) for row in SAMPLES]
    lines.append("5,experiment1,2016-06-09,ghost.bin,never uploaded")
    table.write_text("\n".join(lines) + "\n")
    return table, files, contents


def search_urls(server: RunningServer, home: Path, bucket: str, text: str, **kw: Any) -> list[str]:
    done = lading(
        server,
        home,
        "catalog",
        "search",
        text,
        "--bucket",
        bucket,
        "--fields",
        "url",
        "--json",
        **kw,
    )
    assert done.returncode == 0, done.stderr
    return sorted(item["url"] for item in json.loads(done.stdout))


def test_seed_workflow_ingest_query_download_export(
    server: RunningServer,
    bucket: str,
    samples: tuple[Path, Path, dict[str, bytes]],
    tmp_path: Path,
    alt_user: dict[str, str],
) -> None:
    table, files, contents = samples
    home = tmp_path / "home"
    home.mkdir()
    done = lading(
        server,
        home,
        "catalog",
        "ingest",
        str(table),
        "--files",
        str(files),
        "--bucket",
        bucket,
        "--file-column",
        "filename",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert sorted(report["uploaded"]) == sorted(contents)
    assert report["missing"] == [{"file": "ghost.bin", "line": 6}]
    assert report["failed"] == [] and report["skipped"] == []

    urls = search_urls(server, home, bucket, "experiment_id = 'experiment1'")
    assert urls == [f"{server.url}/{bucket}/sample1.bin", f"{server.url}/{bucket}/sample2.bin"]
    # the URLs download the right bytes with the caller's credentials
    with httpx.Client(auth=SigV4(server.access_key, server.secret_key, "us-east-1")) as http:
        for url in urls:
            response = http.get(url)
            assert response.status_code == 200
            assert response.content == contents[url.rsplit("/", 1)[1]]
    # typed columns: dates are timestamps, item ids numbers
    assert search_urls(
        server,
        home,
        bucket,
        "experiment_id = 'experiment1' AND date >= TIMESTAMP('2016-06-07T00:00:00Z') "
        "AND item_id = 2",
    ) == [f"{server.url}/{bucket}/sample2.bin"]
    assert search_urls(server, home, bucket, "comment LIKE '%calibrated'") == [
        f"{server.url}/{bucket}/sample2.bin"
    ]
    # another user sees none of it
    other = lading(
        server, home, "catalog", "search", "experiment_id = 'experiment1'", "--json", user=alt_user
    )
    assert other.returncode == 0, other.stderr
    assert json.loads(other.stdout) == []

    # a re-run uploads nothing again
    again = lading(
        server,
        home,
        "catalog",
        "ingest",
        str(table),
        "--files",
        str(files),
        "--bucket",
        bucket,
        "--json",
    )
    assert again.returncode == 0, again.stderr
    rerun = json.loads(again.stdout)
    assert rerun["uploaded"] == [] and sorted(rerun["skipped"]) == sorted(contents)

    # the export reads back in DuckDB and pandas
    parquet = tmp_path / "catalog.parquet"
    done = lading(
        server,
        home,
        "catalog",
        "export",
        "--bucket",
        bucket,
        "--format",
        "parquet",
        "-o",
        str(parquet),
    )
    assert done.returncode == 0, done.stderr
    rows = duckdb.sql(
        f"SELECT key, experiment_id, item_id, date FROM read_parquet('{parquet}') "
        "WHERE experiment_id = 'experiment1' ORDER BY key"
    ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("sample1.bin", "experiment1", 1),
        ("sample2.bin", "experiment1", 2),
    ]
    assert str(rows[0][3]).startswith("2016-06-06")
    frame = pd.read_parquet(parquet)
    assert len(frame) == 4
    assert set(frame["url"]) == {f"{server.url}/{bucket}/{name}" for name in contents}
    for fmt in ("csv", "jsonl"):
        out = tmp_path / f"catalog.{fmt}"
        done = lading(
            server, home, "catalog", "export", "--bucket", bucket, "--format", fmt, "-o", str(out)
        )
        assert done.returncode == 0, done.stderr
        loaded = pd.read_csv(out) if fmt == "csv" else pd.read_json(out, lines=True)
        assert sorted(loaded["key"]) == sorted(contents)


def test_ingest_without_header_and_with_sidecars(
    server: RunningServer,
    bucket: str,
    samples: tuple[Path, Path, dict[str, bytes]],
    tmp_path: Path,
) -> None:
    table, files, _contents = samples
    headless = tmp_path / "headless.csv"
    headless.write_text("\n".join(table.read_text().splitlines()[1:3]) + "\n")
    (files / "sample1.bin.json").write_text(json.dumps({"instrument": "xray", "gain": 3}))
    home = tmp_path / "home"
    home.mkdir()
    done = lading(
        server,
        home,
        "catalog",
        "ingest",
        str(headless),
        "--files",
        str(files),
        "--bucket",
        bucket,
        "--columns",
        "item_id,experiment_id,date,filename,comment",
        "--sidecar",
        "{name}.json",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    assert sorted(json.loads(done.stdout)["uploaded"]) == ["sample1.bin", "sample2.bin"]
    got = lading(server, home, "catalog", "get", f"s3://{bucket}/sample1.bin", "--json")
    entry = json.loads(got.stdout)
    assert entry["attributes"]["instrument"] == "xray"
    assert entry["attributes"]["gain"] == 3
    assert entry["attribute_types"]["date"] == "timestamp"


def test_ingest_refuses_a_table_without_the_file_column(
    server: RunningServer,
    bucket: str,
    samples: tuple[Path, Path, dict[str, bytes]],
    tmp_path: Path,
) -> None:
    table, files, _ = samples
    done = lading(
        server,
        tmp_path,
        "catalog",
        "ingest",
        str(table),
        "--files",
        str(files),
        "--bucket",
        bucket,
        "--file-column",
        "path",
    )
    assert done.returncode == 2
    assert "no column 'path'" in done.stderr
    listed = lading(server, tmp_path, "catalog", "search", "--bucket", bucket, "--json")
    assert json.loads(listed.stdout) == []


def test_set_and_get_from_the_command_line(
    server: RunningServer, bucket: str, s3: Any, tmp_path: Path
) -> None:
    s3.put_object(Bucket=bucket, Key="k.bin", Body=b"x")
    done = lading(
        server,
        tmp_path,
        "catalog",
        "set",
        f"s3://{bucket}/k.bin",
        "experiment_id=exp1",
        "date=2016-06-06",
        "run=7",
        "ok=true",
        'keywords:=["a","b"]',
        "--json",
    )
    assert done.returncode == 0, done.stderr
    entry = json.loads(done.stdout)
    assert entry["attributes"] == {
        "experiment_id": "exp1",
        "date": "2016-06-06T00:00:00Z",
        "run": 7,
        "ok": True,
        "keywords": ["a", "b"],
    }
    bad = lading(server, tmp_path, "catalog", "set", f"s3://{bucket}/k.bin", "size=3")
    assert bad.returncode == 1
    assert "system field" in bad.stderr
    missing = lading(server, tmp_path, "catalog", "set", f"s3://{bucket}/nope", "a=1")
    assert missing.returncode == 1 and "NoSuchKey" in missing.stderr
