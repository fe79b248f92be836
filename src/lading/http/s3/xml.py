"""Every S3 XML request and response shape, and nothing else writes or parses S3 XML.

Responses are built as strings with escaping (fast for 1,000-entry listings); requests are
parsed with ElementTree after a size check, namespace-agnostic as S3 itself is.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote
from xml.sax.saxutils import escape

from lading import errors
from lading.metadata.models import Bucket, ListedObject, ObjectVersion, Part, Upload, User

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
MAX_REQUEST_XML = 2 * 1024 * 1024
_ENTITIES = {'"': "&quot;", "\r": "&#13;"}


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


_PLAIN = re.compile(r"[^&<>\"\x00-\x1f]*")


def _text(value: str) -> str:
    """Escape text for an element; control characters (keys may hold them) as references."""
    if _PLAIN.fullmatch(value):
        return value  # most keys and values need no escaping at all
    cleaned = escape(value, _ENTITIES)
    if _CONTROL.search(cleaned):
        cleaned = _CONTROL.sub(lambda m: f"&#{ord(m.group())};", cleaned)
    return cleaned


def el(name: str, value: str | int | bool | None) -> str:
    """One element; None leaves it out."""
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{_text(str(value))}</{name}>"


def document(root: str, body: Iterable[str], *, namespace: bool = True) -> bytes:
    xmlns = f' xmlns="{NS}"' if namespace else ""
    return (HEADER + f"<{root}{xmlns}>" + "".join(body) + f"</{root}>").encode()


@functools.lru_cache(maxsize=4096)
def _iso_seconds(seconds: int) -> str:
    # listed objects written together share their seconds: format each second once
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def iso_time(micros: int) -> str:
    """S3's timestamp form in XML: 2009-10-12T17:50:30.000Z."""
    seconds, rest = divmod(micros, 1_000_000)
    return f"{_iso_seconds(seconds)}.{rest // 1000:03d}Z"


