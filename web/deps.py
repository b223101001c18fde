"""Request dependencies: the database session, the acting principal and the current tenant."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from renda.platform.access.policy import AccessDenied, Principal
from renda.platform.db import Database, Scope, get_scope, set_scope
from renda.platform.errors import NotFound
from renda.platform.identity.oidc import ProviderUnavailable, SsoError
from renda.platform.identity.principal import UnknownPrincipal, load_access
from renda.platform.tenancy.models import OrgUnit, Tenant
from renda.platform.tenancy.service import tenant_root
from renda.tenants.congress.roles import Permission
from renda.web.modules import navigation


@dataclass(frozen=True)
class TenantRef:
    """What pages show of a tenant. A plain copy: error pages render it after the session is gone."""

    id: int
    slug: str
    name: str
    name_en: str
    code: str | None

    @classmethod
    def of(cls, tenant: Tenant) -> TenantRef:
        return cls(tenant.id, tenant.slug, tenant.name, tenant.name_en, tenant.code)


class LoginRequired(Exception):
    """No signed-in user: pages redirect to the login page."""


def get_db(request: Request) -> Database:
    return request.app.state.db


# Requests that change things: their transaction takes SQLite's write lock when it begins (platform/db.py),
# so concurrent writers wait their turn. A GET that writes (the SSO callback) asks with WriteSessionDep.
WRITING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _request_session(request: Request, write: bool) -> Iterator[Session]:
    with get_db(request).session(Scope(), write=write) as session:
        request.state.db_session = session  # the header's unread count reads through it (render.py)
        yield session


def db_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed when the handler returns without error."""
    yield from _request_session(request, request.method in WRITING_METHODS)


def writing_db_session(request: Request) -> Iterator[Session]:
    """The same, for a request that writes whatever its method."""
    yield from _request_session(request, True)


# scope="function": the transaction commits before the response leaves, so a redirect is never
# followed before its change is visible, and a failed commit is an error page, not a false success.
SessionDep = Annotated[Session, Depends(db_session, scope="function")]
WriteSessionDep = Annotated[Session, Depends(writing_db_session, scope="function")]


def _keep_sso_alive(request: Request) -> None:
    """Renew a single sign-on's tokens before they lapse; a provider that refuses ends the session.

    While the provider cannot be reached, the session goes on until its own lifetime ends.
    """
    signed = request.session.get("sso")
    oidc = request.app.state.oidc
    if not signed or oidc is None or time.time() < float(signed.get("expires_at", 0)) - 30:
        return
    if not signed.get("refresh_token"):
        request.session.clear()
        raise LoginRequired
    try:
        renewed = oidc.refresh(signed["refresh_token"], {"sub": signed.get("sub")})
    except ProviderUnavailable:
        return
    except SsoError:
        request.session.clear()
        raise LoginRequired from None
    request.session["sso"] = {**signed, "id_token": renewed.id_token,
                              "refresh_token": renewed.refresh_token or signed["refresh_token"],
                              "expires_at": renewed.expires_at, "refresh_expires_at": renewed.refresh_expires_at}


def _assumed_scope(request: Request, user_id: int) -> Scope | None:
    """The scope this session's previous request ended with (kept server-side, never sent to the browser)."""
    kept = request.session.get("scope")
    if not isinstance(kept, dict) or kept.get("u") != user_id:
        return None
    return Scope(tenant_ids=frozenset(kept.get("t", ())), joint_station_ids=frozenset(kept.get("j", ())),
                 user_id=user_id)


def current_principal(request: Request, session: SessionDep) -> Principal:
    user_id = request.session.get("user_id")
    if not user_id:
        raise LoginRequired
    _keep_sso_alive(request)
    assumed = _assumed_scope(request, int(user_id))
    try:
        access = load_access(session, int(user_id), assumed, apply=False)
    except UnknownPrincipal:
        request.session.clear()
        raise LoginRequired from None
    principal = access.principal
    # A page of one tenant is narrowed to it here, before any of its reads: the scope is written once.
    shown = access.tenant_by_slug(str(request.path_params.get("slug", "")))
    scope = access.scope_for(shown) if shown is not None else principal.scope
    if get_scope(session) != scope:
        set_scope(session, scope)
    if not scope.everything and assumed != scope:
        request.session["scope"] = {"u": principal.user_id, "t": sorted(scope.tenant_ids),
                                    "j": sorted(scope.joint_station_ids)}
    request.state.principal = principal
    request.state.access = access
    request.state.tenants = [TenantRef.of(t) for t in access.accessible()]
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


@dataclass(frozen=True)
class TenantContext:
    """The tenant in the URL. Its session is narrowed to that tenant (``Scope.narrowed_to``)."""

    tenant: Tenant
    root: OrgUnit
    principal: Principal
    session: Session

    @contextmanager
    def widened(self) -> Iterator[Session]:
        """The principal's whole scope for a view across congresses (a city's counties side by side).

        Only such a view asks for it; every other read of the page stays within the URL's tenant.
        """
        narrowed = get_scope(self.session)
        self.session.flush()
        set_scope(self.session, self.principal.scope)
        try:
            yield self.session
        finally:
            self.session.flush()
            set_scope(self.session, narrowed)



def tenant_context(slug: str, request: Request, session: SessionDep, principal: PrincipalDep) -> TenantContext:
    """The tenant named in the URL: 404 when there is none, 403 when the user holds no grant there."""
    tenant = request.state.access.tenant_by_slug(slug)
    if tenant is None or not tenant.active:
        raise NotFound("tenant")
    if tenant.id not in {t.id for t in request.state.tenants}:
        raise AccessDenied(Permission.TENANT_VIEW, "no grant in this tenant")
    try:
        root = tenant_root(session, tenant)
    except NotFound:
        raise AccessDenied(Permission.TENANT_VIEW, "tenant root not visible") from None
    request.state.tenant = TenantRef.of(tenant)
    perms = principal.permissions_in(tenant.id)
    request.state.nav = [(entry.path, entry.label) for entry in navigation() if entry.permission in perms]
    request.state.permissions = perms
    request.session["tenant"] = tenant.slug
    return TenantContext(tenant, root, principal, session)


TenantDep = Annotated[TenantContext, Depends(tenant_context)]
