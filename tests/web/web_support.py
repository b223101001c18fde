"""What the page tests share: an app client from its own address, signing in, posting a form."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, select

from renda.platform.config import Settings
from renda.platform.tenancy.models import Tenant
from renda.tenants.deputies.models import Deputy
from renda.web.app import create_app


def app_settings(database_url: str, redis_url: str | None, **overrides: Any) -> Settings:
    return Settings(database_url=database_url, redis_url=redis_url, secret_key="test",
                    login_failures_per_address=1000, **overrides)


def new_client(settings: Settings) -> TestClient:
    """A client of a fresh app, from an address of its own (so login throttling never mixes tests).
    Use it as a context manager, which runs the app's startup and shutdown."""
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    return TestClient(create_app(settings), raise_server_exceptions=False, client=(address, 40000))


def sign_in(client: TestClient, username: str, password: str) -> TestClient:
    client.get("/login")
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrftoken": client.cookies["csrftoken"]}, follow_redirects=False)
    assert response.status_code == 303, response.text
    client.get(response.headers["location"])  # where a browser lands next
    return client


def post_form(client: TestClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return client.post(url, data={**(data or {}), "csrftoken": client.cookies["csrftoken"]},
                       follow_redirects=False, **kwargs)


def linked_deputy(s: Any, tenant: Tenant, user_id: int, name: str, org_unit_id: int) -> int:
    """The deputy record of an account: the one the services will find, made if there is none."""
    found = s.scalars(select(Deputy).where(Deputy.tenant_id == tenant.id, Deputy.user_id == user_id,
                                           Deputy.active.is_(True))).first()
    if found is None:
        found = Deputy(tenant_id=tenant.id, name=name, level="county", term=17, org_unit_id=org_unit_id,
                       user_id=user_id)
        s.add(found)
        s.flush()
    return int(found.id)


@contextmanager
def count_statements(client: TestClient) -> Iterator[list[str]]:
    """The SQL statements the client's app sends while the block runs (before_cursor_execute)."""
    engine = client.app.state.db.engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