def http_time(micros: int) -> str:
    """RFC 7231 date for Last-Modified headers."""
    moment = dt.datetime.fromtimestamp(micros // 1_000_000, tz=dt.UTC)
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


def owner(user_name: str, display_name: str | None = None) -> str:
    return (
        "<Owner>" + el("ID", user_name) + el("DisplayName", display_name or user_name) + "</Owner>"
    )


_URL_SAFE = re.compile(r"[A-Za-z0-9_.~/-]*")


def _url_encode(value: str) -> str:
    return value if _URL_SAFE.fullmatch(value) else quote(value, safe="/")


def _encoder(encoding_type: str | None) -> Callable[[str], str]:
    if encoding_type == "url":
        return _url_encode
    return _as_is


def _as_is(value: str) -> str:
    return value


# --- errors ----------------------------------------------------------------------------------


def error(code: str, message: str, resource: str, request_id: str, **extra: str) -> bytes:
    fields = [el("Code", code), el("Message", message)]
    fields += [el(name, value) for name, value in extra.items()]
    fields += [el("Resource", resource), el("RequestId", request_id), el("HostId", request_id)]
    return document("Error", fields, namespace=False)


# --- buckets ---------------------------------------------------------------------------------


def list_buckets(
    user: User,
    buckets: list[Bucket],
    *,
    prefix: str | None = None,
    continuation_token: str | None = None,
) -> bytes:
    """ListAllMyBucketsResult; continuation_token is the one for the next page, if any."""
    entries = "".join(
        "<Bucket>"
        + el("Name", b.name)
        + el("CreationDate", iso_time(b.created_at))
        + el("BucketRegion", b.region)
        + "</Bucket>"
        for b in buckets
    )
    return document(
        "ListAllMyBucketsResult",
        [
            owner(user.name, user.display_name),
            "<Buckets>",
            entries,
            "</Buckets>",
            el("ContinuationToken", continuation_token),
            el("Prefix", prefix),
        ],
    )


def location(region: str) -> bytes:
    # us-east-1 is reported as an empty constraint, as AWS does
    value = "" if region == "us-east-1" else _text(region)
    return (HEADER + f'<LocationConstraint xmlns="{NS}">{value}</LocationConstraint>').encode()


def versioning(status: str) -> bytes:
    """VersioningConfiguration; empty when versioning was never enabled, as S3 answers."""
    return document("VersioningConfiguration", [el("Status", status or None)])


_XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def access_control_policy(owner_name: str, grants: list[dict[str, str]]) -> bytes:
    """AccessControlPolicy: the owner and its grants (users by name, groups by URI).

    A user's name is its canonical id and its display name.
    """
    body = []
    for grant in grants:
        if grant["type"] == "Group":
            grantee = f'<Grantee {_XSI} xsi:type="Group">{el("URI", grant["uri"])}</Grantee>'
        else:
            name = grant["id"]
            grantee = (
                f'<Grantee {_XSI} xsi:type="CanonicalUser">{el("ID", name)}'
                f"{el('DisplayName', name)}</Grantee>"
            )
        body.append(f"<Grant>{grantee}{el('Permission', grant['permission'])}</Grant>")
    return document(
        "AccessControlPolicy",
        [
            owner(owner_name),
            "<AccessControlList>" + "".join(body) + "</AccessControlList>",
        ],
    )


def policy_status(public: bool) -> bytes:
    return document("PolicyStatus", [el("IsPublic", public)])


def retention(mode: str, until: int) -> bytes:
    return document("Retention", [el("Mode", mode), el("RetainUntilDate", iso_time(until))])


def legal_hold(on: bool) -> bytes:
    return document("LegalHold", [el("Status", "ON" if on else "OFF")])


def _checksum_elements(checksums: dict[str, str]) -> str:
    out = [
        el(f"Checksum{alg}", value)
        for alg, value in checksums.items()
        if alg not in ("type", "parts")
    ]
    if out and checksums.get("type"):
        out.append(el("ChecksumType", checksums["type"]))
    return "".join(out)


# --- listings --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListParams:
    """The echo of a listing request that goes back in the result."""

    prefix: str
    delimiter: str
    max_keys: int
    encoding_type: str | None


def _contents(
    obj: ObjectVersion | ListedObject,
    enc: Callable[[str], str],
    owner_name: str | None,
    tag: str = "Contents",
) -> str:
    # one pass per entry: listings build a thousand of these per page
    algorithms: tuple[str, ...]
    if isinstance(obj, ListedObject):
        algorithms, kind = (obj.checksum_algorithm,), obj.checksum_type
    else:
        algorithms = tuple(a for a in obj.checksums if a not in ("type", "parts"))
        kind = obj.checksums.get("type", "")
    checksums = "".join(el("ChecksumAlgorithm", a) for a in algorithms if a)
    if checksums and kind:
        checksums += el("ChecksumType", kind)
    etag = obj.etag.replace('"', "&quot;")
    return (
        f"<{tag}><Key>{_text(enc(obj.key))}</Key>"
        f"<LastModified>{iso_time(obj.last_modified)}</LastModified>"
        f"<ETag>{etag}</ETag>{checksums}<Size>{obj.size}</Size>"
        f"<StorageClass>{obj.storage_class}</StorageClass>"
        f"{owner(owner_name) if owner_name is not None else ''}</{tag}>"
    )


_MILLIS = [f"{ms:03d}" for ms in range(1000)]


def _listed_checksums(algorithm: str, kind: str) -> str:
    if not algorithm:
        return ""
    return el("ChecksumAlgorithm", algorithm) + (el("ChecksumType", kind) if kind else "")


def _listed_contents(
    objects: list[ListedObject] | list[ObjectVersion],
    enc: Callable[[str], str],
    owner_names: Mapping[int, str] | None,
) -> str:
    """The <Contents> of a page of current objects, in one pass over the page.

    What _contents writes for each, with the per-entry work hoisted: each timestamp's second
    and each owner's element is formatted once per page, and plain keys skip escaping.
    Full ObjectVersion records (which a page may also be made of) go through _contents.
    """
    if not all(type(o) is ListedObject for o in objects):
        return "".join(
            _contents(o, enc, None if owner_names is None else owner_names.get(o.owner_id, ""))
            for o in objects
        )
    listed = cast(list[ListedObject], objects)
    keys = [o.key for o in listed]
    if enc is not _as_is:
        keys = [enc(key) for key in keys]
    if _PLAIN.fullmatch("".join(keys)) is None:  # one check for the page, mostly plain keys
        keys = [_text(key) for key in keys]
    seconds_text: dict[int, str] = {}
    checksums: dict[tuple[str, str], str] = {}
    owners: dict[int, str] = {}
    entries: list[str] = []
    append = entries.append
    for key, (_, size, etag, modified, storage_class, owner_id, algorithm, kind) in zip(
        keys, listed, strict=True
    ):
        seconds, rest = divmod(modified, 1_000_000)
        stamp = seconds_text.get(seconds)
        if stamp is None:
            stamp = seconds_text[seconds] = _iso_seconds(seconds)
        sums = checksums.get((algorithm, kind))
        if sums is None:
            sums = checksums[algorithm, kind] = _listed_checksums(algorithm, kind)
        owned = "" if owner_names is None else owners.get(owner_id)
        if owned is None:
            assert owner_names is not None
            owned = owners[owner_id] = owner(owner_names.get(owner_id, ""))
        if '"' in etag:
            etag = etag.replace('"', "&quot;")
        append(
            f"<Contents><Key>{key}</Key>"
            f"<LastModified>{stamp}.{_MILLIS[rest // 1000]}Z</LastModified>"
            f"<ETag>{etag}</ETag>{sums}<Size>{size}</Size>"
            f"<StorageClass>{storage_class}</StorageClass>{owned}</Contents>"
        )
    return "".join(entries)


def _prefixes(prefixes: list[str], enc: Callable[[str], str]) -> str:
    return "".join(
        "<CommonPrefixes>" + el("Prefix", enc(p)) + "</CommonPrefixes>" for p in prefixes
    )


def list_objects_v1(
    bucket: str,
    params: ListParams,
    marker: str,
    objects: list[ListedObject],
    prefixes: list[str],
    truncated: bool,
    next_marker: str,
    owner_names: dict[int, str],
) -> bytes:
    enc = _encoder(params.encoding_type)
    body = [
        el("Name", bucket),
        # v1 sends Prefix as it is even with encoding-type=url: botocore decodes Delimiter,
        # Marker, NextMarker and keys there, never Prefix (it does in v2 and versions)
        el("Prefix", params.prefix),
        el("Marker", enc(marker)),
        el("MaxKeys", params.max_keys),
        el("Delimiter", enc(params.delimiter) if params.delimiter else None),
        el("EncodingType", params.encoding_type),
        el("IsTruncated", truncated),
        el("NextMarker", enc(next_marker) if truncated and params.delimiter else None),
    ]
    body.append(_listed_contents(objects, enc, owner_names))
    body.append(_prefixes(prefixes, enc))
    return document("ListBucketResult", body)


def list_objects_v2(
    bucket: str,
    params: ListParams,
    *,
    start_after: str | None,
    continuation_token: str | None,
    next_token: str | None,
    objects: list[ListedObject],
    prefixes: list[str],
    truncated: bool,
    owner_names: dict[int, str] | None,
) -> bytes:
    enc = _encoder(params.encoding_type)
    body = [
        el("Name", bucket),
        el("Prefix", enc(params.prefix)),
        el("Delimiter", enc(params.delimiter) if params.delimiter else None),
        el("MaxKeys", params.max_keys),
        el("EncodingType", params.encoding_type),
        el("KeyCount", len(objects) + len(prefixes)),
        el("IsTruncated", truncated),
        el("ContinuationToken", continuation_token),
        el("NextContinuationToken", next_token if truncated else None),
        el("StartAfter", enc(start_after) if start_after is not None else None),
    ]
    body.append(_listed_contents(objects, enc, owner_names or None))
    body.append(_prefixes(prefixes, enc))
    return document("ListBucketResult", body)


def list_versions(
    bucket: str,
    params: ListParams,
    *,
    key_marker: str,
    version_marker: str,
    versions: list[ObjectVersion],
    prefixes: list[str],
    truncated: bool,
    next_key_marker: str,
    next_version_marker: str,
    owner_names: dict[int, str],
) -> bytes:
    enc = _encoder(params.encoding_type)
    body = [
        el("Name", bucket),
        el("Prefix", enc(params.prefix)),
        el("KeyMarker", enc(key_marker)),
        el("VersionIdMarker", version_marker),
        el("MaxKeys", params.max_keys),
        el("Delimiter", enc(params.delimiter) if params.delimiter else None),
        el("EncodingType", params.encoding_type),
        el("IsTruncated", truncated),
    ]
    if truncated:
        body += [el("NextKeyMarker", enc(next_key_marker))]
        if next_version_marker:
            body += [el("NextVersionIdMarker", next_version_marker)]
    for v in versions:
        name = owner_names.get(v.owner_id, "")
        if v.is_delete_marker:
            body.append(
                "<DeleteMarker>"
                + el("Key", enc(v.key))
                + el("VersionId", v.version_id)
                + el("IsLatest", v.is_latest)
                + el("LastModified", iso_time(v.last_modified))
                + owner(name)
                + "</DeleteMarker>"
            )
            continue
        entry = _contents(v, enc, name, tag="Version")
        head = f"<Version>{el('Key', enc(v.key))}"
        entry = (
            head + el("VersionId", v.version_id) + el("IsLatest", v.is_latest) + entry[len(head) :]
        )
        body.append(entry)
    body.append(_prefixes(prefixes, enc))
    return document("ListVersionsResult", body)


# --- multipart -------------------------------------------------------------------------------


def initiate_upload(bucket: str, key: str, upload_id: str) -> bytes:
    return document(
        "InitiateMultipartUploadResult",
        [el("Bucket", bucket), el("Key", key), el("UploadId", upload_id)],
    )


def complete_upload(location_url: str, bucket: str, key: str, obj: ObjectVersion) -> bytes:
    return document(
        "CompleteMultipartUploadResult",
        [
            el("Location", location_url),
            el("Bucket", bucket),
            el("Key", key),
            el("ETag", obj.etag),
            _checksum_elements(obj.checksums),
        ],
    )


def list_parts(
    bucket: str,
    upload: Upload,
    owner_name: str,
    parts: list[Part],
    *,
    marker: int,
    max_parts: int,
    truncated: bool,
) -> bytes:
    body = [
        el("Bucket", bucket),
        el("Key", upload.key),
        el("UploadId", upload.upload_id),
        "<Initiator>" + el("ID", owner_name) + el("DisplayName", owner_name) + "</Initiator>",
        owner(owner_name),
        el("StorageClass", upload.storage_class),
        el("PartNumberMarker", marker),
        el("NextPartNumberMarker", parts[-1].part_number if parts else marker),
        el("MaxParts", max_parts),
        el("IsTruncated", truncated),
        el("ChecksumAlgorithm", upload.checksum_algorithm or None),
        el("ChecksumType", upload.checksum_type or None),
    ]
    for p in parts:
        checksum = el(f"Checksum{upload.checksum_algorithm}", p.checksum) if p.checksum else ""
        body.append(
            "<Part>"
            + el("PartNumber", p.part_number)
            + el("LastModified", iso_time(p.last_modified))
            + el("ETag", p.etag)
            + el("Size", p.size)
            + checksum
            + "</Part>"
        )
    return document("ListPartsResult", body)


def object_attributes(
    obj: ObjectVersion, wanted: frozenset[str], *, marker: int, max_parts: int
) -> bytes:
    """GetObjectAttributesResponse with the attributes asked for (parts from `marker` on)."""
    body = []
    if "ETag" in wanted:
        body.append(el("ETag", obj.etag.strip('"')))
    if "Checksum" in wanted and obj.checksums:
        body.append("<Checksum>" + _checksum_elements(obj.checksums) + "</Checksum>")
    if "ObjectParts" in wanted and obj.part_sizes is not None:
        numbered = list(enumerate(obj.part_sizes, 1))[marker : marker + max_parts]
        truncated = marker + max_parts < len(obj.part_sizes)
        part_sums = obj.checksums.get("parts") or []
        algorithm = next((a for a in obj.checksums if a not in ("type", "parts")), "")
        parts = [
            "<Part>"
            + el("PartNumber", number)
            + el("Size", size)
            + (
                el(f"Checksum{algorithm}", part_sums[number - 1])
                if number <= len(part_sums)
                else ""
            )
            + "</Part>"
            for number, size in numbered
        ]
        body.append(
            "<ObjectParts>"
            + el("PartsCount", len(obj.part_sizes))
            + el("PartNumberMarker", marker)
            + el("NextPartNumberMarker", numbered[-1][0] if numbered else marker)
            + el("MaxParts", max_parts)
            + el("IsTruncated", truncated)
            + "".join(parts)
            + "</ObjectParts>"
        )
    if "StorageClass" in wanted:
        body.append(el("StorageClass", obj.storage_class))
    if "ObjectSize" in wanted:
        body.append(el("ObjectSize", obj.size))
    return document("GetObjectAttributesResponse", body)


def list_uploads(
    bucket: str,
    params: ListParams,
    *,
    key_marker: str,
    upload_marker: str,
    uploads: list[Upload],
    prefixes: list[str],
    truncated: bool,
    next_key_marker: str,
    next_upload_marker: str,
    owner_names: dict[int, str],
) -> bytes:
    enc = _encoder(params.encoding_type)
    body = [
        el("Bucket", bucket),
        el("KeyMarker", enc(key_marker)),
        el("UploadIdMarker", upload_marker),
        el("NextKeyMarker", enc(next_key_marker)),
        el("NextUploadIdMarker", next_upload_marker),
        el("Prefix", enc(params.prefix)),
        el("Delimiter", enc(params.delimiter) if params.delimiter else None),
        el("MaxUploads", params.max_keys),
        el("EncodingType", params.encoding_type),
        el("IsTruncated", truncated),
    ]
    for u in uploads:
        name = owner_names.get(u.owner_id, "")
        body.append(
            "<Upload>"
            + el("Key", enc(u.key))
            + el("UploadId", u.upload_id)
            + "<Initiator>"
            + el("ID", name)
            + el("DisplayName", name)
            + "</Initiator>"
            + owner(name)
            + el("StorageClass", u.storage_class)
            + el("Initiated", iso_time(u.created_at))
            + el("ChecksumAlgorithm", u.checksum_algorithm or None)
            + "</Upload>"
        )
    body.append(_prefixes(prefixes, enc))
    return document("ListMultipartUploadsResult", body)


# --- copies and deletes ----------------------------------------------------------------------


def copy_result(obj: ObjectVersion, *, part: bool = False) -> bytes:
    body = [el("ETag", obj.etag), el("LastModified", iso_time(obj.last_modified))]
    body.append(_checksum_elements(obj.checksums))
    return document("CopyPartResult" if part else "CopyObjectResult", body)


def copy_part_result(part: Part, algorithm: str) -> bytes:
    body = [el("ETag", part.etag), el("LastModified", iso_time(part.last_modified))]
    if part.checksum and algorithm:
        body.append(el(f"Checksum{algorithm}", part.checksum))
    return document("CopyPartResult", body)


@dataclass(frozen=True, slots=True)
class DeleteEntry:
    """One Object of a Delete request, with its optional conditions."""

    key: str
    version_id: str | None = None
    etag: str | None = None
    last_modified: float | None = None  # epoch seconds
    size: int | None = None


@dataclass(frozen=True, slots=True)
class DeleteOutcome:
    key: str
    version_id: str | None = None
    delete_marker: bool = False
    delete_marker_version_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


def delete_result(outcomes: list[DeleteOutcome], quiet: bool) -> bytes:
    body = []
    for o in outcomes:
        if o.error_code is not None:
            body.append(
                "<Error>"
                + el("Key", o.key)
                + el("VersionId", o.version_id)
                + el("Code", o.error_code)
                + el("Message", o.error_message)
                + "</Error>"
            )
        elif not quiet:
            body.append(
                "<Deleted>"
                + el("Key", o.key)
                + el("VersionId", o.version_id)
                + (el("DeleteMarker", True) if o.delete_marker else "")
                + el("DeleteMarkerVersionId", o.delete_marker_version_id)
                + "</Deleted>"
            )
    return document("DeleteResult", body)


# --- request bodies --------------------------------------------------------------------------


def _parse(body: bytes) -> ET.Element:
    if len(body) > MAX_REQUEST_XML:
        raise errors.MalformedXML("The XML you provided was larger than the maximum allowed.")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise errors.MalformedXML() from exc
    return root


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _children(node: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in node if _local(child.tag) == name]


def _child_text(node: ET.Element, name: str) -> str | None:
    found = _children(node, name)
    return (found[0].text or "") if found else None


def _timestamp(text: str | None) -> float | None:
    """Epoch seconds of a timestamp element, HTTP-date (as botocore sends) or ISO 8601."""
    if text is None:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        try:
            moment = dt.datetime.fromisoformat(text.strip())
        except ValueError as exc:
            raise errors.MalformedXML() from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def _integer(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.strip().isdigit():
        raise errors.MalformedXML()
    return int(text)


def parse_config(body: bytes, root: str, repeated: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A configuration document as a tree: element -> text, or dict of its children.

    Children named in `repeated` are always lists (CORSRule, Rule, Tag...); any other name
    given twice is MalformedXML. Namespaces are dropped. The domain modules validate the tree.
    """
    if not body.strip():
        raise errors.MalformedXML()
    node = _parse(body)
    if _local(node.tag) != root:
        raise errors.MalformedXML(f"The XML document's root must be {root}.")
    tree = _tree(node, repeated)
    return tree if isinstance(tree, dict) else {}


def _tree(node: ET.Element, repeated: frozenset[str]) -> dict[str, Any] | str:
    if len(node) == 0:
        return node.text or ""
    out: dict[str, Any] = {}
    for child in node:
        name = _local(child.tag)
        value = _tree(child, repeated)
        if name in repeated:
            out.setdefault(name, []).append(value)
        elif name in out:
            raise errors.MalformedXML(f"The element {name} may appear only once.")
        else:
            out[name] = value
    return out


def config_document(root: str, tree: Mapping[str, Any]) -> bytes:
    """Render a configuration tree (as parse_config returns) back to an S3 document."""
    return document(root, _elements(tree))


def _elements(tree: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for name, value in tree.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Mapping):
                out.append(f"<{name}>{''.join(_elements(item))}</{name}>")
            else:
                out.append(el(name, item))
    return out


def bucket_logging_status(enabled: Mapping[str, Any] | None) -> bytes:
    """GetBucketLogging: the LoggingEnabled element, or an empty status when logging is off."""
    return config_document("BucketLoggingStatus", {"LoggingEnabled": enabled} if enabled else {})


def parse_location_constraint(body: bytes) -> str | None:
    """CreateBucketConfiguration -> LocationConstraint (None when the body is empty)."""
    if not body.strip():
        return None
    root = _parse(body)
    if _local(root.tag) != "CreateBucketConfiguration":
        raise errors.MalformedXML()
    return _child_text(root, "LocationConstraint")


def parse_complete_upload(body: bytes) -> list[tuple[int, str, dict[str, str]]]:
    """CompleteMultipartUpload -> [(part number, etag, {algorithm: checksum})]."""
    root = _parse(body)
    if _local(root.tag) != "CompleteMultipartUpload":
        raise errors.MalformedXML()
    parts = []
    for node in _children(root, "Part"):
        number, etag = _child_text(node, "PartNumber"), _child_text(node, "ETag")
        if number is None or etag is None:
            raise errors.MalformedXML()
        try:
            part_number = int(number)
        except ValueError as exc:
            raise errors.MalformedXML() from exc
        found = {
            _local(c.tag)[len("Checksum") :]: c.text or ""
            for c in node
            if _local(c.tag).startswith("Checksum")
        }
        parts.append((part_number, etag, found))
    if not parts:
        raise errors.MalformedXML()
    return parts


def parse_delete(body: bytes) -> tuple[list[DeleteEntry], bool]:
    """Delete -> (entries, quiet). At most 1,000 entries, as S3 allows."""
    root = _parse(body)
    if _local(root.tag) != "Delete":
        raise errors.MalformedXML()
    entries = []
    for node in _children(root, "Object"):
        key = _child_text(node, "Key")
        if key is None:
            raise errors.MalformedXML()
        entries.append(
            DeleteEntry(
                key,
                _child_text(node, "VersionId") or None,
                etag=_child_text(node, "ETag"),
                last_modified=_timestamp(_child_text(node, "LastModifiedTime")),
                size=_integer(_child_text(node, "Size")),
            )
        )
    if not entries or len(entries) > 1000:
        raise errors.MalformedXML()
    quiet = (_child_text(root, "Quiet") or "").strip().lower() == "true"
    return entries, quiet


# --- the SNS-compatible topic API (query protocol) ---------------------------------------------

SNS_NS = "https://sns.amazonaws.com/doc/2010-03-31/"
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"


def sns_response(
    action: str, result: Iterable[str] | None, request_id: str, namespace: str = SNS_NS
) -> bytes:
    """`<{action}Response>` with an optional `<{action}Result>` and the request id."""
    body = f"<{action}Result>{''.join(result)}</{action}Result>" if result is not None else ""
    metadata = f"<ResponseMetadata>{el('RequestId', request_id)}</ResponseMetadata>"
    return (
        HEADER + f'<{action}Response xmlns="{namespace}">{body}{metadata}</{action}Response>'
    ).encode()


def sns_topic_arn(arn: str) -> list[str]:
    return [el("TopicArn", arn)]


def sns_topics(arns: Iterable[str]) -> list[str]:
    members = "".join(f"<member>{el('TopicArn', arn)}</member>" for arn in arns)
    return [f"<Topics>{members}</Topics>"]


def sns_attributes(attributes: Mapping[str, str]) -> list[str]:
    entries = "".join(
        f"<entry>{el('key', key)}{el('value', value)}</entry>" for key, value in attributes.items()
    )
    return [f"<Attributes>{entries}</Attributes>"]


def sns_error(code: str, message: str, request_id: str, *, sender: bool = True) -> bytes:
    """An SNS error document (ErrorResponse/Error), as botocore's query parser reads it."""
    error_type = "Sender" if sender else "Receiver"
    fields = el("Type", error_type) + el("Code", code) + el("Message", message)
    return (
        HEADER
        + f'<ErrorResponse xmlns="{SNS_NS}"><Error>{fields}</Error>'
        + el("RequestId", request_id)
        + "</ErrorResponse>"
    ).encode()


def iam_user(name: str, arn: str, created_us: int) -> list[str]:
    """The User element of iam:GetUser."""
    return [f"<User>{iam_user_fields(name, arn, created_us)}</User>"]


def iam_user_fields(name: str, arn: str, created_us: int, path: str = "/") -> str:
    """An IAM user's fields (inside User, or a member of Users)."""
    fields = el("Path", path) + el("UserName", name) + el("UserId", name) + el("Arn", arn)
    return fields + el("CreateDate", iso_time(created_us))


def iam_list(name: str, members: Iterable[str]) -> list[str]:
    """An IAM listing: every member's fields in <member>, never truncated."""
    inner = "".join(f"<member>{m}</member>" for m in members)
    return [f"<{name}>{inner}</{name}>", el("IsTruncated", False)]


def iam_access_key_fields(user: str, access_key: str, created_us: int, status: str) -> str:
    return (
        el("UserName", user)
        + el("AccessKeyId", access_key)
        + el("Status", "Active" if status == "active" else "Inactive")
        + el("CreateDate", iso_time(created_us))
    )


def iam_access_key(user: str, access_key: str, created_us: int, secret: str) -> str:
    """The AccessKey of iam:CreateAccessKey (the only answer that holds the secret)."""
    fields = iam_access_key_fields(user, access_key, created_us, "active")
    return f"<AccessKey>{fields}{el('SecretAccessKey', secret)}</AccessKey>"


def iam_attached_policy(name: str, arn: str) -> str:
    return el("PolicyName", name) + el("PolicyArn", arn)


def iam_empty_list(name: str, *, truncated: bool) -> list[str]:
    """An IAM listing with no members (and IsTruncated false where the shape has it)."""
    return [f"<{name}/>"] + ([el("IsTruncated", False)] if truncated else [])
