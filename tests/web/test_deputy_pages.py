"""The deputies pages as a county's congress staff use them: list and search, a deputy's page, the
edit form (errors, conflicts), linking an account, and the Excel import from upload to result.

Two counties of this module's own; the staff act through the pages, the tests check what they
would notice, and that refused or invalid requests change nothing.
"""

from __future__ import annotations

import io
import re
import secrets
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

import renda.tenants.deputies.models  # noqa: F401 - maps the deputies' tables for this run
from renda.platform.audit import AuditEntry
from renda.platform.db import Database, Scope, set_scope
from renda.platform.identity import service as identity
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy import service as tenancy
from renda.tenants.deputies import service
from renda.tenants.deputies.models import Deputy

from web_support import sign_in

PASSWORD = "deputy-pages-pass-1"


def _base(phone: str, **fields: Any) -> dict[str, Any]:
    return {"gender": "女", "ethnicity": "壮族", "level": "county", "term": "17", "electoral_unit": "平马镇第一选区",
            "delegation": "平马镇代表小组", "phone": phone, **fields}


@pytest.fixture(scope="module")
def world(db: Database) -> SimpleNamespace:
    """County A (two townships with a station each, 30 deputies, staff, a township chair) and county B."""
    tag = secrets.token_hex(3)
    with db.session(Scope.system()) as s:
        out: dict[str, Any] = {"tag": tag}
        for letter in ("a", "b"):
            tenant = tenancy.create_tenant(s, None, slug=f"dep-{tag}-{letter}", name=f"{letter}县人大常委会{tag}",
                                           code=None, parent=None, level="county")
            admin = identity.create_user(s, None, tenant, username=f"dep.{tag}.{letter}", display_name="县人大办公室",
                                         password=PASSWORD)
            identity.grant_role(s, None, tenant, admin, role="congress_admin", org_unit_id=tenant.root_org_unit_id)
            out[f"slug_{letter}"], out[f"tenant_{letter}"], out[f"admin_{letter}"] = tenant.slug, tenant, admin
        a, b = out.pop("tenant_a"), out.pop("tenant_b")
        s.flush()
        actor = load_principal(s, out["admin_a"].id)
        set_scope(s, Scope.system())
        assert a.root_org_unit_id and b.root_org_unit_id
        pingma = tenancy.add_org_unit(s, actor, a, parent_id=a.root_org_unit_id, kind="township", name="平马镇")
        shuoliang = tenancy.add_org_unit(s, actor, a, parent_id=a.root_org_unit_id, kind="township", name="朔良镇")
        station = tenancy.add_org_unit(s, actor, a, parent_id=pingma.id, kind="station", name="平马镇人大代表联络站")
        tenancy.add_org_unit(s, actor, a, parent_id=shuoliang.id, kind="station", name="朔良镇人大代表联络站")
        chair = identity.create_user(s, None, a, username=f"dep.{tag}.chair", display_name="平马镇人大主席",
                                     password=PASSWORD)
        identity.grant_role(s, None, a, chair, role="township_chair", org_unit_id=pingma.id)
        star = service.create_deputy(s, actor, a, org_unit_id=pingma.id, station_ids=[station.id],
                                     fields=_base("13807761234", name="黄秀英", id_code="A-001"))
        for i in range(2, 31):
            service.create_deputy(s, actor, a, org_unit_id=shuoliang.id, station_ids=[],
                                  fields=_base(f"139{i:08d}", name=f"朔良代表{i:02d}", term="16" if i > 25 else "17",
                                               electoral_unit="朔良镇第二选区", id_code=f"A-{i:03d}"))
        actor_b = load_principal(s, out["admin_b"].id)
        set_scope(s, Scope.system())
        other = service.create_deputy(s, actor_b, b, org_unit_id=b.root_org_unit_id, station_ids=[],
                                      fields=_base("13600000000", name="乙县代表甲"))
        return SimpleNamespace(
            **{k: v for k, v in out.items() if k.startswith("slug")}, tag=tag, pingma=pingma.id,
            shuoliang=shuoliang.id, station=station.id, star=star.id, other=other.id,
            admin=out["admin_a"].username, admin_b=out["admin_b"].username, chair=chair.username,
        )


