"""Users and grants.

A user's home tenant owns the row; a grant belongs to the tenant of its scope. Both are also
visible to the user they describe (``Scope.user_id``), which is how a principal is loaded
before its visible set is known.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, inspect, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from renda.platform.db import Base, Scope, ScopeFilter, TenantOwned, utcnow


class User(TenantOwned, Base):
    __tablename__ = "users"
    __table_args__ = (Index("ix_users_tenant_username", "tenant_id", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    language: Mapped[str | None] = mapped_column(String(8))
    is_platform_admin: Mapped[bool] = mapped_column(default=False)
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)  # Keycloak subject
    active: Mapped[bool] = mapped_column(default=True)
    password_changed_at: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @classmethod
    def scope_filter(cls, scope: Scope) -> ScopeFilter:
        """Users of the visible tenants, the acting user, and whoever holds a grant in a visible tenant."""
        tenants, me = sorted(scope.tenant_ids), scope.user_id or -1
        return lambda c: or_(
            c.tenant_id.in_(tenants),
            c.id == me,
            select(Grant.id).where(Grant.user_id == c.id, Grant.tenant_id.in_(tenants)).exists(),
        )

    def readable_in(self, scope: Scope) -> bool:
        return super().readable_in(scope) or self.id == scope.user_id

    def writable_in(self, scope: Scope) -> bool:
        """One's own account may be updated (password, last login) but never moved to another tenant."""
        if super().writable_in(scope):
            return True
        moved = inspect(self).attrs.tenant_id.history.has_changes()
        return self.id is not None and self.id == scope.user_id and not moved


class Grant(TenantOwned, Base):
    """A role held on an org node (and everything under it) or on a handling unit."""

    __tablename__ = "grants"
    __table_args__ = (
        Index("ix_grants_tenant_user", "tenant_id", "user_id"),
        Index("ix_grants_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    handling_unit_id: Mapped[int | None] = mapped_column(ForeignKey("handling_units.id"))
    # The scope node's path, kept here so a principal loads in one query; moves update it.
    scope_path: Mapped[str] = mapped_column(String(512))
    source: Mapped[str] = mapped_column(String(16), default="local")  # local | keycloak
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @classmethod
    def scope_filter(cls, scope: Scope) -> ScopeFilter:
        """Grants in the visible tenants, and the acting user's own (read only: see writable_in)."""
        tenants, me = sorted(scope.tenant_ids), scope.user_id or -1
        return lambda c: or_(c.tenant_id.in_(tenants), c.user_id == me)

    def readable_in(self, scope: Scope) -> bool:
        return super().readable_in(scope) or self.user_id == scope.user_id
