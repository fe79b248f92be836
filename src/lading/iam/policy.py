"""Authorization, decided in one place for every S3 operation.

An IAM user (a principal with attached policies, `lading.iam.managed`) is first bounded by
them: without their Allow, or with their Deny, the request is refused whatever else holds.
AWS order: an explicit Deny in the bucket policy refuses; then the bucket owner, a role in
the bucket's project (`iam.projects`), a share (`iam.shares`), a policy Allow or an ACL grant
admits; anything else is refused. The buckets of an expired project then refuse every change.
The public access block can make public ACLs and public policies count for nothing. Object
ACLs are judged once the object is read: `authorize` then answers OBJECT_ACL and the handler
calls `object_allows`.

What the bucket grants (its owner's rights, its project's roles, its policy, its shares) reaches
only the objects of the bucket's own account: those of its owner or of a member of its project.
Unless the bucket's ownership controls are BucketOwnerEnforced, an object another user wrote
(ObjectWriter, the default without ownership controls, or BucketOwnerPreferred without the
bucket-owner-full-control ACL) is that user's: reading it, its ACL or its attributes, or
changing its ACL, then needs a grant in the object's ACL; changing its tags, retention or legal
hold is its owner's alone (no ACL grants those). `authorize` answers BUCKET_OWNED for those
actions and the handler settles it with `bucket_owns`, then `object_allows`. Deleting and
listing stay the bucket's.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lading import configs, errors
from lading.iam import acl as acls
from lading.iam import managed, projects
from lading.iam import policy_language as pl
from lading.iam import shares as share_rules
from lading.iam.principals import Principal
from lading.metadata.models import Bucket, ObjectVersion


class Action(enum.Enum):
    """Classes of S3 operations, as ACLs and ownership see them."""

    LIST_BUCKETS = "list-buckets"
    CREATE_BUCKET = "create-bucket"
    DELETE_BUCKET = "delete-bucket"
    READ_BUCKET = "read-bucket"  # list objects, versions, uploads; head bucket; location
    READ_OBJECT = "read-object"  # get, head; object tags and lock state
    WRITE_OBJECT = "write-object"  # put, copy destination, multipart; object tags and lock
    DELETE_OBJECT = "delete-object"
    READ_BUCKET_ACP = "read-bucket-acp"
    WRITE_BUCKET_ACP = "write-bucket-acp"
    READ_OBJECT_ACP = "read-object-acp"
    WRITE_OBJECT_ACP = "write-object-acp"
    READ_BUCKET_CONFIG = "read-bucket-config"  # the owner's (or a policy's) alone
    WRITE_BUCKET_CONFIG = "write-bucket-config"


# The ACL permission each action needs, on the bucket's ACL or (object actions) the object's.
_BUCKET_PERMISSION = {
    Action.READ_BUCKET: "READ",
    Action.WRITE_OBJECT: "WRITE",
    Action.DELETE_OBJECT: "WRITE",
    Action.READ_BUCKET_ACP: "READ_ACP",
    Action.WRITE_BUCKET_ACP: "WRITE_ACP",
}
OBJECT_PERMISSION = {
    Action.READ_OBJECT: "READ",
    Action.READ_OBJECT_ACP: "READ_ACP",
    Action.WRITE_OBJECT_ACP: "WRITE_ACP",
}
# Writes to an existing object's attributes (WRITE_OBJECT, which no ACL grants on an object):
# like its reads, they reach only the objects of the bucket's own account.
OBJECT_ATTRIBUTE_WRITES = frozenset(
    {"PutObjectTagging", "DeleteObjectTagging", "PutObjectRetention", "PutObjectLegalHold"}
)

# IAM action names that are not "s3:" + the operation name.
_IAM_ACTIONS = {
    "ListBuckets": "s3:ListAllMyBuckets",
    "HeadBucket": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "ListParts": "s3:ListMultipartUploadParts",
    "HeadObject": "s3:GetObject",
    "CopyObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "UploadPartCopy": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "PostObject": "s3:PutObject",
    "DeleteObjects": "s3:DeleteObject",
    "GetBucketCors": "s3:GetBucketCORS",
    "PutBucketCors": "s3:PutBucketCORS",
    "DeleteBucketCors": "s3:PutBucketCORS",
    "DeleteBucketTagging": "s3:PutBucketTagging",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "s3:PutBucketObjectLockConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeleteBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "DeleteObjectTagging": "s3:DeleteObjectTagging",
}
# Operations that name a version act on "...Version" IAM actions.
_VERSIONED = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
}
# The owner can always manage the policy, so a Deny cannot lock the bucket for good.
_POLICY_OPERATIONS = frozenset({"GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"})
# what only the bucket's owner (or an admin of its project) may do, whatever a bucket policy
# or ACL grants: AWS's PutBucketLogging ("you must be the bucket owner")
_OWNER_ONLY = frozenset({"PutBucketLogging"})


def iam_action(operation: str, versioned: bool = False) -> str:
    """The IAM action name a policy uses for an S3 operation ("sns:..." and "iam:..." query
    API actions are named as they are)."""
    if ":" in operation:
        return operation
    name = _IAM_ACTIONS.get(operation, f"s3:{operation}")
    return _VERSIONED.get(name, name) if versioned else name


@functools.lru_cache(maxsize=512)
def bucket_policy(text: str, bucket: str) -> pl.Policy:
    """A stored bucket policy, parsed once per process."""
    return pl.parse_policy(text, bucket)


Conditions = Mapping[str, str | list[str]]
ANONYMOUS_OWNER = 0  # the owner id of what an anonymous request writes


class Verdict(enum.Enum):
    ALLOW = "allow"
    OBJECT_ACL = "object-acl"  # allowed if the object's ACL grants it
    # allowed on an object of the bucket's account (`bucket_owns`), else as OBJECT_ACL
    BUCKET_OWNED = "bucket-owned"


@dataclass(frozen=True, slots=True)
class Access:
    """One request as authorization sees it."""

    principal: Principal
    operation: str
    action: Action
    bucket: Bucket | None = None
    key: str | None = None
    version_id: str | None = None
    # the request's condition keys, built only when a policy is evaluated
    conditions: Callable[[], Conditions] = dict
    now_us: int = 0  # the request's time (epoch microseconds); 0: the current time
    prefix: str | None = None  # a listing's prefix parameter (shares judge listings by it)

    def shared(self) -> bool:
        """Whether one of the bucket's shares admits this access (public shares count for
        nothing while the public access block restricts public buckets)."""
        bucket = self.bucket
        if bucket is None or not bucket.shares:
            return False
        user = self.principal.user
        return share_rules.allows(
            bucket.shares,
            user_id=user.id if user is not None else None,
            groups=self.principal.groups,
            action=self.action.value,
            operation=self.operation,
            key=self.key,
            prefix=self.prefix,
            now_us=self.now_us or time.time_ns() // 1000,
            public=not _restricts_public(bucket),
        )

    def shared_read_prefixes(self) -> frozenset[str]:
        """The key prefixes under which the bucket's shares let the principal read."""
        bucket = self.bucket
        if bucket is None or not bucket.shares:
            return frozenset()
        user = self.principal.user
        return share_rules.read_prefixes(
            bucket.shares,
            user_id=user.id if user is not None else None,
            groups=self.principal.groups,
            now_us=self.now_us or time.time_ns() // 1000,
            public=not _restricts_public(bucket),
        )

    def resource(self) -> str:
        assert self.bucket is not None
        base = f"arn:aws:s3:::{self.bucket.name}"
        return f"{base}/{self.key}" if self.key is not None else base


