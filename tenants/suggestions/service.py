"""Actions on suggestions: one function per thing a person does (STYLE item 1).

Every action finds the suggestion inside what the actor may see, checks the step against the
workflow and the version the actor saw, checks the permission and who may take it, changes the
row, and writes the timeline event and the audit entry in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from renda.platform import audit, timeline
from renda.platform.access.policy import AccessDenied, Principal, Target, can, require
from renda.platform.db import utcnow
from renda.platform.deadlines import add_months, working_days_between
from renda.platform.errors import N_, Conflict, Message, NotFound, ValidationFailed, check_all
from renda.platform.identity.models import Grant
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant
from renda.platform.tenancy.service import tenant_root
from renda.platform.tenancy.settings import get_setting
from renda.tenants.deputies.models import Deputy
from renda.tenants.suggestions import workflow
from renda.tenants.suggestions.models import (
    Assignment,
    Attachment,
    Commitment,
    Cosigner,
    Reply,
    SeriesCounter,
    Suggestion,
)
from renda.tenants.suggestions.workflow import Action, State, Who

SUBJECT = "suggestion"
EVALUATIONS = ("satisfied", "basically", "dissatisfied")
_FIELDS = ("state", "number", "title", "deadline", "round", "reply_class", "evaluation", "is_key")


def access_suggestion(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int) -> Suggestion:
    """The suggestion if the actor may see it, else NotFound exactly as for one that does not exist."""
    found = session.scalars(select(Suggestion).where(Suggestion.id == suggestion_id,
                                                     Suggestion.tenant_id == tenant.id)).first()
    if found is None or not may_see(session, actor, tenant, found):
        raise NotFound("suggestion")
    return found


STAFF_PERMISSIONS = (workflow.Permission.SUGGESTION_REVIEW, workflow.Permission.SUGGESTION_ASSIGN,
                     workflow.Permission.SUGGESTION_SUPERVISE, workflow.Permission.REPORT_VIEW)


def oversees(session: Session, actor: Principal, tenant: Tenant, root_path: str | None = None) -> bool:
    """Sees every submitted suggestion of the tenant: the office, its leaders, observers.

    ``root_path``: the tenant root's path when the caller has it already (saves a statement).
    """
    root = Target(tenant.id, root_path or tenant_root(session, tenant).path)
    return any(can(actor, permission, root) for permission in STAFF_PERMISSIONS)


def overseen(session: Session, actor: Principal, tenants: Sequence[Tenant]) -> list[Tenant]:
    """Those of ``tenants`` whose every suggestion the actor sees (a city's office: its counties too), in
    one statement for their roots."""
    roots = dict(session.execute(select(OrgUnit.id, OrgUnit.path).where(
        OrgUnit.id.in_([t.root_org_unit_id for t in tenants if t.root_org_unit_id]))).all())
    return [t for t in tenants if t.root_org_unit_id in roots
            and oversees(session, actor, t, roots[t.root_org_unit_id])]


def require_oversight(session: Session, actor: Principal, tenant: Tenant) -> None:
    """The board, the figures and their exports show every suggestion: only for those who see them all."""
    if not oversees(session, actor, tenant):
        raise AccessDenied(workflow.Permission.REPORT_VIEW, "the overview is for those who see every suggestion")


def may_see(session: Session, actor: Principal, tenant: Tenant, suggestion: Suggestion) -> bool:
    """Its deputies always; the congress office and leaders once it is submitted; the units it is
    assigned to (in any round)."""
    deputy_ids = set(session.scalars(select(Deputy.id).where(Deputy.tenant_id == tenant.id,
                                                             Deputy.user_id == actor.user_id)))
    if deputy_ids:
        if suggestion.lead_deputy_id in deputy_ids:
            return True
        cosigners = set(session.scalars(select(Cosigner.deputy_id).where(
            Cosigner.tenant_id == tenant.id, Cosigner.suggestion_id == suggestion.id)))
        if deputy_ids & cosigners:
            return True
    if suggestion.state in workflow.UNSUBMITTED:
        return False
    if oversees(session, actor, tenant):
        return True
    paths = session.scalars(select(HandlingUnit.path).join(Assignment, Assignment.handling_unit_id == HandlingUnit.id)
                            .where(Assignment.tenant_id == tenant.id, Assignment.suggestion_id == suggestion.id))
    return any(can(actor, workflow.Permission.SUGGESTION_REPLY, Target(tenant.id, path)) for path in paths)


def series_of(term: int, session_no: int | None) -> str:
    return f"t{term}-s{session_no}" if session_no else f"t{term}-between"


# -- checks shared by the actions ---------------------------------------------------------------

def _text(value: str, field: str, limit: int) -> str:
    clean = (value or "").strip()
    if not clean:
        raise ValidationFailed.one(field, N_("This field is required."))
    if len(clean) > limit:
        raise ValidationFailed.one(field, N_("At most %(n)s characters."), n=limit)
    return clean


def _deputy_of(session: Session, actor: Principal, tenant: Tenant) -> Deputy:
    deputy = session.scalars(select(Deputy).where(Deputy.tenant_id == tenant.id, Deputy.user_id == actor.user_id,
                                                  Deputy.active.is_(True))).first()
    if deputy is None:
        raise AccessDenied("suggestion.submit", "the account is not linked to a deputy of this tenant")
    return deputy


def _units(session: Session, suggestion: Suggestion, *, lead: bool | None = None) -> list[Assignment]:
    stmt = select(Assignment).where(Assignment.tenant_id == suggestion.tenant_id,
                                    Assignment.suggestion_id == suggestion.id, Assignment.active.is_(True))
    if lead is not None:
        stmt = stmt.where(Assignment.lead.is_(lead))
    return list(session.scalars(stmt))


def _unit_paths(session: Session, assignments: Sequence[Assignment]) -> dict[int, str]:
    ids = [a.handling_unit_id for a in assignments]
    return {u.id: u.path for u in session.scalars(select(HandlingUnit).where(HandlingUnit.id.in_(ids)))}


def _check_who(session: Session, actor: Principal, tenant: Tenant, suggestion: Suggestion,
               step: workflow.Step) -> Assignment | None:
    """The permission and the actor's part. Returns the actor's assignment for unit steps."""
    if step.who == Who.LEAD_DEPUTY:
        if step.permission not in actor.permissions_in(tenant.id):
            raise AccessDenied(step.permission)
        deputy = _deputy_of(session, actor, tenant)
        if deputy.id != suggestion.lead_deputy_id:
            raise AccessDenied(step.permission, "only the lead deputy takes this step")
        return None
    if step.who == Who.STAFF:
        require(actor, step.permission, Target(tenant.id, tenant_root(session, tenant).path))
        return None
    candidates = _units(session, suggestion, lead=True if step.who == Who.LEAD_UNIT else
                        False if step.who == Who.CO_UNIT else None)
    paths = _unit_paths(session, candidates)
    for assignment in candidates:
        if can(actor, step.permission, Target(tenant.id, paths[assignment.handling_unit_id])):
            return assignment
    raise AccessDenied(step.permission, "the suggestion is not assigned to the actor's unit")


def _take(session: Session, actor: Principal, tenant: Tenant, suggestion: Suggestion, action: Action,
          version: int | None) -> tuple[workflow.Step, Assignment | None]:
    try:
        step = workflow.step(State(suggestion.state), action)
    except workflow.StepRefused as exc:
        raise Conflict(Message(exc.msgid)) from None
    if version is not None and version != suggestion.version:
        raise Conflict(Message(N_("Someone changed this suggestion in the meantime. Reload it and try again.")))
    return step, _check_who(session, actor, tenant, suggestion, step)


def _done(session: Session, actor: Principal, suggestion: Suggestion, step: workflow.Step,
          before: dict[str, Any], data: dict[str, Any] | None = None) -> Suggestion:
    suggestion.state = step.target.value
    try:
        session.flush()  # bumps the version: a concurrent change of the same row fails here, not later
    except StaleDataError:
        raise Conflict(Message(N_("Someone changed this suggestion in the meantime. Reload it and try "
                                  "again."))) from None
    timeline.record(session, tenant_id=suggestion.tenant_id, subject_type=SUBJECT, subject_id=suggestion.id,
                    actor_id=actor.user_id, action=step.action.value, data=data or {})
    audit.record(session, tenant_id=suggestion.tenant_id, actor_id=actor.user_id,
                 action=f"suggestion.{step.action.value}", obj=suggestion, before=before,
                 after=_snapshot(suggestion))
    return suggestion


def _snapshot(suggestion: Suggestion) -> dict[str, Any]:
    return audit.snapshot(suggestion, *_FIELDS)


# -- the deputy's part ------------------------------------------------------------------------------

def create_draft(session: Session, actor: Principal, tenant: Tenant, *, title: str, content: str,
                 category: str = "", term: int, session_no: int | None, cosigner_ids: Sequence[int] = (),
                 client_token: str | None = None) -> Suggestion:
    """A draft by the actor's deputy; posting the same form twice (one client_token) gives one draft."""
    if workflow.Permission.SUGGESTION_SUBMIT not in actor.permissions_in(tenant.id):
        raise AccessDenied(workflow.Permission.SUGGESTION_SUBMIT)
    deputy = _deputy_of(session, actor, tenant)
    if client_token:
        earlier = session.scalars(select(Suggestion).where(Suggestion.tenant_id == tenant.id,
                                                           Suggestion.client_token == client_token)).first()
        if earlier is not None:
            return earlier

    def check_term() -> int:
        if not 1 <= term <= 30:
            raise ValidationFailed.one("term", N_("Choose the congress term."))
        if session_no is not None and not 1 <= session_no <= 20:
            raise ValidationFailed.one("session_no", N_("Choose the session, or 'between sessions'."))
        return term

    title, content, category, _, cosigners = check_all(
        lambda: _text(title, "title", 200), lambda: _text(content, "content", 20000),
        lambda: (category or "").strip()[:40], check_term,
        lambda: _check_cosigners(session, tenant, deputy.id, cosigner_ids))
    suggestion = Suggestion(tenant_id=tenant.id, series=series_of(term, session_no), term=term,
                            session_no=session_no, title=title, content=content, category=category,
                            state=State.DRAFT.value, lead_deputy_id=deputy.id,
                            org_unit_id=tenant_root(session, tenant).id, created_by=actor.user_id,
                            client_token=client_token)
    session.add(suggestion)
    session.flush()
    session.add_all(Cosigner(tenant_id=tenant.id, suggestion_id=suggestion.id, deputy_id=i) for i in cosigners)
    timeline.record(session, tenant_id=tenant.id, subject_type=SUBJECT, subject_id=suggestion.id,
                    actor_id=actor.user_id, action="create", data={"cosigners": cosigners})
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id, action="suggestion.create",
                 obj=suggestion, after=_snapshot(suggestion))
    return suggestion


