"""Deputy suggestions' pages: the entry page that shows each person their part, and one suggestion's
page with its documents and the forms for the steps the viewer may take now. The steps' POST
endpoints are in suggestions_actions.py, the draft's own form (new, edit) in suggestions_drafts.py,
documents in suggestions_attachments.py, the board and the figures in suggestions_board.py.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm.exc import StaleDataError

from renda.platform import clock
from renda.platform.errors import N_, Conflict, Message, ValidationFailed
from renda.platform.files import Attachment
from renda.platform.tenancy.settings import REGISTRY, get_setting
from renda.platform.timeline import TimelineEvent
from renda.tenants.congress.roles import Permission
from renda.tenants.suggestions import page_queries, service
from renda.tenants.suggestions.models import Suggestion
from renda.tenants.suggestions.workflow import Action, ContactWay, Evaluation, State
from renda.web import forms
from renda.web.deps import TenantContext, TenantDep
from renda.web.forms import RowId
from renda.web.i18n import gettext
from renda.web.render import render, wants_fragment
from renda.web.routes.suggestions.attachments import STEP_LABELS, download_url, size_label, upload_limits

router = APIRouter()


def suggestion_path(tenant_slug: str, suggestion_id: int) -> str:
    """A suggestion's page: where its notifications (reminders, steps) lead."""
    return f"/t/{tenant_slug}/suggestions/{suggestion_id}"

STATE_LABELS = {
    State.DRAFT: N_("Draft"),
    State.SUBMITTED: N_("Awaiting review"),
    State.RETURNED: N_("Returned for revision"),
    State.REFERENCE: N_("Reference opinion"),
    State.ACCEPTED: N_("Accepted, awaiting assignment"),
    State.ASSIGNED: N_("Being handled"),
    State.REASSIGN_REQUESTED: N_("Re-assignment requested"),
    State.REPLIED: N_("Replied, awaiting evaluation"),
    State.EVALUATED: N_("Evaluated"),
    State.REHANDLING: N_("Being handled again"),
    State.CLOSED: N_("Closed"),
    State.DISCARDED: N_("Given up"),
}
COLOUR_LABELS = {"red": N_("Overdue"), "yellow": N_("Near due"), "green": N_("On schedule"),
                 "none": N_("No deadline running")}
EVALUATION_LABELS = {Evaluation.SATISFIED: N_("Satisfied"), Evaluation.BASICALLY: N_("Basically satisfied"),
                     Evaluation.DISSATISFIED: N_("Dissatisfied")}
CONTACT_LABELS = {ContactWay.VISIT: N_("Visit"), ContactWay.PHONE: N_("Phone call"), ContactWay.MEETING: N_("Meeting"),
                  ContactWay.LETTER: N_("Letter"), ContactWay.ONLINE: N_("Online")}
REVIEW_LABELS = {"accept": N_("Accept (立案)"), "return": N_("Return for revision"),
                 "reference": N_("Treat as a reference opinion")}
# What each timeline entry says someone did: all verb phrases (提交建议, 交办, 答复), never a state.
EVENT_LABELS = {
    "create": N_("Drafted the suggestion"), "edit": N_("Revised the draft"),
    "cosign": N_("Co-signed the suggestion"), "submit": N_("Submitted the suggestion"),
    "withdraw": N_("Withdrew the suggestion"), "accept": N_("Accepted it for handling"),
    "return": N_("Returned it to the deputy for revision"), "to_reference": N_("Made it a reference opinion"),
    "assign": N_("Assigned it to handling units"), "request_reassign": N_("Asked to be re-assigned"),
    "reassign": N_("Re-assigned it"), "refuse_reassign": N_("Kept the assignment as it was"),
    "contact": N_("Contacted the deputy"), "co_opinion": N_("Gave the co-unit's opinion"),
    "reply": N_("Replied to the deputy"), "evaluate_satisfied": N_("Evaluated the reply"),
    "evaluate_dissatisfied": N_("Found the reply unsatisfactory: to be handled again"),
    "close": N_("Closed the suggestion"), "mark_key": N_("Made it a key suggestion"),
    "commitment_fulfilled": N_("Reported the commitment fulfilled"), "attach": N_("Attached a document"),
    "discard": N_("Gave up the draft"),
}
DONE_LABELS = {
    "create": N_("The draft is saved. Invite your co-signers to confirm, then submit it."),
    "submit": N_("Submitted to the congress office."), "cosign": N_("You have co-signed this suggestion."),
    "review": N_("The review is recorded."), "assign": N_("Assigned to the handling units."),
    "reassign_request": N_("Your request for re-assignment is sent to the congress office."),
    "reassign_refuse": N_("The assignment stays as it was."), "contact": N_("The contact is recorded."),
    "co_opinion": N_("Your opinion is sent to the lead unit."), "reply": N_("The reply is recorded."),
    "evaluate": N_("Thank you: your evaluation is recorded."), "close": N_("The suggestion is closed."),
    "key": N_("It is now a key suggestion."), "fulfil": N_("The commitment is reported fulfilled."),
    "edit": N_("The draft is saved."), "detach": N_("The document is removed from the draft."),
    "discard": N_("The draft is given up: it no longer appears in your lists."),
    "withdraw": N_("The suggestion is withdrawn: it is a draft again and keeps its number."),
}
# The step a viewer most likely came for, opened first on the page (the others stay folded).
FORM_ORDER = ("cosign", "submit", "review", "assign", "reassign_refuse", "reply", "co_opinion", "evaluate", "close",
              "contact", "reassign_request", "key")
