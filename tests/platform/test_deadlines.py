"""Deadlines by the law's months and by working days; red, yellow and green."""

from __future__ import annotations

import datetime as dt

import pytest

from renda.platform.deadlines import Colour, add_months, add_working_days, colour, working_days_between


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


@pytest.mark.parametrize("deadline, today, expected", [
    (dt.date(2026, 12, 31), dt.date(2026, 12, 1), Colour.GREEN),
    (dt.date(2026, 12, 31), dt.date(2026, 12, 16), Colour.YELLOW),   # exactly 15 days left
    (dt.date(2026, 12, 31), dt.date(2026, 12, 31), Colour.YELLOW),   # due today, not yet late
    (dt.date(2026, 12, 31), dt.date(2027, 1, 1), Colour.RED),
    (None, dt.date(2027, 1, 1), Colour.NONE),
])
def test_colours(deadline: dt.date | None, today: dt.date, expected: Colour) -> None:
    assert colour(deadline, today, near_due_days=15) == expected
