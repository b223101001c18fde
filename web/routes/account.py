"""Signing in and out, the language switch, and changing one's own password."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starsessions import regenerate_session_id

from renda.platform.errors import Message, ValidationFailed
from renda.platform.identity import service as identity
from renda.platform.identity.oidc import SsoError
from renda.web import i18n
from renda.web.deps import PrincipalDep, SessionDep
from renda.web.render import render

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a signed-in user to another host."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    if request.session.get("user_id"):
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next), "username": "", "error": None})



@router.post("/login")
def login(request: Request, session: SessionDep, username: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    result = identity.authenticate(session, request.app.state.throttle, username, password,
                                   _client_address(request))
    if result.user_id is None:
        minutes = max(1, (result.retry_after_seconds + 59) // 60)
        error = Message(result.error or "", minutes=minutes) if result.retry_after_seconds else Message(
            result.error or "")
        status = 429 if result.retry_after_seconds else 200
        return render(request, "login.html", {"next": safe_next(next), "username": username, "error": error},
                      status_code=status)
    regenerate_session_id(request)  # a new id at login: no session fixation
    request.session.clear()
    request.session["user_id"] = result.user_id
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the session here and, after a single sign-on, the provider's session too."""
    signed = request.session.get("sso")
    request.session.clear()
    oidc = request.app.state.oidc
    if signed and oidc is not None:
        base = (request.app.state.settings.public_url or str(request.base_url)).rstrip("/")
        try:
            url = oidc.logout_url(id_token=signed["id_token"], post_logout_redirect_uri=f"{base}/login")
        except SsoError:
            url = None  # the provider is down: our session is over, its own will expire
        if url:
            return RedirectResponse(url, status_code=303)
    return RedirectResponse("/login", status_code=303)


@router.get("/lang/{code}")
def switch_language(code: str, request: Request, next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next or request.headers.get("referer", "/").split(
        str(request.base_url).rstrip("/"), 1)[-1]), status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response


@router.get("/account/password")
def password_page(request: Request, principal: PrincipalDep) -> Response:
    return render(request, "account/password.html", {"errors": {}, "done": False})


@router.post("/account/password")
def change_password(request: Request, session: SessionDep, principal: PrincipalDep,
                    current: Annotated[str, Form()] = "", new: Annotated[str, Form()] = "",
                    repeat: Annotated[str, Form()] = "") -> Response:
    try:
        identity.change_password(session, principal, current=current, new=new, repeat=repeat)
    except ValidationFailed as exc:
        return render(request, "account/password.html", {"errors": exc.errors, "done": False}, status_code=422)
    return render(request, "account/password.html", {"errors": {}, "done": True})
