"""Start-up work done once before a server serves: migrations, root keys, orphan sweep."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from lading.encryption import Keyring
from lading.metadata.store import MetadataStore
from lading.services.identity import IdentityService, NewCredentials
from lading.settings import Settings
from lading.storage.base import BlobStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SweepReport:
    orphans: int
    temporary: int


def sweep(meta: MetadataStore, blobs: BlobStore, grace_seconds: int) -> SweepReport:
    """Remove blobs no row references and half-written temporaries older than the grace."""
    cutoff = time.time() - grace_seconds
    temporary = blobs.sweep_temporary(cutoff)
    referenced = meta.referenced_blobs()
    orphans = 0
    for blob_id, mtime in blobs.iter_blobs():
        if blob_id not in referenced and mtime <= cutoff:
            blobs.delete(blob_id)
            orphans += 1
    if orphans or temporary:
        log.info("swept %d orphaned and %d half-written blobs", orphans, temporary)
    return SweepReport(orphans, temporary)


def prepare(
    settings: Settings, meta: MetadataStore, blobs: BlobStore, keyring: Keyring | None = None
) -> NewCredentials | None:
    """Bring the data directory to a servable state; returns root keys made on first start."""
    from lading.metadata.migrate import upgrade

    upgrade(meta.engine)
    identity = IdentityService(meta, keyring)
    sealed = identity.seal_clear_secrets()
    if sealed:
        log.info("sealed %d access-key secrets stored in clear", sealed)
    access = settings.root_access_key.get_secret_value() if settings.root_access_key else None
    secret = settings.root_secret_key.get_secret_value() if settings.root_secret_key else None
    generated = identity.ensure_root(settings.data_dir, access, secret)
    sweep(meta, blobs, settings.storage.orphan_grace_seconds)
    return generated
