"""Errors of the transfer engine, classified for the retry policy.

    TransferFailure
    ├── Retryable             try again after a backoff (timeouts, 5xx, SlowDown, resets)
    │   ├── EndpointUnavailable(status)
    │   ├── TruncatedRead(path, expected, got)
    │   └── ChecksumMismatch(path, expected, got)   the copy is redone
    └── Fatal                 fail the file at once
        ├── EndpointAccessDenied
        ├── EndpointNotAllowed       the outbound policy forbids connecting to its host
        ├── NoSuchPath(path)
        ├── NoSuchContainer(name)    a bucket or root that does not exist
        ├── PathOutsideRoot(path)
        ├── InvalidPath(path)
        └── QuotaExceeded

Drivers translate their foreign exceptions (OSError, botocore ClientError...) into these at
the boundary; only `engine` decides whether to retry (through `retry`).
"""

from __future__ import annotations


class TransferFailure(Exception):
    """Base of every transfer error; `message` is a sentence for people."""

    default_message = "The transfer failed."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class Retryable(TransferFailure):
    default_message = "A transient error; the operation may succeed if tried again."


class EndpointUnavailable(Retryable):
    """A timeout, reset, 5xx or SlowDown answer; `status` is the HTTP status when known."""

    def __init__(self, message: str | None = None, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class TruncatedRead(Retryable):
    def __init__(self, path: str, expected: int, got: int) -> None:
        self.path, self.expected, self.got = path, expected, got
        super().__init__(f"{path}: read {got} of {expected} bytes")


class ChecksumMismatch(Retryable):
    def __init__(self, path: str, expected: str, got: str) -> None:
        self.path, self.expected, self.got = path, expected, got
        super().__init__(f"{path}: checksum {got} does not match the source's {expected}")


class Fatal(TransferFailure):
    default_message = "A permanent error; trying again will not help."


class EndpointAccessDenied(Fatal):
    default_message = "Access denied by the endpoint."


class EndpointNotAllowed(Fatal):
    default_message = "The server's outbound settings forbid connecting to the endpoint."


class NoSuchPath(Fatal):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"{path}: no such file or directory")


class NoSuchContainer(Fatal):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"{name}: no such bucket or root")


class PathOutsideRoot(Fatal):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"{path}: outside the endpoint's root")


class InvalidPath(Fatal):
    def __init__(self, path: str, reason: str = "not a valid path") -> None:
        self.path = path
        super().__init__(f"{path!r}: {reason}")


class QuotaExceeded(Fatal):
    default_message = "The destination is out of space or over its quota."
