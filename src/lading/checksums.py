"""S3 object checksums: CRC32, CRC32C, CRC64NVME, SHA1 and SHA256, and their multipart forms."""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable

from awscrt import checksums as _crt  # type: ignore[import-untyped]

from lading.errors import InvalidArgument, InvalidChecksum

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
CRC_ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME")

DIGEST_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}

# Reflected polynomials and widths of the CRCs; all three start from and end with all ones.
_CRC_PARAMS = {
    "CRC32": (0xEDB88320, 32),
    "CRC32C": (0x82F63B78, 32),
    "CRC64NVME": (0x9A6C9329AC4BC9B5, 64),
}


def normalize_algorithm(algorithm: str) -> str:
    """Return S3's upper-case name of `algorithm`, or raise InvalidArgument."""
    name = algorithm.strip().upper()
    if name not in DIGEST_SIZES:
        raise InvalidArgument(f"Checksum algorithm {algorithm!r} is not supported.")
    return name


def _crc32(data: bytes | memoryview, previous: int) -> int:
    """Update a zlib CRC32."""
    return zlib.crc32(data, previous)


def _crc32c(data: bytes | memoryview, previous: int) -> int:
    """Update a CRC32C (Castagnoli)."""
    result: int = _crt.crc32c(data, previous)
    return result


def _crc64nvme(data: bytes | memoryview, previous: int) -> int:
    """Update a CRC64NVME."""
    result: int = _crt.crc64nvme(data, previous)
    return result


_CRC_FUNCTIONS: dict[str, Callable[[bytes | memoryview, int], int]] = {
    "CRC32": _crc32,
    "CRC32C": _crc32c,
    "CRC64NVME": _crc64nvme,
}


class Checksum:
    """An incremental checksum with S3's digest encoding."""

    __slots__ = ("algorithm", "_crc", "_crc_update", "_hash")

    def __init__(self, algorithm: str) -> None:
        self.algorithm = normalize_algorithm(algorithm)
        self._crc = 0
        self._crc_update = _CRC_FUNCTIONS.get(self.algorithm)
        self._hash = None if self._crc_update else hashlib.new(self.algorithm.lower())

    def update(self, data: bytes | memoryview) -> None:
        """Feed more data."""
        if self._hash is not None:
            self._hash.update(data)
        elif self._crc_update is not None:
            self._crc = self._crc_update(data, self._crc)

    @property
    def crc(self) -> int:
        """The running CRC as an integer (0 for the SHA algorithms)."""
        return self._crc

    def digest(self) -> bytes:
        """Digest bytes; CRCs are big-endian."""
        if self._hash is not None:
            return self._hash.digest()
        return self._crc.to_bytes(DIGEST_SIZES[self.algorithm], "big")

    def b64(self) -> str:
        """Base64 of the digest, as S3's x-amz-checksum-* headers carry it."""
        return base64.b64encode(self.digest()).decode("ascii")


def new_checksum(algorithm: str) -> Checksum:
    """Return an empty checksum of `algorithm` (case-insensitive)."""
    return Checksum(algorithm)


def _crc_params(algorithm: str) -> tuple[int, int]:
    """Polynomial and width of a CRC algorithm, or InvalidArgument."""
    name = normalize_algorithm(algorithm)
    params = _CRC_PARAMS.get(name)
    if params is None:
        raise InvalidArgument(f"{name} is not a CRC; it cannot be combined.")
    return params


def _multmodp(a: int, b: int, poly: int, width: int) -> int:
    """Multiply two polynomials modulo the CRC polynomial (reflected bit order)."""
    m = 1 << (width - 1)
    p = 0
    while True:
        if a & m:
            p ^= b
            if (a & (m - 1)) == 0:
                break
        m >>= 1
        b = (b >> 1) ^ poly if b & 1 else b >> 1
    return p


def _x2n_table(poly: int, width: int) -> tuple[int, ...]:
    """x^(2^k) modulo the polynomial for k in 0..66 (enough for 2^64-byte lengths)."""
    table = []
    p = 1 << (width - 2)  # x^1
    for _ in range(67):
        table.append(p)
        p = _multmodp(p, p, poly, width)
    return tuple(table)


_X2N_TABLES = {name: _x2n_table(poly, width) for name, (poly, width) in _CRC_PARAMS.items()}


def combine_crc(algorithm: str, crc_a: int, crc_b: int, len_b: int) -> int:
    """CRC of A+B from CRC(A), CRC(B) and len(B), without the data (zlib's crc32_combine)."""
    poly, width = _crc_params(algorithm)
    if len_b < 0:
        raise InvalidArgument("The length of a combined block cannot be negative.")
    if len_b == 0:
        return crc_a
    table = _X2N_TABLES[normalize_algorithm(algorithm)]
    # x^(8 * len_b) mod P: one factor x^(2^k) per set bit of the length in bits.
    factor = 1 << (width - 1)  # x^0
    k = 3
    n = len_b
    while n:
        if n & 1:
            factor = _multmodp(table[k], factor, poly, width)
        n >>= 1
        k += 1
    return _multmodp(factor, crc_a, poly, width) ^ crc_b


def full_object_checksum(algorithm: str, parts: list[tuple[bytes, int]]) -> str:
    """Base64 CRC of the whole object from (part digest, part length) pairs."""
    name = normalize_algorithm(algorithm)
    _crc_params(name)
    size = DIGEST_SIZES[name]
    crc = 0
    for digest, length in parts:
        if len(digest) != size:
            raise InvalidChecksum(name)
        crc = combine_crc(name, crc, int.from_bytes(digest, "big"), length)
    return base64.b64encode(crc.to_bytes(size, "big")).decode("ascii")


def composite_checksum(algorithm: str, part_digests: list[bytes]) -> str:
    """S3's COMPOSITE checksum: base64(hash of the concatenated part digests) + "-N"."""
    checksum = new_checksum(algorithm)
    for digest in part_digests:
        checksum.update(digest)
    return f"{checksum.b64()}-{len(part_digests)}"


def decode_b64_digest(algorithm: str, value: str) -> bytes:
    """Decode a base64 checksum value and check its length, or raise InvalidChecksum."""
    name = normalize_algorithm(algorithm)
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidChecksum(name) from None
    if len(digest) != DIGEST_SIZES[name]:
        raise InvalidChecksum(name)
    return digest
