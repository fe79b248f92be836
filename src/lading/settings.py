"""The one settings object: defaults < TOML file < environment (LADING_*) < explicit overrides."""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, IPvAnyNetwork, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class StorageSettings(BaseModel):
    """Where and how object bytes are kept."""

    fsync: bool = Field(True, description="fsync every blob before a write is acknowledged")
    orphan_grace_seconds: int = Field(
        0,
        description="sweep unreferenced blobs older than this at start; raise it when several "
        "nodes share the data directory",
    )
    direct_io: bool = Field(
        True,
        description="write the bytes of a blob past its first 8 MiB with O_DIRECT where the file "
        "system allows it (no page-cache copy, little left for the final fsync), and read "
        "ranges of 256 KiB to 4 MiB that the page cache does not hold with O_DIRECT too",
    )
    delete_delay_seconds: float = Field(
        60.0,
        ge=0,
        description="a server deletes the bytes of an overwritten or deleted object this long "
        "after the commit that dropped them, so that GETs already under way still read them; "
        "0: at once (a GET that looked the version up just before may then fail)",
    )
    inline_kib: int = Field(
        64,
        ge=0,
        le=1024,
        description="PutObject bodies up to this many KiB are kept in the metadata database "
        "with their row (one commit instead of a file and two fsyncs); 0 keeps every object "
        "in a blob file",
    )


class MetadataSettings(BaseModel):
    """The SQL database behind buckets, objects and uploads."""

    url: str = Field("", description="SQLAlchemy URL; empty means SQLite at DATA_DIR/metadata.db")
    pool_size: int = Field(8, description="connections per process (PostgreSQL)")
    checkpoint_seconds: float = Field(
        1.0, gt=0, description="how often a server copies SQLite's WAL back into the database"
    )
    wal_limit_mib: int = Field(
        64,
        ge=0,
        description="size SQLite's write-ahead log is cut back to once a checkpoint has copied "
        "it into the database (a burst of writes grows it); 0: cut back to nothing",
    )
    text_index_seconds: float = Field(
        1.0,
        gt=0,
        description="how often a server adds the text of new writes to SQLite's full-text "
        "index, in one batch (a full-text search first does so itself)",
    )


class S3Settings(BaseModel):
    """S3 API behaviour."""

    base_domain: str = Field(
        "", description="domain for virtual-host-style requests (BUCKET.base_domain); empty: off"
    )
    max_skew_seconds: int = Field(900, description="largest accepted request clock skew")
    min_part_size: int = Field(5 * 1024 * 1024, description="smallest multipart part but the last")
    bucket_cache_seconds: float = Field(
        1.0, description="how long a server process may reuse a bucket record it looked up"
    )


class TransferSettings(BaseModel):
    """The transfer service: exported directories and the workers that move data."""

    posix_roots: dict[str, str] = Field(
        default_factory=dict,
        description="directories users may make endpoints of: name -> absolute path; nothing "
        "outside them is reachable",
    )
    server_workers: int = Field(
        1,
        ge=0,
        description="transfer worker threads in each server process; 0: only `lading worker`",
    )
    lease_seconds: float = Field(
        60.0, gt=0, description="how long a worker's claim on a file lasts without renewal"
    )
    batch_files: int = Field(64, ge=1, description="files a worker claims at a time")
    poll_seconds: float = Field(1.0, gt=0, description="how often an idle worker looks for work")
    files: int = Field(8, ge=1, description="files a worker copies in parallel")
    parts: int = Field(4, ge=1, description="parts of large files a worker sends in parallel")
    part_size_mib: int = Field(16, ge=5, description="part size of large files (MiB)")
    upload_cutoff_mib: int = Field(
        200, ge=0, description="files up to this size (MiB) are sent in one streamed write"
    )


# link-local (the cloud metadata service 169.254.169.254), unspecified, multicast
DEFAULT_DENY_NETWORKS = (
    "169.254.0.0/16",
    "fe80::/10",
    "0.0.0.0/8",
    "::/128",
    "224.0.0.0/4",
    "ff00::/8",
)
# loopback, RFC 1918 and IPv6 unique-local: denied only with outbound.deny_private
PRIVATE_NETWORKS = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
)


class OutboundSettings(BaseModel):
    """Addresses the server may connect to for URLs users give it (S3 endpoints, push
    endpoints, webhooks); every address a host resolves to is checked."""

    deny_networks: list[IPvAnyNetwork] = Field(
        default_factory=lambda: [ip_network(n) for n in DEFAULT_DENY_NETWORKS],
        description="CIDR networks the server never connects to for a user's URL (default: "
        "link-local, unspecified and multicast)",
    )
    allow_networks: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="CIDR networks allowed even when a deny rule covers them",
    )
    deny_private: bool = Field(
        False,
        description="also deny loopback, RFC 1918 and unique-local networks (off: transfers "
        "between internal endpoints are common)",
    )


class CredentialSettings(BaseModel):
    """Access keys, passwords, bearer tokens, the audit log and S3 server access logs."""

    max_active_keys: int = Field(2, ge=1, description="active access keys a user may hold")
    access_token_seconds: int = Field(
        3600, ge=60, description="lifetime of a bearer access token from `lading login`"
    )
    refresh_token_days: float = Field(
        90, gt=0, description="lifetime of a refresh token (for unattended agents)"
    )
    last_used_seconds: float = Field(
        60, gt=0, description="how often a server writes when its keys and tokens were last used"
    )
    audit_flush_seconds: float = Field(
        1.0,
        gt=0,
        description="how often a server writes its buffered audit records (a crash "
        "loses at most this much)",
    )
    audit_retention_days: float = Field(
        400, gt=0, description="audit records older than this are deleted"
    )
    access_log_seconds: float = Field(
        60,
        gt=0,
        description="how often buffered S3 server access-log records are delivered "
        "as one object per logged bucket into its target bucket",
    )


