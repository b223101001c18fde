"""The administration pages: org tree, handling units, users and roles, settings, audit log.

Two counties of this module's own (unique slugs and user names); staff act through the pages,
and the tests check what a user would notice: the data on the page, the status, the audit trail,
and that refused or invalid requests change nothing.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from renda.platform.audit import AuditEntry
from renda.platform.db import Database, Scope, set_scope
from renda.platform.identity import service as identity
from renda.platform.identity.models import Grant, User
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy import admin_queries
from renda.platform.tenancy import service as tenancy
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant, TenantSetting

from web_support import count_statements, sign_in

PASSWORD = "admin-pages-pass-1"
TIME = re.compile(r"<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}</time>")


def _county(s: Session, tag: str, letter: str, name: str) -> tuple[Tenant, User]:
    """A county tenant with its congress_admin (who can log in)."""
    tenant = tenancy.create_tenant(s, None, slug=f"adm-{tag}-{letter}", name=f"{name}{tag}", code=None,
                                   parent=None, level="county")
    admin = identity.create_user(s, None, tenant, username=f"adm.{tag}.{letter}", display_name=f"{name}办公室",
                                 password=PASSWORD)
    identity.grant_role(s, None, tenant, admin, role="congress_admin", org_unit_id=tenant.root_org_unit_id)
    return tenant, admin


@pytest.fixture(scope="module")
def world(db: Database) -> SimpleNamespace:
    """County A (two townships, a station, villages, a handling unit, a township chair) and county B."""
    tag = secrets.token_hex(3)
    with db.session(Scope.system()) as s:
        a, admin_a = _county(s, tag, "a", "甲县")
        b, admin_b = _county(s, tag, "b", "乙县")
        s.flush()
        actor_a = load_principal(s, admin_a.id)
        set_scope(s, Scope.system())
        actor_b = load_principal(s, admin_b.id)
        set_scope(s, Scope.system())
        assert a.root_org_unit_id and b.root_org_unit_id

        def node(tenant: Tenant, actor: Any, parent_id: int, kind: str, name: str, code: str | None = None,
                 ) -> OrgUnit:
            return tenancy.add_org_unit(s, actor, tenant, parent_id=parent_id, kind=kind, name=name, code=code)

        pingma = node(a, actor_a, a.root_org_unit_id, "township", "平马镇", "451022100")
        shuoliang = node(a, actor_a, a.root_org_unit_id, "township", "朔良镇", "451022108")
        station = node(a, actor_a, pingma.id, "station", "平马镇人大代表联络站")
        villages = [node(a, actor_a, pingma.id, "village", f"{n}村", f"451022100{i:03d}")
                    for i, n in enumerate(("那王", "东养", "百渡"), start=1)]
        county_station = node(a, actor_a, a.root_org_unit_id, "station", "甲县代表联络站")
        b_town = node(b, actor_b, b.root_org_unit_id, "township", "乙县城关镇")
        transport = tenancy.create_handling_unit(s, actor_a, a, name="甲县交通运输局", contact="王科长")
        b_unit = tenancy.create_handling_unit(s, actor_b, b, name="乙县水利局")
        chair = identity.create_user(s, None, a, username=f"chair.{tag}", display_name="平马镇人大主席",
                                     password=PASSWORD)
        identity.grant_role(s, None, a, chair, role="township_chair", org_unit_id=pingma.id)
        return SimpleNamespace(
            tag=tag, slug=a.slug, slug_b=b.slug, tenant=a.id, tenant_b=b.id, root=a.root_org_unit_id,
            pingma=pingma.id, shuoliang=shuoliang.id, station=station.id, villages=[v.id for v in villages],
            county_station=county_station.id, b_town=b_town.id, transport=transport.id, b_unit=b_unit.id,
            admin=admin_a.username, admin_id=admin_a.id, admin_b_id=admin_b.id, chair=chair.username,
            chair_id=chair.id,
        )


def _login(client: TestClient, username: str) -> TestClient:
    return sign_in(client, username, PASSWORD)


@pytest.fixture
def admin(app_client: TestClient, world: SimpleNamespace) -> TestClient:
    return _login(app_client, world.admin)


@pytest.fixture
def chair(app_client: TestClient, world: SimpleNamespace) -> TestClient:
    return _login(app_client, world.chair)


def _post(client: TestClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return client.post(url, data={**(data or {}), "csrftoken": client.cookies["csrftoken"]},
                       follow_redirects=False, **kwargs)


@contextmanager
def _system(db: Database) -> Iterator[Session]:
    with db.session(Scope.system()) as s:
        yield s


def _unit(db: Database, unit_id: int) -> OrgUnit:
    with _system(db) as s:
        unit = s.get(OrgUnit, unit_id)
        assert unit is not None
        s.expunge(unit)
        return unit


def _actions(db: Database, tenant_id: int, object_type: str, object_id: int) -> list[str]:
    with _system(db) as s:
        return list(s.scalars(select(AuditEntry.action).where(
            AuditEntry.tenant_id == tenant_id, AuditEntry.object_type == object_type,
            AuditEntry.object_id == str(object_id)).order_by(AuditEntry.id)))




# --- every page renders for the county's staff --------------------------------------------------


def test_each_admin_page_shows_the_countys_data_to_its_admin(admin: TestClient, world: SimpleNamespace) -> None:
    t = f"/t/{world.slug}"
    tree = admin.get(f"{t}/org")
    assert tree.status_code == 200
    assert "平马镇" in tree.text and "朔良镇" in tree.text and "甲县代表联络站" in tree.text
    assert "乙县城关镇" not in tree.text
    unit = admin.get(f"{t}/org/{world.pingma}")
    assert unit.status_code == 200 and "平马镇人大代表联络站" in unit.text and "那王村" in unit.text
    units = admin.get(f"{t}/units")
    assert units.status_code == 200 and "甲县交通运输局" in units.text and "王科长" in units.text
    assert "乙县水利局" not in units.text
    assert admin.get(f"{t}/units/{world.transport}").status_code == 200
    users = admin.get(f"{t}/users")
    assert users.status_code == 200 and world.admin in users.text and world.chair in users.text
    assert 'data-role="township_chair"' in users.text
    user = admin.get(f"{t}/users/{world.chair_id}")
    assert user.status_code == 200 and "平马镇人大主席" in user.text and f"org:{world.pingma}" in user.text
    settings = admin.get(f"{t}/settings")
    assert settings.status_code == 200 and 'name="near_due_days"' in settings.text
    audit = admin.get(f"{t}/audit")
    assert audit.status_code == 200 and 'data-action="org_unit.add"' in audit.text
    assert TIME.search(audit.text) and "甲县办公室" in audit.text  # the actor's name, joined in


def test_htmx_swap_of_main_gets_only_the_content_block(admin: TestClient, world: SimpleNamespace) -> None:
    headers = {"HX-Request": "true", "HX-Target": "main"}
    for path in ("org", f"org/{world.pingma}", "units", "users", "settings", "audit"):
        response = admin.get(f"/t/{world.slug}/{path}", headers=headers)
        assert response.status_code == 200, path
        assert "<html" not in response.text and "<h1" in response.text, path
    assert "朔良镇" in admin.get(f"/t/{world.slug}/org", headers=headers).text


# --- the org tree -------------------------------------------------------------------------------


def test_tree_counts_villages_and_loads_a_townships_children_on_demand(admin: TestClient,
                                                                      world: SimpleNamespace) -> None:
    tree = admin.get(f"/t/{world.slug}/org").text
    assert "那王村" not in tree  # villages wait until their township is opened
    pingma = tree[tree.index(f'id="org-{world.pingma}"'):]
    pingma = pingma[:pingma.index("</li>")]
    assert re.search(r'data-count="villages">[^<]*3<', pingma)
    assert re.search(r'data-count="stations">[^<]*1<', pingma)
    assert f'hx-get="/t/{world.slug}/org/{world.pingma}/children"' in pingma

    children = admin.get(f"/t/{world.slug}/org/{world.pingma}/children", headers={"HX-Request": "true"})
    assert children.status_code == 200 and "<html" not in children.text
    assert all(name in children.text for name in ("那王村", "东养村", "百渡村", "平马镇人大代表联络站"))
    plain = admin.get(f"/t/{world.slug}/org/{world.pingma}/children", follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == f"/t/{world.slug}/org/{world.pingma}"


def test_add_rename_move_and_retire_a_unit_through_the_pages(admin: TestClient, db: Database,
                                                             world: SimpleNamespace) -> None:
    t = f"/t/{world.slug}"
    added = _post(admin, f"{t}/org", {"parent_id": world.pingma, "kind": "station", "name": "新站点"})
    assert added.status_code == 303
    new_id = int(added.headers["location"].split("/")[-1].split("?")[0])
    assert "新站点" in admin.get(added.headers["location"]).text

    renamed = _post(admin, f"{t}/org/{new_id}", {"name": "平马镇代表之家", "code": ""})
    assert renamed.status_code == 303
    moved = _post(admin, f"{t}/org/{new_id}/move", {"parent_id": world.shuoliang})
    assert moved.status_code == 303
    retired = _post(admin, f"{t}/org/{new_id}/retire")
    assert retired.status_code == 303

    unit = _unit(db, new_id)
    assert unit.name == "平马镇代表之家" and unit.parent_id == world.shuoliang and unit.retired_at is not None
    assert _unit(db, world.shuoliang).path + f"{new_id}/" == unit.path
    assert _actions(db, world.tenant, "org_units", new_id) == ["org_unit.add", "org_unit.rename", "org_unit.move",
                                                  "org_unit.retire"]
    page = admin.get(f"{t}/org/{new_id}").text
    assert 'class="retired"' in page
    audit = admin.get(f"{t}/audit").text
    for action in ("org_unit.add", "org_unit.rename", "org_unit.move", "org_unit.retire"):
        assert f'data-action="{action}"' in audit
    assert "平马镇代表之家" in audit


def test_add_from_the_tree_by_htmx_returns_the_refreshed_tree(admin: TestClient, db: Database,
                                                              world: SimpleNamespace) -> None:
    name = f"htmx站{secrets.token_hex(2)}"
    response = _post(admin, f"/t/{world.slug}/org", {"parent_id": world.root, "kind": "station", "name": name},
                     headers={"HX-Request": "true", "HX-Target": "org-admin"})
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="org-admin"' in response.text
    assert name in response.text and "朔良镇" in response.text
    with _system(db) as s:
        assert s.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.name == name)) == 1


def test_invalid_code_is_shown_again_with_the_input_kept_and_nothing_changes(
        admin: TestClient, db: Database, world: SimpleNamespace,
        row_counts: Callable[[Session], dict[str, int]]) -> None:
    with _system(db) as s:
        before = row_counts(s)
    response = _post(admin, f"/t/{world.slug}/org", {"parent_id": world.pingma, "kind": "village",
                                                      "name": "新建村", "code": "12ab"})
    assert response.status_code == 422
    assert "区划代码应为 6 位、9 位或 12 位数字" in response.text
    assert 'value="新建村"' in response.text and 'value="12ab"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert f'<option value="{world.pingma}" selected>' in response.text
    renamed = _post(admin, f"/t/{world.slug}/org/{world.shuoliang}", {"name": "", "code": "451022108"})
    assert renamed.status_code == 422 and 'class="field-error"' in renamed.text
    assert _unit(db, world.shuoliang).name == "朔良镇"
    with _system(db) as s:
        assert row_counts(s) == before


def test_retiring_a_township_with_units_under_it_is_refused_on_its_page(
        admin: TestClient, db: Database, world: SimpleNamespace) -> None:
    response = _post(admin, f"/t/{world.slug}/org/{world.pingma}/retire")
    assert response.status_code == 422
    assert "平马镇" in response.text and 'class="alert error"' in response.text
    assert _unit(db, world.pingma).retired_at is None


def test_township_chair_manages_only_their_township(chair: TestClient, db: Database,
                                                    world: SimpleNamespace) -> None:
    tree = chair.get(f"/t/{world.slug}/org")
    assert tree.status_code == 200
    form = tree.text[tree.text.index('name="parent_id"'):]
    form = form[:form.index("</select>")]
    assert f'value="{world.pingma}"' in form and f'value="{world.shuoliang}"' not in form
    refused = _post(chair, f"/t/{world.slug}/org/{world.shuoliang}", {"name": "改名镇", "code": ""})
    assert refused.status_code == 403
    assert _unit(db, world.shuoliang).name == "朔良镇"
    for page in ("users", "units", "settings", "audit"):
        assert chair.get(f"/t/{world.slug}/{page}").status_code == 403, page


def test_county_admin_cannot_reach_another_countys_records(admin: TestClient, db: Database,
                                                           world: SimpleNamespace) -> None:
    t = f"/t/{world.slug}"
    assert admin.get(f"{t}/org/{world.b_town}").status_code == 404
    assert admin.get(f"{t}/org/{world.b_town}/children", headers={"HX-Request": "true"}).status_code == 404
    assert _post(admin, f"{t}/org/{world.b_town}", {"name": "被改名", "code": ""}).status_code == 404
    assert _post(admin, f"{t}/org/{world.pingma}/move", {"parent_id": world.b_town}).status_code == 404
    assert admin.get(f"{t}/units/{world.b_unit}").status_code == 404
    assert _post(admin, f"{t}/units/{world.b_unit}/retire").status_code == 404
    assert admin.get(f"{t}/users/{world.admin_b_id}").status_code == 404
    assert admin.get(f"/t/{world.slug_b}/org").status_code == 403
    assert _unit(db, world.b_town).name == "乙县城关镇"
    with _system(db) as s:
        b_unit = s.get(HandlingUnit, world.b_unit)
        assert b_unit is not None and b_unit.retired_at is None


def test_tree_page_statements_do_not_grow_with_the_townships(admin: TestClient, db: Database,
                                                             world: SimpleNamespace) -> None:
    url = f"/t/{world.slug}/org"
    admin.get(url)
    with count_statements(admin) as first:
        assert admin.get(url).status_code == 200
    for i in range(3):
        _post(admin, url, {"parent_id": world.root, "kind": "township", "name": f"新镇{i}"})
    with count_statements(admin) as second:
        assert admin.get(url).status_code == 200
    assert len(second) == len(first)


# --- handling units -----------------------------------------------------------------------------


def test_handling_unit_is_added_edited_retired_and_restored(admin: TestClient, db: Database,
                                                            world: SimpleNamespace) -> None:
    t = f"/t/{world.slug}/units"
    name = f"甲县教育局{secrets.token_hex(2)}"
    assert _post(admin, t, {"name": name, "category": "government", "contact": "李老师"}).status_code == 303
    with _system(db) as s:
        unit_id = s.scalar(select(HandlingUnit.id).where(HandlingUnit.name == name))
    assert unit_id and name in admin.get(t).text

    invalid = _post(admin, f"{t}/{unit_id}", {"name": name, "category": "bank", "contact": "张三"})
    assert invalid.status_code == 422 and 'value="张三"' in invalid.text and 'class="field-error"' in invalid.text
    assert _post(admin, f"{t}/{unit_id}", {"name": name, "category": "court", "contact": "张三"}).status_code == 303
    assert _post(admin, f"{t}/{unit_id}/retire").status_code == 303
    assert 'class="retired"' in admin.get(t).text
    assert _post(admin, f"{t}/{unit_id}/restore").status_code == 303
    with _system(db) as s:
        unit = s.get(HandlingUnit, unit_id)
        assert unit is not None and unit.category == "court" and unit.contact == "张三" and unit.retired_at is None
    assert _actions(db, world.tenant, "handling_units", unit_id) == ["handling_unit.create", "handling_unit.update",
                                                   "handling_unit.retire", "handling_unit.restore"]


# --- users and roles ----------------------------------------------------------------------------


def test_user_is_created_edited_given_a_password_and_a_role_then_revoked(
        admin: TestClient, db: Database, world: SimpleNamespace) -> None:
    t = f"/t/{world.slug}/users"
    username = f"new.{secrets.token_hex(3)}"
    invalid = _post(admin, t, {"username": "x", "display_name": "黄代表", "password": "long-enough-1"})
    assert invalid.status_code == 422 and 'value="黄代表"' in invalid.text and 'class="field-error"' in invalid.text
    created = _post(admin, t, {"username": username, "display_name": "黄工作人员", "password": "long-enough-1",
                               "email": "", "phone": "13800000000"})
    assert created.status_code == 303
    user_id = int(created.headers["location"].split("/")[-1].split("?")[0])

    edited = _post(admin, f"{t}/{user_id}", {"display_name": "黄站长", "email": "h@example.cn", "phone": "",
                                            "active": "1"})
    assert edited.status_code == 303
    assert _post(admin, f"{t}/{user_id}/password", {"password": "short"}).status_code == 422
    assert _post(admin, f"{t}/{user_id}/password", {"password": "another-pass-2"}).status_code == 303
    granted = _post(admin, f"{t}/{user_id}/grants", {"role": "station_staff", "scope": f"org:{world.station}"})
    assert granted.status_code == 303
    page = admin.get(f"{t}/{user_id}").text
    assert "黄站长" in page and "平马镇人大代表联络站" in page
    with _system(db) as s:
        grant_id = s.scalar(select(Grant.id).where(Grant.user_id == user_id))
    assert grant_id is not None
    assert _post(admin, f"{t}/{world.chair_id}/grants/{grant_id}/revoke").status_code == 404  # not theirs
    assert _post(admin, f"{t}/{user_id}/grants/{grant_id}/revoke").status_code == 303
    with _system(db) as s:
        assert s.scalar(select(func.count()).select_from(Grant).where(Grant.user_id == user_id)) == 0
        user = s.get(User, user_id)
        assert user is not None and user.display_name == "黄站长" and user.email == "h@example.cn"
    assert _actions(db, world.tenant, "users", user_id) == ["user.create", "user.update", "user.password_set"]


def test_grant_needs_a_scope_that_fits_the_role_and_lies_in_the_county(
        admin: TestClient, db: Database, world: SimpleNamespace) -> None:
    t = f"/t/{world.slug}/users/{world.chair_id}/grants"
    handler_on_org = _post(admin, t, {"role": "handler", "scope": f"org:{world.pingma}"})
    assert handler_on_org.status_code == 422 and f'value="org:{world.pingma}" selected' in handler_on_org.text
    assert '<option value="handler" selected' in handler_on_org.text
    no_scope = _post(admin, t, {"role": "observer", "scope": ""})
    assert no_scope.status_code == 422 and 'class="field-error"' in no_scope.text
    assert _post(admin, t, {"role": "observer", "scope": f"org:{world.b_town}"}).status_code == 404
    assert _post(admin, t, {"role": "handler", "scope": f"unit:{world.b_unit}"}).status_code == 404
    with _system(db) as s:
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
        created = _post(admin, url, {"username": f"bulk{i}.{secrets.token_hex(3)}", "display_name": f"批量{i}",
                                     "password": "long-enough-1"})
        user_id = created.headers["location"].split("/")[-1].split("?")[0]
        _post(admin, f"{url}/{user_id}/grants", {"role": "observer", "scope": f"org:{world.pingma}"})
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
    invalid = _post(admin, url, form)
    assert invalid.status_code == 422
    assert 'value="999"' in invalid.text and "不能大于 60" in invalid.text
    assert 'value="4"' in invalid.text  # the valid fields keep their input too
    with _system(db) as s:
        assert s.get(TenantSetting, (world.tenant, "suggestion_deadline_months")) is None  # nothing saved
    saved = _post(admin, url, form | {"near_due_days": "20"})
    assert saved.status_code == 303
    with _system(db) as s:
        stored = {row.key: row.value["v"] for row in s.scalars(
            select(TenantSetting).where(TenantSetting.tenant_id == world.tenant))}
    assert stored["near_due_days"] == 20 and stored["reply_classes"] == ["A", "B"]
    assert stored["suggestion_deadline_months"] == 4
    unticked = _post(admin, url, {"near_due_days": "20", "login_methods": ["local"]})  # no reply class ticked
    assert unticked.status_code == 422
    fieldset = unticked.text[unticked.text.index('id="setting-reply_classes"'):]
    assert 'class="field-error"' in fieldset[:fieldset.index("</fieldset>")]
    audit = admin.get(f"/t/{world.slug}/audit").text
    assert 'data-action="setting.update"' in audit and "15 → 20" in audit


def test_audit_log_pages_backwards_with_a_more_button(admin: TestClient, world: SimpleNamespace) -> None:
    url = f"/t/{world.slug}/audit"
    for i in range(55):  # enough entries for a second page
        _post(admin, f"/t/{world.slug}/units/{world.transport}",
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
    with _system(db) as s:
        b = s.get(Tenant, world.tenant_b)
        a = s.get(Tenant, world.tenant)
        assert a is not None and b is not None
        helper = identity.create_user(s, None, b, username=f"helper.{world.tag}", display_name="乙县帮手",
                                      password=PASSWORD)
        identity.grant_role(s, None, a, helper, role="congress_admin", org_unit_id=a.root_org_unit_id)
        helper_id = helper.id
    helper_client = _login(app_client, f"helper.{world.tag}")
    name = f"帮建单位{secrets.token_hex(2)}"
    assert _post(helper_client, f"/t/{world.slug}/units", {"name": name, "category": "other"}).status_code == 303
    helper_client.post("/logout", data={"csrftoken": helper_client.cookies["csrftoken"]})

    admin = _login(app_client, world.admin)
    audit = admin.get(f"/t/{world.slug}/audit").text
    row = next(r for r in re.findall(r"<tr id=\"audit-\d+\".*?</tr>", audit, re.DOTALL) if name in r)
    assert "乙县帮手" in row

    with _system(db) as s:
        s.execute(delete(Grant).where(Grant.user_id == helper_id))
    audit = admin.get(f"/t/{world.slug}/audit").text
    row = next(r for r in re.findall(r"<tr id=\"audit-\d+\".*?</tr>", audit, re.DOTALL) if name in r)
    assert f"#{helper_id}" in row and "乙县帮手" not in audit