def _check_cosigners(session: Session, tenant: Tenant, lead_deputy_id: int, cosigner_ids: Sequence[int]
                     ) -> list[int]:
    ids = sorted(set(cosigner_ids) - {lead_deputy_id})
    found = dict(session.execute(select(Deputy.id, Deputy.user_id).where(
        Deputy.tenant_id == tenant.id, Deputy.id.in_(ids), Deputy.active.is_(True))).all())
    if set(found) != set(ids):
        raise ValidationFailed.one("cosigners", N_("A co-signer is not a deputy of this congress."))
    if any(user_id is None for user_id in found.values()):
        # They could never confirm, and the suggestion could never be submitted.
        raise ValidationFailed.one("cosigners", N_("A co-signer has no account to confirm with yet."))
    return ids


def edit_draft(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, title: str,
               content: str, category: str = "", cosigner_ids: Sequence[int] | None = None,
               version: int | None) -> Suggestion:
    """The lead deputy revises a draft, or a suggestion returned for revision (退回修改).

    ``cosigner_ids`` (None: unchanged) replaces the co-signers; those kept keep their confirmation
    unless the title or the text changed, which they confirm again (they endorsed the earlier words).
    """
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    step, _ = _take(session, actor, tenant, suggestion, Action.EDIT, version)
    current = {c.deputy_id: c for c in session.scalars(select(Cosigner).where(
        Cosigner.tenant_id == tenant.id, Cosigner.suggestion_id == suggestion.id))}
    title, content, wanted = check_all(
        lambda: _text(title, "title", 200), lambda: _text(content, "content", 20000),
        lambda: sorted(current) if cosigner_ids is None else
        _check_cosigners(session, tenant, suggestion.lead_deputy_id, cosigner_ids))
    before = _snapshot(suggestion)
    reworded = (title, content) != (suggestion.title, suggestion.content)
    suggestion.title, suggestion.content, suggestion.category = title, content, (category or "").strip()[:40]
    data: dict[str, Any] = {}
    for deputy_id, row in current.items():
        if deputy_id not in wanted:
            session.delete(row)
        elif reworded and row.confirmed_at is not None:
            row.confirmed_at = None
            data["reconfirm"] = True
    session.add_all(Cosigner(tenant_id=tenant.id, suggestion_id=suggestion.id, deputy_id=i)
                    for i in wanted if i not in current)
    if sorted(current) != wanted:
        data["cosigners"] = wanted
    return _done(session, actor, suggestion, step, before, data)


