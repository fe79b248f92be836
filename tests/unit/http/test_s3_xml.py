"""Golden tests of lading.http.s3.xml against the examples of the AWS S3 API Reference.

Request bodies are the documented examples, verbatim (API_CompleteMultipartUpload,
API_DeleteObjects, API_CreateBucket); responses are built here and compared, element by
element and in order, with the documented responses (API_ListObjects, ErrorResponses,
API_DeleteObjects).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import xml.etree.ElementTree as ET
from urllib.parse import unquote_plus

import pytest

from lading import errors
from lading.http.s3 import xml
from lading.metadata.models import ObjectVersion, Upload

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
OCT_12_2009 = int(dt.datetime(2009, 10, 12, 17, 50, 30, tzinfo=dt.UTC).timestamp()) * 1_000_000

# --- request bodies (AWS examples) -------------------------------------------------------------

COMPLETE_UPLOAD_EXAMPLE = b"""
            <CompleteMultipartUpload>
             <Part>
                <PartNumber>1</PartNumber>
               <ETag>"a54357aff0632cce46d942af68356b38"</ETag>
             </Part>
             <Part>
                <PartNumber>2</PartNumber>
               <ETag>"0c78aef83f66abc1fa1e8477f296d394"</ETag>
             </Part>
             <Part>
               <PartNumber>3</PartNumber>
               <ETag>"acbd18db4cc2f85cedef654fccc4a4d8"</ETag>
             </Part>
            </CompleteMultipartUpload>
"""

# the request syntax of API_CompleteMultipartUpload: namespaced, checksums before the ETag
COMPLETE_UPLOAD_WITH_CHECKSUMS = b"""<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
   <Part>
      <ChecksumCRC32>AAAAAA==</ChecksumCRC32>
      <ChecksumCRC64NVME>AAAAAAAAAAA=</ChecksumCRC64NVME>
      <ETag>"a54357aff0632cce46d942af68356b38"</ETag>
      <PartNumber>1</PartNumber>
   </Part>
   <Part>
      <ChecksumCRC32>/////w==</ChecksumCRC32>
      <ETag>"0c78aef83f66abc1fa1e8477f296d394"</ETag>
      <PartNumber>2</PartNumber>
   </Part>
</CompleteMultipartUpload>"""

DELETE_EXAMPLE = b"""<Delete>
<Object>
<Key>sample1.txt</Key>
</Object>
<Object>
<Key>sample2.txt</Key>
</Object>
</Delete>"""

DELETE_VERSIONED_EXAMPLE = b"""<Delete>
  <Object>
    <Key>SampleDocument.txt</Key>
    <VersionId>OYcLXagmS.WaD..oyH4KRguB95_YhLs7</VersionId>
  </Object>
</Delete>"""

DELETE_CARRIAGE_RETURN_EXAMPLE = b"""
<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Object>
<Key>/some/prefix/objectwith&#13;carriagereturn</Key>
</Object>
</Delete>"""

DELETE_QUIET = b"""<?xml version="1.0" encoding="UTF-8"?>
<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
   <Object>
      <Key>sample1.txt</Key>
   </Object>
   <Object>
      <Key>sample2.txt</Key>
      <VersionId>OYcLXagmS.WaD..oyH4KRguB95_YhLs7</VersionId>
   </Object>
   <Quiet>true</Quiet>
</Delete>"""

# "missing the Delete end element", the example of a malformed request in API_DeleteObjects
DELETE_MALFORMED_EXAMPLE = b"""<Delete>
  <Object>
    <Key>404.txt</Key>
  </Object>
  <Object>
    <Key>a.txt</Key>
  </Object>
