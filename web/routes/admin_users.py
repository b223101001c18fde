"""Users and their roles in a tenant, for its staff: the filtered list, creating accounts, editing
them, setting passwords, granting and revoking roles, all through the identity service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from renda.platform.access.policy import AccessDenied
from renda.platform.errors import N_, Message, ValidationFailed
from renda.platform.identity import service as identity
from renda.platform.tenancy import admin_queries as queries
from renda.tenants.congress.roles import HANDLING_UNIT_ROLES, Role
from renda.web.deps import TenantContext, TenantDep
from renda.web.forms import RowId, parse_id
from renda.web.render import render
from renda.web.routes.admin_org import KIND_LABELS

router = APIRouter()

ROLE_LABELS = {
    Role.PLATFORM_ADMIN: N_("Platform operator"),
    Role.CONGRESS_ADMIN: N_("Congress staff"),
    Role.CONGRESS_LEADER: N_("Congress leader"),
    Role.TOWNSHIP_CHAIR: N_("Township congress chair"),
    Role.STATION_STAFF: N_("Liaison station staff"),
    Role.DEPUTY: N_("Deputy"),
    Role.HANDLER: N_("Handling unit staff"),
    Role.OBSERVER: N_("Partner (read-only)"),
}
GRANTABLE_ROLES = [r for r in Role if r is not Role.PLATFORM_ADMIN]
# A write to an account of another congress (a form left open, or posted by hand): said on the form.
NOT_HOME = Message(N_("Only the office of this user's own congress can change their account or password."))
LABELS = {"role_labels": ROLE_LABELS, "kind_labels": KIND_LABELS | {"handling_unit": N_("Handling unit")}}


def _form(values: dict[str, Any] | None = None, errors: Any = None) -> dict[str, Any]:
    return {"data": values or {}, "errors": errors or {}}


def _list_page(request: Request, ctx: TenantContext, q: str = "", create: dict[str, Any] | None = None,
               status_code: int = 200) -> Response:
    rows = queries.users_for(ctx.session, ctx.principal, ctx.tenant, q)
    context = {"rows": rows[:queries.USERS_SHOWN], "more": len(rows) > queries.USERS_SHOWN,
               "shown": queries.USERS_SHOWN, "q": q, "create": create or _form(), **LABELS}
    if request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "user-rows":
        return render(request, "admin/_user_rows.html", context, status_code=status_code)
    return render(request, "admin/users.html", context, status_code=status_code)


def _user_page(request: Request, ctx: TenantContext, user_id: int, status_code: int = 200,
               **forms: dict[str, Any]) -> Response:
    found = queries.user_for(ctx.session, ctx.principal, ctx.tenant, user_id)
    user = found.user
    edit = {"display_name": user.display_name, "email": user.email, "phone": user.phone, "active": user.active}
    return render(request, "admin/user.html", {
        "user": user,
        # Only the home congress's office changes the account; elsewhere the page manages roles only.
        "edits_account": found.edits_account,
        "home": found.home,
        "grants": found.grants,
        "revocable": found.revocable,
        "roles": GRANTABLE_ROLES,
        "handling_unit_roles": HANDLING_UNIT_ROLES,
        "scope_units": found.grant_places,
        "handling_units": found.grant_units,
        "root": ctx.root,
        "saved": request.query_params.get("saved") == "1",
        "edit": forms.get("edit", _form(edit)),
        "password": forms.get("password", _form()),
        "grant": forms.get("grant", _form()),
        **LABELS,
    }, status_code=status_code)


def _to_user(ctx: TenantContext, user_id: int) -> Response:
    return RedirectResponse(f"/t/{ctx.tenant.slug}/users/{user_id}?saved=1", status_code=303)


@router.get("/t/{slug}/users")
def users_list(request: Request, ctx: TenantDep, q: str = "") -> Response:
    return _list_page(request, ctx, q.strip())


@router.post("/t/{slug}/users")
def create_user(request: Request, ctx: TenantDep, username: Annotated[str, Form()] = "",
                display_name: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
                email: Annotated[str, Form()] = "", phone: Annotated[str, Form()] = "") -> Response:
    try:
        user = identity.create_user(ctx.session, ctx.principal, ctx.tenant, username=username,
                                    display_name=display_name, password=password, email=email, phone=phone)
    except ValidationFailed as exc:
        values = {"username": username, "display_name": display_name, "email": email, "phone": phone}
        return _list_page(request, ctx, create=_form(values, exc.errors), status_code=422)
    return _to_user(ctx, user.id)


@router.get("/t/{slug}/users/{user_id}")
def user_page(request: Request, ctx: TenantDep, user_id: RowId) -> Response:
    return _user_page(request, ctx, user_id)


@router.post("/t/{slug}/users/{user_id}")
def update_user(request: Request, ctx: TenantDep, user_id: RowId,
                display_name: Annotated[str, Form()] = "", email: Annotated[str, Form()] = "",
                phone: Annotated[str, Form()] = "", active: Annotated[str, Form()] = "") -> Response:
    values = {"display_name": display_name, "email": email, "phone": phone, "active": bool(active)}
    try:
        identity.update_user(ctx.session, ctx.principal, ctx.tenant, user_id, display_name=display_name,
                             email=email, phone=phone, active=bool(active))
    except ValidationFailed as exc:
        return _user_page(request, ctx, user_id, status_code=422, edit=_form(values, exc.errors))
    except AccessDenied:
        return _user_page(request, ctx, user_id, status_code=403, edit=_form(values, {"display_name": NOT_HOME}))
    return _to_user(ctx, user_id)


@router.post("/t/{slug}/users/{user_id}/password")
def set_password(request: Request, ctx: TenantDep, user_id: RowId,
                 password: Annotated[str, Form()] = "") -> Response:
    try:
        identity.set_password(ctx.session, ctx.principal, ctx.tenant, user_id, password)
    except ValidationFailed as exc:
        return _user_page(request, ctx, user_id, status_code=422, password=_form({}, exc.errors))
    except AccessDenied:
        return _user_page(request, ctx, user_id, status_code=403, password=_form({}, {"password": NOT_HOME}))
    return _to_user(ctx, user_id)


def _scope(raw: str) -> tuple[int | None, int | None]:
    """The scope select's value: "org:<id>" (an org unit) or "unit:<id>" (a handling unit)."""
    kind, _, number = raw.partition(":")
    found = parse_id(number)
    if found is None:
        return None, None
    return (found, None) if kind == "org" else (None, found) if kind == "unit" else (None, None)


