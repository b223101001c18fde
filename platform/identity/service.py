"""Actions on accounts and grants: log in, change a password, create users, grant and revoke roles."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform import audit
from renda.platform.access.policy import AccessDenied, Principal, Target, can, require
from renda.platform.access.roles import PLATFORM_ADMIN, registry
from renda.platform.access.roles import KernelPermission as Permission
from renda.platform.db import Scope, get_scope, set_scope, utcnow
from renda.platform.errors import N_, NotFound, ValidationFailed, check_all
from renda.platform.identity import methods
from renda.platform.identity.models import Grant, User
from renda.platform.identity.passwords import (
    DUMMY_HASH,
    MIN_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from renda.platform.identity.throttle import LoginThrottle
from renda.platform.numbers import is_id
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant
from renda.platform.tenancy.service import access_handling_unit, access_org_unit, tenant_root

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")
_USER_FIELDS = ("username", "display_name", "email", "phone", "active")


@dataclass(frozen=True)
class LoginResult:
    user_id: int | None
    error: str | None = None  # msgid
    retry_after_seconds: int = 0


def authenticate(session: Session, throttle: LoginThrottle, username: str, password: str,
                 address: str) -> LoginResult:
    """Check a local login. Failures count against the account and the address.

    Looking a user up by name must see every tenant, so it runs under the system scope for
    exactly that one statement and restores the caller's scope.
    """
    username = (username or "").strip()
    state = throttle.check(username, address)
    if not state.allowed:
        return LoginResult(None, N_("Too many failed attempts. Try again in %(minutes)s minutes."),
                           state.retry_after_seconds)
    previous = get_scope(session)
    set_scope(session, Scope.system())
    try:
        user = session.scalars(select(User).where(User.username == username)).first()
        valid = verify_password(user.password_hash if user else DUMMY_HASH, password)
        if user is None or not valid or not user.active:
            throttle.failed(username, address)
            return LoginResult(None, N_("Wrong user name or password."))
        if not methods.allows(session, user.tenant_id, methods.LOCAL):
            return LoginResult(None, N_("Your congress signs in through unified identity only: use the "
                                        "unified identity button."))
        throttle.succeeded(username)
        if user.password_hash and needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = utcnow()
        audit.record(session, tenant_id=user.tenant_id, actor_id=user.id, action="user.login",
                     object_type="users", object_id=user.id)
        session.flush()  # written under the system scope, before the caller's scope returns
        return LoginResult(user.id)
    finally:
        set_scope(session, previous)


def _check_password(password: str, field: str = "password") -> str:
    if len(password or "") < MIN_LENGTH:
        raise ValidationFailed.one(field, N_("Use at least %(n)s characters."), n=MIN_LENGTH)
    if len(password) > 256:
        raise ValidationFailed.one(field, N_("At most %(n)s characters."), n=256)
    return password


@contextmanager
def _own_account(session: Session, user: User) -> Iterator[None]:
    """Writes to one's own account land in its home tenant, which a user granted only elsewhere
    (a joint-station deputy from another county) does not otherwise see: widen the scope by that
    one tenant for exactly these writes."""
    previous = get_scope(session)
    if previous.sees_tenant(user.tenant_id):
        yield
        return
    set_scope(session, replace(previous, tenant_ids=previous.tenant_ids | {user.tenant_id}))
    try:
        yield
        session.flush()
    finally:
        set_scope(session, previous)


def change_password(session: Session, actor: Principal, *, current: str, new: str, repeat: str) -> None:
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound("user")

    def check_current() -> None:
        if not verify_password(user.password_hash, current):
            raise ValidationFailed.one("current", N_("The current password is wrong."))

    def check_repeat() -> None:
        if new != repeat:
            raise ValidationFailed.one("repeat", N_("The two new passwords differ."))

    check_all(check_current, lambda: _check_password(new, "new"), check_repeat)
    with _own_account(session, user):
        user.password_hash = hash_password(new)
        user.password_changed_at = utcnow()
        audit.record(session, tenant_id=user.tenant_id, actor_id=actor.user_id,
                     action="user.password_change", obj=user)


def access_user(session: Session, actor: Principal, tenant: Tenant, user_id: int) -> User:
    """A user whose home is this tenant or who holds a grant in it; NotFound otherwise."""
    user = session.get(User, user_id) if is_id(user_id) else None
    if user is None:
        raise NotFound("user")
    if user.tenant_id != tenant.id:
        has_grant = session.scalars(
            select(Grant.id).where(Grant.user_id == user.id, Grant.tenant_id == tenant.id)
        ).first()
        if has_grant is None:
            raise NotFound("user")
    return user


def access_user_by_name(session: Session, actor: Principal, tenant: Tenant, username: str) -> User:
    """access_user for a user name as someone typed it (linking a deputy's account, say)."""
    found = session.scalars(select(User.id).where(User.username == (username or "").strip())).first()
    if found is None:
        raise NotFound("user")
    return access_user(session, actor, tenant, found)


def _username_free(session: Session, username: str) -> bool:
    previous = get_scope(session)
    set_scope(session, Scope.system())  # user names are unique across the deployment
    try:
        return session.scalars(select(User.id).where(User.username == username)).first() is None
    finally:
        set_scope(session, previous)


def create_user(session: Session, actor: Principal | None, tenant: Tenant, *, username: str,
                display_name: str, password: str | None, email: str = "", phone: str = "",
                is_platform_admin: bool = False) -> User:
    """Create an account whose home is ``tenant``. ``actor=None`` is the operator's CLI."""
    if actor is not None:
        require(actor, Permission.USER_MANAGE, Target(tenant.id, tenant_root(session, tenant).path))
        if is_platform_admin and not actor.is_platform_admin:
            raise AccessDenied(Permission.USER_MANAGE)
    username = (username or "").strip()

    def check_username() -> str:
        if not USERNAME_RE.fullmatch(username):
            raise ValidationFailed.one(
                "username", N_("Use 2–64 letters, digits, dots, hyphens, underscores or @."))
        if not _username_free(session, username):
            raise ValidationFailed.one("username", N_("This user name is taken."))
        return username

    def check_display_name() -> str:
        clean = (display_name or "").strip()
        if not clean:
            raise ValidationFailed.one("display_name", N_("Enter a name."))
        if len(clean) > 100:
            raise ValidationFailed.one("display_name", N_("At most %(n)s characters."), n=100)
        return clean

    checks = [check_username, check_display_name]
    if password is not None:
        checks.append(lambda: _check_password(password))
    username, display_name = check_all(*checks)[:2]
    user = User(tenant_id=tenant.id, username=username, display_name=display_name,
                password_hash=hash_password(password) if password else None,
                email=(email or "").strip(), phone=(phone or "").strip(),
                is_platform_admin=is_platform_admin)
    session.add(user)
    session.flush()
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id if actor else None,
                 action="user.create", obj=user, after=audit.snapshot(user, *_USER_FIELDS))
    return user


