"""The tenant's handling units (承办单位) for its staff: the list, adding, editing, retiring, restoring."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from renda.platform.errors import N_, ValidationFailed
from renda.platform.tenancy import admin_queries as queries
from renda.platform.tenancy import service as tenancy
from renda.web.deps import TenantContext, TenantDep
from renda.web.forms import RowId
from renda.web.render import render

router = APIRouter()

_LABELS = {
    "government": N_("Government department"),
    "court": N_("Court"),
    "procuratorate": N_("Procuratorate"),
    "supervision": N_("Supervisory commission"),
    "enterprise": N_("Enterprise or public institution"),
    "other": N_("Other"),
}
# The service's list decides what is offered; a category added there shows its key until labelled.
CATEGORY_LABELS = {key: _LABELS.get(key, key) for key in tenancy.HANDLING_UNIT_CATEGORIES}


def _list_page(request: Request, ctx: TenantContext, values: dict[str, str] | None = None,
               errors: Any = None, status_code: int = 200) -> Response:
    return render(request, "admin/units.html", {
        "units": queries.handling_units_for(ctx.session, ctx.principal, ctx.tenant),
        "categories": CATEGORY_LABELS,
        "values": values or {"category": "government"},
        "errors": errors or {},
        "saved": request.query_params.get("saved") == "1",
    }, status_code=status_code)


def _unit_page(request: Request, ctx: TenantContext, unit_id: int, values: dict[str, str] | None = None,
               errors: Any = None, status_code: int = 200) -> Response:
    unit = queries.handling_unit_for(ctx.session, ctx.principal, ctx.tenant, unit_id)
    return render(request, "admin/unit.html", {
        "unit": unit,
        "categories": CATEGORY_LABELS,
        "values": values or {"name": unit.name, "category": unit.category, "contact": unit.contact},
        "errors": errors or {},
        "saved": request.query_params.get("saved") == "1",
    }, status_code=status_code)


@router.get("/t/{slug}/units")
def units_list(request: Request, ctx: TenantDep) -> Response:
    return _list_page(request, ctx)


@router.post("/t/{slug}/units")
def create_unit(request: Request, ctx: TenantDep, name: Annotated[str, Form()] = "",
                category: Annotated[str, Form()] = "", contact: Annotated[str, Form()] = "") -> Response:
    try:
        tenancy.create_handling_unit(ctx.session, ctx.principal, ctx.tenant, name=name, category=category,
                                     contact=contact)
    except ValidationFailed as exc:
        return _list_page(request, ctx, {"name": name, "category": category, "contact": contact}, exc.errors,
                          status_code=422)
    return RedirectResponse(f"/t/{ctx.tenant.slug}/units?saved=1", status_code=303)


@router.get("/t/{slug}/units/{unit_id}")
def unit_page(request: Request, ctx: TenantDep, unit_id: RowId) -> Response:
    return _unit_page(request, ctx, unit_id)


@router.post("/t/{slug}/units/{unit_id}")
def update_unit(request: Request, ctx: TenantDep, unit_id: RowId, name: Annotated[str, Form()] = "",
                category: Annotated[str, Form()] = "", contact: Annotated[str, Form()] = "") -> Response:
    try:
        tenancy.update_handling_unit(ctx.session, ctx.principal, ctx.tenant, unit_id, name=name,
                                     category=category, contact=contact)
    except ValidationFailed as exc:
        return _unit_page(request, ctx, unit_id, {"name": name, "category": category, "contact": contact},
                          exc.errors, status_code=422)
    return RedirectResponse(f"/t/{ctx.tenant.slug}/units/{unit_id}?saved=1", status_code=303)


@router.post("/t/{slug}/units/{unit_id}/retire")
def retire_unit(ctx: TenantDep, unit_id: RowId) -> Response:
    tenancy.set_handling_unit_retired(ctx.session, ctx.principal, ctx.tenant, unit_id, True)
    return RedirectResponse(f"/t/{ctx.tenant.slug}/units/{unit_id}?saved=1", status_code=303)


@router.post("/t/{slug}/units/{unit_id}/restore")
def restore_unit(ctx: TenantDep, unit_id: RowId) -> Response:
    tenancy.set_handling_unit_retired(ctx.session, ctx.principal, ctx.tenant, unit_id, False)
    return RedirectResponse(f"/t/{ctx.tenant.slug}/units/{unit_id}?saved=1", status_code=303)
