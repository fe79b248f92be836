#!/usr/bin/env python3
"""Server CPU time per MiB of a large single PUT (one request of `--size-mib` MiB).

    .venv/bin/python bench/bigput_cpu.py [--size-mib 256] [--repeats 4]
        [--mode presigned|chunked] [--server uvicorn|granian] [--json OUT]

Starts `python -m lading serve` (this venv) on a free port with a fresh data directory, as
bench/cpu_per_request.py does, writes a file of random bytes, then PUTs it `--repeats` times and
reads the CPU time (utime + stime, /proc/PID/stat) of every process of the server's session
before and after each PUT. Wall time means little on a shared machine; CPU time does.

`--mode presigned` sends the file with curl to a presigned URL (UNSIGNED-PAYLOAD, the path of
curl and `lading sync`); `--mode chunked` sends it with boto3's put_object and its default
checksum settings (aws-chunked with a CRC trailer where the SDK chooses it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cpu_per_request import Signer, log, server, session_cpu  # noqa: E402

MIB = 1024 * 1024


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size-mib", type=int, default=256)
    p.add_argument("--repeats", type=int, default=4)
    p.add_argument("--mode", choices=["presigned", "chunked"], default="presigned")
    p.add_argument("--server", choices=["uvicorn", "granian"], default="uvicorn")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--json", type=Path, help="also save the results here")
    a = p.parse_args()

    results: dict[str, object] = {"args": {k: str(v) for k, v in vars(a).items()}}
    with tempfile.NamedTemporaryFile(prefix="lading-bigput-") as f:
        for _ in range(a.size_mib):
            f.write(os.urandom(MIB))
        f.flush()
        with server(a) as (endpoint, sid):
            signer = Signer(endpoint, "presigned")
            bucket = f"cpu-{uuid.uuid4().hex[:12]}"
            signer.s3.create_bucket(Bucket=bucket)
            runs = []
            for i in range(a.repeats):
                key = f"big/{i}"
                if a.mode == "presigned":
                    url = signer.s3.generate_presigned_url(
                        "put_object", Params={"Bucket": bucket, "Key": key}
                    )
                    cmd = ["curl", "-sS", "-f", "-o", "/dev/null", "-T", f.name, url]

                    def put(cmd: list[str] = cmd) -> None:
                        subprocess.run(cmd, check=True)
                else:

                    def put(key: str = key) -> None:
                        with open(f.name, "rb") as body:
                            signer.s3.put_object(Bucket=bucket, Key=key, Body=body)

                before = session_cpu(sid)
                t0 = time.monotonic()
                put()
                wall = time.monotonic() - t0
                time.sleep(0.5)
                after = session_cpu(sid)
                cpu = after[0] - before[0], after[1] - before[1]
                run = {
                    "cpu_ms": round(sum(cpu) * 1000),
                    "user_ms": round(cpu[0] * 1000),
                    "system_ms": round(cpu[1] * 1000),
                    "cpu_ms_per_mib": round(sum(cpu) * 1000 / a.size_mib, 2),
                    "wall_s": round(wall, 2),
                }
                runs.append(run)
                log(f"PUT {i}: {run}")
            results["runs"] = runs
            cpus = sorted(r["cpu_ms"] for r in runs)
            median = cpus[len(cpus) // 2]
            results["median_cpu_ms"] = median
            results["median_cpu_ms_per_mib"] = round(median / a.size_mib, 2)
    print(json.dumps(results, indent=2))
    if a.json:
        a.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
