"""PostObject: browser uploads, a multipart/form-data POST whose form carries the signature.

The policy document is parsed and checked by pure functions; the handler signs, authorizes and
stores the file with the form's principal, since the request itself carries no credentials.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from python_multipart.multipart import parse_options_header
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.responses import Response

from lading import configs, errors
from lading.http.s3 import auth, sse, xml
from lading.http.s3.common import body_checks, new_object, write_conditions
from lading.http.s3.dispatch import ReqCtx, request_conditions
from lading.http.s3.object_attrs import write_attributes, writer_owner_id
from lading.http.s3.router import S3Op, unsupported_feature
from lading.iam.policy import Access, Action, authorize
from lading.iam.principals import ANONYMOUS, Principal
from lading.services.objects import MAX_PUT_BYTES

MAX_FIELD_BYTES = 64 * 1024  # one form field (the policy, a tagging document)
MAX_FIELDS = 200
MAX_FILES = 200  # parts with a filename; browsers and `requests` send fields as such too
FORM_OVERHEAD = 4 * 1024 * 1024  # room for the fields around the file
READ_CHUNK = 1024 * 1024

# Fields no policy condition has to cover (x-ignore-* neither).
_UNCHECKED = frozenset({"file", "policy", "x-amz-signature", "awsaccesskeyid", "signature"})
# Fields the policy need not name: x-ignore-*, and checksums of the file, which can only make
# an upload fail, never let the form do more than its policy allows.
_UNCOVERED_PREFIXES = ("x-ignore-", "x-amz-checksum-")
# Fields that steer the upload rather than describe the object.
_CONTROL = _UNCHECKED | {
    "key",
    "bucket",
    "acl",
    "tagging",
    "success_action_status",
    "success_action_redirect",
    "redirect",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-security-token",
}
_EXPIRATION = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z")
_MATCH_OPS = ("eq", "starts-with")
_LENGTH_RANGE = "content-length-range"


def _missing_field(name: str) -> errors.InvalidArgument:
    return errors.InvalidArgument(
        f"Bucket POST must contain a field named '{name}'.  "
        "If it is specified, please check the order of the fields."
    )


def _invalid(reason: str) -> errors.InvalidPolicyDocument:
    return errors.InvalidPolicyDocument(f"Invalid Policy: {reason}")


def _refused(reason: str) -> errors.AccessDenied:
    return errors.AccessDenied(f"Invalid according to Policy: {reason}")


# --- the policy document ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Condition:
    """One policy condition: eq or starts-with on a field, or content-length-range."""

    op: str
    field: str = ""  # lower-case, without "$"
    value: str = ""
    low: int = 0
    high: int = 0

    def met(self, fields: Mapping[str, str]) -> bool:
        """Whether the form's fields (lower-case names) meet a field condition."""
        found = fields.get(self.field, "")
        if self.op == "eq":
            return found == self.value
        if self.field == "content-type":  # each of a comma-separated list must match
            return all(part.strip().startswith(self.value) for part in found.split(","))
        return found.startswith(self.value)

    def text(self) -> str:
        """The condition as S3 quotes it in a refusal."""
        return json.dumps([self.op, f"${self.field}", self.value])


@dataclass(frozen=True, slots=True)
class PostPolicy:
    """A decoded POST policy: when it expires and what the form must look like."""

    expiration: dt.datetime
    conditions: tuple[Condition, ...]

    def length_range(self) -> tuple[int, int] | None:
        """The allowed file size, inclusive, if the policy limits it."""
        for condition in self.conditions:
            if condition.op == _LENGTH_RANGE:
                return condition.low, condition.high
        return None


def _length_bound(value: Any) -> int:
    if isinstance(value, bool):
        raise _invalid("Invalid content-length-range condition.")
    if isinstance(value, int):
        bound = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        bound = int(value.strip())
    else:
        raise _invalid("Invalid content-length-range condition.")
    if bound < 0:
        raise _invalid("Invalid content-length-range condition.")
    return bound


def _field_name(raw: Any) -> str:
    if not isinstance(raw, str) or not raw:
        raise _invalid("Invalid Condition: field names must be non-empty strings.")
    return raw.lower()


