"""The administration pages of a county as its office and a township chair use them: every page, the org tree.

Two counties of this module's own; refused or invalid requests change nothing.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renda.platform.db import Database
from renda.platform.tenancy.models import HandlingUnit, OrgUnit

from admin_support import TIME, actions, post, system, unit_row
from web_support import count_statements

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
    added = post(admin, f"{t}/org", {"parent_id": world.pingma, "kind": "station", "name": "新站点"})
    assert added.status_code == 303
    new_id = int(added.headers["location"].split("/")[-1].split("?")[0])
    assert "新站点" in admin.get(added.headers["location"]).text

    renamed = post(admin, f"{t}/org/{new_id}", {"name": "平马镇代表之家", "code": ""})
    assert renamed.status_code == 303
    moved = post(admin, f"{t}/org/{new_id}/move", {"parent_id": world.shuoliang})
    assert moved.status_code == 303
    retired = post(admin, f"{t}/org/{new_id}/retire")
    assert retired.status_code == 303

    unit = unit_row(db, new_id)
    assert unit.name == "平马镇代表之家" and unit.parent_id == world.shuoliang and unit.retired_at is not None
    assert unit_row(db, world.shuoliang).path + f"{new_id}/" == unit.path
    assert actions(db, world.tenant, "org_units", new_id) == ["org_unit.add", "org_unit.rename", "org_unit.move",
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
    response = post(admin, f"/t/{world.slug}/org", {"parent_id": world.root, "kind": "station", "name": name},
                     headers={"HX-Request": "true", "HX-Target": "org-admin"})
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="org-admin"' in response.text
    assert name in response.text and "朔良镇" in response.text
    with system(db) as s:
        assert s.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.name == name)) == 1


def test_invalid_code_is_shown_again_with_the_input_kept_and_nothing_changes(
        admin: TestClient, db: Database, world: SimpleNamespace,
        row_counts: Callable[[Session], dict[str, int]]) -> None:
    with system(db) as s:
        before = row_counts(s)
    response = post(admin, f"/t/{world.slug}/org", {"parent_id": world.pingma, "kind": "village",
                                                      "name": "新建村", "code": "12ab"})
    assert response.status_code == 422
    assert "区划代码应为 6 位、9 位或 12 位数字" in response.text
    assert 'value="新建村"' in response.text and 'value="12ab"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert f'<option value="{world.pingma}" selected>' in response.text
    renamed = post(admin, f"/t/{world.slug}/org/{world.shuoliang}", {"name": "", "code": "451022108"})
    assert renamed.status_code == 422 and 'class="field-error"' in renamed.text
    assert unit_row(db, world.shuoliang).name == "朔良镇"
    with system(db) as s:
        assert row_counts(s) == before


def test_retiring_a_township_with_units_under_it_is_refused_on_its_page(
        admin: TestClient, db: Database, world: SimpleNamespace) -> None:
    response = post(admin, f"/t/{world.slug}/org/{world.pingma}/retire")
    assert response.status_code == 422
    assert "平马镇" in response.text and 'class="alert error"' in response.text
    assert unit_row(db, world.pingma).retired_at is None


def test_township_chair_manages_only_their_township(chair: TestClient, db: Database,
                                                    world: SimpleNamespace) -> None:
    tree = chair.get(f"/t/{world.slug}/org")
    assert tree.status_code == 200
    form = tree.text[tree.text.index('name="parent_id"'):]
    form = form[:form.index("</select>")]
    assert f'value="{world.pingma}"' in form and f'value="{world.shuoliang}"' not in form
    refused = post(chair, f"/t/{world.slug}/org/{world.shuoliang}", {"name": "改名镇", "code": ""})
    assert refused.status_code == 403
    assert unit_row(db, world.shuoliang).name == "朔良镇"
    for page in ("users", "units", "settings", "audit"):
        assert chair.get(f"/t/{world.slug}/{page}").status_code == 403, page


def test_county_admin_cannot_reach_another_countys_records(admin: TestClient, db: Database,
                                                           world: SimpleNamespace) -> None:
    t = f"/t/{world.slug}"
    assert admin.get(f"{t}/org/{world.b_town}").status_code == 404
    assert admin.get(f"{t}/org/{world.b_town}/children", headers={"HX-Request": "true"}).status_code == 404
    assert post(admin, f"{t}/org/{world.b_town}", {"name": "被改名", "code": ""}).status_code == 404
    assert post(admin, f"{t}/org/{world.pingma}/move", {"parent_id": world.b_town}).status_code == 404
    assert admin.get(f"{t}/units/{world.b_unit}").status_code == 404
    assert post(admin, f"{t}/units/{world.b_unit}/retire").status_code == 404
    assert admin.get(f"{t}/users/{world.admin_b_id}").status_code == 404
    assert admin.get(f"/t/{world.slug_b}/org").status_code == 403
    assert unit_row(db, world.b_town).name == "乙县城关镇"
    with system(db) as s:
        b_unit = s.get(HandlingUnit, world.b_unit)
        assert b_unit is not None and b_unit.retired_at is None


def test_tree_page_statements_do_not_grow_with_the_townships(admin: TestClient, db: Database,
                                                             world: SimpleNamespace) -> None:
    url = f"/t/{world.slug}/org"
    admin.get(url)
    with count_statements(admin) as first:
        assert admin.get(url).status_code == 200
    for i in range(3):
        post(admin, url, {"parent_id": world.root, "kind": "township", "name": f"新镇{i}"})
    with count_statements(admin) as second:
        assert admin.get(url).status_code == 200
    assert len(second) == len(first)
