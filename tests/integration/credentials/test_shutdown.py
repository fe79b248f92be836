"""What the recorders hold in memory is written when the server stops cleanly."""

from __future__ import annotations

import json
from pathlib import Path

from lading.client import AuditClient, KeysClient
from lading.testing.server import serving
from tests.conftest import make_client
from tests.integration.credentials.test_audit import allow_logs, logging_status


def test_a_clean_stop_writes_audit_records_access_logs_and_last_use(tmp_path: Path) -> None:
    env = {  # nothing would be written before the stop on its own
        "LADING_CREDENTIALS__AUDIT_FLUSH_SECONDS": "3600",
        "LADING_CREDENTIALS__ACCESS_LOG_SECONDS": "3600",
        "LADING_CREDENTIALS__LAST_USED_SECONDS": "3600",
    }
    with serving(tmp_path / "data", env=env) as server:
        user = json.loads(server.admin("add-user", "stopper"))
        s3 = make_client(server.url, user["access_key"], user["secret_key"])
        s3.create_bucket(Bucket="source")
        s3.create_bucket(Bucket="target")
        allow_logs(s3, "target", "source")
        s3.put_bucket_logging(
            Bucket="source", BucketLoggingStatus=logging_status("target", "logs/")
        )
        s3.put_object(Bucket="source", Key="k", Body=b"data")
        assert s3.list_objects_v2(Bucket="target").get("KeyCount") == 0
        server.stop()  # SIGTERM: the lifespan's shutdown flushes
        server.restart()
        logs = s3.list_objects_v2(Bucket="target", Prefix="logs/")["Contents"]
        body = s3.get_object(Bucket="target", Key=logs[0]["Key"])["Body"].read().decode()
        assert " REST.PUT.OBJECT k " in body
        root = {"access_key": server.access_key, "secret_key": server.secret_key}
        with AuditClient(server.url, **root) as audit:
            found = [r["operation"] for r in audit.list_audit(user="stopper")]
        assert found[-3:] == ["PutBucketPolicy", "CreateBucket", "CreateBucket"]
        assert "PutObject" in found
        with KeysClient(server.url, **root) as keys:
            shown = keys.get_key(user["access_key"])
        assert shown["last_used"] is not None