def _condition(raw: Any) -> Condition:
    if isinstance(raw, dict):
        if len(raw) != 1:
            raise _invalid(
                "Invalid Simple-Condition: Simple-Conditions must have exactly one property "
                "specified."
            )
        ((name, value),) = raw.items()
        if not isinstance(value, str):
            raise _invalid(f"Invalid Simple-Condition: value of {name} must be a string.")
        return Condition("eq", _field_name(name).removeprefix("$"), value)
    if not isinstance(raw, list) or not raw or not isinstance(raw[0], str):
        raise _invalid("Invalid Condition: conditions must be objects or arrays.")
    op = raw[0].lower()
    if op == _LENGTH_RANGE:
        if len(raw) != 3:
            raise _invalid("Invalid content-length-range condition.")
        low, high = _length_bound(raw[1]), _length_bound(raw[2])
        return Condition(op, low=low, high=high)
    if op not in _MATCH_OPS:
        raise _invalid(f"Invalid Condition: unknown operation {raw[0]!r}.")
    if len(raw) != 3 or not isinstance(raw[2], str):
        raise _invalid(f"Invalid {raw[0]} condition: expecting [op, $field, value].")
    name = _field_name(raw[1])
    if not name.startswith("$"):
        raise _invalid(f"Invalid {raw[0]} condition: the field name must start with '$'.")
    return Condition(op, name[1:], raw[2])


def parse_policy(encoded: str) -> PostPolicy:
    """Decode a base64 JSON policy; InvalidPolicyDocument when it is malformed."""
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
        document = json.loads(raw)
    except (binascii.Error, ValueError):
        raise _invalid("Invalid JSON.") from None
    if not isinstance(document, dict):
        raise _invalid("Invalid JSON.")
    expiration = document.get("expiration")
    if not isinstance(expiration, str):
        raise _invalid("Policy missing expiration.")
    if not _EXPIRATION.fullmatch(expiration):
        raise _invalid(f"Invalid 'expiration' value: '{expiration}'")
    when = dt.datetime.fromisoformat(expiration.replace("Z", "+00:00"))
    conditions = document.get("conditions")
    if not isinstance(conditions, list):
        raise _invalid("Policy missing conditions.")
    return PostPolicy(when, tuple(_condition(c) for c in conditions))


def check_policy(policy: PostPolicy, fields: Mapping[str, str], now: dt.datetime) -> None:
    """Refuse (AccessDenied) an expired policy, a condition not met or an uncovered field.

    `fields` are the form's fields with lower-case names, `bucket` included; the file size is
    checked apart, by `check_length`, once it is known.
    """
    if policy.expiration <= now:
        raise _refused("Policy expired.")
    covered = set()
    for condition in policy.conditions:
        if condition.op == _LENGTH_RANGE:
            continue
        covered.add(condition.field)
        if not condition.met(fields):
            raise _refused(f"Policy Condition failed: {condition.text()}")
    extra = [
        name
        for name in fields
        if name not in _UNCHECKED
        and not name.startswith(_UNCOVERED_PREFIXES)
        and name not in covered
    ]
    if extra:
        raise _refused(f"Extra input fields: {', '.join(extra)}")


def check_length(policy: PostPolicy | None, size: int) -> None:
    """EntityTooSmall or EntityTooLarge when the file is outside content-length-range."""
    found = policy.length_range() if policy is not None else None
    if found is None:
        return
    low, high = found
    if size < low:
        raise errors.EntityTooSmall("Your proposed upload is smaller than the minimum allowed size")
    if size > high:
        raise errors.EntityTooLarge("Your proposed upload exceeds the maximum allowed size")


# --- the signature ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormSignature:
    """The credentials a form carries, parsed but not yet verified."""

    access_key: str
    signature: str
    v4: bool
    scope_date: str = ""
    scope_region: str = ""
    scope_service: str = auth.SERVICE


