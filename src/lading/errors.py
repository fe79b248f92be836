"""Domain errors of Lading; they know nothing about HTTP.

Every layer below the HTTP layer raises these, and the HTTP layer maps them to wire errors in
one table per protocol (`lading.http.s3.errors` for S3). Errors carry fields, not pre-formatted
wire messages; `message` is a human sentence.

    LadingError
    ├── NotFound
    │   ├── NoSuchBucket(bucket)
    │   ├── NoSuchKey(bucket, key)
    │   ├── NoSuchVersion(bucket, key, version_id)
    │   ├── NoSuchUpload(upload_id)
    │   ├── NoSuchUser(name)
    │   ├── NoSuchAccessKey(access_key)
    │   ├── NoSuchPolicy(arn)
    │   ├── NoSuchTopic(arn)
    │   ├── NoSuchGroup(name), NoSuchProject(name)
    │   ├── NoSuchShare(share_id), NoSuchLink(link_id)
    │   └── NoSuchConfiguration(kind)   (one subclass per bucket configuration)
    ├── Conflict
    │   ├── BucketAlreadyExists(bucket)
    │   ├── BucketAlreadyOwnedByYou(bucket)
    │   ├── BucketNotEmpty(bucket)
    │   ├── UserAlreadyExists(name)
    │   ├── UserInUse(name, reason)
    │   ├── TooManyAccessKeys(limit)
    │   ├── GroupAlreadyExists(name), ProjectAlreadyExists(name)
    │   ├── InvalidBucketState
    │   └── ConditionalRequestConflict
    ├── AccessDenied
    │   ├── LinkUnavailable(reason)
    │   ├── RequestExpired
    │   ├── ObjectLocked
    │   ├── CORSForbidden
    │   ├── QuotaExceeded(project, what), ProjectExpired(project, expired)
    │   └── TopicAccessDenied(arn)
    ├── AuthError
    │   ├── InvalidAccessKeyId(access_key)
    │   ├── SignatureDoesNotMatch
    │   ├── RequestTimeTooSkewed
    │   ├── AuthorizationHeaderMalformed
    │   ├── AuthorizationQueryParametersError
    │   ├── MissingSecurityHeader
    │   ├── NotAuthenticated              (control API: no credentials at all)
    │   └── InvalidCredentials            (wrong password, bad or expired token)
    ├── InvalidRequest
    │   ├── InvalidArgument
    │   │   ├── InvalidTargetBucketForLogging
    │   │   └── DestinationNotAllowed(host, address, network)
    │   ├── InvalidBucketName(bucket)
    │   ├── InvalidLocationConstraint
    │   ├── KeyTooLong(key)
    │   ├── MetadataTooLarge
    │   ├── InvalidDigest
    │   ├── BadDigest
    │   ├── ContentSHA256Mismatch
    │   ├── ChecksumMismatch(algorithm)
    │   ├── InvalidChecksum(algorithm)
    │   ├── IncompleteBody
    │   ├── MissingContentLength
    │   ├── MalformedXML
    │   ├── InvalidPart
    │   ├── InvalidPartOrder
    │   ├── EntityTooSmall
    │   ├── EntityTooLarge
    │   ├── TooManyParts
    │   ├── InvalidRange(size)
    │   ├── InvalidStorageClass
    │   ├── InvalidEncodingType
    │   ├── InvalidCopySource
    │   ├── InvalidURI
    │   ├── MalformedPolicy
    │   ├── InvalidPolicyDocument
    │   ├── MalformedPOSTRequest
    │   ├── InvalidTag
    │   ├── UnresolvableGrantByEmailAddress
    │   ├── AmbiguousGrantByEmailAddress
    │   ├── AccessControlListNotSupported
    │   ├── InvalidBucketAclWithObjectOwnership
    │   ├── InvalidRetentionPeriod
    │   ├── InvalidEncryptionAlgorithm
    │   ├── InvalidSSECustomerKey
    │   └── InvalidTopicParameter
    ├── PreconditionFailed
    ├── NotModified
    ├── MethodNotAllowed
    ├── NotImplementedOperation(operation)
    └── ServiceUnavailable
"""

