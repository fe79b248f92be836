"""Every domain error has an S3 code of its own: nothing falls through to InternalError."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import lading.app  # noqa: F401  (imports every module that may define domain errors)
from lading import errors
from lading.http.s3.errors import ERRORS, INTERNAL, S3Error, lookup


def subclasses(cls: type[errors.LadingError]) -> list[type[errors.LadingError]]:
    found: list[type[errors.LadingError]] = []
    for sub in cls.__subclasses__():
        found += [sub, *subclasses(sub)]
    return found


DOMAIN_ERRORS = sorted(set(subclasses(errors.LadingError)), key=lambda cls: cls.__qualname__)


def instance(cls: type[errors.LadingError]) -> errors.LadingError:
    """An instance, with a placeholder for every field the constructor asks for."""
    params = inspect.signature(cls).parameters.values()
    args: dict[str, Any] = {
        p.name: 0 if p.name == "size" else "x"
        for p in params
        if p.default is inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD
    }
    return cls(**args)


def test_the_walk_finds_every_error_of_the_errors_module() -> None:
    declared = {
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.LadingError)
    }
    assert declared - {errors.LadingError} <= set(DOMAIN_ERRORS)


@pytest.mark.parametrize("cls", DOMAIN_ERRORS, ids=lambda cls: cls.__qualname__)
def test_every_domain_error_maps_to_an_s3_code(cls: type[errors.LadingError]) -> None:
    found = lookup(instance(cls))
    assert found.code != "InternalError"
    assert 300 <= found.status < 600


def test_the_base_error_itself_is_an_internal_error() -> None:
    assert lookup(errors.LadingError("boom")) == INTERNAL == S3Error("InternalError", 500)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (errors.NoSuchBucket("b"), S3Error("NoSuchBucket", 404)),
        (errors.NoSuchKey("b", "k"), S3Error("NoSuchKey", 404)),
        (errors.NoSuchUpload("u"), S3Error("NoSuchUpload", 404)),
        (errors.BucketNotEmpty("b"), S3Error("BucketNotEmpty", 409)),
        (errors.BucketAlreadyOwnedByYou("b"), S3Error("BucketAlreadyOwnedByYou", 409)),
        (errors.InvalidAccessKeyId("AK"), S3Error("InvalidAccessKeyId", 403)),
        (errors.SignatureDoesNotMatch(), S3Error("SignatureDoesNotMatch", 403)),
        (errors.RequestExpired(), S3Error("AccessDenied", 403)),
        (errors.MalformedXML(), S3Error("MalformedXML", 400)),
        (errors.KeyTooLong("k"), S3Error("KeyTooLongError", 400)),
        (errors.InvalidRange(10), S3Error("InvalidRange", 416)),
        (errors.MissingContentLength(), S3Error("MissingContentLength", 411)),
        (errors.PreconditionFailed(), S3Error("PreconditionFailed", 412)),
        (errors.NotModified(), S3Error("NotModified", 304)),
        (errors.MethodNotAllowed(), S3Error("MethodNotAllowed", 405)),
        (errors.NotImplementedOperation("PutBucketAcl"), S3Error("NotImplemented", 501)),
        (errors.ServiceUnavailable(), S3Error("SlowDown", 503)),
    ],
)
def test_well_known_errors_get_their_aws_codes(
    error: errors.LadingError, expected: S3Error
) -> None:
    assert lookup(error) == expected


def test_an_unmapped_subclass_takes_its_nearest_mapped_ancestor() -> None:
    class Local(errors.NoSuchBucket):
        pass

    assert lookup(Local("b")) == ERRORS[errors.NoSuchBucket]
