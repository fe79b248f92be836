"""Frozen records the metadata store returns; times are epoch microseconds (UTC)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

NULL_VERSION = "null"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    display_name: str
    is_admin: bool
    created_at: int
    email: str = ""
    enabled: bool = True  # a disabled user's keys are refused


@dataclass(frozen=True, slots=True)
class AccessKey:
    access_key: str
    secret_key: str
    user: User
    status: str
    expires_at: int | None = None  # epoch microseconds; None: never
    # an IAM user's attached policy ARNs (its requests need their Allow); None: not one
    policies: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ProjectAccess:
    """What authorization and quotas need of a bucket's project, cached with the bucket."""

    id: int
    name: str
    roles: Mapping[int, str]  # user id -> "admin", "writer" or "reader"
    expires_at: int | None = None  # epoch microseconds; the buckets are read-only after it
    quota_bytes: int | None = None
    quota_objects: int | None = None


@dataclass(frozen=True, slots=True)
class Bucket:
    id: int
    name: str
    owner: User
    region: str
    created_at: int
    versioning: str = ""  # "", "Enabled" or "Suspended"
    # configuration documents by kind ("cors", "policy", "lifecycle"...), as stored
    configs: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    project_id: int | None = None  # the project that owns the bucket
    project: ProjectAccess | None = None  # loaded with the bucket by the bucket service
    # the bucket's shares (access rules), loaded with the configs: authorization reads them
    shares: tuple[Share, ...] = ()

    @property
    def object_lock(self) -> bool:
        return "object-lock" in self.configs


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of an object's bytes held in one blob."""

    blob_id: str
    size: int


@dataclass(frozen=True, slots=True)
class ObjectVersion:
    """One version of one key; `segments` are the blobs its bytes live in, in order."""

    bucket_id: int
    key: str
    version_id: str
    size: int
    etag: str
    last_modified: int
    content_type: str
    segments: tuple[Segment, ...] = ()
    part_sizes: tuple[int, ...] | None = None  # set for multipart objects
    metadata: dict[str, str] = field(default_factory=dict)  # x-amz-meta-*, without prefix
    headers: dict[str, str] = field(default_factory=dict)  # cache-control, content-encoding...
    checksums: dict[str, Any] = field(default_factory=dict)  # {"CRC32": b64, "type": ...}
    storage_class: str = "STANDARD"
    owner_id: int = 0
    is_latest: bool = True
    is_delete_marker: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    acl: dict[str, Any] | None = None  # None: private to the owner
    lock_mode: str = ""  # "", "GOVERNANCE" or "COMPLIANCE"
    lock_until: int = 0  # epoch microseconds; 0 = no retention
    legal_hold: bool = False
    # SSE envelope (never a key in clear): Envelope.to_json() of the one segment, or
    # {mode, algorithm, customer-key-md5?, parts: [envelope per segment]} for several
    encryption: dict[str, Any] | None = None
    row_id: int = 0


@dataclass(frozen=True, slots=True)
class Upload:
    upload_id: str
    bucket_id: int
    key: str
    created_at: int
    owner_id: int
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    checksum_algorithm: str = ""
    checksum_type: str = ""
    storage_class: str = "STANDARD"
    # what the completed object inherits: "tags", "acl", "lock_mode", "lock_until",
    # "legal_hold", "encryption" (the ObjectVersion fields of the same names)
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Part:
    part_number: int
    size: int
    etag: str
    blob_id: str
    last_modified: int
    checksum: str = ""  # base64 digest of checksum_algorithm of the upload
    encryption: dict[str, str] | None = None  # the part's own SSE envelope


class ListedObject(NamedTuple):
    """What a listing shows of an object; a tuple, as a thousand are built per page."""

    key: str
    size: int
    etag: str
    last_modified: int
    storage_class: str
    owner_id: int
    checksum_algorithm: str  # "" when none was asked for
    checksum_type: str


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of a current-objects listing."""

    objects: list[ListedObject]
    prefixes: list[str]
    truncated: bool
    next_marker: str  # last key or common prefix returned


@dataclass(frozen=True, slots=True)
class VersionListing:
    versions: list[ObjectVersion]
    prefixes: list[str]
    truncated: bool
    next_key_marker: str
    next_version_marker: str


@dataclass(frozen=True, slots=True)
class UploadListing:
    uploads: list[Upload]
    prefixes: list[str]
    truncated: bool
    next_key_marker: str
    next_upload_marker: str


# --- shares and share links ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Share:
    """An access rule: (bucket, prefix) granted to a principal with "r" or "rw".

    principal_type is "user", "group", "all_authenticated_users" or "anonymous";
    principal_id names the user or group (None for the other two).
    """

    id: int
    bucket_id: int
    prefix: str
    principal_type: str
    principal_id: int | None
    principal_name: str
    permission: str
    created_by: int
    created_at: int
    expires_at: int | None = None  # epoch microseconds; None: never
    message: str = ""
    notify_email: str = ""


@dataclass(frozen=True, slots=True)
class ShareLink:
    """A revocable bearer link to a prefix (or, with is_object, one object) of a bucket."""

    id: int
    bucket_id: int
    bucket_name: str
    prefix: str
    is_object: bool
    created_by: int
    created_at: int
    expires_at: int | None
    max_uses: int | None
    max_bytes: int | None
    uses: int
    bytes_served: int
    revoked_at: int | None
    note: str


@dataclass(frozen=True, slots=True)
class LinkUse:
    """One recorded request through a share link (downloads, index pages and refusals)."""

    id: int
    link_id: int
    at: int
    remote: str
    key: str
    bytes: int
    outcome: str


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A notification e-mail, as sent (or kept when no SMTP server is configured)."""

    id: int
    created_at: int
    recipient: str
    subject: str
    body: str
    status: str  # "stored", "sent" or "failed"
    error: str
    share_id: int | None