from __future__ import annotations


class LadingError(Exception):
    """Base of every domain error; `message` is a sentence for people."""

    default_message = "The request failed."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


# --- not found -------------------------------------------------------------------------------


class NotFound(LadingError):
    default_message = "The resource does not exist."


class NoSuchBucket(NotFound):
    default_message = "The specified bucket does not exist."

    def __init__(self, bucket: str, message: str | None = None) -> None:
        self.bucket = bucket
        super().__init__(message)


class NoSuchKey(NotFound):
    """No such key; `delete_marker` is the version id when a delete marker is current."""

    default_message = "The specified key does not exist."

    def __init__(
        self, bucket: str, key: str, message: str | None = None, delete_marker: str | None = None
    ) -> None:
        self.bucket = bucket
        self.key = key
        self.delete_marker = delete_marker
        super().__init__(message)


class NoSuchVersion(NotFound):
    default_message = "The specified version does not exist."

    def __init__(self, bucket: str, key: str, version_id: str) -> None:
        self.bucket = bucket
        self.key = key
        self.version_id = version_id
        super().__init__()


class NoSuchUpload(NotFound):
    default_message = (
        "The specified multipart upload does not exist. The upload ID may be invalid, "
        "or the upload may have been aborted or completed."
    )

    def __init__(self, upload_id: str) -> None:
        self.upload_id = upload_id
        super().__init__()


class NoSuchConfiguration(NotFound):
    """A bucket has no configuration of the kind asked for (CORS, lifecycle, policy...)."""

    default_message = "The configuration does not exist."

    def __init__(self, bucket: str, message: str | None = None) -> None:
        self.bucket = bucket
        super().__init__(message)


class NoSuchBucketPolicy(NoSuchConfiguration):
    default_message = "The bucket policy does not exist"


class NoSuchCORSConfiguration(NoSuchConfiguration):
    default_message = "The CORS configuration does not exist"


class NoSuchLifecycleConfiguration(NoSuchConfiguration):
    default_message = "The lifecycle configuration does not exist"


class NoSuchTagSet(NoSuchConfiguration):
    default_message = "The TagSet does not exist"


class NoSuchEncryptionConfiguration(NoSuchConfiguration):
    default_message = "The server side encryption configuration was not found"


class NoSuchObjectLockConfiguration(NoSuchConfiguration):
    default_message = "Object Lock configuration does not exist for this bucket"


class NoSuchPublicAccessBlockConfiguration(NoSuchConfiguration):
    default_message = "The public access block configuration was not found"


class NoSuchOwnershipControls(NoSuchConfiguration):
    default_message = "The bucket ownership controls were not found"


class NoSuchObjectLegalHold(NoSuchConfiguration):
    default_message = "The specified object does not have a ObjectLock configuration"


class NoSuchObjectRetention(NoSuchConfiguration):
    default_message = "The specified object does not have a ObjectLock configuration"


class NoSuchUser(NotFound):
    default_message = "The specified user does not exist."

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"The user {name!r} does not exist.")


class NoSuchTopic(NotFound):
    """No notification topic has this ARN (SNS-compatible API and bucket notifications)."""

    default_message = "Topic does not exist"

    def __init__(self, arn: str) -> None:
        self.arn = arn
        super().__init__(f"Topic does not exist: {arn}")


class NoSuchShare(NotFound):
    default_message = "The specified share does not exist."

    def __init__(self, share_id: int) -> None:
        self.share_id = share_id
        super().__init__(f"The share {share_id} does not exist.")


class NoSuchLink(NotFound):
    default_message = "The specified share link does not exist."

    def __init__(self, link_id: str) -> None:
        self.link_id = link_id
        super().__init__(
            f"The share link {link_id} does not exist." if link_id else self.default_message
        )


