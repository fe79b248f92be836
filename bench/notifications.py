"""What bucket notifications cost a small PUT: wrk PUTs into three buckets of one server.

    .venv/bin/python bench/notifications.py [--duration 10] [--conns 1 16] [--size 4096]

The buckets differ only in their notification configuration:

  none       no configuration (the hook is one dictionary lookup)
  unmatched  a configuration whose prefix filter matches no key (rules are matched)
  matched    every PUT matches: its event row is written in the PUT's transaction

The server runs with events.delivery = false, so the numbers are the write path's alone
(delivery runs in the background and is measured by nothing here). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from s3bench import presigned_paths, wrk_phase  # noqa: E402

from lading.testing.server import run_server  # noqa: E402

MODES = ("none", "unmatched", "matched")


def configure(sns: Any, s3: Any, bucket: str, mode: str) -> None:
    if mode == "none":
        return
    arn = sns.create_topic(
        Name=f"bench-{uuid.uuid4().hex[:8]}", Attributes={"push-endpoint": "http://127.0.0.1:9/"}
    )["TopicArn"]
    rule: dict[str, Any] = {"TopicArn": arn, "Events": ["s3:ObjectCreated:*"]}
    if mode == "unmatched":
        rule["Filter"] = {"Key": {"FilterRules": [{"Name": "prefix", "Value": "zzz/"}]}}
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"TopicConfigurations": [rule]}
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    p.add_argument("--conns", type=int, nargs="+", default=[1, 16], help="wrk connections")
    p.add_argument("--size", type=int, default=4096, help="object size in bytes")
    p.add_argument("--keys", type=int, default=20000, help="presigned keys rotated through")
    p.add_argument(
        "--no-fsync", action="store_true", help="storage.fsync = false: CPU cost, not the disk's"
    )
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="lading-bench-events-") as scratch:
        tmp = Path(scratch)
        env = {"LADING_EVENTS__DELIVERY": "false"}
        if a.no_fsync:
            env["LADING_STORAGE__FSYNC"] = "false"
        server = run_server(tmp / "data", env=env)
        try:
            options = {
                "endpoint_url": server.url,
                "aws_access_key_id": server.access_key,
                "aws_secret_access_key": server.secret_key,
                "region_name": "us-east-1",
            }
            s3 = boto3.client("s3", **options, config=Config(signature_version="s3v4"))
            sns = boto3.client("sns", **options)
            rows: dict[str, dict[int, dict[str, float]]] = {}
            for mode in MODES:
                bucket = f"bench-{mode}-{uuid.uuid4().hex[:6]}"
                s3.create_bucket(Bucket=bucket)
                configure(sns, s3, bucket, mode)
                keys = [f"put/{i:06d}" for i in range(a.keys)]
                paths = tmp / f"{mode}.paths"
                paths.write_text("\n".join(presigned_paths(s3, "PUT", bucket, keys)) + "\n")
                rows[mode] = {
                    conns: wrk_phase(server.url, paths, "PUT", a.size, conns, a.duration)
                    for conns in a.conns
                }
        finally:
            server.kill()
    print(
        f"| {a.size} B PUT | " + " | ".join(f"c={c} ops/s | c={c} p99 ms" for c in a.conns) + " |"
    )
    print("|---|" + "---|---|" * len(a.conns))
    for mode, by_conns in rows.items():
        cells = " | ".join(
            f"{r['ops']:.0f} | {r['p99_ms']:.1f}"
            + (f" ({r['errors']:.0f} errors)" if r["errors"] else "")
            for r in by_conns.values()
        )
        print(f"| {mode} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
