"""The deputy's own form: a new suggestion (a draft, with its material attached) and the revision of a
draft or of a suggestion returned for revision (退回修改), version-checked like every step.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import IntegrityError

from renda.platform.errors import Conflict, ValidationFailed
from renda.tenants.suggestions import attachments as suggestion_files
from renda.tenants.suggestions import page_queries, service
from renda.tenants.suggestions.workflow import Action
from renda.web.forms import RowId
from renda.web.render import render
from renda.web.routes.suggestions.attachments import Files, documents_of, download_url, upload_limits
from renda.web.routes.suggestions.pages import (
    DONE_LABELS,
    LABELS,
    PageDep,
    SuggestionPage,
    after_step,
    detail_page,
    int_or,
    take_step,
    today,
    version_of,
)

router = APIRouter()

F = Annotated[str, Form()]
Many = Annotated[list[str] | None, Form()]


def _limits(request: Request) -> dict[str, Any]:
    return upload_limits(request.app.state.settings)


def _files_sent(files: Files) -> bool:
    return any(f.filename for f in files or [])


# -- a new suggestion -------------------------------------------------------------------------------

def _new_page(request: Request, page: SuggestionPage, values: dict[str, Any], errors: Any = None,
              status_code: int = 200) -> Response:
    ctx = page.ctx
    deputy = service.drafting_deputy(ctx.session, ctx.principal, ctx.tenant)  # as the form's post would be refused
    deputies = [d for d in page_queries.active_deputies(ctx.session, ctx.tenant.id, with_account=True)
                if d[0] != deputy.id]
    return render(request, "suggestions/new.html", {
        "values": values, "errors": errors or {}, "deputies": deputies, "limits": _limits(request),
        "categories": page_queries.categories_in_use(page.ctx.session, page.ctx.tenant.id),
        "base": page.base, **LABELS,
    }, status_code=status_code)


@router.get("/t/{slug}/suggestions/new")
def new_suggestion(request: Request, page: PageDep) -> Response:
    ctx = page.ctx
    term = str(service.drafting_deputy(ctx.session, ctx.principal, ctx.tenant).term)
    return _new_page(request, page, {"term": term, "session_no": "", "cosigners": [],
                                     "client_token": secrets.token_urlsafe(16)})


def _draft_of_form(page: SuggestionPage, token: str | None) -> int | None:
    return page_queries.draft_of_form(page.ctx.session, page.ctx.principal, page.ctx.tenant, token)


@router.post("/t/{slug}/suggestions/new")
def create_suggestion(request: Request, page: PageDep, title: F = "", content: F = "", category: F = "",
                      term: F = "", session_no: F = "", cosigners: Many = None, client_token: F = "",
                      attachments: Files = None) -> Response:
    """The draft and its files together; the same form posted twice gives one draft with its files once."""
    ctx, settings = page.ctx, request.app.state.settings
    picked = [c for c in cosigners or [] if c]
    values = {"title": title, "content": content, "category": category, "term": term, "session_no": session_no,
              "cosigners": picked, "client_token": client_token, "files_sent": _files_sent(attachments)}
    token = client_token.strip()[:64] or None
    earlier = _draft_of_form(page, token)
    if earlier is not None:  # a double click, or the browser sending the form again: nothing new
        return after_step(request, page, earlier, "create")
    try:
        suggestion = service.create_draft(
            ctx.session, ctx.principal, ctx.tenant, title=title, content=content, category=category,
            term=int_or(term, 0) or 0, session_no=None if session_no in ("", "between") else int_or(session_no, 0),
            cosigner_ids=[i for i in (int_or(c) for c in picked) if i is not None], client_token=token,
            documents=documents_of(settings, attachments))
    except ValidationFailed as exc:
        return _new_page(request, page, values, exc.errors, status_code=422)
    except IntegrityError:  # the same form posted twice at once: the other request made the draft
        found = _draft_of_form(page, token)  # the savepoint is undone; the request's transaction goes on
        if found is None:
            raise
        return after_step(request, page, found, "create")
    return after_step(request, page, suggestion.id, "create")


# -- revising a draft -------------------------------------------------------------------------------

def _edit_page(request: Request, page: SuggestionPage, suggestion_id: int, values: dict[str, Any] | None = None,
               errors: Any = None, status_code: int = 200, done: str | None = None) -> Response:
    """The draft's form, for its lead deputy while the workflow lets them revise it."""
    ctx = page.ctx
    suggestion = service.access_suggestion(ctx.session, ctx.principal, ctx.tenant, suggestion_id)
    try:
        service.require_step(ctx.session, ctx.principal, suggestion, Action.EDIT)  # only its lead deputy
    except Conflict as exc:  # submitted since: the page as it is now, and why
        return detail_page(request, page, suggestion_id, conflict=exc.message, status_code=409)
    found = page_queries.detail(ctx.session, ctx.tenant, suggestion, today())
    files = page_queries.attachments(ctx.session, ctx.tenant.id, suggestion.id)
    shown = values or {"title": suggestion.title, "content": suggestion.content, "category": suggestion.category,
                       "cosigners": [str(c.deputy_id) for c in found.cosigners]}
    deputies = [d for d in page_queries.active_deputies(ctx.session, ctx.tenant.id, with_account=True)
                if d[0] != suggestion.lead_deputy_id]
    return render(request, "suggestions/edit.html", {
        "deputies": deputies, "removable_steps": service.DRAFT_STEPS,
        "done": DONE_LABELS.get(done) if done else None,
        "s": suggestion, "d": found, "values": shown, "errors": errors or {}, "files": files,
        "version": values.get("version") if values else suggestion.version, "limits": _limits(request),
        "categories": page_queries.categories_in_use(ctx.session, ctx.tenant.id),
        "file_url": lambda a: download_url(ctx.tenant.slug, a), "base": page.base, **LABELS,
    }, status_code=status_code)