def _login(client: TestClient, username: str) -> TestClient:
    return sign_in(client, username, PASSWORD)


@pytest.fixture
def admin(app_client: TestClient, world: SimpleNamespace) -> TestClient:
    return _login(app_client, world.admin)


def _post(client: TestClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return client.post(url, data={**(data or {}), "csrftoken": client.cookies["csrftoken"]},
                       follow_redirects=False, **kwargs)


def _deputy(db: Database, deputy_id: int) -> Deputy:
    with db.session(Scope.system()) as s:
        deputy = s.get(Deputy, deputy_id)
        assert deputy is not None
        s.expunge(deputy)
        return deputy


def _form(d: Deputy, **changes: Any) -> dict[str, Any]:
    values = {"version": str(d.version), "name": d.name, "gender": d.gender, "ethnicity": d.ethnicity,
              "birth_date": "", "level": d.level, "term": str(d.term), "electoral_unit": d.electoral_unit,
              "delegation": d.delegation, "professional_group": d.professional_group, "phone": d.phone,
              "email": d.email, "id_code": d.id_code or "", "org_unit_id": str(d.org_unit_id)}
    return {**values, **changes}


def _names(html: str) -> list[str]:
    return re.findall(r'<tr id="deputy-\d+"[^>]*>\s*<td><a [^>]*>([^<]+)</a>', html)


# --- list and search ----------------------------------------------------------------------------


def test_the_list_shows_the_countys_deputies_a_page_at_a_time(admin: TestClient, world: SimpleNamespace) -> None:
    t = f"/t/{world.slug_a}/deputies"
    page = admin.get(t)
    assert page.status_code == 200 and 'data-total="30"' in page.text
    assert len(_names(page.text)) == 25 and "乙县代表甲" not in page.text
    assert f'href="/t/{world.slug_a}/deputies"' in page.text  # the navigation entry
    second = admin.get(f"{t}?page=2")
    assert len(_names(second.text)) == 5
    assert set(_names(page.text)).isdisjoint(_names(second.text))


@pytest.mark.parametrize(("query", "expected"), [
    ("q=黄秀", ["黄秀英"]),  # by name
    ("q=平马镇第一", ["黄秀英"]),  # by electoral unit
    ("q=平马镇人大代表联络站", ["黄秀英"]),  # by station
    ("term=16", [f"朔良代表{i}" for i in range(26, 31)]),
    ("township={pingma}", ["黄秀英"]),
    ("level=township", []),
])
def test_search_and_filters_narrow_the_list(admin: TestClient, world: SimpleNamespace, query: str,
                                            expected: list[str]) -> None:
    page = admin.get(f"/t/{world.slug_a}/deputies?{query.format(pingma=world.pingma)}")
    assert page.status_code == 200
    assert sorted(_names(page.text)) == sorted(expected)


def test_an_htmx_search_gets_only_the_results(admin: TestClient, world: SimpleNamespace) -> None:
    response = admin.get(f"/t/{world.slug_a}/deputies?q=朔良代表0",
                         headers={"HX-Request": "true", "HX-Target": "deputy-results"})
    assert response.status_code == 200 and "<html" not in response.text and "<form" not in response.text
    assert len(_names(response.text)) == 8  # 朔良代表02 … 09


def test_the_list_renders_in_a_fixed_number_of_statements(admin: TestClient, world: SimpleNamespace) -> None:
    engine = admin.app.state.db.engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert admin.get(f"/t/{world.slug_a}/deputies").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    deputy_statements = [s for s in seen if "deputies" in s or "deputy_stations" in s]
    assert len(deputy_statements) <= 4, deputy_statements  # count, page, stations, terms: not one per row


# --- a deputy's page ----------------------------------------------------------------------------


def test_staff_see_the_full_phone_and_others_a_masked_one(app_client: TestClient, world: SimpleNamespace) -> None:
    url = f"/t/{world.slug_a}/deputies/{world.star}"
    staff = _login(app_client, world.admin).get(url)
    assert staff.status_code == 200 and "13807761234" in staff.text and "平马镇人大代表联络站" in staff.text
    assert f"{url}/edit" in staff.text
    app_client.cookies.clear()
    chair = _login(app_client, world.chair).get(url)
    assert chair.status_code == 200 and "138****1234" in chair.text and "13807761234" not in chair.text
    assert f"{url}/edit" not in chair.text
    assert app_client.get(f"{url}/edit").status_code == 403


def test_another_countys_deputy_is_not_found(app_client: TestClient, world: SimpleNamespace) -> None:
    client = _login(app_client, world.admin_b)
    assert client.get(f"/t/{world.slug_b}/deputies/{world.star}").status_code == 404
    assert client.get(f"/t/{world.slug_a}/deputies/{world.star}").status_code == 403
    assert _post(client, f"/t/{world.slug_b}/deputies/{world.star}/deactivate").status_code == 404


# --- editing ------------------------------------------------------------------------------------


def test_an_edit_is_saved_audited_and_bumps_the_version(admin: TestClient, world: SimpleNamespace,
                                                        db: Database) -> None:
    d = _deputy(db, world.star)
    url = f"/t/{world.slug_a}/deputies/{d.id}/edit"
    assert admin.get(url).status_code == 200
    response = _post(admin, url, {**_form(d, professional_group="农业农村"), "stations": [str(world.station)]})
    assert response.status_code == 303, response.text
    after = _deputy(db, d.id)
    assert after.professional_group == "农业农村" and after.version == d.version + 1
    with db.session(Scope.system()) as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "deputy.update", AuditEntry.object_id == str(d.id))) >= 1


