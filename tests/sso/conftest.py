"""A running test OpenID provider (tests/oidc) whose accounts sit in the cast's groups."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from sso_support import APP_URL, accounts_for, client_for, load_oidc_fixture


@pytest.fixture(scope="session")
def oidc_fixture() -> ModuleType:
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH: the test OpenID provider (tests/oidc) runs on Node.js")
    return load_oidc_fixture()


@pytest.fixture(scope="session")
def provider(oidc_fixture: ModuleType, cast: Any) -> Iterator[Any]:
    with oidc_fixture.start_provider(accounts=accounts_for(cast), clients=[client_for(APP_URL)]) as info:
        yield info
