"""What every JSON API route shares: refusals answered as JSON in the caller's language.

``{"error": code, "message": text, "fields": {...}}``. A row that is missing, or not the caller's to
see, is one generic "not found" per noun, so an id tells a caller nothing about another tenant.
A module's API router uses ``route_class=JsonErrorRoute``; a dependency that opens the request's
session for a write stores it as ``request.state.api_session`` so that a refusal rolls it back.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm.exc import StaleDataError

from renda.platform.access.policy import AccessDenied
from renda.platform.errors import N_, Conflict, NotFound, ValidationFailed
from renda.web.deps import LoginRequired
from renda.web.i18n import gettext

STALE = N_("Someone changed this suggestion in the meantime. Reload it and try again.")
INVALID = N_("Some of what was sent is not valid.")
NOT_FOUND = N_("There is no such record, or it is not visible to you.")
# The noun a NotFound names (its first argument) -> what the caller reads.
NOT_FOUND_BY_NOUN: dict[str, str] = {
    "suggestion": N_("There is no such suggestion, or it is not visible to you."),
}
ERRORS: dict[type[Exception], tuple[int, str, str]] = {
    LoginRequired: (401, "not_signed_in", N_("Sign in first.")),
    AccessDenied: (403, "forbidden", N_("You may not do this here.")),
    NotFound: (404, "not_found", NOT_FOUND),
    Conflict: (409, "conflict", STALE),
    StaleDataError: (409, "conflict", STALE),
    ValidationFailed: (422, "invalid", INVALID),
    RequestValidationError: (422, "invalid", INVALID),
}


def not_found_message(exc: NotFound) -> str:
    noun = str(exc.args[0]) if exc.args else ""
    return NOT_FOUND_BY_NOUN.get(noun, NOT_FOUND)


def api_error(request: Request, exc: Exception) -> Response | None:
    """The JSON answer to a refusal, with nothing of the request kept; None for an unexpected error."""
    known = next((v for k, v in ERRORS.items() if isinstance(exc, k)), None)
    if known is None:
        return None
    session = getattr(request.state, "api_session", None)
    if session is not None:
        session.rollback()
    status, code, message = known
    fields: dict[str, str] = {}
    text = gettext(message)
    if isinstance(exc, NotFound):
        text = gettext(not_found_message(exc))
    elif isinstance(exc, Conflict):
        text = exc.message.render(gettext)
    elif isinstance(exc, ValidationFailed):
        fields = {name: m.render(gettext) for name, m in exc.errors.items()}
    elif isinstance(exc, RequestValidationError):
        for error in exc.errors():
            name = ".".join(str(p) for p in error.get("loc", ())[1:]) or "body"
            fields[name] = gettext("This value is missing or not valid.")
    return JSONResponse({"error": code, "message": text, "fields": fields}, status_code=status)


class JsonErrorRoute(APIRoute):
    """Answers refusals as JSON, including those of the dependencies (sign-in, tenant, access)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                response = api_error(request, exc)
                if response is None:
                    raise
                return response

        return route


PREFIX = "/api/v1/"
UNMATCHED: dict[int, tuple[str, str]] = {
    404: ("not_found", NOT_FOUND),
    405: ("method_not_allowed", N_("This address does not accept that kind of request.")),
}


def unmatched(status: int) -> Response:
    """The answer to an address under the API that no route takes (``/suggestions/abc``): JSON too."""
    code, message = UNMATCHED.get(status, ("error", INVALID))
    return JSONResponse({"error": code, "message": gettext(message), "fields": {}}, status_code=status)
