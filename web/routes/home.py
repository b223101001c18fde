"""The way in: the root redirect, a tenant's home page with its figures, the tenant switcher."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from renda.platform.db import ping
from renda.platform.errors import N_, NotFound
from renda.platform.tenancy import queries
from renda.web.deps import PrincipalDep, SessionDep, TenantDep
from renda.web.i18n import gettext
from renda.web.render import render

router = APIRouter()


@router.get("/")
def root(request: Request, principal: PrincipalDep) -> Response:
    tenants = request.state.tenants
    if not tenants:
        return render(request, "no_tenant.html", status_code=403)
    remembered = request.session.get("tenant")
    slug = remembered if remembered in {t.slug for t in tenants} else tenants[0].slug
    return RedirectResponse(f"/t/{slug}/", status_code=303)


@router.get("/switch")
def switch(request: Request, principal: PrincipalDep, tenant: str = "") -> Response:
    if tenant not in {t.slug for t in request.state.tenants}:
        raise NotFound("tenant")
    return RedirectResponse(f"/t/{tenant}/", status_code=303)


@router.get("/t/{slug}/")
def tenant_home(request: Request, ctx: TenantDep) -> Response:
    own = queries.figures(ctx.session, [ctx.tenant])[0]
    children = queries.child_tenants(ctx.session, ctx.tenant)
    visible_children = [t for t in children if ctx.principal.scope.sees_tenant(t.id)]
    with ctx.widened() as across:  # the city's counties side by side
        child_figures = queries.figures(across, visible_children)
    return render(request, "home.html", {"figures": own, "children": child_figures,
                                         "chart": _county_chart(request, child_figures)})


def _county_chart(request: Request, figures: list[queries.TenantFigures]) -> dict[str, Any]:
    """An ECharts bar chart of townships and stations per county (the table below says the same)."""
    english = request.state.language != "zh_CN"
    names = [f.tenant.name_en if english and f.tenant.name_en else f.tenant.name for f in figures]

    def series(label: str, kind: str) -> dict[str, Any]:
        return {"name": gettext(label), "type": "bar", "data": [f.units_by_kind.get(kind, 0) for f in figures]}

    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 8, "bottom": 8, "top": 36, "containLabel": True},
        "xAxis": {"type": "category", "data": names, "axisLabel": {"interval": 0, "rotate": 40}},
        "yAxis": {"type": "value", "minInterval": 1},
        "color": ["#b71c1c", "#f2a93b"],
        "series": [series(N_("Townships"), "township"), series(N_("Liaison stations"), "station")],
    }


@router.get("/healthz")
def health(session: SessionDep) -> Response:
    ping(session)
    return JSONResponse({"status": "ok"})
