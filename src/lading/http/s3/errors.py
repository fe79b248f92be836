"""THE table from domain errors to S3 error codes and HTTP statuses.

Resolved through the exception's MRO, so the most specific mapped class wins; anything not
in the table is an InternalError (500) whose details go to the log only.
"""

from __future__ import annotations

from dataclasses import dataclass

from lading import errors


@dataclass(frozen=True, slots=True)
class S3Error:
    code: str
    status: int


INTERNAL = S3Error("InternalError", 500)

ERRORS: dict[type[errors.LadingError], S3Error] = {
    errors.LadingError: INTERNAL,
    errors.NotFound: S3Error("NoSuchKey", 404),
    errors.NoSuchBucket: S3Error("NoSuchBucket", 404),
    errors.NoSuchKey: S3Error("NoSuchKey", 404),
    errors.NoSuchVersion: S3Error("NoSuchVersion", 404),
    errors.NoSuchUpload: S3Error("NoSuchUpload", 404),
    errors.NoSuchUser: S3Error("InvalidArgument", 400),
    errors.NoSuchBucketPolicy: S3Error("NoSuchBucketPolicy", 404),
    errors.NoSuchCORSConfiguration: S3Error("NoSuchCORSConfiguration", 404),
    errors.NoSuchLifecycleConfiguration: S3Error("NoSuchLifecycleConfiguration", 404),
    errors.NoSuchTagSet: S3Error("NoSuchTagSet", 404),
    errors.NoSuchEncryptionConfiguration: S3Error(
        "ServerSideEncryptionConfigurationNotFoundError", 404
    ),
    errors.NoSuchObjectLockConfiguration: S3Error("ObjectLockConfigurationNotFoundError", 404),
    errors.NoSuchPublicAccessBlockConfiguration: S3Error(
        "NoSuchPublicAccessBlockConfiguration", 404
    ),
    errors.NoSuchOwnershipControls: S3Error("OwnershipControlsNotFoundError", 404),
    errors.NoSuchObjectLegalHold: S3Error("NoSuchObjectLockConfiguration", 404),
    errors.NoSuchObjectRetention: S3Error("NoSuchObjectLockConfiguration", 404),
    errors.NoSuchTopic: S3Error("NotFound", 404),  # SNS's code (NotFoundException in boto3)
    errors.Conflict: S3Error("OperationAborted", 409),
    errors.BucketAlreadyExists: S3Error("BucketAlreadyExists", 409),
    errors.BucketAlreadyOwnedByYou: S3Error("BucketAlreadyOwnedByYou", 409),
    errors.BucketNotEmpty: S3Error("BucketNotEmpty", 409),
    errors.UserAlreadyExists: S3Error("EntityAlreadyExists", 409),
    errors.UserInUse: S3Error("DeleteConflict", 409),
    errors.NoSuchPolicy: S3Error("NoSuchEntity", 404),
    errors.ConditionalRequestConflict: S3Error("ConditionalRequestConflict", 409),
    errors.AccessDenied: S3Error("AccessDenied", 403),
    errors.ObjectLocked: S3Error("AccessDenied", 403),
    errors.QuotaExceeded: S3Error("QuotaExceeded", 403),
    errors.ProjectExpired: S3Error("AccessDenied", 403),
    errors.NoSuchGroup: S3Error("NoSuchEntity", 404),
    errors.NoSuchProject: S3Error("NoSuchEntity", 404),
    errors.GroupAlreadyExists: S3Error("EntityAlreadyExists", 409),
    errors.ProjectAlreadyExists: S3Error("EntityAlreadyExists", 409),
    errors.CORSForbidden: S3Error("AccessForbidden", 403),
    errors.TopicAccessDenied: S3Error("AccessDenied", 403),
    errors.AuthError: S3Error("AccessDenied", 403),
    errors.InvalidAccessKeyId: S3Error("InvalidAccessKeyId", 403),
    errors.SignatureDoesNotMatch: S3Error("SignatureDoesNotMatch", 403),
    errors.RequestTimeTooSkewed: S3Error("RequestTimeTooSkewed", 403),
    errors.AuthorizationHeaderMalformed: S3Error("AuthorizationHeaderMalformed", 400),
    errors.AuthorizationQueryParametersError: S3Error("AuthorizationQueryParametersError", 400),
    errors.MissingSecurityHeader: S3Error("MissingSecurityHeader", 400),
    errors.NotAuthenticated: S3Error("AccessDenied", 403),
    errors.InvalidRequest: S3Error("InvalidRequest", 400),
    errors.InvalidArgument: S3Error("InvalidArgument", 400),
    errors.InvalidTargetBucketForLogging: S3Error("InvalidTargetBucketForLogging", 400),
    errors.InvalidBucketName: S3Error("InvalidBucketName", 400),
    errors.InvalidLocationConstraint: S3Error("InvalidLocationConstraint", 400),
    errors.KeyTooLong: S3Error("KeyTooLongError", 400),
    errors.MetadataTooLarge: S3Error("MetadataTooLarge", 400),
    errors.InvalidDigest: S3Error("InvalidDigest", 400),
    errors.BadDigest: S3Error("BadDigest", 400),
    errors.ContentSHA256Mismatch: S3Error("XAmzContentSHA256Mismatch", 400),
    errors.ChecksumMismatch: S3Error("BadDigest", 400),
    errors.InvalidChecksum: S3Error("InvalidRequest", 400),
    errors.IncompleteBody: S3Error("IncompleteBody", 400),
    errors.MissingContentLength: S3Error("MissingContentLength", 411),
    errors.MalformedXML: S3Error("MalformedXML", 400),
    errors.InvalidPart: S3Error("InvalidPart", 400),
    errors.InvalidPartOrder: S3Error("InvalidPartOrder", 400),
    errors.EntityTooSmall: S3Error("EntityTooSmall", 400),
    errors.EntityTooLarge: S3Error("EntityTooLarge", 400),
    errors.TooManyParts: S3Error("InvalidArgument", 400),
    errors.InvalidRange: S3Error("InvalidRange", 416),
    errors.InvalidStorageClass: S3Error("InvalidStorageClass", 400),
    errors.InvalidEncodingType: S3Error("InvalidArgument", 400),
    errors.InvalidCopySource: S3Error("InvalidArgument", 400),
    errors.InvalidURI: S3Error("InvalidURI", 400),
    errors.MalformedPolicy: S3Error("MalformedPolicy", 400),
    errors.InvalidPolicyDocument: S3Error("InvalidPolicyDocument", 400),
    errors.MalformedPOSTRequest: S3Error("MalformedPOSTRequest", 400),
    errors.InvalidTag: S3Error("InvalidTag", 400),
    errors.UnresolvableGrantByEmailAddress: S3Error("UnresolvableGrantByEmailAddress", 400),
    errors.AmbiguousGrantByEmailAddress: S3Error("AmbiguousGrantByEmailAddress", 400),
    errors.AccessControlListNotSupported: S3Error("AccessControlListNotSupported", 400),
    errors.InvalidBucketAclWithObjectOwnership: S3Error("InvalidBucketAclWithObjectOwnership", 400),
    errors.InvalidBucketState: S3Error("InvalidBucketState", 409),
    errors.InvalidRetentionPeriod: S3Error("InvalidRetentionPeriod", 400),
    errors.InvalidEncryptionAlgorithm: S3Error("InvalidEncryptionAlgorithmError", 400),
    errors.InvalidSSECustomerKey: S3Error("InvalidArgument", 400),
    errors.InvalidTopicParameter: S3Error("InvalidParameter", 400),  # SNS's code
    errors.PreconditionFailed: S3Error("PreconditionFailed", 412),
    errors.NotModified: S3Error("NotModified", 304),
    errors.MethodNotAllowed: S3Error("MethodNotAllowed", 405),
    errors.NotImplementedOperation: S3Error("NotImplemented", 501),
    errors.ServiceUnavailable: S3Error("SlowDown", 503),
}