"""

CREATE_BUCKET_EXAMPLE = b"""<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <LocationConstraint>Europe</LocationConstraint>
</CreateBucketConfiguration >"""

ENTITY_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a0 "lol">'
    + b"".join(b'<!ENTITY a%d "%s">' % (i, b"&a%d;" % (i - 1) * 10) for i in range(1, 10))
    + b"]><Delete><Object><Key>&a9;</Key></Object></Delete>"
)

# --- responses (AWS examples) ------------------------------------------------------------------

LIST_OBJECTS_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
    <Name>bucket</Name>
    <Prefix/>
    <Marker/>
    <MaxKeys>1000</MaxKeys>
    <IsTruncated>false</IsTruncated>
    <Contents>
        <Key>my-image.jpg</Key>
        <LastModified>2009-10-12T17:50:30.000Z</LastModified>
        <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
        <Size>434234</Size>
        <StorageClass>STANDARD</StorageClass>
        <Owner>
            <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
            <DisplayName>mtd@amazon.com</DisplayName>
        </Owner>
    </Contents>
    <Contents>
       <Key>my-third-image.jpg</Key>
         <LastModified>2009-10-12T17:50:30.000Z</LastModified>
        <ETag>&quot;1b2cf535f27731c974343645a3985328&quot;</ETag>
        <Size>64994</Size>
        <StorageClass>STANDARD_IA</StorageClass>
        <Owner>
            <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
            <DisplayName>mtd@amazon.com</DisplayName>
        </Owner>
    </Contents>
</ListBucketResult>"""

LIST_OBJECTS_V2_DELIMITER_EXAMPLE = """
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>example-bucket</Name>
  <Prefix></Prefix>
  <KeyCount>2</KeyCount>
  <MaxKeys>1000</MaxKeys>
  <Delimiter>/</Delimiter>
  <IsTruncated>false</IsTruncated>
  <Contents>
    <Key>sample.jpg</Key>
    <LastModified>2011-02-26T01:56:20.000Z</LastModified>
    <ETag>"bf1d737a4d46a19f3bced6905cc8b902"</ETag>
    <Size>142863</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <CommonPrefixes>
    <Prefix>photos/</Prefix>
  </CommonPrefixes>
</ListBucketResult>"""

ERROR_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The resource you requested does not exist</Message>
  <Resource>/mybucket/myfoto.jpg</Resource>
  <RequestId>4442587FB7D0A2F9</RequestId>
</Error>"""

DELETE_RESULT_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Deleted>
  <Key>sample1.txt</Key>
</Deleted>
<Error>
<Key>sample2.txt</Key>
<Code>AccessDenied</Code>
<Message>Access Denied</Message>
</Error>
</DeleteResult>"""

Outline = tuple[str, str | None, tuple["Outline", ...]]


def outline(node: ET.Element) -> Outline:
    """(name without namespace, text, children) all the way down; whitespace text is None."""
    text = node.text.strip() if node.text and node.text.strip() else None
    return (node.tag.rpartition("}")[2], text, tuple(outline(child) for child in node))


def parse(document: bytes | str) -> ET.Element:
    return ET.fromstring(document)


def obj(
    key: str, *, size: int = 1, etag: str = '"e"', storage_class: str = "STANDARD"
) -> ObjectVersion:
    return ObjectVersion(
        bucket_id=1,
        key=key,
        version_id="null",
        size=size,
        etag=etag,
        last_modified=OCT_12_2009,
        content_type="image/jpeg",
        storage_class=storage_class,
        owner_id=7,
    )


# --- parsing -----------------------------------------------------------------------------------


def test_complete_upload_example_parses_to_numbered_parts() -> None:
    assert xml.parse_complete_upload(COMPLETE_UPLOAD_EXAMPLE) == [
        (1, '"a54357aff0632cce46d942af68356b38"', {}),
        (2, '"0c78aef83f66abc1fa1e8477f296d394"', {}),
        (3, '"acbd18db4cc2f85cedef654fccc4a4d8"', {}),
    ]


