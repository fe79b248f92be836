"""The table from S3 operation name to handler."""

from __future__ import annotations

from lading.http.s3 import bucket, configs, listing, multipart, object_attrs, objects
from lading.http.s3.dispatch import Handler

HANDLERS: dict[str, Handler] = {
    "ListBuckets": bucket.list_buckets,
    "CreateBucket": bucket.create_bucket,
    "HeadBucket": bucket.head_bucket,
    "DeleteBucket": bucket.delete_bucket,
    "GetBucketLocation": bucket.get_bucket_location,
    "GetBucketVersioning": configs.get_bucket_versioning,
    "PutBucketVersioning": configs.put_bucket_versioning,
    "GetBucketAcl": configs.get_bucket_acl,
    "PutBucketAcl": configs.put_bucket_acl,
    "GetBucketPolicy": configs.get_bucket_policy,
    "PutBucketPolicy": configs.put_bucket_policy,
    "DeleteBucketPolicy": configs.delete_bucket_policy,
    "GetBucketPolicyStatus": configs.get_bucket_policy_status,
    **configs.config_handlers(),
    "GetObjectTagging": object_attrs.get_object_tagging,
    "PutObjectTagging": object_attrs.put_object_tagging,
    "DeleteObjectTagging": object_attrs.delete_object_tagging,
    "GetObjectAcl": object_attrs.get_object_acl,
    "PutObjectAcl": object_attrs.put_object_acl,
    "GetObjectRetention": object_attrs.get_object_retention,
    "PutObjectRetention": object_attrs.put_object_retention,
    "GetObjectLegalHold": object_attrs.get_object_legal_hold,
    "PutObjectLegalHold": object_attrs.put_object_legal_hold,
    "ListObjects": listing.list_objects,
    "ListObjectsV2": listing.list_objects_v2,
    "ListObjectVersions": listing.list_object_versions,
    "ListMultipartUploads": listing.list_multipart_uploads,
    "GetObject": objects.get_object,
    "HeadObject": objects.get_object,
    "PutObject": objects.put_object,
    "DeleteObject": objects.delete_object,
    "DeleteObjects": objects.delete_objects,
    "CopyObject": objects.copy_object,
    "CreateMultipartUpload": multipart.create_multipart_upload,
    "UploadPart": multipart.upload_part,
    "UploadPartCopy": multipart.upload_part_copy,
    "CompleteMultipartUpload": multipart.complete_multipart_upload,
    "AbortMultipartUpload": multipart.abort_multipart_upload,
    "ListParts": multipart.list_parts,
}