DRAFT_STEPS = ("create", "edit")  # documents that came with the draft; a reply's document is the unit's


def remove_attachment(session: Session, actor: Principal, tenant: Tenant, attachment_id: int, *,
                      version: int | None) -> Suggestion:
    """The lead deputy takes a document off their draft (a revision of it): it is no longer listed or
    served; the row stays, and the timeline names the file. Only the draft's own documents."""
    attachment = session.scalars(select(Attachment).where(
        Attachment.id == attachment_id, Attachment.tenant_id == tenant.id, Attachment.removed_at.is_(None))).first()
    if attachment is None:
        raise NotFound("attachment")
    suggestion = access_suggestion(session, actor, tenant, attachment.suggestion_id)
    step, _ = _take(session, actor, tenant, suggestion, Action.EDIT, version)
    if attachment.step not in DRAFT_STEPS:
        raise Conflict(Message(N_("Only the draft's own documents can be removed.")))
    before = _snapshot(suggestion)
    attachment.removed_at, attachment.removed_by = utcnow(), actor.user_id
    suggestion.updated_at = utcnow()  # a revision: the version moves, so a form opened before is stale
    return _done(session, actor, suggestion, step, before,
                 {"removed_attachment_id": attachment.id, "filename": attachment.filename})


def discard(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, version: int | None
            ) -> Suggestion:
    """The lead deputy gives up a draft: it leaves their lists (a withdrawn one keeps its number, unused)."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    step, _ = _take(session, actor, tenant, suggestion, Action.DISCARD, version)
    before = _snapshot(suggestion)
    suggestion.closed_at = utcnow()  # when it ended, as for every final state
    return _done(session, actor, suggestion, step, before)


def withdraw(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, version: int | None
             ) -> Suggestion:
    """The lead deputy takes a submitted suggestion back before review; its number stays its own."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    step, _ = _take(session, actor, tenant, suggestion, Action.WITHDRAW, version)
    return _done(session, actor, suggestion, step, _snapshot(suggestion))


