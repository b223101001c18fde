"""Single sign-on end to end against a real OpenID provider laid out like Keycloak.

The provider is panva's oidc-provider (tests/oidc); the browser is an httpx client walking its
sign-in form, the app is driven through starlette's TestClient.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from renda.platform.config import Settings
from renda.platform.db import Database, Scope
from renda.platform.identity.models import Grant, User
from renda.tenants.deputies.models import Deputy
from renda.web.app import create_app

from sso_support import APP_URL, CLIENT_ID, CLIENT_SECRET, PASSWORD, accounts_for, client_for, deputy_code


def settings_for(database_url: str, redis_url: str | None, keycloak_url: str) -> Settings:
    return Settings(database_url=database_url, redis_url=redis_url, secret_key="sso-test",
                    keycloak_url=keycloak_url, keycloak_realm="renda", keycloak_client_id=CLIENT_ID,
                    keycloak_client_secret=CLIENT_SECRET, keycloak_timeout_seconds=2)


@pytest.fixture
def app(database_url: str, redis_url: str | None, provider: Any) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(database_url, redis_url, provider.server_url)), base_url=APP_URL,
                    raise_server_exceptions=False) as client:
        yield client


def sign_in(app: TestClient, oidc: ModuleType, username: str, browser: httpx.Client | None = None,
            ) -> tuple[httpx.Response, dict[str, str]]:
    """Click 统一身份认证登录, sign in at the provider, come back: the app's answer and the callback query."""
    start = app.get("/login/sso", follow_redirects=False)
    assert start.status_code == 303
    if browser is None:
        with httpx.Client() as own:
            return sign_in(app, oidc, username, own)
    params = oidc.browser_login(browser, start.headers["location"], f"{APP_URL}/login/sso/callback",
                                username, PASSWORD)
    assert isinstance(params, dict), params
    return app.get("/login/sso/callback", params=params, follow_redirects=False), params


def log_out(app: TestClient) -> httpx.Response:
    app.get("/")  # a page hands out the CSRF token the logout form carries
    return app.post("/logout", data={"csrftoken": app.cookies["csrftoken"]}, follow_redirects=False)


def test_login_page_offers_unified_identity(app: TestClient) -> None:
    page = app.get("/login")
    assert "统一身份认证登录" in page.text and 'id="sso-login"' in page.text


def test_sign_in_once_and_work_in_two_tenants(app: TestClient, oidc_fixture: ModuleType, cast: Any,
                                              db: Database) -> None:
    answer, _ = sign_in(app, oidc_fixture, "kc-two")
    assert answer.status_code == 303
    home = app.get("/")
    assert home.status_code == 200
    assert f'value="{cast.slug.tiandong}"' in home.text and f'value="{cast.slug.pingguo}"' in home.text
    assert app.get(f"/t/{cast.slug.tiandong}/").status_code == 200
    assert app.get(f"/t/{cast.slug.pingguo}/").status_code == 200
    assert app.get(f"/t/{cast.slug.longan}/").status_code == 403
    with db.session(Scope.system()) as s:
        user = s.scalars(select(User).where(User.username == "kc-two")).one()
        grants = {(g.tenant_id, g.role, g.source) for g in s.scalars(select(Grant).where(Grant.user_id == user.id))}
    assert grants == {(cast.tenant.tiandong, "congress_admin", "keycloak"),
                      (cast.tenant.pingguo, "congress_admin", "keycloak")}


