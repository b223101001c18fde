"""Recipients by role: who holds a role exactly on a node or a handling unit, in one statement for many."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from renda.platform.access.recipients import holders_by_place, role_holders


def test_holders_are_found_where_the_role_is_held_and_nowhere_else(system_session: Session, cast: Any) -> None:
    s = system_session
    roots = [cast.org.tiandong_root, cast.org.pingguo_root, cast.org.city_root]
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement)  # (the session's savepoint and scope settings come too)

    s.flush()
    engine = s.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        office = holders_by_place(s, "congress_admin", org_unit_ids=roots)
        units = holders_by_place(s, "handler", handling_unit_ids=[cast.unit.tiandong_transport,
                                                                   cast.unit.tiandong_court])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert cast.user.tiandong_admin in office.at(org_unit_id=cast.org.tiandong_root)
    assert cast.user.city_admin not in office.at(org_unit_id=cast.org.tiandong_root)  # above, not on it
    assert cast.user.city_admin in office.at(org_unit_id=cast.org.city_root)
    assert cast.user.pingguo_admin in office.at(org_unit_id=cast.org.pingguo_root)
    assert cast.user.tiandong_handler in units.at(handling_unit_id=cast.unit.tiandong_transport)
    assert units.at(handling_unit_id=cast.unit.tiandong_court) == set()
    assert len([st for st in statements if "FROM grants" in st]) == 2  # one for all the nodes, one for the units
    assert role_holders(s, "congress_leader", org_unit_ids=[cast.org.tiandong_root]) >= {cast.user.tiandong_leader}
    assert role_holders(s, "congress_leader") == set()  # nowhere asked: nobody, without a query
