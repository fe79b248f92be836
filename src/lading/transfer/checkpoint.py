"""Where a multipart copy records its finished parts, so that it resumes after a crash.

The engine saves a `PartState` after every part and drops it when the file is complete. The
CLI keeps states in memory (`MemoryCheckpoint`) or in a directory of small JSON files
(`FileCheckpoint`, which survives the process); the service keeps them in its database.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass
class PartState:
    """An unfinished multipart write: the upload, its part size and the parts done."""

    upload_id: str
    part_size: int
    size: int
    fingerprint: str  # the source file's identity (size, mtime, checksum) when it began
    parts: dict[int, tuple[str, str]] = field(default_factory=dict)  # number -> (token, md5)

    def to_json(self) -> dict[str, Any]:
        return {
            "upload_id": self.upload_id,
            "part_size": self.part_size,
            "size": self.size,
            "fingerprint": self.fingerprint,
            "parts": {str(n): list(v) for n, v in sorted(self.parts.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PartState:
        return cls(
            str(data["upload_id"]),
            int(data["part_size"]),
            int(data["size"]),
            str(data["fingerprint"]),
            {int(n): (str(v[0]), str(v[1])) for n, v in data.get("parts", {}).items()},
        )


class Checkpoint(Protocol):
    """Keeps part states by key (the destination's identity and path). Thread-safe."""

    def load(self, key: str) -> PartState | None: ...

    def save(self, key: str, state: PartState) -> None: ...

    def drop(self, key: str) -> None: ...


@dataclass
class MemoryCheckpoint:
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, key: str) -> PartState | None:
        with self.lock:
            found = self.states.get(key)
        return None if found is None else PartState.from_json(found)

    def save(self, key: str, state: PartState) -> None:
        with self.lock:
            self.states[key] = state.to_json()

    def drop(self, key: str) -> None:
        with self.lock:
            self.states.pop(key, None)


@dataclass
class FileCheckpoint:
    """One JSON file per key in `directory`, replaced atomically on every save."""

    directory: Path
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _path(self, key: str) -> Path:
        return self.directory / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")

    def load(self, key: str) -> PartState | None:
        try:
            data = json.loads(self._path(key).read_text())
        except (FileNotFoundError, ValueError):
            return None
        return PartState.from_json(data) if data.get("key") == key else None

    def save(self, key: str, state: PartState) -> None:
        path = self._path(key)
        with self.lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps({"key": key, **state.to_json()}))
            os.replace(tmp, path)

    def drop(self, key: str) -> None:
        with self.lock, contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()
