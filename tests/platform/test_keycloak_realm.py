"""The Keycloak realm export mirrors the org tree, and ``sync_groups`` fills in what a live realm lacks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from keycloak.exceptions import KeycloakConnectionError, KeycloakGetError, KeycloakPostError
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from renda.platform.audit import AuditEntry
from renda.platform.config import Settings, get_settings
from renda.platform.identity import groups
from renda.platform.identity.keycloak_realm import (
    DuplicateGroupPath,
    SyncFailed,
    build_group_tree,
    build_realm,
    iter_groups,
    sync_groups,
    write_realm,
)
from renda.platform.tenancy import service as tenancy
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant
from renda.tenants.congress.roles import Role
from renda.web.cli import app as cli

PUBLIC = "https://renda.example.cn"
SETTINGS = Settings(keycloak_realm="renda-test", keycloak_client_id="renda-web-test")


def _realm(session: Session, **kwargs: Any) -> dict[str, Any]:
    return build_realm(session, SETTINGS, redirect_uris=[f"{PUBLIC}/login/sso/callback"],
                       post_logout_redirect_uris=[f"{PUBLIC}/login"], web_origins=[PUBLIC], **kwargs)


def _by_path(tree: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {g["path"]: g for g in iter_groups(tree)}


def _kind(group: dict[str, Any]) -> str:
    return group["attributes"]["renda_kind"][0]


def _expected_nodes(session: Session) -> list[OrgUnit]:
    """Every node that must have a group: not retired, not a village, in an active tenant."""
    return list(session.scalars(
        select(OrgUnit).join(Tenant, Tenant.id == OrgUnit.tenant_id)
        .where(Tenant.active.is_(True), OrgUnit.retired_at.is_(None), OrgUnit.kind != "village")
    ))


# --- the export ------------------------------------------------------------------------------------


def test_the_exported_realm_parses_and_configures_the_client(
    cast: Any, system_session: Session, tmp_path: Path,
) -> None:
    realm = _realm(system_session)
    written = write_realm(tmp_path / "keycloak" / "realm.json", realm)
    text = written.read_text(encoding="utf-8")
    assert json.loads(text) == realm
    assert "平马镇" in text  # UTF-8 as it is, not \\u escapes
    assert list(json.loads(text)) == sorted(realm)  # sorted keys: re-exports diff cleanly

    assert realm["realm"] == "renda-test" and realm["enabled"] is True
    assert (realm["accessTokenLifespan"], realm["ssoSessionIdleTimeout"], realm["ssoSessionMaxLifespan"]) == (
        300, 1800, 36000)
    assert realm["internationalizationEnabled"] is True
    assert realm["defaultLocale"] == "zh-CN" and set(realm["supportedLocales"]) == {"zh-CN", "en"}
    [role] = realm["roles"]["realm"]
    assert role["name"] == "platform_admin" and "平台管理员" in role["description"] and "Platform" in role[
        "description"]

    [client] = realm["clients"]
    assert client["clientId"] == "renda-web-test"
    assert client["publicClient"] is False and client["standardFlowEnabled"] is True
    assert client["directAccessGrantsEnabled"] is False and client["implicitFlowEnabled"] is False
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert client["attributes"]["post.logout.redirect.uris"] == f"{PUBLIC}/login"
    assert client["redirectUris"] == [f"{PUBLIC}/login/sso/callback"]
    assert client["webOrigins"] == [PUBLIC]
    assert "secret" not in client  # none given: Keycloak generates one
    mappers = {m["protocolMapper"]: m["config"] for m in client["protocolMappers"]}
    group_mapper = mappers["oidc-group-membership-mapper"]
    assert group_mapper["full.path"] == "true" and group_mapper["claim.name"] == "groups"
    assert all(group_mapper[k] == "true" for k in ("id.token.claim", "access.token.claim", "userinfo.token.claim"))
    assert mappers["oidc-usermodel-realm-role-mapper"]["claim.name"] == "realm_access.roles"

    placeholder = _realm(system_session, client_secret="${RENDA_KEYCLOAK_CLIENT_SECRET}")
    assert placeholder["clients"][0]["secret"] == "${RENDA_KEYCLOAK_CLIENT_SECRET}"


def test_every_active_node_has_its_group_at_its_path_with_a_leaf_per_role(
    cast: Any, system_session: Session,
) -> None:
    tree = build_group_tree(system_session)
    index = _by_path(tree)
    nodes = _expected_nodes(system_session)
    paths = groups.node_paths(system_session, nodes)
    for node in nodes:
        group = index.get(paths[node.id])
        assert group is not None, f"no group for {node.kind} {node.name} at {paths[node.id]}"
        assert group["name"] == groups.node_segment(node)
        assert group["attributes"]["renda_name"] == [node.name]
        assert group["attributes"]["renda_kind"] == [node.kind]
        leaves = {g["name"]: g for g in group["subGroups"] if _kind(g) == "role"}
        assert set(leaves) == set(groups.org_roles())
        assert Role.PLATFORM_ADMIN.value not in leaves and Role.HANDLER.value not in leaves
        for role in groups.org_roles():
            assert leaves[role]["path"] == f"{paths[node.id]}/{role}"

    units = list(system_session.scalars(
        select(HandlingUnit).join(Tenant, Tenant.id == HandlingUnit.tenant_id)
        .where(Tenant.active.is_(True), HandlingUnit.retired_at.is_(None))))
    roots = {t.id: t.root_org_unit_id for t in system_session.scalars(select(Tenant))}
    root_paths = groups.node_paths(system_session, [system_session.get(OrgUnit, r) for r in roots.values() if r])
    for unit in units:
        unit_path = f"{root_paths[roots[unit.tenant_id]]}/hu-{unit.id}"
        assert index[unit_path]["attributes"]["renda_name"] == [unit.name]
        assert [g["path"] for g in index[unit_path]["subGroups"]] == [f"{unit_path}/handler"]

    # The tree hangs together: each group sits under the group of its path's parent.
    for group in iter_groups(tree):
        for child in group["subGroups"]:
            assert child["path"] == f"{group['path']}/{child['name']}"
    assert all(g["path"] == f"/{g['name']}" for g in tree)
    assert "/451000/451022/451022100/township_chair" in index  # Tiandong under Baise, 平马镇 under Tiandong
    assert f"/451000/451082/joint-{cast.org.joint_node}/deputy" in index
    assert f"/451000/451022/451022100/station-{cast.org.pingma_station}/station_staff" in index
    assert f"/451000/451022/hu-{cast.unit.tiandong_transport}/handler" in index
    assert "/450100/450123/450123100" in index  # Long'an's township under Nanning's root


def test_every_leaf_resolves_to_its_node_and_role(cast: Any, system_session: Session) -> None:
    tree = build_group_tree(system_session)
    index = _by_path(tree)
    leaves = [g for g in iter_groups(tree) if _kind(g) == "role"]
    assert len(leaves) >= 14 * len(groups.org_roles()) + 4  # at least the cast: 14 nodes, 4 handling units
    for leaf in leaves:
        owner = index[leaf["path"].rsplit("/", 1)[0]]
        grant = groups.resolve(system_session, leaf["path"])
        assert grant is not None, leaf["path"]
        assert grant.role == Role(leaf["name"]) == Role(leaf["attributes"]["renda_role"][0])
        assert grant.tenant_id == int(owner["attributes"]["renda_tenant_id"][0])
        owner_id = int(owner["attributes"]["renda_id"][0])
        if _kind(owner) == "handling_unit":
            assert (grant.handling_unit_id, grant.org_unit_id) == (owner_id, None)
        else:
            assert (grant.org_unit_id, grant.handling_unit_id) == (owner_id, None)


def test_retired_units_villages_and_inactive_tenants(
    cast: Any, system_session: Session, principal_of: Any,
) -> None:
    actor = principal_of(system_session, "platform_admin")  # a platform operator sees everything
    tiandong = system_session.get(Tenant, cast.tenant.tiandong)
    assert tiandong is not None
    village = tenancy.add_org_unit(system_session, actor, tiandong, parent_id=cast.org.pingma, kind="village",
                                   name="测试村", code="451022100299")
    gone = tenancy.add_org_unit(system_session, actor, tiandong, parent_id=cast.org.pingma, kind="station",
                                name="已撤销联络站")
    tenancy.retire_org_unit(system_session, actor, tiandong, gone.id)
    tenancy.set_handling_unit_retired(system_session, actor, tiandong, cast.unit.tiandong_court, True)
    nanning = system_session.get(Tenant, cast.tenant.nanning)
    assert nanning is not None
    nanning.active = False
    system_session.flush()

    index = _by_path(build_group_tree(system_session))
    pingma = "/451000/451022/451022100"
    assert f"{pingma}/station-{gone.id}" not in index
    assert not any(p.startswith(f"{pingma}/station-{gone.id}") for p in index)
    assert f"/451000/451022/hu-{cast.unit.tiandong_court}" not in index
    assert f"/451000/451022/hu-{cast.unit.tiandong_transport}/handler" in index
    assert f"{pingma}/451022100299" not in index  # villages have no roles: left out by default
    # An inactive city keeps its root as a bare container, so its active counties' paths hold.
    assert [g["name"] for g in index["/450100"]["subGroups"]] == ["450123"]
    assert "/450100/450123/congress_admin" in index

    with_villages = _by_path(build_group_tree(system_session, include_villages=True))
    assert with_villages[f"{pingma}/451022100299"]["attributes"]["renda_kind"] == ["village"]
    assert f"{pingma}/451022100299/deputy" in with_villages
    assert groups.resolve(system_session, f"{pingma}/451022100299/deputy") is not None
    assert village.id == int(with_villages[f"{pingma}/451022100299"]["attributes"]["renda_id"][0])


def test_a_division_code_repeated_in_another_tenant_is_refused_not_exported(
    cast: Any, system_session: Session, principal_of: Any,
) -> None:
    actor = principal_of(system_session, "platform_admin")
    city = system_session.get(Tenant, cast.tenant.city)
    assert city is not None
    # Codes are unique per tenant only: Baise may give one of its own nodes Tiandong's code.
    twin = tenancy.add_org_unit(system_session, actor, city, parent_id=cast.org.city_root, kind="township",
                                name="代码重复镇", code="451022")
    with pytest.raises(DuplicateGroupPath) as refused:
        build_group_tree(system_session)
    assert refused.value.path == "/451000/451022"
    assert set(refused.value.node_ids) == {cast.org.tiandong_root, twin.id}


def test_the_tree_costs_the_same_few_statements_however_large(
    cast: Any, system_session: Session, principal_of: Any,
) -> None:
    statements: list[str] = []
    connection = system_session.connection()

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    build_group_tree(system_session)  # warm: whatever the session still had to load
    event.listen(connection, "before_cursor_execute", count)
    try:
        build_group_tree(system_session)
        small = len(statements)
        actor = principal_of(system_session, "platform_admin")
        tiandong = system_session.get(Tenant, cast.tenant.tiandong)
        assert tiandong is not None
        for i in range(10):
            tenancy.add_org_unit(system_session, actor, tiandong, parent_id=cast.org.shuoliang, kind="station",
                                 name=f"计数联络站{i}")
        system_session.flush()
        statements.clear()
        build_group_tree(system_session)
        assert len(statements) == small <= 4
    finally:
        event.remove(connection, "before_cursor_execute", count)


# --- keeping a live realm in step ------------------------------------------------------------------


class RemoteKeycloakStandIn:
    """Stands in for a remote Keycloak that cannot run here: only the admin API calls sync_groups
    makes (python-keycloak's KeycloakAdmin.get_groups / get_group_by_path / create_group), over a
    dict of the group paths that exist, with Keycloak's answers (404 for an unknown path, 409 for a
    duplicate name under one parent)."""

    def __init__(self, existing: Sequence[str] = (), fail_after: int | None = None) -> None:
        self.by_path: dict[str, dict[str, Any]] = {}
        self.by_id: dict[str, dict[str, Any]] = {}
        self.created: list[tuple[str, str | None]] = []  # (path, parent path)
        self.fail_after = fail_after
        for path in existing:
            parent = None
            for depth in range(1, path.count("/") + 1):
                prefix = "/" + "/".join(path.strip("/").split("/")[:depth])
                parent = self.by_path.get(prefix) or self._store(prefix, parent, {})
            assert parent is not None

    def _store(self, path: str, parent: dict[str, Any] | None, attributes: dict[str, Any]) -> dict[str, Any]:
        group = {"id": str(uuid.uuid4()), "name": path.rsplit("/", 1)[1], "path": path,
                 "parentId": parent["id"] if parent else None, "attributes": attributes}
        self.by_path[path] = self.by_id[group["id"]] = group
        return group

    def get_groups(self, query: dict[str, Any] | None = None, full_hierarchy: bool = False) -> list[dict[str, Any]]:
        return [dict(g) for g in self.by_path.values() if g["parentId"] is None]

    def get_group_by_path(self, path: str) -> dict[str, Any]:
        if path not in self.by_path:
            raise KeycloakGetError(error_message="Group path does not exist", response_code=404)
        return dict(self.by_path[path])

    def create_group(self, payload: dict[str, Any], parent: str | None = None,
                     skip_exists: bool = False) -> str | None:
        if self.fail_after is not None and len(self.created) >= self.fail_after:
            raise KeycloakConnectionError("Can't connect to server")
        parent_group = self.by_id[parent] if parent is not None else None
        path = f"{parent_group['path'] if parent_group else ''}/{payload['name']}"
        if path in self.by_path:
            if skip_exists:
                return None
            raise KeycloakPostError(error_message="Top level group named already exists.", response_code=409)
        group = self._store(path, parent_group, payload.get("attributes") or {})
        self.created.append((path, parent_group["path"] if parent_group else None))
        return group["id"]


def _sync_entries(session: Session, after_id: int) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "keycloak.sync",
                                                         AuditEntry.id > after_id).order_by(AuditEntry.id)))


def test_sync_creates_exactly_the_missing_groups_under_the_right_parents(
    cast: Any, system_session: Session,
) -> None:
    realm = _realm(system_session)
    tree_paths = [g["path"] for g in iter_groups(realm["groups"])]
    tenant_of = {g["path"]: int(g["attributes"]["renda_tenant_id"][0]) for g in iter_groups(realm["groups"])}
    existing = ["/451000/451022/congress_admin", f"/451000/451022/hu-{cast.unit.tiandong_transport}/handler",
                "/unrelated/group"]
    remote = RemoteKeycloakStandIn(existing)
    present = set(remote.by_path)
    last = system_session.scalar(select(func.max(AuditEntry.id))) or 0

    result = sync_groups(system_session, remote, realm, actor_id=cast.user.platform_admin)

    missing = [p for p in tree_paths if p not in present]
    assert result.created == missing  # parents before children, in the tree's order
    assert result.existing == len(tree_paths) - len(missing)
    assert {p for p, _ in remote.created} == set(missing)
    for path, parent in remote.created:
        assert parent == (path.rsplit("/", 1)[0] or None)
    assert remote.by_path["/unrelated/group"]  # nothing is ever deleted
    assert set(tree_paths) <= set(remote.by_path)
    assert remote.by_path["/451000/451022/451022100"]["attributes"]["renda_name"] == ["平马镇"]

    entries = _sync_entries(system_session, last)
    assert [e.tenant_id for e in entries] == sorted({tenant_of[p] for p in missing})
    for entry in entries:
        assert entry.actor_user_id == cast.user.platform_admin
        assert entry.after == {"created": [p for p in missing if tenant_of[p] == entry.tenant_id]}
    assert cast.tenant.tiandong in {e.tenant_id for e in entries}

    again = sync_groups(system_session, remote, realm)
    assert again.created == [] and again.existing == len(tree_paths)
    assert len(remote.created) == len(missing)
    assert len(_sync_entries(system_session, last)) == len(entries)  # nothing created, nothing audited


def test_a_sync_cut_short_keeps_and_audits_what_it_made(cast: Any, system_session: Session) -> None:
    tree = build_group_tree(system_session)
    remote = RemoteKeycloakStandIn(fail_after=5)
    last = system_session.scalar(select(func.max(AuditEntry.id))) or 0
    with pytest.raises(SyncFailed) as failed:
        sync_groups(system_session, remote, tree)
    assert isinstance(failed.value.cause, KeycloakConnectionError)
    assert failed.value.result.created == [p for p, _ in remote.created] and len(remote.created) == 5
    entries = _sync_entries(system_session, last)
    assert sum(len(e.after["created"]) for e in entries if e.after) == 5

    resumed = sync_groups(system_session, RemoteKeycloakStandIn([p for p, _ in remote.created]), tree)
    assert set(resumed.created).isdisjoint(p for p, _ in remote.created)


# --- the commands ----------------------------------------------------------------------------------


@pytest.fixture
def keycloak_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings are read once per process: clear them around a test that changes RENDA_KEYCLOAK_*."""
    for name in ("RENDA_KEYCLOAK_URL", "RENDA_PUBLIC_URL", "RENDA_KEYCLOAK_ADMIN_USER",
                 "RENDA_KEYCLOAK_ADMIN_PASSWORD", "RENDA_KEYCLOAK_ADMIN_CLIENT_ID",
                 "RENDA_KEYCLOAK_ADMIN_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def test_export_realm_command_writes_the_import(
    cast: Any, database_url: str, tmp_path: Path, keycloak_env: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "realm.json"
    result = CliRunner().invoke(cli, ["--database-url", database_url, "keycloak", "export-realm", "--output",
                                      str(out), "--public-url", f"{PUBLIC}/"])
    assert result.exit_code == 0, result.output
    realm = json.loads(out.read_text(encoding="utf-8"))
    [client] = realm["clients"]
    assert client["redirectUris"] == [f"{PUBLIC}/login/sso/callback"]
    assert client["attributes"]["post.logout.redirect.uris"] == f"{PUBLIC}/login"
    assert client["secret"] == "${RENDA_KEYCLOAK_CLIENT_SECRET}"
    assert "/451000/451022/451022100/township_chair" in _by_path(realm["groups"])


def test_sync_command_says_what_is_missing_in_one_line(
    cast: Any, database_url: str, keycloak_env: pytest.MonkeyPatch,
) -> None:
    runner = CliRunner()
    unset = runner.invoke(cli, ["--database-url", database_url, "keycloak", "sync", "--admin-user", "a",
                                "--admin-password", "b"])
    assert unset.exit_code == 1 and isinstance(unset.exception, SystemExit)
    assert "未配置 Keycloak" in unset.output and "set RENDA_KEYCLOAK_URL" in unset.output

    keycloak_env.setenv("RENDA_KEYCLOAK_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    get_settings.cache_clear()
    no_login = runner.invoke(cli, ["--database-url", database_url, "keycloak", "sync"])
    assert no_login.exit_code == 1 and "RENDA_KEYCLOAK_ADMIN_USER" in no_login.output

    unreachable = runner.invoke(cli, ["--database-url", database_url, "keycloak", "sync"],
                                env={"RENDA_KEYCLOAK_ADMIN_USER": "admin", "RENDA_KEYCLOAK_ADMIN_PASSWORD": "x"})
    assert unreachable.exit_code == 1 and isinstance(unreachable.exception, SystemExit)
    assert "无法连接 Keycloak" in unreachable.output and "cannot reach Keycloak" in unreachable.output
    assert "Traceback" not in unreachable.output
