"""Who holds a role where: the one query behind every "tell the office", "tell the unit's handlers".

Notifications of steps and of deadline sweeps find their recipients here, by role and by where the
grant sits (an org node, or a handling unit), so no module reads the grants table by role names of its
own. Only a grant on exactly that node counts: a city's office is not a county's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from renda.platform.identity.models import Grant, User


@dataclass(frozen=True)
class Holders:
    """Active users by where they hold the role: on org nodes, on handling units."""

    on_org_unit: dict[int, set[int]] = field(default_factory=dict)
    on_handling_unit: dict[int, set[int]] = field(default_factory=dict)

    def at(self, *, org_unit_id: int | None = None, handling_unit_id: int | None = None) -> set[int]:
        """Those holding it on this node and on this handling unit (either may be None)."""
        return (self.on_org_unit.get(org_unit_id or 0, set())
                | self.on_handling_unit.get(handling_unit_id or 0, set()))

    def everyone(self) -> set[int]:
        return {u for users in (*self.on_org_unit.values(), *self.on_handling_unit.values()) for u in users}


def holders_by_place(session: Session, role: str, *, org_unit_ids: Iterable[int] = (),
                     handling_unit_ids: Iterable[int] = ()) -> Holders:
    """The active users holding ``role`` on each of these nodes and handling units, in one statement
    however many there are (a sweep asks for the handlers of hundreds of units at once)."""
    nodes, units = set(org_unit_ids) - {0}, set(handling_unit_ids) - {0}
    if not nodes and not units:
        return Holders()
    grant = aliased(Grant)  # users' own tenant filter looks at the grants table: keep it uncorrelated
    where = [*([grant.org_unit_id.in_(sorted(nodes))] if nodes else []),
             *([grant.handling_unit_id.in_(sorted(units))] if units else [])]
    stmt = (select(grant.user_id, grant.org_unit_id, grant.handling_unit_id)
            .join(User, User.id == grant.user_id)
            .where(grant.role == str(role), User.active.is_(True), or_(*where)))
    on_node: defaultdict[int, set[int]] = defaultdict(set)
    on_unit: defaultdict[int, set[int]] = defaultdict(set)
    for user_id, node, unit in session.execute(stmt):
        if node is not None and node in nodes:
            on_node[node].add(user_id)
        if unit is not None and unit in units:
            on_unit[unit].add(user_id)
    return Holders(dict(on_node), dict(on_unit))


def role_holders(session: Session, role: str, *, org_unit_ids: Iterable[int] = (),
                 handling_unit_ids: Iterable[int] = ()) -> set[int]:
    """The active users holding ``role`` on any of these nodes or handling units, in one statement."""
    return holders_by_place(session, role, org_unit_ids=org_unit_ids, handling_unit_ids=handling_unit_ids).everyone()
