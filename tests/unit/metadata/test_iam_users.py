"""IAM users and their attached policies in the metadata store, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lading import errors
from lading.metadata.identity import Directory
from lading.metadata.migrate import upgrade
from lading.metadata.store import MetadataStore, create_engine
from lading.testing.postgres import NO_POSTGRES, scratch_database

POSTGRES_URL = os.environ.get("LADING_TEST_POSTGRES_URL", "")
ARN = "arn:aws:iam::aws:policy/AmazonSNSReadOnlyAccess"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql")])
def directory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Directory]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("iam") / "metadata.db"
        urls: Any = contextlib.nullcontext(f"sqlite:///{path}")
    else:
        if not POSTGRES_URL:
            pytest.skip(NO_POSTGRES)
        urls = scratch_database(POSTGRES_URL)
    with urls as url:
        engine = create_engine(url)
        upgrade(engine)
        yield Directory(MetadataStore(engine))
        engine.dispose()


def test_an_iam_user_keeps_its_path_and_policies_until_deleted(directory: Directory) -> None:
    admin = directory.meta.create_user(f"admin-{uuid.uuid4().hex[:6]}", is_admin=True)
    name = f"iam-{uuid.uuid4().hex[:6]}"
    created = directory.create_iam_user(name, "/team/", admin.id)
    assert (created.user.name, created.path, created.policies) == (name, "/team/", ())
    assert directory.identity_policies(created.user.id) == ()
    assert directory.identity_policies(admin.id) is None  # not an IAM user
    with pytest.raises(errors.UserAlreadyExists):
        directory.create_iam_user(name, "/", admin.id)

    assert directory.attach_policy(name, ARN).policies == (ARN,)
    assert directory.attach_policy(name, ARN).policies == (ARN,)
    assert directory.identity_policies(created.user.id) == (ARN,)
    assert [u.user.name for u in directory.list_iam_users("/te")] == [name]
    assert directory.list_iam_users("/other/") == []
    with pytest.raises(errors.UserInUse):
        directory.delete_iam_user(name)
    with pytest.raises(errors.NoSuchPolicy):
        directory.detach_policy(name, ARN + "x")
    assert directory.detach_policy(name, ARN).policies == ()

    directory.delete_iam_user(name)
    with pytest.raises(errors.NoSuchUser):
        directory.iam_user(name)
    with pytest.raises(errors.NoSuchUser):
        directory.get_user(name)
    with pytest.raises(errors.NoSuchUser):  # a Lading user that is not an IAM user
        directory.attach_policy(admin.name, ARN)
