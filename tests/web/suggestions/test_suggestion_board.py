"""The board and the figures of deputy suggestions, and their Excel sheets, as the office of Tiandong and the
city see them."""

from __future__ import annotations

import datetime as dt
import io
import re
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from renda.platform import clock
from renda.platform.db import Database, Scope, set_scope
from renda.platform.identity import service as identity
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy.models import Tenant
from renda.tenants.suggestions import page_queries, service
from renda.tenants.suggestions.models import Suggestion

from suggestion_support import (
    ids,
    submitted,
    zh,
)
from web_support import count_statements

# --- the board --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def board(db: Database, cast: Any, world: SimpleNamespace) -> SimpleNamespace:
    """Nine assigned suggestions of this module's tag: three red (transport), two yellow (court), four green."""
    today = clock.today()
    with db.session(Scope.system()) as s:
        tiandong = s.get(Tenant, cast.tenant.tiandong)
        assert tiandong is not None
        plan = [("red", cast.unit.tiandong_transport)] * 3 + [("yellow", cast.unit.tiandong_court)] * 2 + [
            ("green", cast.unit.tiandong_transport)] * 4
        for i, (colour, unit) in enumerate(plan):
            deputy = load_principal(s, cast.user.tiandong_deputy)
            made = service.create_draft(s, deputy, tiandong, title=f"看板{world.tag}-{colour}-{i}", content="内容",
                                        category=f"类{world.tag}", term=17, session_no=None)
            made = service.submit(s, deputy, tiandong, made.id, version=made.version)
            admin = load_principal(s, cast.user.tiandong_admin)
            made = service.review(s, admin, tiandong, made.id, decision="accept", version=made.version)
            assigned_on = today - dt.timedelta(days=120) if colour == "red" else today
            deadline = {"red": today - dt.timedelta(days=10), "yellow": today + dt.timedelta(days=5),
                        "green": None}[colour]
            service.assign(s, admin, tiandong, made.id, lead_unit_id=unit, deadline=deadline, version=made.version,
                           today=assigned_on)
            set_scope(s, Scope.system())
    return SimpleNamespace(q=f"看板{world.tag}")


def test_the_board_filters_by_colour_and_unit_and_counts_each_colour(
        login: Any, cast: Any, world: SimpleNamespace, board: SimpleNamespace) -> None:
    admin = login(cast.username.tiandong_admin)
    everything = admin.get(f"{world.base}/board", params={"q": board.q})
    assert everything.status_code == 200 and len(ids(everything.text)) == 9
    for colour, n in (("red", 3), ("yellow", 2), ("green", 4)):
        assert re.search(rf'data-count="{colour}">{n}<', everything.text)
        only = admin.get(f"{world.base}/board", params={"q": board.q, "colour": colour})
        assert len(ids(only.text)) == n and set(re.findall(r'<tr id="row-\d+" data-id="\d+" data-colour="(\w+)"',
                                                           only.text)) == {colour}
    court = admin.get(f"{world.base}/board", params={"q": board.q, "unit": cast.unit.tiandong_court})
    assert len(ids(court.text)) == 2 and "田东县人民法院" in court.text
    red_transport = admin.get(f"{world.base}/board", params={"q": board.q, "unit": cast.unit.tiandong_transport,
                                                             "colour": "red", "series": "t17-between"})
    assert len(ids(red_transport.text)) == 3
    paged = admin.get(f"{world.base}/board", params={"q": board.q, "per_page": 4, "page": 3})
    assert len(ids(paged.text)) == 1 and zh("Page %(page)s of %(pages)s", page=3, pages=3) in paged.text

    partial = admin.get(f"{world.base}/board", params={"q": board.q, "colour": "red"},
                        headers={"HX-Request": "true", "HX-Target": "board-rows"})
    assert partial.status_code == 200 and "<html" not in partial.text and 'id="board-filters"' not in partial.text
    assert len(ids(partial.text)) == 3
    leader = login(cast.username.tiandong_leader)
    red_list = leader.get(world.base).text
    assert 'id="overdue"' in red_list and sum(f'id="red-{i}"' in red_list for i in ids(court.text)) == 0


def test_the_board_takes_a_fixed_number_of_statements_whatever_the_page_size(
        login: Any, cast: Any, world: SimpleNamespace, board: SimpleNamespace) -> None:
    """Sign-in, tenant and header badge cost the same on every page; the board's own part stays small."""
    admin = login(cast.username.tiandong_admin)
    totals, own = [], []
    for per_page in (1, 9, 50):
        with count_statements(admin) as seen:
            response = admin.get(f"{world.base}/board", params={"q": board.q, "colour": "", "per_page": per_page})
        assert response.status_code == 200 and len(ids(response.text)) == min(per_page, 9)
        totals.append(len(seen))
        own.append([s for s in seen if re.search(r"\b(suggestions|suggestion_\w+|deputies|handling_units|"
                                                 r"tenant_settings)\b", s)])
    assert totals[0] == totals[1] == totals[2], totals
    assert len(own[2]) == 4, own[2]  # the setting, rows, colour counts, the filters' lists (one UNION)
    assert totals[0] <= 10, totals  # with sign-in (scope, user and grants, directory), tenant root, badge
    with count_statements(admin) as seen:
        partial = admin.get(f"{world.base}/board", params={"q": board.q, "unit": cast.unit.tiandong_court,
                                                           "colour": "yellow"},
                            headers={"HX-Request": "true", "HX-Target": "board-rows"})
    assert len(ids(partial.text)) == 2 and len(seen) == totals[0] - 1  # no filter lists