def test_complete_upload_reads_part_checksums_by_algorithm() -> None:
    assert xml.parse_complete_upload(COMPLETE_UPLOAD_WITH_CHECKSUMS) == [
        (
            1,
            '"a54357aff0632cce46d942af68356b38"',
            {"CRC32": "AAAAAA==", "CRC64NVME": "AAAAAAAAAAA="},
        ),
        (2, '"0c78aef83f66abc1fa1e8477f296d394"', {"CRC32": "/////w=="}),
    ]


def test_delete_example_parses_to_keys_in_verbose_mode() -> None:
    assert xml.parse_delete(DELETE_EXAMPLE) == (
        [xml.DeleteEntry("sample1.txt"), xml.DeleteEntry("sample2.txt")],
        False,
    )


def test_delete_versioned_example_keeps_the_version_id() -> None:
    assert xml.parse_delete(DELETE_VERSIONED_EXAMPLE) == (
        [xml.DeleteEntry("SampleDocument.txt", "OYcLXagmS.WaD..oyH4KRguB95_YhLs7")],
        False,
    )


def test_delete_example_with_an_escaped_carriage_return_keeps_it_in_the_key() -> None:
    entries, _ = xml.parse_delete(DELETE_CARRIAGE_RETURN_EXAMPLE)
    assert entries == [xml.DeleteEntry("/some/prefix/objectwith\rcarriagereturn")]


@pytest.mark.parametrize(
    ("quiet", "expected"),
    [("true", True), ("True", True), (" true ", True), ("false", False), ("", False)],
)
def test_delete_quiet_element_selects_quiet_mode(quiet: str, expected: bool) -> None:
    body = DELETE_QUIET.replace(b"<Quiet>true</Quiet>", f"<Quiet>{quiet}</Quiet>".encode())
    entries, parsed_quiet = xml.parse_delete(body)
    assert parsed_quiet is expected
    assert entries == [
        xml.DeleteEntry("sample1.txt"),
        xml.DeleteEntry("sample2.txt", "OYcLXagmS.WaD..oyH4KRguB95_YhLs7"),
    ]


def test_delete_keys_keep_surrounding_spaces() -> None:
    entries, _ = xml.parse_delete(b"<Delete><Object><Key> spaced </Key></Object></Delete>")
    assert entries == [xml.DeleteEntry(" spaced ")]


def test_delete_accepts_the_documented_maximum_of_1000_keys() -> None:
    body = b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1000 + b"</Delete>"
    assert len(xml.parse_delete(body)[0]) == 1000


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (CREATE_BUCKET_EXAMPLE, "Europe"),
        (
            b"<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint>"
            b"</CreateBucketConfiguration>",
            "eu-west-1",
        ),
        (b"<CreateBucketConfiguration><LocationConstraint/></CreateBucketConfiguration>", ""),
        (b"<CreateBucketConfiguration></CreateBucketConfiguration>", None),
        (b"", None),
        (b"  \n", None),
    ],
)
def test_create_bucket_configuration_gives_the_location_constraint(
    body: bytes, expected: str | None
) -> None:
    assert xml.parse_location_constraint(body) == expected


