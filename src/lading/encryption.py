"""Server-side encryption (SSE-S3, SSE-KMS, SSE-C) of object data in authenticated chunks.

Layout of an encrypted object. The plaintext is cut into chunks of `chunk_size` bytes (64 KiB
unless the envelope says otherwise); only the last chunk may be shorter, and an empty object is
one empty final chunk, so every object has at least one chunk and truncating it to nothing is
detected. Chunk `i` is stored as

    AES-256-GCM(data key, nonce = nonce_prefix (8 bytes) || i (4 bytes, big-endian),
                associated data = i (4 bytes, big-endian) || final (1 byte, 0 or 1))

that is its ciphertext followed by its 16-byte tag, and the chunks are concatenated with nothing
between them. The ciphertext of an object of n plaintext bytes is therefore
n + 16 * max(1, ceil(n / chunk_size)) bytes, and plaintext byte p lives in chunk p // chunk_size,
which is what lets a Range GET read and decrypt only the chunks it needs. The chunk index in the
nonce and the associated data stops chunks from being reordered; the final flag stops the object
from being cut short at a chunk boundary.

Every object has its own random 32-byte data key. Under SSE-S3 the data key is stored wrapped
(AES-256-GCM) under a master key of the `Keyring`, whose id the envelope names, so rotating the
master key only rewraps data keys. Under SSE-KMS the data key is wrapped the same way under the KMS
key the client named (a separate keyring, with its own associated-data label). Under SSE-C the data
key is derived from the customer's key and a random per-object salt; the customer's key itself is
never stored, only its MD5 (which S3 echoes back) and a keyed check value that tells a wrong key
apart on GET.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lading import errors

ALGORITHM = "AES256"  # the only value S3 accepts for SSE-S3 and SSE-C
SSE_S3 = "SSE-S3"
SSE_C = "SSE-C"
SSE_KMS = "SSE-KMS"
MODES = (SSE_S3, SSE_C, SSE_KMS)
WRAPPED_MODES = (SSE_S3, SSE_KMS)  # data key wrapped under a named key of a Keyring

CHUNK_SIZE = 64 * 1024  # plaintext bytes per encrypted chunk
MAX_CHUNK_SIZE = 16 * 1024 * 1024
TAG_SIZE = 16  # GCM tag appended to every chunk
KEY_SIZE = 32  # AES-256
NONCE_PREFIX_SIZE = 8  # per object; the chunk index fills the other 4 bytes of the GCM nonce
MAX_CHUNKS = 2**32  # the chunk index is 4 bytes
SALT_SIZE = 16  # SSE-C: per-object salt of the derived data key and the key check
FORMAT_VERSION = "1"

_WRAP_NONCE_SIZE = 12
_WRAPPED_KEY_SIZE = _WRAP_NONCE_SIZE + KEY_SIZE + TAG_SIZE
_WRAP_AAD = b"lading/sse-s3/data-key/v1\x00"
_KMS_WRAP_AAD = b"lading/sse-kms/data-key/v1\x00"
_SEAL_AAD = b"lading/sealed-secret/v1\x00"
SEALED_PREFIX = "sealed:v1:"  # a secret stored with Keyring.seal
_SSE_C_DATA_KEY_LABEL = b"lading/sse-c/data-key/v1\x00"
_SSE_C_CHECK_LABEL = b"lading/sse-c/key-check/v1\x00"
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

_SSE_C_PREFIX = (
    "Requests specifying Server Side Encryption with Customer provided keys must provide "
)
_WRONG_CUSTOMER_KEY = "The provided customer key does not match the key used to encrypt the object"
_TAMPERED = "The stored data failed its integrity check"


# --- sizes -----------------------------------------------------------------------------------


def chunk_count(plaintext_size: int, chunk: int = CHUNK_SIZE) -> int:
    """Number of chunks of an object of `plaintext_size` bytes (an empty object has one)."""
    if plaintext_size < 0:
        raise ValueError("plaintext size must not be negative")
    return max(1, -(-plaintext_size // chunk))


def encrypted_size(plaintext_size: int, chunk: int = CHUNK_SIZE) -> int:
    """Bytes of ciphertext stored for an object of `plaintext_size` bytes."""
    return plaintext_size + TAG_SIZE * chunk_count(plaintext_size, chunk)


# --- the envelope ----------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    """Standard base64 text of `data`."""
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, field: str, size: int | None = None) -> bytes:
    """Bytes of the base64 `text` of envelope field `field`, optionally of an exact size."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"encryption envelope field {field!r} is not valid base64") from exc
    if size is not None and len(data) != size:
        raise ValueError(f"encryption envelope field {field!r} must be {size} bytes")
    return data


