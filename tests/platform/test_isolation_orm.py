"""Tenant isolation, first layer alone: the ORM filter and the flush guard of renda.platform.db.

Runs on both backends. On PostgreSQL these tests connect as a SUPERUSER: row-level security never
applies to superusers (FORCE ROW LEVEL SECURITY binds table owners, not superusers), so every row
kept out here was kept out by the ORM alone. The RLS layer is proved on its own in
test_isolation_rls.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, exists, func, insert, inspect, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased

from renda.platform.audit import AuditEntry
from renda.platform.db import Database, OutOfScopeWrite, Scope, set_scope
from renda.platform.identity.models import Grant, User
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, TenantSetting

TENANT_OWNED = [OrgUnit, HandlingUnit, User, Grant, TenantSetting, AuditEntry]
by_table: Callable[[Any], str] = lambda model: model.__tablename__  # noqa: E731 - a test id


@pytest.fixture
def orm_session(open_session: Callable[..., Session], superuser_db: Database) -> Callable[[Scope], Session]:
    """Rolled-back sessions connected as a superuser on PostgreSQL: only the ORM confines them."""
    return lambda scope: open_session(scope, database=superuser_db)


def tiandong_only(cast: Any, **more: Any) -> Scope:
    return Scope(tenant_ids=frozenset({cast.tenant.tiandong}), **more)


def identities(session: Session, model: Any, *where: Any) -> set[Any]:
    return {inspect(row).identity for row in session.scalars(select(model).where(*where))}


@pytest.mark.parametrize("model", TENANT_OWNED, ids=by_table)
def test_county_scope_selects_exactly_its_own_rows(model: Any, cast: Any, orm_session: Any) -> None:
    everything = orm_session(Scope.system())
    own = identities(everything, model, model.tenant_id == cast.tenant.tiandong)
    others = identities(everything, model, model.tenant_id != cast.tenant.tiandong)
    assert own and others, "the cast must hold rows on both sides"

    assert identities(orm_session(tiandong_only(cast)), model) == own


@pytest.mark.parametrize("model, owner", [(User, "id"), (Grant, "user_id")], ids=["users", "grants"])
def test_own_account_and_grants_are_visible_beside_the_scoped_tenants(
    model: Any, owner: str, cast: Any, orm_session: Any
) -> None:
    me = cast.user.joint_deputy  # lives in Pingguo, outside the scope below
    everything = orm_session(Scope.system())
    expected = identities(everything, model, model.tenant_id == cast.tenant.tiandong) | identities(
        everything, model, getattr(model, owner) == me
    )
    pingguo_admins = identities(everything, model, getattr(model, owner) == cast.user.pingguo_admin)

    seen = identities(orm_session(tiandong_only(cast, user_id=me)), model)

    assert seen == expected
    assert not seen & pingguo_admins


@pytest.mark.parametrize(
    "model, key",
    [
        (OrgUnit, lambda c: c.org.xinan),
        (OrgUnit, lambda c: c.org.pingguo_root),
        (HandlingUnit, lambda c: c.unit.pingguo_housing),
        (User, lambda c: c.user.pingguo_admin),
        (Grant, None),
        (TenantSetting, lambda c: (c.tenant.pingguo, "near_due_days")),
    ],
    ids=["org_unit-township", "org_unit-root", "handling_unit", "user", "grant", "tenant_setting"],
)
def test_get_by_id_of_another_tenants_row_returns_none(model: Any, key: Any, cast: Any, orm_session: Any) -> None:
    if key is None:  # a grant's id is not in the cast: take one of Pingguo's
        everything = orm_session(Scope.system())
        grant_id = everything.scalar(select(Grant.id).where(Grant.tenant_id == cast.tenant.pingguo))
        key = lambda c: grant_id  # noqa: E731
    session = orm_session(tiandong_only(cast))
    assert session.get(model, key(cast)) is None
    assert session.get(OrgUnit, cast.org.pingma) is not None  # while its own rows load


def test_joined_entity_is_filtered_too(cast: Any, orm_session: Any) -> None:
    session = orm_session(tiandong_only(cast, user_id=cast.user.joint_deputy))

    pairs = session.execute(select(Grant, OrgUnit).join(OrgUnit, Grant.org_unit_id == OrgUnit.id)).all()

    # The joint deputy's own grant is visible, its node (Pingguo's) is not: the join drops it.
    assert pairs
    assert {(g.tenant_id, u.tenant_id) for g, u in pairs} == {(cast.tenant.tiandong, cast.tenant.tiandong)}
    assert cast.user.joint_deputy not in {g.user_id for g, _ in pairs}


def test_aliased_entity_is_filtered_too(cast: Any, orm_session: Any) -> None:
    everything = orm_session(Scope.system())
    own = identities(everything, OrgUnit, OrgUnit.tenant_id == cast.tenant.tiandong)
    node = aliased(OrgUnit, name="node")
    session = orm_session(tiandong_only(cast))

    assert {inspect(row).identity for row in session.scalars(select(node))} == own
    assert set(session.scalars(select(node.tenant_id))) == {cast.tenant.tiandong}


@pytest.mark.parametrize("join", ["self_join", "other_entity"])
def test_join_to_an_aliased_entity_is_filtered(join: str, cast: Any, orm_session: Any) -> None:
    session = orm_session(tiandong_only(cast))
    node = aliased(OrgUnit)
    left = OrgUnit if join == "self_join" else Grant
    on = OrgUnit.parent_id == node.id if join == "self_join" else Grant.org_unit_id == node.id
    rows = session.execute(select(left.id, node.tenant_id).join(node, on)).all()
    assert rows
    assert {tenant for _, tenant in rows} == {cast.tenant.tiandong}
    if join == "self_join":  # Tiandong's root hangs under the city's root, which the alias may not see.
        assert cast.org.tiandong_root not in {child for child, _ in rows}


def test_counts_subqueries_and_exists_are_filtered(cast: Any, orm_session: Any) -> None:
    everything = orm_session(Scope.system())
    own = everything.scalar(
        select(func.count()).select_from(OrgUnit).where(OrgUnit.tenant_id == cast.tenant.tiandong))
    session = orm_session(tiandong_only(cast))

    assert session.scalar(select(func.count()).select_from(OrgUnit)) == own
    assert session.scalar(select(func.count(OrgUnit.id))) == own
    assert not session.scalar(select(exists().where(OrgUnit.id == cast.org.xinan)))
    in_pingguo = select(OrgUnit.id).where(OrgUnit.tenant_id == cast.tenant.pingguo)
    assert session.scalars(select(Grant.id).where(Grant.org_unit_id.in_(in_pingguo))).all() == []


def test_bulk_update_changes_only_rows_in_scope(cast: Any, orm_session: Any) -> None:
    everything = orm_session(Scope.system())
    own = len(identities(everything, OrgUnit, OrgUnit.tenant_id == cast.tenant.tiandong))
    session = orm_session(tiandong_only(cast))

    renamed = session.execute(
        update(OrgUnit).values(name=OrgUnit.name + "·改").execution_options(synchronize_session=False))
    aimed = session.execute(
        update(HandlingUnit).where(HandlingUnit.id == cast.unit.pingguo_housing).values(contact="越界")
        .execution_options(synchronize_session=False))

    assert renamed.rowcount == own
    assert aimed.rowcount == 0
    set_scope(session, Scope.system())
    touched = session.scalars(select(OrgUnit.tenant_id).where(OrgUnit.name.endswith("·改"))).all()
    assert set(touched) == {cast.tenant.tiandong}
    assert session.scalar(select(HandlingUnit.contact).where(HandlingUnit.id == cast.unit.pingguo_housing)) == ""


def test_bulk_delete_removes_only_rows_in_scope(cast: Any, orm_session: Any) -> None:
    session = orm_session(tiandong_only(cast))

    removed = session.execute(delete(TenantSetting).execution_options(synchronize_session=False))
    aimed = session.execute(delete(HandlingUnit).where(HandlingUnit.id == cast.unit.pingguo_housing)
                            .execution_options(synchronize_session=False))

    assert removed.rowcount == 1
    assert aimed.rowcount == 0
    set_scope(session, Scope.system())
    cast_tenants = set(vars(cast.tenant).values())
    left = set(session.scalars(select(TenantSetting.tenant_id))) & cast_tenants  # others may share the db
    assert left == {cast.tenant.city, cast.tenant.pingguo, cast.tenant.longan}
    assert session.get(HandlingUnit, cast.unit.pingguo_housing) is not None


def _foreign_rows(c: Any) -> dict[str, Callable[[], Any]]:
    """Rows of Pingguo that a Tiandong session tries to write."""
    p = c.tenant.pingguo
    return {
        "org_unit": lambda: OrgUnit(tenant_id=p, parent_id=c.org.pingguo_root, path="/x/", kind="station",
                                    name="越界联络站"),
        "handling_unit": lambda: HandlingUnit(tenant_id=p, name="越界单位", path="/x/"),
        "user": lambda: User(tenant_id=p, username="intruder-orm", display_name="越界"),
        "grant": lambda: Grant(tenant_id=p, user_id=c.user.pingguo_admin, role="observer",
                               org_unit_id=c.org.xinan, scope_path="/x/"),
        "tenant_setting": lambda: TenantSetting(tenant_id=p, key="intruder", value={"v": 1}),
        "audit_entry": lambda: AuditEntry(tenant_id=p, action="intrude", object_type="", object_id=""),
    }


@pytest.mark.parametrize("kind", ["org_unit", "handling_unit", "user", "grant", "tenant_setting", "audit_entry"])
def test_adding_a_row_of_another_tenant_fails_at_flush_and_writes_nothing(
    kind: str, cast: Any, orm_session: Any, row_counts: Any
) -> None:
    session = orm_session(tiandong_only(cast))
    before = row_counts(session)

    session.add(_foreign_rows(cast)[kind]())
    with pytest.raises(OutOfScopeWrite):
        session.flush()
    session.rollback()

    assert row_counts(session) == before


def test_moving_an_own_row_into_another_tenant_fails_at_flush(cast: Any, orm_session: Any) -> None:
    session = orm_session(tiandong_only(cast))
    unit = session.get(HandlingUnit, cast.unit.tiandong_court)
    assert unit is not None

    unit.tenant_id = cast.tenant.pingguo
    with pytest.raises(OutOfScopeWrite):
        session.flush()
    session.rollback()

    set_scope(session, Scope.system())
    assert session.get(HandlingUnit, cast.unit.tiandong_court).tenant_id == cast.tenant.tiandong


@pytest.mark.parametrize("model", TENANT_OWNED, ids=by_table)
def test_a_session_without_scope_sees_no_tenant_owned_row(model: Any, cast: Any, orm_session: Any) -> None:
    session = orm_session(Scope())
    assert session.scalar(select(func.count()).select_from(model)) == 0
    assert session.scalars(select(model)).first() is None


def test_a_session_without_scope_cannot_write_a_tenant_owned_row(cast: Any, orm_session: Any) -> None:
    session = orm_session(Scope())
    session.add(HandlingUnit(tenant_id=cast.tenant.tiandong, name="无范围", path="/x/"))
    with pytest.raises(OutOfScopeWrite):
        session.flush()


def test_joint_station_node_is_visible_to_a_member_but_not_the_hosts_other_nodes(
    cast: Any, orm_session: Any
) -> None:
    longan = Scope(tenant_ids=frozenset({cast.tenant.longan}), joint_station_ids=frozenset({cast.joint_station}))
    session = orm_session(longan)

    seen = {row.id: row.tenant_id for row in session.scalars(select(OrgUnit))}

    assert cast.org.joint_node in seen and seen[cast.org.joint_node] == cast.tenant.pingguo
    assert set(seen.values()) == {cast.tenant.longan, cast.tenant.pingguo}
    assert not set(seen) & {cast.org.pingguo_root, cast.org.xinan, cast.org.xinan_station}
    assert session.get(OrgUnit, cast.org.xinan) is None
    # The station shares its node, not the host's handling units, users or settings.
    assert {u.tenant_id for u in session.scalars(select(HandlingUnit))} == {cast.tenant.longan}


def test_joint_station_alone_shows_only_the_station_node(cast: Any, orm_session: Any) -> None:
    session = orm_session(Scope(joint_station_ids=frozenset({cast.joint_station})))
    assert session.scalars(select(OrgUnit.id)).all() == [cast.org.joint_node]
    assert session.scalar(select(func.count()).select_from(HandlingUnit)) == 0


@pytest.mark.parametrize("statement", ["update", "delete"])
def test_audit_log_is_append_only(statement: str, cast: Any, orm_session: Any) -> None:
    """The migration's trigger refuses even the system scope (and, on PostgreSQL, a superuser)."""
    session = orm_session(Scope.system())
    change = (update(AuditEntry).values(action="rewritten") if statement == "update"
              else delete(AuditEntry))
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(change.execution_options(synchronize_session=False))


