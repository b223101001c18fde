"""A tenant's own days off and working days: deadline arithmetic follows them, staff keep them (audited),
and one tenant's days are invisible to another, through the ORM and through row-level security."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from renda.platform.access.policy import AccessDenied
from renda.platform.audit import AuditEntry
from renda.platform.db import Database, Scope, set_scope
from renda.platform.deadlines import add_working_days, working_days_between
from renda.platform.errors import NotFound, ValidationFailed
from renda.platform.tenancy.models import Tenant
from renda.platform.workdays import service as workdays
from renda.platform.workdays.calendar import COVERED_YEARS
from renda.platform.workdays.models import WorkdayOverride

TODAY = dt.date(2026, 11, 23)
LATER = max(COVERED_YEARS) + 1  # a year the package does not know (2027 with chinese-calendar 1.11.0)


def national_day_week(year: int) -> list[tuple[dt.date, bool, str]]:
    """A National Day week as the State Council would announce it: 1–7 October off, and a weekend day
    before and after worked in their place (illustrative for a year not announced yet)."""
    off = [(dt.date(year, 10, d), False, "国庆节") for d in range(1, 8)]
    saturday_after = dt.date(year, 10, 8) + dt.timedelta(days=(5 - dt.date(year, 10, 8).weekday()) % 7)
    return [*off, (saturday_after, True, "国庆节调休上班")]


def _tenant(s: Session, tenant_id: int) -> Tenant:
    tenant = s.get(Tenant, tenant_id)
    assert tenant is not None
    return tenant


def test_the_tenants_own_days_count_in_its_working_days(system_session: Session, cast: Any,
                                                        principal_of: Any) -> None:
    s = system_session
    admin = principal_of(s, "tiandong_admin")
    tiandong = _tenant(s, cast.tenant.tiandong)
    week = national_day_week(LATER)
    for day, working, note in week:
        workdays.add_own_day(s, admin, tiandong, day=day, working=working, note=note, today=TODAY)
    s.flush()
    calendar = workdays.calendar_for(s, tiandong.id)
    before = dt.date(LATER, 9, 30)
    saturday_after = week[-1][0]
    # Without the tenant's days the package cannot tell: Monday to Friday only.
    assert add_working_days(before, 1) < dt.date(LATER, 10, 8)
    assert add_working_days(before, 1, calendar) == dt.date(LATER, 10, 8)
    assert calendar.is_working_day(saturday_after)
    expected = sum(1 for i in range(1, (saturday_after - before).days + 1)
                   if (d := before + dt.timedelta(days=i)) >= dt.date(LATER, 10, 8)
                   and (d.weekday() < 5 or d == saturday_after))
    assert working_days_between(before, saturday_after, calendar) == expected
    # Pingguo entered nothing: its calendar is the national one.
    assert workdays.calendar_for(s, cast.tenant.pingguo).is_working_day(dt.date(LATER, 10, 1)) \
        == (dt.date(LATER, 10, 1).weekday() < 5)


def test_adding_and_removing_a_day_is_audited(system_session: Session, cast: Any, principal_of: Any) -> None:
    s = system_session
    tiandong = _tenant(s, cast.tenant.tiandong)
    since = s.scalar(select(func.max(AuditEntry.id))) or 0  # SQLite reuses a removed row's id
    admin = principal_of(s, "tiandong_admin")
    row = workdays.add_own_day(s, admin, tiandong, day=dt.date(LATER, 4, 19), working=False,
                               note="壮族三月三", today=TODAY)
    listed = workdays.own_days_for(s, admin, tiandong)
    assert [d.override.id for d in listed] == [row.id]
    assert listed[0].national is None and not listed[0].same_as_national  # a year the package does not know
    workdays.remove_own_day(s, admin, tiandong, row.id)
    s.flush()
    assert workdays.own_days_for(s, admin, tiandong) == []
    entries = s.execute(select(AuditEntry.action, AuditEntry.actor_user_id, AuditEntry.before, AuditEntry.after)
                        .where(AuditEntry.tenant_id == tiandong.id, AuditEntry.object_type == "workday_overrides",
                               AuditEntry.object_id == str(row.id), AuditEntry.id > since)
                        .order_by(AuditEntry.id)).all()
    day = dt.date(LATER, 4, 19).isoformat()
    assert [(e.action, e.actor_user_id) for e in entries] == [("workday.add", cast.user.tiandong_admin),
                                                              ("workday.remove", cast.user.tiandong_admin)]
    assert entries[0].after == {"day": day, "working": False, "note": "壮族三月三"}
    assert entries[1].before == entries[0].after and entries[1].after is None


def test_a_day_the_package_knows_is_compared_with_it(system_session: Session, cast: Any, principal_of: Any) -> None:
    s = system_session
    admin = principal_of(s, "tiandong_admin")
    tiandong = _tenant(s, cast.tenant.tiandong)
    workdays.add_own_day(s, admin, tiandong, day=dt.date(2026, 10, 10), working=True, note="", today=TODAY)
    workdays.add_own_day(s, admin, tiandong, day=dt.date(2026, 10, 12), working=False, note="本地假日", today=TODAY)
    listed = {d.override.day: d for d in workdays.own_days_for(s, admin, tiandong)}
    assert listed[dt.date(2026, 10, 10)].same_as_national  # the Saturday worked after National Day
    assert listed[dt.date(2026, 10, 12)].national is True and not listed[dt.date(2026, 10, 12)].same_as_national


def test_bad_days_are_refused_with_every_reason_and_nothing_is_written(system_session: Session, cast: Any,
                                                                      principal_of: Any) -> None:
    s = system_session
    admin = principal_of(s, "tiandong_admin")
    tiandong = _tenant(s, cast.tenant.tiandong)
    with pytest.raises(ValidationFailed) as caught:
        workdays.add_own_day(s, admin, tiandong, day=None, working=None, note="长" * 101, today=TODAY)
    assert set(caught.value.errors) == {"day", "working", "note"}
    with pytest.raises(ValidationFailed) as caught:
        workdays.add_own_day(s, admin, tiandong, day=dt.date(2062, 10, 1), working=False, note="", today=TODAY)
    assert set(caught.value.errors) == {"day"}
    workdays.add_own_day(s, admin, tiandong, day=dt.date(LATER, 1, 1), working=False, note="元旦", today=TODAY)
    with pytest.raises(ValidationFailed) as caught:
        workdays.add_own_day(s, admin, tiandong, day=dt.date(LATER, 1, 1), working=True, note="", today=TODAY)
    assert caught.value.errors["day"].msgid.startswith("This day is in the list already")
    set_scope(s, Scope.system())
    assert s.scalar(select(func.count()).select_from(WorkdayOverride)
                    .where(WorkdayOverride.tenant_id == tiandong.id)) == 1


def test_only_the_tenants_managers_keep_its_days(system_session: Session, cast: Any, principal_of: Any) -> None:
    s = system_session
    tiandong = _tenant(s, cast.tenant.tiandong)
    row = workdays.add_own_day(s, principal_of(s, "tiandong_admin"), tiandong, day=dt.date(LATER, 5, 3),
                               working=False, note="", today=TODAY)
    # The county's leader may not; another county's office does not even see the congress.
    for who, refusal in (("tiandong_leader", AccessDenied), ("pingguo_admin", NotFound)):
        actor = principal_of(s, who)
        with pytest.raises(refusal):
            workdays.own_days_for(s, actor, tiandong)
        with pytest.raises(refusal):
            workdays.add_own_day(s, actor, tiandong, day=dt.date(LATER, 5, 4), working=False, note="", today=TODAY)
        with pytest.raises(refusal):
            workdays.remove_own_day(s, actor, tiandong, row.id)
    # Pingguo's office, on its own congress, finds no such day: another tenant's id tells it nothing.
    pingguo_admin = principal_of(s, "pingguo_admin")
    with pytest.raises(NotFound):
        workdays.remove_own_day(s, pingguo_admin, _tenant(s, cast.tenant.pingguo), row.id)
    set_scope(s, Scope.system())
    assert s.get(WorkdayOverride, row.id) is not None


def _one_day_each(s: Session, cast: Any, principal_of: Any) -> tuple[int, int]:
    a = workdays.add_own_day(s, principal_of(s, "tiandong_admin"), _tenant(s, cast.tenant.tiandong),
                             day=dt.date(LATER, 6, 1), working=False, note="", today=TODAY)
    b = workdays.add_own_day(s, principal_of(s, "pingguo_admin"), _tenant(s, cast.tenant.pingguo),
                             day=dt.date(LATER, 6, 1), working=True, note="", today=TODAY)
    s.flush()
    return a.id, b.id


def test_another_tenants_days_are_invisible_through_the_orm(open_session: Any, superuser_db: Database,
                                                            cast: Any, principal_of: Any) -> None:
    """On PostgreSQL through a superuser connection, so the ORM filter alone does the work."""
    s = open_session(Scope.system(), database=superuser_db)
    a, b = _one_day_each(s, cast, principal_of)
    set_scope(s, Scope(tenant_ids=frozenset({cast.tenant.tiandong})))
    ids = set(s.scalars(select(WorkdayOverride.id)))
    assert a in ids and b not in ids
    assert s.get(WorkdayOverride, b) is None
    assert workdays.calendar_for(s, cast.tenant.pingguo).overrides == {}


@pytest.mark.postgres
def test_row_level_security_confines_raw_sql_on_the_days(open_session: Any, cast: Any, principal_of: Any) -> None:
    s = open_session(Scope.system())
    _, b = _one_day_each(s, cast, principal_of)
    set_scope(s, Scope(tenant_ids=frozenset({cast.tenant.tiandong})))
    seen = set(s.execute(text("SELECT DISTINCT tenant_id FROM workday_overrides")).scalars())
    assert seen == {cast.tenant.tiandong}
    assert s.execute(text("SELECT count(*) FROM workday_overrides WHERE id = :b"), {"b": b}).scalar_one() == 0
