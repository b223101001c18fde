"""What the administration page tests share: two counties of their own, and small helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform.audit import AuditEntry
from renda.platform.db import Database, Scope
from renda.platform.identity import service as identity
from renda.platform.identity.models import User
from renda.platform.tenancy import service as tenancy
from renda.platform.tenancy.models import OrgUnit, Tenant

from web_support import sign_in

PASSWORD = "admin-pages-pass-1"
TIME = re.compile(r"<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}</time>")


def county(s: Session, tag: str, letter: str, name: str) -> tuple[Tenant, User]:
    """A county tenant with its congress_admin (who can log in)."""
    tenant = tenancy.create_tenant(s, None, slug=f"adm-{tag}-{letter}", name=f"{name}{tag}", code=None,
                                   parent=None, level="county")
    admin = identity.create_user(s, None, tenant, username=f"adm.{tag}.{letter}", display_name=f"{name}办公室",
                                 password=PASSWORD)
    identity.grant_role(s, None, tenant, admin, role="congress_admin", org_unit_id=tenant.root_org_unit_id)
    return tenant, admin


def login_as(client: TestClient, username: str) -> TestClient:
    return sign_in(client, username, PASSWORD)


def post(client: TestClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return client.post(url, data={**(data or {}), "csrftoken": client.cookies["csrftoken"]},
                       follow_redirects=False, **kwargs)


@contextmanager
def system(db: Database) -> Iterator[Session]:
    with db.session(Scope.system()) as s:
        yield s


def unit_row(db: Database, unit_id: int) -> OrgUnit:
    with system(db) as s:
        unit = s.get(OrgUnit, unit_id)
        assert unit is not None
        s.expunge(unit)
        return unit


def actions(db: Database, tenant_id: int, object_type: str, object_id: int) -> list[str]:
    with system(db) as s:
        return list(s.scalars(select(AuditEntry.action).where(
            AuditEntry.tenant_id == tenant_id, AuditEntry.object_type == object_type,
            AuditEntry.object_id == str(object_id)).order_by(AuditEntry.id)))
