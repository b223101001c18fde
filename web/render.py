"""Jinja2 templates, and the rule for HTMX: a request from htmx that targets #main gets the page's
``content`` block alone; every other request (plain or boosted) gets the whole page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.exc import SQLAlchemyError

from renda.platform import clock
from renda.platform.db import Scope
from renda.platform.errors import Message
from renda.platform.notify import queries as notify_queries
from renda.web import i18n

TEMPLATES = Path(__file__).parent / "templates"


def _csrf_token(request: Request) -> str:
    getter = request.scope.get("csrftoken")
    return getter() if callable(getter) else ""


def _unread_count(request: Request) -> int | None:
    """The header badge: one COUNT of the signed-in user's unread notifications (none signed in: None).

    Read in the request's transaction while it is open (its scope includes the user); error pages,
    rendered after it ended, use a short session of their own under the user's scope. An unreachable
    database hides the badge rather than turning an error page into a second error.
    """
    principal = getattr(request.state, "principal", None)
    if principal is None:
        return None
    current = getattr(request.state, "db_session", None)
    try:
        if current is not None and current.in_transaction() and current.get_transaction().is_active:
            return notify_queries.unread_count(current, principal.user_id)  # the request's own transaction
        with request.app.state.db.session(Scope(user_id=principal.user_id)) as session:
            return notify_queries.unread_count(session, principal.user_id)
    except SQLAlchemyError:
        return None


def _message(value: Any) -> str:
    return value.render(i18n.gettext) if isinstance(value, Message) else i18n.gettext(str(value))


def local_time(value: dt.datetime | None, format: str = "%Y-%m-%d %H:%M") -> str:
    """The ``local_time`` filter: a stored moment as the congress reads it (its day: ``"%Y-%m-%d"``)."""
    moment = clock.local(value)
    return "" if moment is None else moment.strftime(format)


env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
env.filters["msg"] = _message
env.filters["local_time"] = local_time
env.globals["LANGUAGES"] = i18n.LANGUAGES


def wants_fragment(request: Request) -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-Target") == "main"
    )


def render(request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200,
           block: str | None = None) -> HTMLResponse:
    """Render a page (or, for an htmx swap of #main, its content block; or a named block)."""
    ctx: dict[str, Any] = {
        "request": request,
        "csrf_token": _csrf_token(request),
        "lang": getattr(request.state, "language", i18n.DEFAULT_LANGUAGE),
        "principal": getattr(request.state, "principal", None),
        "tenant": getattr(request.state, "tenant", None),
        "nav": getattr(request.state, "nav", []),
        "tenants": getattr(request.state, "tenants", []),
        "sso_enabled": getattr(request.app.state, "oidc", None) is not None,
        "unread_count": _unread_count(request),
    }
    ctx.update(context or {})
    tpl = env.get_template(template)
    if block is None and wants_fragment(request) and "content" in tpl.blocks:
        block = "content"
    html = tpl.render(ctx) if block is None else "".join(tpl.blocks[block](tpl.new_context(ctx)))
    return HTMLResponse(html, status_code=status_code)