def test_an_invalid_edit_shows_its_errors_and_keeps_the_input(admin: TestClient, world: SimpleNamespace,
                                                              db: Database) -> None:
    d = _deputy(db, world.star)
    response = _post(admin, f"/t/{world.slug_a}/deputies/{d.id}/edit",
                     _form(d, name="", phone="12345", delegation="保留的输入"))
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text and "保留的输入" in response.text
    assert _deputy(db, d.id).version == d.version


def test_an_edit_of_a_stale_version_is_a_409_that_keeps_the_input(admin: TestClient, world: SimpleNamespace,
                                                                  db: Database) -> None:
    d = _deputy(db, world.star)
    response = _post(admin, f"/t/{world.slug_a}/deputies/{d.id}/edit",
                     _form(d, version=str(d.version - 1 if d.version > 1 else 99), delegation="过时的输入"))
    assert response.status_code == 409
    assert "过时的输入" in response.text and 'role="alert"' in response.text
    assert _deputy(db, d.id).delegation == d.delegation


def test_staff_add_a_deputy_and_link_an_account(admin: TestClient, world: SimpleNamespace, db: Database) -> None:
    response = _post(admin, f"/t/{world.slug_a}/deputies", _base("13711112222", name=f"新代表{world.tag}",
                     org_unit_id=str(world.pingma), stations=[str(world.station)]))
    assert response.status_code == 303, response.text
    deputy_id = int(response.headers["location"].split("/")[-1].split("?")[0])
    refused = _post(admin, f"/t/{world.slug_a}/deputies/{deputy_id}/account", {"username": "nobody-at-all"})
    assert refused.status_code == 422 and "nobody-at-all" in refused.text
    linked = _post(admin, f"/t/{world.slug_a}/deputies/{deputy_id}/account", {"username": world.chair})
    assert linked.status_code == 303
    assert world.chair in admin.get(f"/t/{world.slug_a}/deputies/{deputy_id}").text