@dataclass(frozen=True, kw_only=True)
class Envelope:
    """How one object was encrypted; stored with the object's metadata, never its key."""

    mode: str  # SSE_S3, SSE_KMS or SSE_C
    nonce_prefix: bytes
    chunk_size: int = CHUNK_SIZE
    plaintext_size: int = 0
    algorithm: str = ALGORITHM
    # SSE-S3 / SSE-KMS: the master (or KMS) key id and the data key wrapped under that key
    key_id: str | None = None
    wrapped_key: bytes | None = None
    # SSE-C: base64 MD5 of the customer key (echoed in responses), salt and keyed check value
    customer_key_md5: str | None = None
    key_salt: bytes | None = None
    key_check: bytes | None = None

    def __post_init__(self) -> None:
        if self.algorithm != ALGORITHM:
            raise ValueError(f"unsupported encryption algorithm {self.algorithm!r}")
        if len(self.nonce_prefix) != NONCE_PREFIX_SIZE:
            raise ValueError(f"nonce prefix must be {NONCE_PREFIX_SIZE} bytes")
        if not 1 <= self.chunk_size <= MAX_CHUNK_SIZE:
            raise ValueError(f"chunk size must be between 1 and {MAX_CHUNK_SIZE}")
        if self.plaintext_size < 0:
            raise ValueError("plaintext size must not be negative")
        if chunk_count(self.plaintext_size, self.chunk_size) > MAX_CHUNKS:
            raise ValueError("object has more chunks than a 4-byte index can number")
        s3_fields = (self.key_id, self.wrapped_key)
        c_fields = (self.customer_key_md5, self.key_salt, self.key_check)
        if self.mode in WRAPPED_MODES:
            if (
                self.key_id is None
                or self.wrapped_key is None
                or any(f is not None for f in c_fields)
            ):
                raise ValueError(f"an {self.mode} envelope needs key_id and wrapped_key only")
            if len(self.wrapped_key) != _WRAPPED_KEY_SIZE:
                raise ValueError(f"wrapped key must be {_WRAPPED_KEY_SIZE} bytes")
        elif self.mode == SSE_C:
            if any(f is None for f in c_fields) or any(f is not None for f in s3_fields):
                raise ValueError(
                    "an SSE-C envelope needs customer_key_md5, key_salt and key_check only"
                )
            if self.key_salt is not None and len(self.key_salt) != SALT_SIZE:
                raise ValueError(f"key salt must be {SALT_SIZE} bytes")
            if self.key_check is not None and len(self.key_check) != 32:
                raise ValueError("key check must be 32 bytes")
        else:
            raise ValueError(f"unknown encryption mode {self.mode!r}")

    @property
    def chunk_count(self) -> int:
        """Number of encrypted chunks of the object."""
        return chunk_count(self.plaintext_size, self.chunk_size)

    @property
    def encrypted_size(self) -> int:
        """Bytes of ciphertext stored for the object."""
        return encrypted_size(self.plaintext_size, self.chunk_size)

    def with_size(self, plaintext_size: int) -> Envelope:
        """This envelope for an object of `plaintext_size` bytes."""
        return replace(self, plaintext_size=plaintext_size)

    def to_json(self) -> dict[str, str]:
        """The envelope as a flat string mapping for the object's metadata."""
        out = {
            "v": FORMAT_VERSION,
            "algorithm": self.algorithm,
            "mode": self.mode,
            "chunk-size": str(self.chunk_size),
            "size": str(self.plaintext_size),
            "nonce-prefix": _b64(self.nonce_prefix),
        }
        if self.key_id is not None:
            out["key-id"] = self.key_id
        if self.wrapped_key is not None:
            out["wrapped-key"] = _b64(self.wrapped_key)
        if self.customer_key_md5 is not None:
            out["customer-key-md5"] = self.customer_key_md5
        if self.key_salt is not None:
            out["key-salt"] = _b64(self.key_salt)
        if self.key_check is not None:
            out["key-check"] = _b64(self.key_check)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> Envelope:
        """The envelope stored by `to_json`; ValueError if it is malformed."""
        if data.get("v") != FORMAT_VERSION:
            raise ValueError(f"unsupported encryption envelope version {data.get('v')!r}")
        try:
            mode = data["mode"]
            algorithm = data["algorithm"]
            chunk_text, size_text = data["chunk-size"], data["size"]
            nonce_text = data["nonce-prefix"]
        except KeyError as exc:
            raise ValueError(f"encryption envelope lacks field {exc.args[0]!r}") from None
        if not (chunk_text.isdigit() and size_text.isdigit()):
            raise ValueError("encryption envelope sizes must be decimal integers")

        def optional(field: str, size: int | None = None) -> bytes | None:
            text = data.get(field)
            return None if text is None else _unb64(text, field, size)

        return cls(
            mode=mode,
            algorithm=algorithm,
            chunk_size=int(chunk_text),
            plaintext_size=int(size_text),
            nonce_prefix=_unb64(nonce_text, "nonce-prefix", NONCE_PREFIX_SIZE),
            key_id=data.get("key-id"),
            wrapped_key=optional("wrapped-key", _WRAPPED_KEY_SIZE),
            customer_key_md5=data.get("customer-key-md5"),
            key_salt=optional("key-salt", SALT_SIZE),
            key_check=optional("key-check", 32),
        )


