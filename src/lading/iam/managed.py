"""The AWS managed policies an IAM user can have attached, as Lading knows them.

IAM users (`lading.http.s3.iam`) are bounded by the policies attached to them. Lading has
no customer-managed or inline policies: the attachable ones are these AWS managed
policies, by ARN, with their documents as AWS publishes them (the actions of services
Lading does not have, such as s3-object-lambda, left out). Another ARN is NoSuchPolicy.
"""

from __future__ import annotations

import functools
import json

from lading import errors
from lading.iam import policy_language as pl

_PREFIX = "arn:aws:iam::aws:policy/"


def _allow(*actions: str) -> str:
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


MANAGED: dict[str, str] = {
    _PREFIX + "AmazonS3FullAccess": _allow("s3:*"),
    _PREFIX + "AmazonS3ReadOnlyAccess": _allow("s3:Get*", "s3:List*", "s3:Describe*"),
    _PREFIX + "AmazonSNSFullAccess": _allow("sns:*"),
    _PREFIX + "AmazonSNSReadOnlyAccess": _allow(
        "sns:GetTopicAttributes",
        "sns:List*",
        "sns:CheckIfPhoneNumberIsOptedOut",
        "sns:GetEndpointAttributes",
        "sns:GetDataProtectionPolicy",
        "sns:GetPlatformApplicationAttributes",
        "sns:GetSMSAttributes",
        "sns:GetSMSSandboxAccountStatus",
        "sns:GetSubscriptionAttributes",
    ),
}


def policy_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def check_attachable(arn: str) -> None:
    """NoSuchPolicy unless arn names one of the managed policies."""
    if arn not in MANAGED:
        raise errors.NoSuchPolicy(arn)


@functools.cache
def managed_policy(arn: str) -> pl.Policy:
    """The parsed document of a managed policy; NoSuchPolicy for another ARN."""
    check_attachable(arn)
    return pl.parse_identity_policy(MANAGED[arn])
