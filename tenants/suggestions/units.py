"""The handling units' part: ask to be re-assigned, contact the deputy, a co-unit's opinion, the reply, and
reporting a B-class promise kept ("回头看")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform import audit, clock, timeline
from renda.platform.access.policy import AccessDenied, Principal, Target, can
from renda.platform.db import utcnow
from renda.platform.deadlines import working_days_between
from renda.platform.errors import N_, ValidationFailed, check_all
from renda.platform.tenancy.models import HandlingUnit, Tenant
from renda.platform.tenancy.settings import get_setting
from renda.platform.workdays.service import calendar_for
from renda.tenants.suggestions import effects
from renda.tenants.suggestions.access import SUBJECT, access_suggestion
from renda.tenants.suggestions.commitments import access_commitment
from renda.tenants.suggestions.documents import Documents, with_documents
from renda.tenants.suggestions.engine import ENGINE, required_text
from renda.tenants.suggestions.models import Assignment, Commitment, Suggestion
from renda.tenants.suggestions.workflow import Action, ContactWay, Permission, ReplyClass

CONTACT_WAYS = tuple(ContactWay)


def _unit_part(part: object) -> Assignment:
    assert isinstance(part, Assignment)  # every unit's step is taken as one of its assignments
    return part


def request_reassignment(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *,
                         reason: str, version: int | None, today: dt.date | None = None) -> Suggestion:
    """A unit that thinks it is not the right one asks within the tenant's window of working days."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    taken = ENGINE.take(session, actor, suggestion, Action.REQUEST_REASSIGN, version)
    assignment = _unit_part(taken.part)
    window = int(get_setting(session, tenant.id, "reassign_window_workdays"))
    passed = working_days_between(clock.local_date(assignment.assigned_at), today or clock.today(),
                                  calendar_for(session, tenant.id))
    if passed > window:
        raise ValidationFailed.one("reason", N_("The %(n)s working days for asking to be re-assigned have "
                                                "passed."), n=window)
    return ENGINE.done(session, actor, suggestion, taken, effects.reassignment_asked(
        assignment.handling_unit_id, required_text(reason, "reason", 2000)))


def record_contact(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, way: str,
                   summary: str, version: int | None = None) -> Suggestion:
    """沟通: the unit's contact with the deputy before replying, kept on the timeline."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    taken = ENGINE.take(session, actor, suggestion, Action.CONTACT, version)
    assignment = _unit_part(taken.part)

    def check_way() -> str:
        if way not in CONTACT_WAYS:
            raise ValidationFailed.one("way", N_("Choose one of the listed options."))
        return way

    _, summary = check_all(check_way, lambda: required_text(summary, "summary", 2000))
    return ENGINE.done(session, actor, suggestion, taken,
                       effects.contacted(assignment.handling_unit_id, way, summary))


def co_unit_opinion(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, opinion: str,
                    version: int | None = None) -> Suggestion:
    """A co-unit's opinion, sent to the lead unit before it replies."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    taken = ENGINE.take(session, actor, suggestion, Action.CO_OPINION, version)
    assignment = _unit_part(taken.part)
    return ENGINE.done(session, actor, suggestion, taken, effects.co_unit_opinion(
        assignment.handling_unit_id, required_text(opinion, "opinion", 5000)))


def reply(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, reply_class: str,
          content: str, signed_by: str, commitment: str = "", commitment_due: dt.date | None = None,
          version: int | None, today: dt.date | None = None, documents: Documents | None = None) -> Suggestion:
    """答复 by the lead unit, with a result class in use in this tenant and perhaps the reply document;
    a B reply names its commitment; an A reply keeps earlier rounds' commitments."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    taken = ENGINE.take(session, actor, suggestion, Action.REPLY, version)
    assignment = _unit_part(taken.part)
    today = today or clock.today()
    classes = get_setting(session, tenant.id, "reply_classes")

    def check_class() -> str:
        if reply_class not in classes:
            raise ValidationFailed.one("reply_class", N_("Choose one of the listed options."))
        return reply_class

    def check_commitment() -> tuple[str, dt.date] | None:
        if reply_class != ReplyClass.B:
            return None
        what = required_text(commitment, "commitment", 2000)
        if commitment_due is None or commitment_due <= today:
            raise ValidationFailed.one("commitment_due", N_("Give the date by which it will be done."))
        return what, commitment_due

    _, content, signed_by, promise = check_all(
        check_class, lambda: required_text(content, "content", 20000),
        lambda: required_text(signed_by, "signed_by", 50), check_commitment)

    def answer() -> Suggestion:
        row, kept, data = effects.replied(suggestion, unit_id=assignment.handling_unit_id, reply_class=reply_class,
                                          content=content, signed_by=signed_by, by=actor.user_id, at=utcnow(),
                                          today=today, commitment=promise)
        session.add_all([row, *([kept] if kept else [])])
        done = ENGINE.done(session, actor, suggestion, taken, data)
        if effects.keeps_promises(reply_class):
            for open_one in session.scalars(select(Commitment).where(
                    Commitment.tenant_id == tenant.id, Commitment.suggestion_id == suggestion.id,
                    Commitment.fulfilled_at.is_(None)).order_by(Commitment.id)):
                _fulfil(session, actor, tenant, open_one, content[:2000], by_reply_round=suggestion.round)
        return done

    return with_documents(session, actor, tenant, documents, "reply", answer)


def _answers_for(session: Session, actor: Principal, tenant: Tenant, commitments: Iterable[Commitment]) -> set[int]:
    """Those of the commitments whose unit the actor answers for (suggestion.reply over it)."""
    wanted = list(commitments)
    paths = dict(session.execute(select(HandlingUnit.id, HandlingUnit.path).where(
        HandlingUnit.id.in_(sorted({c.handling_unit_id for c in wanted})))).all())
    return {c.id for c in wanted if c.handling_unit_id in paths
            and can(actor, Permission.SUGGESTION_REPLY, Target(tenant.id, paths[c.handling_unit_id]))}


def fulfillable(session: Session, actor: Principal, tenant: Tenant, commitments: Iterable[Commitment]) -> set[int]:
    """The commitments (of a suggestion the actor sees) the actor may report kept now: the open ones of
    their units, by the same check fulfil_commitment makes."""
    return _answers_for(session, actor, tenant, [c for c in commitments if c.fulfilled_at is None])


def fulfil_commitment(session: Session, actor: Principal, tenant: Tenant, commitment_id: int, *, note: str
                      ) -> Commitment:
    """The unit reports a B-class commitment done ("回头看"); reported already, nothing more happens."""
    commitment = access_commitment(session, actor, tenant, commitment_id)
    if commitment.id not in _answers_for(session, actor, tenant, [commitment]):
        raise AccessDenied(Permission.SUGGESTION_REPLY)
    if commitment.fulfilled_at is not None:
        return commitment
    return _fulfil(session, actor, tenant, commitment, required_text(note, "note", 2000))


def _fulfil(session: Session, actor: Principal, tenant: Tenant, commitment: Commitment, note: str, *,
            by_reply_round: int | None = None) -> Commitment:
    """Mark it kept, on the timeline and in the audit log; by a later class A reply, or reported as done."""
    data = effects.fulfilled(commitment, note, utcnow(), by_reply_round=by_reply_round)
    timeline.record(session, tenant_id=tenant.id, subject_type=SUBJECT, subject_id=commitment.suggestion_id,
                    actor_id=actor.user_id, action="commitment_fulfilled", data=data)
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id, action="suggestion.commitment_fulfilled",
                 obj=commitment, after={"note": note, **data})
    return commitment
