"""The administration page tests' world: two counties, their offices and a township chair, per test module."""

from __future__ import annotations

import secrets
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from renda.platform.db import Database, Scope, set_scope
from renda.platform.identity import service as identity
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy import service as tenancy
from renda.platform.tenancy.models import OrgUnit, Tenant

from admin_support import PASSWORD, county, login_as


@pytest.fixture(scope="module")
def world(db: Database) -> SimpleNamespace:
    """County A (two townships, a station, villages, a handling unit, a township chair) and county B."""
    tag = secrets.token_hex(3)
    with db.session(Scope.system()) as s:
        a, admin_a = county(s, tag, "a", "甲县")
        b, admin_b = county(s, tag, "b", "乙县")
        s.flush()
        actor_a = load_principal(s, admin_a.id)
        set_scope(s, Scope.system())
        actor_b = load_principal(s, admin_b.id)
        set_scope(s, Scope.system())
        assert a.root_org_unit_id and b.root_org_unit_id

        def node(tenant: Tenant, actor: Any, parent_id: int, kind: str, name: str, code: str | None = None,
                 ) -> OrgUnit:
            return tenancy.add_org_unit(s, actor, tenant, parent_id=parent_id, kind=kind, name=name, code=code)

        pingma = node(a, actor_a, a.root_org_unit_id, "township", "平马镇", "451022100")
        shuoliang = node(a, actor_a, a.root_org_unit_id, "township", "朔良镇", "451022108")
        station = node(a, actor_a, pingma.id, "station", "平马镇人大代表联络站")
        villages = [node(a, actor_a, pingma.id, "village", f"{n}村", f"451022100{i:03d}")
                    for i, n in enumerate(("那王", "东养", "百渡"), start=1)]
        county_station = node(a, actor_a, a.root_org_unit_id, "station", "甲县代表联络站")
        b_town = node(b, actor_b, b.root_org_unit_id, "township", "乙县城关镇")
        transport = tenancy.create_handling_unit(s, actor_a, a, name="甲县交通运输局", contact="王科长")
        b_unit = tenancy.create_handling_unit(s, actor_b, b, name="乙县水利局")
        chair = identity.create_user(s, None, a, username=f"chair.{tag}", display_name="平马镇人大主席",
                                     password=PASSWORD)
        identity.grant_role(s, None, a, chair, role="township_chair", org_unit_id=pingma.id)
        return SimpleNamespace(
            tag=tag, slug=a.slug, slug_b=b.slug, tenant=a.id, tenant_b=b.id, root=a.root_org_unit_id,
            pingma=pingma.id, shuoliang=shuoliang.id, station=station.id, villages=[v.id for v in villages],
            county_station=county_station.id, b_town=b_town.id, transport=transport.id, b_unit=b_unit.id,
            admin=admin_a.username, admin_id=admin_a.id, admin_b_id=admin_b.id, chair=chair.username,
            chair_id=chair.id,
        )


@pytest.fixture
def admin(app_client: TestClient, world: SimpleNamespace) -> TestClient:
    return login_as(app_client, world.admin)


@pytest.fixture
def chair(app_client: TestClient, world: SimpleNamespace) -> TestClient:
    return login_as(app_client, world.chair)
