"""The transfer service: endpoints and transfer tasks run by the server's workers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

from lading.client._base import BaseClient
from lading.client.paging import paginate

TERMINAL = ("SUCCEEDED", "FAILED")
READ_CHUNK = 1 << 20


def _name(name: str) -> str:
    return quote(name, safe="")


class TransferClient(BaseClient):
    """Endpoints (named storage locations) and transfers between them."""

    # --- endpoints -------------------------------------------------------------------------

    def create_endpoint(
        self,
        name: str,
        kind: str,
        *,
        config: dict[str, str] | None = None,
        credentials: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Register an endpoint: kind "s3" (config url, bucket, region, addressing_style;
        credentials access_key, secret_key) or "posix" (config root, an exported name).

        API: POST /_/api/v1/endpoints
        """
        body = {"name": name, "kind": kind, "config": config or {}, "credentials": credentials}
        found: dict[str, Any] = self.request("POST", "/endpoints", json=body)
        return found

    def list_endpoints(self) -> list[dict[str, Any]]:
        """API: GET /_/api/v1/endpoints"""
        return list(paginate(lambda _: self.request("GET", "/endpoints")))

    def get_endpoint(self, name: str) -> dict[str, Any]:
        """API: GET /_/api/v1/endpoints/{name}"""
        found: dict[str, Any] = self.request("GET", f"/endpoints/{_name(name)}")
        return found

    def delete_endpoint(self, name: str) -> None:
        """API: DELETE /_/api/v1/endpoints/{name}"""
        self.request("DELETE", f"/endpoints/{_name(name)}")

    def endpoint_ls(self, name: str, path: str = "", *, limit: int = 1000) -> list[dict[str, Any]]:
        """Files under `path` of an endpoint (recursively, at most `limit`).

        API: GET /_/api/v1/endpoints/{name}/ls
        """
        page = self.request(
            "GET", f"/endpoints/{_name(name)}/ls", params={"path": path, "limit": limit}
        )
        items: list[dict[str, Any]] = page["items"]
        return items

    def endpoint_mkdir(self, name: str, path: str) -> None:
        """API: POST /_/api/v1/endpoints/{name}/mkdir"""
        self.request("POST", f"/endpoints/{_name(name)}/mkdir", json={"path": path})

    def endpoint_rename(self, name: str, old_path: str, new_path: str) -> None:
        """API: POST /_/api/v1/endpoints/{name}/rename"""
        self.request(
            "POST",
            f"/endpoints/{_name(name)}/rename",
            json={"old_path": old_path, "new_path": new_path},
        )

    # --- an endpoint's files (the relay `lading cp ENDPOINT:PATH` uses) -----------------------

    def endpoint_features(self, name: str) -> dict[str, Any]:
        """What the endpoint's driver can do (multipart, part sizes...).

        API: GET /_/api/v1/endpoints/{name}/files/features
        """
        found: dict[str, Any] = self.request("GET", f"/endpoints/{_name(name)}/files/features")
        return found

    def endpoint_list(self, name: str, path: str = "") -> Iterator[dict[str, Any]]:
        """Every file under `path` (recursively, sorted by path), streamed.

        API: GET /_/api/v1/endpoints/{name}/files/list
        """
        with self.streamed(
            "GET", f"/endpoints/{_name(name)}/files/list", params={"path": path}
        ) as answer:
            for line in answer.iter_lines():
                if line:
                    yield json.loads(line)

    def endpoint_stat(self, name: str, path: str) -> dict[str, Any]:
        """API: GET /_/api/v1/endpoints/{name}/files/stat"""
        found: dict[str, Any] = self.request(
            "GET", f"/endpoints/{_name(name)}/files/stat", params={"path": path}
        )
        return found

    def endpoint_read(
        self, name: str, path: str, start: int = 0, length: int | None = None
    ) -> Iterator[bytes]:
        """The bytes of a file (`length` of them from `start`, or to the end), streamed.

        API: GET /_/api/v1/endpoints/{name}/files/read
        """
        params = {"path": path, "start": start, "length": length}
        with self.streamed("GET", f"/endpoints/{_name(name)}/files/read", params=params) as got:
            yield from got.iter_bytes(READ_CHUNK)

    def endpoint_write(
        self,
        name: str,
        path: str,
        chunks: Iterable[bytes],
        *,
        size: int,
        mtime: float | None = None,
    ) -> dict[str, Any]:
        """Store a file of `size` bytes from `chunks` (streamed); its entry.

        API: PUT /_/api/v1/endpoints/{name}/files/write
        """
        params = {"path": path, "size": size, "mtime": mtime}
        with self.streamed(
            "PUT", f"/endpoints/{_name(name)}/files/write", params=params, content=chunks
        ) as answer:
            found: dict[str, Any] = json.loads(answer.read())
        return found

    def endpoint_start_upload(self, name: str, path: str, size: int) -> str:
        """API: POST /_/api/v1/endpoints/{name}/files/uploads"""
        found = self.request(
            "POST", f"/endpoints/{_name(name)}/files/uploads", json={"path": path, "size": size}
        )
        return str(found["upload_id"])

    def endpoint_write_part(
        self,
        name: str,
        path: str,
        upload_id: str,
        number: int,
        offset: int,
        data: bytes,
        md5: str = "",
    ) -> str:
        """Write part `number` of a multipart upload; the token its completion needs.

        API: PUT /_/api/v1/endpoints/{name}/files/uploads/{upload_id}/parts/{number}
        """
        where = f"/endpoints/{_name(name)}/files/uploads/{_name(upload_id)}/parts/{number}"
        params = {"path": path, "offset": offset, "md5": md5}
        with self.streamed("PUT", where, params=params, content=iter([data])) as answer:
            return str(json.loads(answer.read())["token"])

    def endpoint_complete_upload(
        self,
        name: str,
        path: str,
        upload_id: str,
        parts: Sequence[tuple[int, str]],
        *,
        mtime: float | None = None,
    ) -> dict[str, Any]:
        """API: POST /_/api/v1/endpoints/{name}/files/uploads/{upload_id}/complete"""
        body = {
            "path": path,
            "parts": [{"number": n, "token": t} for n, t in parts],
            "mtime": mtime,
        }
        where = f"/endpoints/{_name(name)}/files/uploads/{_name(upload_id)}/complete"
        found: dict[str, Any] = self.request("POST", where, json=body)
        return found

    def endpoint_abort_upload(self, name: str, path: str, upload_id: str) -> None:
        """API: DELETE /_/api/v1/endpoints/{name}/files/uploads/{upload_id}"""
        where = f"/endpoints/{_name(name)}/files/uploads/{_name(upload_id)}"
        self.request("DELETE", where, params={"path": path})

    def endpoint_delete(self, name: str, path: str) -> None:
        """API: DELETE /_/api/v1/endpoints/{name}/files"""
        self.request("DELETE", f"/endpoints/{_name(name)}/files", params={"path": path})

    def endpoint_makedirs(self, name: str, path: str) -> None:
        """API: POST /_/api/v1/endpoints/{name}/files/mkdir"""
        self.request("POST", f"/endpoints/{_name(name)}/files/mkdir", params={"path": path})

    # --- transfers -------------------------------------------------------------------------

    def submit_transfer(
        self,
        source_endpoint: str,
        destination_endpoint: str,
        items: Sequence[dict[str, Any]],
        **options: Any,
    ) -> dict[str, Any]:
        """Submit a transfer; `options` are the task's (label, submission_id, sync_level,
        verify_checksum, preserve_timestamp, delete_destination_extra, skip_source_errors,
        fail_on_quota_errors, deadline (ISO 8601), filter_rules, notify_webhook, notify_email
        (addresses), notify_on_succeeded, notify_on_failed, notify_on_inactive).

        API: POST /_/api/v1/transfers
        """
        body = {
            "source_endpoint": source_endpoint,
            "destination_endpoint": destination_endpoint,
            "items": list(items),
            **options,
        }
        found: dict[str, Any] = self.request("POST", "/transfers", json=body)
        return found

    def get_transfer(self, task_id: str) -> dict[str, Any]:
        """API: GET /_/api/v1/transfers/{task_id}"""
        found: dict[str, Any] = self.request("GET", f"/transfers/{_name(task_id)}")
        return found

    def list_transfers(
        self, *, status: str | None = None, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every transfer of the caller (optionally of one status), page by page.

        API: GET /_/api/v1/transfers
        """
        return paginate(
            lambda cursor: self.request(
                "GET",
                "/transfers",
                params={"status": status, "limit": page_size, "cursor": cursor},
            )
        )

    def transfer_events(self, task_id: str, *, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        """A transfer's events in order (submitted, planned, copied, retry, failed...).

        API: GET /_/api/v1/transfers/{task_id}/events
        """
        return paginate(
            lambda cursor: self.request(
                "GET",
                f"/transfers/{_name(task_id)}/events",
                params={"cursor": cursor, "limit": page_size},
            )
        )

    def wait_transfer(self, task_id: str, *, timeout: float = 3600.0) -> dict[str, Any]:
        """The transfer once it has ended, or as it is after `timeout` seconds (long-polls).

        API: GET /_/api/v1/transfers/{task_id}/wait
        """
        end = time.monotonic() + timeout
        while True:
            left = max(0.0, end - time.monotonic())
            found: dict[str, Any] = self.request(
                "GET", f"/transfers/{_name(task_id)}/wait", params={"timeout": min(left, 60.0)}
            )
            if found["status"] in TERMINAL or left <= 0:
                return found

    def cancel_transfer(self, task_id: str) -> dict[str, Any]:
        """API: POST /_/api/v1/transfers/{task_id}/cancel"""
        found: dict[str, Any] = self.request("POST", f"/transfers/{_name(task_id)}/cancel")
        return found

    def pause_transfer(self, task_id: str) -> dict[str, Any]:
        """API: POST /_/api/v1/transfers/{task_id}/pause"""
        found: dict[str, Any] = self.request("POST", f"/transfers/{_name(task_id)}/pause")
        return found

    def resume_transfer(self, task_id: str) -> dict[str, Any]:
        """API: POST /_/api/v1/transfers/{task_id}/resume"""
        found: dict[str, Any] = self.request("POST", f"/transfers/{_name(task_id)}/resume")
        return found

    def delete_transfer(self, task_id: str) -> None:
        """API: DELETE /_/api/v1/transfers/{task_id}"""
        self.request("DELETE", f"/transfers/{_name(task_id)}")

    # --- schedules -------------------------------------------------------------------------

    def create_schedule(
        self,
        source_endpoint: str,
        destination_endpoint: str,
        items: Sequence[dict[str, Any]],
        *,
        every_minutes: int | None = None,
        cron: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """A recurring sync task; a run is skipped while the previous one goes on.

        API: POST /_/api/v1/schedules
        """
        body = {
            "source_endpoint": source_endpoint,
            "destination_endpoint": destination_endpoint,
            "items": list(items),
            "every_minutes": every_minutes,
            "cron": cron,
            **options,
        }
        found: dict[str, Any] = self.request("POST", "/schedules", json=body)
        return found

    def list_schedules(self) -> list[dict[str, Any]]:
        """API: GET /_/api/v1/schedules"""
        return list(paginate(lambda _: self.request("GET", "/schedules")))

    def get_schedule(self, schedule_id: str) -> dict[str, Any]:
        """API: GET /_/api/v1/schedules/{schedule_id}"""
        found: dict[str, Any] = self.request("GET", f"/schedules/{_name(schedule_id)}")
        return found

    def delete_schedule(self, schedule_id: str) -> None:
        """API: DELETE /_/api/v1/schedules/{schedule_id}"""
        self.request("DELETE", f"/schedules/{_name(schedule_id)}")
