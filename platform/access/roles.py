"""Roles and the permissions each carries: the mechanism, and the kernel's own few.

The kernel defines the permissions its own pages need (tenants, the org tree, users, handling units,
the audit log) and the platform operator's role. Every other role, and which permissions a role
carries, is declared by the modules that use them (``renda.platform.modules``): a congress module
adds ``suggestion.reply`` to the handler's role, say, without the kernel knowing either word.
Roles stay fixed in code — a role is a contract, not data — but the code that fixes them is the
module's, collected when the deployment's modules are installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class KernelPermission(StrEnum):
    TENANT_VIEW = "tenant.view"
    TENANT_MANAGE = "tenant.manage"  # settings, tenant-wide administration
    ORG_MANAGE = "org.manage"
    USER_MANAGE = "user.manage"
    HANDLING_UNIT_MANAGE = "handling_unit.manage"
    AUDIT_VIEW = "audit.view"


PLATFORM_ADMIN = "platform_admin"  # a realm-wide operator: every permission, in every tenant


@dataclass(frozen=True)
class RoleSpec:
    """A role a module declares: its name (the grant's and the Keycloak group's), and where it is granted."""

    name: str
    on_handling_unit: bool = False  # granted on a handling unit rather than on an org node


class RoleRegistry:
    """The roles and permissions of the installed modules (see ``renda.platform.modules.install``)."""

    def __init__(self) -> None:
        self._roles: dict[str, RoleSpec] = {PLATFORM_ADMIN: RoleSpec(PLATFORM_ADMIN)}
        self._permissions: dict[str, None] = dict.fromkeys(KernelPermission)
        self._carried: dict[str, set[str]] = {PLATFORM_ADMIN: set()}
        self._frozen: dict[str, frozenset[str]] = {}

    def declare(self, roles: Iterable[RoleSpec] = (), permissions: Iterable[str] = (),
                grants: Mapping[str, Iterable[str]] | None = None) -> None:
        """Add roles, permissions, and the permissions given to roles; declaring the same again is harmless."""
        for spec in roles:
            known = self._roles.get(spec.name)
            if known is not None and known != spec:
                raise ValueError(f"role {spec.name!r} is declared twice, differently")
            self._roles[spec.name] = spec
            self._carried.setdefault(spec.name, set())
        self._permissions.update(dict.fromkeys(permissions))
        for role, given in (grants or {}).items():
            if role not in self._roles:
                raise ValueError(f"permissions given to the undeclared role {role!r}")
            unknown = set(given) - set(self._permissions)
            if unknown:
                raise ValueError(f"undeclared permissions {sorted(unknown)} given to {role!r}")
            self._carried[role] |= set(given)
        self._frozen.clear()

    def permissions_of(self, role: str) -> frozenset[str]:
        """What a role carries; the platform operator carries every declared permission."""
        found = self._frozen.get(role)
        if found is None:
            found = frozenset(self._permissions) if role == PLATFORM_ADMIN else frozenset(self._carried.get(role, ()))
            self._frozen[role] = found
        return found

    def permissions(self) -> frozenset[str]:
        return frozenset(self._permissions)

    def is_role(self, name: str) -> bool:
        return name in self._roles

    def roles(self) -> tuple[str, ...]:
        """Every declared role, the platform operator's first, then in the order modules declared them."""
        return tuple(self._roles)

    def org_roles(self) -> tuple[str, ...]:
        """Roles granted on org nodes (the Keycloak group leaves under each node), in declaration order."""
        return tuple(r for r, spec in self._roles.items() if r != PLATFORM_ADMIN and not spec.on_handling_unit)

    def unit_roles(self) -> tuple[str, ...]:
        """Roles granted on handling units."""
        return tuple(r for r, spec in self._roles.items() if spec.on_handling_unit)


registry = RoleRegistry()
permissions_of = registry.permissions_of
