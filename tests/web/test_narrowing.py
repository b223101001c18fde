"""A page of one tenant shows that tenant alone, whoever looks: the scope is narrowed to the URL's tenant.

A city's office sees its counties; on one county's pages it must see that county only, on every list,
board, figure and export — and the proof must not rest on each query remembering its own filter. The
city's views across its counties widen again, explicitly.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform.audit import record as audit_record
from renda.platform.db import Database, Scope
from renda.platform.identity import service as identity
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy import service as tenancy
from renda.platform.tenancy.models import OrgUnit, Tenant
from renda.tenants.deputies.models import Deputy
from renda.tenants.suggestions.models import Suggestion
from renda.web.routes.suggestions.api import router as api_router

PASSWORD = "narrow-pass-2026"


def _plant(session: Session, admin: Any, tenant: Tenant, root: OrgUnit, marker: str) -> None:
    """A deputy, a handling unit, a township, a submitted and an assigned suggestion, an audit entry."""
    unit = tenancy.create_handling_unit(session, admin, tenant, name=f"{marker}局")
    town = tenancy.add_org_unit(session, admin, tenant, parent_id=root.id, kind="township", name=f"{marker}镇")
    deputy = Deputy(tenant_id=tenant.id, name=f"{marker}代表", level="county", term=17, org_unit_id=town.id)
    session.add(deputy)
    session.flush()
    series = f"t17-n{secrets.token_hex(3)}"  # numbers are unique per series
    assigned = {"lead_unit_id": unit.id, "deadline": dt.date.today() + dt.timedelta(days=5)}
    for number, (state, extra) in enumerate((("submitted", {}), ("assigned", assigned)), start=1):
        session.add(Suggestion(tenant_id=tenant.id, series=series, term=17, session_no=1, number=number,
                               title=f"{marker}建议{state}", content=f"{marker}的内容", state=state,
                               lead_deputy_id=deputy.id, org_unit_id=root.id, **extra))
    audit_record(session, tenant_id=tenant.id, actor_id=None, action="test.plant", object_type="marker",
                 object_id=marker, after={"marker": marker})


@pytest.fixture(scope="module")
def planted(db: Database, cast: Any) -> dict[str, Any]:
    """Markers in Tiandong and Pingguo, and a city office account that may sign in."""
    markers = {"tiandong": f"田东标记{secrets.token_hex(2)}", "pingguo": f"平果标记{secrets.token_hex(2)}"}
    with db.session(Scope.system()) as session:
        admin = load_principal(session, cast.user.platform_admin)
        for name, marker in markers.items():
            tenant = session.get(Tenant, getattr(cast.tenant, name))
            assert tenant is not None
            root = session.get(OrgUnit, tenant.root_org_unit_id)
            assert root is not None
            _plant(session, admin, tenant, root, marker)
        city = session.get(Tenant, cast.tenant.city)
        assert city is not None
        user = identity.create_user(session, None, city, username=f"city-narrow-{secrets.token_hex(3)}",
                                    display_name="百色市人大办公室", password=PASSWORD)
        identity.grant_role(session, None, city, user, role="congress_admin", org_unit_id=city.root_org_unit_id)
        username = user.username
    return {"markers": markers, "username": username}


def _pages(slug: str) -> list[str]:
    base = f"/t/{slug}"
    return [f"{base}/", f"{base}/deputies", f"{base}/org", f"{base}/units", f"{base}/users", f"{base}/audit",
            f"{base}/suggestions", f"{base}/suggestions/board", f"{base}/suggestions/board?state=assigned",
            f"{base}/suggestions/figures", f"{base}/suggestions/figures?by=place",
            f"{base}/suggestions/figures?by=congress", f"/api/v1/t/{slug}/suggestions"]


def _exports(slug: str) -> list[str]:
    return [f"/t/{slug}/suggestions/board.xlsx", f"/t/{slug}/suggestions/figures.xlsx"]


def _sheet_text(content: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for cell in row if cell is not None)


def test_a_city_office_on_a_county_page_sees_that_county_alone(
        login: Callable[..., Any], cast: Any, planted: dict[str, Any]) -> None:
    client = login(planted["username"], PASSWORD)
    own, other = planted["markers"]["tiandong"], planted["markers"]["pingguo"]
    for url in _pages(cast.slug.tiandong):
        response = client.get(url)
        assert response.status_code == 200, url
        assert other not in response.text, url
    for url in _exports(cast.slug.tiandong):
        response = client.get(url)
        assert response.status_code == 200, url
        assert other not in _sheet_text(response.content), url
    # The same pages of Pingguo show Pingguo's rows: the test can see a leak where there is one.
    seen = [url for url in _pages(cast.slug.pingguo) if other in client.get(url).text]
    assert f"/t/{cast.slug.pingguo}/suggestions/board" in seen and f"/t/{cast.slug.pingguo}/deputies" in seen
    assert own not in client.get(f"/t/{cast.slug.pingguo}/suggestions/board").text


def test_the_city_views_across_its_counties_widen_explicitly(
        login: Callable[..., Any], cast: Any, planted: dict[str, Any]) -> None:
    client = login(planted["username"], PASSWORD)
    figures = client.get(f"/t/{cast.slug.baise}/suggestions/figures?by=congress")
    assert figures.status_code == 200
    assert "田东县人大常委会" in figures.text and "平果市人大常委会" in figures.text
    home = client.get(f"/t/{cast.slug.baise}/")
    assert "田东县人大常委会" in home.text and "平果市人大常委会" in home.text


def test_a_narrowed_scope_confines_a_query_that_forgets_its_tenant(
        open_session: Callable[..., Session], cast: Any, planted: dict[str, Any]) -> None:
    """No filter by tenant in the query: the scope alone keeps Pingguo's rows out (ORM filter, and RLS)."""
    wide = Scope(tenant_ids=frozenset({cast.tenant.city, cast.tenant.tiandong, cast.tenant.pingguo}))
    narrow = wide.narrowed_to(cast.tenant.tiandong)
    session = open_session(narrow)
    titles = session.scalars(select(Suggestion.title)).all()
    assert any(planted["markers"]["tiandong"] in t for t in titles)
    assert not any(planted["markers"]["pingguo"] in t for t in titles)
    assert {t for (t,) in session.execute(select(Deputy.tenant_id)).all()} == {cast.tenant.tiandong}


def test_narrowing_never_widens_and_keeps_only_the_tenants_joint_stations(cast: Any) -> None:
    county = Scope(tenant_ids=frozenset({cast.tenant.tiandong}), joint_station_ids=frozenset({cast.joint_station}),
                   user_id=7)
    assert county.narrowed_to(cast.tenant.pingguo, {cast.joint_station}) == Scope(
        joint_station_ids=frozenset({cast.joint_station}), user_id=7)
    assert county.narrowed_to(cast.tenant.tiandong) == Scope(tenant_ids=frozenset({cast.tenant.tiandong}), user_id=7)
    assert Scope.system().narrowed_to(cast.tenant.longan, {cast.joint_station}) == Scope(
        tenant_ids=frozenset({cast.tenant.longan}), joint_station_ids=frozenset({cast.joint_station}))


assert api_router  # the API's list is among the pages checked above
