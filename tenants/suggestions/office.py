"""The congress office's part: review, assign (and re-assign), keep an assignment, key suggestions, close."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform import clock
from renda.platform.access.policy import Principal
from renda.platform.db import utcnow
from renda.platform.deadlines import add_months
from renda.platform.errors import N_, ValidationFailed, check_all
from renda.platform.identity.models import Grant
from renda.platform.tenancy.models import HandlingUnit, Tenant
from renda.platform.tenancy.settings import get_setting
from renda.tenants.congress.roles import Role
from renda.tenants.suggestions import effects
from renda.tenants.suggestions.access import access_suggestion, active_assignments
from renda.tenants.suggestions.engine import ENGINE, required_text
from renda.tenants.suggestions.models import Suggestion
from renda.tenants.suggestions.workflow import Action, State

REVIEW_ACTIONS = {"accept": Action.ACCEPT, "return": Action.RETURN, "reference": Action.TO_REFERENCE}


def review(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, decision: str,
           note: str = "", version: int | None) -> Suggestion:
    """审查: accept it (立案), return it for revision, or keep it as a reference opinion."""
    action = REVIEW_ACTIONS.get(decision)
    if action is None:
        raise ValidationFailed.one("decision", N_("Choose one of the listed options."))
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    taken = ENGINE.take(session, actor, suggestion, action, version)
    if action != Action.ACCEPT:
        note = required_text(note, "note", 2000)  # a return or a reference says why
    return ENGINE.done(session, actor, suggestion, taken,
                       effects.reviewed(suggestion, action, note.strip(), utcnow()))


def assign(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, lead_unit_id: int,
           co_unit_ids: Sequence[int] = (), broad: bool = False, deadline: dt.date | None = None,
           version: int | None, today: dt.date | None = None) -> Suggestion:
    """交办: one lead unit and co-units of this tenant, with the deadline of the tenant's settings. Again
    after a unit asked to be re-assigned (调整交办)."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    action = Action.ASSIGN if suggestion.state == State.ACCEPTED else Action.REASSIGN
    taken = ENGINE.take(session, actor, suggestion, action, version)
    today = today or clock.today()
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
    new, data = effects.assigned(suggestion, active_assignments(session, suggestion), lead_unit_id=lead_unit_id,
                                 co_unit_ids=co_ids, broad=broad, deadline=due, at=utcnow())
    session.add_all(new)
    return ENGINE.done(session, actor, suggestion, taken, data)


def decide_reassignment(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, note: str,
                        version: int | None) -> Suggestion:
    """The office keeps the assignment as it was (to change it, assign() again)."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    taken = ENGINE.take(session, actor, suggestion, Action.REFUSE_REASSIGN, version)
    return ENGINE.done(session, actor, suggestion, taken,
                       effects.reassignment_refused(required_text(note, "note", 2000)))


def mark_key(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, supervisor_user_id: int,
             version: int | None) -> Suggestion:
    """重点建议: chosen by the chairpersons' meeting, supervised by a congress leader."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    taken = ENGINE.take(session, actor, suggestion, Action.MARK_KEY, version)
    leader = session.scalars(select(Grant).where(Grant.tenant_id == tenant.id, Grant.user_id == supervisor_user_id,
                                                 Grant.role == Role.CONGRESS_LEADER.value)).first()
    if leader is None:
        raise ValidationFailed.one("supervisor_user_id", N_("Choose a leader of this congress."))
    return ENGINE.done(session, actor, suggestion, taken, effects.marked_key(suggestion, supervisor_user_id))


def close(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, version: int | None,
          note: str = "") -> Suggestion:
    """办结, after the evaluation (or when the deputy never gave one)."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    taken = ENGINE.take(session, actor, suggestion, Action.CLOSE, version)
    return ENGINE.done(session, actor, suggestion, taken,
                       effects.closed(suggestion, (note or "").strip()[:2000], utcnow()))
