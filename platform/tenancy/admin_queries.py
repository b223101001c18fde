"""Reads for the administration pages (org tree, handling units, users, audit log), each in a fixed
number of statements however large the tenant is. Read-only: the actions live in the services.

The pages call the ``*_for(session, actor, tenant, …)`` functions at the end, which refuse whoever
may not see the page; the plain reads above them serve those and the tests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from renda.platform.access.policy import Principal, Target, can, require_in
from renda.platform.access.roles import KernelPermission as Permission
from renda.platform.audit import AuditEntry
from renda.platform.identity import service as identity
from renda.platform.identity.models import Grant, User
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant
from renda.platform.tenancy.service import (
    ALLOWED_PARENTS,
    ORG_KINDS,
    access_handling_unit,
    access_org_unit,
    target_of,
    tenant_root,
)

# The order siblings are shown in: townships first, then stations, joint stations, villages.
KIND_ORDER = {"congress": 0, "township": 1, "station": 2, "joint_station": 3, "village": 4}
# Kinds that other units may be placed under (villages, stations and joint stations hold nothing).
PARENT_KINDS = frozenset(kind for kinds in ALLOWED_PARENTS.values() for kind in kinds)


@dataclass(frozen=True)
class TreeNode:
    """An org unit with the number of active units directly under it, by kind."""

    unit: OrgUnit
    stations: int = 0
    villages: int = 0
    others: int = 0

    @property
    def children(self) -> int:
        return self.stations + self.villages + self.others


def _sibling_key(unit: OrgUnit) -> tuple[int, int, str, str]:
    return (KIND_ORDER.get(unit.kind, 9), 1 if unit.retired_at else 0, unit.code or "~", unit.name)


def children_with_counts(session: Session, tenant_id: int, parent_id: int) -> list[TreeNode]:
    """The units directly under a node, each with its active children counted, in one statement."""
    child = aliased(OrgUnit)
    stmt = (
        select(
            OrgUnit,
            func.coalesce(func.sum(case((child.kind == "station", 1), else_=0)), 0),
            func.coalesce(func.sum(case((child.kind == "village", 1), else_=0)), 0),
            func.count(child.id),
        )
        .outerjoin(child, and_(child.parent_id == OrgUnit.id, child.tenant_id == tenant_id,
                               child.retired_at.is_(None)))
        .where(OrgUnit.tenant_id == tenant_id, OrgUnit.parent_id == parent_id)
        .group_by(OrgUnit.id)
    )
    nodes = [
        TreeNode(unit, int(stations), int(villages), int(total) - int(stations) - int(villages))
        for unit, stations, villages, total in session.execute(stmt)
    ]
    return sorted(nodes, key=lambda n: _sibling_key(n.unit))


def ancestors(session: Session, tenant_id: int, unit: OrgUnit) -> list[OrgUnit]:
    """The unit's ancestors inside the tenant, top first (a city's root above a county is left out)."""
    ids = [int(part) for part in unit.path.strip("/").split("/")[:-1] if part.isdigit()]
    if not ids:
        return []
    rows = session.scalars(select(OrgUnit).where(OrgUnit.tenant_id == tenant_id, OrgUnit.id.in_(ids)))
    return sorted(rows, key=lambda u: len(u.path))


def units_of_kinds(session: Session, tenant_id: int, kinds: Iterable[str],
                   include_retired: bool = False) -> list[OrgUnit]:
    """The tenant's units of the given kinds in tree order (a parent before what is under it)."""
    stmt = select(OrgUnit).where(OrgUnit.tenant_id == tenant_id, OrgUnit.kind.in_(sorted(set(kinds))))
    if not include_retired:
        stmt = stmt.where(OrgUnit.retired_at.is_(None))
    return list(session.scalars(stmt.order_by(OrgUnit.path)))


def handling_units(session: Session, tenant_id: int, include_retired: bool = True) -> list[HandlingUnit]:
    stmt = select(HandlingUnit).where(HandlingUnit.tenant_id == tenant_id)
    if not include_retired:
        stmt = stmt.where(HandlingUnit.retired_at.is_(None))
    return list(session.scalars(stmt.order_by(HandlingUnit.retired_at.is_not(None), HandlingUnit.name)))


@dataclass(frozen=True)
class GrantRow:
    grant: Grant
    scope_name: str
    scope_kind: str  # an org unit's kind, or "handling_unit"