MALFORMED = [
    pytest.param(xml.parse_delete, DELETE_MALFORMED_EXAMPLE, id="delete-aws-example-unclosed"),
    pytest.param(xml.parse_delete, b"", id="delete-empty"),
    pytest.param(xml.parse_delete, b"not xml at all", id="delete-not-xml"),
    pytest.param(xml.parse_delete, b"<Delete></Delete>", id="delete-no-objects"),
    pytest.param(xml.parse_delete, b"<Delete><Quiet>true</Quiet></Delete>", id="delete-quiet-only"),
    pytest.param(
        xml.parse_delete, b"<Delete><Object><VersionId>v</VersionId></Object></Delete>", id="no-key"
    ),
    pytest.param(
        xml.parse_delete,
        b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>",
        id="delete-1001-keys",
    ),
    pytest.param(xml.parse_delete, COMPLETE_UPLOAD_EXAMPLE, id="delete-wrong-root"),
    pytest.param(xml.parse_delete, ENTITY_BOMB, id="delete-entity-expansion"),
    pytest.param(
        xml.parse_delete,
        b"<Delete>" + b"<Object><Key>" + b"k" * xml.MAX_REQUEST_XML + b"</Key></Object></Delete>",
        id="delete-too-large",
    ),
    pytest.param(xml.parse_complete_upload, b"", id="complete-empty"),
    pytest.param(
        xml.parse_complete_upload,
        b"<CompleteMultipartUpload></CompleteMultipartUpload>",
        id="complete-no-parts",
    ),
    pytest.param(
        xml.parse_complete_upload,
        b"<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>",
        id="complete-no-part-number",
    ),
    pytest.param(
        xml.parse_complete_upload,
        b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part>"
        b"</CompleteMultipartUpload>",
        id="complete-no-etag",
    ),
    pytest.param(
        xml.parse_complete_upload,
        b"<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part>"
        b"</CompleteMultipartUpload>",
        id="complete-part-number-not-a-number",
    ),
    pytest.param(
        xml.parse_complete_upload,
        COMPLETE_UPLOAD_EXAMPLE.replace(b"</CompleteMultipartUpload>", b""),
        id="complete-unclosed",
    ),
    pytest.param(xml.parse_complete_upload, DELETE_EXAMPLE, id="complete-wrong-root"),
    pytest.param(xml.parse_location_constraint, b"<Bucket/>", id="location-wrong-root"),
    pytest.param(
        xml.parse_location_constraint,
        b"<CreateBucketConfiguration><LocationConstraint>x",
        id="location-unclosed",
    ),
]


@pytest.mark.parametrize(("parser", "body"), MALFORMED)
def test_malformed_body_raises_malformed_xml(parser: object, body: bytes) -> None:
    assert callable(parser)
    with pytest.raises(errors.MalformedXML):
        parser(body)


# --- responses ---------------------------------------------------------------------------------


def test_error_document_matches_the_golden_string() -> None:
    built = xml.error(
        "NoSuchKey",
        "The resource you requested does not exist",
        "/mybucket/myfoto.jpg",
        "4442587FB7D0A2F9",
    )
    assert built == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b"<Error><Code>NoSuchKey</Code>"
        b"<Message>The resource you requested does not exist</Message>"
        b"<Resource>/mybucket/myfoto.jpg</Resource>"
        b"<RequestId>4442587FB7D0A2F9</RequestId>"
        b"<HostId>4442587FB7D0A2F9</HostId></Error>"
    )


def test_error_document_has_the_documented_elements_in_order() -> None:
    built = parse(
        xml.error(
            "NoSuchKey",
            "The resource you requested does not exist",
            "/mybucket/myfoto.jpg",
            "4442587FB7D0A2F9",
        )
    )
    expected = outline(parse(ERROR_EXAMPLE))
    name, text, children = outline(built)
    assert (name, text) == expected[:2]
    assert children[:-1] == expected[2]  # then HostId, as real S3 errors carry
    assert children[-1] == ("HostId", "4442587FB7D0A2F9", ())


def test_error_document_escapes_text_and_carries_extra_fields() -> None:
    built = parse(
        xml.error("NoSuchKey", 'a <"b"> & c', "/b/k&<>", "id-1", Key="k&<>", BucketName="b")
    )
    assert outline(built) == (
        "Error",
        None,
        (
            ("Code", "NoSuchKey", ()),
            ("Message", 'a <"b"> & c', ()),
            ("Key", "k&<>", ()),
            ("BucketName", "b", ()),
            ("Resource", "/b/k&<>", ()),
            ("RequestId", "id-1", ()),
            ("HostId", "id-1", ()),
        ),
    )


