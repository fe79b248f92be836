"""The projects service: projects, their members, quotas and expiry; usage reports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from lading.client._base import BaseClient
from lading.client.paging import paginate

UNSET: Any = object()  # "leave as it is" in update_project (None removes a limit)


def _seg(value: str) -> str:
    return quote(value, safe="")


class ProjectsClient(BaseClient):
    """Projects (quota, expiry, members, buckets) and their usage."""

    def list_projects(
        self, *, needs_attention: bool = False, mine: bool = False, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Projects the caller may see (all of them for administrators), page by page.

        API: GET /_/api/v1/projects
        """
        params = {
            "limit": limit,
            "needs_attention": "true" if needs_attention else None,
            "mine": "true" if mine else None,
        }
        return paginate(
            lambda cursor: self.request("GET", "/projects", params={**params, "cursor": cursor})
        )

    def create_project(
        self,
        name: str,
        *,
        description: str = "",
        quota_bytes: int | None = None,
        quota_objects: int | None = None,
        expires_at: str | None = None,
        grace_days: int = 30,
        admin: str | None = None,
    ) -> dict[str, Any]:
        """A shared project; `expires_at` is ISO 8601 (administrators).

        API: POST /_/api/v1/projects
        """
        body = {
            "name": name,
            "description": description,
            "quota_bytes": quota_bytes,
            "quota_objects": quota_objects,
            "expires_at": expires_at,
            "grace_days": grace_days,
            "admin": admin,
        }
        found: dict[str, Any] = self.request("POST", "/projects", json=body)
        return found

    def get_project(self, name: str) -> dict[str, Any]:
        """A project with its members and buckets.

        API: GET /_/api/v1/projects/{name}
        """
        found: dict[str, Any] = self.request("GET", f"/projects/{_seg(name)}")
        return found

    def update_project(
        self,
        name: str,
        *,
        description: str | None = None,
        quota_bytes: int | None = UNSET,
        quota_objects: int | None = UNSET,
        expires_at: str | None = UNSET,
        grace_days: int | None = None,
    ) -> dict[str, Any]:
        """Change a project; a quota or expiry passed as None is removed.

        API: PATCH /_/api/v1/projects/{name}
        """
        body: dict[str, Any] = {}
        if description is not None:
            body["description"] = description
        if grace_days is not None:
            body["grace_days"] = grace_days
        for key, value in (
            ("quota_bytes", quota_bytes),
            ("quota_objects", quota_objects),
            ("expires_at", expires_at),
        ):
            if value is not UNSET:
                body[key] = value
        found: dict[str, Any] = self.request("PATCH", f"/projects/{_seg(name)}", json=body)
        return found

    def delete_project(self, name: str) -> None:
        """API: DELETE /_/api/v1/projects/{name}"""
        self.request("DELETE", f"/projects/{_seg(name)}")

    def set_member(self, project: str, user: str, role: str) -> dict[str, Any]:
        """Give a user a role (admin, writer, reader) in the project.

        API: PUT /_/api/v1/projects/{project}/members/{user}
        """
        found: dict[str, Any] = self.request(
            "PUT", f"/projects/{_seg(project)}/members/{_seg(user)}", json={"role": role}
        )
        return found

    def remove_member(self, project: str, user: str) -> dict[str, Any]:
        """API: DELETE /_/api/v1/projects/{project}/members/{user}"""
        found: dict[str, Any] = self.request(
            "DELETE", f"/projects/{_seg(project)}/members/{_seg(user)}"
        )
        return found

    def create_bucket(self, project: str, bucket: str) -> dict[str, Any]:
        """A bucket owned by the caller in the project.

        API: POST /_/api/v1/projects/{project}/buckets
        """
        found: dict[str, Any] = self.request(
            "POST", f"/projects/{_seg(project)}/buckets", json={"name": bucket}
        )
        return found

    def usage(self, start: str, end: str, *, projects: list[str] | None = None) -> list[Any]:
        """Usage lines (byte-days, requests, bytes downloaded) over [start, end].

        `start` and `end` are days (2026-01-31; the end day counts whole) or ISO 8601
        moments; without `projects`, every project the caller may see.

        API: GET /_/api/v1/usage
        """
        params: dict[str, Any] = {"from": start, "to": end, "project": projects or None}
        found: dict[str, Any] = self.request("GET", "/usage", params=params)
        return list(found["items"])
