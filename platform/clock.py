"""The deployment's clock: "now" and "today" in its time zone (one setting, default Asia/Shanghai).

Deadlines are calendar dates in the congress's own time zone: a suggestion due on 30 June is late
from 1 July in Beijing, whatever zone the host runs in. Every "today" and every displayed time goes
through here; stored times stay in UTC.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from renda.platform.config import get_settings


@lru_cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone(name: str | None = None) -> ZoneInfo:
    """The deployment's time zone (``RENDA_TIMEZONE``), or the one named (a process given its settings)."""
    return _zone(name or get_settings().timezone)


def now() -> dt.datetime:
    """The current moment, aware, in the deployment's time zone."""
    return dt.datetime.now(zone())


def today() -> dt.date:
    """Today's date where the congress sits, not where the host's clock happens to be set."""
    return now().date()


def local(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored moment (UTC, or naive UTC from SQLite) in the deployment's time zone, for display."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone())


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar day a stored moment fell on where the congress sits."""
    converted = local(moment)
    assert converted is not None
    return converted.date()