def _restricts_public(bucket: Bucket) -> bool:
    """Whether the public access block restricts the public bucket (public shares then
    count for nothing)."""
    return "public-access-block" in bucket.configs and bool(
        configs.public_access_flags(bucket.configs)["RestrictPublicBuckets"]
    )


def _policy_decision(access: Access) -> tuple[pl.Decision, bool]:
    """The bucket policy's answer, and whether the policy is public."""
    bucket = access.bucket
    assert bucket is not None
    text = bucket.configs.get("policy")
    if text is None:
        return pl.Decision.NONE, False
    policy = bucket_policy(text, bucket.name)
    user = access.principal.user
    conditions = dict(access.conditions())
    if user is not None:
        conditions.setdefault("aws:username", user.name)
        conditions.setdefault("aws:userid", user.name)
    ctx = pl.RequestContext(
        principal_arn=pl.user_arn(user.name) if user is not None else None,
        action=iam_action(access.operation, access.version_id is not None),
        resource=access.resource(),
        conditions=conditions,
    )
    return policy.evaluate(ctx), policy.is_public()


def denied_by_policy(access: Access) -> bool:
    """Whether the bucket's policy explicitly denies the access. A share link is its own
    grant, but an explicit Deny comes first for it as for every request."""
    bucket = access.bucket
    if bucket is None or "policy" not in bucket.configs:
        return False
    return _policy_decision(access)[0] is pl.Decision.DENY


