"""Every time a page shows goes through one filter, in the deployment's zone, whatever the host's zone."""

from __future__ import annotations

import datetime as dt

from renda.web.render import env


def show(template: str, **values: object) -> str:
    return env.from_string(template).render(**values)


def test_a_stored_moment_is_shown_in_beijing_time() -> None:
    late_evening_utc = dt.datetime(2026, 9, 30, 16, 30, tzinfo=dt.UTC)  # 00:30 on 1 October in Beijing
    assert show("{{ t|local_time }}", t=late_evening_utc) == "2026-10-01 00:30"
    assert show('{{ t|local_time("%Y-%m-%d") }}', t=late_evening_utc) == "2026-10-01"


def test_sqlites_naive_moments_are_utc_and_a_missing_one_shows_nothing() -> None:
    assert show("{{ t|local_time }}", t=dt.datetime(2026, 9, 30, 16, 30)) == "2026-10-01 00:30"
    assert show('{{ t|local_time or "—" }}', t=None) == "—"
