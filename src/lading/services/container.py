"""The services a request handler may use, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from lading.services.access_logs import AccessLogService
from lading.services.audit import AuditService
from lading.services.buckets import BucketService
from lading.services.catalog import CatalogService
from lading.services.credentials import CredentialService
from lading.services.directory import DirectoryService
from lading.services.events import EventService
from lading.services.identity import IdentityService
from lading.services.multipart import MultipartService
from lading.services.objects import ObjectService
from lading.services.shares import ShareService
from lading.services.transfers import TransferService
from lading.services.usage import UsageService


@dataclass(frozen=True, slots=True)
class Services:
    buckets: BucketService
    objects: ObjectService
    multipart: MultipartService
    identity: IdentityService
    catalog: CatalogService
    transfers: TransferService
    credentials: CredentialService
    audit: AuditService
    access_logs: AccessLogService
    events: EventService
    directory: DirectoryService
    usage: UsageService
    shares: ShareService