# The SNS-compatible topic API (query protocol) names a few of the same errors differently.
SNS_CODES = {
    "AccessDenied": "AuthorizationError",
    "InvalidArgument": "InvalidParameter",
    "MalformedXML": "InvalidParameter",
    "NotImplemented": "InvalidAction",
}


# The IAM query API (same endpoint and shape) has its own names for these.
IAM_ERRORS: dict[type[errors.LadingError], S3Error] = {
    errors.NoSuchUser: S3Error("NoSuchEntity", 404),
    errors.NoSuchAccessKey: S3Error("NoSuchEntity", 404),
    errors.NoSuchPolicy: S3Error("NoSuchEntity", 404),
    errors.InvalidArgument: S3Error("InvalidInput", 400),
    errors.NotImplementedOperation: S3Error("InvalidAction", 400),
    errors.AccessDenied: S3Error("AccessDenied", 403),
}


def iam_lookup(exc: errors.LadingError) -> S3Error:
    """The IAM code and status for a domain error (IAM's names, else the SNS table)."""
    for cls in type(exc).__mro__:
        found = IAM_ERRORS.get(cls)
        if found is not None:
            return found
    return sns_lookup(exc)


def sns_lookup(exc: errors.LadingError) -> S3Error:
    """The SNS code and status for a domain error (the S3 table, renamed for SNS)."""
    found = lookup(exc)
    code = SNS_CODES.get(found.code)
    return S3Error(code, found.status) if code is not None else found


def lookup(exc: errors.LadingError) -> S3Error:
    """The S3 code and status for a domain error (most specific mapped class wins)."""
    for cls in type(exc).__mro__:
        found = ERRORS.get(cls)
        if found is not None:
            return found
    return INTERNAL
