"""The Keycloak realm that mirrors the org tree: its import file, and keeping a live realm's groups in step.

``build_realm`` writes what Keycloak's own import reads (``kc.sh import``, ``start --import-realm``):
the realm's token lifetimes and languages, the realm role ``platform_admin``, the web client
(confidential, code flow with PKCE S256, group paths and realm roles in its tokens) and the group
tree: every active node of every active tenant at its ``groups.node_paths`` path with one leaf per
role of ``groups.org_roles()``, and every handling unit as ``hu-{id}`` under its tenant's root with
the ``groups.unit_roles()`` leaves. ``sync_groups`` creates the groups a live realm is missing after
the org tree has grown; it never deletes or renames anything in Keycloak.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from keycloak.exceptions import KeycloakGetError
from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform import audit
from renda.platform.access.roles import PLATFORM_ADMIN
from renda.platform.config import Settings
from renda.platform.db import get_scope
from renda.platform.identity import groups
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant

# Realm-wide settings. Renda keeps its own server-side session (RENDA_SESSION_LIFETIME_SECONDS) and
# renews the tokens while it lasts, so Keycloak's access tokens stay short.
TOKEN_LIFETIMES: dict[str, Any] = {
    "accessTokenLifespan": 300,  # 5 minutes
    "accessCodeLifespan": 60,
    "accessCodeLifespanLogin": 1800,
    "ssoSessionIdleTimeout": 1800,  # 30 minutes without activity
    "ssoSessionMaxLifespan": 36000,  # 10 hours: one working day
    "offlineSessionIdleTimeout": 604800,  # 7 days (Renda asks for no offline tokens)
    "offlineSessionMaxLifespanEnabled": True,
    "offlineSessionMaxLifespan": 2592000,  # 30 days
}
LOCALES = ["zh-CN", "en"]
DEFAULT_LOCALE = "zh-CN"

PLATFORM_ADMIN_DESCRIPTION = (
    "平台管理员：运维整个部署，可见并管理所有租户。"
    " / Platform operator: runs the deployment, sees and administers every tenant."
)

# What Keycloak's startup import (``--import-realm``) replaces with the environment variable of
# Keycloak's own process; any other import route keeps the text literally (see the README).
SECRET_PLACEHOLDER = "${RENDA_KEYCLOAK_CLIENT_SECRET}"  # noqa: S105 - a placeholder, not a secret

KIND_HANDLING_UNIT = "handling_unit"
KIND_ROLE = "role"


# --- the realm -------------------------------------------------------------------------------------


def _token_claims() -> dict[str, str]:
    return {
        "id.token.claim": "true",
        "access.token.claim": "true",
        "userinfo.token.claim": "true",
        "introspection.token.claim": "true",
    }


def protocol_mappers() -> list[dict[str, Any]]:
    """The group paths (``groups``), realm roles (``realm_access.roles``) and deputy number in every token."""
    return [
        {
            "name": "groups",
            "protocol": "openid-connect",
            "protocolMapper": "oidc-group-membership-mapper",
            "consentRequired": False,
            "config": {"claim.name": "groups", "full.path": "true", **_token_claims()},
        },
        {
            "name": "realm roles",
            "protocol": "openid-connect",
            "protocolMapper": "oidc-usermodel-realm-role-mapper",
            "consentRequired": False,
            "config": {
                "claim.name": "realm_access.roles",
                "jsonType.label": "String",
                "multivalued": "true",
                **_token_claims(),
            },
        },
        {
            # The office's deputy number (代表编号), kept as the user attribute deputy_code:
            # a sign-in links the account to the deputy record that carries it.
            "name": "deputy code",
            "protocol": "openid-connect",
            "protocolMapper": "oidc-usermodel-attribute-mapper",
            "consentRequired": False,
            "config": {"user.attribute": "deputy_code", "claim.name": "deputy_code", "jsonType.label": "String",
                       **_token_claims()},
        },
    ]


def build_client(
    settings: Settings, *, redirect_uris: Sequence[str], post_logout_redirect_uris: Sequence[str],
    web_origins: Sequence[str], client_secret: str | None = None,
) -> dict[str, Any]:
    """The web application's client: confidential, authorization code with PKCE S256 only."""
    client: dict[str, Any] = {
        "clientId": settings.keycloak_client_id,
        "name": "人大履职平台 Renda",
        "description": "Renda web application / 人大履职平台网页端",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "clientAuthenticatorType": "client-secret",
        "standardFlowEnabled": True,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": False,
        "consentRequired": False,
        "frontchannelLogout": False,
        "fullScopeAllowed": True,
        "redirectUris": list(redirect_uris),
        "webOrigins": list(web_origins),
        "attributes": {
            "pkce.code.challenge.method": "S256",
            "post.logout.redirect.uris": "##".join(post_logout_redirect_uris),
        },
        "protocolMappers": protocol_mappers(),
    }
    if client_secret is not None:
        client["secret"] = client_secret
    return client


