"""Actions on tenants, org trees and handling units. Each checks its permission and is audited."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from renda.platform import audit
from renda.platform.access.policy import AccessDenied, Principal, Target, require
from renda.platform.access.roles import KernelPermission as Permission
from renda.platform.db import utcnow
from renda.platform.errors import N_, NotFound, ValidationFailed, check_all
from renda.platform.identity.models import Grant
from renda.platform.numbers import is_id
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant

# Which kinds of node may sit under which.
ALLOWED_PARENTS: dict[str, frozenset[str]] = {
    "township": frozenset({"congress"}),
    "station": frozenset({"congress", "township"}),
    "village": frozenset({"township"}),
    "joint_station": frozenset({"congress"}),
}
ORG_KINDS = ("congress", "township", "station", "village", "joint_station")
HANDLING_UNIT_CATEGORIES = ("government", "court", "procuratorate", "supervision", "enterprise", "other")
SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
CODE_RE = re.compile(r"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$")  # ASCII: \d would take any script's digits

_ORG_FIELDS = ("name", "kind", "code", "parent_id", "path", "retired_at")
_UNIT_FIELDS = ("name", "category", "contact", "retired_at")


def get_tenant_by_slug(session: Session, slug: str) -> Tenant | None:
    return session.scalars(select(Tenant).where(Tenant.slug == slug)).first()


def tenant_root(session: Session, tenant: Tenant) -> OrgUnit:
    root = session.get(OrgUnit, tenant.root_org_unit_id) if tenant.root_org_unit_id else None
    if root is None:
        raise NotFound(f"tenant {tenant.slug} has no visible root")
    return root


def target_of(node: OrgUnit | HandlingUnit) -> Target:
    return Target(node.tenant_id, node.path)


def access_org_unit(session: Session, actor: Principal, tenant: Tenant, unit_id: int) -> OrgUnit:
    """The org unit inside this tenant and the actor's sight, or NotFound exactly as if absent."""
    if not is_id(unit_id):
        raise NotFound("org unit")
    unit = session.scalars(
        select(OrgUnit).where(OrgUnit.id == unit_id, OrgUnit.tenant_id == tenant.id)
    ).first()
    if unit is None:
        raise NotFound("org unit")
    return unit


def access_handling_unit(session: Session, actor: Principal, tenant: Tenant, unit_id: int) -> HandlingUnit:
    if not is_id(unit_id):
        raise NotFound("handling unit")
    unit = session.scalars(
        select(HandlingUnit).where(HandlingUnit.id == unit_id, HandlingUnit.tenant_id == tenant.id)
    ).first()
    if unit is None:
        raise NotFound("handling unit")
    return unit


def _clean_name(name: str, field: str = "name") -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.one(field, N_("Enter a name."))
    if len(name) > 100:
        raise ValidationFailed.one(field, N_("At most %(n)s characters."), n=100)
    return name


def _clean_code(code: str | None) -> str | None:
    code = (code or "").strip()
    if not code:
        return None
    if not CODE_RE.fullmatch(code):
        raise ValidationFailed.one("code", N_("A division code has 6, 9 or 12 digits."))
    return code


def _sibling_named(session: Session, tenant_id: int, parent_id: int | None, name: str,
                   exclude: int | None = None) -> bool:
    stmt = select(OrgUnit.id).where(
        OrgUnit.tenant_id == tenant_id, OrgUnit.parent_id == parent_id,
        OrgUnit.name == name, OrgUnit.retired_at.is_(None),
    )
    if exclude is not None:
        stmt = stmt.where(OrgUnit.id != exclude)
    return session.scalars(stmt).first() is not None


def _code_taken(session: Session, tenant_id: int, code: str | None, exclude: int | None = None) -> bool:
    if code is None:
        return False
    stmt = select(OrgUnit.id).where(OrgUnit.tenant_id == tenant_id, OrgUnit.code == code)
    if exclude is not None:
        stmt = stmt.where(OrgUnit.id != exclude)
    return session.scalars(stmt).first() is not None