def test_list_objects_v1_matches_the_documented_example() -> None:
    owner_id = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
    built = xml.list_objects_v1(
        "bucket",
        xml.ListParams(prefix="", delimiter="", max_keys=1000, encoding_type=None),
        "",
        [
            obj("my-image.jpg", size=434234, etag='"fba9dede5f27731c9771645a39863328"'),
            obj(
                "my-third-image.jpg",
                size=64994,
                etag='"1b2cf535f27731c974343645a3985328"',
                storage_class="STANDARD_IA",
            ),
        ],
        [],
        False,
        "",
        {7: owner_id},
    )
    root = parse(built)
    assert root.tag == f"{NS}ListBucketResult"
    expected = outline(parse(LIST_OBJECTS_EXAMPLE))
    # the owner is a user name here, shown as both ID and DisplayName
    assert outline(root) == _with_display_name(expected, owner_id)


def _with_display_name(node: Outline, name: str) -> Outline:
    tag, text, children = node
    if tag == "DisplayName":
        return (tag, name, ())
    return (tag, text, tuple(_with_display_name(child, name) for child in children))


def test_list_objects_v2_with_delimiter_has_the_documented_elements() -> None:
    built = xml.list_objects_v2(
        "example-bucket",
        xml.ListParams(prefix="", delimiter="/", max_keys=1000, encoding_type=None),
        start_after=None,
        continuation_token=None,
        next_token=None,
        objects=[
            dataclasses.replace(
                obj("sample.jpg", size=142863, etag='"bf1d737a4d46a19f3bced6905cc8b902"'),
                last_modified=int(
                    dt.datetime(2011, 2, 26, 1, 56, 20, tzinfo=dt.UTC).timestamp() * 1_000_000
                ),
            )
        ],
        prefixes=["photos/"],
        truncated=False,
        owner_names=None,
    )
    root = parse(built)
    assert root.tag == f"{NS}ListBucketResult"
    name, _, children = outline(root)
    expected_name, _, expected_children = outline(parse(LIST_OBJECTS_V2_DELIMITER_EXAMPLE))
    assert name == expected_name
    # S3's own examples and syntax disagree on the order of the header elements; clients
    # read them by name. Entries come after the header, contents before common prefixes.
    assert sorted(children) == sorted(expected_children)
    assert [c[0] for c in children][-2:] == ["Contents", "CommonPrefixes"]


def test_list_objects_v1_with_delimiter_reports_next_marker_only_when_truncated() -> None:
    params = xml.ListParams(prefix="a/", delimiter="/", max_keys=2, encoding_type=None)
    truncated = parse(
        xml.list_objects_v1("b", params, "", [obj("a/1")], ["a/d/"], True, "a/d/", {})
    )
    assert truncated.findtext(f"{NS}NextMarker") == "a/d/"
    assert truncated.findtext(f"{NS}IsTruncated") == "true"
    assert [p.text for p in truncated.iter(f"{NS}Prefix")] == ["a/", "a/d/"]
    whole = parse(xml.list_objects_v1("b", params, "", [obj("a/1")], [], False, "a/1", {}))
    assert whole.find(f"{NS}NextMarker") is None
    assert whole.findtext(f"{NS}IsTruncated") == "false"


def test_delete_result_matches_the_documented_example() -> None:
    built = xml.delete_result(
        [
            xml.DeleteOutcome("sample1.txt"),
            xml.DeleteOutcome(
                "sample2.txt", error_code="AccessDenied", error_message="Access Denied"
            ),
        ],
        quiet=False,
    )
    assert outline(parse(built)) == outline(parse(DELETE_RESULT_EXAMPLE))


def test_quiet_delete_result_lists_only_errors() -> None:
    built = xml.delete_result(
        [
            xml.DeleteOutcome("ok.txt"),
            xml.DeleteOutcome("no.txt", error_code="AccessDenied", error_message="Access Denied"),
        ],
        quiet=True,
    )
    assert [c[0] for c in outline(parse(built))[2]] == ["Error"]


