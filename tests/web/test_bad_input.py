"""Bad input gets a clear page in the user's language and changes nothing; no traceback leaks."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from renda.platform.config import Settings
from renda.platform.db import Database, Scope
from renda.platform.identity import service as identity
from renda.platform.identity.models import User
from renda.platform.identity.passwords import verify_password
from renda.platform.tenancy import service as tenancy
from renda.web.app import create_app

PASSWORD = "bad-input-pass-1"


@pytest.fixture(scope="module")
def county(db: Database) -> dict[str, str]:
    """A county of its own with one staff member, so the module never collides with others."""
    tag = secrets.token_hex(3)
    with db.session(Scope.system()) as s:
        tenant = tenancy.create_tenant(s, None, slug=f"bad-{tag}", name=f"测试县{tag}", code=None,
                                       parent=None, level="county")
        user = identity.create_user(s, None, tenant, username=f"bad.{tag}", display_name="李四",
                                    password=PASSWORD)
        identity.grant_role(s, None, tenant, user, role="congress_admin", org_unit_id=tenant.root_org_unit_id)
        return {"slug": tenant.slug, "username": user.username, "user_id": str(user.id)}


def _client(database_url: str, redis_url: str | None, **overrides: object) -> TestClient:
    settings = Settings(database_url=database_url, redis_url=redis_url, secret_key="test",
                        login_failures_per_address=1000, **overrides)  # type: ignore[arg-type]
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    return TestClient(create_app(settings), raise_server_exceptions=False, client=(address, 40000))


@pytest.fixture
def client(database_url: str, redis_url: str | None) -> Iterator[TestClient]:
    with _client(database_url, redis_url) as c:
        yield c


def _login(client: TestClient, username: str, password: str) -> object:
    client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrftoken": client.cookies["csrftoken"]}, follow_redirects=False)


def test_wrong_password_says_so_then_throttles(database_url: str, redis_url: str | None,
                                                county: dict[str, str]) -> None:
    with _client(database_url, redis_url, login_failures_per_account=3) as client:
        for _ in range(3):
            response = _login(client, county["username"], "not-the-password")
            assert response.status_code == 200
            assert "用户名或密码错误" in response.text
            assert f'value="{county["username"]}"' in response.text  # the user name is kept
        throttled = _login(client, county["username"], PASSWORD)  # even the right password now
        assert throttled.status_code == 429
        assert "失败次数过多" in throttled.text and "分钟后再试" in throttled.text
        assert "renda_session" not in client.cookies or "/t/" not in client.get("/").url.path


def test_throttle_per_address_covers_every_account(database_url: str, redis_url: str | None) -> None:
    with _client(database_url, redis_url) as client:
        client.app.state.throttle.per_address.amount = 2  # type: ignore[attr-defined]
        for name in ("nobody-a", "nobody-b"):
            assert _login(client, f"{name}-{secrets.token_hex(3)}", "x").status_code == 200
        assert _login(client, f"nobody-c-{secrets.token_hex(3)}", "x").status_code == 429


def test_unknown_tenant_slug_is_a_404_page(client: TestClient, county: dict[str, str]) -> None:
    _login(client, county["username"], PASSWORD)
    response = client.get("/t/no-such-county/")
    assert response.status_code == 404
    assert "页面不存在" in response.text and "返回首页" in response.text
    assert "Traceback" not in response.text


def test_post_without_csrf_token_is_refused_and_changes_nothing(client: TestClient, db: Database,
                                                                county: dict[str, str]) -> None:
    _login(client, county["username"], PASSWORD)
    response = client.post("/account/password",
                           data={"current": PASSWORD, "new": "a-new-password", "repeat": "a-new-password"})
    assert response.status_code == 403
    assert "表单已过期或并非来自本站" in response.text
    with db.session(Scope.system()) as s:
        user = s.get(User, int(county["user_id"]))
        assert user is not None and verify_password(user.password_hash, PASSWORD)


def test_htmx_request_passes_csrf_in_the_header(client: TestClient, county: dict[str, str]) -> None:
    _login(client, county["username"], PASSWORD)
    response = client.post("/account/password", data={"current": "wrong", "new": "x", "repeat": "y"},
                           headers={"HX-Request": "true", "x-csrftoken": client.cookies["csrftoken"]})
    assert response.status_code == 422  # past CSRF, stopped by validation


def test_invalid_form_is_rendered_again_with_field_errors(client: TestClient, db: Database,
                                                          county: dict[str, str]) -> None:
    _login(client, county["username"], PASSWORD)
    response = client.post("/account/password", data={
        "current": "wrong-password", "new": "short", "repeat": "different",
        "csrftoken": client.cookies["csrftoken"]})
    assert response.status_code == 422
    assert "当前密码不正确" in response.text
    assert "至少 8 个字符" in response.text
    assert "两次输入的新密码不一致" in response.text
    assert response.text.count('aria-invalid="true"') == 3
    with db.session(Scope.system()) as s:
        user = s.get(User, int(county["user_id"]))
        assert user is not None and verify_password(user.password_hash, PASSWORD)


def test_unreachable_database_gives_the_503_page(backend: str, tmp_path: object) -> None:
    # A PostgreSQL port nobody listens on, or a SQLite "file" that is a directory.
    url = "postgresql+psycopg://renda@127.0.0.1:9/renda" if backend == "postgres" else f"sqlite:///{tmp_path}"
    with TestClient(create_app(Settings(database_url=url, secret_key="t")), raise_server_exceptions=False) as c:
        assert c.get("/login").status_code == 200  # the login page itself needs no database
        response = c.post("/login", data={"username": "someone", "password": "x",
                                          "csrftoken": c.cookies["csrftoken"]})
        assert response.status_code == 503
        assert "服务暂时不可用" in response.text and "数据没有丢失" in response.text
        assert "Traceback" not in response.text and "psycopg" not in response.text
        assert c.get("/healthz").status_code == 503


@pytest.mark.postgres
def test_unreachable_redis_gives_the_503_page(database_url: str) -> None:
    settings = Settings(database_url=database_url, redis_url="redis://127.0.0.1:9/0", secret_key="t")
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        assert c.get("/login").status_code == 200  # no session yet: nothing to read from Redis
        response = c.post("/login", data={"username": "someone", "password": "x",
                                          "csrftoken": c.cookies["csrftoken"]})
        assert response.status_code == 503
        assert "服务暂时不可用" in response.text