@dataclass
class UserRow:
    user: User
    grants: list[GrantRow] = field(default_factory=list)


def _grant_rows(session: Session, tenant_id: int, user_ids: list[int]) -> list[GrantRow]:
    if not user_ids:
        return []
    stmt = (
        select(Grant, OrgUnit.name, OrgUnit.kind, HandlingUnit.name)
        .outerjoin(OrgUnit, Grant.org_unit_id == OrgUnit.id)
        .outerjoin(HandlingUnit, Grant.handling_unit_id == HandlingUnit.id)
        .where(Grant.tenant_id == tenant_id, Grant.user_id.in_(user_ids))
        .order_by(Grant.id)
    )
    return [
        GrantRow(grant, unit_name or handling_name or "", unit_kind or ("handling_unit" if handling_name else ""))
        for grant, unit_name, unit_kind, handling_name in session.execute(stmt)
    ]


USERS_SHOWN = 500


def users_with_grants(session: Session, tenant_id: int, query: str = "", limit: int = USERS_SHOWN
                      ) -> list[UserRow]:
    """Users whose home is the tenant or who hold a grant in it, with their grants there: two statements.

    ``query`` filters on user name and display name (case-insensitive, a plain substring). At most
    ``limit`` + 1 rows: one more than are shown tells the page that a search is needed to see the rest.
    """
    granted = select(Grant.user_id).where(Grant.tenant_id == tenant_id)
    stmt = select(User).where(or_(User.tenant_id == tenant_id, User.id.in_(granted)))
    query = (query or "").strip().lower()
    if query:
        stmt = stmt.where(or_(func.lower(User.username).contains(query, autoescape=True),
                              func.lower(User.display_name).contains(query, autoescape=True)))
    users = list(session.scalars(stmt.order_by(User.display_name, User.username).limit(limit + 1)))
    rows = {u.id: UserRow(u) for u in users}
    for grant_row in _grant_rows(session, tenant_id, list(rows)):
        rows[grant_row.grant.user_id].grants.append(grant_row)
    return list(rows.values())


def user_grants(session: Session, tenant_id: int, user_id: int) -> list[GrantRow]:
    """One user's grants in the tenant with the names of their scopes, in one statement."""
    return _grant_rows(session, tenant_id, [user_id])


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    actor_name: str | None  # None: a system action, or an actor outside what the reader may see


def audit_page(session: Session, tenant_id: int, before: int | None = None,
               limit: int = 50) -> tuple[list[AuditRow], bool]:
    """The newest entries (older than id ``before``), with the actor's name joined in, and whether
    more follow: one statement. Paging by id, which only grows, keeps pages stable while new
    entries arrive."""
    stmt = (
        select(AuditEntry, User.display_name)
        .outerjoin(User, User.id == AuditEntry.actor_user_id)
        .where(AuditEntry.tenant_id == tenant_id)
    )
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    rows = [AuditRow(entry, name) for entry, name in
            session.execute(stmt.order_by(AuditEntry.id.desc()).limit(limit + 1))]
    return rows[:limit], len(rows) > limit



# --- the pages' reads, each refused to whoever may not see the page ------------------------------------
# Each checks the page's permission (held somewhere in the tenant) and looks rows up through the
# access_<noun> functions, so a page, the CLI and a future API read the same, and no route decides again.


def manages_unit(actor: Principal, unit: OrgUnit) -> bool:
    return can(actor, Permission.ORG_MANAGE, target_of(unit))


def _kinds_under(parent_kinds: Iterable[str]) -> list[str]:
    wanted = set(parent_kinds)
    return [k for k in ORG_KINDS if ALLOWED_PARENTS.get(k, frozenset()) & wanted]


@dataclass(frozen=True)
class OrgTree:
    """The tree page: the root's children, and where the actor may add a unit (and of which kinds)."""

    root: OrgUnit
    nodes: list[TreeNode]
    parents: list[OrgUnit]
    add_kinds: list[str]


def org_tree_for(session: Session, actor: Principal, tenant: Tenant) -> OrgTree:
    require_in(actor, Permission.ORG_MANAGE, tenant.id)
    root = tenant_root(session, tenant)
    parents = [u for u in units_of_kinds(session, tenant.id, PARENT_KINDS) if manages_unit(actor, u)]
    return OrgTree(root, children_with_counts(session, tenant.id, root.id), parents,
                   _kinds_under(u.kind for u in parents))