# --- the import ---------------------------------------------------------------------------------


def _sheet(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["代表编号", "姓名", "届次", "所属乡镇", "联络站", "联系电话"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _upload(client: TestClient, slug: str, content: bytes, name: str = "名册.xlsx") -> Any:
    return client.post(f"/t/{slug}/deputies/import", files={"file": (name, content)},
                       headers={"x-csrftoken": client.cookies["csrftoken"]}, follow_redirects=False)


def test_import_previews_each_row_then_commits_them(admin: TestClient, world: SimpleNamespace, db: Database) -> None:
    tag = world.tag
    assert admin.get(f"/t/{world.slug_a}/deputies/import").status_code == 200
    content = _sheet([[f"I{tag}-1", f"导入甲{tag}", 17, "平马镇", "平马镇人大代表联络站", "13800000001"],
                      ["A-002", "朔良代表02", 17, "朔良镇", "", "13900000003"]])
    preview = _upload(admin, world.slug_a, content)
    assert preview.status_code == 200, preview.text
    assert re.findall(r'data-action="(\w+)"', preview.text) == ["create", "update"]
    token = re.search(r'action="/t/[^/]+/deputies/import/(\d+)/commit"', preview.text)
    assert token is not None
    result = _post(admin, f"/t/{world.slug_a}/deputies/import/{token[1]}/commit")
    assert result.status_code == 200 and "data-committed" in result.text
    with db.session(Scope.system()) as s:
        assert s.scalars(select(Deputy).where(Deputy.name == f"导入甲{tag}")).one().phone == "13800000001"
    again = _post(admin, f"/t/{world.slug_a}/deputies/import/{token[1]}/commit")
    assert re.findall(r'data-action="(\w+)"', again.text) == ["unchanged", "unchanged"]


def test_an_import_with_an_invalid_row_offers_no_commit_and_writes_nothing(admin: TestClient,
                                                                           world: SimpleNamespace) -> None:
    content = _sheet([[f"X{world.tag}-1", "无效行", 17, "不存在镇", "", "12345"]])
    preview = _upload(admin, world.slug_a, content)
    assert preview.status_code == 200 and 'data-action="invalid"' in preview.text
    assert "/commit" not in preview.text and "不存在镇" in preview.text
    assert 'data-row="2"' in preview.text  # numbered as Excel shows the row
    listing = admin.get(f"/t/{world.slug_a}/deputies?q=无效行")
    assert _names(listing.text) == []


def test_a_file_that_is_not_excel_gets_a_clear_message(admin: TestClient, world: SimpleNamespace) -> None:
    response = _upload(admin, world.slug_a, b"\x89PNG\r\n\x1a\n" + bytes(100), "photo.xlsx")
    assert response.status_code == 422 and "data-error" in response.text
    assert "Excel" in response.text


def test_the_import_is_for_staff_who_keep_deputies(app_client: TestClient, world: SimpleNamespace) -> None:
    chair = _login(app_client, world.chair)
    assert chair.get(f"/t/{world.slug_a}/deputies/import").status_code == 403
    assert _upload(chair, world.slug_a, _sheet([])).status_code == 403


def test_the_empty_sheet_offered_for_download_reads_back_as_a_sheet_without_rows(
        admin: TestClient, world: SimpleNamespace) -> None:
    template = admin.get(f"/t/{world.slug_a}/deputies/import/template.xlsx")
    assert template.status_code == 200 and "spreadsheetml" in template.headers["content-type"]
    header = next(openpyxl.load_workbook(io.BytesIO(template.content)).active.iter_rows(values_only=True))
    assert header[:3] == ("代表编号", "姓名", "性别")
    preview = _upload(admin, world.slug_a, template.content, "deputies.xlsx")
    assert preview.status_code == 200 and "data-action" not in preview.text and "/commit" not in preview.text