STALE = N_("Someone changed this suggestion in the meantime. Reload it and try again.")
SERIES = re.compile(r"^t(\d+)-(?:s(\d+)|between)$")


# -- labels -----------------------------------------------------------------------------------------

def number_label(s: Suggestion) -> str:
    """第17届第6次会议 第104号, or 闭会期间 第12号; a draft has no number yet."""
    if s.number is None:
        return gettext("Not numbered yet")
    if s.session_no:
        return gettext("Term %(term)s, session %(session)s, no. %(number)s", term=s.term, session=s.session_no,
                       number=s.number)
    return gettext("Between sessions, no. %(number)s", number=s.number)


def series_label(series: str) -> str:
    found = SERIES.match(series)
    if not found:
        return series
    if found.group(2):
        return gettext("Term %(term)s, session %(session)s", term=found.group(1), session=found.group(2))
    return gettext("Term %(term)s, between sessions", term=found.group(1))


def reply_class_labels() -> dict[str, str]:
    return dict(REGISTRY["reply_classes"].option_labels)


LABELS: dict[str, Any] = {
    "state_labels": STATE_LABELS, "colour_labels": COLOUR_LABELS, "evaluation_labels": EVALUATION_LABELS,
    "contact_labels": CONTACT_LABELS, "review_labels": REVIEW_LABELS, "event_labels": EVENT_LABELS,
    "number_label": number_label, "series_label": series_label,
    "step_labels": STEP_LABELS, "size_label": size_label,
}


# -- who is looking ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SuggestionPage:
    ctx: TenantContext
    viewer: page_queries.Viewer

    @property
    def base(self) -> str:
        return f"/t/{self.ctx.tenant.slug}/suggestions"


def suggestion_page(ctx: TenantDep) -> SuggestionPage:
    return SuggestionPage(ctx, page_queries.viewer_of(ctx.session, ctx.principal, ctx.tenant, ctx.root))


PageDep = Annotated[SuggestionPage, Depends(suggestion_page)]


def today() -> dt.date:
    return clock.today()


def int_or(value: str | None, default: int | None = None) -> int | None:
    return forms.parse_count(value, default)


def version_of(value: str) -> int:
    """The version the form was rendered with; a form without one is treated as stale."""
    return forms.parse_version(value)


def date_or_none(value: str, field: str) -> dt.date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed.one(field, N_("Enter a date like 2027-06-30.")) from None


# -- the entry page ---------------------------------------------------------------------------------

@router.get("/t/{slug}/suggestions")
def suggestions_home(request: Request, page: PageDep) -> Response:
    session, tenant, viewer, day = page.ctx.session, page.ctx.tenant, page.viewer, today()
    perms = request.state.permissions
    mine = page_queries.deputy_suggestions(session, tenant.id, viewer.deputy.id, day) if viewer.deputy else []
    waiting = [r for r in mine if not r.lead and not r.confirmed
               and r.suggestion.state in (State.DRAFT, State.RETURNED)]
    queues: dict[str, page_queries.Listed] = {}
    if viewer.reviews or viewer.assigns:
        queues = page_queries.in_states(session, tenant.id, [State.SUBMITTED.value, State.ACCEPTED.value,
                                                            State.REASSIGN_REQUESTED.value], day)
    key, overdue = page_queries.supervision(session, tenant.id, day) if viewer.supervises else (
        page_queries.Listed(), page_queries.Listed())
    return render(request, "suggestions/index.html", {
        "viewer": viewer, "mine": mine, "waiting": waiting, "queues": queues,
        "unit_rows": page_queries.unit_suggestions(session, tenant.id, viewer.unit_ids, day),
        "commitments": page_queries.open_commitments(session, tenant.id, viewer.unit_ids),
        "key": key, "overdue": overdue,
        "may_submit": Permission.SUGGESTION_SUBMIT in perms,
        "unlinked": viewer.deputy is None and Permission.SUGGESTION_SUBMIT in perms and not viewer.staff,
        "nothing": not (viewer.deputy or viewer.staff or viewer.unit_ids
                        or Permission.SUGGESTION_SUBMIT in perms),
        "base": page.base, **LABELS,
    })


