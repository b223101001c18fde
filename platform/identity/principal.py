"""Loading a principal: a user, their grants, and the tenants and joint stations they may see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from renda.platform.access.policy import GrantView, Principal
from renda.platform.db import Scope, get_scope, set_scope
from renda.platform.identity.models import Grant, User
from renda.platform.tenancy.models import JointStation, JointStationMember, Tenant


class UnknownPrincipal(LookupError):
    """The session names a user who no longer exists or was deactivated."""


@dataclass(frozen=True)
class Access:
    """A request's principal and the directory it was computed from (every active tenant, by id)."""

    principal: Principal
    tenants: dict[int, Tenant]
    memberships: dict[int, frozenset[int]] = field(default_factory=dict)  # tenant -> joint stations it hosts or joined

    def accessible(self) -> list[Tenant]:
        """Tenants the principal may open (the tenant switcher), city first, then counties by code."""
        return accessible_from(self.principal, self.tenants.values())

    def tenant_by_slug(self, slug: str) -> Tenant | None:
        """An active tenant by its slug, from the rows already loaded (no statement)."""
        return next((t for t in self.tenants.values() if t.slug == slug), None)

    def scope_for(self, tenant: Tenant) -> Scope:
        """The principal's scope narrowed to one tenant's pages (see ``Scope.narrowed_to``)."""
        return self.principal.scope.narrowed_to(tenant.id, self.memberships.get(tenant.id, frozenset()))


def load_principal(session: Session, user_id: int) -> Principal:
    return load_access(session, user_id).principal


def load_access(session: Session, user_id: int, assumed: Scope | None = None, *, apply: bool = True) -> Access:
    """Load the user, their grants and the directory, and leave the session scoped to what they see.

    Two statements: the user with their grants (visible to their own user through ``Scope.user_id``),
    and the directory (tenants, the joint stations they host, their member tenants). ``assumed`` is the scope the
    previous request ended with: the reads run under it (it names the same user) and the scope is set
    again only when the fresh grants give a different one, so a request whose access did not change
    writes its settings once. ``apply=False`` leaves the session under ``assumed``: the caller sets the
    scope it narrows to (a page of one tenant), so the settings are written once, not twice.
    """
    session.flush()  # pending rows belong to the wider scope they were added under
    start = assumed if assumed is not None and assumed.user_id == user_id and not assumed.everything \
        else Scope(user_id=user_id)
    set_scope(session, start)
    # An alias: the users' scope filter has a subquery on grants, which must not correlate with this join.
    held = aliased(Grant)
    rows = session.execute(
        select(User, held).outerjoin(held, held.user_id == User.id).where(User.id == user_id).order_by(held.id)
    ).all()
    user = rows[0][0] if rows else None
    if user is None or not user.active:
        raise UnknownPrincipal(user_id)
    grants = [g for _, g in rows if g is not None]
    tenants: dict[int, Tenant] = {}
    stations: dict[int, JointStation] = {}  # by the station's org unit
    members: dict[int, set[int]] = {}  # tenant id -> the joint stations it is a member of
    hosted: dict[int, set[int]] = {}  # tenant id -> the joint stations it hosts
    # The directory in one statement: every tenant, the joint stations it hosts, their member tenants.
    for row, js, member_tenant in session.execute(
        select(Tenant, JointStation, JointStationMember.tenant_id)
        .outerjoin(JointStation, JointStation.host_tenant_id == Tenant.id)
        .outerjoin(JointStationMember, JointStationMember.joint_station_id == JointStation.id)
    ):
        if row.active:
            tenants[row.id] = row
        if js is not None and js.org_unit_id is not None:
            stations[js.org_unit_id] = js
            hosted.setdefault(row.id, set()).add(js.id)
            if member_tenant is not None:
                members.setdefault(member_tenant, set()).add(js.id)

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
        for tenant_id in tenant_ids:
            station_ids |= members.get(tenant_id, set())
        scope = Scope(
            tenant_ids=frozenset(tenant_ids), joint_station_ids=frozenset(station_ids), user_id=user.id
        )

    views = tuple(
        GrantView(
            role=g.role,
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
    if apply and get_scope(session) != scope:
        set_scope(session, scope)
    principal = Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        grants=views,
        is_platform_admin=user.is_platform_admin,
        scope=scope,
    )
    return Access(principal, tenants, {t: frozenset(members.get(t, set()) | hosted.get(t, set()))
                                       for t in members.keys() | hosted.keys()})


def accessible_from(principal: Principal, tenants: Iterable[Tenant]) -> list[Tenant]:
    ids = set(principal.scope.tenant_ids) | {g.tenant_id for g in principal.grants}
    active = [t for t in tenants if t.active]
    if not principal.is_platform_admin:
        active = [t for t in active if t.id in ids]
    return sorted(active, key=lambda t: (t.path, t.code or ""))