def test_iso_time_is_the_s3_timestamp_form() -> None:
    assert xml.iso_time(OCT_12_2009) == "2009-10-12T17:50:30.000Z"
    assert xml.iso_time(OCT_12_2009 + 123_999) == "2009-10-12T17:50:30.123Z"


# --- encoding-type=url -------------------------------------------------------------------------

TRICKY_KEYS = [
    "plain",
    "with space",
    "plus+sign",
    "per%cent",
    "dir/sub/file",
    "amp&lt<gt>",
    "quote\"'",
    "ümlaut",
    "日本語",
    "🦀/crab",
    "tab\tnewline\ncr\r",
    "ctrl\x01\x1f",
    "?query#frag",
]


def _list_v2(keys: list[str], prefixes: list[str], encoding: str | None) -> ET.Element:
    params = xml.ListParams(prefix="p re/", delimiter="/", max_keys=1000, encoding_type=encoding)
    return parse(
        xml.list_objects_v2(
            "bucket",
            params,
            start_after="start after+",
            continuation_token="tok+en/=",
            next_token=None,
            objects=[obj(k) for k in keys],
            prefixes=prefixes,
            truncated=False,
            owner_names=None,
        )
    )


def test_url_encoding_makes_every_key_decodable_the_way_botocore_decodes() -> None:
    # botocore decodes url-encoded listings with urllib.parse.unquote_plus
    root = _list_v2(TRICKY_KEYS, ["dir one/", "+/"], "url")
    keys = [e.text or "" for e in root.iter(f"{NS}Key")]
    assert all(key.isascii() and key.isprintable() for key in keys)
    assert [unquote_plus(key) for key in keys] == TRICKY_KEYS
    prefixes = [p.findtext(f"{NS}Prefix") or "" for p in root.iter(f"{NS}CommonPrefixes")]
    assert [unquote_plus(p) for p in prefixes] == ["dir one/", "+/"]


def test_url_encoding_covers_prefix_delimiter_and_start_after_but_not_the_token() -> None:
    root = _list_v2(["k"], [], "url")
    assert root.findtext(f"{NS}EncodingType") == "url"
    assert unquote_plus(root.findtext(f"{NS}Prefix") or "") == "p re/"
    assert " " not in (root.findtext(f"{NS}Prefix") or "")
    assert unquote_plus(root.findtext(f"{NS}StartAfter") or "") == "start after+"
    assert "+" not in (root.findtext(f"{NS}StartAfter") or "")
    assert root.findtext(f"{NS}Delimiter") == "/"
    assert root.findtext(f"{NS}ContinuationToken") == "tok+en/="
    assert root.findtext(f"{NS}Name") == "bucket"


def test_without_encoding_keys_are_sent_as_they_are() -> None:
    keys = [k for k in TRICKY_KEYS if k.isprintable() or k.startswith("tab")]
    root = _list_v2(keys, [], None)
    assert root.find(f"{NS}EncodingType") is None
    assert [e.text for e in root.iter(f"{NS}Key")] == keys


@pytest.mark.parametrize("builder", ["v1", "versions", "uploads"])
def test_url_encoding_applies_to_every_listing(builder: str) -> None:
    key = "a b+c/ü"
    params = xml.ListParams(prefix="a b", delimiter="", max_keys=10, encoding_type="url")
    if builder == "v1":
        body = xml.list_objects_v1("bk", params, key, [obj(key)], [], False, "", {})
    elif builder == "versions":
        body = xml.list_versions(
            "bk",
            params,
            key_marker=key,
            version_marker="",
            versions=[obj(key)],
            prefixes=[],
            truncated=True,
            next_key_marker=key,
            next_version_marker="null",
            owner_names={},
        )
    else:
        upload = Upload("u1", 1, key, OCT_12_2009, 7, "text/plain")
        body = xml.list_uploads(
            "bk",
            params,
            key_marker=key,
            upload_marker="",
            uploads=[upload],
            prefixes=[],
            truncated=False,
            next_key_marker=key,
            next_upload_marker="u1",
            owner_names={},
        )
    root = parse(body)
    texts = {
        (node.tag.rpartition("}")[2], node.text)
        for node in root.iter()
        if node.tag.rpartition("}")[2] in ("Key", "Marker", "KeyMarker", "NextKeyMarker")
    }
    assert texts, "the listing names the key"
    assert all(text is not None and unquote_plus(text) == key for _, text in texts)
    assert unquote_plus(root.findtext(f"{NS}Prefix") or "") == "a b"


