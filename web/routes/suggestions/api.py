"""The JSON API for deputy suggestions (/api/v1/t/{slug}/suggestions): the board as a list, one
suggestion with its timeline, and the workflow's steps. The same service actions and checks as the
pages; the signed-in session authenticates (send the csrftoken cookie's value as x-csrftoken).

Every refusal is JSON: {"error": code, "message": text in the caller's language, "fields": {...}}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.exc import IntegrityError

from renda.platform.errors import N_, Conflict, Message, NotFound
from renda.tenants.suggestions import commitments, page_queries, queries, service
from renda.tenants.suggestions.models import Suggestion
from renda.web.api import JsonErrorRoute
from renda.web.forms import RowId
from renda.web.routes.suggestions.attachments import download_url
from renda.web.routes.suggestions.board import board_filter
from renda.web.routes.suggestions.pages import (
    SuggestionPage,
    number_label,
    suggestion_page,
    today,
)
from renda.web.routes.suggestions.schemas import (
    AssignIn,
    AttachmentOut,
    CloseIn,
    CommitmentOut,
    ContactIn,
    CosignerOut,
    DocumentIn,
    DraftIn,
    EditIn,
    EvaluateIn,
    EventOut,
    FulfilIn,
    KeyIn,
    NoteIn,
    OpinionIn,
    ReasonIn,
    ReplyIn,
    ReplyOut,
    ReviewIn,
    SuggestionDetailOut,
    SuggestionList,
    SuggestionOut,
    UnitOut,
    VersionIn,
)

router = APIRouter(prefix="/api/v1/t/{slug}/suggestions", tags=["suggestions"], route_class=JsonErrorRoute)


def api_page(request: Request, page: Annotated[SuggestionPage, Depends(suggestion_page)]) -> SuggestionPage:
    request.state.api_session = page.ctx.session  # rolled back by api_error on a refusal
    return page


ApiPage = Annotated[SuggestionPage, Depends(api_page)]


def _summary(s: Suggestion, deputy: str, lead_unit: str | None, colour: str) -> SuggestionOut:
    return SuggestionOut(id=s.id, number=s.number, number_label=number_label(s), series=s.series, title=s.title,
                         category=s.category, state=s.state, colour=colour, deadline=s.deadline, lead_deputy=deputy,
                         lead_unit=lead_unit, is_key=s.is_key, round=s.round, reply_class=s.reply_class,
                         evaluation=s.evaluation, version=s.version)


def _detail(page: SuggestionPage, suggestion_id: int) -> SuggestionDetailOut:
    ctx = page.ctx
    suggestion = service.access_suggestion(ctx.session, ctx.principal, ctx.tenant, suggestion_id)
    found = page_queries.detail(ctx.session, ctx.tenant, suggestion, today())  # access_suggestion checked who sees it
    lead = next((a.unit.name for a in found.assignments if a.assignment.lead), None)
    base = _summary(suggestion, found.lead_deputy.name, lead, found.colour.value)
    fulfillable = service.fulfillable(ctx.session, ctx.principal, ctx.tenant, [c for c, _ in found.commitments])
    return SuggestionDetailOut(
        **base.model_dump(), content=suggestion.content,
        actions=[str(a) for a in service.allowed_actions(ctx.session, ctx.principal, suggestion)],
        cosigners=[CosignerOut(deputy_id=c.deputy_id, name=c.name, confirmed=c.confirmed_at is not None)
                   for c in found.cosigners],
        units=[UnitOut(unit_id=a.unit.id, name=a.unit.name, lead=a.assignment.lead) for a in found.assignments],
        replies=[ReplyOut(round=r.round, reply_class=r.reply_class, content=r.content, signed_by=r.signed_by,
                          unit=unit, replied_at=r.replied_at, on_time=r.on_time) for r, unit in found.replies],
        commitments=[CommitmentOut(id=c.id, content=c.content, due_date=c.due_date, fulfilled_at=c.fulfilled_at,
                                   unit=unit, fulfillable=c.id in fulfillable) for c, unit in found.commitments],
        attachments=[AttachmentOut(id=a.id, filename=a.filename, content_type=a.content_type, size=a.size,
                                   step=a.step, uploaded_at=a.created_at, url=download_url(ctx.tenant.slug, a))
                     for a in page_queries.attachments(ctx.session, ctx.tenant.id, suggestion.id)],
        timeline=[EventOut(at=e.at, actor=found.user_names.get(e.actor_user_id) if e.actor_user_id else None,
                           action=e.action, data=e.data or {}) for e in found.events],
    )


# -- reads ------------------------------------------------------------------------------------------

@router.get("", response_model=SuggestionList)
def list_suggestions(request: Request, page: ApiPage) -> SuggestionList:
    """The supervision board: the same filters as the page (state, unit, category, colour, series,
    deputy, q, key=1, sort, page, per_page)."""
    result = queries.board_for(page.ctx.session, page.ctx.principal, page.ctx.tenant,
                               board_filter(request.query_params), today())
    return SuggestionList(total=result.total, page=result.page, pages=result.pages, per_page=result.per_page,
                          counts_by_colour=result.counts_by_colour,
                          items=[_summary(r.suggestion, r.deputy_name, r.lead_unit, r.colour.value)
                                 for r in result.rows])


@router.get("/{suggestion_id:int}", response_model=SuggestionDetailOut)
def get_suggestion(page: ApiPage, suggestion_id: RowId) -> SuggestionDetailOut:
    return _detail(page, suggestion_id)


# -- steps ------------------------------------------------------------------------------------------

def _documents(request: Request, sent: list[DocumentIn]) -> service.Documents | None:
    if not sent:
        return None
    return service.Documents(request.app.state.settings, [service.Upload(d.filename, d.content) for d in sent])


def _stepped(page: SuggestionPage, suggestion_id: int, call: Callable[[], Any]) -> SuggestionDetailOut:
    call()
    page.ctx.session.flush()  # a concurrent change surfaces here, as a 409
    return _detail(page, suggestion_id)


@router.post("", response_model=SuggestionDetailOut, status_code=201)
def create_suggestion(request: Request, page: ApiPage, body: DraftIn) -> SuggestionDetailOut:
    c = page.ctx
    try:
        s = service.create_draft(c.session, c.principal, c.tenant, title=body.title, content=body.content,
                                 category=body.category, term=body.term, session_no=body.session_no,
                                 cosigner_ids=body.cosigner_ids, client_token=body.client_token,
                                 documents=_documents(request, body.documents))
        c.session.flush()
    except IntegrityError:  # the same client_token posted twice at once
        raise Conflict(Message(N_("This form was sent twice at once; look for the draft in your list."))) from None
    return _detail(page, s.id)


@router.post("/{suggestion_id:int}/cosign", response_model=SuggestionDetailOut)
def cosign(page: ApiPage, suggestion_id: RowId) -> SuggestionDetailOut:
    c = page.ctx
    return _stepped(page, suggestion_id, lambda: service.confirm_cosign(c.session, c.principal, c.tenant,
                                                                        suggestion_id))


@router.post("/{suggestion_id:int}/submit", response_model=SuggestionDetailOut)
def submit(page: ApiPage, suggestion_id: RowId, body: VersionIn) -> SuggestionDetailOut:
    c = page.ctx
    return _stepped(page, suggestion_id, lambda: service.submit(c.session, c.principal, c.tenant, suggestion_id,
                                                                version=body.version))


@router.post("/{suggestion_id:int}/review", response_model=SuggestionDetailOut)
def review(page: ApiPage, suggestion_id: RowId, body: ReviewIn) -> SuggestionDetailOut:
    c = page.ctx
    return _stepped(page, suggestion_id, lambda: service.review(
        c.session, c.principal, c.tenant, suggestion_id, decision=body.decision, note=body.note,
        version=body.version))


@router.post("/{suggestion_id:int}/assign", response_model=SuggestionDetailOut)
def assign(page: ApiPage, suggestion_id: RowId, body: AssignIn) -> SuggestionDetailOut:
    c = page.ctx
    return _stepped(page, suggestion_id, lambda: service.assign(
        c.session, c.principal, c.tenant, suggestion_id, lead_unit_id=body.lead_unit_id,
        co_unit_ids=body.co_unit_ids, broad=body.broad, deadline=body.deadline, version=body.version))


@router.post("/{suggestion_id:int}/reply", response_model=SuggestionDetailOut)
def reply(request: Request, page: ApiPage, suggestion_id: RowId, body: ReplyIn) -> SuggestionDetailOut:
    """答复, with the reply document among ``documents``."""
    c = page.ctx
    return _stepped(page, suggestion_id, lambda: service.reply(
        c.session, c.principal, c.tenant, suggestion_id, reply_class=body.reply_class, content=body.content,
        signed_by=body.signed_by, commitment=body.commitment, commitment_due=body.commitment_due,
        version=body.version, documents=_documents(request, body.documents)))


@router.post("/{suggestion_id:int}/evaluate", response_model=SuggestionDetailOut)
def evaluate(page: ApiPage, suggestion_id: RowId, body: EvaluateIn) -> SuggestionDetailOut:
    c = page.ctx
    return _stepped(page, suggestion_id, lambda: service.evaluate(
        c.session, c.principal, c.tenant, suggestion_id, evaluation=body.evaluation, comment=body.comment,
        version=body.version))


@router.post("/{suggestion_id:int}/close", response_model=SuggestionDetailOut)
def close(page: ApiPage, suggestion_id: RowId, body: CloseIn) -> SuggestionDetailOut:
    c = page.ctx
    return _stepped(page, suggestion_id, lambda: service.close(c.session, c.principal, c.tenant, suggestion_id,
                                                               note=body.note, version=body.version))


@router.post("/{suggestion_id:int}/edit", response_model=SuggestionDetailOut)
def edit(request: Request, page: ApiPage, suggestion_id: RowId, body: EditIn) -> SuggestionDetailOut:
    c = page.ctx
    return _stepped(page, suggestion_id, lambda: service.edit_draft(
        c.session, c.principal, c.tenant, suggestion_id, title=body.title, content=body.content,
        category=body.category, cosigner_ids=body.cosigner_ids, version=body.version,
        documents=_documents(request, body.documents)))


@router.post("/{suggestion_id:int}/withdraw", response_model=SuggestionDetailOut)
def withdraw(page: ApiPage, suggestion_id: RowId, body: VersionIn) -> SuggestionDetailOut:
    c = page.ctx
    return _stepped(page, suggestion_id, lambda: service.withdraw(c.session, c.principal, c.tenant, suggestion_id,
                                                                  version=body.version))


@router.post("/{suggestion_id:int}/discard", response_model=SuggestionDetailOut)
def discard(page: ApiPage, suggestion_id: RowId, body: VersionIn) -> SuggestionDetailOut:
    c = page.ctx
    return _stepped(page, suggestion_id, lambda: service.discard(c.session, c.principal, c.tenant, suggestion_id,
                                                                 version=body.version))


@router.post("/{suggestion_id:int}/contact", response_model=SuggestionDetailOut)
def contact(page: ApiPage, suggestion_id: RowId, body: ContactIn) -> SuggestionDetailOut:
    c = page.ctx
    return _stepped(page, suggestion_id, lambda: service.record_contact(
        c.session, c.principal, c.tenant, suggestion_id, way=body.way, summary=body.summary, version=body.version))


@router.post("/{suggestion_id:int}/co-opinion", response_model=SuggestionDetailOut)
def co_opinion(page: ApiPage, suggestion_id: RowId, body: OpinionIn) -> SuggestionDetailOut:
    c = page.ctx
    return _stepped(page, suggestion_id, lambda: service.co_unit_opinion(
        c.session, c.principal, c.tenant, suggestion_id, opinion=body.opinion, version=body.version))


@router.post("/{suggestion_id:int}/reassignment-request", response_model=SuggestionDetailOut)
def request_reassignment(page: ApiPage, suggestion_id: RowId, body: ReasonIn) -> SuggestionDetailOut:
    c = page.ctx
    return _stepped(page, suggestion_id, lambda: service.request_reassignment(
        c.session, c.principal, c.tenant, suggestion_id, reason=body.reason, version=body.version))


@router.post("/{suggestion_id:int}/keep-assignment", response_model=SuggestionDetailOut)
def keep_assignment(page: ApiPage, suggestion_id: RowId, body: NoteIn) -> SuggestionDetailOut:
    """The office refuses a unit's request for re-assignment (to change it, post to /assign again)."""
    c = page.ctx
    return _stepped(page, suggestion_id, lambda: service.decide_reassignment(
        c.session, c.principal, c.tenant, suggestion_id, note=body.note, version=body.version))