# --- conflicts -------------------------------------------------------------------------------


class Conflict(LadingError):
    default_message = "The request conflicts with the current state of the resource."


class BucketAlreadyExists(Conflict):
    default_message = (
        "The requested bucket name is not available. The bucket namespace is shared by all "
        "users of the system. Please select a different name and try again."
    )

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        super().__init__()


class BucketAlreadyOwnedByYou(Conflict):
    default_message = (
        "Your previous request to create the named bucket succeeded and you already own it."
    )

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        super().__init__()


class BucketNotEmpty(Conflict):
    default_message = "The bucket you tried to delete is not empty."

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        super().__init__()


class UserAlreadyExists(Conflict):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"The user {name!r} already exists.")


class ConditionalRequestConflict(Conflict):
    default_message = (
        "A conflicting operation occurred. If using PutObject you can retry the request."
    )


# --- access ----------------------------------------------------------------------------------


class AccessDenied(LadingError):
    default_message = "Access Denied"


class LinkUnavailable(AccessDenied):
    """A share link that no longer opens: revoked, expired, used up or over its byte cap."""

    default_message = "This share link is no longer available."

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason  # "revoked", "expired", "used-up" or "byte-cap"
        super().__init__(message)


class RequestExpired(AccessDenied):
    default_message = "Request has expired"


class ObjectLocked(AccessDenied):
    """A version under retention or legal hold cannot be deleted or overwritten."""

    default_message = "Access Denied because object protected by object lock."


class CORSForbidden(AccessDenied):
    default_message = "CORSResponse: This CORS request is not allowed."


class TopicAccessDenied(AccessDenied):
    """A topic of another account (SNS answers AuthorizationError, S3 AccessDenied)."""

    default_message = "The caller may not use this topic."

    def __init__(self, arn: str) -> None:
        self.arn = arn
        super().__init__(f"You are not authorized to use the topic {arn}")


class AuthError(LadingError):
    """The request's credentials or signature could not be accepted."""

    default_message = "The request could not be authenticated."


class InvalidAccessKeyId(AuthError):
    default_message = "The AWS Access Key Id you provided does not exist in our records."

    def __init__(self, access_key: str) -> None:
        self.access_key = access_key
        super().__init__()


class SignatureDoesNotMatch(AuthError):
    default_message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method."
    )


class RequestTimeTooSkewed(AuthError):
    default_message = "The difference between the request time and the current time is too large."


class AuthorizationHeaderMalformed(AuthError):
    default_message = "The authorization header is malformed."


class AuthorizationQueryParametersError(AuthError):
    default_message = "Query-string authentication parameters are malformed."


class MissingSecurityHeader(AuthError):
    default_message = "Your request is missing a required header."


class NotAuthenticated(AuthError):
    default_message = (
        "This call needs credentials: sign it with an access key (AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY) or send a bearer token."
    )


# --- invalid requests ------------------------------------------------------------------------


class InvalidRequest(LadingError):
    default_message = "The request is invalid."


class InvalidArgument(InvalidRequest):
    default_message = "Invalid Argument"


class InvalidBucketName(InvalidRequest):
    default_message = "The specified bucket is not valid."

    def __init__(self, bucket: str, message: str | None = None) -> None:
        self.bucket = bucket
        super().__init__(message)


class InvalidLocationConstraint(InvalidRequest):
    default_message = "The specified location-constraint is not valid."


class KeyTooLong(InvalidRequest):
    default_message = "Your key is too long."

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__()


class MetadataTooLarge(InvalidRequest):
    default_message = "Your metadata headers exceed the maximum allowed metadata size."


class InvalidDigest(InvalidRequest):
    default_message = "The Content-MD5 you specified was invalid."


class BadDigest(InvalidRequest):
    default_message = "The Content-MD5 you specified did not match what we received."


