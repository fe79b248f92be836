"""Tests of lading.checksums against zlib, awscrt, hashlib and botocore's own checksums."""

from __future__ import annotations

import base64
import hashlib
import random
import zlib
from collections.abc import Callable

import pytest
from awscrt import checksums as crt
from botocore import httpchecksum

from lading import checksums
from lading.checksums import (
    ALGORITHMS,
    combine_crc,
    composite_checksum,
    decode_b64_digest,
    full_object_checksum,
    new_checksum,
)
from lading.errors import InvalidArgument, InvalidChecksum

CRC_FUNCTIONS: dict[str, Callable[[bytes], int]] = {
    "CRC32": lambda data: zlib.crc32(data),
    "CRC32C": lambda data: crt.crc32c(data),
    "CRC64NVME": lambda data: crt.crc64nvme(data),
}

REFERENCE_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "CRC32": lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "CRC32C": lambda data: crt.crc32c(data).to_bytes(4, "big"),
    "CRC64NVME": lambda data: crt.crc64nvme(data).to_bytes(8, "big"),
    "SHA1": lambda data: hashlib.sha1(data).digest(),
    "SHA256": lambda data: hashlib.sha256(data).digest(),
}

BOTOCORE_CLASSES = {
    "CRC32": httpchecksum.Crc32Checksum,
    "CRC32C": httpchecksum.CrtCrc32cChecksum,
    "CRC64NVME": httpchecksum.CrtCrc64NvmeChecksum,
    "SHA1": httpchecksum.Sha1Checksum,
    "SHA256": httpchecksum.Sha256Checksum,
}

# Check values of the catalogue of parametrised CRC algorithms, over b"123456789".
CHECK_VALUES = {
    "CRC32": 0xCBF43926,
    "CRC32C": 0xE3069283,
    "CRC64NVME": 0xAE8B14860A799888,
}

DIGEST_LENGTHS = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}


def test_algorithm_names_are_s3s() -> None:
    assert ALGORITHMS == ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")


@pytest.mark.parametrize("algorithm", sorted(CHECK_VALUES))
def test_crc_check_values(algorithm: str) -> None:
    checksum = new_checksum(algorithm)
    checksum.update(b"123456789")
    assert checksum.digest() == CHECK_VALUES[algorithm].to_bytes(DIGEST_LENGTHS[algorithm], "big")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("size", [0, 1, 3, 4096, 100_003])
def test_digest_matches_reference_and_botocore(algorithm: str, size: int) -> None:
    data = random.Random(size).randbytes(size)
    checksum = new_checksum(algorithm)
    checksum.update(data)
    assert checksum.digest() == REFERENCE_DIGESTS[algorithm](data)
    assert len(checksum.digest()) == DIGEST_LENGTHS[algorithm]
    theirs = BOTOCORE_CLASSES[algorithm]()
    theirs.update(data)
    assert checksum.b64() == theirs.b64digest()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_incremental_updates_with_memoryview(algorithm: str) -> None:
    data = random.Random(7).randbytes(50_000)
    view = memoryview(data)
    checksum = new_checksum(algorithm)
    for start in range(0, len(data), 4093):
        checksum.update(view[start : start + 4093])
    assert checksum.digest() == REFERENCE_DIGESTS[algorithm](data)


@pytest.mark.parametrize("name", ["crc32", "Crc32C", "crc64nvme", "sha1", "Sha256"])
def test_names_are_case_insensitive(name: str) -> None:
    assert new_checksum(name).algorithm == name.upper()


@pytest.mark.parametrize("name", ["MD5", "crc64", "", "sha512"])
def test_unknown_algorithm_is_invalid_argument(name: str) -> None:
    with pytest.raises(InvalidArgument):
        new_checksum(name)


@pytest.mark.parametrize("algorithm", sorted(CRC_FUNCTIONS))
@pytest.mark.parametrize(
    ("len_a", "len_b"),
    [(0, 0), (0, 1), (1, 0), (1, 1), (5, 3), (17, 4096), (4096, 17), (65_536, 100_001)],
)
def test_combine_matches_crc_of_concatenation(algorithm: str, len_a: int, len_b: int) -> None:
    rng = random.Random(len_a * 1_000_003 + len_b)
    a, b = rng.randbytes(len_a), rng.randbytes(len_b)
    crc = CRC_FUNCTIONS[algorithm]
    assert combine_crc(algorithm, crc(a), crc(b), len_b) == crc(a + b)


