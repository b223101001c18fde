"""The steps of a suggestion as form posts: parse the form, call the one service action, then show
the suggestion again. Refused input re-renders its form with the errors (422); a stale version or a
step no longer possible re-renders the page with the reason (409).

The draft's own form (suggestions_drafts.py) and the documents' download (suggestions_attachments.py)
have routers of their own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from renda.platform.errors import N_, Message, ValidationFailed
from renda.tenants.suggestions import commitments, service
from renda.tenants.suggestions.workflow import ReplyClass
from renda.web.forms import RowId
from renda.web.routes.suggestions.attachments import Files, documents_of
from renda.web.routes.suggestions.pages import (
    PageDep,
    after_step,
    date_or_none,
    detail_page,
    int_or,
    take_step,
    version_of,
)

router = APIRouter()

F = Annotated[str, Form()]
Many = Annotated[list[str] | None, Form()]
PATH = "/t/{slug}/suggestions/{suggestion_id:int}"
NO_DUE_DATE = N_("Give the date by which it will be done.")


def _ids(values: list[str] | None) -> list[int]:
    return [i for i in (int_or(v) for v in values or []) if i is not None]


@router.post(PATH + "/submit")
def submit(request: Request, page: PageDep, suggestion_id: RowId, version: F = "") -> Response:
    c = page.ctx
    return take_step(request, page, suggestion_id, "submit", {}, lambda: service.submit(
        c.session, c.principal, c.tenant, suggestion_id, version=version_of(version)))


@router.post(PATH + "/withdraw")
def withdraw(request: Request, page: PageDep, suggestion_id: RowId, version: F = "") -> Response:
    c = page.ctx
    return take_step(request, page, suggestion_id, "withdraw", {}, lambda: service.withdraw(
        c.session, c.principal, c.tenant, suggestion_id, version=version_of(version)))


@router.post(PATH + "/discard")
def discard(request: Request, page: PageDep, suggestion_id: RowId, version: F = "") -> Response:
    c = page.ctx
    return take_step(request, page, suggestion_id, "discard", {}, lambda: service.discard(
        c.session, c.principal, c.tenant, suggestion_id, version=version_of(version)))


@router.post(PATH + "/cosign")
def cosign(request: Request, page: PageDep, suggestion_id: RowId) -> Response:
    c = page.ctx
    return take_step(request, page, suggestion_id, "cosign", {}, lambda: service.confirm_cosign(
        c.session, c.principal, c.tenant, suggestion_id))


@router.post(PATH + "/review")
def review(request: Request, page: PageDep, suggestion_id: RowId, decision: F = "", note: F = "",
           version: F = "") -> Response:
    c = page.ctx
    return take_step(request, page, suggestion_id, "review", {"decision": decision, "note": note},
                     lambda: service.review(c.session, c.principal, c.tenant, suggestion_id, decision=decision,
                                            note=note, version=version_of(version)))


@router.post(PATH + "/assign")
def assign(request: Request, page: PageDep, suggestion_id: RowId, lead_unit_id: F = "", co_unit_ids: Many = None,
           broad: F = "", deadline: F = "", version: F = "") -> Response:
    c = page.ctx
    values = {"lead_unit_id": lead_unit_id, "co_unit_ids": [v for v in co_unit_ids or [] if v],
              "broad": bool(broad), "deadline": deadline}
    return take_step(request, page, suggestion_id, "assign", values, lambda: service.assign(
        c.session, c.principal, c.tenant, suggestion_id, lead_unit_id=int_or(lead_unit_id, 0) or 0,
        co_unit_ids=_ids(co_unit_ids), broad=bool(broad), deadline=date_or_none(deadline, "deadline"),
        version=version_of(version)))


@router.post(PATH + "/reassign-request")
def request_reassignment(request: Request, page: PageDep, suggestion_id: RowId, reason: F = "",
                         version: F = "") -> Response:
    c = page.ctx
    return take_step(request, page, suggestion_id, "reassign_request", {"reason": reason},
                     lambda: service.request_reassignment(c.session, c.principal, c.tenant, suggestion_id,
                                                          reason=reason, version=version_of(version)))


@router.post(PATH + "/reassign-refuse")
def refuse_reassignment(request: Request, page: PageDep, suggestion_id: RowId, note: F = "",
                        version: F = "") -> Response:
    c = page.ctx
    return take_step(request, page, suggestion_id, "reassign_refuse", {"note": note},
                     lambda: service.decide_reassignment(c.session, c.principal, c.tenant, suggestion_id,
                                                         note=note, version=version_of(version)))


@router.post(PATH + "/contact")
def contact(request: Request, page: PageDep, suggestion_id: RowId, way: F = "", summary: F = "",
            version: F = "") -> Response:
    c = page.ctx
    return take_step(request, page, suggestion_id, "contact", {"way": way, "summary": summary},
                     lambda: service.record_contact(c.session, c.principal, c.tenant, suggestion_id, way=way,
                                                    summary=summary, version=version_of(version)))


@router.post(PATH + "/co-opinion")
def co_opinion(request: Request, page: PageDep, suggestion_id: RowId, opinion: F = "", version: F = "") -> Response:
    c = page.ctx
    return take_step(request, page, suggestion_id, "co_opinion", {"opinion": opinion},
                     lambda: service.co_unit_opinion(c.session, c.principal, c.tenant, suggestion_id,
                                                     opinion=opinion, version=version_of(version)))


@router.post(PATH + "/reply")
def reply(request: Request, page: PageDep, suggestion_id: RowId, reply_class: F = "", content: F = "",
          signed_by: F = "", commitment: F = "", commitment_due: F = "", version: F = "",
          attachments: Files = None) -> Response:
    """答复, with the reply document if one is attached: both are kept, or neither."""
    c, settings = page.ctx, request.app.state.settings
    b_class = reply_class == ReplyClass.B
    values = {"reply_class": reply_class, "content": content, "signed_by": signed_by, "commitment": commitment,
              "commitment_due": commitment_due, "files_sent": any(f.filename for f in attachments or [])}

    def answer() -> None:
        # The service holds the rule; the date is looked at here too only so that a refused class B
        # reply says everything wanting at once (the service checks the commitment's text first).
        wanting: dict[str, Message] = {}
        due = None
        if b_class:
            try:
                due = date_or_none(commitment_due, "commitment_due")
            except ValidationFailed as exc:
                wanting.update(exc.errors)
            if due is None and not wanting:
                wanting["commitment_due"] = Message(NO_DUE_DATE)

        try:
            service.reply(c.session, c.principal, c.tenant, suggestion_id, reply_class=reply_class, content=content,
                          signed_by=signed_by, commitment=commitment if b_class else "", commitment_due=due,
                          version=version_of(version), documents=documents_of(settings, attachments))
        except ValidationFailed as exc:
            raise ValidationFailed({**exc.errors, **wanting}) from None

    return take_step(request, page, suggestion_id, "reply", values, answer)


@router.post(PATH + "/evaluate")
def evaluate(request: Request, page: PageDep, suggestion_id: RowId, evaluation: F = "", comment: F = "",
             version: F = "") -> Response:
    c = page.ctx
    return take_step(request, page, suggestion_id, "evaluate", {"evaluation": evaluation, "comment": comment},
                     lambda: service.evaluate(c.session, c.principal, c.tenant, suggestion_id, evaluation=evaluation,
                                              comment=comment, version=version_of(version)))


@router.post(PATH + "/close")
def close(request: Request, page: PageDep, suggestion_id: RowId, note: F = "", version: F = "") -> Response:
    c = page.ctx
    return take_step(request, page, suggestion_id, "close", {"note": note}, lambda: service.close(
        c.session, c.principal, c.tenant, suggestion_id, note=note, version=version_of(version)))


@router.post(PATH + "/key")
def mark_key(request: Request, page: PageDep, suggestion_id: RowId, supervisor_user_id: F = "",
             version: F = "") -> Response:
    c = page.ctx
    return take_step(request, page, suggestion_id, "key", {"supervisor_user_id": supervisor_user_id},
                     lambda: service.mark_key(c.session, c.principal, c.tenant, suggestion_id,
                                              supervisor_user_id=int_or(supervisor_user_id, 0) or 0,
                                              version=version_of(version)))


@router.post("/t/{slug}/suggestions/commitments/{commitment_id:int}/fulfil")
def fulfil(request: Request, page: PageDep, commitment_id: RowId, note: F = "") -> Response:
    c = page.ctx
    found = commitments.access_commitment(c.session, c.principal, c.tenant, commitment_id)
    try:
        commitment = service.fulfil_commitment(c.session, c.principal, c.tenant, found.id, note=note)
        c.session.flush()
    except ValidationFailed as exc:
        return detail_page(request, page, found.suggestion_id, form=f"fulfil-{commitment_id}", values={"note": note},
                           errors=exc.errors, status_code=422)
    return after_step(request, page, commitment.suggestion_id, "fulfil")
