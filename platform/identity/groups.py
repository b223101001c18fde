"""Group paths: how the org tree and the roles appear in an identity provider's groups.

A node's path is the chain of its ancestors' segments from the top of the tree, a segment being
the node's GB/T 2260 code where it has one and ``{kind}-{id}`` otherwise (``station-45``,
``joint-12`` for a joint station); a handling unit is ``hu-{id}`` under its tenant's root. A
group that grants a role is the role's name under the node: ``/451000/451022/451022100/township_chair``,
``/451000/451082/joint-12/deputy``, ``/451000/451022/hu-17/handler``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform.access.roles import PLATFORM_ADMIN, registry
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant

SEGMENT_PREFIX = {"joint_station": "joint"}


def node_segment(node: OrgUnit) -> str:
    return node.code or f"{SEGMENT_PREFIX.get(node.kind, node.kind)}-{node.id}"


def unit_segment(unit: HandlingUnit) -> str:
    return f"hu-{unit.id}"


def _ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part.isdigit()]


def node_paths(session: Session, nodes: Iterable[OrgUnit]) -> dict[int, str]:
    """Group path of each node (ancestors loaded in one statement)."""
    nodes = list(nodes)
    wanted = {i for n in nodes for i in _ids(n.path)}
    known = {n.id: n for n in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(sorted(wanted))))}
    return {
        n.id: "/" + "/".join(node_segment(known[i]) for i in _ids(n.path) if i in known)
        for n in nodes
    }


@dataclass(frozen=True)
class GroupGrant:
    """What one group path grants: a role on a node or on a handling unit of a tenant."""

    path: str
    tenant_id: int
    role: str
    org_unit_id: int | None = None
    handling_unit_id: int | None = None


def _segment_id(segment: str, prefix: str) -> int | None:
    head, _, tail = segment.rpartition("-")
    return int(tail) if head == prefix and tail.isdigit() else None


def resolve(session: Session, path: str) -> GroupGrant | None:
    """The grant a group path names, or None when it names no known node, unit or role.

    The caller's session must see every tenant (the login runs under the system scope).
    """
    segments = [s for s in (path or "").split("/") if s]
    if len(segments) < 2:
        return None
    *where, role_name = segments
    role = role_name
    if not registry.is_role(role):
        return None
    if role == PLATFORM_ADMIN:
        return None  # a realm role, never a group
    last = where[-1]
    unit_id = _segment_id(last, "hu")
    if unit_id is not None:
        unit = session.get(HandlingUnit, unit_id)
        if unit is None or unit.retired_at is not None or role not in registry.unit_roles():
            return None
        tenant = session.get(Tenant, unit.tenant_id)
        root = _walk(session, where[:-1])
        if tenant is None or root is None or root.id != tenant.root_org_unit_id:
            return None
        return GroupGrant(path, unit.tenant_id, role, handling_unit_id=unit.id)
    if role in registry.unit_roles():
        return None
    node = _walk(session, where)
    if node is None or node.retired_at is not None:
        return None
    return GroupGrant(path, node.tenant_id, role, org_unit_id=node.id)


def _walk(session: Session, segments: list[str]) -> OrgUnit | None:
    """Follow the segments down from a root of the tree, one child at a time.

    Codes are matched among the children of the node reached so far, so a code that appears
    twice in the database (a test county, a mistyped unit) cannot send a path astray.
    """
    node: OrgUnit | None = None
    for segment in segments:
        kind, _, tail = segment.rpartition("-")
        stmt = select(OrgUnit).where(
            OrgUnit.parent_id.is_(None) if node is None else OrgUnit.parent_id == node.id)
        if kind and tail.isdigit():
            stmt = stmt.where(OrgUnit.id == int(tail))
        elif segment.isdigit():
            stmt = stmt.where(OrgUnit.code == segment)
        else:
            return None
        found = session.scalars(stmt.order_by(OrgUnit.id)).first()
        if found is None or node_segment(found) != segment:
            return None
        node = found
    return node


def role_group_paths(node_path: str, kinds: Iterable[str]) -> list[str]:
    return [f"{node_path}/{role}" for role in kinds]


def org_roles() -> tuple[str, ...]:
    """The roles with a group leaf under every node, in the order the modules declared them."""
    return registry.org_roles()


def unit_roles() -> tuple[str, ...]:
    return registry.unit_roles()
