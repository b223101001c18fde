"""The administration pages: handling units, users and roles, settings and the audit log.

Two counties of this module's own; refused or invalid requests change nothing.
"""

from __future__ import annotations

import re
import secrets
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from renda.platform.db import Database
from renda.platform.identity import service as identity
from renda.platform.identity.models import Grant, User
from renda.platform.tenancy import admin_queries
from renda.platform.tenancy.models import HandlingUnit, Tenant, TenantSetting

from admin_support import PASSWORD, actions, login_as, post, system
from web_support import count_statements

# --- handling units -----------------------------------------------------------------------------


def test_handling_unit_is_added_edited_retired_and_restored(admin: TestClient, db: Database,
                                                            world: SimpleNamespace) -> None:
    t = f"/t/{world.slug}/units"
    name = f"甲县教育局{secrets.token_hex(2)}"
    assert post(admin, t, {"name": name, "category": "government", "contact": "李老师"}).status_code == 303
    with system(db) as s:
        unit_id = s.scalar(select(HandlingUnit.id).where(HandlingUnit.name == name))
    assert unit_id and name in admin.get(t).text

    invalid = post(admin, f"{t}/{unit_id}", {"name": name, "category": "bank", "contact": "张三"})
    assert invalid.status_code == 422 and 'value="张三"' in invalid.text and 'class="field-error"' in invalid.text
    assert post(admin, f"{t}/{unit_id}", {"name": name, "category": "court", "contact": "张三"}).status_code == 303
    assert post(admin, f"{t}/{unit_id}/retire").status_code == 303
    assert 'class="retired"' in admin.get(t).text
    assert post(admin, f"{t}/{unit_id}/restore").status_code == 303
    with system(db) as s:
        unit = s.get(HandlingUnit, unit_id)
        assert unit is not None and unit.category == "court" and unit.contact == "张三" and unit.retired_at is None
    assert actions(db, world.tenant, "handling_units", unit_id) == ["handling_unit.create", "handling_unit.update",
                                                   "handling_unit.retire", "handling_unit.restore"]


# --- users and roles ----------------------------------------------------------------------------


def test_user_is_created_edited_given_a_password_and_a_role_then_revoked(
        admin: TestClient, db: Database, world: SimpleNamespace) -> None:
    t = f"/t/{world.slug}/users"
    username = f"new.{secrets.token_hex(3)}"
    invalid = post(admin, t, {"username": "x", "display_name": "黄代表", "password": "long-enough-1"})
    assert invalid.status_code == 422 and 'value="黄代表"' in invalid.text and 'class="field-error"' in invalid.text
    created = post(admin, t, {"username": username, "display_name": "黄工作人员", "password": "long-enough-1",
                               "email": "", "phone": "13800000000"})
    assert created.status_code == 303
    user_id = int(created.headers["location"].split("/")[-1].split("?")[0])

    edited = post(admin, f"{t}/{user_id}", {"display_name": "黄站长", "email": "h@example.cn", "phone": "",
                                            "active": "1"})
    assert edited.status_code == 303
    assert post(admin, f"{t}/{user_id}/password", {"password": "short"}).status_code == 422
    assert post(admin, f"{t}/{user_id}/password", {"password": "another-pass-2"}).status_code == 303
    granted = post(admin, f"{t}/{user_id}/grants", {"role": "station_staff", "scope": f"org:{world.station}"})
    assert granted.status_code == 303
    page = admin.get(f"{t}/{user_id}").text
    assert "黄站长" in page and "平马镇人大代表联络站" in page
    with system(db) as s:
        grant_id = s.scalar(select(Grant.id).where(Grant.user_id == user_id))
    assert grant_id is not None
    assert post(admin, f"{t}/{world.chair_id}/grants/{grant_id}/revoke").status_code == 404  # not theirs
    assert post(admin, f"{t}/{user_id}/grants/{grant_id}/revoke").status_code == 303
    with system(db) as s:
        assert s.scalar(select(func.count()).select_from(Grant).where(Grant.user_id == user_id)) == 0
        user = s.get(User, user_id)
        assert user is not None and user.display_name == "黄站长" and user.email == "h@example.cn"
    assert actions(db, world.tenant, "users", user_id) == ["user.create", "user.update", "user.password_set"]