# GetBucketLogging, AWS's documentation example (S3 API reference, GetBucketLogging).
LOGGING_STATUS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<BucketLoggingStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    "<LoggingEnabled><TargetBucket>mybucketlogs</TargetBucket>"
    "<TargetPrefix>mybucket-access_log-/</TargetPrefix></LoggingEnabled>"
    "</BucketLoggingStatus>"
)


def test_bucket_logging_status_golden() -> None:
    enabled = {"TargetBucket": "mybucketlogs", "TargetPrefix": "mybucket-access_log-/"}
    assert xml.bucket_logging_status(enabled).decode() == LOGGING_STATUS
    tree = xml.parse_config(LOGGING_STATUS.encode(), "BucketLoggingStatus")
    assert tree == {"LoggingEnabled": enabled}


def test_bucket_logging_status_when_off_is_empty() -> None:
    assert xml.bucket_logging_status(None).decode() == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<BucketLoggingStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        "</BucketLoggingStatus>"
    )


# --- the SNS-compatible topic API (AWS SNS API Reference examples) -----------------------------

SNS_CREATE_TOPIC_EXAMPLE = (
    '<CreateTopicResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/">'
    "<CreateTopicResult><TopicArn>arn:aws:sns:us-east-2:123456789012:My-Topic</TopicArn>"
    "</CreateTopicResult><ResponseMetadata><RequestId>a8dec8b3-33a4-11df-8963-01868b7c937a"
    "</RequestId></ResponseMetadata></CreateTopicResponse>"
)
SNS_ERROR_EXAMPLE = (
    '<ErrorResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>'
    "<Code>NotFound</Code><Message>Topic does not exist</Message></Error>"
    "<RequestId>9dd01905-5012-5f99-8663-4b3ecd0dfaef</RequestId></ErrorResponse>"
)


def test_create_topic_response_matches_the_sns_example() -> None:
    body = xml.sns_response(
        "CreateTopic",
        xml.sns_topic_arn("arn:aws:sns:us-east-2:123456789012:My-Topic"),
        "a8dec8b3-33a4-11df-8963-01868b7c937a",
    )
    assert body.decode() == xml.HEADER + SNS_CREATE_TOPIC_EXAMPLE


def test_sns_error_matches_the_sns_example() -> None:
    body = xml.sns_error("NotFound", "Topic does not exist", "9dd01905-5012-5f99-8663-4b3ecd0dfaef")
    assert body.decode() == xml.HEADER + SNS_ERROR_EXAMPLE


def test_list_topics_and_attributes_shapes() -> None:
    topics = xml.sns_response("ListTopics", xml.sns_topics(["arn:a", "arn:b"]), "r")
    assert (
        b"<ListTopicsResult><Topics><member><TopicArn>arn:a</TopicArn></member>"
        b"<member><TopicArn>arn:b</TopicArn></member></Topics></ListTopicsResult>" in topics
    )
    attributes = xml.sns_response(
        "GetTopicAttributes", xml.sns_attributes({"push-endpoint": "amqp://h?a=1&b=2"}), "r"
    )
    assert (
        b"<Attributes><entry><key>push-endpoint</key><value>amqp://h?a=1&amp;b=2</value>"
        b"</entry></Attributes>" in attributes
    )
    assert xml.sns_response("DeleteTopic", None, "r").endswith(
        b'<DeleteTopicResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/">'
        b"<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteTopicResponse>"
    )
