"""Principals and ``can(principal, permission, target)``.

A grant covers its scope node and everything under it: a target is covered when its path starts
with the grant's scope path. A record of a joint station is also covered for the staff of every
member tenant (a grant on a member tenant's root node), as the station's members co-supervise it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from renda.platform.access.roles import PLATFORM_ADMIN, permissions_of
from renda.platform.db import Scope


@dataclass(frozen=True)
class GrantView:
    role: str  # a declared role's name (renda.platform.access.roles)
    tenant_id: int
    scope_path: str
    org_unit_id: int | None = None
    handling_unit_id: int | None = None
    is_tenant_root: bool = False  # the grant sits on its tenant's root node


@dataclass(frozen=True)
class Target:
    """Where an action lands: a tenant, and a path in the org tree (a node, a unit, a record's home)."""

    tenant_id: int
    path: str
    joint_member_tenant_ids: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    grants: tuple[GrantView, ...] = ()
    is_platform_admin: bool = False
    scope: Scope = field(default_factory=Scope)

    def roles_in(self, tenant_id: int) -> set[str]:
        return {g.role for g in self.grants if g.tenant_id == tenant_id}

    def permissions_in(self, tenant_id: int) -> set[str]:
        """Permissions held anywhere in (or above) a tenant, for navigation; actions still ask can()."""
        if self.is_platform_admin:
            return set(permissions_of(PLATFORM_ADMIN))
        perms: set[str] = set()
        for g in self.grants:
            if g.tenant_id == tenant_id or (g.is_tenant_root and tenant_id in self.scope.tenant_ids):
                perms |= permissions_of(g.role)
        return perms


def covers(grant: GrantView, target: Target) -> bool:
    if target.path.startswith(grant.scope_path):
        return True
    return grant.is_tenant_root and grant.tenant_id in target.joint_member_tenant_ids


def can(principal: Principal, permission: str, target: Target) -> bool:
    if principal.is_platform_admin:
        return True
    return any(permission in permissions_of(g.role) and covers(g, target) for g in principal.grants)


class AccessDenied(PermissionError):
    """The principal may not do this here. Pages show the 403 page."""

    def __init__(self, permission: str, message: str | None = None) -> None:
        super().__init__(message or f"permission {permission} denied")
        self.permission = permission


def require(principal: Principal, permission: str, target: Target) -> None:
    if not can(principal, permission, target):
        raise AccessDenied(permission)


def require_in(principal: Principal, permission: str, tenant_id: int) -> None:
    """Refuse a principal who holds ``permission`` nowhere in (or above) the tenant.

    What a tenant's administration pages ask before showing anything; each action on a node then asks
    ``require`` for that node.
    """
    if permission not in principal.permissions_in(tenant_id):
        raise AccessDenied(permission)