def confirm_cosign(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int) -> Cosigner:
    """A co-signer confirms (附议); only while the suggestion is a draft or returned."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    deputy = _deputy_of(session, actor, tenant)
    cosigner = session.scalars(select(Cosigner).where(Cosigner.tenant_id == tenant.id,
                                                      Cosigner.suggestion_id == suggestion.id,
                                                      Cosigner.deputy_id == deputy.id)).first()
    if cosigner is None:
        raise AccessDenied("suggestion.submit", "not invited to co-sign")
    if suggestion.state not in (State.DRAFT, State.RETURNED):
        raise Conflict(Message(N_("This step is not possible at the suggestion's current stage.")))
    if cosigner.confirmed_at is None:
        cosigner.confirmed_at = utcnow()
        timeline.record(session, tenant_id=tenant.id, subject_type=SUBJECT, subject_id=suggestion.id,
                        actor_id=actor.user_id, action="cosign", data={"deputy_id": deputy.id})
    return cosigner


def _next_number(session: Session, tenant_id: int, series: str) -> int:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(SeriesCounter).values(tenant_id=tenant_id, series=series, last_number=0)
                    .on_conflict_do_nothing())
    # One statement reads and bumps the counter, so concurrent submissions never share a number.
    bumped = session.execute(
        update(SeriesCounter).where(SeriesCounter.tenant_id == tenant_id, SeriesCounter.series == series)
        .values(last_number=SeriesCounter.last_number + 1).returning(SeriesCounter.last_number)
        .execution_options(synchronize_session=False))
    return int(bumped.scalar_one())


def submit(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, version: int | None
           ) -> Suggestion:
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    step, _ = _take(session, actor, tenant, suggestion, Action.SUBMIT, version)
    waiting = session.scalars(select(Cosigner).where(Cosigner.tenant_id == tenant.id,
                                                     Cosigner.suggestion_id == suggestion.id,
                                                     Cosigner.confirmed_at.is_(None))).all()
    if waiting:
        raise ValidationFailed.one("cosigners", N_("%(n)s co-signers have not confirmed yet."), n=len(waiting))
    before = _snapshot(suggestion)
    if suggestion.number is None:
        suggestion.number = _next_number(session, tenant.id, suggestion.series)
    suggestion.submitted_at = utcnow()
    return _done(session, actor, suggestion, step, before)


# -- the congress office's part ---------------------------------------------------------------------

REVIEW_ACTIONS = {"accept": Action.ACCEPT, "return": Action.RETURN, "reference": Action.TO_REFERENCE}


def review(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, decision: str,
           note: str = "", version: int | None) -> Suggestion:
    action = REVIEW_ACTIONS.get(decision)
    if action is None:
        raise ValidationFailed.one("decision", N_("Choose one of the listed options."))
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    step, _ = _take(session, actor, tenant, suggestion, action, version)
    if action != Action.ACCEPT:
        note = _text(note, "note", 2000)  # a return or a reference says why
    before = _snapshot(suggestion)
    if action == Action.TO_REFERENCE:
        suggestion.closed_at = utcnow()
    return _done(session, actor, suggestion, step, before, {"note": note.strip()})


def assign(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, lead_unit_id: int,
           co_unit_ids: Sequence[int] = (), broad: bool = False, deadline: dt.date | None = None,
           version: int | None, today: dt.date | None = None) -> Suggestion:
    """交办: one lead unit and co-units of this tenant, with the deadline of the tenant's settings."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    action = Action.ASSIGN if suggestion.state == State.ACCEPTED else Action.REASSIGN
    step, _ = _take(session, actor, tenant, suggestion, action, version)
    today = today or dt.date.today()
    co_ids = sorted(set(co_unit_ids) - {lead_unit_id})
    units = {u.id: u for u in session.scalars(select(HandlingUnit).where(
        HandlingUnit.tenant_id == tenant.id, HandlingUnit.id.in_([lead_unit_id, *co_ids]),
        HandlingUnit.retired_at.is_(None)))}

    def check_units() -> None:
        if lead_unit_id not in units:
            raise ValidationFailed.one("lead_unit_id", N_("Choose a handling unit of this congress."))
        if any(i not in units for i in co_ids):
            raise ValidationFailed.one("co_unit_ids", N_("Choose a handling unit of this congress."))

    def check_deadline() -> dt.date:
        months = get_setting(session, tenant.id, "suggestion_hard_deadline_months" if broad
                             else "suggestion_deadline_months")
        due = deadline or add_months(today, int(months))
        if due <= today:
            raise ValidationFailed.one("deadline", N_("The deadline must lie in the future."))
        return due

    _, due = check_all(check_units, check_deadline)
    before = _snapshot(suggestion)
    for old in _units(session, suggestion):
        old.active = False
    session.add(Assignment(tenant_id=tenant.id, suggestion_id=suggestion.id, handling_unit_id=lead_unit_id,
                           lead=True, round=suggestion.round))
    session.add_all(Assignment(tenant_id=tenant.id, suggestion_id=suggestion.id, handling_unit_id=i, lead=False,
                               round=suggestion.round) for i in co_ids)
    suggestion.broad, suggestion.deadline, suggestion.lead_unit_id = broad, due, lead_unit_id
    suggestion.assigned_at = suggestion.assigned_at or utcnow()
    return _done(session, actor, suggestion, step, before, {
        "lead_unit_id": lead_unit_id, "co_unit_ids": co_ids, "deadline": due.isoformat()})