# -- one suggestion ---------------------------------------------------------------------------------

# The form on the page for each step the service allows (three decisions share the review form …).
FORM_OF = {
    Action.EDIT: "edit", Action.COSIGN: "cosign", Action.SUBMIT: "submit", Action.WITHDRAW: "withdraw",
    Action.DISCARD: "discard", Action.ACCEPT: "review", Action.RETURN: "review", Action.TO_REFERENCE: "review",
    Action.ASSIGN: "assign", Action.REASSIGN: "assign", Action.REFUSE_REASSIGN: "reassign_refuse",
    Action.REQUEST_REASSIGN: "reassign_request", Action.CONTACT: "contact", Action.CO_OPINION: "co_opinion",
    Action.REPLY: "reply", Action.EVALUATE_SATISFIED: "evaluate", Action.EVALUATE_DISSATISFIED: "evaluate",
    Action.CLOSE: "close", Action.MARK_KEY: "key",
}


def forms_for(actions: list[Action]) -> set[str]:
    """The forms to offer: one for each step the service says the viewer may take now."""
    return {FORM_OF[a] for a in actions}


def event_lines(event: Any, found: page_queries.Detail) -> list[tuple[str, str]]:
    """What a timeline event says beyond its name: units, classes, notes, in the reader's language."""
    data: dict[str, Any] = event.data or {}
    units, lines = found.unit_names, []

    def unit(i: Any) -> str:
        return units.get(i, "—") if isinstance(i, int) else "—"

    if "lead_unit_id" in data:
        lines.append((gettext("Lead unit"), unit(data["lead_unit_id"])))
    if data.get("co_unit_ids"):
        lines.append((gettext("Co-units"), "、".join(unit(i) for i in data["co_unit_ids"])))
    if "handling_unit_id" in data:
        lines.append((gettext("Handling unit"), unit(data["handling_unit_id"])))
    if "way" in data:
        lines.append((gettext("Way of contact"), gettext(CONTACT_LABELS.get(data["way"], data["way"]))))
    if "reply_class" in data:
        label = reply_class_labels().get(data["reply_class"], data["reply_class"])
        lines.append((gettext("Result class"), gettext(label)))
    if "on_time" in data:
        lines.append((gettext("On time"), gettext("Yes") if data["on_time"] else gettext("No, late")))
    if "evaluation" in data:
        lines.append((gettext("Evaluation"), gettext(EVALUATION_LABELS.get(data["evaluation"], data["evaluation"]))))
    if "deadline" in data:
        lines.append((gettext("Deadline"), str(data["deadline"])))
    if "supervisor_user_id" in data:
        lines.append((gettext("Supervising leader"), found.user_names.get(data["supervisor_user_id"], "—")))
    if "deputy_id" in data:
        lines.append((gettext("Deputy"), found.deputy_names.get(data["deputy_id"], "—")))
    if data.get("cosigners"):
        lines.append((gettext("Co-signers"), "、".join(found.deputy_names.get(i, "—") for i in data["cosigners"])))
    if "commitment_id" in data:
        what = next((c.content for c, _ in found.commitments if c.id == data["commitment_id"]), "—")
        lines.append((gettext("Commitment"), what))
    if "removed_attachment_id" in data:
        lines.append((gettext("Removed document"), str(data.get("filename", ""))))
    if data.get("reconfirm"):
        lines.append((gettext("Co-signers"), gettext("The text changed: each co-signer confirms it again.")))
    if "by_reply_round" in data:
        kept_by = gettext("The class A reply of round %(round)s", round=data["by_reply_round"])
        lines.append((gettext("Kept by"), kept_by))
    for key, label in (("reason", N_("Reason")), ("summary", N_("Summary")), ("opinion", N_("Opinion")),
                       ("comment", N_("Comment")), ("note", N_("Note"))):
        if data.get(key):
            lines.append((gettext(label), str(data[key])))
    return lines


@dataclass
class Entry:
    """One line of the timeline: the event, what it says, and the documents that came with it."""

    event: TimelineEvent
    lines: list[tuple[str, str]]
    files: list[Attachment] = field(default_factory=list)


def timeline_entries(found: page_queries.Detail, files: list[Attachment]) -> list[Entry]:
    """The events in order; a document attached with a step (its ``step``, by the same person, right
    after it) is shown on that step's entry instead of as an entry of its own."""
    by_id = {a.id: a for a in files}
    entries: list[Entry] = []
    for event in found.events:
        data = event.data or {}
        if event.action != "attach":
            entries.append(Entry(event, event_lines(event, found)))
            continue
        attachment_id = data.get("attachment_id")
        file = by_id.get(attachment_id) if isinstance(attachment_id, int) else None
        last = entries[-1].event if entries else None
        if file is not None and last is not None and data.get("step") and last.action == data["step"] \
                and last.actor_user_id == event.actor_user_id:
            entries[-1].files.append(file)
        elif file is not None:
            entries.append(Entry(event, [], [file]))
        else:  # taken off the draft since: named, no longer served
            entries.append(Entry(event, [(gettext("Document"), gettext("%(file)s (removed from the draft)",
                                                                        file=data.get("filename", "")))]))
    return entries