def form_signature(fields: Mapping[str, str]) -> FormSignature | None:
    """The form's credentials; None for an anonymous form; InvalidArgument if incomplete."""
    v4_names = ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature")
    if any(name in fields for name in v4_names):
        for name in ("policy", *v4_names):
            if name not in fields:
                raise _missing_field(name)
        if fields["x-amz-algorithm"] != auth.V4_ALGORITHM:
            raise errors.InvalidArgument("Only AWS4-HMAC-SHA256 is supported as x-amz-algorithm.")
        parts = fields["x-amz-credential"].rsplit("/", 4)
        if len(parts) != 5 or not all(parts) or parts[4] != auth.V4_TERMINAL:
            raise errors.InvalidArgument(
                "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
                'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
            )
        return FormSignature(
            parts[0], fields["x-amz-signature"], True, parts[1], parts[2], parts[3]
        )
    if any(name in fields for name in ("policy", "awsaccesskeyid", "signature")):
        for name, label in (
            ("awsaccesskeyid", "AWSAccessKeyId"),
            ("policy", "policy"),
            ("signature", "signature"),
        ):
            if name not in fields:
                raise _missing_field(label)
        return FormSignature(fields["awsaccesskeyid"], fields["signature"], False)
    return None


def policy_signature(signed: FormSignature, encoded_policy: str, secret_key: str) -> str:
    """What the form's signature must be: SigV4 hex or SigV2 base64 HMAC of the policy text."""
    message = encoded_policy.encode("utf-8")
    if signed.v4:
        key = auth.signing_key(
            secret_key, signed.scope_date, signed.scope_region, signed.scope_service
        )
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    digest = hmac.new(secret_key.encode("utf-8"), message, hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_signature(
    signed: FormSignature, encoded_policy: str, secret_key: str, region: str
) -> None:
    """SignatureDoesNotMatch unless the form was signed with the user's secret."""
    if signed.v4 and signed.scope_region != region:
        raise errors.AuthorizationQueryParametersError(
            "Error parsing the X-Amz-Credential parameter; the region "
            f"'{signed.scope_region}' is wrong; expecting '{region}'"
        )
    expected = policy_signature(signed, encoded_policy, secret_key)
    provided = signed.signature.strip()
    if signed.v4:
        provided = provided.lower()
    if not hmac.compare_digest(expected.encode("utf-8"), provided.encode("utf-8")):
        raise errors.SignatureDoesNotMatch()


# --- the form --------------------------------------------------------------------------------


def object_headers(fields: Mapping[str, str]) -> dict[str, str]:
    """The form fields a PutObject would have sent as headers (acl becomes x-amz-acl)."""
    headers = {
        name: value
        for name, value in fields.items()
        if name not in _CONTROL and not name.startswith("x-ignore-")
    }
    if "acl" in fields:
        headers["x-amz-acl"] = fields["acl"]
    return headers


def redirect_location(url: str, bucket: str, key: str, etag: str) -> str:
    """success_action_redirect with the bucket, key and ETag of the new object appended."""
    joiner = "&" if "?" in url else "?"
    return url + joiner + urlencode({"bucket": bucket, "key": key, "etag": etag})


async def _limited(ctx: ReqCtx, limit: int) -> AsyncGenerator[bytes, None]:
    """The raw body; EntityTooLarge once it passes `limit` bytes."""
    size = 0
    async for chunk in ctx.body():
        size += len(chunk)
        if size > limit:
            raise errors.EntityTooLarge()
        yield chunk


async def _read_form(ctx: ReqCtx) -> tuple[dict[str, str], UploadFile | None, list[UploadFile]]:
    """The fields before the file (lower-case names), the file, and every spooled upload."""
    content_type, _ = parse_options_header(ctx.headers.get("content-type", ""))
    if content_type != b"multipart/form-data":
        raise errors.PreconditionFailed(
            "Bucket POST must be of the enclosure-type multipart/form-data"
        )
    length = ctx.headers.get("content-length", "")
    limit = MAX_PUT_BYTES + FORM_OVERHEAD
    if length.isdigit() and int(length) > limit:
        raise errors.EntityTooLarge()
    parser = MultiPartParser(
        ctx.request.headers,
        _limited(ctx, limit),
        max_files=MAX_FILES,
        max_fields=MAX_FIELDS,
        max_part_size=MAX_FIELD_BYTES,
    )
    try:
        form = await parser.parse()
    except (MultiPartException, HTTPException):
        raise errors.MalformedPOSTRequest() from None
    uploads = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
    fields: dict[str, str] = {}
    found: UploadFile | None = None
    try:
        for raw_name, value in form.multi_items():
            name = raw_name.lower()
            if name == "file":
                if isinstance(value, UploadFile):
                    found = value
                break  # anything after the file is ignored
            if isinstance(value, UploadFile):  # a field sent with a filename is still a field
                value = await _field_text(value)
            fields.setdefault(name, value)
    except errors.LadingError:
        for spooled in uploads:
            await spooled.close()
        raise
    return fields, found, uploads


async def _field_text(upload: UploadFile) -> str:
    """The text of a form field that came as a file part; MalformedPOSTRequest if too long."""
    await upload.seek(0)
    data = await upload.read(MAX_FIELD_BYTES + 1)
    if len(data) > MAX_FIELD_BYTES:
        raise errors.MalformedPOSTRequest()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.MalformedPOSTRequest() from None


async def _file_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    await upload.seek(0)
    while chunk := await upload.read(READ_CHUNK):
        yield chunk


def _tags(document: str) -> dict[str, str] | None:
    tree = xml.parse_config(document.encode("utf-8"), "Tagging", frozenset({"Tag"}))
    return configs.tags_from_tree(tree, configs.MAX_OBJECT_TAGS) or None


async def _principal(ctx: ReqCtx, fields: Mapping[str, str]) -> tuple[Principal, PostPolicy | None]:
    """Who signed the form (anonymous when nobody did) and its verified policy."""
    signed = form_signature(fields)
    if signed is None:
        return ANONYMOUS, None
    policy = parse_policy(fields["policy"])
    key = await ctx.services.identity.lookup_key(signed.access_key)
    verify_signature(signed, fields["policy"], key.secret_key, ctx.settings.region)
    return Principal(key.user, key.access_key, policies=key.policies), policy


async def post_object(ctx: ReqCtx) -> Response:
    """Store the form's file under its key, as the form's signer (or anonymously)."""
    bucket = ctx.need_bucket()
    fields, upload, uploads = await _read_form(ctx)
    try:
        if "key" not in fields:
            raise _missing_field("key")
        if upload is None:
            raise errors.InvalidArgument("POST requires exactly one file upload per request.")
        key = fields["key"].replace("${filename}", upload.filename or "")
        principal, policy = await _principal(ctx, fields)
        if policy is not None:
            checked = {**fields, "key": key, "bucket": bucket.name}
            check_policy(policy, checked, dt.datetime.now(dt.UTC))
        size = upload.size or 0
        check_length(policy, size)
        headers = object_headers(fields)
        put_op = S3Op("PutObject", Action.WRITE_OBJECT, bucket.name, key)
        feature = unsupported_feature(put_op, headers)
        if feature is not None:
            raise errors.NotImplementedOperation(f"PostObject with {feature}")
        now = dt.datetime.now(dt.UTC)
        access = Access(
            principal,
            "PostObject",
            Action.WRITE_OBJECT,
            bucket,
            key,
            None,
            lambda: request_conditions(ctx.request, headers, {}, now),
        )
        authorize(access)
        put_ctx = dataclasses.replace(
            ctx,
            op=S3Op("PostObject", Action.WRITE_OBJECT, bucket.name, key),
            principal=principal,
            headers=headers,
            access=access,
        )
        new = new_object(headers)
        new.attributes = await write_attributes(put_ctx)
        if "tagging" in fields:
            new.attributes["tags"] = _tags(fields["tagging"])
        obj = await ctx.services.objects.put_object(
            bucket,
            key,
            _file_chunks(upload),
            owner_id=writer_owner_id(put_ctx),
            new=new,
            checks=body_checks(headers),
            conditions=write_conditions(headers),
            declared_size=size,
            sse=sse.requested(headers, bucket),
            cause="Post",
            origin=ctx.origin,
        )
    finally:
        for spooled in uploads:
            await spooled.close()
    location = ctx.location(quote(key, safe="/~"))
    response_headers = {"etag": obj.etag, "location": location}
    if obj.version_id != "null":
        response_headers["x-amz-version-id"] = obj.version_id
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect:
        response_headers["location"] = redirect_location(redirect, bucket.name, key, obj.etag)
        return Response(status_code=303, headers=response_headers)
    status = fields.get("success_action_status", "")
    if status == "201":
        body = xml.document(
            "PostResponse",
            [
                xml.el("Location", location),
                xml.el("Bucket", bucket.name),
                xml.el("Key", key),
                xml.el("ETag", obj.etag),
            ],
            namespace=False,
        )
        return Response(body, 201, response_headers, media_type="application/xml")
    return Response(status_code=200 if status == "200" else 204, headers=response_headers)