def may_edit_account(session: Session, actor: Principal, user: User) -> bool:
    """Whether the actor may change the account itself (name, contact, active, password).

    The account belongs to the user's home congress: its office (user.manage over the home tenant's
    root, or above it) keeps it. A congress where the user only holds a grant manages that grant,
    not the account, whose row lies outside what its staff may write.
    """
    if actor.is_platform_admin:
        return True
    home = session.get(Tenant, user.tenant_id)
    if home is None or home.root_org_unit_id is None or not get_scope(session).sees_tenant(home.id):
        return False
    root = session.get(OrgUnit, home.root_org_unit_id)
    return root is not None and can(actor, Permission.USER_MANAGE, Target(home.id, root.path))


def home_of(session: Session, user: User) -> Tenant | None:
    """The user's home congress (a directory row, readable whatever the scope)."""
    return session.get(Tenant, user.tenant_id)


def _require_account(session: Session, actor: Principal, user: User) -> None:
    if not may_edit_account(session, actor, user):
        raise AccessDenied(Permission.USER_MANAGE, "the account belongs to another congress")


def update_user(session: Session, actor: Principal, tenant: Tenant, user_id: int, *, display_name: str,
                email: str, phone: str, active: bool) -> User:
    user = access_user(session, actor, tenant, user_id)
    _require_account(session, actor, user)
    if user.id == actor.user_id and not active:
        raise ValidationFailed.one("active", N_("You cannot deactivate your own account."))
    display_name = (display_name or "").strip()
    if not display_name:
        raise ValidationFailed.one("display_name", N_("Enter a name."))
    before = audit.snapshot(user, *_USER_FIELDS)
    user.display_name, user.email, user.phone, user.active = display_name, email.strip(), phone.strip(), active
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id, action="user.update", obj=user,
                 before=before, after=audit.snapshot(user, *_USER_FIELDS))
    return user