@dataclass(frozen=True)
class OrgUnitPage:
    """One unit: where it sits, what is under it, and what the actor may do with it."""

    unit: OrgUnit
    ancestors: list[OrgUnit]
    nodes: list[TreeNode]
    manages: bool
    add_kinds: list[str]
    move_parents: list[OrgUnit]  # where it may go: the places of its kind the actor manages, not under itself


def org_unit_for(session: Session, actor: Principal, tenant: Tenant, unit_id: int) -> OrgUnitPage:
    require_in(actor, Permission.ORG_MANAGE, tenant.id)
    unit = access_org_unit(session, actor, tenant, unit_id)
    manages = manages_unit(actor, unit)
    move_parents: list[OrgUnit] = []
    if manages and unit.kind in ALLOWED_PARENTS:
        move_parents = [u for u in units_of_kinds(session, tenant.id, ALLOWED_PARENTS[unit.kind])
                        if not u.path.startswith(unit.path) and (u.id == unit.parent_id or manages_unit(actor, u))]
    return OrgUnitPage(unit, ancestors(session, tenant.id, unit), children_with_counts(session, tenant.id, unit.id),
                       manages, _kinds_under({unit.kind}) if manages and unit.retired_at is None else [],
                       move_parents)


def org_children_for(session: Session, actor: Principal, tenant: Tenant, unit_id: int) -> tuple[OrgUnit,
                                                                                                list[TreeNode]]:
    """A unit's children with their counts, for the tree's on-demand expansion."""
    require_in(actor, Permission.ORG_MANAGE, tenant.id)
    unit = access_org_unit(session, actor, tenant, unit_id)
    return unit, children_with_counts(session, tenant.id, unit.id)


def handling_units_for(session: Session, actor: Principal, tenant: Tenant) -> list[HandlingUnit]:
    require_in(actor, Permission.HANDLING_UNIT_MANAGE, tenant.id)
    return handling_units(session, tenant.id)


def handling_unit_for(session: Session, actor: Principal, tenant: Tenant, unit_id: int) -> HandlingUnit:
    require_in(actor, Permission.HANDLING_UNIT_MANAGE, tenant.id)
    return access_handling_unit(session, actor, tenant, unit_id)


def users_for(session: Session, actor: Principal, tenant: Tenant, query: str = "") -> list[UserRow]:
    """The users page's rows (see users_with_grants): up to USERS_SHOWN + 1."""
    require_in(actor, Permission.USER_MANAGE, tenant.id)
    return users_with_grants(session, tenant.id, query)


# Where roles are granted: the congress, townships and stations, not villages (DESIGN §4).
GRANT_KINDS = ("congress", "township", "station", "joint_station")


@dataclass(frozen=True)
class UserPage:
    """One user as a tenant's office sees them: their roles here, where the office may grant more, and
    whether it keeps the account itself (only the home congress's office does)."""

    user: User
    grants: list[GrantRow]
    revocable: set[int]  # the grants (by id) the actor may revoke: those within their user.manage
    grant_places: list[OrgUnit]
    grant_units: list[HandlingUnit]
    edits_account: bool
    home: Tenant | None


def user_for(session: Session, actor: Principal, tenant: Tenant, user_id: int) -> UserPage:
    require_in(actor, Permission.USER_MANAGE, tenant.id)
    user = identity.access_user(session, actor, tenant, user_id)
    places = [u for u in units_of_kinds(session, tenant.id, GRANT_KINDS)
              if can(actor, Permission.USER_MANAGE, target_of(u))]
    units = [u for u in handling_units(session, tenant.id, include_retired=False)
             if can(actor, Permission.USER_MANAGE, target_of(u))]
    grants = user_grants(session, tenant.id, user.id)
    revocable = {g.grant.id for g in grants
                 if can(actor, Permission.USER_MANAGE, Target(tenant.id, g.grant.scope_path))}
    return UserPage(user, grants, revocable, places, units, identity.may_edit_account(session, actor, user),
                    identity.home_of(session, user))


def audit_for(session: Session, actor: Principal, tenant: Tenant, before: int | None = None,
              limit: int = 50) -> tuple[list[AuditRow], bool]:
    require_in(actor, Permission.AUDIT_VIEW, tenant.id)
    return audit_page(session, tenant.id, before, limit)
