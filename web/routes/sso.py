"""Single sign-on through the deployment's Keycloak realm (OpenID Connect, code flow with PKCE)."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starsessions import regenerate_session_id

from renda.platform.errors import N_, Message, NotFound
from renda.platform.identity import sso
from renda.platform.identity.oidc import OidcClient, ProviderUnavailable, SsoError
from renda.tenants.deputies import service as deputies
from renda.web.deps import WriteSessionDep
from renda.web.render import render
from renda.web.routes.account import safe_next

router = APIRouter()
log = logging.getLogger("renda.sso")

PENDING_SECONDS = 600  # how long a sign-in started here may take at the provider
DEPUTY_CLAIM = "deputy_code"  # the realm's user attribute carrying the office's deputy number (代表编号)


def _link_deputy(session: Session, user_id: int, code: str) -> None:
    """Link the signed-in account to the deputy records its verified deputy number names; what cannot
    be linked is logged and left for the office to resolve."""
    for slug, why in deputies.link_by_number(session, user_id, code):
        log.warning("deputy number %s of user %s not linked in %s: %s", code, user_id, slug, why)


def client(request: Request) -> OidcClient | None:
    """The app's OIDC client, or None when no Keycloak is configured."""
    return request.app.state.oidc


def _base_url(request: Request) -> str:
    configured = request.app.state.settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def _refused(request: Request, exc: SsoError, status_code: int) -> Response:
    log.warning("single sign-on refused: %s", exc)
    return render(request, "login.html", {"next": "/", "username": "", "error": Message(exc.msgid)},
                  status_code=status_code)


@router.get("/login/sso")
def start(request: Request, next: str | None = None) -> Response:
    oidc = client(request)
    if oidc is None:
        raise NotFound("sso")
    try:
        auth = oidc.begin(f"{_base_url(request)}/login/sso/callback")
    except SsoError as exc:
        return _refused(request, exc, 503 if isinstance(exc, ProviderUnavailable) else 502)
    request.session["sso_pending"] = {"state": auth.state, "nonce": auth.nonce, "verifier": auth.code_verifier,
                                      "next": safe_next(next), "at": time.time()}
    return RedirectResponse(auth.url, status_code=303)


@router.get("/login/sso/callback")
def callback(request: Request, session: WriteSessionDep, state: str = "", code: str = "", error: str = "",
             ) -> Response:
    oidc = client(request)
    if oidc is None:
        raise NotFound("sso")
    # One use only: a replayed or forged callback finds nothing to match.
    pending: dict[str, Any] | None = request.session.pop("sso_pending", None)
    try:
        if not pending or not state or state != pending.get("state"):
            raise SsoError(N_("The sign-in request was not recognised (it may have been used already). "
                              "Please start again."), f"state mismatch (pending: {bool(pending)})")
        if time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
            raise SsoError(N_("The sign-in took too long. Please start again."), "pending sign-in expired")
        if error or not code:
            raise SsoError(N_("The unified identity service refused the sign-in. Please try again."),
                           f"provider error {error!r}")
        signed = oidc.finish(code=code, redirect_uri=f"{_base_url(request)}/login/sso/callback",
                             code_verifier=pending["verifier"], nonce=pending["nonce"])
        result = sso.provision(session, signed.claims)
        _link_deputy(session, result.user_id, str(signed.claims.get(DEPUTY_CLAIM) or "").strip())
    except SsoError as exc:
        return _refused(request, exc, 503 if isinstance(exc, ProviderUnavailable) else 400)
    regenerate_session_id(request)
    request.session.clear()
    request.session["user_id"] = result.user_id
    request.session["sso"] = {"id_token": signed.id_token, "refresh_token": signed.refresh_token,
                              "expires_at": signed.expires_at, "refresh_expires_at": signed.refresh_expires_at,
                              "sub": signed.claims.get("sub")}
    return RedirectResponse(pending["next"], status_code=303)
