"""Deadlines, shared by every workflow that has them (suggestions, opinions, projects).

Calendar months follow the law's wording ("三个月内"): the same day of the month, or the month's
last day when it has none. Working days skip Saturdays and Sundays; public holidays and the
weekend days worked in their place are not modelled yet. Colours follow the red/yellow/green
supervision of the seeds: red past the deadline, yellow within the near-due window, green otherwise.
"""

from __future__ import annotations

import calendar
import datetime as dt
from enum import StrEnum


class Colour(StrEnum):
    RED = "red"  # 超期
    YELLOW = "yellow"  # 临期
    GREEN = "green"  # 正常
    NONE = "none"  # no running deadline (done, or not yet assigned)


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_working_days(day: dt.date, days: int) -> dt.date:
    current = day
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end is not later)."""
    count, current = 0, start
    while current < end:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            count += 1
    return count


def colour(deadline: dt.date | None, today: dt.date, near_due_days: int) -> Colour:
    if deadline is None:
        return Colour.NONE
    if today > deadline:
        return Colour.RED
    if (deadline - today).days <= near_due_days:
        return Colour.YELLOW
    return Colour.GREEN
