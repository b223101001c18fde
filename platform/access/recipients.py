"""Who holds a role where: the one query behind every "tell the office", "tell the unit's handlers".

Notifications of steps and of deadline sweeps find their recipients here, by role and by where the
grant sits (an org node, or a handling unit), so no module reads the grants table by role names of its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from renda.platform.identity.models import Grant, User


def role_holders(session: Session, role: str, *, org_unit_ids: Iterable[int] = (),
                 handling_unit_ids: Iterable[int] = ()) -> set[int]:
    """The active users holding ``role`` on exactly one of these nodes or handling units (not above them:
    a city's office is not a county's), in one statement."""
    nodes, units = sorted(set(org_unit_ids)), sorted(set(handling_unit_ids))
    if not nodes and not units:
        return set()
    grant = aliased(Grant)  # users' own tenant filter looks at the grants table: keep it uncorrelated
    where = []
    if nodes:
        where.append(grant.org_unit_id.in_(nodes))
    if units:
        where.append(grant.handling_unit_id.in_(units))
    stmt = (select(grant.user_id).join(User, User.id == grant.user_id)
            .where(grant.role == str(role), User.active.is_(True))
            .where(where[0] if len(where) == 1 else where[0] | where[1]))
    return set(session.scalars(stmt))