@router.post("/t/{slug}/users/{user_id}/grants")
def add_grant(request: Request, ctx: TenantDep, user_id: RowId, role: Annotated[str, Form()] = "",
              scope: Annotated[str, Form()] = "") -> Response:
    user = identity.access_user(ctx.session, ctx.principal, ctx.tenant, user_id)
    org_unit_id, handling_unit_id = _scope(scope)
    form = {"role": role, "scope": scope}
    try:
        identity.grant_role(ctx.session, ctx.principal, ctx.tenant, user, role=role, org_unit_id=org_unit_id,
                            handling_unit_id=handling_unit_id)
    except ValidationFailed as exc:
        return _user_page(request, ctx, user_id, status_code=422, grant=_form(form, exc.errors))
    except AccessDenied:
        # A scope outside the actor's user.manage grant: say so on the form, not as a bare 403.
        error = Message(N_("You cannot grant roles there: it lies outside the units you manage."))
        return _user_page(request, ctx, user_id, status_code=403, grant=_form(form, {"role": error}))
    return _to_user(ctx, user_id)


@router.post("/t/{slug}/users/{user_id}/grants/{grant_id}/revoke")
def revoke_grant(ctx: TenantDep, user_id: RowId, grant_id: RowId) -> Response:
    identity.revoke_grant(ctx.session, ctx.principal, ctx.tenant, grant_id, user_id=user_id)
    return _to_user(ctx, user_id)
