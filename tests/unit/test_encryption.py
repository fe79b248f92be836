"""Tests of lading.encryption: chunk layout, ranges, tampering, key rotation and SSE-C headers."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
from collections.abc import Iterator
from dataclasses import replace

import pytest

from lading import errors
from lading.encryption import (
    CHUNK_SIZE,
    SSE_C,
    SSE_S3,
    TAG_SIZE,
    CipherRange,
    Decryptor,
    Encryptor,
    Envelope,
    Keyring,
    chunk_count,
    ciphertext_range,
    customer_key_md5,
    decrypt_all,
    encrypted_size,
    kms_keyring,
    new_sse_c,
    new_sse_kms,
    new_sse_s3,
    sse_c_data_key,
    sse_c_key,
    unwrap,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))
TAMPERED = "The stored data failed its integrity check"
WRONG_KEY = "The provided customer key does not match the key used to encrypt the object"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def md5_b64(data: bytes) -> str:
    return b64(hashlib.md5(data).digest())


def pieces(data: bytes, rng: random.Random, largest: int) -> Iterator[bytes]:
    """`data` cut at random places, with some empty pieces."""
    offset = 0
    while offset < len(data):
        size = rng.randint(0, largest)
        yield data[offset : offset + size]
        offset += size


def encrypt(
    envelope: Envelope, data_key: bytes, data: bytes, rng: random.Random | None = None
) -> tuple[Envelope, bytes]:
    """The finished envelope and ciphertext of `data`, fed whole or in random pieces."""
    encryptor = Encryptor(envelope, data_key)
    parts = [data] if rng is None else list(pieces(data, rng, 3 * envelope.chunk_size))
    out = [encryptor.feed(part) for part in parts]
    out.append(encryptor.finish())
    assert encryptor.plaintext_size == len(data)
    return encryptor.envelope, b"".join(out)


def read_range(
    envelope: Envelope,
    data_key: bytes,
    ciphertext: bytes,
    start: int,
    end: int | None,
    rng: random.Random | None = None,
) -> bytes:
    """Plaintext bytes start..end as a Range GET reads them: only the chunks it needs."""
    span = ciphertext_range(envelope, start, end)
    length = (envelope.plaintext_size if end is None else end + 1) - start
    decryptor = Decryptor(envelope, data_key, span.first_chunk, span.skip, length)
    stored = ciphertext[span.cipher_start : span.cipher_end]
    parts = [stored] if rng is None else list(pieces(stored, rng, 2 * envelope.chunk_size))
    out = [decryptor.feed(part) for part in parts]
    out.append(decryptor.finish())
    return b"".join(out)


@pytest.fixture
def keyring() -> Keyring:
    return Keyring({"k1": KEY_A}, active="k1")


@pytest.fixture
def small(keyring: Keyring) -> tuple[Envelope, bytes, bytes, bytes]:
    """A 100-byte SSE-S3 object in 16-byte chunks: envelope, data key, plaintext, ciphertext."""
    envelope, data_key = new_sse_s3(keyring, chunk_size=16)
    plaintext = bytes(random.Random(1).randbytes(100))
    envelope, ciphertext = encrypt(envelope, data_key, plaintext)
    return envelope, data_key, plaintext, ciphertext


# --- sizes and layout ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "chunks"),
    [
        (0, 1),
        (1, 1),
        (CHUNK_SIZE - 1, 1),
        (CHUNK_SIZE, 1),
        (CHUNK_SIZE + 1, 2),
        (3 * CHUNK_SIZE, 3),
    ],
)
def test_sizes(size: int, chunks: int) -> None:
    assert chunk_count(size) == chunks
    assert encrypted_size(size) == size + TAG_SIZE * chunks
    assert encrypted_size(size, 7) == size + TAG_SIZE * chunk_count(size, 7)


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 31, 32, 33, 100])
def test_ciphertext_has_the_documented_size(keyring: Keyring, size: int) -> None:
    envelope, data_key = new_sse_s3(keyring, chunk_size=16)
    envelope, ciphertext = encrypt(envelope, data_key, os.urandom(size))
    assert envelope.plaintext_size == size
    assert len(ciphertext) == encrypted_size(size, 16) == envelope.encrypted_size


def test_feed_returns_whole_chunks_and_holds_back_a_possible_last_one(keyring: Keyring) -> None:
    envelope, data_key = new_sse_s3(keyring, chunk_size=16)
    encryptor = Encryptor(envelope, data_key)
    assert encryptor.feed(b"a" * 10) == b""
    assert encryptor.feed(b"a" * 6) == b""  # exactly one chunk: it may be the final one
    assert len(encryptor.feed(b"a")) == 16 + TAG_SIZE
    assert len(encryptor.feed(b"a" * 47)) == 2 * (16 + TAG_SIZE)  # 48 buffered: 2 out, 1 held
    assert len(encryptor.finish()) == 16 + TAG_SIZE
    assert encryptor.plaintext_size == 64


def test_encryptor_accepts_bytearray_and_memoryview(keyring: Keyring) -> None:
    envelope, data_key = new_sse_s3(keyring, chunk_size=16)
    data = os.urandom(70)
    encryptor = Encryptor(envelope, data_key)
    out = encryptor.feed(bytearray(data[:20])) + encryptor.feed(memoryview(data)[20:])
    out += encryptor.finish()
    assert decrypt_all(encryptor.envelope, data_key, out) == data


def test_encryptor_lifecycle(keyring: Keyring) -> None:
    envelope, data_key = new_sse_s3(keyring)
    assert envelope.plaintext_size == 0
    encryptor = Encryptor(envelope, data_key)
    encryptor.feed(b"abc")
    with pytest.raises(RuntimeError):
        _ = encryptor.envelope
    encryptor.finish()
    assert encryptor.envelope.plaintext_size == 3
    assert encryptor.envelope.with_size(0) == envelope
    with pytest.raises(RuntimeError):
        encryptor.feed(b"x")
    with pytest.raises(RuntimeError):
        encryptor.finish()


def test_same_plaintext_encrypts_differently(keyring: Keyring) -> None:
    first, key1 = new_sse_s3(keyring)
    second, key2 = new_sse_s3(keyring)
    assert key1 != key2
    assert first.nonce_prefix != second.nonce_prefix
    data = b"x" * 1000
    assert encrypt(first, key1, data)[1] != encrypt(second, key2, data)[1]


def test_ten_mebibytes_round_trip_with_random_feed_sizes(keyring: Keyring) -> None:
    rng = random.Random(42)
    plaintext = rng.randbytes(10 * 1024 * 1024 + 12345)
    envelope, data_key = new_sse_s3(keyring)
    envelope, ciphertext = encrypt(envelope, data_key, plaintext, rng)
    assert len(ciphertext) == encrypted_size(len(plaintext))
    assert plaintext[:4096] not in ciphertext
    assert decrypt_all(envelope, data_key, ciphertext) == plaintext
    assert read_range(envelope, data_key, ciphertext, 0, None, rng) == plaintext


# --- ranges ----------------------------------------------------------------------------------


def test_every_range_of_a_small_object(small: tuple[Envelope, bytes, bytes, bytes]) -> None:
    envelope, data_key, plaintext, ciphertext = small
    rng = random.Random(7)
    for start in range(len(plaintext)):
        for end in range(start, len(plaintext)):
            got = read_range(envelope, data_key, ciphertext, start, end, rng)
            assert got == plaintext[start : end + 1], (start, end)


def test_ranges_read_only_the_chunks_they_need(small: tuple[Envelope, bytes, bytes, bytes]) -> None:
    envelope, _key, _plain, ciphertext = small
    stride = 16 + TAG_SIZE
    assert ciphertext_range(envelope, 0, 0) == CipherRange(0, stride, 0, 0)
    assert ciphertext_range(envelope, 15, 16) == CipherRange(0, 2 * stride, 15, 0)
    assert ciphertext_range(envelope, 17, 31) == CipherRange(stride, 2 * stride, 1, 1)
    # the last chunk holds 4 bytes
    assert ciphertext_range(envelope, 99, 99) == CipherRange(6 * stride, len(ciphertext), 3, 6)
    assert ciphertext_range(envelope, 0) == CipherRange(0, len(ciphertext), 0, 0)
    assert ciphertext_range(envelope, 50) == CipherRange(3 * stride, len(ciphertext), 2, 3)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, 0),  # first byte
        (3 * CHUNK_SIZE + 99, 3 * CHUNK_SIZE + 99),  # last byte
        (CHUNK_SIZE - 1, CHUNK_SIZE),  # across one boundary
        (CHUNK_SIZE - 10, 2 * CHUNK_SIZE + 10),  # across two boundaries
        (CHUNK_SIZE, 2 * CHUNK_SIZE - 1),  # exactly one chunk
        (0, 3 * CHUNK_SIZE + 99),  # whole object
        (2 * CHUNK_SIZE + 5, None),  # suffix
    ],
)
def test_ranges_of_a_default_chunked_object(keyring: Keyring, start: int, end: int | None) -> None:
    plaintext = os.urandom(3 * CHUNK_SIZE + 100)
    envelope, data_key = new_sse_s3(keyring)
    envelope, ciphertext = encrypt(envelope, data_key, plaintext)
    expected = plaintext[start:] if end is None else plaintext[start : end + 1]
    assert read_range(envelope, data_key, ciphertext, start, end) == expected
    got = read_range(envelope, data_key, ciphertext, start, end, random.Random(3))
    assert got == expected


def test_object_of_exactly_whole_chunks(keyring: Keyring) -> None:
    envelope, data_key = new_sse_s3(keyring, chunk_size=16)
    plaintext = os.urandom(48)
    envelope, ciphertext = encrypt(envelope, data_key, plaintext)
    assert len(ciphertext) == 48 + 3 * TAG_SIZE
    assert decrypt_all(envelope, data_key, ciphertext) == plaintext
    assert read_range(envelope, data_key, ciphertext, 47, 47) == plaintext[47:]


def test_empty_object(keyring: Keyring) -> None:
    envelope, data_key = new_sse_s3(keyring)
    envelope, ciphertext = encrypt(envelope, data_key, b"")
    assert len(ciphertext) == TAG_SIZE
    assert decrypt_all(envelope, data_key, ciphertext) == b""
    assert ciphertext_range(envelope, 0) == CipherRange(0, TAG_SIZE, 0, 0)
    assert read_range(envelope, data_key, ciphertext, 0, None) == b""
    with pytest.raises(ValueError):
        ciphertext_range(envelope, 0, 0)
    with pytest.raises(errors.BadDigest):
        decrypt_all(envelope, data_key, b"")  # the empty final chunk is missing


@pytest.mark.parametrize(("start", "end"), [(-1, 5), (5, 4), (0, 100), (100, None)])
def test_ranges_outside_the_object_are_refused(
    small: tuple[Envelope, bytes, bytes, bytes], start: int, end: int | None
) -> None:
    with pytest.raises(ValueError):
        ciphertext_range(small[0], start, end)


@pytest.mark.parametrize(
    ("first", "skip", "length"), [(7, 0, 1), (-1, 0, 1), (0, 16, 1), (0, 0, 101), (6, 3, 2)]
)
def test_decryptor_refuses_ranges_outside_the_object(
    small: tuple[Envelope, bytes, bytes, bytes], first: int, skip: int, length: int
) -> None:
    envelope, data_key, _plain, _cipher = small
    with pytest.raises(ValueError):
        Decryptor(envelope, data_key, first, skip, length)


# --- tampering -------------------------------------------------------------------------------


def test_every_flipped_byte_is_detected(small: tuple[Envelope, bytes, bytes, bytes]) -> None:
    envelope, data_key, _plain, ciphertext = small
    for position in range(len(ciphertext)):
        damaged = bytearray(ciphertext)
        damaged[position] ^= 0x01
        with pytest.raises(errors.BadDigest, match=TAMPERED):
            decrypt_all(envelope, data_key, bytes(damaged))


def test_damage_is_found_by_a_range_over_it_only(
    small: tuple[Envelope, bytes, bytes, bytes],
) -> None:
    envelope, data_key, plaintext, ciphertext = small
    damaged = bytearray(ciphertext)
    damaged[2 * (16 + TAG_SIZE) + 3] ^= 0xFF  # in chunk 2: plaintext 32..47
    with pytest.raises(errors.BadDigest):
        read_range(envelope, data_key, bytes(damaged), 40, 40)
    assert read_range(envelope, data_key, bytes(damaged), 0, 31) == plaintext[:32]
    assert read_range(envelope, data_key, bytes(damaged), 48, 99) == plaintext[48:]


@pytest.mark.parametrize("cut", [1, TAG_SIZE, 4 + TAG_SIZE, 4 + TAG_SIZE + 1, 50])
def test_truncation_is_detected(small: tuple[Envelope, bytes, bytes, bytes], cut: int) -> None:
    envelope, data_key, _plain, ciphertext = small
    with pytest.raises(errors.BadDigest):
        decrypt_all(envelope, data_key, ciphertext[:-cut])


def test_cutting_whole_chunks_and_the_recorded_size_is_detected(
    small: tuple[Envelope, bytes, bytes, bytes],
) -> None:
    envelope, data_key, _plain, ciphertext = small
    shorter = envelope.with_size(64)  # four whole chunks, as if the object had ended there
    with pytest.raises(errors.BadDigest):
        decrypt_all(shorter, data_key, ciphertext[: 4 * (16 + TAG_SIZE)])


@pytest.mark.parametrize("size", [99, 101, 90, 112])
def test_a_changed_recorded_size_is_detected(
    small: tuple[Envelope, bytes, bytes, bytes], size: int
) -> None:
    envelope, data_key, _plain, ciphertext = small
    with pytest.raises(errors.BadDigest):
        decrypt_all(envelope.with_size(size), data_key, ciphertext)


def test_appended_bytes_are_detected(small: tuple[Envelope, bytes, bytes, bytes]) -> None:
    envelope, data_key, _plain, ciphertext = small
    with pytest.raises(errors.BadDigest):
        decrypt_all(envelope, data_key, ciphertext + b"\x00")


def test_swapped_chunks_are_detected(small: tuple[Envelope, bytes, bytes, bytes]) -> None:
    envelope, data_key, _plain, ciphertext = small
    stride = 16 + TAG_SIZE
    chunks = [ciphertext[i : i + stride] for i in range(0, len(ciphertext), stride)]
    chunks[1], chunks[2] = chunks[2], chunks[1]
    with pytest.raises(errors.BadDigest):
        decrypt_all(envelope, data_key, b"".join(chunks))
    duplicated = chunks[0] + chunks[0] + b"".join(chunks[2:])
    with pytest.raises(errors.BadDigest):
        decrypt_all(envelope, data_key, duplicated)


def test_chunks_from_another_object_under_the_same_customer_key_are_detected() -> None:
    first, first_key = new_sse_c(KEY_B, chunk_size=16)
    second, second_key = new_sse_c(KEY_B, chunk_size=16)
    assert first_key != second_key
    first, one = encrypt(first, first_key, b"a" * 40)
    second, two = encrypt(second, second_key, b"b" * 40)
    spliced = one[: 16 + TAG_SIZE] + two[16 + TAG_SIZE :]
    with pytest.raises(errors.BadDigest):
        decrypt_all(first, first_key, spliced)


def test_wrong_data_key_or_nonce_prefix_is_detected(
    small: tuple[Envelope, bytes, bytes, bytes],
) -> None:
    envelope, data_key, _plain, ciphertext = small
    with pytest.raises(errors.BadDigest):
        decrypt_all(envelope, bytes(32), ciphertext)
    other = replace(envelope, nonce_prefix=bytes(8))
    with pytest.raises(errors.BadDigest):
        decrypt_all(other, data_key, ciphertext)


def test_tamper_error_is_a_domain_error() -> None:
    assert issubclass(errors.BadDigest, errors.LadingError)


# --- the envelope ----------------------------------------------------------------------------


def test_envelope_json_round_trip(keyring: Keyring) -> None:
    for envelope, _key in (new_sse_s3(keyring), new_sse_c(KEY_B)):
        stored = envelope.with_size(123456).to_json()
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in stored.items())
        assert Envelope.from_json(json.loads(json.dumps(stored))) == envelope.with_size(123456)


def test_sse_s3_envelope_fields(keyring: Keyring) -> None:
    envelope, data_key = new_sse_s3(keyring)
    stored = envelope.to_json()
    assert stored["mode"] == SSE_S3 and stored["algorithm"] == "AES256"
    assert stored["key-id"] == "k1"
    assert stored["chunk-size"] == str(CHUNK_SIZE)
    assert b64(data_key) not in stored.values()
    assert "customer-key-md5" not in stored


@pytest.mark.parametrize(
    "change",
    [
        {"v": "2"},
        {"mode": "SSE-KMS-DSSE"},
        {"algorithm": "aws:kms"},
        {"size": "-1"},
        {"size": "ten"},
        {"chunk-size": "0"},
        {"nonce-prefix": "not base64!"},
        {"nonce-prefix": b64(b"1234567")},
        {"wrapped-key": b64(b"short")},
        {"key-salt": b64(bytes(16))},
        {"customer-key-md5": "x"},
    ],
)
def test_malformed_envelopes_are_refused(keyring: Keyring, change: dict[str, str]) -> None:
    stored = new_sse_s3(keyring)[0].to_json()
    with pytest.raises(ValueError):
        Envelope.from_json({**stored, **change})


@pytest.mark.parametrize("field", ["v", "mode", "size", "nonce-prefix", "key-id", "wrapped-key"])
def test_envelopes_missing_a_field_are_refused(keyring: Keyring, field: str) -> None:
    stored = new_sse_s3(keyring)[0].to_json()
    del stored[field]
    with pytest.raises(ValueError):
        Envelope.from_json(stored)


# --- master keys and rotation ----------------------------------------------------------------


def test_keyring_from_settings() -> None:
    keyring = Keyring.from_settings({"k1": b64(KEY_A), "k2": b64(KEY_B) + "\n"}, active="k2")
    assert keyring.active_id == "k2"
    assert keyring.key_ids == {"k1", "k2"}
    assert b64(KEY_A) not in repr(keyring)


@pytest.mark.parametrize("value", ["", "not base64!", b64(bytes(16)), b64(bytes(33))])
def test_keyring_refuses_keys_that_are_not_base64_of_32_bytes(value: str) -> None:
    with pytest.raises(ValueError, match="base64 encoding of exactly 32 bytes") as info:
        Keyring.from_settings({"k1": value}, active="k1")
    assert "'k1'" in str(info.value)


def test_keyring_refuses_bad_configurations() -> None:
    with pytest.raises(ValueError, match="active master key"):
        Keyring({"k1": KEY_A}, active="k2")
    with pytest.raises(ValueError, match="at least one"):
        Keyring({}, active="k1")
    with pytest.raises(ValueError, match="32 bytes"):
        Keyring({"k1": bytes(16)}, active="k1")
    for key_id in ["", "has space", "x" * 65, "-leading"]:
        with pytest.raises(ValueError, match="master key id"):
            Keyring({key_id: KEY_A}, active=key_id)


def test_rotation_keeps_old_objects_readable_and_rewrap_moves_them() -> None:
    old_ring = Keyring({"k1": KEY_A}, active="k1")
    envelope, data_key = new_sse_s3(old_ring, chunk_size=16)
    plaintext = os.urandom(50)
    envelope, ciphertext = encrypt(envelope, data_key, plaintext)

    rotated = Keyring({"k1": KEY_A, "k2": KEY_B}, active="k2")
    assert unwrap(rotated, envelope) == data_key
    assert new_sse_s3(rotated)[0].key_id == "k2"
    assert rotated.needs_rewrap(envelope)

    moved = rotated.rewrap(envelope)
    assert moved.key_id == "k2" and moved.wrapped_key != envelope.wrapped_key
    assert moved == replace(envelope, key_id="k2", wrapped_key=moved.wrapped_key)
    assert not rotated.needs_rewrap(moved)
    assert rotated.rewrap(moved) is moved

    retired = Keyring({"k2": KEY_B}, active="k2")
    assert decrypt_all(moved, unwrap(retired, moved), ciphertext) == plaintext
    with pytest.raises(errors.LadingError, match="'k1'.*not configured"):
        unwrap(retired, envelope)


def test_a_wrapped_key_is_bound_to_its_master_key_id() -> None:
    keyring = Keyring({"k1": KEY_A, "alias": KEY_A}, active="k1")
    envelope, _key = new_sse_s3(keyring)
    relabelled = replace(envelope, key_id="alias")
    with pytest.raises(errors.LadingError, match="could not be unwrapped"):
        unwrap(keyring, relabelled)


def test_a_replaced_master_key_is_reported() -> None:
    envelope, _key = new_sse_s3(Keyring({"k1": KEY_A}, active="k1"))
    with pytest.raises(errors.LadingError, match="could not be unwrapped with master key 'k1'"):
        unwrap(Keyring({"k1": KEY_B}, active="k1"), envelope)


# --- SSE-C -----------------------------------------------------------------------------------

SSE_C_PREFIX = (
    "Requests specifying Server Side Encryption with Customer provided keys must provide "
)


def test_sse_c_headers_accepted() -> None:
    assert sse_c_key("AES256", b64(KEY_B), md5_b64(KEY_B)) == KEY_B
    assert customer_key_md5(KEY_B) == md5_b64(KEY_B)


@pytest.mark.parametrize(
    ("algorithm", "key", "md5", "error", "message"),
    [
        (None, b64(KEY_B), md5_b64(KEY_B), errors.InvalidArgument, "a valid encryption algorithm."),
        (None, None, None, errors.InvalidArgument, "a valid encryption algorithm."),
        ("AES256", None, md5_b64(KEY_B), errors.InvalidArgument, "an appropriate secret key."),
        (
            "AES256",
            b64(KEY_B),
            None,
            errors.InvalidArgument,
            "the client calculated MD5 of the secret key.",
        ),
    ],
)
def test_sse_c_missing_headers(
    algorithm: str | None,
    key: str | None,
    md5: str | None,
    error: type[errors.LadingError],
    message: str,
) -> None:
    with pytest.raises(error) as info:
        sse_c_key(algorithm, key, md5)
    assert info.value.message == SSE_C_PREFIX + message


@pytest.mark.parametrize("algorithm", ["AES128", "aes256", "aws:kms", ""])
def test_sse_c_algorithm_must_be_aes256(algorithm: str) -> None:
    with pytest.raises(errors.InvalidEncryptionAlgorithm) as info:
        sse_c_key(algorithm, b64(KEY_B), md5_b64(KEY_B))
    assert not isinstance(info.value, errors.InvalidArgument)
    assert "AES256" in info.value.message


@pytest.mark.parametrize("key", [b64(bytes(16)), b64(bytes(33)), "not base64!", ""])
def test_sse_c_key_must_be_base64_of_32_bytes(key: str) -> None:
    with pytest.raises(errors.InvalidArgument) as info:
        sse_c_key("AES256", key, md5_b64(KEY_B))
    assert info.value.message == "The secret key was invalid for the specified algorithm."


@pytest.mark.parametrize("md5", [md5_b64(KEY_A), "not base64!", "", b64(b"short")])
def test_sse_c_key_md5_must_match(md5: str) -> None:
    with pytest.raises(errors.InvalidArgument) as info:
        sse_c_key("AES256", b64(KEY_B), md5)
    assert info.value.message == (
        "The calculated MD5 hash of the key did not match the hash that was provided."
    )


def test_sse_c_round_trip_and_wrong_key() -> None:
    envelope, data_key = new_sse_c(KEY_B, chunk_size=16)
    envelope, ciphertext = encrypt(envelope, data_key, b"secret data " * 10)
    stored = Envelope.from_json(envelope.to_json())
    assert stored.mode == SSE_C
    assert stored.customer_key_md5 == md5_b64(KEY_B)
    assert decrypt_all(stored, sse_c_data_key(stored, KEY_B), ciphertext) == b"secret data " * 10
    with pytest.raises(errors.AccessDenied) as info:
        sse_c_data_key(stored, KEY_A)
    assert info.value.message == WRONG_KEY


def test_sse_c_envelope_never_holds_the_key() -> None:
    envelope, data_key = new_sse_c(KEY_B)
    text = json.dumps(envelope.to_json())
    for secret in (KEY_B, data_key):
        assert b64(secret) not in text
        assert secret.hex() not in text
    assert data_key != KEY_B


def test_modes_do_not_mix(keyring: Keyring) -> None:
    s3_envelope, _ = new_sse_s3(keyring)
    c_envelope, _ = new_sse_c(KEY_B)
    with pytest.raises(ValueError):
        unwrap(keyring, c_envelope)
    with pytest.raises(ValueError):
        sse_c_data_key(s3_envelope, KEY_B)
    assert not keyring.needs_rewrap(c_envelope)
    assert keyring.rewrap(c_envelope) is c_envelope
    with pytest.raises(ValueError):
        replace(c_envelope, key_id="k1")
    with pytest.raises(ValueError):
        new_sse_c(bytes(16))


# --- SSE-KMS ---------------------------------------------------------------------------------


def test_kms_envelope_round_trips_under_its_named_key() -> None:
    kms = kms_keyring({"a": b64(KEY_A), "b": b64(KEY_B)})
    assert kms is not None
    envelope, data_key = new_sse_kms(kms, "b")
    assert (envelope.mode, envelope.key_id) == ("SSE-KMS", "b")
    assert Envelope.from_json(envelope.to_json()) == envelope
    assert unwrap(kms, envelope) == data_key
    with pytest.raises(ValueError):
        new_sse_kms(kms, "missing")


def test_kms_wrapped_key_does_not_open_as_sse_s3_under_the_same_key_material() -> None:
    kms = kms_keyring({"a": b64(KEY_A)})
    assert kms is not None
    envelope, _ = new_sse_kms(kms, "a")
    master = Keyring({"a": KEY_A}, "a")
    assert envelope.wrapped_key is not None
    with pytest.raises(errors.LadingError):
        master.unwrap_data_key("a", envelope.wrapped_key)


def test_no_kms_keys_is_no_keyring_and_bad_keys_are_refused() -> None:
    assert kms_keyring({}) is None
    with pytest.raises(ValueError, match="32 bytes"):
        kms_keyring({"a": b64(b"short")})


def test_sealed_secrets_open_only_for_their_purpose_and_key() -> None:
    import os as _os

    from lading import errors as _errors
    from lading.encryption import Keyring as _Keyring

    ring = _Keyring({"k1": _os.urandom(32)}, "k1")
    sealed = ring.seal(b"secret", b"access-key-secret")
    assert sealed.startswith("sealed:v1:k1:") and "secret" not in sealed.split(":", 3)[3]
    assert ring.open_sealed(sealed, b"access-key-secret") == b"secret"
    with pytest.raises(_errors.LadingError):
        ring.open_sealed(sealed, b"another-purpose")
    other = _Keyring({"k1": _os.urandom(32)}, "k1")
    with pytest.raises(_errors.LadingError):
        other.open_sealed(sealed, b"access-key-secret")
