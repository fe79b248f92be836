"""Buckets: naming rules, creation, listing and deletion."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace

from lading import errors
from lading.concurrency import run_blocking
from lading.metadata.identity import Directory
from lading.metadata.models import (
    Bucket,
    Listing,
    ProjectAccess,
    UploadListing,
    User,
    VersionListing,
)
from lading.metadata.store import MetadataStore
from lading.services.cache import TtlCache
from lading.storage.base import BlobStore, delete_blobs

_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def validate_bucket_name(name: str) -> None:
    """Raise InvalidBucketName unless name follows S3's rules for new buckets."""
    problem = None
    if not _NAME.match(name):
        problem = (
            "Bucket names must be 3 to 63 characters of lowercase letters, digits, dots and "
            "hyphens, and begin and end with a letter or digit."
        )
    elif ".." in name or ".-" in name or "-." in name:
        problem = "Bucket names must not contain two adjacent periods or a period next to a hyphen."
    elif name.startswith(("xn--", "sthree-")) or name.endswith(("-s3alias", "--ol-s3")):
        problem = "Bucket names must not use a reserved prefix or suffix."
    else:
        try:
            ipaddress.IPv4Address(name)
            problem = "Bucket names must not be formatted as an IP address."
        except ValueError:
            pass
    if problem:
        raise errors.InvalidBucketName(name, problem)


# AWS's legacy region, where an owner re-creating a bucket gets 200 instead of an error.
LEGACY_REGION = "us-east-1"


class BucketService:
    """Bucket life cycle and the listings inside a bucket.

    Bucket records are cached per process for `cache_seconds` (buckets change rarely and
    every request needs one); changes made through this process invalidate at once, changes
    made by other server processes are seen within the cache time.
    """

    def __init__(
        self,
        meta: MetadataStore,
        blobs: BlobStore,
        region: str,
        cache_seconds: float = 1.0,
        directory: Directory | None = None,
    ) -> None:
        self.meta = meta
        self.blobs = blobs
        self.region = region
        self.directory = directory  # projects: loaded with their buckets, cached alike
        self._cache: TtlCache[str, Bucket] = TtlCache(cache_seconds)
        self._projects: TtlCache[int, ProjectAccess | None] = TtlCache(cache_seconds)

    def forget_projects(self) -> None:
        """Drop cached projects (and the buckets carrying them) after a project changed."""
        self._projects.clear()
        self._cache.clear()

    async def create_bucket(
        self,
        name: str,
        owner: User,
        location: str | None,
        *,
        object_lock: bool = False,
        acl: str | None = None,
        project_id: int | None = None,
    ) -> Bucket:
        """Create a bucket; object lock turns versioning on for good; acl is its JSON.

        The bucket belongs to `project_id`, by default the owner's personal project.
        """
        validate_bucket_name(name)
        if location not in (None, "", self.region):
            raise errors.InvalidLocationConstraint(
                f"The specified location-constraint {location!r} is not valid; "
                f"this server's region is {self.region!r}."
            )
        self._cache.forget(name)
        try:
            if project_id is None and self.directory is not None:
                project_id = await run_blocking(self.directory.personal_project_id, owner)
            bucket = await run_blocking(
                self.meta.create_bucket, name, owner, self.region, project_id
            )
        except errors.BucketAlreadyOwnedByYou:
            if self.region != LEGACY_REGION:
                raise
        else:
            if object_lock:
                await self.set_versioning(bucket, "Enabled")
                await self.set_config(bucket, "object-lock", '{"ObjectLockEnabled": "Enabled"}')
            if acl is not None:
                await self.set_config(bucket, "acl", acl)
            return await self.get_bucket(name)
        # us-east-1 answers 200 to an owner re-creating a bucket, and keeps its contents
        return await self.get_bucket(name)

    async def get_bucket(self, name: str) -> Bucket:
        """Raises NoSuchBucket."""
        return await self._cache.fetch(name, self._load)

    async def _load(self, name: str) -> Bucket:
        bucket = await run_blocking(self.meta.get_bucket, name)
        if bucket.project_id is None or self.directory is None:
            return bucket
        project = await self._projects.fetch(bucket.project_id, self._load_project)
        return replace(bucket, project=project)

    async def _load_project(self, project_id: int) -> ProjectAccess | None:
        assert self.directory is not None
        return await run_blocking(self.directory.project_access, project_id)

    async def list_buckets(
        self, owner: User, *, prefix: str = "", after: str = "", limit: int | None = None
    ) -> list[Bucket]:
        """The user's buckets by name: those starting with prefix, after `after`, at most limit.

        With projects, a user's buckets are those they own and those of their projects.
        """
        if self.directory is not None:
            directory = self.directory
            return await run_blocking(
                lambda: directory.visible_buckets(owner.id, prefix=prefix, after=after, limit=limit)
            )
        return await run_blocking(
            lambda: self.meta.list_buckets(owner.id, prefix=prefix, after=after, limit=limit)
        )

    async def set_config(self, bucket: Bucket, name: str, document: str | None) -> None:
        """Store (None: remove) one configuration document of the bucket."""
        self._cache.forget(bucket.name)
        await run_blocking(self.meta.set_bucket_config, bucket, name, document)
        self._cache.forget(bucket.name)

    async def set_versioning(self, bucket: Bucket, status: str) -> None:
        """Enable or suspend versioning; an object-lock bucket cannot be suspended."""
        if bucket.object_lock and status != "Enabled":
            raise errors.InvalidBucketState(
                "An Object Lock configuration is present on this bucket, so the versioning "
                "state cannot be changed."
            )
        self._cache.forget(bucket.name)
        await run_blocking(self.meta.set_versioning, bucket, status)
        self._cache.forget(bucket.name)

    async def delete_bucket(self, bucket: Bucket) -> None:
        self._cache.forget(bucket.name)
        garbage = await run_blocking(self.meta.delete_bucket, bucket)
        await run_blocking(delete_blobs, self.blobs, garbage)

    async def list_objects(
        self, bucket: Bucket, *, prefix: str, delimiter: str, after: str, max_keys: int
    ) -> Listing:
        return await run_blocking(
            lambda: self.meta.list_objects(
                bucket, prefix=prefix, delimiter=delimiter, after=after, max_keys=max_keys
            )
        )

    async def list_versions(
        self,
        bucket: Bucket,
        *,
        prefix: str,
        delimiter: str,
        key_marker: str,
        version_marker: str,
        max_keys: int,
    ) -> VersionListing:
        return await run_blocking(
            lambda: self.meta.list_versions(
                bucket,
                prefix=prefix,
                delimiter=delimiter,
                key_marker=key_marker,
                version_marker=version_marker,
                max_keys=max_keys,
            )
        )

    async def list_uploads(
        self,
        bucket: Bucket,
        *,
        prefix: str,
        delimiter: str,
        key_marker: str,
        upload_marker: str,
        max_uploads: int,
    ) -> UploadListing:
        return await run_blocking(
            lambda: self.meta.list_uploads(
                bucket,
                prefix=prefix,
                delimiter=delimiter,
                key_marker=key_marker,
                upload_marker=upload_marker,
                max_uploads=max_uploads,
            )
        )
