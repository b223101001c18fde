"""End-to-end fixtures: a fresh database with the demo, the real server in a subprocess, Chromium.

The database is this module's own (never shared with the other tests, whose tenants would collide
with the demo's GB/T codes): a SQLite file in a temporary directory on the embedded backend, a new
database ``renda_e2e_<random>`` on PostgreSQL, created, migrated and granted with the helpers of
``tests/conftest.py`` and used by the server as the non-superuser role ``renda_app``.

The browser is Debian's ``chromium`` (``apt-get install chromium``), driven by Playwright's sync API.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Request, sync_playwright
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_CONFTEST = REPO_ROOT / "tests" / "conftest.py"
HTMX = REPO_ROOT / "web" / "static" / "vendor" / "htmx.min.js"
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = os.environ.get("RENDA_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
STARTUP_TIMEOUT = 30.0
HOST = "127.0.0.1"


# --- the database ------------------------------------------------------------------------------


def _shared_conftest(config: pytest.Config) -> ModuleType:
    """tests/conftest.py as pytest loaded it (its role, database and grant helpers)."""
    for plugin in config.pluginmanager.get_plugins():
        file = getattr(plugin, "__file__", None)
        if isinstance(plugin, ModuleType) and file and Path(file).resolve() == SHARED_CONFTEST:
            return plugin
    pytest.fail(f"{SHARED_CONFTEST} is not loaded: run the e2e tests from the repository root")


def _migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser interpolation
    command.upgrade(cfg, "head")


def _load_demo(url: str) -> None:
    from renda.platform.db import Database
    from renda.tenants.demo import load_demo

    db = Database(url=url)
    try:
        load_demo(db)
    finally:
        db.dispose()


@dataclass(frozen=True)
class E2EDatabase:
    url: str  # what the server connects with (renda_app on PostgreSQL)
    backend: str  # "postgres" or "sqlite"


@pytest.fixture(scope="session")
def e2e_database(backend: str, request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EDatabase]:
    """A fresh, migrated database holding the demo, for this module alone; dropped at the end."""
    if backend != "postgres":
        url = f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'renda.sqlite3'}"
        _migrate(url)
        _load_demo(url)
        yield E2EDatabase(url=url, backend=backend)
        return

    shared = _shared_conftest(request.config)
    given = os.environ["RENDA_TEST_DATABASE_URL"]
    base = make_url(given)
    name = f"renda_e2e_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        shared._ensure_roles(admin)
        with admin.connect() as conn:
            shared._run_all(conn, shared.database_sql(name))
    finally:
        admin.dispose()
    try:
        superuser_url = base.set(database=name).render_as_string(hide_password=False)
        owner_url = shared._url_as(base, user=shared.OWNER_ROLE, database=name,
                                   password=shared.TEST_ROLE_PASSWORD)
        app_url = shared._url_as(base, user=shared.APP_ROLE, database=name, password=shared.TEST_ROLE_PASSWORD)
        superuser = create_engine(superuser_url, isolation_level="AUTOCOMMIT")
        try:
            with superuser.connect() as conn:
                shared._run_all(conn, shared.schema_sql())
        finally:
            superuser.dispose()
        _migrate(owner_url)
        owner = create_engine(owner_url)
        try:
            with owner.begin() as conn:
                shared._run_all(conn, shared.app_grants_sql())
        finally:
            owner.dispose()
        _load_demo(app_url)  # through the application's own role, under row-level security
        yield E2EDatabase(url=app_url, backend=backend)
    finally:
        shared._drop_postgres_database(given, name)


# --- the server --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own http://127.0.0.1
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def static_assets() -> None:
    if not HTMX.is_file():
        pytest.fail(f"{HTMX.relative_to(REPO_ROOT)} is missing: run `make assets` first")


SSO_PASSWORD = "kc-e2e-password"
SSO_CLIENT = ("renda-web", "renda-e2e-secret")


@pytest.fixture(scope="session")
def sso_password() -> str:
    return SSO_PASSWORD


@pytest.fixture(scope="session")
def server_port() -> int:
    return _free_port()


@pytest.fixture(scope="session")
def sso_provider(server_port: int) -> Iterator[object]:
    """The test OpenID provider (tests/oidc) with Keycloak users in the demo's groups."""
    spec = importlib.util.spec_from_file_location("oidc_fixture", REPO_ROOT / "tests/oidc/fixture.py")
    assert spec and spec.loader
    oidc = sys.modules.get("oidc_fixture") or importlib.util.module_from_spec(spec)
    if "oidc_fixture" not in sys.modules:
        sys.modules["oidc_fixture"] = oidc
        spec.loader.exec_module(oidc)
    base = f"http://{HOST}:{server_port}"

    def account(username: str, *groups: str) -> dict[str, object]:
        return {"username": username, "password": SSO_PASSWORD, "sub": f"sub-{username}", "name": f"统一{username}",
                "email": f"{username}@renda.test", "groups": list(groups), "realm_roles": [], "attributes": {}}

    accounts = [account("kc.tiandong", "/451000/451022/congress_admin"),
                account("kc.two", "/451000/451022/congress_admin", "/451000/451082/congress_admin")]
    client = {"client_id": SSO_CLIENT[0], "client_secret": SSO_CLIENT[1],
              "redirect_uris": [f"{base}/login/sso/callback"], "post_logout_redirect_uris": [f"{base}/login"],
              "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]}
    with oidc.start_provider(accounts=accounts, clients=[client]) as info:
        yield info


@pytest.fixture(scope="session")
def server(e2e_database: E2EDatabase, redis_url: str | None, static_assets: None, server_port: int,
           sso_provider: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app under uvicorn on a free port; yields its base URL, e.g. http://127.0.0.1:41234."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RENDA_")}
    env.update(RENDA_DATABASE_URL=e2e_database.url, RENDA_SECRET_KEY="e2e",
               RENDA_KEYCLOAK_URL=sso_provider.server_url, RENDA_KEYCLOAK_REALM=sso_provider.realm,
               RENDA_KEYCLOAK_CLIENT_ID=SSO_CLIENT[0], RENDA_KEYCLOAK_CLIENT_SECRET=SSO_CLIENT[1])
    if e2e_database.backend == "postgres" and redis_url:
        env["RENDA_REDIS_URL"] = redis_url
    port = server_port
    base_url = f"http://{HOST}:{port}"
    log_dir = tmp_path_factory.mktemp("e2e-server")
    out_path, err_path = log_dir / "stdout.log", log_dir / "stderr.log"
    python = REPO_ROOT / ".venv" / "bin" / "python"
    command = [str(python if python.exists() else Path(sys.executable)), "-m", "uvicorn",
               "renda.web.app:create_app", "--factory", "--host", HOST, "--port", str(port)]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=err)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _healthy(f"{base_url}/healthz"):
            if proc.poll() is not None or time.monotonic() > deadline:
                why = (f"exited with {proc.returncode}" if proc.poll() is not None
                       else f"did not answer /healthz with 200 within {STARTUP_TIMEOUT:.0f} s")
                pytest.fail(f"the server {why}; its stderr:\n{err_path.read_text(errors='replace')}")
            time.sleep(0.2)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no browser at {CHROMIUM}: install Debian's chromium (`apt-get install -y chromium`)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, server: str) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) pointed at the server, in Chinese like a local user."""
    ctx = browser.new_context(base_url=server, locale="zh-CN")
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@dataclass
class Traffic:
    """What a page asked for and what went wrong in it."""

    requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def hosts(self) -> set[str]:
        return {urlsplit(url).hostname or "" for url in self.requests if not url.startswith(("data:", "blob:"))}


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def page(context: BrowserContext, traffic: Traffic) -> Page:
    page = context.new_page()
    watch(page, traffic)
    return page


def watch(page: Page, traffic: Traffic) -> None:
    """Record every request the page makes and every uncaught script error."""

    def on_request(request: Request) -> None:
        traffic.requests.append(request.url)

    page.on("request", on_request)
    page.on("pageerror", lambda exc: traffic.page_errors.append(str(exc)))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
