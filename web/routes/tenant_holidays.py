"""A tenant's own days off and working days (its settings area): the list, adding a day, removing one."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from renda.platform import clock
from renda.platform.errors import N_, ValidationFailed
from renda.platform.workdays import service as workdays
from renda.platform.workdays.models import NOTE_MAX
from renda.web.deps import TenantContext, TenantDep
from renda.web.forms import RowId
from renda.web.render import render

router = APIRouter()

F = Annotated[str, Form()]
KINDS = {"off": False, "worked": True}
WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"),
            N_("Sunday"))


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None  # the service says what to write instead


def _page(request: Request, ctx: TenantContext, values: dict[str, str] | None = None, errors: Any = None,
          status_code: int = 200) -> Response:
    years = workdays.covered_years()
    return render(request, "admin/holidays.html", {
        "days": workdays.own_days_for(ctx.session, ctx.principal, ctx.tenant),
        "first_year": years.start, "last_year": years.stop - 1, "this_year": clock.today().year,
        "values": values or {"kind": "off"}, "errors": errors or {}, "note_max": NOTE_MAX, "weekdays": WEEKDAYS,
        "saved": request.query_params.get("saved") == "1",
    }, status_code=status_code)


@router.get("/t/{slug}/settings/holidays")
def holidays_page(request: Request, ctx: TenantDep) -> Response:
    return _page(request, ctx)


@router.post("/t/{slug}/settings/holidays")
def add_day(request: Request, ctx: TenantDep, day: F = "", kind: F = "", note: F = "") -> Response:
    try:
        workdays.add_own_day(ctx.session, ctx.principal, ctx.tenant, day=_day(day), working=KINDS.get(kind),
                             note=note, today=clock.today())
    except ValidationFailed as exc:
        return _page(request, ctx, {"day": day, "kind": kind, "note": note}, exc.errors, status_code=422)
    return RedirectResponse(f"/t/{ctx.tenant.slug}/settings/holidays?saved=1", status_code=303)


@router.post("/t/{slug}/settings/holidays/{override_id}/remove")
def remove_day(ctx: TenantDep, override_id: RowId) -> Response:
    workdays.remove_own_day(ctx.session, ctx.principal, ctx.tenant, override_id)
    return RedirectResponse(f"/t/{ctx.tenant.slug}/settings/holidays?saved=1", status_code=303)