def last_dissatisfaction(found: page_queries.Detail) -> TimelineEvent | None:
    """While it is handled again, the deputy's 不满意 that sent it back: the unit replies to that."""
    if found.suggestion.state != State.REHANDLING:
        return None
    return next((e for e in reversed(found.events) if e.action == Action.EVALUATE_DISSATISFIED), None)


def detail_page(request: Request, page: SuggestionPage, suggestion_id: int, *, form: str | None = None,
                values: dict[str, Any] | None = None, errors: Any = None, conflict: Message | None = None,
                done: str | None = None, status_code: int = 200) -> Response:
    """The suggestion's page; after a refused form, with that form's input and errors (or the conflict)."""
    ctx = page.ctx
    suggestion = service.access_suggestion(ctx.session, ctx.principal, ctx.tenant, suggestion_id)
    found = page_queries.detail(ctx.session, ctx.tenant, suggestion, today())  # access_suggestion checked who sees it
    forms = forms_for(service.allowed_actions(ctx.session, ctx.principal, suggestion))
    choices: dict[str, Any] = {}
    if "assign" in forms:
        choices["units"] = sorted((u for u in found.units if u.retired_at is None), key=lambda u: u.name)
    if "key" in forms:
        choices["leaders"] = page_queries.leaders(ctx.session, ctx.tenant.id)
    if "reply" in forms:
        choices["reply_classes"] = list(get_setting(ctx.session, ctx.tenant.id, "reply_classes"))
        choices["limits"] = upload_limits(request.app.state.settings)
    files = page_queries.attachments(ctx.session, ctx.tenant.id, suggestion.id)
    entries = timeline_entries(found, files)
    return render(request, "suggestions/detail.html", {
        "s": suggestion, "d": found, "forms": forms,
        "fulfil": service.fulfillable(ctx.session, ctx.principal, ctx.tenant, [c for c, _ in found.commitments]),
        "form": form, "values": values or {}, "errors": errors or {}, "conflict": conflict,
        "open_form": form or next((name for name in FORM_ORDER if name in forms), None),
        "done": DONE_LABELS.get(done or ""), "choices": choices, "reply_class_labels": reply_class_labels(),
        "entries": entries, "files": files, "dissatisfaction": last_dissatisfaction(found),
        # Replies and their timeline entries come in the same order: each reply's documents.
        "reply_files": [e.files for e in entries if e.event.action == Action.REPLY],
        "file_url": lambda a: download_url(ctx.tenant.slug, a), "base": page.base, **LABELS,
    }, status_code=status_code)


def after_step(request: Request, page: SuggestionPage, suggestion_id: int, done: str) -> Response:
    """A plain form gets a 303 to the page; an htmx form swapping #main gets the page's content at once."""
    url = f"{page.base}/{suggestion_id}"
    if wants_fragment(request):
        response = detail_page(request, page, suggestion_id, done=done)
        response.headers["HX-Push-Url"] = url
        return response
    return RedirectResponse(f"{url}?done={done}", status_code=303)


def take_step(request: Request, page: SuggestionPage, suggestion_id: int, form: str, values: dict[str, Any],
              call: Callable[[], Any], invalid: Callable[[ValidationFailed], Response] | None = None) -> Response:
    """Run one service action and answer as the pages do: refused input re-renders its form with the
    errors (422; ``invalid`` for a form that is not on the suggestion's page); a stale version or a
    step no longer possible re-renders the page with the reason (409)."""
    try:
        call()
        page.ctx.session.flush()
    except ValidationFailed as exc:
        if invalid is not None:
            return invalid(exc)
        return detail_page(request, page, suggestion_id, form=form, values=values, errors=exc.errors,
                           status_code=422)
    except StaleDataError:  # a concurrent step won the race at the flush: nothing of this one is kept
        raise Conflict(Message(STALE)) from None
    except Conflict as exc:
        if not page.ctx.session.is_active:
            raise
        return detail_page(request, page, suggestion_id, conflict=exc.message, status_code=409)
    return after_step(request, page, suggestion_id, form)


@router.get("/t/{slug}/suggestions/{suggestion_id:int}")
def suggestion_detail(request: Request, page: PageDep, suggestion_id: RowId, done: str = "") -> Response:
    return detail_page(request, page, suggestion_id, done=done or None)