def decide_reassignment(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, note: str,
                        version: int | None) -> Suggestion:
    """The office keeps the assignment as it was (to change it, assign() again)."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    step, _ = _take(session, actor, tenant, suggestion, Action.REFUSE_REASSIGN, version)
    before = _snapshot(suggestion)
    return _done(session, actor, suggestion, step, before, {"note": _text(note, "note", 2000)})


def mark_key(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, supervisor_user_id: int,
             version: int | None) -> Suggestion:
    """重点建议: chosen by the chairpersons' meeting, supervised by a congress leader."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    step, _ = _take(session, actor, tenant, suggestion, Action.MARK_KEY, version)
    leader = session.scalars(select(Grant).where(Grant.tenant_id == tenant.id, Grant.user_id == supervisor_user_id,
                                                 Grant.role == "congress_leader")).first()
    if leader is None:
        raise ValidationFailed.one("supervisor_user_id", N_("Choose a leader of this congress."))
    before = _snapshot(suggestion)
    suggestion.is_key, suggestion.supervisor_user_id = True, supervisor_user_id
    return _done(session, actor, suggestion, step, before, {"supervisor_user_id": supervisor_user_id})


def close(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, version: int | None,
          note: str = "") -> Suggestion:
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    step, _ = _take(session, actor, tenant, suggestion, Action.CLOSE, version)
    before = _snapshot(suggestion)
    suggestion.closed_at = utcnow()
    return _done(session, actor, suggestion, step, before, {"note": (note or "").strip()[:2000]})


