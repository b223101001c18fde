"""The org tree of a tenant for its staff: the tree (townships' children loaded on demand), one
unit's page, and the forms that add, rename, move and retire units through the tenancy service.
Who may see and change what is the service's to say (admin_queries.org_tree_for and its kin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from renda.platform.errors import N_, ValidationFailed
from renda.platform.tenancy import admin_queries as queries
from renda.platform.tenancy import service as tenancy
from renda.platform.tenancy.models import OrgUnit
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


def _form(values: dict[str, Any] | None = None, errors: Any = None) -> dict[str, Any]:
    return {"data": values or {}, "errors": errors or {}}


def _parse_id(raw: str, field: str) -> int:
    found = parse_id(raw)
    if found is None:
        raise ValidationFailed.one(field, N_("Choose one of the listed options."))
    return found


def _htmx_target(request: Request, target: str) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == target


def _tree_page(request: Request, ctx: TenantContext, add: dict[str, Any] | None = None,
               added: OrgUnit | None = None, status_code: int = 200) -> Response:
    tree = queries.org_tree_for(ctx.session, ctx.principal, ctx.tenant)
    context = {"unit": None, "root": tree.root, "nodes": tree.nodes, "parents": tree.parents,
               "add_kinds": tree.add_kinds, "add": add or _form(), "added": added, "kind_labels": KIND_LABELS}
    block = "admin" if _htmx_target(request, "org-admin") else None
    return render(request, "admin/org.html", context, status_code=status_code, block=block)


def _unit_page(request: Request, ctx: TenantContext, unit_id: int, status_code: int = 200,
               **forms: dict[str, Any]) -> Response:
    found = queries.org_unit_for(ctx.session, ctx.principal, ctx.tenant, unit_id)
    unit = found.unit
    context = {
        "unit": unit,
        "root": ctx.root,
        "ancestors": found.ancestors,
        "nodes": found.nodes,
        "manages": found.manages,
        "add_kinds": found.add_kinds,
        "move_parents": found.move_parents,
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
def org_tree(request: Request, ctx: TenantDep) -> Response:
    return _tree_page(request, ctx)


@router.post("/t/{slug}/org")
def add_unit(request: Request, ctx: TenantDep, parent_id: Annotated[str, Form()] = "",
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
def unit_page(request: Request, ctx: TenantDep, unit_id: RowId) -> Response:
    return _unit_page(request, ctx, unit_id)


@router.get("/t/{slug}/org/{unit_id}/children")
def unit_children(request: Request, ctx: TenantDep, unit_id: RowId) -> Response:
    """The list items under a unit, for the tree's on-demand expansion (a plain visit gets the page)."""
    unit, nodes = queries.org_children_for(ctx.session, ctx.principal, ctx.tenant, unit_id)
    if request.headers.get("HX-Request") != "true":
        return RedirectResponse(f"/t/{ctx.tenant.slug}/org/{unit.id}", status_code=303)
    return render(request, "admin/_org_tree.html", {"nodes": nodes, "kind_labels": KIND_LABELS})


@router.post("/t/{slug}/org/{unit_id}")
def rename_unit(request: Request, ctx: TenantDep, unit_id: RowId, name: Annotated[str, Form()] = "",
                code: Annotated[str, Form()] = "") -> Response:
    try:
        tenancy.rename_org_unit(ctx.session, ctx.principal, ctx.tenant, unit_id, name=name, code=code)
    except ValidationFailed as exc:
        return _unit_page(request, ctx, unit_id, status_code=422,
                          rename=_form({"name": name, "code": code}, exc.errors))
    return _to_unit(ctx, unit_id)


@router.post("/t/{slug}/org/{unit_id}/move")
def move_unit(request: Request, ctx: TenantDep, unit_id: RowId,
              parent_id: Annotated[str, Form()] = "") -> Response:
    try:
        tenancy.move_org_unit(ctx.session, ctx.principal, ctx.tenant, unit_id,
                              new_parent_id=_parse_id(parent_id, "parent_id"))
    except ValidationFailed as exc:
        return _unit_page(request, ctx, unit_id, status_code=422,
                          move=_form({"parent_id": parent_id}, exc.errors))
    return _to_unit(ctx, unit_id)


@router.post("/t/{slug}/org/{unit_id}/retire")
def retire_unit(request: Request, ctx: TenantDep, unit_id: RowId) -> Response:
    try:
        tenancy.retire_org_unit(ctx.session, ctx.principal, ctx.tenant, unit_id)
    except ValidationFailed as exc:
        return _unit_page(request, ctx, unit_id, status_code=422, retire=_form({}, exc.errors))
    return _to_unit(ctx, unit_id)