class EventSettings(BaseModel):
    """Delivery of bucket notification events (the outbox) to topics' push endpoints."""

    delivery: bool = Field(
        True, description="run a deliverer in this process (servers and `lading worker`)"
    )
    delivery_seconds: float = Field(
        0.5, gt=0, description="how often an idle deliverer looks for due events"
    )
    batch_size: int = Field(100, ge=1, description="events a deliverer claims at once")
    lease_seconds: float = Field(
        30.0,
        gt=0,
        description="how long claimed events stay reserved to a deliverer; events of a "
        "process that died are sent again after it",
    )
    publish_timeout_seconds: float = Field(
        10.0, gt=0, description="longest wait for a broker or HTTP endpoint to take one event"
    )
    retry_base_seconds: float = Field(
        1.0, gt=0, description="delay before the first retry; it doubles with each failure"
    )
    retry_max_seconds: float = Field(
        300.0, gt=0, description="longest delay between retries (jittered down to half)"
    )
    max_age_seconds: float = Field(
        7 * 86400.0,
        gt=0,
        description="undelivered events older than this are dropped (with a warning)",
    )
    max_pending_per_topic: int = Field(
        1_000_000,
        ge=1,
        description="undelivered events a topic keeps; past it the oldest are dropped "
        "(with a warning)",
    )
    trim_seconds: float = Field(
        60.0, gt=0, description="how often a deliverer applies the two bounds above"
    )


class SmtpSettings(BaseModel):
    """Where share and transfer notices are mailed; without a host they stay in the outbox."""

    host: str = Field("", description="SMTP server; empty: keep messages in the outbox table")
    port: int = Field(587, description="SMTP port")
    sender: str = Field("lading@localhost", description="the From address of notifications")
    starttls: bool = Field(True, description="upgrade the connection with STARTTLS")
    user: str = Field("", description="SMTP login; empty: send without logging in")
    password: SecretStr | None = Field(None, description="SMTP password")
    timeout_seconds: float = Field(10.0, gt=0, description="give up on the SMTP server after")


class Settings(BaseSettings):
    """Lading's configuration; every field also comes from LADING_<NAME> (nested: __)."""

    model_config = SettingsConfigDict(
        env_prefix="LADING_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(Path("./lading-data"), description="blobs, SQLite and credentials")
    address: str = Field("127.0.0.1:9000", description="HOST:PORT to listen on")
    workers: int = Field(1, ge=1, description="server processes")
    server: Literal["uvicorn", "granian"] = Field(
        "uvicorn", description="the HTTP server that runs the ASGI application"
    )
    io_threads: int = Field(
        8, ge=1, description="threads per process for lookups and reads (few: they need the GIL)"
    )
    write_threads: int = Field(
        32, ge=1, description="threads per process for durable writes (many: they wait on fsync)"
    )
    region: str = Field("us-east-1", description="the region this server reports and signs for")
    root_access_key: SecretStr | None = Field(None, description="root user's access key id")
    root_secret_key: SecretStr | None = Field(None, description="root user's secret key")
    log_level: str = Field("info", description="debug, info, warning or error")
    tls_certfile: Path | None = Field(None, description="PEM certificate chain; serve HTTPS")
    tls_keyfile: Path | None = Field(None, description="PEM private key of tls_certfile")
    lifecycle_seconds: float = Field(
        3600.0,
        ge=0,
        description="seconds between background passes applying bucket lifecycle rules "
        "(servers and `lading worker`); 0 disables them",
    )
    usage_flush_seconds: float = Field(
        60.0,
        gt=0,
        description="how often a server process stores the requests and downloaded bytes it "
        "counted per project",
    )
    encryption_keys: dict[str, str] = Field(
        default_factory=dict,
        description="SSE-S3 master keys: key id -> base64 of 32 random bytes; empty: a key is "
        "generated into DATA_DIR/encryption-keys.json on first start",
    )
    encryption_active_key: str = Field(
        "",
        description="id of the master key that wraps new data keys (rotate by adding a key and "
        "making it active); may be empty when one key is configured",
    )
    kms_keys: dict[str, str] = Field(
        default_factory=dict,
        description="SSE-KMS keys clients name in x-amz-server-side-encryption-aws-kms-key-id: "
        "key id -> base64 of 32 random bytes; empty: aws:kms requests are refused",
    )
    storage: StorageSettings = StorageSettings()
    metadata: MetadataSettings = MetadataSettings()
    s3: S3Settings = S3Settings()
    transfers: TransferSettings = TransferSettings()
    outbound: OutboundSettings = OutboundSettings()

    credentials: CredentialSettings = CredentialSettings()
    events: EventSettings = EventSettings()
    smtp: SmtpSettings = SmtpSettings()
    public_url: str = Field(
        "",
        description="the server's URL as users reach it, for share-link URLs; empty: the "
        "URL a request came in on",
    )

    @property
    def metadata_url(self) -> str:
        """The metadata database URL, defaulting to SQLite inside the data directory."""
        return self.metadata.url or f"sqlite:///{self.data_dir.resolve() / 'metadata.db'}"

    @property
    def host(self) -> str:
        return self.address.rpartition(":")[0] or "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self.address.rpartition(":")[2])


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings once; `overrides` are the explicit (command-line) values."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if config_file is None:
        return Settings(**given)
    if not config_file.is_file():
        raise FileNotFoundError(f"config file not found: {config_file}")
    toml_path = config_file

    class FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=toml_path)

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    return Settings.model_validate(
        FromFile(**given).model_dump(mode="python", round_trip=True), strict=False
    )