def test_the_board_and_the_figures_export_to_excel(
        login: Any, cast: Any, world: SimpleNamespace, board: SimpleNamespace) -> None:
    admin = login(cast.username.tiandong_admin)
    sheet = admin.get(f"{world.base}/board.xlsx", params={"q": board.q, "colour": "red"})
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == zh("Number") and len(rows) == 4 and all(r[7] == zh("Overdue") for r in rows[1:])

    figures = admin.get(f"{world.base}/figures")
    assert figures.status_code == 200 and "田东县交通运输局" in figures.text and "data-chart=" in figures.text
    assert "/static/vendor/echarts.min.js" in figures.text
    assert "echarts.min.js" not in admin.get(f"{world.base}/board").text
    book = admin.get(f"{world.base}/figures.xlsx")
    table = list(openpyxl.load_workbook(io.BytesIO(book.content)).active.iter_rows(values_only=True))
    assert table[0][1] == zh("Handling unit") and any(r[1] == "田东县交通运输局" and r[6] >= 3 for r in table[1:])
    deputy = login(cast.username.tiandong_deputy)
    assert deputy.get(f"{world.base}/figures").status_code == 403
    assert deputy.get(f"{world.base}/board.xlsx").status_code == 403


def test_the_figures_add_up_by_congress_for_the_city_and_by_place_for_the_county(
        login: Any, cast: Any, db: Database, world: SimpleNamespace, board: SimpleNamespace) -> None:
    def received(tenant_id: int) -> int:
        with db.session(Scope.system()) as s:
            return s.scalar(select(func.count()).select_from(Suggestion).where(
                Suggestion.tenant_id == tenant_id, Suggestion.state.not_in(["draft", "discarded"]))) or 0

    def column(html: str, table: str, figure: str) -> dict[str, int]:
        body = html[html.index(f'id="{table}"'):]
        body = body[:body.index("</table>")]
        return {key: int(n) for key, n in re.findall(
            rf'<tr data-key="(\d+)">.*?data-figure="{figure}">(\d+)<', body, re.S)}

    admin = login(cast.username.tiandong_admin)
    ranking = admin.get(f"{world.base}/figures").text
    assert "?by=place" in ranking and "?by=congress" not in ranking  # one congress: nothing to compare it with
    county = admin.get(f"{world.base}/figures", params={"by": "place"}).text
    places = column(county, "by-place", "received")
    assert len(places) >= 1 and sum(places.values()) == received(cast.tenant.tiandong)
    assert zh("By place of the lead deputy") in county

    with db.session(Scope.system()) as s:
        city_tenant = s.get(Tenant, cast.tenant.city)
        assert city_tenant is not None
        identity.set_password(s, None, city_tenant, cast.user.city_admin, cast.password)
    city_admin = login(cast.username.city_admin)
    city = city_admin.get(f"/t/{cast.slug.baise}/suggestions/figures", params={"by": "congress"})
    assert city.status_code == 200, city.text
    congresses = column(city.text, "by-congress", "received")
    assert congresses[str(cast.tenant.tiandong)] == received(cast.tenant.tiandong)
    assert str(cast.tenant.nanning) not in congresses  # another city's county is not the city's to see
    book = city_admin.get(f"/t/{cast.slug.baise}/suggestions/figures.xlsx")
    sheets = openpyxl.load_workbook(io.BytesIO(book.content))
    assert sheets.sheetnames[1:] == [zh("By congress"), zh("By place")]
    rows = list(sheets[zh("By congress")].iter_rows(values_only=True))
    assert rows[0][:2] == (zh("Congress"), zh("Suggestions received"))
    assert ("田东县人大常委会", received(cast.tenant.tiandong)) in [r[:2] for r in rows[1:]]


def test_the_work_lists_show_their_first_rows_how_many_there_are_and_where_the_rest_are(
        login: Any, cast: Any, db: Database, world: SimpleNamespace, board: SimpleNamespace,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page_queries, "QUEUE_SHOWN", 1)
    deputy = login(cast.username.tiandong_deputy)
    for i in range(2):
        submitted(deputy, world, f"排队{world.tag}-{i}")
    with db.session(Scope.system()) as s:
        waiting = s.scalar(select(func.count()).select_from(Suggestion).where(
            Suggestion.tenant_id == cast.tenant.tiandong, Suggestion.state == "submitted")) or 0
        red = s.scalar(select(func.count()).select_from(Suggestion).where(
            Suggestion.tenant_id == cast.tenant.tiandong, Suggestion.state.in_(["assigned", "rehandling"]),
            Suggestion.deadline < clock.today())) or 0
    assert waiting >= 2 and red >= 3
    admin = login(cast.username.tiandong_admin)
    page = admin.get(world.base).text
    queue = page[page.index('id="review-queue"'):page.index('id="assign-queue"')]
    assert f"({waiting})" in queue and len(re.findall(r'<tr id="to-review-\d', queue)) == 1
    assert f'href="{world.base}/board?state=submitted"' in queue
    assert zh("The first %(shown)s of %(total)s are shown: see them all on the board") % {
        "shown": 1, "total": waiting} in queue
    leader = login(cast.username.tiandong_leader)
    watch = leader.get(world.base).text
    overdue = watch[watch.index('id="overdue"'):watch.index('id="key-suggestions"')]
    assert f"({red})" in overdue and len(re.findall(r'<tr id="red-\d', overdue)) == 1
    assert f'href="{world.base}/board?colour=red"' in overdue