def _check_chunk_size(chunk_size: int) -> None:
    """Refuse a chunk size the envelope could not record."""
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk size must be between 1 and {MAX_CHUNK_SIZE}")


def _check_data_key(data_key: bytes) -> None:
    """Refuse a data key that is not an AES-256 key."""
    if len(data_key) != KEY_SIZE:
        raise ValueError(f"data key must be {KEY_SIZE} bytes")


# --- SSE-S3: master keys ---------------------------------------------------------------------


class Keyring:
    """The server's master keys by id; new data keys are wrapped under the active one."""

    def __init__(self, keys: Mapping[str, bytes], active: str, *, label: bytes = _WRAP_AAD) -> None:
        if not keys:
            raise ValueError("an encryption keyring needs at least one master key")
        for key_id, key in keys.items():
            if not _KEY_ID.fullmatch(key_id):
                raise ValueError(
                    f"master key id {key_id!r} must be 1-64 letters, digits, '.', '_', ':' "
                    "or '-', starting with a letter or digit"
                )
            if len(key) != KEY_SIZE:
                raise ValueError(f"master key {key_id!r} must be {KEY_SIZE} bytes")
        if active not in keys:
            raise ValueError(f"the active master key {active!r} is not among the master keys")
        self._ciphers = {key_id: AESGCM(bytes(key)) for key_id, key in keys.items()}
        self._active = active
        self._label = label  # what the wrapped keys are for: SSE-S3 or SSE-KMS

    @classmethod
    def from_settings(
        cls, spec: Mapping[str, str], active: str, *, label: bytes = _WRAP_AAD
    ) -> Keyring:
        """A keyring from key ids mapped to base64-encoded 32-byte keys."""
        keys: dict[str, bytes] = {}
        for key_id, text in spec.items():
            try:
                key = base64.b64decode("".join(text.split()), validate=True)
            except (binascii.Error, ValueError):
                key = b""
            if len(key) != KEY_SIZE:
                raise ValueError(
                    f"master key {key_id!r} must be the base64 encoding of exactly {KEY_SIZE} "
                    "bytes (generate one with `openssl rand -base64 32`)"
                )
            keys[key_id] = key
        return cls(keys, active, label=label)

    def __repr__(self) -> str:
        return f"Keyring(key_ids={sorted(self._ciphers)!r}, active={self._active!r})"

    @property
    def active_id(self) -> str:
        """Id of the master key that wraps new data keys."""
        return self._active

    @property
    def key_ids(self) -> frozenset[str]:
        """Ids of every master key this keyring can unwrap with."""
        return frozenset(self._ciphers)

    def wrap_data_key(self, data_key: bytes) -> tuple[str, bytes]:
        """The active key id and `data_key` wrapped under that master key."""
        return self._active, self.wrap_under(self._active, data_key)

    def wrap_under(self, key_id: str, data_key: bytes) -> bytes:
        """`data_key` wrapped under the key named `key_id` (which must be in the keyring)."""
        _check_data_key(data_key)
        nonce = os.urandom(_WRAP_NONCE_SIZE)
        aad = self._label + key_id.encode()
        return nonce + self._ciphers[key_id].encrypt(nonce, data_key, aad)

    def unwrap_data_key(self, key_id: str, wrapped: bytes) -> bytes:
        """The data key `wrapped` under master key `key_id`."""
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise errors.LadingError(
                f"The object's data key is wrapped under master key {key_id!r}, "
                "which is not configured on this server."
            )
        nonce, sealed = wrapped[:_WRAP_NONCE_SIZE], wrapped[_WRAP_NONCE_SIZE:]
        try:
            return cipher.decrypt(nonce, sealed, self._label + key_id.encode())
        except InvalidTag:
            raise errors.LadingError(
                f"The object's data key could not be unwrapped with master key {key_id!r}; "
                "the key configured under that id is not the one it was wrapped with."
            ) from None

    def seal(self, secret: bytes, purpose: bytes) -> str:
        """`secret` encrypted under the active master key, as text naming that key.

        `purpose` is bound as associated data, so a value sealed for one use cannot be
        opened for another.
        """
        nonce = os.urandom(_WRAP_NONCE_SIZE)
        aad = _SEAL_AAD + purpose + b"\x00" + self._active.encode()
        sealed = self._ciphers[self._active].encrypt(nonce, secret, aad)
        return f"{SEALED_PREFIX}{self._active}:{_b64(nonce + sealed)}"

    def open_sealed(self, text: str, purpose: bytes) -> bytes:
        """The secret `seal` made into `text`; LadingError if it cannot be opened."""
        key_id, _, body = text.removeprefix(SEALED_PREFIX).partition(":")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise errors.LadingError(
                f"A stored secret is sealed under master key {key_id!r}, which is not configured."
            )
        try:
            raw = base64.b64decode(body, validate=True)
            aad = _SEAL_AAD + purpose + b"\x00" + key_id.encode()
            return cipher.decrypt(raw[:_WRAP_NONCE_SIZE], raw[_WRAP_NONCE_SIZE:], aad)
        except (InvalidTag, binascii.Error, ValueError):
            raise errors.LadingError(
                f"A stored secret failed its integrity check under master key {key_id!r}."
            ) from None

    def needs_rewrap(self, envelope: Envelope) -> bool:
        """Whether `envelope` is SSE-S3 under a master key other than the active one."""
        return envelope.mode == SSE_S3 and envelope.key_id != self._active

    def rewrap(self, envelope: Envelope) -> Envelope:
        """`envelope` with its data key wrapped under the active master key; data untouched.

        An envelope that needs no rewrap (SSE-C, or already under the active key) is returned
        as it is.
        """
        if not self.needs_rewrap(envelope):
            return envelope
        data_key = unwrap(self, envelope)
        key_id, wrapped = self.wrap_data_key(data_key)
        return replace(envelope, key_id=key_id, wrapped_key=wrapped)


