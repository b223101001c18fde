"""Deputy suggestions' pages: the entry page that shows each person their part, a new suggestion,
and one suggestion's page with the forms for the steps the viewer may take now. The steps' POST
endpoints are in suggestions_actions.py, the board and the figures in suggestions_board.py.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from renda.platform.access.policy import AccessDenied, Principal, Target, can
from renda.platform.access.roles import Permission
from renda.platform.errors import N_, Message, ValidationFailed
from renda.platform.tenancy.settings import REGISTRY, get_setting
from renda.tenants.suggestions import page_queries, service
from renda.tenants.suggestions.models import Suggestion
from renda.tenants.suggestions.workflow import Action, State, actions_from
from renda.web.deps import TenantContext, TenantDep
from renda.web.i18n import gettext
from renda.web.render import render, wants_fragment

router = APIRouter()

try:
    LOCAL_TIME: dt.tzinfo = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # no tz database on the host: China keeps UTC+8 all year
    LOCAL_TIME = dt.timezone(dt.timedelta(hours=8), "CST")

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
}
COLOUR_LABELS = {"red": N_("Overdue"), "yellow": N_("Near due"), "green": N_("On schedule"),
                 "none": N_("No deadline running")}
EVALUATION_LABELS = {"satisfied": N_("Satisfied"), "basically": N_("Basically satisfied"),
                     "dissatisfied": N_("Dissatisfied")}
CONTACT_LABELS = {"visit": N_("Visit"), "phone": N_("Phone call"), "meeting": N_("Meeting"),
                  "letter": N_("Letter"), "online": N_("Online")}
REVIEW_LABELS = {"accept": N_("Accept (立案)"), "return": N_("Return for revision"),
                 "reference": N_("Treat as a reference opinion")}
EVENT_LABELS = {
    "create": N_("Drafted"), "edit": N_("Edited"), "cosign": N_("Co-signed"), "submit": N_("Submitted"),
    "withdraw": N_("Withdrawn"), "accept": N_("Accepted"), "return": N_("Returned for revision"),
    "to_reference": N_("Treated as a reference opinion"), "assign": N_("Assigned"),
    "request_reassign": N_("Re-assignment requested"), "reassign": N_("Re-assigned"),
    "refuse_reassign": N_("Re-assignment refused"), "contact": N_("Contact with the deputy"),
    "co_opinion": N_("Co-unit's opinion"), "reply": N_("Replied"), "evaluate_satisfied": N_("Evaluated"),
    "evaluate_dissatisfied": N_("Dissatisfied: to be handled again"), "close": N_("Closed"),
    "mark_key": N_("Made a key suggestion"), "commitment_fulfilled": N_("Commitment fulfilled"),
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
}
# The step a viewer most likely came for, opened first on the page (the others stay folded).
FORM_ORDER = ("cosign", "submit", "review", "assign", "reassign_refuse", "reply", "co_opinion", "evaluate", "close",
              "contact", "reassign_request", "key")
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


def local_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M")


def reply_class_labels() -> dict[str, str]:
    return dict(REGISTRY["reply_classes"].option_labels)


LABELS: dict[str, Any] = {
    "state_labels": STATE_LABELS, "colour_labels": COLOUR_LABELS, "evaluation_labels": EVALUATION_LABELS,
    "contact_labels": CONTACT_LABELS, "review_labels": REVIEW_LABELS, "event_labels": EVENT_LABELS,
    "number_label": number_label, "series_label": series_label, "local_time": local_time,
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
    return dt.date.today()


def int_or(value: str | None, default: int | None = None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else default


def version_of(value: str) -> int:
    """The version the form was rendered with; a form without one is treated as stale."""
    return int_or(value, -1) or -1


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
    queues: dict[str, list[page_queries.Row]] = {}
    if viewer.reviews or viewer.assigns:
        queues = page_queries.in_states(session, tenant.id, [State.SUBMITTED.value, State.ACCEPTED.value,
                                                            State.REASSIGN_REQUESTED.value], day)
    key, overdue = page_queries.supervision(session, tenant.id, day) if viewer.supervises else ([], [])
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


# -- a new suggestion -------------------------------------------------------------------------------

def _new_page(request: Request, page: SuggestionPage, values: dict[str, Any], errors: Any = None,
              status_code: int = 200) -> Response:
    if page.viewer.deputy is None:
        raise AccessDenied(Permission.SUGGESTION_SUBMIT, "the account is not linked to a deputy")
    deputies = [d for d in page_queries.active_deputies(page.ctx.session, page.ctx.tenant.id, with_account=True)
                if d[0] != page.viewer.deputy.id]
    return render(request, "suggestions/new.html", {
        "values": values, "errors": errors or {}, "deputies": deputies,
        "categories": page_queries.categories_in_use(page.ctx.session, page.ctx.tenant.id),
        "base": page.base, **LABELS,
    }, status_code=status_code)


@router.get("/t/{slug}/suggestions/new")
def new_suggestion(request: Request, page: PageDep) -> Response:
    term = str(page.viewer.deputy.term) if page.viewer.deputy else ""
    return _new_page(request, page, {"term": term, "session_no": "", "cosigners": [],
                                     "client_token": secrets.token_urlsafe(16)})


F = Annotated[str, Form()]
Many = Annotated[list[str] | None, Form()]


@router.post("/t/{slug}/suggestions/new")
def create_suggestion(request: Request, page: PageDep, title: F = "", content: F = "", category: F = "",
                      term: F = "", session_no: F = "", cosigners: Many = None, client_token: F = "") -> Response:
    ctx = page.ctx
    picked = [c for c in cosigners or [] if c]
    values = {"title": title, "content": content, "category": category, "term": term, "session_no": session_no,
              "cosigners": picked, "client_token": client_token}
    token = client_token.strip()[:64] or None
    try:
        suggestion = service.create_draft(
            ctx.session, ctx.principal, ctx.tenant, title=title, content=content, category=category,
            term=int_or(term, 0) or 0, session_no=None if session_no in ("", "between") else int_or(session_no, 0),
            cosigner_ids=[i for i in (int_or(c) for c in picked) if i is not None], client_token=token)
        ctx.session.flush()
    except ValidationFailed as exc:
        return _new_page(request, page, values, exc.errors, status_code=422)
    except IntegrityError:  # the same form posted twice at once: the other request made the draft
        ctx.session.rollback()
        found = ctx.session.scalars(select(Suggestion.id).where(Suggestion.tenant_id == ctx.tenant.id,
                                                                Suggestion.client_token == token)).first()
        if token is None or found is None:
            raise
        return RedirectResponse(f"{page.base}/{found}", status_code=303)
    return after_step(request, page, suggestion.id, "create")


# -- one suggestion ---------------------------------------------------------------------------------

def available_forms(actor: Principal, page: SuggestionPage, found: page_queries.Detail) -> set[str]:
    """The forms to offer: the workflow's steps from this state that the viewer looks entitled to.

    A cheap pre-check on what is already loaded; the service decides when the form is sent.
    """
    ctx, viewer, s = page.ctx, page.viewer, found.suggestion
    steps = set(actions_from(State(s.state)))
    perms = actor.permissions_in(ctx.tenant.id)
    whole = Target(ctx.tenant.id, ctx.root.path)
    lead_deputy = viewer.deputy is not None and viewer.deputy.id == s.lead_deputy_id
    mine = [a for a in found.assignments
            if can(actor, Permission.SUGGESTION_REPLY, Target(ctx.tenant.id, a.unit.path))]
    wanted = {
        "submit": Action.SUBMIT in steps and lead_deputy and Permission.SUGGESTION_SUBMIT in perms,
        "cosign": s.state in (State.DRAFT, State.RETURNED) and viewer.deputy is not None and any(
            c.deputy_id == viewer.deputy.id and c.confirmed_at is None for c in found.cosigners),
        "review": bool(steps & {Action.ACCEPT, Action.RETURN, Action.TO_REFERENCE})
        and can(actor, Permission.SUGGESTION_REVIEW, whole),
        "assign": bool(steps & {Action.ASSIGN, Action.REASSIGN}) and can(actor, Permission.SUGGESTION_ASSIGN, whole),
        "reassign_refuse": Action.REFUSE_REASSIGN in steps and can(actor, Permission.SUGGESTION_ASSIGN, whole),
        "reassign_request": Action.REQUEST_REASSIGN in steps and bool(mine),
        "contact": Action.CONTACT in steps and bool(mine),
        "co_opinion": Action.CO_OPINION in steps and any(not a.assignment.lead for a in mine),
        "reply": Action.REPLY in steps and any(a.assignment.lead for a in mine),
        "evaluate": Action.EVALUATE_SATISFIED in steps and lead_deputy
        and Permission.SUGGESTION_EVALUATE in perms,
        "close": Action.CLOSE in steps and can(actor, Permission.SUGGESTION_ASSIGN, whole),
        "key": Action.MARK_KEY in steps and can(actor, Permission.SUGGESTION_SUPERVISE, whole),
    }
    return {name for name, yes in wanted.items() if yes}


def fulfillable(actor: Principal, page: SuggestionPage, found: page_queries.Detail) -> set[int]:
    """Commitments the viewer's unit may report done."""
    units = {a.unit.id: a.unit for a in found.assignments + found.past_assignments}
    return {c.id for c, _ in found.commitments if c.fulfilled_at is None and c.handling_unit_id in units
            and can(actor, Permission.SUGGESTION_REPLY, Target(page.ctx.tenant.id, units[c.handling_unit_id].path))}


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
    for key, label in (("reason", N_("Reason")), ("summary", N_("Summary")), ("opinion", N_("Opinion")),
                       ("comment", N_("Comment")), ("note", N_("Note"))):
        if data.get(key):
            lines.append((gettext(label), str(data[key])))
    return lines


