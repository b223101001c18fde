"""One clock: "today" where the congress sits (one setting), and no other source of the date in the code."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from renda.platform import clock
from renda.platform.config import get_settings

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
# The host's date, the host's zone, or a zone written in the code instead of the setting.
HOST_TIME = re.compile(r"date\.today\(\)|datetime\.now\(\)|ZoneInfo\(|LOCAL_TIME|\.now\(tz=None\)"
                       r"|timezone\((dt\.)?timedelta\(hours")
# The clock itself; and the scaled demo's planner, which spreads its made-up times over Beijing office hours
# with a fixed UTC+8 of its own (left to the demo's owner).
NOT_YET = {"platform/clock.py", "tenants/demo_plans.py"}


@pytest.fixture
def timezone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The deployment set to Kiritimati (UTC+14): its date is not the host's for ten hours a day."""
    monkeypatch.setenv("RENDA_TIMEZONE", "Pacific/Kiritimati")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.usefixtures("timezone")
def test_today_and_now_follow_the_deployments_time_zone() -> None:
    zone = ZoneInfo("Pacific/Kiritimati")
    assert clock.zone() == zone
    before = dt.datetime.now(zone)
    now = clock.now()
    assert now.utcoffset() == dt.timedelta(hours=14)
    assert before.date() <= clock.today() <= dt.datetime.now(zone).date()
    assert clock.local(dt.datetime(2026, 9, 30, 10, 30)) == dt.datetime(2026, 10, 1, 0, 30, tzinfo=zone)
    assert clock.local_date(dt.datetime(2026, 9, 30, 10, 30, tzinfo=dt.UTC)) == dt.date(2026, 10, 1)


def test_the_default_zone_is_beijing_time() -> None:
    assert clock.zone() == ZoneInfo("Asia/Shanghai")
    assert clock.local(None) is None


def test_no_module_reads_the_hosts_date_or_names_a_zone_of_its_own() -> None:
    found = []
    for folder in ("platform", "tenants", "web"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            name = path.relative_to(REPO_ROOT).as_posix()
            if name in NOT_YET:
                continue
            found += [f"{name}:{n}" for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
                      if HOST_TIME.search(line)]
    assert found == [], "use renda.platform.clock (today(), now(), local()) instead"
