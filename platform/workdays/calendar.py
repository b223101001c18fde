"""Which days are working days: a pure calendar, read off the chinese-calendar package and a tenant's overrides.

The State Council announces each year's holidays and the weekend days worked in their place (调休)
late in the year before; the package carries the announced years. For a day it does not know yet
(a year not announced when it was released) the calendar falls back to Monday to Friday, unless the
tenant's staff have entered the day themselves: their entry wins over the package too (e.g. a
regional holiday such as Guangxi's 三月三).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import chinese_calendar

# The years the package knows, from its own table of holidays.
COVERED_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


def package_says(day: dt.date) -> bool | None:
    """Whether the package counts ``day`` as a working day; None for a year it does not know."""
    if day.year not in COVERED_YEARS:
        return None
    return bool(chinese_calendar.is_workday(day))


def package_name(day: dt.date) -> str | None:
    """The package's name for a holiday or an adjusted working day (e.g. "National Day"), if it has one."""
    if day.year not in COVERED_YEARS:
        return None
    _, name = chinese_calendar.get_holiday_detail(day)
    return str(name) if name else None


@dataclass(frozen=True)
class WorkCalendar:
    """Working days: the tenant's own days first, then the package, then Monday to Friday."""

    overrides: Mapping[dt.date, bool] = field(default_factory=lambda: MappingProxyType({}))  # day -> works

    def is_working_day(self, day: dt.date) -> bool:
        own = self.overrides.get(day)
        if own is not None:
            return own
        known = package_says(day)
        return known if known is not None else day.weekday() < 5


NATIONAL = WorkCalendar()  # the country's calendar, without any tenant's own days
