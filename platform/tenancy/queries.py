"""Reads for the tenant pages and the command line: figures of a tenant and of the counties under a
city, in SQL; the operator's lookups of a unit by what they type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renda.platform.identity.models import User
from renda.platform.numbers import parse_id
from renda.platform.tenancy.models import HandlingUnit, JointStationMember, OrgUnit, Tenant
from renda.platform.tenancy.service import CODE_RE


@dataclass
class TenantFigures:
    tenant: Tenant
    units_by_kind: dict[str, int] = field(default_factory=dict)
    users: int = 0
    handling_units: int = 0

    @property
    def org_units(self) -> int:
        return sum(self.units_by_kind.values())


def figures(session: Session, tenants: list[Tenant]) -> list[TenantFigures]:
    """Org units by kind, joint stations joined, users and handling units per tenant: four grouped statements."""
    ids = [t.id for t in tenants]
    out = {t.id: TenantFigures(t) for t in tenants}
    if not ids:
        return []
    rows = session.execute(
        select(OrgUnit.tenant_id, OrgUnit.kind, func.count())
        .where(OrgUnit.tenant_id.in_(ids), OrgUnit.retired_at.is_(None), OrgUnit.kind != "congress")
        .group_by(OrgUnit.tenant_id, OrgUnit.kind)
    )
    for tenant_id, kind, n in rows:
        if kind != "joint_station":  # counted by membership below, host or not
            out[tenant_id].units_by_kind[kind] = n
    for tenant_id, n in _count_per_tenant(session, JointStationMember.tenant_id, ids):
        out[tenant_id].units_by_kind["joint_station"] = n
    for tenant_id, n in _count_per_tenant(session, User.tenant_id, ids, User.active.is_(True)):
        out[tenant_id].users = n
    for tenant_id, n in _count_per_tenant(session, HandlingUnit.tenant_id, ids, HandlingUnit.retired_at.is_(None)):
        out[tenant_id].handling_units = n
    return [out[i] for i in ids]


def _count_per_tenant(session: Session, column: Any, ids: list[int], *where: Any) -> list[tuple[int, int]]:
    rows = session.execute(select(column, func.count()).where(column.in_(ids), *where).group_by(column))
    return [(tenant_id, n) for tenant_id, n in rows]


def child_tenants(session: Session, tenant: Tenant) -> list[Tenant]:
    return list(session.scalars(
        select(Tenant).where(Tenant.parent_id == tenant.id, Tenant.active.is_(True)).order_by(Tenant.code)
    ))


def count_tenants(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Tenant)) or 0)


def count_org_units(session: Session, tenant: Tenant) -> int:
    return int(session.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.tenant_id == tenant.id)) or 0)


def find_org_unit(session: Session, tenant: Tenant, ref: str) -> OrgUnit | None:
    """An org unit of the tenant by division code, id, or exact name (what an operator types)."""
    ref = (ref or "").strip()
    stmt = select(OrgUnit).where(OrgUnit.tenant_id == tenant.id)
    unit = None
    if CODE_RE.fullmatch(ref):
        unit = session.scalars(stmt.where(OrgUnit.code == ref)).first()
    if unit is None and (unit_id := parse_id(ref)) is not None:
        unit = session.scalars(stmt.where(OrgUnit.id == unit_id)).first()
    if unit is None:
        unit = session.scalars(stmt.where(OrgUnit.name == ref)).first()
    return unit


def find_handling_unit(session: Session, tenant: Tenant, ref: str) -> HandlingUnit | None:
    """A handling unit of the tenant by id or exact name."""
    ref = (ref or "").strip()
    stmt = select(HandlingUnit).where(HandlingUnit.tenant_id == tenant.id)
    unit = session.scalars(stmt.where(HandlingUnit.id == unit_id)).first() \
        if (unit_id := parse_id(ref)) is not None else None
    return unit or session.scalars(stmt.where(HandlingUnit.name == ref)).first()
