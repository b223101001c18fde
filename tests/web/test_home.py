"""A tenant's home page shows its figures; a city's lists the counties its user may see."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from renda.platform.config import Settings
from renda.platform.db import Database, Scope
from renda.platform.identity.models import User
from renda.web.app import create_app


def figure(html: str, kind: str) -> int:
    found = re.search(rf'data-kind="{kind}">(\d+)<', html)
    assert found, kind
    return int(found.group(1))


def test_county_home_counts_its_units_users_and_joint_stations(database_url: str, redis_url: str | None,
                                                              cast: Any, db: Database) -> None:
    settings = Settings(database_url=database_url, redis_url=redis_url, secret_key="t",
                        login_failures_per_address=1000)
    with TestClient(create_app(settings)) as client:
        client.get("/login")
        client.post("/login", data={"username": cast.username.tiandong_admin, "password": cast.password,
                                    "csrftoken": client.cookies["csrftoken"]})
        page = client.get(f"/t/{cast.slug.tiandong}/").text
    with db.session(Scope.system()) as s:
        users = s.scalar(select(func.count()).select_from(User).where(User.tenant_id == cast.tenant.tiandong,
                                                                      User.active.is_(True)))
    assert figure(page, "township") >= 2 and figure(page, "station") >= 2
    assert figure(page, "joint_station") == 1  # a member of the Pingguo-hosted joint station
    assert figure(page, "handling_units") >= 2
    assert figure(page, "users") == users