def create_tenant(
    session: Session, actor: Principal | None, *, slug: str, name: str, code: str | None,
    parent: Tenant | None, level: str, name_en: str = "",
) -> Tenant:
    """Create a tenant and its root node (the congress). Platform operators only; ``None`` is the CLI."""
    if actor is not None and not actor.is_platform_admin:
        raise AccessDenied(Permission.TENANT_MANAGE)
    slug = (slug or "").strip().lower()

    def check_slug() -> str:
        if not SLUG_RE.fullmatch(slug):
            raise ValidationFailed.one(
                "slug", N_("Use 2–63 lower-case letters, digits or hyphens, starting with a letter."))
        if get_tenant_by_slug(session, slug) is not None:
            raise ValidationFailed.one("slug", N_("This short name is already taken."))
        return slug

    def check_code() -> str | None:
        clean = _clean_code(code)
        if clean and session.scalars(select(Tenant.id).where(Tenant.code == clean)).first() is not None:
            raise ValidationFailed.one("code", N_("A tenant with this division code exists already."))
        return clean

    slug, name, code = check_all(check_slug, lambda: _clean_name(name), check_code)
    tenant = Tenant(slug=slug, name=name, name_en=name_en, code=code, level=level,
                    parent_id=parent.id if parent else None, path="")
    session.add(tenant)
    session.flush()
    tenant.path = f"{parent.path if parent else '/'}{tenant.id}/"
    parent_root = session.get(OrgUnit, parent.root_org_unit_id) if parent and parent.root_org_unit_id else None
    root = OrgUnit(tenant_id=tenant.id, parent_id=parent_root.id if parent_root else None,
                   kind="congress", name=name, code=code, path="")
    session.add(root)
    session.flush()
    root.path = f"{parent_root.path if parent_root else '/'}{root.id}/"
    tenant.root_org_unit_id = root.id
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id if actor else None,
                 action="tenant.create", obj=tenant,
                 after=audit.snapshot(tenant, "slug", "name", "code", "level", "parent_id"))
    return tenant


def add_org_unit(
    session: Session, actor: Principal, tenant: Tenant, *, parent_id: int, kind: str, name: str,
    code: str | None = None,
) -> OrgUnit:
    parent = access_org_unit(session, actor, tenant, parent_id)
    require(actor, Permission.ORG_MANAGE, target_of(parent))

    def check_place() -> None:
        if kind not in ALLOWED_PARENTS or parent.kind not in ALLOWED_PARENTS[kind]:
            raise ValidationFailed.one("kind", N_("This kind of unit cannot be placed there."))
        if parent.retired_at is not None:
            raise ValidationFailed.one("parent_id", N_("The parent unit is retired."))

    _, name, code = check_all(check_place, lambda: _clean_name(name), lambda: _clean_code(code))
    if _sibling_named(session, tenant.id, parent.id, name):
        raise ValidationFailed.one("name", N_("A unit with this name exists here already."))
    if _code_taken(session, tenant.id, code):
        raise ValidationFailed.one("code", N_("This division code is used by another unit."))
    unit = OrgUnit(tenant_id=tenant.id, parent_id=parent.id, kind=kind, name=name, code=code, path="",
                   joint_station_id=parent.joint_station_id)
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path}{unit.id}/"
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id, action="org_unit.add", obj=unit,
                 after=audit.snapshot(unit, *_ORG_FIELDS))
    return unit


KEEP: Any = object()  # "leave this field as it is"


def rename_org_unit(session: Session, actor: Principal, tenant: Tenant, unit_id: int, *, name: str,
                    code: str | None = KEEP) -> OrgUnit:
    unit = access_org_unit(session, actor, tenant, unit_id)
    require(actor, Permission.ORG_MANAGE, target_of(unit))
    if code is KEEP:
        code = unit.code
    name, code = check_all(lambda: _clean_name(name), lambda: _clean_code(code))
    if _sibling_named(session, tenant.id, unit.parent_id, name, exclude=unit.id):
        raise ValidationFailed.one("name", N_("A unit with this name exists here already."))
    if _code_taken(session, tenant.id, code, exclude=unit.id):
        raise ValidationFailed.one("code", N_("This division code is used by another unit."))
    before = audit.snapshot(unit, *_ORG_FIELDS)
    unit.name, unit.code = name, code
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id, action="org_unit.rename", obj=unit,
                 before=before, after=audit.snapshot(unit, *_ORG_FIELDS))
    return unit


def move_org_unit(session: Session, actor: Principal, tenant: Tenant, unit_id: int, *,
                  new_parent_id: int) -> OrgUnit:
    """Move a node (and its subtree) under another parent in the same tenant; paths follow."""
    unit = access_org_unit(session, actor, tenant, unit_id)
    new_parent = access_org_unit(session, actor, tenant, new_parent_id)
    require(actor, Permission.ORG_MANAGE, target_of(unit))
    require(actor, Permission.ORG_MANAGE, target_of(new_parent))
    if unit.kind == "congress":
        raise ValidationFailed.one("parent_id", N_("The congress itself cannot be moved."))
    if new_parent.path.startswith(unit.path):
        raise ValidationFailed.one("parent_id", N_("A unit cannot be moved under itself."))
    if new_parent.kind not in ALLOWED_PARENTS.get(unit.kind, frozenset()) or new_parent.retired_at:
        raise ValidationFailed.one("parent_id", N_("This kind of unit cannot be placed there."))
    if new_parent.id == unit.parent_id:
        return unit
    if _sibling_named(session, tenant.id, new_parent.id, unit.name):
        raise ValidationFailed.one("parent_id", N_("A unit with this name exists there already."))
    before = audit.snapshot(unit, *_ORG_FIELDS)
    old_path, new_path = unit.path, f"{new_parent.path}{unit.id}/"
    _rewrite_paths(session, tenant.id, old_path, new_path)
    unit.parent_id = new_parent.id
    session.flush()
    session.refresh(unit)
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id, action="org_unit.move", obj=unit,
                 before=before, after=audit.snapshot(unit, *_ORG_FIELDS))
    return unit