def build_realm(
    session: Session, settings: Settings, *, redirect_uris: list[str], post_logout_redirect_uris: list[str],
    web_origins: list[str], include_villages: bool = False, client_secret: str | None = None,
) -> dict[str, Any]:
    """The realm representation for Keycloak's import, with the whole org tree as groups.

    The session must see every tenant (``Scope.system()``). ``client_secret`` None leaves the
    secret out (Keycloak then generates one); ``SECRET_PLACEHOLDER`` lets ``--import-realm`` fill
    it in from Keycloak's environment.
    """
    return {
        "realm": settings.keycloak_realm,
        "displayName": "人大履职平台 Renda",
        "enabled": True,
        "sslRequired": "external",
        "registrationAllowed": False,
        "loginWithEmailAllowed": True,
        "duplicateEmailsAllowed": False,
        "rememberMe": False,
        "bruteForceProtected": True,
        **TOKEN_LIFETIMES,
        "internationalizationEnabled": True,
        "supportedLocales": list(LOCALES),
        "defaultLocale": DEFAULT_LOCALE,
        "roles": {
            "realm": [
                {"name": PLATFORM_ADMIN, "description": PLATFORM_ADMIN_DESCRIPTION,
                 "composite": False, "clientRole": False},
            ],
        },
        "clients": [
            build_client(settings, redirect_uris=redirect_uris, post_logout_redirect_uris=post_logout_redirect_uris,
                         web_origins=web_origins, client_secret=client_secret),
        ],
        "groups": build_group_tree(session, include_villages=include_villages),
    }