class ContentSHA256Mismatch(InvalidRequest):
    default_message = "The provided 'x-amz-content-sha256' header does not match what was computed."


class ChecksumMismatch(InvalidRequest):
    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        super().__init__(
            f"The {algorithm.upper()} you specified did not match the calculated checksum."
        )


class InvalidChecksum(InvalidRequest):
    def __init__(self, algorithm: str, message: str | None = None) -> None:
        self.algorithm = algorithm
        super().__init__(message or f"Value for x-amz-checksum-{algorithm.lower()} is invalid.")


class IncompleteBody(InvalidRequest):
    default_message = "You did not provide the number of bytes specified by the Content-Length."


class MissingContentLength(InvalidRequest):
    default_message = "You must provide the Content-Length HTTP header."


class MalformedXML(InvalidRequest):
    default_message = (
        "The XML you provided was not well-formed or did not validate against our published schema."
    )


class InvalidPart(InvalidRequest):
    default_message = (
        "One or more of the specified parts could not be found. The part may not have been "
        "uploaded, or the specified entity tag may not match the part's entity tag."
    )


class InvalidPartOrder(InvalidRequest):
    default_message = (
        "The list of parts was not in ascending order. Parts must be ordered by part number."
    )


class EntityTooSmall(InvalidRequest):
    default_message = "Your proposed upload is smaller than the minimum allowed object size."


class EntityTooLarge(InvalidRequest):
    default_message = "Your proposed upload exceeds the maximum allowed object size."


class TooManyParts(InvalidRequest):
    default_message = "Part number must be an integer between 1 and 10000, inclusive."


class InvalidRange(InvalidRequest):
    default_message = "The requested range is not satisfiable"

    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__()


class InvalidStorageClass(InvalidRequest):
    default_message = "The storage class you specified is not valid."


class InvalidEncodingType(InvalidRequest):
    default_message = "Invalid Encoding Method specified in Request"


class InvalidCopySource(InvalidRequest):
    default_message = "Copy Source must mention the source bucket and key: sourcebucket/sourcekey."


class InvalidURI(InvalidRequest):
    default_message = "Couldn't parse the specified URI."


class MalformedPolicy(InvalidRequest):
    """A bucket policy that is not valid JSON or not a valid IAM policy; message says why."""

    default_message = "Policies must be valid JSON and the first byte must be '{'"


class InvalidPolicyDocument(InvalidRequest):
    """A browser-upload (POST Object) policy that is malformed or not met."""

    default_message = "Invalid Policy: Invalid JSON."


class MalformedPOSTRequest(InvalidRequest):
    """A browser-upload (POST Object) body that is not well-formed multipart/form-data."""

    default_message = "The body of your POST request is not well-formed multipart/form-data."


class UnresolvableGrantByEmailAddress(InvalidRequest):
    default_message = "The e-mail address you provided does not match any account on record."


class AmbiguousGrantByEmailAddress(InvalidRequest):
    default_message = "The e-mail address you provided is associated with more than one account."


class AccessControlListNotSupported(InvalidRequest):
    default_message = "The bucket does not allow ACLs"


class InvalidBucketAclWithObjectOwnership(InvalidRequest):
    default_message = (
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
    )


class InvalidTag(InvalidRequest):
    default_message = "The tag provided was not a valid tag."


class InvalidBucketState(Conflict):
    default_message = "The request is not valid with the current state of the bucket."


class InvalidRetentionPeriod(InvalidRequest):
    default_message = "The retention period is not valid."


class InvalidEncryptionAlgorithm(InvalidRequest):
    default_message = "The encryption request you specified is not valid."


class InvalidSSECustomerKey(InvalidRequest):
    """An SSE-C key that is malformed, or not the key the object was written with."""

    default_message = "The secret key was invalid for the specified algorithm."


class InvalidTopicParameter(InvalidRequest):
    """A bad topic name, attribute or ARN in the SNS-compatible API."""

    default_message = "Invalid parameter"


