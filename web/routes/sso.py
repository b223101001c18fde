"""Single sign-on through the deployment's Keycloak realm (OpenID Connect, code flow with PKCE)."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starsessions import regenerate_session_id

from renda.platform.errors import N_, Message, NotFound
from renda.platform.identity import sso
from renda.platform.identity.oidc import OidcClient, ProviderUnavailable, SsoError
from renda.web.deps import SessionDep
from renda.web.render import render
from renda.web.routes.account import safe_next

router = APIRouter()
log = logging.getLogger("renda.sso")

PENDING_SECONDS = 600  # how long a sign-in started here may take at the provider


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
def callback(request: Request, session: SessionDep, state: str = "", code: str = "", error: str = "") -> Response:
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
    except SsoError as exc:
        return _refused(request, exc, 503 if isinstance(exc, ProviderUnavailable) else 400)
    regenerate_session_id(request)
    request.session.clear()
    request.session["user_id"] = result.user_id
    request.session["sso"] = {"id_token": signed.id_token, "refresh_token": signed.refresh_token,
                              "expires_at": signed.expires_at, "refresh_expires_at": signed.refresh_expires_at,
                              "sub": signed.claims.get("sub")}
    return RedirectResponse(pending["next"], status_code=303)