def _rewrite_paths(session: Session, tenant_id: int, old: str, new: str) -> None:
    """Replace the path prefix of a subtree and of the grants scoped inside it, in SQL."""
    cut = len(old) + 1
    session.execute(
        update(OrgUnit)
        .where(OrgUnit.tenant_id == tenant_id, OrgUnit.path.startswith(old, autoescape=True))
        .values(path=new + func.substr(OrgUnit.path, cut))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Grant)
        .where(Grant.tenant_id == tenant_id, Grant.scope_path.startswith(old, autoescape=True))
        .values(scope_path=new + func.substr(Grant.scope_path, cut))
        .execution_options(synchronize_session=False)
    )
    session.expire_all()


def retire_org_unit(session: Session, actor: Principal, tenant: Tenant, unit_id: int) -> OrgUnit:
    unit = access_org_unit(session, actor, tenant, unit_id)
    require(actor, Permission.ORG_MANAGE, target_of(unit))
    if unit.kind == "congress":
        raise ValidationFailed.one("id", N_("The congress itself cannot be retired."))
    if unit.retired_at is not None:
        return unit
    active_children = session.scalar(
        select(func.count()).select_from(OrgUnit).where(
            OrgUnit.tenant_id == tenant.id, OrgUnit.parent_id == unit.id, OrgUnit.retired_at.is_(None)
        )
    )
    if active_children:
        raise ValidationFailed.one("id", N_("Retire or move the %(n)s units under it first."), n=active_children)
    before = audit.snapshot(unit, *_ORG_FIELDS)
    unit.retired_at = utcnow()
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id, action="org_unit.retire", obj=unit,
                 before=before, after=audit.snapshot(unit, *_ORG_FIELDS))
    return unit


def _unit_fields(name: str, category: str, contact: str) -> tuple[str, str, str]:
    def check_category() -> str:
        if category not in HANDLING_UNIT_CATEGORIES:
            raise ValidationFailed.one("category", N_("Choose one of the listed options."))
        return category

    def check_contact() -> str:
        clean = (contact or "").strip()
        if len(clean) > 100:
            raise ValidationFailed.one("contact", N_("At most %(n)s characters."), n=100)
        return clean

    name, category, contact = check_all(lambda: _clean_name(name), check_category, check_contact)
    return name, category, contact


def _unit_name_taken(session: Session, tenant_id: int, name: str, exclude: int | None = None) -> bool:
    stmt = select(HandlingUnit.id).where(HandlingUnit.tenant_id == tenant_id, HandlingUnit.name == name)
    if exclude is not None:
        stmt = stmt.where(HandlingUnit.id != exclude)
    return session.scalars(stmt).first() is not None


def create_handling_unit(session: Session, actor: Principal, tenant: Tenant, *, name: str,
                         category: str = "government", contact: str = "") -> HandlingUnit:
    root = tenant_root(session, tenant)
    require(actor, Permission.HANDLING_UNIT_MANAGE, target_of(root))
    name, category, contact = _unit_fields(name, category, contact)
    if _unit_name_taken(session, tenant.id, name):
        raise ValidationFailed.one("name", N_("A handling unit with this name exists already."))
    unit = HandlingUnit(tenant_id=tenant.id, name=name, category=category, contact=contact)
    session.add(unit)
    session.flush()
    unit.path = f"{root.path}u{unit.id}/"
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id, action="handling_unit.create",
                 obj=unit, after=audit.snapshot(unit, *_UNIT_FIELDS))
    return unit


def update_handling_unit(session: Session, actor: Principal, tenant: Tenant, unit_id: int, *, name: str,
                         category: str, contact: str) -> HandlingUnit:
    unit = access_handling_unit(session, actor, tenant, unit_id)
    require(actor, Permission.HANDLING_UNIT_MANAGE, target_of(unit))
    name, category, contact = _unit_fields(name, category, contact)
    if _unit_name_taken(session, tenant.id, name, exclude=unit.id):
        raise ValidationFailed.one("name", N_("A handling unit with this name exists already."))
    before = audit.snapshot(unit, *_UNIT_FIELDS)
    unit.name, unit.category, unit.contact = name, category, contact
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id, action="handling_unit.update",
                 obj=unit, before=before, after=audit.snapshot(unit, *_UNIT_FIELDS))
    return unit


def set_handling_unit_retired(session: Session, actor: Principal, tenant: Tenant, unit_id: int,
                              retired: bool) -> HandlingUnit:
    unit = access_handling_unit(session, actor, tenant, unit_id)
    require(actor, Permission.HANDLING_UNIT_MANAGE, target_of(unit))
    before = audit.snapshot(unit, *_UNIT_FIELDS)
    unit.retired_at = utcnow() if retired else None
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id,
                 action="handling_unit.retire" if retired else "handling_unit.restore",
                 obj=unit, before=before, after=audit.snapshot(unit, *_UNIT_FIELDS))
    return unit