def set_password(session: Session, actor: Principal | None, tenant: Tenant, user_id: int,
                 password: str) -> User:
    """An administrator (or the CLI) sets a new password for someone else."""
    user = session.get(User, user_id) if actor is None else access_user(session, actor, tenant, user_id)
    if user is None:
        raise NotFound("user")
    if actor is not None:
        _require_account(session, actor, user)
    _check_password(password)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    audit.record(session, tenant_id=user.tenant_id, actor_id=actor.user_id if actor else None,
                 action="user.password_set", obj=user)
    return user


def grant_role(session: Session, actor: Principal | None, tenant: Tenant, user: User, *, role: str,
               org_unit_id: int | None = None, handling_unit_id: int | None = None,
               source: str = "local") -> Grant:
    """Give ``user`` a role on a node (and its subtree) or on a handling unit of ``tenant``.

    The actor must hold user.manage over the scope: a county's congress office appoints deputies,
    township chairs and handlers in its county (roles whose permissions it does not hold itself),
    but nobody grants anything outside the subtree their user.manage grant covers.
    """
    if not registry.is_role(role):
        raise ValidationFailed.one("role", N_("Choose one of the listed options."))
    if role == PLATFORM_ADMIN:
        raise ValidationFailed.one("role", N_("Platform operators are set up from the command line."))
    scope_node: OrgUnit | HandlingUnit
    if handling_unit_id is not None:
        if role not in registry.unit_roles():
            raise ValidationFailed.one("role", N_("This role is granted on an org unit, not a handling unit."))
        scope_node = (access_handling_unit(session, actor, tenant, handling_unit_id) if actor
                      else _get(session, HandlingUnit, handling_unit_id, tenant))
    elif org_unit_id is not None:
        if role in registry.unit_roles():
            raise ValidationFailed.one("role", N_("This role is granted on a handling unit."))
        scope_node = (access_org_unit(session, actor, tenant, org_unit_id) if actor
                      else _get(session, OrgUnit, org_unit_id, tenant))
    else:
        raise ValidationFailed.one("scope", N_("Choose where the role applies."))
    target = Target(tenant.id, scope_node.path)
    if actor is not None:
        require(actor, Permission.USER_MANAGE, target)
    existing = session.scalars(
        select(Grant).where(
            Grant.user_id == user.id, Grant.tenant_id == tenant.id, Grant.role == role,
            Grant.org_unit_id == org_unit_id, Grant.handling_unit_id == handling_unit_id,
        )
    ).first()
    if existing is not None:
        return existing
    grant = Grant(tenant_id=tenant.id, user_id=user.id, role=role, org_unit_id=org_unit_id,
                  handling_unit_id=handling_unit_id, scope_path=scope_node.path, source=source,
                  created_by=actor.user_id if actor else None)
    session.add(grant)
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id if actor else None,
                 action="grant.add", obj=grant,
                 after={"user": user.username, "role": role, "scope": scope_node.name})
    return grant


def access_grant(session: Session, actor: Principal, tenant: Tenant, grant_id: int,
                 user_id: int | None = None) -> Grant:
    """A role given in this tenant (to ``user_id``, when named); NotFound otherwise, as if absent."""
    grant = session.scalars(select(Grant).where(Grant.id == grant_id, Grant.tenant_id == tenant.id)).first() \
        if is_id(grant_id) else None
    if grant is None or (user_id is not None and grant.user_id != user_id):
        raise NotFound("grant")
    return grant


def revoke_grant(session: Session, actor: Principal, tenant: Tenant, grant_id: int, *,
                 user_id: int | None = None) -> None:
    """Take a role back; with ``user_id``, only that user's (the user's page names both)."""
    if user_id is not None:
        access_user(session, actor, tenant, user_id)
    grant = access_grant(session, actor, tenant, grant_id, user_id)
    require(actor, Permission.USER_MANAGE, Target(tenant.id, grant.scope_path))
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id, action="grant.revoke",
                 object_type="grants", object_id=grant.id,
                 before={"user_id": grant.user_id, "role": grant.role, "scope_path": grant.scope_path})
    session.delete(grant)


def _get(session: Session, model: type[OrgUnit | HandlingUnit], id_: int, tenant: Tenant) -> OrgUnit | HandlingUnit:
    """The CLI's lookup (no principal): the row, in this tenant."""
    row = session.get(OrgUnit, id_) if model is OrgUnit else session.get(HandlingUnit, id_)
    if row is None or row.tenant_id != tenant.id:
        raise NotFound(model.__tablename__)
    return row
