"""The org tree of a tenant for its staff: the tree (townships' children loaded on demand), one
unit's page, and the forms that add, rename, move and retire units through the tenancy service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from renda.platform.access.policy import AccessDenied, can
from renda.platform.errors import N_, ValidationFailed
from renda.platform.tenancy import admin_queries as queries
from renda.platform.tenancy import service as tenancy
from renda.platform.tenancy.models import OrgUnit
from renda.tenants.congress.roles import Permission
from renda.web.deps import TenantContext, TenantDep
from renda.web.forms import RowId, parse_id
from renda.web.render import render

router = APIRouter()

KIND_LABELS = {
    "congress": N_("Congress"),
    "township": N_("Township"),
    "station": N_("Liaison station"),
    "village": N_("Village or community"),
    "joint_station": N_("Joint station"),
}
# Kinds that other units may be placed under (villages, stations and joint stations hold nothing).
PARENT_KINDS = frozenset(kind for kinds in tenancy.ALLOWED_PARENTS.values() for kind in kinds)


def org_admin(request: Request, ctx: TenantDep) -> TenantContext:
    """The pages are for staff with org.manage somewhere in the tenant; each action checks its node."""
    if Permission.ORG_MANAGE not in request.state.permissions:
        raise AccessDenied(Permission.ORG_MANAGE)
    return ctx


OrgAdminDep = Annotated[TenantContext, Depends(org_admin)]


def _form(values: dict[str, Any] | None = None, errors: Any = None) -> dict[str, Any]:
    return {"data": values or {}, "errors": errors or {}}


def _parse_id(raw: str, field: str) -> int:
    found = parse_id(raw)
    if found is None:
        raise ValidationFailed.one(field, N_("Choose one of the listed options."))
    return found


def _manages(ctx: TenantContext, unit: OrgUnit) -> bool:
    return can(ctx.principal, Permission.ORG_MANAGE, tenancy.target_of(unit))


def _kinds_under(parent_kinds: set[str]) -> list[str]:
    return [k for k in tenancy.ORG_KINDS if tenancy.ALLOWED_PARENTS.get(k, frozenset()) & parent_kinds]


def _htmx_target(request: Request, target: str) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == target


def _tree_context(ctx: TenantContext, add: dict[str, Any] | None = None, added: OrgUnit | None = None,
                  ) -> dict[str, Any]:
    parents = [u for u in queries.units_of_kinds(ctx.session, ctx.tenant.id, PARENT_KINDS) if _manages(ctx, u)]
    return {
        "unit": None,
        "root": ctx.root,
        "nodes": queries.children_with_counts(ctx.session, ctx.tenant.id, ctx.root.id),
        "parents": parents,
        "add_kinds": _kinds_under({u.kind for u in parents}),
        "add": add or _form(),
        "added": added,
        "kind_labels": KIND_LABELS,
    }


def _tree_page(request: Request, ctx: TenantContext, add: dict[str, Any] | None = None,
               added: OrgUnit | None = None, status_code: int = 200) -> Response:
    context = _tree_context(ctx, add, added)
    block = "admin" if _htmx_target(request, "org-admin") else None
    return render(request, "admin/org.html", context, status_code=status_code, block=block)


def _unit_page(request: Request, ctx: TenantContext, unit_id: int, status_code: int = 200,
               **forms: dict[str, Any]) -> Response:
    unit = tenancy.access_org_unit(ctx.session, ctx.principal, ctx.tenant, unit_id)
    manages = _manages(ctx, unit)
    move_parents: list[OrgUnit] = []
    if manages and unit.kind in tenancy.ALLOWED_PARENTS:
        move_parents = [
            u for u in queries.units_of_kinds(ctx.session, ctx.tenant.id, tenancy.ALLOWED_PARENTS[unit.kind])
            if not u.path.startswith(unit.path) and (u.id == unit.parent_id or _manages(ctx, u))
        ]
    context = {
        "unit": unit,
        "root": ctx.root,
        "ancestors": queries.ancestors(ctx.session, ctx.tenant.id, unit),
        "nodes": queries.children_with_counts(ctx.session, ctx.tenant.id, unit.id),
        "manages": manages,
        "add_kinds": _kinds_under({unit.kind}) if manages and unit.retired_at is None else [],
        "move_parents": move_parents,
        "kind_labels": KIND_LABELS,
        "saved": request.query_params.get("saved") == "1",
        "add": forms.get("add", _form()),
        "rename": forms.get("rename", _form({"name": unit.name, "code": unit.code or ""})),
        "move": forms.get("move", _form({"parent_id": str(unit.parent_id or "")})),
        "retire": forms.get("retire", _form()),
    }
    return render(request, "admin/org.html", context, status_code=status_code)


def _to_unit(ctx: TenantContext, unit_id: int) -> Response:
    return RedirectResponse(f"/t/{ctx.tenant.slug}/org/{unit_id}?saved=1", status_code=303)


@router.get("/t/{slug}/org")
def org_tree(request: Request, ctx: OrgAdminDep) -> Response:
    return _tree_page(request, ctx)


@router.post("/t/{slug}/org")
def add_unit(request: Request, ctx: OrgAdminDep, parent_id: Annotated[str, Form()] = "",
             kind: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
             code: Annotated[str, Form()] = "", back: Annotated[str, Form()] = "tree") -> Response:
    values = {"parent_id": parent_id, "kind": kind, "name": name, "code": code}
    try:
        unit = tenancy.add_org_unit(ctx.session, ctx.principal, ctx.tenant,
                                    parent_id=_parse_id(parent_id, "parent_id"), kind=kind, name=name, code=code)
    except ValidationFailed as exc:
        form = _form(values, exc.errors)
        parent = parse_id(parent_id)
        if back == "unit" and parent is not None:
            return _unit_page(request, ctx, parent, status_code=422, add=form)
        return _tree_page(request, ctx, add=form, status_code=422)
    if _htmx_target(request, "org-admin"):
        return _tree_page(request, ctx, added=unit)
    return _to_unit(ctx, unit.id)


@router.get("/t/{slug}/org/{unit_id}")
def unit_page(request: Request, ctx: OrgAdminDep, unit_id: RowId) -> Response:
    return _unit_page(request, ctx, unit_id)


@router.get("/t/{slug}/org/{unit_id}/children")
def unit_children(request: Request, ctx: OrgAdminDep, unit_id: RowId) -> Response:
    """The list items under a unit, for the tree's on-demand expansion (a plain visit gets the page)."""
    unit = tenancy.access_org_unit(ctx.session, ctx.principal, ctx.tenant, unit_id)
    if request.headers.get("HX-Request") != "true":
        return RedirectResponse(f"/t/{ctx.tenant.slug}/org/{unit.id}", status_code=303)
    nodes = queries.children_with_counts(ctx.session, ctx.tenant.id, unit.id)
    return render(request, "admin/_org_tree.html", {"nodes": nodes, "kind_labels": KIND_LABELS})


