"""Deadlines by the law's months and by China's working days; red, yellow and green, in Python and SQL alike."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Date, literal, select
from sqlalchemy.orm import Session

from renda.platform.deadlines import (
    Colour,
    add_months,
    add_working_days,
    colour,
    colour_sql,
    is_overdue,
    near_horizon,
    overdue_sql,
    working_days_between,
)
from renda.platform.workdays.calendar import COVERED_YEARS, NATIONAL, WorkCalendar, package_name


@pytest.mark.parametrize("start, months, end", [
    (dt.date(2026, 3, 15), 3, dt.date(2026, 6, 15)),
    (dt.date(2026, 11, 30), 3, dt.date(2027, 2, 28)),   # no 30 February: the month's last day
    (dt.date(2027, 11, 30), 3, dt.date(2028, 2, 29)),   # leap year
    (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
    (dt.date(2026, 8, 31), 6, dt.date(2027, 2, 28)),
])
def test_calendar_months(start: dt.date, months: int, end: dt.date) -> None:
    assert add_months(start, months) == end


def test_working_days_skip_weekends() -> None:
    friday = dt.date(2026, 11, 20)
    assert add_working_days(friday, 1) == dt.date(2026, 11, 23)  # Monday
    assert add_working_days(friday, 15) == dt.date(2026, 12, 11)
    assert working_days_between(friday, dt.date(2026, 12, 11)) == 15


def test_the_national_day_week_of_2026_is_off_and_the_saturday_after_it_is_worked() -> None:
    # 2026: 1–7 October off (Thursday to Wednesday); Sunday 20 September and Saturday 10 October worked.
    assert [NATIONAL.is_working_day(dt.date(2026, 10, d)) for d in range(1, 11)] == [
        False, False, False, False, False, False, False, True, True, True]
    assert NATIONAL.is_working_day(dt.date(2026, 9, 20))  # a Sunday, worked in the holiday's place
    assert package_name(dt.date(2026, 10, 10)) == "National Day"
    wednesday_before = dt.date(2026, 9, 30)
    assert add_working_days(wednesday_before, 1) == dt.date(2026, 10, 8)
    assert add_working_days(wednesday_before, 3) == dt.date(2026, 10, 10)  # Thursday, Friday, then Saturday
    assert working_days_between(wednesday_before, dt.date(2026, 10, 12)) == 4  # 8, 9, 10 and 12 October


def test_the_spring_festival_of_2025_with_its_two_worked_weekend_days() -> None:
    # 2025: 28 January – 4 February off; Sunday 26 January and Saturday 8 February worked.
    assert NATIONAL.is_working_day(dt.date(2025, 1, 26))
    assert not any(NATIONAL.is_working_day(dt.date(2025, 1, 28) + dt.timedelta(days=i)) for i in range(8))
    assert NATIONAL.is_working_day(dt.date(2025, 2, 8))
    # 26 and 27 January; 5, 6, 7 and 8 (a Saturday) February, and Monday 10 February.
    assert working_days_between(dt.date(2025, 1, 24), dt.date(2025, 2, 10)) == 7
    assert add_working_days(dt.date(2025, 1, 27), 1) == dt.date(2025, 2, 5)


def test_a_year_the_package_does_not_know_counts_monday_to_friday_until_the_tenant_says_otherwise() -> None:
    first = dt.date(max(COVERED_YEARS) + 1, 3, 1)
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    saturday = monday + dt.timedelta(days=5)
    assert NATIONAL.is_working_day(monday) and not NATIONAL.is_working_day(saturday)
    own = WorkCalendar({monday: False, saturday: True})
    assert not own.is_working_day(monday) and own.is_working_day(saturday)
    assert working_days_between(monday - dt.timedelta(days=1), saturday, own) == 5  # Tuesday to Saturday


def test_a_tenants_own_day_wins_over_the_package() -> None:
    guangxi = WorkCalendar({dt.date(2026, 4, 20): False})  # e.g. a regional festival on a Monday
    assert NATIONAL.is_working_day(dt.date(2026, 4, 20))
    assert not guangxi.is_working_day(dt.date(2026, 4, 20))
    assert add_working_days(dt.date(2026, 4, 17), 1, guangxi) == dt.date(2026, 4, 21)


@pytest.mark.parametrize("deadline, today, expected", [
    (dt.date(2026, 12, 31), dt.date(2026, 12, 1), Colour.GREEN),
    (dt.date(2026, 12, 31), dt.date(2026, 12, 15), Colour.GREEN),    # 16 days left
    (dt.date(2026, 12, 31), dt.date(2026, 12, 16), Colour.YELLOW),   # exactly 15 days left
    (dt.date(2026, 12, 31), dt.date(2026, 12, 31), Colour.YELLOW),   # due today, not yet late
    (dt.date(2026, 12, 31), dt.date(2027, 1, 1), Colour.RED),
    (None, dt.date(2027, 1, 1), Colour.NONE),
])
def test_colours(deadline: dt.date | None, today: dt.date, expected: Colour) -> None:
    assert colour(deadline, today, near_due_days=15) == expected


def test_overdue_and_the_horizon_follow_the_colours() -> None:
    today = dt.date(2026, 12, 16)
    assert is_overdue(dt.date(2026, 12, 15), today) and not is_overdue(today, today)
    assert near_horizon(today, 15) == dt.date(2026, 12, 31)
    assert colour(near_horizon(today, 15), today, 15) == Colour.YELLOW
    assert colour(near_horizon(today, 15) + dt.timedelta(days=1), today, 15) == Colour.GREEN


def test_the_database_colours_every_deadline_as_python_does(system_session: Session) -> None:
    """The SQL expression and the Python rule are read off one definition: they agree day by day."""
    today = dt.date(2026, 10, 1)
    deadlines = [today + dt.timedelta(days=offset) for offset in range(-3, 20)]
    for near in (0, 1, 7, 15):
        columns = [colour_sql(literal(d, Date), today, near) for d in deadlines]
        in_sql = system_session.execute(select(*columns)).one()
        assert [Colour(c) for c in in_sql] == [colour(d, today, near) for d in deadlines], near
    overdue = system_session.execute(select(*[overdue_sql(literal(d, Date), today) for d in deadlines])).one()
    assert [bool(o) for o in overdue] == [is_overdue(d, today) for d in deadlines]
    stopped = literal(False)
    assert system_session.execute(select(colour_sql(literal(today, Date), today, 15, running=stopped))).scalar() \
        == Colour.NONE
    assert system_session.execute(select(colour_sql(literal(None, Date), today, 15))).scalar() == Colour.NONE