def test_grant_needs_a_scope_that_fits_the_role_and_lies_in_the_county(
        admin: TestClient, db: Database, world: SimpleNamespace) -> None:
    t = f"/t/{world.slug}/users/{world.chair_id}/grants"
    handler_on_org = post(admin, t, {"role": "handler", "scope": f"org:{world.pingma}"})
    assert handler_on_org.status_code == 422 and f'value="org:{world.pingma}" selected' in handler_on_org.text
    assert '<option value="handler" selected' in handler_on_org.text
    no_scope = post(admin, t, {"role": "observer", "scope": ""})
    assert no_scope.status_code == 422 and 'class="field-error"' in no_scope.text
    assert post(admin, t, {"role": "observer", "scope": f"org:{world.b_town}"}).status_code == 404
    assert post(admin, t, {"role": "handler", "scope": f"unit:{world.b_unit}"}).status_code == 404
    with system(db) as s:
        assert [g.role for g in s.scalars(select(Grant).where(Grant.user_id == world.chair_id))] == [
            "township_chair"]


def test_user_filter_swaps_only_the_rows(admin: TestClient, world: SimpleNamespace) -> None:
    response = admin.get(f"/t/{world.slug}/users", params={"q": "CHAIR."},
                         headers={"HX-Request": "true", "HX-Target": "user-rows"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith("<tr") and "<table" not in response.text
    assert world.chair in response.text and world.admin not in response.text
    plain = admin.get(f"/t/{world.slug}/users", params={"q": "平马镇"})
    assert "<html" in plain.text and f'id="user-{world.chair_id}"' in plain.text
    assert f'id="user-{world.admin_id}"' not in plain.text


def test_a_long_user_list_says_it_is_cut_short_and_a_search_finds_the_rest(
        admin: TestClient, world: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin_queries, "USERS_SHOWN", 1)  # the page shows at most this many
    url = f"/t/{world.slug}/users"
    page = admin.get(url).text
    assert len(re.findall(r'<tr id="user-\d+"', page)) == 1 and 'id="more-users"' in page
    assert "仅显示前 1 位" in page
    found = admin.get(url, params={"q": "CHAIR."}).text
    assert f'id="user-{world.chair_id}"' in found and 'id="more-users"' not in found


def test_users_page_statements_do_not_grow_with_the_users(admin: TestClient, world: SimpleNamespace) -> None:
    url = f"/t/{world.slug}/users"
    admin.get(url)
    with count_statements(admin) as first:
        assert admin.get(url).status_code == 200
    for i in range(3):
        created = post(admin, url, {"username": f"bulk{i}.{secrets.token_hex(3)}", "display_name": f"批量{i}",
                                     "password": "long-enough-1"})
        user_id = created.headers["location"].split("/")[-1].split("?")[0]
        post(admin, f"{url}/{user_id}/grants", {"role": "observer", "scope": f"org:{world.pingma}"})
    with count_statements(admin) as second:
        assert admin.get(url).status_code == 200
    assert len(second) == len(first)


# --- settings and the audit log -----------------------------------------------------------------


def test_settings_are_validated_per_field_and_saved(admin: TestClient, db: Database,
                                                    world: SimpleNamespace) -> None:
    url = f"/t/{world.slug}/settings"
    page = admin.get(url).text
    assert 'min="1"' in page and 'max="60"' in page and 'name="reply_classes"' in page
    form = {"near_due_days": "999", "suggestion_deadline_months": "4", "reply_classes": ["A", "B"],
            "login_methods": ["local"]}
    invalid = post(admin, url, form)
    assert invalid.status_code == 422
    assert 'value="999"' in invalid.text and "不能大于 60" in invalid.text
    assert 'value="4"' in invalid.text  # the valid fields keep their input too
    with system(db) as s:
        assert s.get(TenantSetting, (world.tenant, "suggestion_deadline_months")) is None  # nothing saved
    saved = post(admin, url, form | {"near_due_days": "20"})
    assert saved.status_code == 303
    with system(db) as s:
        stored = {row.key: row.value["v"] for row in s.scalars(
            select(TenantSetting).where(TenantSetting.tenant_id == world.tenant))}
    assert stored["near_due_days"] == 20 and stored["reply_classes"] == ["A", "B"]
    assert stored["suggestion_deadline_months"] == 4
    unticked = post(admin, url, {"near_due_days": "20", "login_methods": ["local"]})  # no reply class ticked
    assert unticked.status_code == 422
    fieldset = unticked.text[unticked.text.index('id="setting-reply_classes"'):]
    assert 'class="field-error"' in fieldset[:fieldset.index("</fieldset>")]
    audit = admin.get(f"/t/{world.slug}/audit").text
    assert 'data-action="setting.update"' in audit and "15 → 20" in audit


def test_audit_log_pages_backwards_with_a_more_button(admin: TestClient, world: SimpleNamespace) -> None:
    url = f"/t/{world.slug}/audit"
    for i in range(55):  # enough entries for a second page
        post(admin, f"/t/{world.slug}/units/{world.transport}",
              {"name": "甲县交通运输局", "category": "government", "contact": f"王科长{i}"})
    first = admin.get(url).text
    more = re.search(r'href="/t/[^"]+/audit\?before=(\d+)"', first)
    assert more is not None and 'id="audit-more"' in first
    ids = [int(i) for i in re.findall(r'id="audit-(\d+)"', first)]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True) and int(more.group(1)) == ids[-1]

    rows = admin.get(url, params={"before": more.group(1)},
                     headers={"HX-Request": "true", "HX-Target": "audit-more"})
    assert rows.status_code == 200 and rows.text.lstrip().startswith("<tr") and "<table" not in rows.text
    older = [int(i) for i in re.findall(r'id="audit-(\d+)"', rows.text)]
    assert older and max(older) < ids[-1]
    page = admin.get(url, params={"before": more.group(1)})
    assert "<html" in page.text and f'id="audit-{older[0]}"' in page.text


def test_audit_entry_by_someone_from_another_county_names_them_while_they_hold_a_grant_here(
        app_client: TestClient, db: Database, world: SimpleNamespace) -> None:
    # A member of county B's office helps out in county A: holding a grant in A makes their name
    # visible to A's staff (users policy); once the grant is revoked, A sees the actor by number only.
    with system(db) as s:
        b = s.get(Tenant, world.tenant_b)
        a = s.get(Tenant, world.tenant)
        assert a is not None and b is not None
        helper = identity.create_user(s, None, b, username=f"helper.{world.tag}", display_name="乙县帮手",
                                      password=PASSWORD)
        identity.grant_role(s, None, a, helper, role="congress_admin", org_unit_id=a.root_org_unit_id)
        helper_id = helper.id
    helper_client = login_as(app_client, f"helper.{world.tag}")
    name = f"帮建单位{secrets.token_hex(2)}"
    assert post(helper_client, f"/t/{world.slug}/units", {"name": name, "category": "other"}).status_code == 303
    helper_client.post("/logout", data={"csrftoken": helper_client.cookies["csrftoken"]})

    admin = login_as(app_client, world.admin)
    audit = admin.get(f"/t/{world.slug}/audit").text
    row = next(r for r in re.findall(r"<tr id=\"audit-\d+\".*?</tr>", audit, re.DOTALL) if name in r)
    assert "乙县帮手" in row

    with system(db) as s:
        s.execute(delete(Grant).where(Grant.user_id == helper_id))
    audit = admin.get(f"/t/{world.slug}/audit").text
    row = next(r for r in re.findall(r"<tr id=\"audit-\d+\".*?</tr>", audit, re.DOTALL) if name in r)
    assert f"#{helper_id}" in row and "乙县帮手" not in audit