@router.post("/t/{slug}/org/{unit_id}")
def rename_unit(request: Request, ctx: OrgAdminDep, unit_id: RowId, name: Annotated[str, Form()] = "",
                code: Annotated[str, Form()] = "") -> Response:
    try:
        tenancy.rename_org_unit(ctx.session, ctx.principal, ctx.tenant, unit_id, name=name, code=code)
    except ValidationFailed as exc:
        return _unit_page(request, ctx, unit_id, status_code=422,
                          rename=_form({"name": name, "code": code}, exc.errors))
    return _to_unit(ctx, unit_id)


@router.post("/t/{slug}/org/{unit_id}/move")
def move_unit(request: Request, ctx: OrgAdminDep, unit_id: RowId,
              parent_id: Annotated[str, Form()] = "") -> Response:
    try:
        tenancy.move_org_unit(ctx.session, ctx.principal, ctx.tenant, unit_id,
                              new_parent_id=_parse_id(parent_id, "parent_id"))
    except ValidationFailed as exc:
        return _unit_page(request, ctx, unit_id, status_code=422,
                          move=_form({"parent_id": parent_id}, exc.errors))
    return _to_unit(ctx, unit_id)


@router.post("/t/{slug}/org/{unit_id}/retire")
def retire_unit(request: Request, ctx: OrgAdminDep, unit_id: RowId) -> Response:
    try:
        tenancy.retire_org_unit(ctx.session, ctx.principal, ctx.tenant, unit_id)
    except ValidationFailed as exc:
        return _unit_page(request, ctx, unit_id, status_code=422, retire=_form({}, exc.errors))
    return _to_unit(ctx, unit_id)
