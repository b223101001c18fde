"""Every failure becomes a page (or an htmx partial) that says what happened and what to do.

No traceback ever reaches a browser: unexpected errors are logged with an id that the 500 page
shows, so an operator can find the log line.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from renda.platform.access.policy import AccessDenied
from renda.platform.errors import N_, Conflict, NotFound, ValidationFailed
from renda.web import api, i18n
from renda.web.deps import LoginRequired
from renda.web.render import env, render

log = logging.getLogger("renda.web")

# status -> (title msgid, explanation msgid)
PAGES: dict[int, tuple[str, str]] = {
    400: (N_("Bad request"), N_("The request could not be understood. Go back and try again.")),
    403: (N_("Not allowed"), N_("You have no access to this page. If you need it, ask your congress office "
                                "to grant you a role here.")),
    404: (N_("Not found"), N_("There is no such page, or it is not visible to you. Check the address or "
                              "start again from the home page.")),
    405: (N_("Not allowed"), N_("This address does not accept that kind of request.")),
    409: (N_("Conflict"), N_("Someone changed this in the meantime. Reload the page and make your change "
                             "again.")),
    422: (N_("Check your input"), N_("Some of what was sent is not valid. Go back, correct it and send it "
                                     "again.")),
    500: (N_("Something went wrong"), N_("An unexpected error occurred and nothing was changed. Try again; "
                                         "if it happens again, tell the operator the error number below.")),
    503: (N_("Temporarily unavailable"), N_("The service cannot reach its database or cache right now. "
                                            "Nothing was lost. Please try again in a few minutes.")),
}

CSRF_DETAIL = N_("The form had expired or did not come from this site. Reload the page and send it again.")


def error_page(request: Request, status: int, detail: str | None = None, reference: str | None = None,
               ) -> Response:
    title, text = PAGES.get(status, PAGES[500])
    return render(request, "errors/error.html",
                  {"status": status, "title": title, "text": text, "detail": detail, "reference": reference},
                  status_code=status)


async def send_csrf_failed(scope: dict[str, Any], send: Any, message_id: Any) -> None:
    """asgi-csrf's refusal, as our 403 page in the visitor's language."""
    request = Request(scope)
    i18n.activate(i18n.pick_language(request.cookies.get(i18n.COOKIE)))
    title, text = PAGES[403]
    html = env.get_template("errors/error.html").render(
        request=request, status=403, title=title, text=text, detail=i18n.gettext(CSRF_DETAIL), csrf_token="",
        lang=i18n.pick_language(request.cookies.get(i18n.COOKIE)), nav=[], tenants=[],
    )
    await send({"type": "http.response.start", "status": 403,
                "headers": [[b"content-type", b"text/html; charset=utf-8"]]})
    await send({"type": "http.response.body", "body": html.encode()})


def install(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = "/login"
        if request.method == "GET" and request.url.path not in ("/", "/login"):
            from urllib.parse import quote

            target += "?next=" + quote(request.url.path)
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(AccessDenied)
    async def access_denied(request: Request, exc: AccessDenied) -> Response:
        return error_page(request, 403)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return error_page(request, 404)

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> Response:
        return error_page(request, 409, exc.message.render(i18n.gettext))

    @app.exception_handler(ValidationFailed)
    async def invalid(request: Request, exc: ValidationFailed) -> Response:
        # Forms catch ValidationFailed themselves to re-render with field errors; this is the fallback.
        return error_page(request, 422, "; ".join(m.render(i18n.gettext) for m in exc.errors.values()))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        # An address whose id cannot name anything (``/users/99999999999999999999``) is no such page.
        if exc.errors() and all(tuple(e.get("loc", ()))[:1] == ("path",) for e in exc.errors()):
            return error_page(request, 404)
        return error_page(request, 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code if exc.status_code in PAGES else 500
        if request.url.path.startswith(api.PREFIX):  # an address no API route takes: JSON, as the API answers
            return api.unmatched(status)
        return error_page(request, status)

    @app.exception_handler(DBAPIError)
    @app.exception_handler(redis.RedisError)
    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        return _unexpected(request, exc)


UNAVAILABLE = (OperationalError, redis.ConnectionError, redis.TimeoutError)


def _unexpected(request: Request, exc: Exception) -> Response:
    # Failures raised outside the routes (the session store in middleware) arrive here too.
    if isinstance(exc, UNAVAILABLE) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        log.warning("backing service unavailable: %s", exc.__class__.__name__)
        return error_page(request, 503)
    reference = uuid.uuid4().hex[:12]
    log.error("unexpected error %s on %s %s", reference, request.method, request.url.path, exc_info=exc)
    return error_page(request, 500, reference=reference)