def detail_page(request: Request, page: SuggestionPage, suggestion_id: int, *, form: str | None = None,
                values: dict[str, Any] | None = None, errors: Any = None, conflict: Message | None = None,
                done: str | None = None, status_code: int = 200) -> Response:
    """The suggestion's page; after a refused form, with that form's input and errors (or the conflict)."""
    ctx = page.ctx
    suggestion = service.access_suggestion(ctx.session, ctx.principal, ctx.tenant, suggestion_id)
    found = page_queries.detail(ctx.session, ctx.tenant, suggestion, today())  # access_suggestion checked who sees it
    forms = available_forms(ctx.principal, page, found)
    choices: dict[str, Any] = {}
    if "assign" in forms:
        choices["units"] = sorted((u for u in found.units if u.retired_at is None), key=lambda u: u.name)
    if "key" in forms:
        choices["leaders"] = page_queries.leaders(ctx.session, ctx.tenant.id)
    if "reply" in forms:
        choices["reply_classes"] = list(get_setting(ctx.session, ctx.tenant.id, "reply_classes"))
    return render(request, "suggestions/detail.html", {
        "s": suggestion, "d": found, "forms": forms, "fulfil": fulfillable(ctx.principal, page, found),
        "form": form, "values": values or {}, "errors": errors or {}, "conflict": conflict,
        "open_form": form or next((name for name in FORM_ORDER if name in forms), None),
        "done": DONE_LABELS.get(done or ""), "choices": choices, "reply_class_labels": reply_class_labels(),
        "events": [(e, event_lines(e, found)) for e in found.events], "base": page.base, **LABELS,
    }, status_code=status_code)


def after_step(request: Request, page: SuggestionPage, suggestion_id: int, done: str) -> Response:
    """A plain form gets a 303 to the page; an htmx form swapping #main gets the page's content at once."""
    url = f"{page.base}/{suggestion_id}"
    if wants_fragment(request):
        response = detail_page(request, page, suggestion_id, done=done)
        response.headers["HX-Push-Url"] = url
        return response
    return RedirectResponse(f"{url}?done={done}", status_code=303)


@router.get("/t/{slug}/suggestions/{suggestion_id:int}")
def suggestion_detail(request: Request, page: PageDep, suggestion_id: int, done: str = "") -> Response:
    return detail_page(request, page, suggestion_id, done=done or None)