def write_realm(path: Path | str, realm: dict[str, Any]) -> Path:
    """Pretty, UTF-8 (Chinese kept readable), keys sorted so that re-exports diff cleanly."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(realm, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return target


# --- the group tree --------------------------------------------------------------------------------


def _ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part.isdigit()]


def _attributes(name: str, kind: str, tenant: Tenant | None, **extra: str) -> dict[str, list[str]]:
    attrs = {"renda_name": [name], "renda_kind": [kind], **{k: [v] for k, v in extra.items()}}
    if tenant is not None:
        attrs["renda_tenant"] = [tenant.slug]
        attrs["renda_tenant_id"] = [str(tenant.id)]
    return attrs


def _group(name: str, path: str, attributes: dict[str, list[str]]) -> dict[str, Any]:
    return {"name": name, "path": path, "attributes": attributes, "subGroups": []}


def _role_leaves(path: str, roles: Sequence[str], name: str, tenant: Tenant) -> list[dict[str, Any]]:
    return [
        _group(role, leaf, _attributes(name, KIND_ROLE, tenant, renda_role=role))
        for role, leaf in zip(roles, groups.role_group_paths(path, roles), strict=True)
    ]


class DuplicateGroupPath(ValueError):
    """Two nodes would share one group (a division code used in two tenants): Keycloak refuses
    sibling groups of the same name, and a token could not say which node it meant."""

    def __init__(self, path: str, node_ids: list[int]) -> None:
        super().__init__(f"org units {node_ids} would all be the group {path}")
        self.path, self.node_ids = path, node_ids


def build_group_tree(session: Session, *, include_villages: bool = False) -> list[dict[str, Any]]:
    """The top-level groups of the org tree, nested as the tree is (a city's root holds its counties').

    Four statements whatever the size of the tree: tenants, org units, handling units, and the
    ancestors ``groups.node_paths`` loads (already in the session by then). A node belongs in the
    tree when its tenant is active, it is not retired and (unless ``include_villages``) it is not a
    village; it gets one leaf per org role. An ancestor that does not belong itself (the root of an
    inactive city above an active county) is kept as a bare container so that paths hold. Raises
    ``DuplicateGroupPath`` when two nodes come out at one path.
    """
    if not get_scope(session).everything:
        raise ValueError("the realm's group tree is built under Scope.system(): it spans every tenant")
    tenants = {t.id: t for t in session.scalars(select(Tenant))}
    nodes = {n.id: n for n in session.scalars(select(OrgUnit).order_by(OrgUnit.id))}
    units = list(session.scalars(select(HandlingUnit).where(HandlingUnit.retired_at.is_(None))
                                 .order_by(HandlingUnit.id)))

    def active(tenant_id: int) -> bool:
        tenant = tenants.get(tenant_id)
        return tenant is not None and tenant.active

    members = {
        n.id for n in nodes.values()
        if n.retired_at is None and active(n.tenant_id) and (include_villages or n.kind != "village")
    }
    shown = {i for node_id in members for i in _ids(nodes[node_id].path) if i in nodes}
    paths = groups.node_paths(session, [nodes[i] for i in sorted(shown)])
    owners: dict[str, list[int]] = {}
    for node_id, path in paths.items():
        owners.setdefault(path, []).append(node_id)
    for path, node_ids in owners.items():
        if len(node_ids) > 1:
            raise DuplicateGroupPath(path, sorted(node_ids))

    by_id: dict[int, dict[str, Any]] = {}
    top: list[dict[str, Any]] = []
    # Parents before children: a node's path is its ancestors' ids, so shorter chains come first.
    for node_id in sorted(shown, key=lambda i: (len(_ids(nodes[i].path)), i)):
        node = nodes[node_id]
        tenant = tenants.get(node.tenant_id)
        group = _group(groups.node_segment(node), paths[node_id],
                       _attributes(node.name, node.kind, tenant, renda_id=str(node.id)))
        if node_id in members and tenant is not None:
            group["subGroups"].extend(_role_leaves(paths[node_id], groups.org_roles(), node.name, tenant))
        chain = [i for i in _ids(node.path) if i in nodes]
        parent = by_id.get(chain[-2]) if len(chain) > 1 else None
        (parent["subGroups"] if parent is not None else top).append(group)
        by_id[node_id] = group

    for unit in units:
        tenant = tenants.get(unit.tenant_id)
        root_group = by_id.get(tenant.root_org_unit_id) if tenant and tenant.root_org_unit_id else None
        if tenant is None or not tenant.active or root_group is None:
            continue
        path = f"{root_group['path']}/{groups.unit_segment(unit)}"
        group = _group(groups.unit_segment(unit), path,
                       _attributes(unit.name, KIND_HANDLING_UNIT, tenant, renda_id=str(unit.id),
                                   renda_category=unit.category))
        group["subGroups"].extend(_role_leaves(path, groups.unit_roles(), unit.name, tenant))
        root_group["subGroups"].append(group)

    _sort(top)
    return top


def _sort(level: list[dict[str, Any]]) -> None:
    """Role leaves first (in org_roles() order), then nodes by segment, handling units by id."""
    role_order = {r: i for i, r in enumerate((*groups.org_roles(), *groups.unit_roles()))}

    def key(g: dict[str, Any]) -> tuple[int, int, str]:
        kind = g["attributes"]["renda_kind"][0]
        if kind == KIND_ROLE:
            return (0, role_order.get(g["name"], 99), "")
        if kind == KIND_HANDLING_UNIT:
            return (2, int(g["name"].removeprefix("hu-")), "")
        return (1, 0, g["name"])

    level.sort(key=key)
    for g in level:
        _sort(g["subGroups"])


def iter_groups(tree: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """Every group of a tree, parents before their children."""
    for group in tree:
        yield group
        yield from iter_groups(group.get("subGroups") or [])


# --- keeping a live realm in step ------------------------------------------------------------------


class GroupAdmin(Protocol):
    """What ``sync_groups`` needs of python-keycloak's ``KeycloakAdmin``."""

    def get_group_by_path(self, path: str) -> dict[str, Any]: ...

    def create_group(self, payload: dict[str, Any], parent: str | None = None,
                     skip_exists: bool = False) -> str | None: ...