# --- gaps of the ORM layer (see the report; strict: they fail loudly once fixed) ---------------


@pytest.mark.parametrize("how", ["insert_statement", "bulk_save_objects"])
def test_bulk_inserts_of_another_tenants_row_are_refused(how: str, cast: Any, orm_session: Any) -> None:
    session = orm_session(tiandong_only(cast))
    with pytest.raises(OutOfScopeWrite):
        if how == "insert_statement":
            session.execute(insert(HandlingUnit).values(tenant_id=cast.tenant.pingguo, name="越界单位",
                                                        category="government", contact="", path="/x/"))
        else:
            session.bulk_save_objects([HandlingUnit(tenant_id=cast.tenant.pingguo, name="越界单位",
                                                    category="government", contact="", path="/x/")])


def test_bulk_update_cannot_move_an_own_row_into_another_tenant(cast: Any, orm_session: Any) -> None:
    session = orm_session(tiandong_only(cast))
    with pytest.raises(OutOfScopeWrite):
        session.execute(update(HandlingUnit).where(HandlingUnit.id == cast.unit.tiandong_court)
                        .values(tenant_id=cast.tenant.pingguo).execution_options(synchronize_session=False))


@pytest.mark.parametrize("what", ["grant_in_other_tenant", "move_own_account"])
def test_own_rows_clause_does_not_open_writes_into_other_tenants(what: str, cast: Any, orm_session: Any) -> None:
    me = cast.user.tiandong_deputy
    session = orm_session(tiandong_only(cast, user_id=me))
    if what == "grant_in_other_tenant":
        session.add(Grant(tenant_id=cast.tenant.pingguo, user_id=me, role="congress_admin",
                          org_unit_id=cast.org.pingguo_root, scope_path="/x/"))
    else:
        session.get(User, me).tenant_id = cast.tenant.pingguo
    with pytest.raises(OutOfScopeWrite):
        session.flush()


def test_narrowing_the_scope_hides_rows_loaded_before(cast: Any, orm_session: Any) -> None:
    session = orm_session(Scope.system())
    loaded = session.get(OrgUnit, cast.org.xinan)  # a caller still holds it (the map is weak)
    assert loaded is not None
    set_scope(session, tiandong_only(cast))
    assert session.get(OrgUnit, cast.org.xinan) is None