# -- the handling units' part -----------------------------------------------------------------------

def request_reassignment(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *,
                         reason: str, version: int | None, today: dt.date | None = None) -> Suggestion:
    """A unit that thinks it is not the right one asks within the tenant's window of working days."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    step, assignment = _take(session, actor, tenant, suggestion, Action.REQUEST_REASSIGN, version)
    assert assignment is not None
    window = int(get_setting(session, tenant.id, "reassign_window_workdays"))
    if working_days_between(assignment.assigned_at.date(), today or dt.date.today()) > window:
        raise ValidationFailed.one("reason", N_("The %(n)s working days for asking to be re-assigned have "
                                                "passed."), n=window)
    before = _snapshot(suggestion)
    return _done(session, actor, suggestion, step, before, {
        "reason": _text(reason, "reason", 2000), "handling_unit_id": assignment.handling_unit_id})


CONTACT_WAYS = ("visit", "phone", "meeting", "letter", "online")


def record_contact(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, way: str,
                   summary: str, version: int | None = None) -> Suggestion:
    """沟通: the unit's contact with the deputy before replying, kept on the timeline."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    step, assignment = _take(session, actor, tenant, suggestion, Action.CONTACT, version)
    assert assignment is not None

    def check_way() -> str:
        if way not in CONTACT_WAYS:
            raise ValidationFailed.one("way", N_("Choose one of the listed options."))
        return way

    _, summary = check_all(check_way, lambda: _text(summary, "summary", 2000))
    before = _snapshot(suggestion)
    return _done(session, actor, suggestion, step, before, {
        "way": way, "summary": summary, "handling_unit_id": assignment.handling_unit_id})


def co_unit_opinion(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, opinion: str,
                    version: int | None = None) -> Suggestion:
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    step, assignment = _take(session, actor, tenant, suggestion, Action.CO_OPINION, version)
    assert assignment is not None
    before = _snapshot(suggestion)
    return _done(session, actor, suggestion, step, before, {
        "opinion": _text(opinion, "opinion", 5000), "handling_unit_id": assignment.handling_unit_id})


