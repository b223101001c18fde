"""Deadlines, shared by every workflow that has them (suggestions, opinions, projects).

Calendar months follow the law's wording ("三个月内"): the same day of the month, or the month's
last day when it has none. Working days follow China's calendar of public holidays and the weekend
days worked in their place, with a tenant's own days on top (``renda.platform.workdays``).

Colours follow the red/yellow/green supervision of the seeds: red past the deadline, yellow within
the near-due window, green otherwise. The rule is written once (:func:`_bands`); the Python test
(:func:`colour`) and the SQL expression (:func:`colour_sql`) are both read off it, so a page's chip,
a board's filter and the sweep can never disagree about a row.
"""

from __future__ import annotations

import calendar
import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, case, literal
from sqlalchemy.sql.elements import ColumnElement

from renda.platform.workdays.calendar import NATIONAL, WorkCalendar


class Colour(StrEnum):
    RED = "red"  # 超期
    YELLOW = "yellow"  # 临期
    GREEN = "green"  # 正常
    NONE = "none"  # no running deadline (done, or not yet assigned)


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_working_days(day: dt.date, days: int, workdays: WorkCalendar = NATIONAL) -> dt.date:
    """The ``days``-th working day after ``day`` (a tenant's calendar: workdays.calendar_for)."""
    current, remaining = day, days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if workdays.is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: dt.date, end: dt.date, workdays: WorkCalendar = NATIONAL) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end is not later)."""
    count, current = 0, start
    while current < end:
        current += dt.timedelta(days=1)
        if workdays.is_working_day(current):
            count += 1
    return count


# -- the colour rule --------------------------------------------------------------------------------

def _bands(today: dt.date, near_due_days: int) -> tuple[tuple[Colour, dt.date], ...]:
    """The colour rule: each colour with the first deadline that is no longer that colour, in order;
    a deadline past every band is green. Due today is yellow (not yet late); due on the window's last
    day is still yellow."""
    return (
        (Colour.RED, today),
        (Colour.YELLOW, today + dt.timedelta(days=near_due_days + 1)),
    )


def colour(deadline: dt.date | None, today: dt.date, near_due_days: int) -> Colour:
    """The colour of a running deadline (None: no deadline runs)."""
    if deadline is None:
        return Colour.NONE
    for shade, until in _bands(today, near_due_days):
        if deadline < until:
            return shade
    return Colour.GREEN


def colour_sql(deadline: Any, today: dt.date, near_due_days: int,
               running: ColumnElement[bool] | None = None) -> ColumnElement[str]:
    """:func:`colour` as a SQL expression over a deadline column: 'red' / 'yellow' / 'green' / 'none'.

    ``running`` says in SQL when the row's deadline runs at all (e.g. the suggestion is still open);
    without it, every row with a deadline has a colour.
    """
    runs = deadline.is_not(None) if running is None else and_(running, deadline.is_not(None))
    return case(
        *[(and_(runs, deadline < until), literal(shade.value)) for shade, until in _bands(today, near_due_days)],
        (runs, literal(Colour.GREEN.value)),
        else_=literal(Colour.NONE.value),
    )


def overdue_sql(deadline: Any, today: dt.date, running: ColumnElement[bool] | None = None) -> ColumnElement[bool]:
    """True in SQL where :func:`colour` says red (the figures' "overdue now")."""
    (shade, until), *_ = _bands(today, 0)
    assert shade is Colour.RED
    late = deadline < until
    return late if running is None else and_(running, late)


def is_overdue(deadline: dt.date | None, day: dt.date) -> bool:
    """Whether a deadline had passed on ``day`` (an answer given that day came late)."""
    return colour(deadline, day, 0) is Colour.RED


def near_horizon(today: dt.date, near_due_days: int) -> dt.date:
    """The latest deadline that has a colour other than green today (what a sweep must look at)."""
    return _bands(today, near_due_days)[-1][1] - dt.timedelta(days=1)