# --- conditions and the rest -----------------------------------------------------------------


class PreconditionFailed(LadingError):
    default_message = "At least one of the pre-conditions you specified did not hold"


class NotModified(LadingError):
    """A conditional GET or HEAD whose object did not change; 304 carries its validators."""

    default_message = "Not Modified"

    def __init__(self, etag: str | None = None, last_modified: int | None = None) -> None:
        self.etag = etag
        self.last_modified = last_modified  # epoch microseconds
        super().__init__()


class MethodNotAllowed(LadingError):
    """Not allowed here; `delete_marker` is set when the version asked for is a delete marker."""

    default_message = "The specified method is not allowed against this resource."

    def __init__(self, message: str | None = None, delete_marker: str | None = None) -> None:
        self.delete_marker = delete_marker
        super().__init__(message)


class NotImplementedOperation(LadingError):
    default_message = (
        "A header or query you provided implies functionality that is not implemented."
    )

    def __init__(self, operation: str) -> None:
        self.operation = operation
        super().__init__(f"{operation} is not implemented by this server yet.")


class ServiceUnavailable(LadingError):
    default_message = "Please reduce your request rate."


# --- credentials (key lifecycle, passwords, tokens) ------------------------------------------


class NoSuchAccessKey(NotFound):
    default_message = "The specified access key does not exist."

    def __init__(self, access_key: str) -> None:
        self.access_key = access_key
        super().__init__(f"The access key {access_key!r} does not exist.")


class NoSuchPolicy(NotFound):
    default_message = "The specified policy does not exist."

    def __init__(self, arn: str) -> None:
        self.arn = arn
        super().__init__(f"Policy {arn} does not exist or is not attachable.")


class UserInUse(Conflict):
    """An IAM user that cannot be deleted yet."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"Cannot delete the user {name!r}: {reason}.")


class TooManyAccessKeys(Conflict):
    default_message = "The user already holds the largest number of active access keys."

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"A user may hold at most {limit} active access keys: disable or delete one first."
        )


class InvalidCredentials(AuthError):
    default_message = "The user name or password is wrong, or the token is invalid or expired."


class InvalidTargetBucketForLogging(InvalidArgument):
    default_message = "The target bucket for logging does not exist or is not owned by you."


class DestinationNotAllowed(InvalidArgument):
    """A user's URL leads to an address the server must not connect to (`outbound` settings).

    `host` is the URL's host (never the whole URL, which may hold credentials), `address` one
    it resolves to and `network` the denied network that holds it ("" when the URL has no host).
    """

    def __init__(self, host: str, address: str = "", network: str = "") -> None:
        self.host, self.address, self.network = host, address, network
        if not host:
            message = "The URL has no host to connect to."
        else:
            via = f" (through {address})" if address and address != host else ""
            message = (
                f"The server does not connect to {host}{via}: the network {network} is "
                "denied by the administrator's outbound settings."
            )
        super().__init__(message)


# --- identity and projects -------------------------------------------------------------------


class NoSuchGroup(NotFound):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"The group {name!r} does not exist.")


class NoSuchProject(NotFound):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"The project {name!r} does not exist.")


class GroupAlreadyExists(Conflict):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"The group {name!r} already exists.")


class ProjectAlreadyExists(Conflict):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"The project {name!r} already exists.")


class QuotaExceeded(AccessDenied):
    """A write would take a project beyond its storage quota; nothing of it was stored."""

    def __init__(self, project: str, what: str) -> None:
        self.project = project
        super().__init__(f"The project {project!r} would exceed its quota of {what}.")


class ProjectExpired(AccessDenied):
    """The bucket's project is past its expiry date: its buckets are read-only."""

    def __init__(self, project: str, expired: str) -> None:
        self.project = project
        super().__init__(
            f"The project {project!r} expired on {expired}: its buckets are read-only."
        )
