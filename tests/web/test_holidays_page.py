"""The congress's own holidays and working days, kept by its office from the settings pages."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from renda.platform.audit import AuditEntry
from renda.platform.db import Database, Scope
from renda.platform.workdays.calendar import COVERED_YEARS
from renda.platform.workdays.models import WorkdayOverride

from web_support import post_form


def in_english(client: TestClient) -> TestClient:
    client.cookies.set("renda_lang", "en")
    return client

LATER = max(COVERED_YEARS) + 1


@pytest.fixture
def clean(db: Database, cast: Any) -> Iterator[None]:
    """The page tests commit; what they leave in Tiandong's calendar goes afterwards."""
    yield
    with db.session(Scope.system()) as s:
        s.execute(delete(WorkdayOverride).where(WorkdayOverride.tenant_id == cast.tenant.tiandong))


@pytest.mark.usefixtures("clean")
def test_the_office_adds_a_day_sees_it_and_removes_it(login: Callable[..., TestClient], db: Database,
                                                     cast: Any) -> None:
    admin = in_english(login(cast.username.tiandong_admin))
    url = f"/t/{cast.slug.tiandong}/settings/holidays"
    with db.session(Scope.system()) as s:
        since = s.scalar(select(func.max(AuditEntry.id))) or 0  # SQLite reuses a removed row's id
    assert f'href="{url}"' in admin.get(f"/t/{cast.slug.tiandong}/settings").text
    page = admin.get(url)
    assert page.status_code == 200
    assert f"2004 to {LATER - 1}" in page.text and "No days of its own yet" in page.text
    response = post_form(admin, url, {"day": f"{LATER}-10-01", "kind": "off", "note": "国庆节"})
    assert response.status_code == 303
    page = admin.get(response.headers["location"]).text
    row = re.search(rf'<tr id="day-(\d+)" data-day="{LATER}-10-01" data-working="false">(.*?)</tr>', page, re.S)
    assert row is not None and "国庆节" in row.group(2) and "Day off" in row.group(2)
    assert "not known yet" in row.group(2)
    removed = post_form(admin, f"{url}/{row.group(1)}/remove")
    assert removed.status_code == 303
    assert f'data-day="{LATER}-10-01"' not in admin.get(url).text
    with db.session(Scope.system()) as s:
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "workday_overrides",
                                                                 AuditEntry.object_id == row.group(1),
                                                                 AuditEntry.id > since)))
    assert actions == ["workday.add", "workday.remove"]
    log = admin.get(f"/t/{cast.slug.tiandong}/audit").text
    assert "Own day added to the calendar" in log and "Own day removed from the calendar" in log


@pytest.mark.usefixtures("clean")
def test_a_bad_day_gets_a_message_and_changes_nothing(login: Callable[..., TestClient], db: Database,
                                                      cast: Any) -> None:
    admin = in_english(login(cast.username.tiandong_admin))
    url = f"/t/{cast.slug.tiandong}/settings/holidays"
    for data in ({"day": "2027-02-30", "kind": "off"}, {"day": "下周一", "kind": "worked"},
                 {"day": f"{LATER}-01-01", "kind": "sometimes"}, {"day": "99999-01-01", "kind": "off"}):
        response = post_form(admin, url, data)
        assert response.status_code == 422, data
        assert "Nothing was saved" in response.text and 'class="field-error"' in response.text
    assert post_form(admin, f"{url}/{2**40}/remove").status_code == 404
    assert post_form(admin, f"{url}/{10**30}/remove").status_code in (404, 422)
    with db.session(Scope.system()) as s:
        assert s.scalars(select(WorkdayOverride).where(WorkdayOverride.tenant_id == cast.tenant.tiandong)).all() == []


def test_a_deputy_may_not_open_the_calendar(login: Callable[..., TestClient], cast: Any) -> None:
    deputy = login(cast.username.tiandong_deputy)
    url = f"/t/{cast.slug.tiandong}/settings/holidays"
    assert deputy.get(url).status_code == 403
    assert post_form(deputy, url, {"day": f"{LATER}-10-01", "kind": "off"}).status_code == 403
