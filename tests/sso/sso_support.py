"""Shared pieces of the single sign-on tests: the test provider's client and accounts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "renda-web"
CLIENT_SECRET = "renda-web-secret"
APP_URL = "http://testserver"
PASSWORD = "kc-password-1"


def load_oidc_fixture() -> ModuleType:
    name = "oidc_fixture"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "tests/oidc/fixture.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def client_for(app_url: str) -> dict[str, Any]:
    return {
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "redirect_uris": [f"{app_url}/login/sso/callback"],
        "post_logout_redirect_uris": [f"{app_url}/login"],
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_post",
    }


def accounts_for(cast: Any) -> list[dict[str, Any]]:
    """Keycloak users as an operator would set them up, in the groups of the cast's org tree."""
    def account(username: str, groups: list[str], roles: list[str] | None = None,
                attributes: dict[str, str] | None = None) -> dict[str, Any]:
        return {"username": username, "password": PASSWORD, "sub": f"sub-{username}", "name": f"统一{username}",
                "email": f"{username}@renda.test", "groups": groups, "realm_roles": roles or [],
                "attributes": attributes or {}}

    return [
        account("kc-county", ["/451000/451022/congress_admin"]),
        account("kc-two", ["/451000/451022/congress_admin", "/451000/451082/congress_admin",
                           "/451000/451022/no-such-node/deputy"]),
        account("kc-nobody", ["/999999/deputy"]),
        account("kc-deputy", [f"/451000/451022/451022100/station-{cast.org.pingma_station}/deputy"],
                attributes={"deputy_code": deputy_code(cast)}),
    ]


def deputy_code(cast: Any) -> str:
    """The deputy number the office gave kc-deputy: unique per test run, like the cast's slugs."""
    return f"TD-{cast.slug.tiandong}"