@router.post("/{suggestion_id:int}/key", response_model=SuggestionDetailOut)
def mark_key(page: ApiPage, suggestion_id: RowId, body: KeyIn) -> SuggestionDetailOut:
    c = page.ctx
    return _stepped(page, suggestion_id, lambda: service.mark_key(
        c.session, c.principal, c.tenant, suggestion_id, supervisor_user_id=body.supervisor_user_id,
        version=body.version))


@router.post("/{suggestion_id:int}/commitments/{commitment_id:int}/fulfil", response_model=SuggestionDetailOut)
def fulfil(page: ApiPage, suggestion_id: RowId, commitment_id: RowId, body: FulfilIn) -> SuggestionDetailOut:
    """The unit reports a B commitment done ("回头看"); the commitment must be this suggestion's."""
    c = page.ctx
    commitments.access_commitment(c.session, c.principal, c.tenant, commitment_id, suggestion_id)
    return _stepped(page, suggestion_id, lambda: service.fulfil_commitment(
        c.session, c.principal, c.tenant, commitment_id, note=body.note))


@router.post("/{suggestion_id:int}/attachments/{attachment_id:int}/remove", response_model=SuggestionDetailOut)
def remove_attachment(page: ApiPage, suggestion_id: RowId, attachment_id: RowId,
                      body: VersionIn) -> SuggestionDetailOut:
    """The lead deputy takes a document off the draft (only the draft's own documents)."""
    c = page.ctx
    service.access_suggestion(c.session, c.principal, c.tenant, suggestion_id)
    if attachment_id not in {a.id for a in page_queries.attachments(c.session, c.tenant.id, suggestion_id)}:
        raise NotFound("attachment")
    return _stepped(page, suggestion_id, lambda: service.remove_attachment(
        c.session, c.principal, c.tenant, attachment_id, version=body.version))
