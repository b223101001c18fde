"""Who sees a suggestion, and who sees them all: the one rule every read and every step starts from."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform.access.policy import AccessDenied, Principal, Target, can
from renda.platform.errors import NotFound
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant
from renda.platform.tenancy.service import tenant_root
from renda.tenants.congress.roles import Permission
from renda.tenants.deputies.models import Deputy
from renda.tenants.suggestions import workflow
from renda.tenants.suggestions.models import Assignment, Cosigner, Suggestion

SUBJECT = "suggestion"  # on the timeline, in the audit log, on attachments
STAFF_PERMISSIONS = (Permission.SUGGESTION_REVIEW, Permission.SUGGESTION_ASSIGN, Permission.SUGGESTION_SUPERVISE,
                     Permission.REPORT_VIEW)


def access_suggestion(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int) -> Suggestion:
    """The suggestion if the actor may see it, else NotFound exactly as for one that does not exist."""
    found = session.scalars(select(Suggestion).where(Suggestion.id == suggestion_id,
                                                     Suggestion.tenant_id == tenant.id)).first()
    if found is None or not may_see(session, actor, tenant, found):
        raise NotFound("suggestion")
    return found


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
        raise AccessDenied(Permission.REPORT_VIEW, "the overview is for those who see every suggestion")


def deputy_ids_of(session: Session, actor: Principal, tenant_id: int) -> set[int]:
    """The deputy records (active or not) the actor's account is linked to in the tenant."""
    return set(session.scalars(select(Deputy.id).where(Deputy.tenant_id == tenant_id,
                                                       Deputy.user_id == actor.user_id)))


def may_see(session: Session, actor: Principal, tenant: Tenant, suggestion: Suggestion) -> bool:
    """Its deputies always; the congress office and leaders once it is submitted; the units it is
    assigned to (in any round)."""
    deputy_ids = deputy_ids_of(session, actor, tenant.id)
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
    return any(can(actor, Permission.SUGGESTION_REPLY, Target(tenant.id, path)) for path in paths)


def active_deputy(session: Session, actor: Principal, tenant: Tenant) -> Deputy:
    """The active deputy the actor acts as in the tenant, or AccessDenied."""
    deputy = session.scalars(select(Deputy).where(Deputy.tenant_id == tenant.id, Deputy.user_id == actor.user_id,
                                                  Deputy.active.is_(True))).first()
    if deputy is None:
        raise AccessDenied(Permission.SUGGESTION_SUBMIT, "the account is not linked to a deputy of this tenant")
    return deputy


def active_assignments(session: Session, suggestion: Suggestion) -> list[Assignment]:
    """The units' parts in the current assignment (lead first)."""
    return list(session.scalars(select(Assignment).where(
        Assignment.tenant_id == suggestion.tenant_id, Assignment.suggestion_id == suggestion.id,
        Assignment.active.is_(True)).order_by(Assignment.lead.desc(), Assignment.id)))
