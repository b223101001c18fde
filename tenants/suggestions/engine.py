"""The suggestions' answers to the platform's step engine: what an actor is to a suggestion (its lead
deputy, an invited co-signer, the office, one of its units), who each audience of a notice is, and
``allowed_actions``, the steps a person may take now, which pages and the API offer.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from renda.platform.access.policy import AccessDenied, Principal, Target, can, require
from renda.platform.access.recipients import role_holders
from renda.platform.errors import N_, ValidationFailed
from renda.platform.steps import Step, StepEngine
from renda.platform.tenancy.models import HandlingUnit, Tenant
from renda.platform.tenancy.service import tenant_root
from renda.tenants.congress.roles import Role
from renda.tenants.deputies.models import Deputy
from renda.tenants.suggestions import workflow
from renda.tenants.suggestions.access import SUBJECT, active_assignments
from renda.tenants.suggestions.models import Assignment, Cosigner, Suggestion
from renda.tenants.suggestions.workflow import Action, Audience, State, Who

STALE = N_("Someone changed this suggestion in the meantime. Reload it and try again.")
SuggestionStep = Step[State, Action, Who]


class Parts:
    """What the actor is to one suggestion, each part read the first time a step asks for it."""

    def __init__(self, session: Session, actor: Principal, suggestion: Suggestion) -> None:
        self.session, self.actor, self.suggestion = session, actor, suggestion

    @cached_property
    def tenant(self) -> Tenant:
        return self.session.get_one(Tenant, self.suggestion.tenant_id)

    @cached_property
    def root_path(self) -> str:
        return tenant_root(self.session, self.tenant).path

    @cached_property
    def deputy(self) -> Deputy | None:
        """The active deputy the actor acts as in the suggestion's tenant."""
        return self.session.scalars(select(Deputy).where(
            Deputy.tenant_id == self.suggestion.tenant_id, Deputy.user_id == self.actor.user_id,
            Deputy.active.is_(True))).first()

    @cached_property
    def waiting_cosign(self) -> Cosigner | None:
        """The actor's co-signature this suggestion still waits for."""
        if self.deputy is None:
            return None
        return self.session.scalars(select(Cosigner).where(
            Cosigner.tenant_id == self.suggestion.tenant_id, Cosigner.suggestion_id == self.suggestion.id,
            Cosigner.deputy_id == self.deputy.id, Cosigner.confirmed_at.is_(None))).first()

    @cached_property
    def units(self) -> list[tuple[Assignment, str]]:
        """The current assignment's parts with their units' paths, lead first."""
        assignments = active_assignments(self.session, self.suggestion)
        paths = dict(self.session.execute(select(HandlingUnit.id, HandlingUnit.path).where(
            HandlingUnit.id.in_([a.handling_unit_id for a in assignments]))).all())
        return [(a, paths[a.handling_unit_id]) for a in assignments]


class SuggestionSteps(StepEngine[Suggestion, Parts, State, Action, Who]):
    subject = SUBJECT
    stale = STALE
    audited = ("state", "number", "title", "deadline", "round", "reply_class", "evaluation", "is_key")

    def parts(self, session: Session, actor: Principal, record: Suggestion) -> Parts:
        return Parts(session, actor, record)

    def who(self, actor: Principal, record: Suggestion, step: SuggestionStep, parts: Parts) -> Assignment | None:
        """The permission and the actor's part; returns the actor's assignment for a unit's step."""
        tenant_id = record.tenant_id
        if step.who in (Who.LEAD_DEPUTY, Who.COSIGNER):
            if step.permission not in actor.permissions_in(tenant_id):
                raise AccessDenied(step.permission)
            if parts.deputy is None:
                raise AccessDenied(step.permission, "the account is not linked to a deputy of this tenant")
            if step.who == Who.LEAD_DEPUTY and parts.deputy.id != record.lead_deputy_id:
                raise AccessDenied(step.permission, "only the lead deputy takes this step")
            if step.who == Who.COSIGNER and parts.waiting_cosign is None:
                raise AccessDenied(step.permission, "not invited to co-sign, or confirmed already")
            return None
        if step.who == Who.STAFF:
            require(actor, step.permission, Target(tenant_id, parts.root_path))
            return None
        lead = {Who.LEAD_UNIT: True, Who.CO_UNIT: False}.get(step.who)
        for assignment, path in parts.units:
            if (lead is None or assignment.lead == lead) and can(actor, step.permission, Target(tenant_id, path)):
                return assignment
        raise AccessDenied(step.permission, "the suggestion is not assigned to the actor's unit")

    def audience(self, session: Session, record: Suggestion, audience: str) -> set[int]:
        if audience == Audience.DEPUTIES:
            stmt = (select(Deputy.user_id).outerjoin(Cosigner, and_(
                Cosigner.tenant_id == record.tenant_id, Cosigner.suggestion_id == record.id,
                Cosigner.deputy_id == Deputy.id))
                .where(Deputy.tenant_id == record.tenant_id,
                       or_(Deputy.id == record.lead_deputy_id, Cosigner.id.is_not(None))))
            return {u for u in session.scalars(stmt) if u is not None}
        if audience == Audience.UNITS:
            units = [a.handling_unit_id for a in active_assignments(session, record)]
            return role_holders(session, Role.HANDLER, handling_unit_ids=units)
        if audience == Audience.OFFICE:
            tenant = session.get_one(Tenant, record.tenant_id)
            return role_holders(session, Role.CONGRESS_ADMIN, org_unit_ids=[tenant.root_org_unit_id or 0])
        if audience == Audience.SUPERVISOR:
            return {record.supervisor_user_id} if record.supervisor_user_id else set()
        raise ValueError(f"unknown audience {audience}")

    def notice_params(self, record: Suggestion) -> dict[str, Any]:
        return {"number": record.number, "title": record.title,
                "deadline": record.deadline.isoformat() if record.deadline else ""}


ENGINE = SuggestionSteps(workflow.FLOW, State)


def allowed_actions(session: Session, actor: Principal, suggestion: Suggestion) -> list[Action]:
    """The steps the actor may take on the suggestion now: the workflow's steps from its state that pass
    the same checks the actions make. Pages offer these forms, the API returns them as ``actions``."""
    return ENGINE.allowed(session, actor, suggestion)


def require_step(session: Session, actor: Principal, suggestion: Suggestion, action: Action) -> None:
    """Refuse as the step's action would, before any input: a Conflict saying why it is not possible now,
    or AccessDenied when it is not the actor's to take (a page that opens a step's own form asks this)."""
    ENGINE.take(session, actor, suggestion, action, None)


def required_text(value: str, field: str, limit: int) -> str:
    clean = (value or "").strip()
    if not clean:
        raise ValidationFailed.one(field, N_("This field is required."))
    if len(clean) > limit:
        raise ValidationFailed.one(field, N_("At most %(n)s characters."), n=limit)
    return clean