def reply(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, reply_class: str,
          content: str, signed_by: str, commitment: str = "", commitment_due: dt.date | None = None,
          version: int | None, today: dt.date | None = None) -> Suggestion:
    """答复 by the lead unit, with a result class in use in this tenant; a B reply names its commitment."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    step, assignment = _take(session, actor, tenant, suggestion, Action.REPLY, version)
    assert assignment is not None
    today = today or dt.date.today()
    classes = get_setting(session, tenant.id, "reply_classes")

    def check_class() -> str:
        if reply_class not in classes:
            raise ValidationFailed.one("reply_class", N_("Choose one of the listed options."))
        return reply_class

    def check_commitment() -> tuple[str, dt.date | None]:
        if reply_class != "B":
            return "", None
        what = _text(commitment, "commitment", 2000)
        if commitment_due is None or commitment_due <= today:
            raise ValidationFailed.one("commitment_due", N_("Give the date by which it will be done."))
        return what, commitment_due

    _, content, signed_by, (what, due) = check_all(
        check_class, lambda: _text(content, "content", 20000), lambda: _text(signed_by, "signed_by", 50),
        check_commitment)
    before = _snapshot(suggestion)
    on_time = suggestion.deadline is None or today <= suggestion.deadline
    session.add(Reply(tenant_id=tenant.id, suggestion_id=suggestion.id, handling_unit_id=assignment.handling_unit_id,
                      round=suggestion.round, reply_class=reply_class, content=content, signed_by=signed_by,
                      replied_by=actor.user_id, on_time=on_time))
    if what and due:
        session.add(Commitment(tenant_id=tenant.id, suggestion_id=suggestion.id,
                               handling_unit_id=assignment.handling_unit_id, content=what, due_date=due))
    suggestion.reply_class, suggestion.replied_at = reply_class, utcnow()
    done = _done(session, actor, suggestion, step, before, {
        "reply_class": reply_class, "on_time": on_time, "handling_unit_id": assignment.handling_unit_id})
    if reply_class == "A":  # solved: an earlier round's promise is kept by this reply ("回头看" answered)
        for open_one in session.scalars(select(Commitment).where(
                Commitment.tenant_id == tenant.id, Commitment.suggestion_id == suggestion.id,
                Commitment.fulfilled_at.is_(None)).order_by(Commitment.id)):
            _fulfil(session, actor, tenant, open_one, content[:2000], by_reply_round=suggestion.round)
    return done


# -- the deputy's evaluation ------------------------------------------------------------------------

def evaluate(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, evaluation: str,
             comment: str = "", version: int | None, today: dt.date | None = None) -> Suggestion:
    """满意 / 基本满意 / 不满意; 不满意 sends it back for re-handling with a new deadline."""
    if evaluation not in EVALUATIONS:
        raise ValidationFailed.one("evaluation", N_("Choose one of the listed options."))
    action = Action.EVALUATE_DISSATISFIED if evaluation == "dissatisfied" else Action.EVALUATE_SATISFIED
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    step, _ = _take(session, actor, tenant, suggestion, action, version)
    if evaluation == "dissatisfied":
        comment = _text(comment, "comment", 2000)  # the unit needs to know what is wanting
    before = _snapshot(suggestion)
    suggestion.evaluation = evaluation
    data: dict[str, Any] = {"evaluation": evaluation, "comment": (comment or "").strip()}
    if evaluation == "dissatisfied":
        months = int(get_setting(session, tenant.id, "rehandle_deadline_months"))
        suggestion.round += 1
        suggestion.deadline = add_months(today or dt.date.today(), months)
        suggestion.reply_class = None
        for assignment in _units(session, suggestion):
            assignment.round = suggestion.round
        data["deadline"] = suggestion.deadline.isoformat()
    return _done(session, actor, suggestion, step, before, data)


def fulfil_commitment(session: Session, actor: Principal, tenant: Tenant, commitment_id: int, *, note: str
                      ) -> Commitment:
    """The unit reports a B-class commitment done ("回头看")."""
    commitment = session.scalars(select(Commitment).where(Commitment.id == commitment_id,
                                                          Commitment.tenant_id == tenant.id)).first()
    if commitment is None:
        raise NotFound("commitment")
    unit = session.get(HandlingUnit, commitment.handling_unit_id)
    assert unit is not None
    require(actor, workflow.Permission.SUGGESTION_REPLY, Target(tenant.id, unit.path))
    if commitment.fulfilled_at is not None:
        return commitment
    return _fulfil(session, actor, tenant, commitment, _text(note, "note", 2000))


def _fulfil(session: Session, actor: Principal, tenant: Tenant, commitment: Commitment, note: str, *,
            by_reply_round: int | None = None) -> Commitment:
    """Mark it kept, on the timeline and in the audit log; by a later class A reply, or reported as done."""
    commitment.fulfilled_at, commitment.fulfilment_note = utcnow(), note
    data: dict[str, Any] = {"commitment_id": commitment.id}
    if by_reply_round is not None:
        data["by_reply_round"] = by_reply_round
    timeline.record(session, tenant_id=tenant.id, subject_type=SUBJECT, subject_id=commitment.suggestion_id,
                    actor_id=actor.user_id, action="commitment_fulfilled", data=data)
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id, action="suggestion.commitment_fulfilled",
                 obj=commitment, after={"note": note, **data})
    return commitment