def new_sse_s3(keyring: Keyring, chunk_size: int = CHUNK_SIZE) -> tuple[Envelope, bytes]:
    """A fresh SSE-S3 envelope (size 0 until an Encryptor finishes) and its data key."""
    _check_chunk_size(chunk_size)
    data_key = os.urandom(KEY_SIZE)
    key_id, wrapped = keyring.wrap_data_key(data_key)
    envelope = Envelope(
        mode=SSE_S3,
        nonce_prefix=os.urandom(NONCE_PREFIX_SIZE),
        chunk_size=chunk_size,
        key_id=key_id,
        wrapped_key=wrapped,
    )
    return envelope, data_key


def unwrap(keyring: Keyring, envelope: Envelope) -> bytes:
    """The data key of an SSE-S3 (or, given the KMS keyring, SSE-KMS) envelope."""
    if (
        envelope.mode not in WRAPPED_MODES
        or envelope.key_id is None
        or envelope.wrapped_key is None
    ):
        raise ValueError("only an SSE-S3 or SSE-KMS envelope has a wrapped data key")
    return keyring.unwrap_data_key(envelope.key_id, envelope.wrapped_key)


# --- SSE-KMS: keys named by the client -------------------------------------------------------


def kms_keyring(spec: Mapping[str, str]) -> Keyring | None:
    """The KMS keys (key id -> base64 of 32 bytes) clients name in SSE-KMS requests; None if
    there are none. A KMS key wraps the data keys of the objects encrypted under it."""
    if not spec:
        return None
    return Keyring.from_settings(spec, next(iter(spec)), label=_KMS_WRAP_AAD)


