"""Reads for the tenant pages: figures of a tenant and of the counties under a city, in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renda.platform.identity.models import User
from renda.platform.tenancy.models import HandlingUnit, JointStationMember, OrgUnit, Tenant


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
    member_rows = session.execute(
        select(JointStationMember.tenant_id, func.count())
        .where(JointStationMember.tenant_id.in_(ids))
        .group_by(JointStationMember.tenant_id)
    )
    for tenant_id, n in member_rows:
        out[tenant_id].units_by_kind["joint_station"] = n
    user_rows = session.execute(
        select(User.tenant_id, func.count())
        .where(User.tenant_id.in_(ids), User.active.is_(True))
        .group_by(User.tenant_id)
    )
    for tenant_id, n in user_rows:
        out[tenant_id].users = n
    unit_rows = session.execute(
        select(HandlingUnit.tenant_id, func.count())
        .where(HandlingUnit.tenant_id.in_(ids), HandlingUnit.retired_at.is_(None))
        .group_by(HandlingUnit.tenant_id)
    )
    for tenant_id, n in unit_rows:
        out[tenant_id].handling_units = n
    return [out[i] for i in ids]


def child_tenants(session: Session, tenant: Tenant) -> list[Tenant]:
    return list(session.scalars(
        select(Tenant).where(Tenant.parent_id == tenant.id, Tenant.active.is_(True)).order_by(Tenant.code)
    ))