@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)  # group paths, parents before children
    existing: int = 0
    by_tenant: dict[int, list[str]] = field(default_factory=dict)


class SyncFailed(Exception):
    """Keycloak failed part-way; ``result`` holds what was created (and audited) before it did."""

    def __init__(self, result: SyncResult, cause: Exception) -> None:
        super().__init__(str(cause))
        self.result, self.cause = result, cause


def _find(admin: GroupAdmin, path: str) -> dict[str, Any] | None:
    try:
        found = admin.get_group_by_path(path)
    except KeycloakGetError as exc:
        if exc.response_code == 404:
            return None
        raise
    return found if isinstance(found, dict) and found.get("id") else None


def _tenant_of(group: dict[str, Any]) -> int | None:
    value = (group.get("attributes") or {}).get("renda_tenant_id") or []
    return int(value[0]) if value and str(value[0]).isdigit() else None


def sync_groups(
    session: Session, admin: GroupAdmin, realm_or_tree: dict[str, Any] | list[dict[str, Any]], *,
    actor_id: int | None = None,
) -> SyncResult:
    """Create, in the live realm, every group of the tree it is missing; delete nothing.

    ``realm_or_tree`` is what ``build_realm`` returns or its ``groups``. Groups are looked up by
    path; below a group created now nothing can exist yet, so its subtree is created without
    lookups. One audit entry per tenant whose groups were created (``keycloak.sync``), in the
    caller's transaction; the session must be allowed to write in those tenants (the CLI runs
    under ``Scope.system()``).
    """
    tree = (realm_or_tree.get("groups") or []) if isinstance(realm_or_tree, dict) else realm_or_tree
    result = SyncResult()

    def walk(level: list[dict[str, Any]], parent_id: str | None, parent_is_new: bool) -> None:
        for group in level:
            path = group["path"]
            found = None if parent_is_new else _find(admin, path)
            is_new = found is None
            if found is None:
                payload = {"name": group["name"], "attributes": group.get("attributes") or {}}
                group_id = admin.create_group(payload, parent=parent_id, skip_exists=True)
                if group_id is None:  # created meanwhile by someone else
                    found = _find(admin, path)
                    if found is None:
                        raise LookupError(f"Keycloak did not create the group {path}")
                    is_new, group_id = False, found["id"]
                else:
                    result.created.append(path)
                    tenant_id = _tenant_of(group)
                    if tenant_id is not None:
                        result.by_tenant.setdefault(tenant_id, []).append(path)
            else:
                result.existing += 1
                group_id = found["id"]
            walk(group.get("subGroups") or [], group_id, is_new)

    try:
        walk(tree, None, False)
    except Exception as exc:
        _audit(session, result, actor_id)
        raise SyncFailed(result, exc) from exc
    _audit(session, result, actor_id)
    return result


def _audit(session: Session, result: SyncResult, actor_id: int | None) -> None:
    for tenant_id, created in sorted(result.by_tenant.items()):
        audit.record(session, tenant_id=tenant_id, actor_id=actor_id, action="keycloak.sync",
                     object_type="tenants", object_id=tenant_id, after={"created": created})