def new_sse_kms(
    kms: Keyring, kms_key_id: str, chunk_size: int = CHUNK_SIZE
) -> tuple[Envelope, bytes]:
    """A fresh SSE-KMS envelope under KMS key `kms_key_id` and its data key."""
    _check_chunk_size(chunk_size)
    if kms_key_id not in kms.key_ids:
        raise ValueError(f"unknown KMS key {kms_key_id!r}")
    data_key = os.urandom(KEY_SIZE)
    envelope = Envelope(
        mode=SSE_KMS,
        nonce_prefix=os.urandom(NONCE_PREFIX_SIZE),
        chunk_size=chunk_size,
        key_id=kms_key_id,
        wrapped_key=kms.wrap_under(kms_key_id, data_key),
    )
    return envelope, data_key


# --- SSE-C: customer keys --------------------------------------------------------------------


def customer_key_md5(customer_key: bytes) -> str:
    """Base64 MD5 of a customer key, as in x-amz-server-side-encryption-customer-key-MD5."""
    return _b64(hashlib.md5(customer_key, usedforsecurity=False).digest())


def sse_c_key(algorithm: str | None, key_b64: str | None, key_md5_b64: str | None) -> bytes:
    """The 32-byte customer key of the three SSE-C headers, validated as S3 does.

    Call it when any of the headers is present; a missing one is an error.
    """
    if algorithm is None:
        raise errors.InvalidArgument(_SSE_C_PREFIX + "a valid encryption algorithm.")
    if algorithm != ALGORITHM:
        raise errors.InvalidEncryptionAlgorithm(
            "The Encryption request you specified is not valid. Supported value: AES256."
        )
    if key_b64 is None:
        raise errors.InvalidArgument(_SSE_C_PREFIX + "an appropriate secret key.")
    if key_md5_b64 is None:
        raise errors.InvalidArgument(_SSE_C_PREFIX + "the client calculated MD5 of the secret key.")
    try:
        key = base64.b64decode(key_b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_SIZE:
        raise errors.InvalidArgument("The secret key was invalid for the specified algorithm.")
    try:
        provided_md5 = base64.b64decode(key_md5_b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        provided_md5 = b""
    if not hmac.compare_digest(hashlib.md5(key, usedforsecurity=False).digest(), provided_md5):
        raise errors.InvalidArgument(
            "The calculated MD5 hash of the key did not match the hash that was provided."
        )
    return key


def _sse_c_derive(customer_key: bytes, salt: bytes) -> tuple[bytes, bytes]:
    """The data key and the key check value of a customer key under `salt`."""
    data_key = hmac.digest(customer_key, _SSE_C_DATA_KEY_LABEL + salt, "sha256")
    check = hmac.digest(customer_key, _SSE_C_CHECK_LABEL + salt, "sha256")
    return data_key, check


def new_sse_c(customer_key: bytes, chunk_size: int = CHUNK_SIZE) -> tuple[Envelope, bytes]:
    """A fresh SSE-C envelope (size 0 until an Encryptor finishes) and its data key."""
    _check_chunk_size(chunk_size)
    if len(customer_key) != KEY_SIZE:
        raise ValueError(f"customer key must be {KEY_SIZE} bytes")
    salt = os.urandom(SALT_SIZE)
    data_key, check = _sse_c_derive(customer_key, salt)
    envelope = Envelope(
        mode=SSE_C,
        nonce_prefix=os.urandom(NONCE_PREFIX_SIZE),
        chunk_size=chunk_size,
        customer_key_md5=customer_key_md5(customer_key),
        key_salt=salt,
        key_check=check,
    )
    return envelope, data_key


def sse_c_data_key(envelope: Envelope, customer_key: bytes) -> bytes:
    """The data key of an SSE-C envelope; AccessDenied if `customer_key` is not its key."""
    if envelope.mode != SSE_C or envelope.key_salt is None or envelope.key_check is None:
        raise ValueError("only an SSE-C envelope is opened with a customer key")
    data_key, check = _sse_c_derive(customer_key, envelope.key_salt)
    if not hmac.compare_digest(check, envelope.key_check):
        raise errors.AccessDenied(_WRONG_CUSTOMER_KEY)
    return data_key


# --- chunks ----------------------------------------------------------------------------------


def _nonce(prefix: bytes, index: int) -> bytes:
    """GCM nonce of chunk `index`."""
    return prefix + index.to_bytes(4, "big")


def _aad(index: int, final: bool) -> bytes:
    """Associated data of chunk `index`."""
    return index.to_bytes(4, "big") + (b"\x01" if final else b"\x00")


class Encryptor:
    """Encrypts one object's plaintext as it streams in, a whole chunk at a time."""

    def __init__(self, envelope: Envelope, data_key: bytes) -> None:
        _check_data_key(data_key)
        self._envelope = envelope
        self._aes = AESGCM(data_key)
        self._chunk = envelope.chunk_size
        self._pending = bytearray()
        self._index = 0
        self._size = 0
        self._finished = False

    @property
    def plaintext_size(self) -> int:
        """Plaintext bytes fed so far."""
        return self._size

    @property
    def envelope(self) -> Envelope:
        """The envelope with the object's plaintext size, once `finish` has run."""
        if not self._finished:
            raise RuntimeError("the encryptor has not finished")
        return self._envelope.with_size(self._size)

    def _seal(self, plaintext: bytes | bytearray | memoryview, final: bool) -> bytes:
        """The stored form of the next chunk."""
        if self._index >= MAX_CHUNKS:
            raise errors.EntityTooLarge()
        index = self._index
        self._index += 1
        return self._aes.encrypt(
            _nonce(self._envelope.nonce_prefix, index), plaintext, _aad(index, final)
        )

    def feed(self, data: bytes | bytearray | memoryview) -> bytes:
        """Ciphertext of every chunk completed by `data` (a chunk that may be the last waits)."""
        if self._finished:
            raise RuntimeError("the encryptor has finished")
        view = memoryview(data).cast("B")
        self._size += len(view)
        chunk = self._chunk
        out: list[bytes] = []
        if self._pending:
            need = chunk - len(self._pending)
            if len(view) <= need:  # a full chunk is held back until more data shows it is not last
                self._pending += view
                return b""
            self._pending += view[:need]
            view = view[need:]
            out.append(self._seal(self._pending, final=False))
            self._pending.clear()
        offset, end = 0, len(view)
        while end - offset > chunk:
            out.append(self._seal(view[offset : offset + chunk], final=False))
            offset += chunk
        self._pending += view[offset:]
        return b"".join(out)

    def finish(self) -> bytes:
        """Ciphertext of the final chunk (empty plaintext makes an empty final chunk)."""
        if self._finished:
            raise RuntimeError("the encryptor has finished")
        sealed = self._seal(self._pending, final=True)
        self._pending = bytearray()
        self._finished = True
        return sealed


class CipherRange(NamedTuple):
    """The stored bytes to read for a plaintext range, and where the range starts in them."""

    cipher_start: int  # first ciphertext byte to read
    cipher_end: int  # one past the last ciphertext byte to read
    skip: int  # plaintext bytes of the first chunk before the range
    first_chunk: int  # index of the first chunk read


def ciphertext_range(
    envelope: Envelope, start: int, end_inclusive: int | None = None
) -> CipherRange:
    """The chunks holding plaintext bytes `start`..`end_inclusive` (None: to the end).

    The whole of an empty object is `ciphertext_range(envelope, 0)`: its one empty chunk.
    """
    size, chunk = envelope.plaintext_size, envelope.chunk_size
    end = size - 1 if end_inclusive is None else end_inclusive
    if size == 0 and start == 0 and end_inclusive is None:
        return CipherRange(0, TAG_SIZE, 0, 0)
    if not 0 <= start <= end < size:
        raise ValueError(f"byte range {start}-{end} is not within an object of {size} bytes")
    first, last = start // chunk, end // chunk
    stride = chunk + TAG_SIZE
    cipher_end = (last + 1) * stride if last + 1 < envelope.chunk_count else envelope.encrypted_size
    return CipherRange(first * stride, cipher_end, start - first * chunk, first)


class Decryptor:
    """Decrypts and verifies the chunks of one plaintext range as their ciphertext streams in."""

    def __init__(
        self,
        envelope: Envelope,
        data_key: bytes,
        first_chunk_index: int,
        skip: int,
        length: int,
    ) -> None:
        _check_data_key(data_key)
        chunk, size = envelope.chunk_size, envelope.plaintext_size
        begin = first_chunk_index * chunk + skip
        if (
            first_chunk_index < 0
            or first_chunk_index >= envelope.chunk_count
            or not 0 <= skip < chunk
            or length < 0
            or begin + length > size
        ):
            raise ValueError(
                f"cannot read {length} bytes at chunk {first_chunk_index} + {skip} "
                f"of an object of {size} bytes"
            )
        self._aes = AESGCM(data_key)
        self._prefix = envelope.nonce_prefix
        self._chunk = chunk
        self._size = size
        self._final_index = envelope.chunk_count - 1
        self._index = first_chunk_index
        self._last = (begin + length - 1) // chunk if length else first_chunk_index
        self._skip = skip
        self._remaining = length
        self._buffer = bytearray()
        self._done = False

    def _stored_length(self, index: int) -> int:
        """Ciphertext bytes of chunk `index`."""
        return min(self._chunk, self._size - index * self._chunk) + TAG_SIZE

    def _open(self, sealed: bytes | bytearray | memoryview) -> bytes:
        """The requested plaintext of the current chunk, verified."""
        index = self._index
        try:
            plaintext = self._aes.decrypt(
                _nonce(self._prefix, index), sealed, _aad(index, index == self._final_index)
            )
        except InvalidTag:
            raise errors.BadDigest(_TAMPERED) from None
        self._index += 1
        self._done = index == self._last
        skip, self._skip = self._skip, 0
        take = min(self._remaining, len(plaintext) - skip)
        self._remaining -= take
        if skip == 0 and take == len(plaintext):
            return plaintext
        return plaintext[skip : skip + take]

    def feed(self, data: bytes | bytearray | memoryview) -> bytes:
        """Plaintext of the range from every chunk completed by `data`."""
        view = memoryview(data).cast("B")
        out: list[bytes] = []
        while view and not self._done:
            need = self._stored_length(self._index) - len(self._buffer)
            if len(view) < need:
                self._buffer += view
                return b"".join(out)
            if self._buffer:
                self._buffer += view[:need]
                out.append(self._open(self._buffer))
                self._buffer.clear()
            else:
                out.append(self._open(view[:need]))
            view = view[need:]
        if view:
            raise errors.BadDigest(_TAMPERED)
        return b"".join(out)

    def finish(self) -> bytes:
        """Check that every chunk of the range arrived (the stored data was not cut short)."""
        if not self._done:
            raise errors.BadDigest(_TAMPERED)
        return b""


def decrypt_all(envelope: Envelope, data_key: bytes, data: bytes) -> bytes:
    """The whole plaintext of an object from its whole ciphertext."""
    decryptor = Decryptor(envelope, data_key, 0, 0, envelope.plaintext_size)
    return decryptor.feed(data) + decryptor.finish()