@router.get("/t/{slug}/suggestions/{suggestion_id:int}/edit")
def edit_draft(request: Request, page: PageDep, suggestion_id: RowId, done: str = "") -> Response:
    return _edit_page(request, page, suggestion_id, done=done or None)


@router.post("/t/{slug}/suggestions/{suggestion_id:int}/edit")
def save_draft(request: Request, page: PageDep, suggestion_id: RowId, title: F = "", content: F = "",
               category: F = "", version: F = "", cosigners: Many = None, attachments: Files = None) -> Response:
    """A stale version is the 409 of every step (the page as it is now); refused input keeps the form."""
    ctx, settings = page.ctx, request.app.state.settings
    picked = [c for c in cosigners or [] if c]
    values = {"title": title, "content": content, "category": category, "version": version, "cosigners": picked,
              "files_sent": _files_sent(attachments)}
    return take_step(
        request, page, suggestion_id, "edit", values,
        lambda: service.edit_draft(
            ctx.session, ctx.principal, ctx.tenant, suggestion_id, title=title, content=content, category=category,
            cosigner_ids=[i for i in (int_or(c) for c in picked) if i is not None], version=version_of(version),
            documents=documents_of(settings, attachments)),
        invalid=lambda exc: _edit_page(request, page, suggestion_id, values, exc.errors, status_code=422))


@router.post("/t/{slug}/suggestions/attachments/{attachment_id:int}/remove")
def remove_document(request: Request, page: PageDep, attachment_id: RowId, version: F = "") -> Response:
    """The lead deputy takes a document off their draft; back to the draft's form, or the page's 409."""
    ctx = page.ctx
    try:
        suggestion = service.remove_attachment(ctx.session, ctx.principal, ctx.tenant, attachment_id,
                                               version=version_of(version))
        ctx.session.flush()
    except Conflict as exc:
        found = suggestion_files.suggestion_of(ctx.session, ctx.tenant, attachment_id)
        if found is None or not ctx.session.is_active:
            raise
        return detail_page(request, page, found, conflict=exc.message, status_code=409)
    return RedirectResponse(f"{page.base}/{suggestion.id}/edit?done=detach", status_code=303)
