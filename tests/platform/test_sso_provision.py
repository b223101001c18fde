"""Group paths name org nodes and roles; each sign-in replaces the user's grants with the token's."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform.audit import AuditEntry
from renda.platform.db import Scope
from renda.platform.identity import groups, sso
from renda.platform.identity.models import Grant, User
from renda.platform.identity.oidc import SsoError
from renda.platform.tenancy.models import HandlingUnit, OrgUnit
from renda.tenants.congress.roles import Role


@pytest.fixture
def session(open_session: Any) -> Session:
    return open_session(Scope.system())


def path_of(session: Session, node_id: int) -> str:
    node = session.get(OrgUnit, node_id)
    assert node is not None
    return groups.node_paths(session, [node])[node.id]


def test_node_paths_follow_the_tree_with_codes_or_kind_and_id(cast: Any, session: Session) -> None:
    assert path_of(session, cast.org.tiandong_root) == "/451000/451022"
    assert path_of(session, cast.org.pingma) == "/451000/451022/451022100"
    assert path_of(session, cast.org.pingma_station) == f"/451000/451022/451022100/station-{cast.org.pingma_station}"
    assert path_of(session, cast.org.joint_node) == f"/451000/451082/joint-{cast.org.joint_node}"


def test_group_paths_resolve_to_the_node_and_role(cast: Any, session: Session) -> None:
    found = groups.resolve(session, "/451000/451022/451022100/township_chair")
    assert found is not None
    assert (found.tenant_id, found.role, found.org_unit_id) == (cast.tenant.tiandong, Role.TOWNSHIP_CHAIR,
                                                                 cast.org.pingma)
    unit = groups.resolve(session, f"/451000/451022/hu-{cast.unit.tiandong_transport}/handler")
    assert unit is not None and unit.handling_unit_id == cast.unit.tiandong_transport


@pytest.mark.parametrize("path", [
    "/451000/451022/451022999/deputy",            # no such township
    "/451000/451082/451022100/township_chair",    # a real township under the wrong county
    "/451000/451022/451022100/emperor",           # no such role
    "/451000/451022/platform_admin",              # a realm role, never a group
    "/451000/451022/deputy/extra",                # role not last
    "/451000/451022/451022100/handler",           # handler belongs on a handling unit
    "",
    "/",
])
def test_paths_that_name_nothing_known_do_not_resolve(path: str, session: Session, cast: Any) -> None:
    assert groups.resolve(session, path) is None


def test_hu_path_must_sit_under_its_own_tenant(cast: Any, session: Session) -> None:
    unit = session.get(HandlingUnit, cast.unit.pingguo_housing)
    assert unit is not None
    assert groups.resolve(session, f"/451000/451022/hu-{unit.id}/handler") is None
    assert groups.resolve(session, f"/451000/451082/hu-{unit.id}/handler") is not None


def claims(username: str, *group_paths: str, roles: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"sub": f"kc-{username}", "preferred_username": username, "name": "韦统一", "email": f"{username}@x.cn",
            "groups": list(group_paths), "realm_access": {"roles": list(roles)}}


def grants_of(session: Session, user_id: int) -> set[tuple[int, str, int | None, int | None]]:
    return {(g.tenant_id, g.role, g.org_unit_id, g.handling_unit_id)
            for g in session.scalars(select(Grant).where(Grant.user_id == user_id))}


def test_first_sign_in_creates_the_user_with_the_groups_grants(cast: Any, session: Session) -> None:
    name = f"sso-{secrets.token_hex(3)}"
    result = sso.provision(session, claims(name, "/451000/451022/congress_admin",
                                           f"/451000/451082/joint-{cast.org.joint_node}/deputy",
                                           "/451000/451022/nowhere/deputy"))
    user = session.get(User, result.user_id)
    assert user is not None
    assert (user.username, user.display_name, user.external_id, user.tenant_id) == (
        name, "韦统一", f"kc-{name}", cast.tenant.tiandong)
    assert user.password_hash is None
    assert grants_of(session, user.id) == {
        (cast.tenant.tiandong, "congress_admin", cast.org.tiandong_root, None),
        (cast.tenant.pingguo, "deputy", cast.org.joint_node, None),
    }
    assert result.ignored_groups == ["/451000/451022/nowhere/deputy"]
    actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(user.id))))
    assert {"user.sso_provision", "user.login"} <= actions


def test_next_sign_in_replaces_the_grants_with_what_the_token_says(cast: Any, session: Session) -> None:
    name = f"sso-{secrets.token_hex(3)}"
    first = sso.provision(session, claims(name, "/451000/451022/congress_admin"))
    second = sso.provision(session, claims(name, "/451000/451022/451022100/township_chair",
                                           "/451000/451082/congress_admin"))
    assert first.user_id == second.user_id and second.changed
    assert grants_of(session, second.user_id) == {
        (cast.tenant.tiandong, "township_chair", cast.org.pingma, None),
        (cast.tenant.pingguo, "congress_admin", cast.org.pingguo_root, None),
    }
    third = sso.provision(session, claims(name, "/451000/451022/451022100/township_chair",
                                          "/451000/451082/congress_admin"))
    assert not third.changed


def test_realm_role_makes_a_platform_operator(cast: Any, session: Session) -> None:
    result = sso.provision(session, claims(f"op-{secrets.token_hex(3)}", roles=("platform_admin",)))
    user = session.get(User, result.user_id)
    assert user is not None and user.is_platform_admin


def test_no_known_group_refuses_and_creates_nobody(cast: Any, session: Session) -> None:
    name = f"sso-{secrets.token_hex(3)}"
    with pytest.raises(SsoError):
        sso.provision(session, claims(name, "/999999/nothing/deputy"))
    assert session.scalars(select(User).where(User.username == name)).first() is None


def test_existing_local_account_is_linked_by_user_name(cast: Any, session: Session) -> None:
    username = cast.username.tiandong_deputy
    station = f"/451000/451022/451022100/station-{cast.org.pingma_station}"
    result = sso.provision(session, claims(username, f"{station}/deputy"))
    assert result.user_id == cast.user.tiandong_deputy
    user = session.get(User, result.user_id)
    assert user is not None and user.external_id == f"kc-{username}"


def test_a_name_linked_to_another_subject_is_refused(cast: Any, session: Session) -> None:
    name = f"sso-{secrets.token_hex(3)}"
    sso.provision(session, claims(name, "/451000/451022/congress_admin"))
    other = claims(name, "/451000/451022/congress_admin") | {"sub": "kc-someone-else"}
    with pytest.raises(SsoError):
        sso.provision(session, other)
