"""The transfer service: endpoints and transfer tasks run by the server's workers."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote

from lading.client._base import BaseClient
from lading.client.paging import paginate

TERMINAL = ("SUCCEEDED", "FAILED")


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
        fail_on_quota_errors, deadline (ISO 8601), filter_rules, notify_webhook).

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