@pytest.mark.parametrize("algorithm", sorted(CRC_FUNCTIONS))
def test_combine_matches_awscrt_for_huge_lengths(algorithm: str) -> None:
    combine = {
        "CRC32": getattr(crt, "combine_crc32", None),
        "CRC32C": getattr(crt, "combine_crc32c", None),
        "CRC64NVME": getattr(crt, "combine_crc64nvme", None),
    }[algorithm]
    if combine is None:
        pytest.skip("this awscrt has no combine functions")
    rng = random.Random(algorithm)
    bits = 64 if algorithm == "CRC64NVME" else 32
    for length in [1, 5 * 1024**3, 5 * 1024**4, 2**40 + 12345]:
        a, b = rng.getrandbits(bits), rng.getrandbits(bits)
        assert combine_crc(algorithm, a, b, length) == combine(a, b, length)


@pytest.mark.parametrize("algorithm", ["SHA1", "SHA256"])
def test_combine_refuses_hashes(algorithm: str) -> None:
    with pytest.raises(InvalidArgument):
        combine_crc(algorithm, 1, 2, 3)


@pytest.mark.parametrize("algorithm", sorted(CRC_FUNCTIONS))
@pytest.mark.parametrize(
    "sizes",
    [[], [0], [10], [5, 0, 7], [0, 0], [1, 2, 3, 4], [70_000, 1, 0, 33_333]],
)
def test_full_object_checksum_from_parts(algorithm: str, sizes: list[int]) -> None:
    rng = random.Random(sum(sizes) + len(sizes))
    parts = [rng.randbytes(size) for size in sizes]
    digests = [(REFERENCE_DIGESTS[algorithm](part), len(part)) for part in parts]
    whole = REFERENCE_DIGESTS[algorithm](b"".join(parts))
    assert full_object_checksum(algorithm, digests) == base64.b64encode(whole).decode()


def test_full_object_checksum_refuses_sha() -> None:
    with pytest.raises(InvalidArgument):
        full_object_checksum("SHA256", [(hashlib.sha256(b"x").digest(), 1)])


def test_full_object_checksum_refuses_a_digest_of_the_wrong_size() -> None:
    with pytest.raises(InvalidChecksum):
        full_object_checksum("CRC32", [(b"\x00" * 8, 1)])


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_composite_checksum(algorithm: str) -> None:
    parts = [b"first part", b"", b"third"]
    digests = [REFERENCE_DIGESTS[algorithm](part) for part in parts]
    expected = base64.b64encode(REFERENCE_DIGESTS[algorithm](b"".join(digests))).decode()
    assert composite_checksum(algorithm, digests) == f"{expected}-3"


def test_composite_checksum_known_value() -> None:
    # CRC32 over the two CRC32 digests of b"a" and b"b", as S3 computes COMPOSITE checksums.
    digests = [zlib.crc32(b"a").to_bytes(4, "big"), zlib.crc32(b"b").to_bytes(4, "big")]
    value = base64.b64encode(zlib.crc32(b"".join(digests)).to_bytes(4, "big")).decode()
    assert composite_checksum("crc32", digests) == value + "-2"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_decode_b64_digest_round_trip(algorithm: str) -> None:
    checksum = new_checksum(algorithm)
    checksum.update(b"hello")
    assert decode_b64_digest(algorithm, checksum.b64()) == checksum.digest()


@pytest.mark.parametrize(
    ("algorithm", "value"),
    [
        ("CRC32", "AAAAAAAA"),  # six bytes
        ("CRC32", "AAA="),  # two bytes
        ("CRC32", "not base64!"),
        ("CRC32", "AAAAAA="),  # bad padding
        ("CRC64NVME", "AAAAAA=="),  # four bytes, not eight
        ("SHA256", base64.b64encode(b"\x00" * 20).decode()),
        ("SHA1", ""),
        ("CRC32C", "ÄÄÄÄ"),
    ],
)
def test_decode_b64_digest_rejects(algorithm: str, value: str) -> None:
    with pytest.raises(InvalidChecksum) as caught:
        decode_b64_digest(algorithm, value)
    assert caught.value.algorithm == algorithm
    assert f"x-amz-checksum-{algorithm.lower()}" in caught.value.message


def test_decode_b64_digest_unknown_algorithm() -> None:
    with pytest.raises(InvalidArgument):
        decode_b64_digest("MD5", "AAAAAA==")


def test_crc_property_tracks_the_running_value() -> None:
    checksum = checksums.new_checksum("CRC32")
    checksum.update(b"abc")
    assert checksum.crc == zlib.crc32(b"abc")