def test_a_callback_used_twice_is_refused_without_a_session(app: TestClient, oidc_fixture: ModuleType) -> None:
    answer, params = sign_in(app, oidc_fixture, "kc-county")
    assert answer.status_code == 303
    log_out(app)
    replay = app.get("/login/sso/callback", params=params, follow_redirects=False)
    assert replay.status_code == 400
    assert "无法识别本次登录请求" in replay.text
    assert app.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_a_mismatched_state_is_refused_without_a_session(app: TestClient, oidc_fixture: ModuleType) -> None:
    start = app.get("/login/sso", follow_redirects=False)
    with httpx.Client() as browser:
        params = oidc_fixture.browser_login(browser, start.headers["location"],
                                            f"{APP_URL}/login/sso/callback", "kc-county", PASSWORD)
    forged = {**params, "state": params["state"] + "x"}
    answer = app.get("/login/sso/callback", params=forged, follow_redirects=False)
    assert answer.status_code == 400 and "无法识别本次登录请求" in answer.text
    assert app.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_a_user_in_no_known_group_gets_a_clear_page(app: TestClient, oidc_fixture: ModuleType) -> None:
    answer, _ = sign_in(app, oidc_fixture, "kc-nobody")
    assert answer.status_code == 400 and "尚无角色" in answer.text
    assert app.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_logout_ends_the_provider_session_too(app: TestClient, oidc_fixture: ModuleType, provider: Any) -> None:
    with httpx.Client() as browser:
        _logout_round(app, oidc_fixture, provider, browser)


def _logout_round(app: TestClient, oidc_fixture: ModuleType, provider: Any, browser: httpx.Client) -> None:
    sign_in(app, oidc_fixture, "kc-county", browser)
    out = log_out(app)
    assert out.status_code == 303 and out.headers["location"].startswith(provider.issuer)
    landed = oidc_fixture.browser_logout(browser, out.headers["location"], f"{APP_URL}/login")
    assert landed.headers["location"].startswith(f"{APP_URL}/login")
    # A new sign-in must show the provider's form again: its session is over.
    again = app.get("/login/sso", follow_redirects=False)
    page = oidc_fixture.open_login(browser, again.headers["location"], f"{APP_URL}/login/sso/callback")
    assert not page.is_redirect and 'name="password"' in page.text


def test_provider_unreachable_at_login_gives_a_clear_page(database_url: str, redis_url: str | None) -> None:
    settings = settings_for(database_url, redis_url, "http://127.0.0.1:9/")
    with TestClient(create_app(settings), base_url=APP_URL, raise_server_exceptions=False) as client:
        answer = client.get("/login/sso", follow_redirects=False)
        assert answer.status_code == 503
        assert "暂时无法连接统一身份认证服务" in answer.text and "Traceback" not in answer.text


def test_sessions_survive_a_provider_outage_and_refresh_while_it_runs(
    database_url: str, redis_url: str | None, oidc_fixture: ModuleType, cast: Any,
) -> None:
    # Tokens that lapse at once, so every request wants a refresh.
    with oidc_fixture.start_provider(accounts=accounts_for(cast), clients=[client_for(APP_URL)],
                                     id_token_ttl=60, access_token_ttl=1) as short:
        app = TestClient(create_app(settings_for(database_url, redis_url, short.server_url)), base_url=APP_URL,
                         raise_server_exceptions=False)
        with app:
            answer, _ = sign_in(app, oidc_fixture, "kc-county")
            assert answer.status_code == 303
            time.sleep(1.1)
            assert app.get("/").status_code == 200  # refreshed against the running provider
    # The provider is gone now: the session goes on until its own lifetime ends.
    with app:
        assert app.get("/").status_code == 200


def test_the_deputy_number_links_the_account_to_the_deputy_record(app: TestClient, oidc_fixture: ModuleType,
                                                                 cast: Any, db: Database) -> None:
    with db.session(Scope.system()) as s:
        record = Deputy(tenant_id=cast.tenant.tiandong, name="统一代表", level="county", term=17,
                        org_unit_id=cast.org.pingma, id_code=deputy_code(cast))
        s.add(record)
        s.flush()
        record_id = record.id
    answer, _ = sign_in(app, oidc_fixture, "kc-deputy")
    assert answer.status_code == 303
    with db.session(Scope.system()) as s:
        user = s.scalars(select(User).where(User.username == "kc-deputy")).one()
        linked = s.get(Deputy, record_id)
        assert linked is not None and linked.user_id == user.id
