"""Just-in-time provisioning from an identity provider's claims.

On every sign-in the token is the truth: the user record is created or updated from the standard
claims, and the user's grants are replaced by those its group paths name (platform/identity/groups).
A group path that names no known node is ignored and logged, never guessed at.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform import audit
from renda.platform.access.roles import PLATFORM_ADMIN
from renda.platform.db import Scope, get_scope, set_scope, utcnow
from renda.platform.errors import N_
from renda.platform.identity import groups
from renda.platform.identity.models import Grant, User
from renda.platform.identity.oidc import SsoError
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant

log = logging.getLogger("renda.sso")


@dataclass
class Provisioned:
    user_id: int
    ignored_groups: list[str] = field(default_factory=list)
    changed: bool = False


GrantKey = tuple[int, str, int | None, int | None]


def _key(g: Grant | groups.GroupGrant) -> GrantKey:
    return (g.tenant_id, g.role, g.org_unit_id, g.handling_unit_id)


def provision(session: Session, claims: dict[str, Any]) -> Provisioned:
    """Create or update the user the claims describe and give them exactly the grants they name.

    Runs under the system scope: the claims, checked by the caller, decide what is written.
    """
    previous = get_scope(session)
    session.flush()
    set_scope(session, Scope.system())
    try:
        result = _provision(session, claims)
        session.flush()
        return result
    finally:
        set_scope(session, previous)


def _provision(session: Session, claims: dict[str, Any]) -> Provisioned:
    subject = str(claims.get("sub") or "")
    username = str(claims.get("preferred_username") or subject)
    realm_roles = set((claims.get("realm_access") or {}).get("roles") or [])
    is_admin = PLATFORM_ADMIN in realm_roles

    wanted: dict[GrantKey, groups.GroupGrant] = {}
    ignored: list[str] = []
    for path in claims.get("groups") or []:
        found = groups.resolve(session, str(path))
        if found is None:
            ignored.append(str(path))
        else:
            wanted.setdefault(_key(found), found)
    if ignored:
        log.warning("sign-in of %s: ignored group paths that name nothing known: %s", username, ignored)
    if not wanted and not is_admin:
        raise SsoError(N_("Your unified identity account holds no role in this system yet. Ask your "
                          "congress office to add you to the right group."), f"no known groups for {username}")

    user = session.scalars(select(User).where(User.external_id == subject)).first()
    if user is None:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is not None and user.external_id not in (None, subject):
            raise SsoError(N_("This user name belongs to another account. Ask the operator to resolve it."),
                           f"username {username} is linked to another subject")
    if user is not None and not user.active:
        raise SsoError(N_("This account has been deactivated."), f"{username} is inactive")

    home = next(iter(wanted.values())).tenant_id if wanted else _top_tenant(session)
    created = user is None
    if user is None:
        user = User(tenant_id=home, username=username, display_name="", password_hash=None)
        session.add(user)
    before = audit.snapshot(user, "username", "display_name", "email", "is_platform_admin") if not created else None
    user.external_id = subject
    user.display_name = str(claims.get("name") or username)[:100]
    user.email = str(claims.get("email") or "")[:255]
    user.is_platform_admin = is_admin
    user.last_login_at = utcnow()
    session.flush()

    current = {_key(g): g for g in session.scalars(select(Grant).where(Grant.user_id == user.id))}
    removed = [g for k, g in current.items() if k not in wanted]
    added = [g for k, g in wanted.items() if k not in current]
    for grant in removed:
        session.delete(grant)
    paths = _scope_paths(session, added)
    for g in added:
        session.add(Grant(tenant_id=g.tenant_id, user_id=user.id, role=g.role, org_unit_id=g.org_unit_id,
                          handling_unit_id=g.handling_unit_id, scope_path=paths[_key(g)], source="keycloak"))
    changed = created or bool(removed or added)
    if changed:
        touched = {g.tenant_id for g in removed} | {g.tenant_id for g in added} | {user.tenant_id}
        for tenant_id in sorted(touched):
            audit.record(
                session, tenant_id=tenant_id, actor_id=user.id, action="user.sso_provision", obj=user,
                before={"grants": [_describe(g) for g in removed if g.tenant_id == tenant_id], **(before or {})},
                after={"grants": [g.path for g in added if g.tenant_id == tenant_id], "created": created},
            )
    audit.record(session, tenant_id=user.tenant_id, actor_id=user.id, action="user.login",
                 object_type="users", object_id=user.id, after={"method": "sso"})
    return Provisioned(user.id, ignored, changed)


def _describe(grant: Grant) -> str:
    return f"{grant.role}@{grant.scope_path}"


def _scope_paths(session: Session, added: list[groups.GroupGrant]) -> dict[GrantKey, str]:
    """The org-tree path each new grant covers (the node's, or the handling unit's)."""
    out: dict[GrantKey, str] = {}
    for g in added:
        node = (session.get(OrgUnit, g.org_unit_id) if g.org_unit_id is not None
                else session.get(HandlingUnit, g.handling_unit_id))
        assert node is not None  # resolve() found it in this transaction
        out[_key(g)] = node.path
    return out


def _top_tenant(session: Session) -> int:
    tenant = session.scalars(select(Tenant).where(Tenant.parent_id.is_(None)).order_by(Tenant.id)).first()
    if tenant is None:
        raise SsoError(N_("No congress has been set up yet."), "no tenants")
    return tenant.id
