"""How long one authorization decision takes, with and without shares on the bucket.

    .venv/bin/python bench/authorize.py

Pure CPU (no server, no database): the shares come with the cached bucket record, so this
is all a share adds to a request.
"""

from __future__ import annotations

import timeit

from lading.iam.policy import Access, Action, authorize
from lading.iam.principals import Principal
from lading.metadata.models import Bucket, Share, User

OWNER = User(1, "owner", "owner", False, 0)
GRANTEE = User(2, "grantee", "grantee", False, 0)


def bucket_with(shares: int) -> Bucket:
    rules = tuple(
        Share(i, 1, f"prefix-{i}/", "user", 1000 + i, "", "r", 1, 0) for i in range(shares)
    )
    last = Share(shares, 1, "docs/", "user", GRANTEE.id, "grantee", "r", 1, 0)
    return Bucket(1, "bench", OWNER, "us-east-1", 0, shares=(*rules, last))


def per_call(access: Access, number: int = 200_000) -> float:
    return min(timeit.repeat(lambda: authorize(access), number=number, repeat=5)) / number


def main() -> None:
    print("| case | shares on the bucket | ns per decision |")
    print("|---|---|---|")
    for count in (0, 10, 100):
        bucket = bucket_with(count)
        cases = {
            "owner GetObject": Principal(OWNER),
            "grantee GetObject (last share matches)": Principal(GRANTEE),
        }
        for name, principal in cases.items():
            access = Access(principal, "GetObject", Action.READ_OBJECT, bucket, "docs/a", now_us=1)
            print(f"| {name} | {count + 1} | {per_call(access) * 1e9:.0f} |")


if __name__ == "__main__":
    main()
