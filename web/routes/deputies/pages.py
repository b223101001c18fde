"""Deputies' pages: the searchable list, one deputy's page, the edit form, linking their account,
and the sheet import (upload -> preview -> commit). Anyone with a role in the tenant reads the
list (phones masked); the services decide who may change what (deputy.manage over the deputy's
township or congress)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from renda.platform.errors import N_, Conflict, Message, NotFound, ValidationFailed
from renda.platform.identity import service as identity
from renda.tenants.deputies import importer, queries, rules, service
from renda.tenants.deputies.models import LEVELS, Deputy
from renda.tenants.deputies.sheet import MAX_BYTES
from renda.web.deps import TenantContext, TenantDep
from renda.web.exports import xlsx
from renda.web.forms import RowId, parse_count, parse_id
from renda.web.render import render

router = APIRouter()

FIELD_LABELS = {
    "name": N_("Full name"), "gender": N_("Gender"), "ethnicity": N_("Ethnicity"), "birth_date": N_("Date of birth"),
    "level": N_("Level"), "term": N_("Term"), "electoral_unit": N_("Electoral unit"),
    "delegation": N_("Delegation or deputy group"), "professional_group": N_("Professional group"),
    "township": N_("Township"), "org_unit_id": N_("Township"), "stations": N_("Liaison stations"),
    "phone": N_("Phone"), "email": N_("Email"), "id_code": N_("Deputy number"),
}
ACTION_LABELS = {"create": N_("New"), "update": N_("Updated"), "unchanged": N_("Unchanged"),
                 "invalid": N_("Invalid")}
LABELS = {"level_labels": rules.LEVEL_LABELS, "gender_labels": rules.GENDER_LABELS, "levels": LEVELS,
          "field_labels": FIELD_LABELS, "action_labels": ACTION_LABELS}


# --- the list -----------------------------------------------------------------------------------


@router.get("/t/{slug}/deputies")
def deputies_list(request: Request, ctx: TenantDep, q: str = "", level: str = "", term: str = "",
                  township: str = "", status: str = "active", page: str = "1") -> Response:
    active = {"active": True, "inactive": False}.get(status)
    f = queries.DeputyFilter(q=q.strip(), level=level, term=parse_count(term), township=parse_id(township),
                             active=active)
    result = queries.deputy_page(ctx.session, ctx.tenant, f, parse_count(page) or 1)
    context = {
        "result": result, "filters": {"q": f.q, "level": level, "term": term, "township": township,
                                      "status": status},
        "terms": queries.terms(ctx.session, ctx.tenant), "places": queries.places(ctx.session, ctx.tenant),
        "manages": service.keeps_deputies(ctx.principal, ctx.tenant),
        "saved": request.query_params.get("saved") == "1", **LABELS,
    }
    if request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "deputy-results":
        return render(request, "deputies/_results.html", context)
    return render(request, "deputies/list.html", context)


# --- the import ---------------------------------------------------------------------------------


def _import_page(request: Request, ctx: TenantContext, preview: importer.ImportPreview | None = None,
                 error: Any = None, status_code: int = 200) -> Response:
    return render(request, "deputies/import.html", {
        "preview": preview, "error": error, "limits": importer.limits(), "committed": False, **LABELS,
    }, status_code=status_code)


@router.get("/t/{slug}/deputies/import")
def import_page(request: Request, ctx: TenantDep) -> Response:
    service.require_keeper(ctx.principal, ctx.tenant)
    return _import_page(request, ctx)


@router.post("/t/{slug}/deputies/import")
def import_preview(request: Request, ctx: TenantDep, file: Annotated[UploadFile | None, File()] = None) -> Response:
    service.require_keeper(ctx.principal, ctx.tenant)
    if file is None or not file.filename:
        return _import_page(request, ctx, error=Message(N_("Choose the sheet to import.")), status_code=422)
    content = file.file.read(MAX_BYTES + 1)
    try:
        preview = importer.preview(ctx.session, ctx.principal, ctx.tenant, content, file.filename or "")
    except ValidationFailed as exc:
        return _import_page(request, ctx, error=exc.errors.get("file"), status_code=422)
    return _import_page(request, ctx, preview)


@router.post("/t/{slug}/deputies/import/{token}/commit")
def import_commit(request: Request, ctx: TenantDep, token: RowId) -> Response:
    service.require_keeper(ctx.principal, ctx.tenant)
    try:
        result = importer.commit(ctx.session, ctx.principal, ctx.tenant, token)
    except importer.ImportRefused as exc:
        return _import_page(request, ctx, exc.preview, exc.errors["file"], status_code=422)
    except ValidationFailed as exc:  # the file itself no longer reads (it was checked at the preview)
        return _import_page(request, ctx, error=exc.errors.get("file"), status_code=422)
    return render(request, "deputies/import.html", {
        "preview": result, "error": None, "limits": importer.limits(), "committed": True, **LABELS,
    })


@router.get("/t/{slug}/deputies/import/template.xlsx")
def import_template(request: Request, ctx: TenantDep) -> Response:
    """An empty sheet with the column names the import reads, for offices starting from nothing."""
    service.require_keeper(ctx.principal, ctx.tenant)
    header = ["代表编号", "姓名", "性别", "民族", "出生年月", "代表层级", "届次", "选举单位", "代表团/代表小组",
              "专业小组", "所属乡镇", "联络站", "联系电话", "电子邮箱"]
    return xlsx("deputies.xlsx", ("代表名册", header, []))


# --- one deputy ---------------------------------------------------------------------------------


def _form_values(deputy: Deputy | None = None, stations: list[int] | None = None) -> dict[str, Any]:
    if deputy is None:
        return {"level": "", "stations": []}
    values = {f: getattr(deputy, f) or "" for f in rules.FIELDS}
    values.update(birth_date=deputy.birth_date.isoformat() if deputy.birth_date else "",
                  org_unit_id=str(deputy.org_unit_id), version=str(deputy.version),
                  term=str(deputy.term), stations=[str(s) for s in stations or []])
    return values


def _edit_page(request: Request, ctx: TenantContext, deputy: Deputy | None, values: dict[str, Any],
               errors: Any = None, conflict: Any = None, status_code: int = 200) -> Response:
    return render(request, "deputies/edit.html", {
        "deputy": deputy, "values": values, "errors": errors or {}, "conflict": conflict,
        "places": queries.places(ctx.session, ctx.tenant), "stations": queries.stations(ctx.session, ctx.tenant),
        **LABELS,
    }, status_code=status_code)


Stations = Annotated[list[str] | None, Form()]


def _submitted(form: dict[str, str], stations: list[str] | None) -> dict[str, Any]:
    return {**form, "stations": [s for s in stations or [] if s]}


@router.get("/t/{slug}/deputies/new")
def new_deputy(request: Request, ctx: TenantDep) -> Response:
    service.require_keeper(ctx.principal, ctx.tenant)
    return _edit_page(request, ctx, None, {**_form_values(), "org_unit_id": str(ctx.root.id)})


def _fields_form(name: str, gender: str, ethnicity: str, birth_date: str, level: str, term: str,
                 electoral_unit: str, delegation: str, professional_group: str, phone: str, email: str,
                 id_code: str, org_unit_id: str) -> dict[str, str]:
    return dict(name=name, gender=gender, ethnicity=ethnicity, birth_date=birth_date, level=level, term=term,
                electoral_unit=electoral_unit, delegation=delegation, professional_group=professional_group,
                phone=phone, email=email, id_code=id_code, org_unit_id=org_unit_id)


F = Annotated[str, Form()]


@router.post("/t/{slug}/deputies")
def create_deputy(request: Request, ctx: TenantDep, name: F = "", gender: F = "", ethnicity: F = "",
                  birth_date: F = "", level: F = "", term: F = "", electoral_unit: F = "", delegation: F = "",
                  professional_group: F = "", phone: F = "", email: F = "", id_code: F = "",
                  org_unit_id: F = "", stations: Stations = None) -> Response:
    service.require_keeper(ctx.principal, ctx.tenant)
    form = _fields_form(name, gender, ethnicity, birth_date, level, term, electoral_unit, delegation,
                        professional_group, phone, email, id_code, org_unit_id)
    try:
        deputy = service.create_deputy(ctx.session, ctx.principal, ctx.tenant, fields=form,
                                       org_unit_id=org_unit_id, station_ids=[s for s in stations or [] if s])
    except ValidationFailed as exc:
        return _edit_page(request, ctx, None, _submitted(form, stations), exc.errors, status_code=422)
    return RedirectResponse(f"/t/{ctx.tenant.slug}/deputies/{deputy.id}?saved=1", status_code=303)


@router.get("/t/{slug}/deputies/{deputy_id}")
def deputy_page(request: Request, ctx: TenantDep, deputy_id: RowId) -> Response:
    deputy = service.access_deputy(ctx.session, ctx.principal, ctx.tenant, deputy_id)
    detail = queries.deputy_detail(ctx.session, ctx.tenant, deputy)
    manages = service.may_manage(ctx.session, ctx.principal, deputy)
    return render(request, "deputies/view.html", {
        "d": deputy, "detail": detail, "manages": manages,
        "phone": deputy.phone if manages else rules.mask_phone(deputy.phone),
        "saved": request.query_params.get("saved") == "1",
        "link_error": None, "username": "", **LABELS,
    })


@router.get("/t/{slug}/deputies/{deputy_id}/edit")
def edit_deputy(request: Request, ctx: TenantDep, deputy_id: RowId) -> Response:
    deputy, stations = service.deputy_to_edit(ctx.session, ctx.principal, ctx.tenant, deputy_id)
    return _edit_page(request, ctx, deputy, _form_values(deputy, stations))


@router.post("/t/{slug}/deputies/{deputy_id}/edit")
def update_deputy(request: Request, ctx: TenantDep, deputy_id: RowId, version: F = "", name: F = "",
                  gender: F = "", ethnicity: F = "", birth_date: F = "", level: F = "", term: F = "",
                  electoral_unit: F = "", delegation: F = "", professional_group: F = "", phone: F = "",
                  email: F = "", id_code: F = "", org_unit_id: F = "",
                  stations: Stations = None) -> Response:
    form = _fields_form(name, gender, ethnicity, birth_date, level, term, electoral_unit, delegation,
                        professional_group, phone, email, id_code, org_unit_id)
    try:
        service.update_deputy(ctx.session, ctx.principal, ctx.tenant, deputy_id, version=version, fields=form,
                              org_unit_id=org_unit_id, station_ids=[s for s in stations or [] if s])
    except ValidationFailed as exc:
        deputy = service.access_deputy(ctx.session, ctx.principal, ctx.tenant, deputy_id)
        values = {**_submitted(form, stations), "version": version}
        return _edit_page(request, ctx, deputy, values, exc.errors, status_code=422)
    except Conflict as exc:
        if not ctx.session.is_active:
            raise  # a concurrent edit won the race at the flush: the 409 page, and nothing is kept
        deputy = service.access_deputy(ctx.session, ctx.principal, ctx.tenant, deputy_id)
        # The current version goes into the form: saving again is a deliberate overwrite.
        values = {**_submitted(form, stations), "version": str(deputy.version)}
        return _edit_page(request, ctx, deputy, values, conflict=exc.message, status_code=409)
    return RedirectResponse(f"/t/{ctx.tenant.slug}/deputies/{deputy_id}?saved=1", status_code=303)


@router.post("/t/{slug}/deputies/{deputy_id}/account")
def link_account(request: Request, ctx: TenantDep, deputy_id: RowId, username: F = "") -> Response:
    try:
        user = identity.access_user_by_name(ctx.session, ctx.principal, ctx.tenant, username)
        service.link_user(ctx.session, ctx.principal, ctx.tenant, deputy_id=deputy_id, user_id=user.id)
    except (NotFound, ValidationFailed) as exc:
        error = (next(iter(exc.errors.values())) if isinstance(exc, ValidationFailed)
                 else Message(N_("No account of this congress has this user name.")))
        deputy = service.access_deputy(ctx.session, ctx.principal, ctx.tenant, deputy_id)
        manages = service.may_manage(ctx.session, ctx.principal, deputy)
        return render(request, "deputies/view.html", {
            "d": deputy, "detail": queries.deputy_detail(ctx.session, ctx.tenant, deputy), "manages": manages,
            "phone": deputy.phone if manages else rules.mask_phone(deputy.phone), "saved": False,
            "link_error": error, "username": username, **LABELS,
        }, status_code=422)
    return RedirectResponse(f"/t/{ctx.tenant.slug}/deputies/{deputy_id}?saved=1", status_code=303)


@router.post("/t/{slug}/deputies/{deputy_id}/unlink")
def unlink_account(ctx: TenantDep, deputy_id: RowId) -> Response:
    service.unlink_user(ctx.session, ctx.principal, ctx.tenant, deputy_id)
    return RedirectResponse(f"/t/{ctx.tenant.slug}/deputies/{deputy_id}?saved=1", status_code=303)


@router.post("/t/{slug}/deputies/{deputy_id}/deactivate")
def deactivate(ctx: TenantDep, deputy_id: RowId) -> Response:
    service.set_active(ctx.session, ctx.principal, ctx.tenant, deputy_id, False)
    return RedirectResponse(f"/t/{ctx.tenant.slug}/deputies/{deputy_id}?saved=1", status_code=303)


@router.post("/t/{slug}/deputies/{deputy_id}/reactivate")
def reactivate(ctx: TenantDep, deputy_id: RowId) -> Response:
    service.set_active(ctx.session, ctx.principal, ctx.tenant, deputy_id, True)
    return RedirectResponse(f"/t/{ctx.tenant.slug}/deputies/{deputy_id}?saved=1", status_code=303)
