"""The one deadline sweep over a source of its own (milestones from a VALUES list, no congress table):
colours by the platform's rule, recipients by role where the row says, once per round and colour."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Date, Integer, String, false, literal, select, union_all
from sqlalchemy.orm import Session

from renda.platform import deadline_sweep
from renda.platform.db import Scope, set_scope
from renda.platform.deadline_sweep import DeadlineSource, Notice
from renda.platform.errors import N_
from renda.platform.identity import service as identity
from renda.platform.notify.models import Notification, Subject
from renda.platform.tenancy import settings as tenant_settings
from renda.platform.tenancy.models import Tenant, TenantSetting
from renda.web.modules import install_modules

TODAY = dt.date(2026, 9, 28)
NEAR = "test_milestone_near_due_days"


@pytest.fixture
def near_due_setting() -> Iterator[str]:
    """A near-due window of five days, registered for these tests only (the settings page lists the rest)."""
    tenant_settings.register(tenant_settings.SettingSpec(NEAR, "int", 5, "Near-due window"))
    yield NEAR
    tenant_settings.REGISTRY.pop(NEAR, None)


COLUMNS = (("id", Integer), ("tenant_id", Integer), ("round", Integer), ("deadline", Date),
           ("handling_unit_id", Integer), ("org_unit_id", Integer), ("supervisor_user_id", Integer), ("name", String))


def milestones(rows: list[tuple[Any, ...]]) -> DeadlineSource:
    """A source whose rows are literals (a UNION ALL of one-row selects: SQLite has no VALUES … AS t(columns))."""
    selects = [select(*[literal(value, kind).label(name) for (name, kind), value in zip(COLUMNS, row, strict=True)])
               for row in rows] or [select(*[literal(None, kind).label(name) for name, kind in COLUMNS]).where(false())]
    table = (union_all(*selects) if len(selects) > 1 else selects[0]).subquery("milestones")
    return DeadlineSource(
        subject_type=f"milestone_{secrets.token_hex(3)}",  # its own dedupe keys in the shared database
        due=lambda last_day: select(table).where(table.c.deadline <= last_day),
        near_due_setting=NEAR, responsible_role="station_staff", escalation_role="congress_admin",
        due_soon=Notice("milestone.due_soon", N_("Milestone %(name)s is due on %(deadline)s"), ""),
        overdue=Notice("milestone.overdue", N_("Milestone %(name)s is overdue"), ""),
    )


def told(session: Session, source: DeadlineSource) -> dict[tuple[int, str], set[int]]:
    """Who was told what, by milestone and kind."""
    out: dict[tuple[int, str], set[int]] = {}
    for n in session.scalars(select(Notification).where(Notification.subject_type == source.subject_type)):
        assert n.subject is not None and n.dedupe_key and n.dedupe_key.startswith(f"{source.subject_type}:")
        out.setdefault((n.subject.id, n.kind), set()).add(n.user_id)
    return out


@pytest.mark.usefixtures("near_due_setting")
def test_yellow_tells_who_answers_for_the_row_and_red_adds_the_office_and_the_supervisor(
        system_session: Session, cast: Any) -> None:
    s = system_session
    station, leader = cast.org.pingma_station, cast.user.tiandong_leader
    t = cast.tenant.tiandong
    source = milestones([
        (1, t, 1, TODAY + dt.timedelta(days=10), None, station, leader, "green"),
        (2, t, 1, TODAY + dt.timedelta(days=5), None, station, leader, "yellow"),
        (3, t, 1, TODAY - dt.timedelta(days=1), None, station, leader, "red"),
        (4, t, 1, TODAY, cast.unit.tiandong_transport, None, None, "due today"),
    ])
    result = deadline_sweep.sweep(s, TODAY, only=[source])
    got = told(s, source)
    assert (1, "milestone.due_soon") not in got and (1, "milestone.overdue") not in got
    assert got[(2, "milestone.due_soon")] == {cast.user.tiandong_staff}  # not the township chair above it
    assert got[(3, "milestone.overdue")] >= {cast.user.tiandong_staff, cast.user.tiandong_admin, leader}
    assert cast.user.city_admin not in got[(3, "milestone.overdue")]  # a city's office is not a county's
    assert (4, "milestone.due_soon") not in got  # the unit's handlers hold another role than the source names
    assert result.escalated == len(got[(3, "milestone.overdue")])
    note = s.scalars(select(Notification).where(Notification.subject_type == source.subject_type,
                                                Notification.subject_id == 2)).one()
    assert note.subject == Subject(source.subject_type, 2) and note.link is None
    assert note.params == {"deadline": (TODAY + dt.timedelta(days=5)).isoformat(), "name": "yellow"}


@pytest.mark.usefixtures("near_due_setting")
def test_each_round_and_colour_is_told_once(system_session: Session, cast: Any) -> None:
    s = system_session
    t, station = cast.tenant.tiandong, cast.org.pingma_station
    first = milestones([(7, t, 1, TODAY + dt.timedelta(days=2), None, station, None, "m")])
    assert deadline_sweep.sweep(s, TODAY, only=[first]).reminded == 1
    assert deadline_sweep.sweep(s, TODAY + dt.timedelta(days=1), only=[first]).reminded == 0
    again = DeadlineSource(**{**first.__dict__, "due": milestones(
        [(7, t, 2, TODAY + dt.timedelta(days=4), None, station, None, "m")]).due})  # set again: round 2
    assert deadline_sweep.sweep(s, TODAY, only=[again]).reminded == 1
    assert deadline_sweep.sweep(s, TODAY + dt.timedelta(days=5), only=[again]).escalated >= 2


@pytest.mark.usefixtures("near_due_setting")
def test_a_tenants_own_window_and_inactive_accounts(system_session: Session, cast: Any) -> None:
    s = system_session
    pingguo = s.get_one(Tenant, cast.tenant.pingguo)
    s.add(TenantSetting(tenant_id=pingguo.id, key=NEAR, value={"v": 1}))
    staff = []
    for name in ("在岗", "已离职"):
        user = identity.create_user(s, None, pingguo, username=f"staff-{secrets.token_hex(3)}", display_name=name,
                                    password=None)
        identity.grant_role(s, None, pingguo, user, role="station_staff", org_unit_id=cast.org.xinan_station)
        staff.append(user)
    present, gone = staff
    gone.active = False
    s.flush()
    set_scope(s, Scope.system())
    source = milestones([(9, pingguo.id, 1, TODAY + dt.timedelta(days=3), None, cast.org.xinan_station, None, "m"),
                         (10, pingguo.id, 1, TODAY + dt.timedelta(days=1), None, cast.org.xinan_station, None, "n")])
    deadline_sweep.sweep(s, TODAY, only=[source])
    got = told(s, source)
    assert (9, "milestone.due_soon") not in got  # three days out is still green with a one-day window
    assert got[(10, "milestone.due_soon")] == {present.id}  # not the account that was switched off


def test_a_subject_type_has_one_source() -> None:
    one = milestones([])
    deadline_sweep.register(one)
    try:
        assert deadline_sweep.register(one) is one  # declaring it again is harmless
        with pytest.raises(ValueError, match="another deadline source"):
            deadline_sweep.register(DeadlineSource(**{**one.__dict__, "escalation_role": "other"}))
    finally:
        deadline_sweep._SOURCES.pop(one.subject_type, None)


def test_every_source_of_deadlines_in_the_code_is_declared_by_an_installed_module() -> None:
    """A source no module declares would never be swept (the module list is the one place, tests/test_modules.py)."""
    install_modules()
    found = set()
    for package in ("renda.platform", "renda.tenants"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            found |= {v for v in vars(importlib.import_module(info.name)).values() if isinstance(v, DeadlineSource)}
    assert found, "the walk found no source at all"
    assert found <= set(deadline_sweep.sources())
