"""Numbers in requests (ids, versions, tokens, pages) that no row can have, and writes the scope refuses:
each is a clear page that changes nothing, never a server error (issue 11, item 11).

A county of this module's own (A) with its office, a deputy with a draft, and a member of county B's
office who holds a role in A; county B keeps that member's account.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform.access.policy import AccessDenied
from renda.platform.db import Database, Scope, set_scope
from renda.platform.identity import service as identity
from renda.platform.identity.models import User
from renda.platform.identity.passwords import verify_password
from renda.platform.identity.principal import load_principal
from renda.platform.numbers import MAX_ID
from renda.platform.tenancy import service as tenancy
from renda.tenants.deputies import service as deputies
from renda.tenants.suggestions import service as suggestions
from renda.tenants.suggestions.models import Suggestion

from web_support import linked_deputy, post_form, sign_in

PASSWORD = "numbers-pass-1"
HUGE = str(10**30)
BEYOND = str(MAX_ID + 1)  # one more than a BIGINT holds: SQLite's driver raises OverflowError on it


@pytest.fixture(scope="module")
def world(db: Database) -> SimpleNamespace:
    tag = secrets.token_hex(3)
    with db.session(Scope.system()) as s:
        a = tenancy.create_tenant(s, None, slug=f"num-{tag}-a", name=f"甲县{tag}", code=None, parent=None,
                                  level="county")
        b = tenancy.create_tenant(s, None, slug=f"num-{tag}-b", name=f"乙县{tag}", code=None, parent=None,
                                  level="county")
        assert a.root_org_unit_id and b.root_org_unit_id
        admin = identity.create_user(s, None, a, username=f"num.{tag}.admin", display_name="甲县人大办公室",
                                     password=PASSWORD)
        identity.grant_role(s, None, a, admin, role="congress_admin", org_unit_id=a.root_org_unit_id)
        admin_b = identity.create_user(s, None, b, username=f"num.{tag}.admin-b", display_name="乙县人大办公室",
                                       password=PASSWORD)
        identity.grant_role(s, None, b, admin_b, role="congress_admin", org_unit_id=b.root_org_unit_id)
        helper = identity.create_user(s, None, b, username=f"num.{tag}.helper", display_name="乙县帮手",
                                      password=PASSWORD, email="helper@example.cn")
        identity.grant_role(s, None, b, helper, role="observer", org_unit_id=b.root_org_unit_id)
        identity.grant_role(s, None, a, helper, role="observer", org_unit_id=a.root_org_unit_id)
        deputy_user = identity.create_user(s, None, a, username=f"num.{tag}.deputy", display_name="甲县代表",
                                           password=PASSWORD)
        identity.grant_role(s, None, a, deputy_user, role="deputy", org_unit_id=a.root_org_unit_id)
        s.flush()
        deputy_id = linked_deputy(s, a, deputy_user.id, "覃代表", a.root_org_unit_id)
        s.flush()
        actor = load_principal(s, deputy_user.id)
        draft = suggestions.create_draft(s, actor, a, title="修缮村道", content="村道破损，雨天难行。", term=17,
                                         session_no=None)
        set_scope(s, Scope.system())
        return SimpleNamespace(slug=a.slug, tenant=a.id, admin=admin.username, admin_b=admin_b.username,
                               helper_id=helper.id, deputy=deputy_user.username, deputy_id=deputy_id,
                               draft=draft.id, draft_version=draft.version)


def _signed_in(login: Callable[..., TestClient], username: str) -> TestClient:
    client = login(None)
    return sign_in(client, username, PASSWORD)


def _no_server_error(response: Any) -> None:
    assert response.status_code < 500, response.text[:500]
    assert "Traceback" not in response.text


@pytest.fixture
def admin(login: Callable[..., TestClient], world: SimpleNamespace) -> TestClient:
    return _signed_in(login, world.admin)


def test_committing_an_import_with_a_token_no_row_can_have_is_not_found(admin: TestClient,
                                                                        world: SimpleNamespace) -> None:
    for token in (HUGE, BEYOND, str(MAX_ID), "0"):
        response = post_form(admin, f"/t/{world.slug}/deputies/import/{token}/commit")
        _no_server_error(response)
        assert response.status_code == 404, token


def test_a_version_that_is_not_plain_digits_is_a_stale_form(login: Callable[..., TestClient], db: Database,
                                                            world: SimpleNamespace) -> None:
    deputy = _signed_in(login, world.deputy)
    # "１" (full width) once passed int() and submitted the draft; "³" passed isdigit() and broke int().
    for version in ("³", "٣", "１", "1_0", "-1", "", HUGE, BEYOND):
        response = post_form(deputy, f"/t/{world.slug}/suggestions/{world.draft}/submit", {"version": version})
        _no_server_error(response)
        assert response.status_code == 409, version  # the page again, with "someone changed it"
    with db.session(Scope.system()) as s:
        draft = s.get(Suggestion, world.draft)
        assert draft is not None and draft.state == "draft" and draft.version == world.draft_version


@pytest.mark.parametrize("path", [
    "/users/{n}", "/org/{n}", "/units/{n}", "/deputies/{n}", "/suggestions/{n}", "/suggestions/{n}/edit",
])
def test_an_address_whose_id_no_row_can_have_is_the_404_page(admin: TestClient, world: SimpleNamespace,
                                                             path: str) -> None:
    for n in (HUGE, BEYOND, "0"):
        response = admin.get(f"/t/{world.slug}" + path.format(n=n))
        _no_server_error(response)
        assert response.status_code == 404, (path, n)
        assert "页面不存在" in response.text


@pytest.mark.parametrize("query", [
    "deputies?page={n}", "deputies?term={n}", "deputies?township={n}", "suggestions/board?page={n}",
    "suggestions/board?unit={n}&deputy={n}", "audit?before={n}",
])
def test_filters_and_pages_with_numbers_no_row_can_have_still_answer(admin: TestClient, world: SimpleNamespace,
                                                                    query: str) -> None:
    for n in (HUGE, BEYOND, "³", "٣"):
        response = admin.get(f"/t/{world.slug}/" + query.format(n=n))
        _no_server_error(response)
        assert response.status_code in (200, 422), (query, n)


def test_form_ids_no_row_can_have_are_field_errors(admin: TestClient, world: SimpleNamespace,
                                                   db: Database, row_counts: Callable[[Session], dict[str, int]]
                                                   ) -> None:
    with db.session(Scope.system()) as s:
        before = row_counts(s)
    t = f"/t/{world.slug}"
    for n in (HUGE, BEYOND, "³"):
        for url, form in (
            (f"{t}/org", {"parent_id": n, "kind": "township", "name": "新镇"}),
            (f"{t}/users/{world.helper_id}/grants", {"role": "observer", "scope": f"org:{n}"}),
            (f"{t}/deputies", {"name": "新代表", "level": "county", "term": n, "org_unit_id": n, "stations": n}),
            (f"{t}/deputies/{world.deputy_id}/edit", {"version": n, "name": "改名", "level": "county",
                                                      "term": "17", "org_unit_id": n}),
        ):
            response = post_form(admin, url, form)
            _no_server_error(response)
            assert response.status_code in (404, 409, 422), (url, n)
    with db.session(Scope.system()) as s:
        assert row_counts(s) == before


def test_a_countys_office_gets_no_forms_for_an_account_another_congress_keeps(
        admin: TestClient, world: SimpleNamespace, db: Database) -> None:
    page = admin.get(f"/t/{world.slug}/users/{world.helper_id}")
    assert page.status_code == 200
    assert f'action="/t/{world.slug}/users/{world.helper_id}/grants"' in page.text  # roles here: yes
    assert f'action="/t/{world.slug}/users/{world.helper_id}"' not in page.text  # the account: no
    assert f'action="/t/{world.slug}/users/{world.helper_id}/password"' not in page.text
    assert "乙县" in page.text  # whose account it is

    edited = post_form(admin, f"/t/{world.slug}/users/{world.helper_id}",
                       {"display_name": "改名", "email": "", "phone": "", "active": "1"})
    password = post_form(admin, f"/t/{world.slug}/users/{world.helper_id}/password",
                         {"password": "taken-over-123"})
    for response in (edited, password):
        _no_server_error(response)
        assert response.status_code == 403
        assert "只有该用户所属人大的办公室" in response.text
    with db.session(Scope.system()) as s:
        helper = s.get(User, world.helper_id)
        assert helper is not None and helper.display_name == "乙县帮手" and helper.email == "helper@example.cn"
        assert verify_password(helper.password_hash, PASSWORD)


def test_the_home_congress_keeps_the_account_of_its_member_who_helps_elsewhere(
        login: Callable[..., TestClient], world: SimpleNamespace, db: Database) -> None:
    with db.session(Scope.system()) as s:
        helper = s.get(User, world.helper_id)
        assert helper is not None
        slug_b = identity.home_of(s, helper).slug  # type: ignore[union-attr]
    admin_b = _signed_in(login, world.admin_b)
    page = admin_b.get(f"/t/{slug_b}/users/{world.helper_id}")
    assert f'action="/t/{slug_b}/users/{world.helper_id}/password"' in page.text
    response = post_form(admin_b, f"/t/{slug_b}/users/{world.helper_id}",
                         {"display_name": "乙县帮手", "email": "helper@example.cn", "phone": "13800000001",
                          "active": "1"})
    assert response.status_code == 303


def test_the_service_refuses_an_account_of_another_congress_before_writing(
        open_session: Callable[..., Session], world: SimpleNamespace) -> None:
    s = open_session(Scope.system())
    admin = s.scalars(select(User).where(User.username == world.admin)).first()
    assert admin is not None
    actor = load_principal(s, admin.id)
    tenant = identity.home_of(s, s.get(User, admin.id))  # type: ignore[arg-type]
    assert tenant is not None
    helper = identity.access_user(s, actor, tenant, world.helper_id)
    assert not identity.may_edit_account(s, actor, helper)
    with pytest.raises(AccessDenied):
        identity.set_password(s, actor, tenant, world.helper_id, "taken-over-123")
    with pytest.raises(AccessDenied):
        identity.update_user(s, actor, tenant, world.helper_id, display_name="x", email="", phone="", active=True)
    s.flush()  # nothing pending: no OutOfScopeWrite
    for bad in (0, -1, MAX_ID + 1, 10**30):
        with pytest.raises(LookupError):
            identity.access_user(s, actor, tenant, bad)
        with pytest.raises(LookupError):
            deputies.access_deputy(s, actor, tenant, bad)
        with pytest.raises(LookupError):
            tenancy.access_org_unit(s, actor, tenant, bad)
        with pytest.raises(LookupError):
            tenancy.access_handling_unit(s, actor, tenant, bad)


def test_the_api_refuses_ids_and_versions_no_row_can_have_as_json(login: Callable[..., TestClient],
                                                                  world: SimpleNamespace, db: Database) -> None:
    deputy = _signed_in(login, world.deputy)
    api = f"/api/v1/t/{world.slug}/suggestions"
    headers = {"x-csrftoken": deputy.cookies["csrftoken"]}
    for n in (int(HUGE), int(BEYOND)):
        for method, url, body in (
            ("GET", f"{api}/{n}", None),
            ("POST", f"{api}/{world.draft}/submit", {"version": n}),
            ("POST", f"{api}/{n}/submit", {"version": 1}),
            ("POST", api, {"title": "t", "content": "c", "term": n, "cosigner_ids": [n]}),
            ("POST", f"{api}/{world.draft}/edit", {"version": 1, "title": "t", "content": "c", "cosigner_ids": [n]}),
        ):
            response = deputy.request(method, url, json=body, headers=headers)
            assert response.status_code in (404, 422), (url, body, response.text)
            assert response.json()["error"] in ("invalid", "not_found")
    with db.session(Scope.system()) as s:
        draft = s.get(Suggestion, world.draft)
        assert draft is not None and draft.state == "draft" and draft.version == world.draft_version


def test_an_api_address_that_names_nothing_is_a_json_404(login: Callable[..., TestClient],
                                                         world: SimpleNamespace) -> None:
    deputy = _signed_in(login, world.deputy)
    for url in (f"/api/v1/t/{world.slug}/suggestions/org:1", f"/api/v1/t/{world.slug}/nothing-here"):
        response = deputy.get(url)
        assert response.status_code == 404 and response.json()["error"] == "not_found", url
