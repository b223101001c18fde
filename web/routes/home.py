"""The way in: the root redirect, a tenant's home page with its figures, the tenant switcher."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import text

from renda.platform.errors import NotFound
from renda.platform.tenancy import queries
from renda.web.deps import PrincipalDep, SessionDep, TenantDep
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
    child_figures = queries.figures(ctx.session, visible_children)
    return render(request, "home.html", {"figures": own, "children": child_figures})


@router.get("/healthz")
def health(session: SessionDep) -> Response:
    session.execute(text("SELECT 1"))
    return JSONResponse({"status": "ok"})
