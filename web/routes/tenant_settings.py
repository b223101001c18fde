"""A tenant's settings form (every registered setting, grouped) and its audit log, newest first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from renda.platform.errors import N_, ValidationFailed
from renda.platform.tenancy import admin_queries as queries
from renda.platform.tenancy.settings import REGISTRY, SettingSpec, settings_for, update_settings
from renda.web.deps import TenantDep
from renda.web.forms import MAX_ID
from renda.web.render import render

router = APIRouter()

AUDIT_PAGE_SIZE = 50

ACTION_LABELS = {
    "tenant.create": N_("Congress created"),
    "org_tree.provision": N_("Org tree built from the division codes"),
    "org_unit.add": N_("Unit added"),
    "org_unit.rename": N_("Unit renamed"),
    "org_unit.move": N_("Unit moved"),
    "org_unit.retire": N_("Unit retired"),
    "handling_unit.create": N_("Handling unit added"),
    "handling_unit.update": N_("Handling unit changed"),
    "handling_unit.retire": N_("Handling unit retired"),
    "handling_unit.restore": N_("Handling unit restored"),
    "joint_station.create": N_("Joint station created"),
    "user.login": N_("Signed in"),
    "user.password_change": N_("Own password changed"),
    "user.create": N_("User created"),
    "user.update": N_("User changed"),
    "user.password_set": N_("Password set by an administrator"),
    "grant.add": N_("Role granted"),
    "grant.revoke": N_("Role revoked"),
    "setting.update": N_("Setting changed"),
    "workday.add": N_("Own day added to the calendar"),
    "workday.remove": N_("Own day removed from the calendar"),
}
OBJECT_LABELS = {
    "tenants": N_("Congress"),
    "org_units": N_("Org unit"),
    "handling_units": N_("Handling unit"),
    "users": N_("User"),
    "grants": N_("Role"),
    "tenant_setting": N_("Setting"),
    "workday_overrides": N_("Calendar day"),
}


async def form_data(request: Request) -> FormData:
    """The submitted form with repeated keys intact (the checkbox groups)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(form_data)]


def _groups() -> list[tuple[str, list[SettingSpec]]]:
    groups: dict[str, list[SettingSpec]] = {}
    for spec in REGISTRY.values():
        groups.setdefault(spec.group, []).append(spec)
    return list(groups.items())


def _settings_page(request: Request, values: dict[str, Any], errors: Any = None,
                   status_code: int = 200) -> Response:
    return render(request, "admin/settings.html", {
        "groups": _groups(), "values": values, "errors": errors or {},
        "saved": request.query_params.get("saved") == "1",
    }, status_code=status_code)


@router.get("/t/{slug}/settings")
def settings_page(request: Request, ctx: TenantDep) -> Response:
    return _settings_page(request, settings_for(ctx.session, ctx.principal, ctx.tenant))


@router.post("/t/{slug}/settings")
def save_settings(request: Request, ctx: TenantDep, form: FormDep) -> Response:
    # An unticked checkbox group sends nothing: it means "none of them", which the spec refuses.
    raw: dict[str, Any] = {
        key: form.getlist(key) if spec.kind == "choices" else form.get(key)
        for key, spec in REGISTRY.items() if spec.kind == "choices" or key in form
    }
    try:
        update_settings(ctx.session, ctx.principal, ctx.tenant, raw)
    except ValidationFailed as exc:
        shown = settings_for(ctx.session, ctx.principal, ctx.tenant) | raw
        return _settings_page(request, shown, exc.errors, status_code=422)
    return RedirectResponse(f"/t/{ctx.tenant.slug}/settings?saved=1", status_code=303)


@dataclass(frozen=True)
class AuditLine:
    """One audit entry as the page shows it (labels are msgids, translated by the template)."""

    id: int
    at: dt.datetime
    actor: str | None  # None: the system (the operator's CLI, a job)
    action: str
    action_label: str | None
    object_label: str | None
    object_text: str
    change: str


def _short(value: Any, width: int = 40) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple):
        value = ",".join(str(v) for v in value)
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _change(before: dict[str, Any] | None, after: dict[str, Any] | None, width: int = 200) -> str:
    """Compact "field: old → new" text of what changed; paths are left out (ids of ancestors)."""
    before, after = before or {}, after or {}
    keys = [k for k in dict.fromkeys([*before, *after]) if k != "path"]
    if before and after:
        parts = [f"{k}: {_short(before.get(k))} → {_short(after.get(k))}" for k in keys
                 if before.get(k) != after.get(k)]
    else:
        parts = [f"{k}: {_short((after or before).get(k))}" for k in keys
                 if (after or before).get(k) not in (None, "")]
    text = "; ".join(parts)
    return text if len(text) <= width else text[: width - 1] + "…"


def _line(row: queries.AuditRow) -> AuditLine:
    entry = row.entry
    snapshot = entry.after or entry.before or {}
    if entry.object_type == "tenant_setting" and entry.object_id in REGISTRY:
        object_text = ""
        object_label: str | None = REGISTRY[entry.object_id].label
    else:
        object_label = OBJECT_LABELS.get(entry.object_type)
        name = snapshot.get("name") or snapshot.get("username") or ""
        object_text = " ".join(p for p in (f"#{entry.object_id}" if entry.object_id else "", str(name)) if p)
        if object_label is None:
            object_text = f"{entry.object_type} {object_text}".strip()
    return AuditLine(
        id=entry.id, at=entry.at, action=entry.action,
        actor=row.actor_name or (f"#{entry.actor_user_id}" if entry.actor_user_id else None),
        action_label=ACTION_LABELS.get(entry.action), object_label=object_label, object_text=object_text,
        change=_change(entry.before, entry.after),
    )


@router.get("/t/{slug}/audit")
def audit_log(request: Request, ctx: TenantDep,
              before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> Response:
    rows, more = queries.audit_for(ctx.session, ctx.principal, ctx.tenant, before, AUDIT_PAGE_SIZE)
    lines = [_line(r) for r in rows]
    context = {"lines": lines, "next_before": lines[-1].id if more and lines else None, "before": before}
    if request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "audit-more":
        return render(request, "admin/audit.html", context, block="rows")
    return render(request, "admin/audit.html", context)
