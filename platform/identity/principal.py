"""Loading a principal: a user, their grants, and the tenants and joint stations they may see."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform.access.policy import GrantView, Principal
from renda.platform.access.roles import Role
from renda.platform.db import Scope, set_scope
from renda.platform.identity.models import Grant, User
from renda.platform.tenancy.models import JointStation, JointStationMember, Tenant


class UnknownPrincipal(LookupError):
    """The session names a user who no longer exists or was deactivated."""


def load_principal(session: Session, user_id: int) -> Principal:
    """Load the user's grants and visible set, and leave the session scoped to it.

    Runs in two statements after the user row: grants (visible to their own user through
    ``Scope.user_id``) and the tenant/joint-station directory rows they refer to.
    """
    session.flush()  # pending rows belong to the wider scope they were added under
    set_scope(session, Scope(user_id=user_id))
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise UnknownPrincipal(user_id)
    grants = list(session.scalars(select(Grant).where(Grant.user_id == user_id).order_by(Grant.id)))
    tenants = {t.id: t for t in session.scalars(select(Tenant).where(Tenant.active.is_(True)))}
    stations = {js.org_unit_id: js for js in session.scalars(select(JointStation))}

    if user.is_platform_admin:
        scope = Scope(everything=True, user_id=user.id, tenant_ids=frozenset(tenants))
    else:
        tenant_ids: set[int] = set()
        station_ids: set[int] = set()
        for g in grants:
            tenant = tenants.get(g.tenant_id)
            if tenant is None:
                continue
            if g.org_unit_id is not None and g.org_unit_id in stations:
                station_ids.add(stations[g.org_unit_id].id)  # granted on the joint station itself
            elif g.org_unit_id is not None and g.org_unit_id == tenant.root_org_unit_id:
                tenant_ids |= {t.id for t in tenants.values() if t.path.startswith(tenant.path)}
            else:
                tenant_ids.add(tenant.id)
        if tenant_ids:
            members = session.execute(
                select(JointStationMember.joint_station_id).where(
                    JointStationMember.tenant_id.in_(sorted(tenant_ids))
                )
            )
            station_ids |= {row[0] for row in members}
        scope = Scope(
            tenant_ids=frozenset(tenant_ids), joint_station_ids=frozenset(station_ids), user_id=user.id
        )

    views = tuple(
        GrantView(
            role=Role(g.role),
            tenant_id=g.tenant_id,
            scope_path=g.scope_path,
            org_unit_id=g.org_unit_id,
            handling_unit_id=g.handling_unit_id,
            is_tenant_root=g.org_unit_id is not None
            and g.tenant_id in tenants
            and tenants[g.tenant_id].root_org_unit_id == g.org_unit_id,
        )
        for g in grants
        if g.tenant_id in tenants
    )
    set_scope(session, scope)
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        grants=views,
        is_platform_admin=user.is_platform_admin,
        scope=scope,
    )


def accessible_tenants(session: Session, principal: Principal) -> list[Tenant]:
    """Tenants the principal may open (the tenant switcher), city first, then counties by code."""
    ids = set(principal.scope.tenant_ids) | {g.tenant_id for g in principal.grants}
    stmt = select(Tenant).where(Tenant.active.is_(True))
    if not principal.is_platform_admin:
        stmt = stmt.where(Tenant.id.in_(sorted(ids)))
    return list(session.scalars(stmt.order_by(Tenant.path, Tenant.code)))
