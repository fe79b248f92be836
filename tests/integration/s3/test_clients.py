"""The clients scientists use, unchanged, against a real server: s3fs + pandas, pyarrow's
own (C++) S3 client, zarr, and rclone."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest
import s3fs

from lading.testing.server import RunningServer


@pytest.fixture
def fs(server: RunningServer) -> s3fs.S3FileSystem:
    return s3fs.S3FileSystem(
        key=server.access_key,
        secret=server.secret_key,
        client_kwargs={"endpoint_url": server.url, "region_name": "us-east-1"},
        skip_instance_cache=True,
    )


def test_s3fs_mkdir_with_region_ls_glob_and_rm(fs: s3fs.S3FileSystem, s3: Any) -> None:
    name = "t-s3fs-" + os.urandom(4).hex()
    fs.mkdir(name)  # sends LocationConstraint=us-east-1, which AWS itself refuses
    for i in range(3):
        fs.pipe(f"{name}/data/0126/{i}.csv", f"a,b\n{i},{i * 2}\n".encode())
    assert sorted(fs.ls(f"{name}/data/0126")) == [f"{name}/data/0126/{i}.csv" for i in range(3)]
    assert len(fs.glob(f"{name}/data/*/*.csv")) == 3
    assert fs.info(f"{name}/data/0126/1.csv")["size"] == len(b"a,b\n1,2\n")
    assert fs.isdir(f"{name}/data")
    fs.rm(name, recursive=True)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_pandas_csv_and_parquet_through_s3fs(server: RunningServer, bucket: str) -> None:
    options = {
        "key": server.access_key,
        "secret": server.secret_key,
        "client_kwargs": {"endpoint_url": server.url, "region_name": "us-east-1"},
    }
    frame = pd.DataFrame(
        {"DATE": pd.date_range("2020-01-01", periods=50, freq="D"), "TEMP": np.arange(50) * 0.5}
    )
    frame.to_csv(f"s3://{bucket}/98755099999_2020.csv", index=False, storage_options=options)
    back = pd.read_csv(
        f"s3://{bucket}/98755099999_2020.csv", parse_dates=["DATE"], storage_options=options
    )
    pd.testing.assert_frame_equal(back, frame)
    frame.to_parquet(f"s3://{bucket}/gdf.parquet", storage_options=options)
    pd.testing.assert_frame_equal(
        pd.read_parquet(f"s3://{bucket}/gdf.parquet", storage_options=options), frame
    )


def test_pyarrow_native_s3_client(server: RunningServer, bucket: str) -> None:
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    parts = urlsplit(server.url)
    s3 = pafs.S3FileSystem(
        access_key=server.access_key,
        secret_key=server.secret_key,
        endpoint_override=f"{parts.hostname}:{parts.port}",
        scheme="http",
        region="us-east-1",
    )
    table = pa.table({"item": list(range(1000)), "value": [float(i) / 3 for i in range(1000)]})
    for year in (2023, 2024):
        pq.write_table(table, f"{bucket}/sensor/year={year}/part-0.parquet", filesystem=s3)
    dataset = ds.dataset(f"{bucket}/sensor", filesystem=s3, format="parquet", partitioning="hive")
    assert dataset.to_table().num_rows == 2000
    selected = dataset.to_table(filter=ds.field("year") == 2024, columns=["value"])
    assert selected.num_rows == 1000


def test_zarr_array_roundtrip(server: RunningServer, bucket: str) -> None:
    import zarr

    options = {
        "key": server.access_key,
        "secret": server.secret_key,
        "client_kwargs": {"endpoint_url": server.url, "region_name": "us-east-1"},
    }
    data = np.arange(100 * 80, dtype="float32").reshape(100, 80)
    group = zarr.open_group(f"s3://{bucket}/climate.zarr", mode="w", storage_options=options)
    array = group.create_array("temperature", shape=data.shape, chunks=(25, 20), dtype="float32")
    array[:] = data
    reopened = zarr.open_group(f"s3://{bucket}/climate.zarr", mode="r", storage_options=options)
    np.testing.assert_array_equal(reopened["temperature"][:], data)
    np.testing.assert_array_equal(reopened["temperature"][10:30, 5:7], data[10:30, 5:7])


RCLONE = shutil.which("rclone")


@pytest.mark.skipif(RCLONE is None, reason="rclone is not installed (Debian package rclone)")
def test_rclone_copy_check_and_sync(server: RunningServer, bucket: str, tmp_path: Path) -> None:
    src = tmp_path / "instrument"
    (src / "run1").mkdir(parents=True)
    for i in range(20):
        (src / "run1" / f"img{i:03d}.tif").write_bytes(os.urandom(1000 + i))
    (src / "big.bin").write_bytes(os.urandom(12 * 1024 * 1024))  # multipart in rclone
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "RCLONE_CONFIG_LADING_TYPE": "s3",
        "RCLONE_CONFIG_LADING_PROVIDER": "Other",
        "RCLONE_CONFIG_LADING_ENDPOINT": server.url,
        "RCLONE_CONFIG_LADING_ACCESS_KEY_ID": server.access_key,
        "RCLONE_CONFIG_LADING_SECRET_ACCESS_KEY": server.secret_key,
        "RCLONE_CONFIG_LADING_REGION": "us-east-1",
        "RCLONE_S3_UPLOAD_CUTOFF": "5M",
        "RCLONE_S3_CHUNK_SIZE": "5M",
    }

    def rclone(*args: str) -> str:
        done = subprocess.run(
            [str(RCLONE), *args], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    rclone("copy", str(src), f"lading:{bucket}/raw")
    rclone("check", str(src), f"lading:{bucket}/raw")
    listed = rclone("lsf", "-R", f"lading:{bucket}/raw")
    assert "big.bin" in listed and "run1/img019.tif" in listed
    (src / "run1" / "img000.tif").unlink()
    rclone("sync", str(src), f"lading:{bucket}/raw")
    assert "run1/img000.tif" not in rclone("lsf", "-R", f"lading:{bucket}/raw")
    back = tmp_path / "back"
    rclone("copy", f"lading:{bucket}/raw", str(back))
    assert (back / "big.bin").read_bytes() == (src / "big.bin").read_bytes()