def policy_denies_some(bucket: Bucket) -> bool:
    """Whether the bucket's policy has a Deny statement: a grant of the bucket or of a
    prefix may then still refuse some keys, which only `denied_by_policy` key by key tells."""
    text = bucket.configs.get("policy")
    if text is None:
        return False
    return any(s.effect is pl.Effect.DENY for s in bucket_policy(text, bucket.name).statements)


def authorize(access: Access) -> Verdict:
    """ALLOW, OBJECT_ACL (decide with the object's ACL) or raise AccessDenied.

    What the caller may do is then refused all the same (ProjectExpired) when it changes a
    bucket of an expired project: only those with access learn that the project expired.
    """
    return judge(access)[0]


def judge(access: Access) -> tuple[Verdict, bool]:
    """`authorize`, and whether a grant of the bucket's ACL is what admits the request (the
    "aclRequired" field of AWS's server access log)."""
    if access.principal.policies is not None:
        _identity_check(access, access.principal.policies)
    verdict, by_acl = _decide(access)
    if access.bucket is not None:
        projects.refuse_if_read_only(access.bucket.project, access.action, access.now_us)
    return verdict, by_acl


def _identity_check(access: Access, policies: tuple[str, ...]) -> None:
    """AccessDenied unless the IAM user's policies allow the request (and none denies it)."""
    user = access.principal.user
    if user is None:
        raise errors.AccessDenied()
    conditions = dict(access.conditions())
    conditions.setdefault("aws:username", user.name)
    conditions.setdefault("aws:userid", user.name)
    ctx = pl.RequestContext(
        principal_arn=pl.user_arn(user.name),
        action=iam_action(access.operation, access.version_id is not None),
        resource=access.resource() if access.bucket is not None else "*",
        conditions=conditions,
    )
    allowed = False
    for arn in policies:
        decision = managed.managed_policy(arn).evaluate(ctx)
        if decision is pl.Decision.DENY:
            raise errors.AccessDenied()
        allowed = allowed or decision is pl.Decision.ALLOW
    if not allowed:
        raise errors.AccessDenied()


def _decide(access: Access) -> tuple[Verdict, bool]:
    user = access.principal.user
    if access.action in (Action.LIST_BUCKETS, Action.CREATE_BUCKET):
        if user is None:
            raise errors.AccessDenied()
        return Verdict.ALLOW, False
    bucket = access.bucket
    if bucket is None:
        raise errors.AccessDenied()
    owner = user is not None and user.id == bucket.owner.id
    member = projects.member_allows(bucket.project, user, access.action)
    if (owner or member) and not bucket.configs.get("policy"):
        return _bucket_grant(access), False  # the common case, with nothing to parse
    decision, public_policy = _policy_decision(access)
    if decision is pl.Decision.DENY and not (owner and access.operation in _POLICY_OPERATIONS):
        raise errors.AccessDenied()
    if owner or member or access.shared():
        return _bucket_grant(access), False
    if access.operation in _OWNER_ONLY:
        raise errors.AccessDenied()
    flags = configs.public_access_flags(bucket.configs)
    if decision is pl.Decision.ALLOW and not (
        public_policy and flags["RestrictPublicBuckets"] and user is None
    ):
        return _bucket_grant(access), False
    if access.action in OBJECT_PERMISSION:
        return Verdict.OBJECT_ACL, False
    permission = _BUCKET_PERMISSION.get(access.action)
    if permission is not None and acls.allows(
        _bucket_acl(bucket),
        bucket.owner.name,
        user.name if user is not None else None,
        permission,
        ignore_public=flags["IgnorePublicAcls"],
    ):
        return Verdict.ALLOW, True
    raise errors.AccessDenied()


def _bucket_grant(access: Access) -> Verdict:
    """What a grant of the bucket gives: ALLOW, or BUCKET_OWNED for an object permission
    unless the bucket owner owns every object (BucketOwnerEnforced)."""
    assert access.bucket is not None
    per_object = access.action in OBJECT_PERMISSION or access.operation in OBJECT_ATTRIBUTE_WRITES
    if per_object and configs.object_ownership(access.bucket.configs) != configs.ENFORCED:
        return Verdict.BUCKET_OWNED
    return Verdict.ALLOW


