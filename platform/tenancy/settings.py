"""Typed per-tenant settings: a registry of specs (kind, default, bounds) and their stored values.

The kernel knows no congress rules; the business layer registers its settings (deadlines,
reply classes…) with their defaults, and a tenant's staff may change them within the bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform import audit
from renda.platform.access.policy import Principal, Target, require
from renda.platform.access.roles import KernelPermission as Permission
from renda.platform.db import utcnow
from renda.platform.errors import N_, Message, ValidationFailed
from renda.platform.numbers import parse_whole
from renda.platform.tenancy.models import Tenant, TenantSetting
from renda.platform.tenancy.service import tenant_root


@dataclass(frozen=True)
class SettingSpec:
    key: str
    kind: str  # int | choice | choices (several of a list) | text
    default: Any
    label: str  # msgid
    help: str = ""  # msgid
    minimum: int | None = None
    maximum: int | None = None
    options: tuple[str, ...] = ()
    option_labels: dict[str, str] = field(default_factory=dict)  # option -> msgid
    group: str = ""  # msgid of the section it is shown in

    def parse(self, raw: Any) -> Any:
        """Turn form or API input into a value, or raise ValidationFailed in the field's name."""
        if self.kind == "int":
            value = parse_whole(raw if isinstance(raw, int) else str(raw), full_width=True)
            if value is None:
                raise ValidationFailed.one(self.key, N_("Enter a whole number."))
            if self.minimum is not None and value < self.minimum:
                raise ValidationFailed.one(self.key, N_("Must be at least %(n)s."), n=self.minimum)
            if self.maximum is not None and value > self.maximum:
                raise ValidationFailed.one(self.key, N_("Must be at most %(n)s."), n=self.maximum)
            return value
        if self.kind == "choice":
            if raw not in self.options:
                raise ValidationFailed.one(self.key, N_("Choose one of the listed options."))
            return raw
        if self.kind == "choices":
            values = [raw] if isinstance(raw, str) else list(raw or [])
            values = [v for v in self.options if v in values]  # keep the canonical order
            if not values:
                raise ValidationFailed.one(self.key, N_("Choose at least one option."))
            return values
        text = str(raw or "").strip()
        if self.maximum is not None and len(text) > self.maximum:
            raise ValidationFailed.one(self.key, N_("At most %(n)s characters."), n=self.maximum)
        return text


REGISTRY: dict[str, SettingSpec] = {}


def register(*specs: SettingSpec) -> None:
    for spec in specs:
        REGISTRY[spec.key] = spec


def tenant_settings(session: Session, tenant_id: int) -> dict[str, Any]:
    """Every registered setting of a tenant: stored value or default."""
    values = {key: spec.default for key, spec in REGISTRY.items()}
    rows = session.scalars(select(TenantSetting).where(TenantSetting.tenant_id == tenant_id))
    for row in rows:
        if row.key in REGISTRY:
            values[row.key] = row.value.get("v")
    return values


def settings_for(session: Session, actor: Principal, tenant: Tenant) -> dict[str, Any]:
    """The settings form's values, for whoever may change them (tenant.manage over the whole tenant)."""
    require(actor, Permission.TENANT_MANAGE, Target(tenant.id, tenant_root(session, tenant).path))
    return tenant_settings(session, tenant.id)


def get_setting(session: Session, tenant_id: int, key: str) -> Any:
    spec = REGISTRY[key]
    row = session.get(TenantSetting, (tenant_id, key))
    return spec.default if row is None else row.value.get("v")


def update_settings(session: Session, actor: Principal, tenant: Tenant, raw: dict[str, Any]) -> dict[str, Any]:
    """Validate all submitted settings first, then store the changed ones with one audit entry each."""
    require(actor, Permission.TENANT_MANAGE, Target(tenant.id, tenant_root(session, tenant).path))
    tenant_id = tenant.id
    errors: dict[str, Message] = {}
    parsed: dict[str, Any] = {}
    for key, value in raw.items():
        spec = REGISTRY.get(key)
        if spec is None:
            continue
        try:
            parsed[key] = spec.parse(value)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    current = tenant_settings(session, tenant_id)
    for key, value in parsed.items():
        if current[key] == value:
            continue
        row = session.get(TenantSetting, (tenant_id, key))
        if row is None:
            row = TenantSetting(tenant_id=tenant_id, key=key, value={"v": value})
            session.add(row)
        else:
            row.value = {"v": value}
        row.updated_at = utcnow()
        row.updated_by = actor.user_id
        audit.record(
            session, tenant_id=tenant_id, actor_id=actor.user_id, action="setting.update",
            object_type="tenant_setting", object_id=key,
            before={"value": current[key]}, after={"value": value},
        )
        current[key] = value
    return current