def readable_keys(access: Access) -> tuple[Verdict, frozenset[str] | None]:
    """What of a bucket an object read (`access`, its key unset) reaches without the objects'
    own ACLs: the verdict (ALLOW, or BUCKET_OWNED: the objects of the bucket's account), and
    the key prefixes it holds for, None for every key. AccessDenied if there are none.

    A grant of the whole bucket (ownership, a project role, the policy, a share of the prefix
    "") reaches every key. Otherwise each prefix the caller's shares read under counts if
    `authorize` admits a key there, so that an explicit Deny of the policy still refuses; a
    search then shows only the keys under these prefixes, as GetObject would read them.
    """
    bucket = access.bucket
    assert bucket is not None
    whole_shares = tuple(share for share in bucket.shares if share.prefix == "")
    whole = dataclasses.replace(
        access, bucket=dataclasses.replace(bucket, shares=whole_shares), key="*"
    )
    try:
        verdict = authorize(whole)
    except errors.AccessDenied:
        verdict = Verdict.OBJECT_ACL
    if verdict is not Verdict.OBJECT_ACL:
        return verdict, None
    found: set[str] = set()
    granted = Verdict.ALLOW
    for prefix in access.shared_read_prefixes():
        try:
            verdict = authorize(dataclasses.replace(access, key=prefix))
        except errors.AccessDenied:
            continue
        if verdict is not Verdict.OBJECT_ACL:
            found.add(prefix)
            granted = verdict  # the same for every key: what a grant of the bucket gives
    if not found:
        raise errors.AccessDenied()
    return granted, frozenset(found)


def bucket_owns(access: Access, obj: ObjectVersion) -> bool:
    """Whether the object belongs to the bucket's account: its owner's, a member's of the
    bucket's project, or nobody's (written anonymously); a BUCKET_OWNED verdict then allows."""
    bucket = access.bucket
    assert bucket is not None
    if obj.owner_id in (bucket.owner.id, ANONYMOUS_OWNER):
        return True
    return bucket.project is not None and obj.owner_id in bucket.project.roles


def bucket_account(bucket: Bucket) -> frozenset[int]:
    """The owner ids of the objects `bucket_owns` counts the bucket's: its owner's, its
    project members' and ANONYMOUS_OWNER (what a search filters on, where it cannot ask
    `bucket_owns` object by object)."""
    members = bucket.project.roles if bucket.project is not None else ()
    return frozenset((bucket.owner.id, ANONYMOUS_OWNER, *members))


def lent_write(access: Access) -> bool:
    """Whether a write is admitted by one of the bucket's shares alone: what it stores is the
    bucket owner's (a share lends the bucket, so its owner keeps what comes in)."""
    bucket = access.bucket
    user = access.principal.user
    if bucket is None or (user is not None and user.id == bucket.owner.id):
        return False
    return not projects.member_allows(bucket.project, user, access.action) and access.shared()


def _bucket_acl(bucket: Bucket) -> acls.Acl | None:
    raw = bucket.configs.get("acl")
    return json.loads(raw) if raw else None


def object_allows(
    access: Access,
    obj: ObjectVersion,
    owner_name: str | None,
    verdict: Verdict = Verdict.OBJECT_ACL,
) -> bool:
    """Whether the object's ACL gives the principal what `access.action` needs (its owner
    has it all). `owner_name` None: no user owns the object any more, so nobody can grant it;
    a BUCKET_OWNED verdict then counts it the bucket's."""
    bucket = access.bucket
    assert bucket is not None
    user = access.principal.user
    if user is not None and user.id == obj.owner_id:
        return True
    if owner_name is None:
        if verdict is Verdict.BUCKET_OWNED:
            return True
        owner_name = ""
    permission = OBJECT_PERMISSION.get(access.action)
    if permission is None:  # tags, retention, legal hold: no ACL grants them to others
        return False
    flags = configs.public_access_flags(bucket.configs)
    return acls.allows(
        obj.acl,
        owner_name,
        user.name if user is not None else None,
        permission,
        ignore_public=flags["IgnorePublicAcls"],
    )


def may_list(access: Access) -> bool:
    """Whether the principal may list the bucket (S3 answers 404 rather than 403 then).

    For a missing key, the listing judged is the one with the key as its prefix (s3:prefix
    in a policy, the prefix a share allows): it would show the same absence.
    """
    conditions = access.conditions
    key = access.key
    if key is not None:

        def conditions() -> Conditions:
            return {**access.conditions(), "s3:prefix": key}

    try:
        listing = Access(
            access.principal,
            "ListObjects",
            Action.READ_BUCKET,
            access.bucket,
            conditions=conditions,
            now_us=access.now_us,
            prefix=key,
        )
        return authorize(listing) is Verdict.ALLOW
    except errors.AccessDenied:
        return False
