"""Reads for the suggestion pages beyond the board and the figures (queries.py): who the viewer is
for suggestions, their own lists, one suggestion with all its page shows, and the forms' choices.
Each loads in a fixed number of statements, whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from renda.platform import files
from renda.platform.access.policy import Principal, Target, can
from renda.platform.access.roles import permissions_of
from renda.platform.deadlines import Colour, colour
from renda.platform.identity.models import Grant, User
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant
from renda.platform.tenancy.settings import get_setting
from renda.platform.timeline import TimelineEvent
from renda.tenants.congress.roles import Permission, Role
from renda.tenants.deputies.models import Deputy
from renda.tenants.suggestions import service
from renda.tenants.suggestions.models import Assignment, Commitment, Cosigner, Reply, Suggestion
from renda.tenants.suggestions.queries import colour_expression
from renda.tenants.suggestions.service import SUBJECT
from renda.tenants.suggestions.workflow import FINAL_STATES, OPEN_STATES, State

LIST_LIMIT = 200  # a person's own lists; the board pages through everything


# -- the viewer -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Viewer:
    """What decides what a person sees of suggestions in one tenant."""

    deputy: Deputy | None  # the deputy the account is linked to
    unit_ids: frozenset[int]  # handling units they answer for
    reviews: bool
    assigns: bool
    supervises: bool
    reports: bool

    staff: bool  # sees every submitted suggestion of the tenant: service.oversees, the one rule


def viewer_of(session: Session, actor: Principal, tenant: Tenant, root: OrgUnit) -> Viewer:
    """One statement at most: the linked deputy, looked up only for those who may act as one."""
    perms = actor.permissions_in(tenant.id)
    deputy = None
    if perms & {Permission.SUGGESTION_SUBMIT, Permission.SUGGESTION_EVALUATE}:
        deputy = session.scalars(select(Deputy).where(Deputy.tenant_id == tenant.id,
                                                      Deputy.user_id == actor.user_id,
                                                      Deputy.active.is_(True))).first()
    units = frozenset(g.handling_unit_id for g in actor.grants
                      if g.tenant_id == tenant.id and g.handling_unit_id is not None
                      and Permission.SUGGESTION_REPLY in permissions_of(g.role))
    whole = Target(tenant.id, root.path)
    return Viewer(deputy=deputy, unit_ids=units,
                  reviews=can(actor, Permission.SUGGESTION_REVIEW, whole),
                  assigns=can(actor, Permission.SUGGESTION_ASSIGN, whole),
                  supervises=can(actor, Permission.SUGGESTION_SUPERVISE, whole),
                  reports=can(actor, Permission.REPORT_VIEW, whole),
                  staff=service.oversees(session, actor, tenant, root.path))


# -- lists ------------------------------------------------------------------------------------------

@dataclass
class Row:
    suggestion: Suggestion
    deputy_name: str
    lead_unit: str | None
    colour: Colour
    lead: bool = True  # the viewer (their deputy, or their unit) leads it
    confirmed: bool = True  # a co-signer's confirmation


def _near(session: Session, tenant_id: int) -> int:
    return int(get_setting(session, tenant_id, "near_due_days"))


def _listing(session: Session, tenant_id: int, today: dt.date, *extra: Any) -> Any:
    """Suggestion, lead deputy's name, lead unit's name and colour, plus ``extra`` columns."""
    unit = aliased(HandlingUnit)
    shade = colour_expression(today, _near(session, tenant_id)).label("colour")
    return (select(Suggestion, Deputy.name, unit.name, shade, *extra)
            .join(Deputy, Deputy.id == Suggestion.lead_deputy_id)
            .outerjoin(unit, and_(unit.id == Suggestion.lead_unit_id, unit.tenant_id == tenant_id))
            .where(Suggestion.tenant_id == tenant_id))


def deputy_suggestions(session: Session, tenant_id: int, deputy_id: int, today: dt.date) -> list[Row]:
    """The deputy's own suggestions, as lead or co-signer, drafts included (not those given up), latest first."""
    mine = aliased(Cosigner)
    stmt = (_listing(session, tenant_id, today, mine.id, mine.confirmed_at)
            .outerjoin(mine, and_(mine.suggestion_id == Suggestion.id, mine.deputy_id == deputy_id,
                                  mine.tenant_id == tenant_id))
            .where(or_(Suggestion.lead_deputy_id == deputy_id, mine.id.is_not(None)),
                   Suggestion.state != State.DISCARDED.value)
            .order_by(Suggestion.updated_at.desc(), Suggestion.id.desc()).limit(LIST_LIMIT))
    return [Row(s, name, unit, Colour(c), lead=s.lead_deputy_id == deputy_id,
                confirmed=cosigner_id is None or confirmed_at is not None)
            for s, name, unit, c, cosigner_id, confirmed_at in session.execute(stmt)]


QUEUE_SHOWN = 20  # rows of each work list on the entry page; the board has the rest


@dataclass
class Listed:
    """The first rows of a work list, and how many there are in all."""

    rows: list[Row] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> bool:
        return self.total > len(self.rows)


def in_states(session: Session, tenant_id: int, states: list[str], today: dt.date,
              shown: int | None = None) -> dict[str, Listed]:
    """The office's queues: the oldest ``shown`` suggestions waiting in each of ``states``, and how many
    wait in each, in one statement (window functions rank and count each state's rows)."""
    shown = shown or QUEUE_SHOWN
    ranked = (select(Suggestion.id.label("id"),
                     func.row_number().over(partition_by=Suggestion.state,
                                            order_by=(Suggestion.submitted_at, Suggestion.id)).label("rank"),
                     func.count().over(partition_by=Suggestion.state).label("total"))
              .where(Suggestion.tenant_id == tenant_id, Suggestion.state.in_(states))).subquery()
    stmt = (_listing(session, tenant_id, today, ranked.c.total).join(ranked, ranked.c.id == Suggestion.id)
            .where(ranked.c.rank <= shown).order_by(Suggestion.submitted_at, Suggestion.id))
    out: dict[str, Listed] = {state: Listed() for state in states}
    for s, name, unit, c, total in session.execute(stmt):
        out[s.state].rows.append(Row(s, name, unit, Colour(c)))
        out[s.state].total = int(total)
    return out


def unit_suggestions(session: Session, tenant_id: int, unit_ids: frozenset[int], today: dt.date) -> list[Row]:
    """What the viewer's handling units have on their desk (lead or co-unit); open ones first by deadline."""
    if not unit_ids:
        return []
    mine = aliased(Assignment)
    stmt = (_listing(session, tenant_id, today, mine.lead)
            .join(mine, and_(mine.suggestion_id == Suggestion.id, mine.tenant_id == tenant_id,
                             mine.active.is_(True), mine.handling_unit_id.in_(sorted(unit_ids))))
            .order_by(Suggestion.closed_at.is_not(None), Suggestion.deadline.asc().nulls_last(), Suggestion.id)
            .limit(LIST_LIMIT))
    rows: dict[int, Row] = {}
    for s, name, unit, c, lead in session.execute(stmt):
        if s.id in rows:
            rows[s.id].lead = rows[s.id].lead or lead
        else:
            rows[s.id] = Row(s, name, unit, Colour(c), lead=lead)
    return list(rows.values())


def supervision(session: Session, tenant_id: int, today: dt.date, shown: int | None = None
                ) -> tuple[Listed, Listed]:
    """The leaders' view: key suggestions still open, and every overdue (red) one, the first ``shown`` of
    each by deadline and how many of each there are, in one statement."""
    shown = shown or QUEUE_SHOWN
    near = _near(session, tenant_id)
    red = colour_expression(today, near) == Colour.RED.value
    open_key = and_(Suggestion.is_key.is_(True), Suggestion.state.not_in(sorted(FINAL_STATES)))
    by_deadline = (Suggestion.deadline.asc().nulls_last(), Suggestion.id)
    is_red, is_key = case((red, 1), else_=0), case((open_key, 1), else_=0)
    ranked = (select(Suggestion.id.label("id"), is_red.label("is_red"), is_key.label("is_key"),
                     func.row_number().over(partition_by=is_red, order_by=by_deadline).label("red_rank"),
                     func.row_number().over(partition_by=is_key, order_by=by_deadline).label("key_rank"),
                     func.sum(is_red).over().label("red_total"), func.sum(is_key).over().label("key_total"))
              .where(Suggestion.tenant_id == tenant_id, or_(open_key, red))).subquery()
    stmt = (_listing(session, tenant_id, today, ranked.c.is_red, ranked.c.is_key, ranked.c.red_total,
                     ranked.c.key_total)
            .join(ranked, ranked.c.id == Suggestion.id)
            .where(or_(and_(ranked.c.is_red == 1, ranked.c.red_rank <= shown),
                       and_(ranked.c.is_key == 1, ranked.c.key_rank <= shown)))
            .order_by(*by_deadline))
    key, overdue = Listed(), Listed()
    for s, name, unit, c, red_row, key_row, reds, keys in session.execute(stmt):
        row = Row(s, name, unit, Colour(c))
        key.total, overdue.total = int(keys or 0), int(reds or 0)
        if key_row and len(key.rows) < shown:
            key.rows.append(row)
        if red_row and len(overdue.rows) < shown:
            overdue.rows.append(row)
    return key, overdue


@dataclass
class CommitmentRow:
    commitment: Commitment
    suggestion: Suggestion
    unit_name: str


def open_commitments(session: Session, tenant_id: int, unit_ids: frozenset[int]) -> list[CommitmentRow]:
    """B-class promises of the viewer's units not yet reported done, earliest due first."""
    if not unit_ids:
        return []
    stmt = (select(Commitment, Suggestion, HandlingUnit.name)
            .join(Suggestion, Suggestion.id == Commitment.suggestion_id)
            .join(HandlingUnit, HandlingUnit.id == Commitment.handling_unit_id)
            .where(Commitment.tenant_id == tenant_id, Commitment.fulfilled_at.is_(None),
                   Commitment.handling_unit_id.in_(sorted(unit_ids)))
            .order_by(Commitment.due_date, Commitment.id).limit(LIST_LIMIT))
    return [CommitmentRow(c, s, name) for c, s, name in session.execute(stmt)]


def draft_of_form(session: Session, actor: Principal, tenant: Tenant, token: str | None) -> int | None:
    """The suggestion an earlier post of the same "new suggestion" form made (its client_token), if the
    actor may see it: a form sent twice (a double click, a browser retrying) makes one draft."""
    if not token:
        return None
    found = session.scalars(select(Suggestion).where(Suggestion.tenant_id == tenant.id,
                                                     Suggestion.client_token == token)).first()
    return found.id if found is not None and service.may_see(session, actor, tenant, found) else None


# -- one suggestion ---------------------------------------------------------------------------------

@dataclass
class CosignerView:
    deputy_id: int
    name: str
    confirmed_at: dt.datetime | None


@dataclass
class AssignmentView:
    assignment: Assignment
    unit: HandlingUnit


@dataclass
class Detail:
    suggestion: Suggestion
    lead_deputy: Deputy
    cosigners: list[CosignerView]
    assignments: list[AssignmentView]  # active: the units handling it now
    past_assignments: list[AssignmentView]
    replies: list[tuple[Reply, str]]  # with the unit's name, in order
    commitments: list[tuple[Commitment, str]]
    events: list[TimelineEvent]
    user_names: dict[int, str] = field(default_factory=dict)  # actors and the supervisor
    units: list[HandlingUnit] = field(default_factory=list)  # every handling unit of the tenant
    colour: Colour = Colour.NONE

    @property
    def unit_names(self) -> dict[int, str]:
        return {u.id: u.name for u in self.units}

    @property
    def deputy_names(self) -> dict[int, str]:
        return {self.lead_deputy.id: self.lead_deputy.name, **{c.deputy_id: c.name for c in self.cosigners}}


def detail(session: Session, tenant: Tenant, suggestion: Suggestion, today: dt.date) -> Detail:
    """Everything the suggestion's page shows, in eight statements."""
    s = suggestion
    lead = session.scalars(select(Deputy).where(Deputy.tenant_id == tenant.id,
                                                Deputy.id == s.lead_deputy_id)).one()
    cosigners = [CosignerView(c.deputy_id, name, c.confirmed_at) for c, name in session.execute(
        select(Cosigner, Deputy.name).join(Deputy, Deputy.id == Cosigner.deputy_id)
        .where(Cosigner.tenant_id == tenant.id, Cosigner.suggestion_id == s.id).order_by(Cosigner.id))]
    units = {u.id: u for u in session.scalars(select(HandlingUnit).where(HandlingUnit.tenant_id == tenant.id))}
    assignments = list(session.scalars(select(Assignment).where(
        Assignment.tenant_id == tenant.id, Assignment.suggestion_id == s.id)
        .order_by(Assignment.lead.desc(), Assignment.id)))
    views = [AssignmentView(a, units[a.handling_unit_id]) for a in assignments if a.handling_unit_id in units]
    replies = [(r, units[r.handling_unit_id].name if r.handling_unit_id in units else "")
               for r in session.scalars(select(Reply).where(Reply.tenant_id == tenant.id, Reply.suggestion_id == s.id)
                                        .order_by(Reply.replied_at, Reply.id))]
    commitments = [(c, units[c.handling_unit_id].name if c.handling_unit_id in units else "")
                   for c in session.scalars(select(Commitment).where(Commitment.tenant_id == tenant.id,
                                                                     Commitment.suggestion_id == s.id)
                                            .order_by(Commitment.due_date, Commitment.id))]
    events = list(session.scalars(select(TimelineEvent).where(
        TimelineEvent.tenant_id == tenant.id, TimelineEvent.subject_type == SUBJECT, TimelineEvent.subject_id == s.id)
        .order_by(TimelineEvent.at, TimelineEvent.id)))
    user_ids = {e.actor_user_id for e in events if e.actor_user_id} | {
        e.data.get("supervisor_user_id") for e in events if isinstance(e.data.get("supervisor_user_id"), int)}
    if s.supervisor_user_id:
        user_ids.add(s.supervisor_user_id)
    names = {i: name for i, name in session.execute(
        select(User.id, User.display_name).where(User.id.in_(sorted(user_ids))))} if user_ids else {}
    near = _near(session, tenant.id)
    return Detail(s, lead, cosigners, [v for v in views if v.assignment.active],
                  [v for v in views if not v.assignment.active], replies, commitments, events, names,
                  list(units.values()), colour_of(s, today, near))


def attachments(session: Session, tenant_id: int, suggestion_id: int) -> list[files.Attachment]:
    """The suggestion's documents, oldest first, in one statement (the caller has checked who sees it)."""
    return files.listed(session, tenant_id, SUBJECT, suggestion_id)


def colour_of(suggestion: Suggestion, today: dt.date, near_due_days: int) -> Colour:
    """As the board's SQL says it: only a running deadline has a colour."""
    if suggestion.state not in OPEN_STATES:
        return Colour.NONE
    return colour(suggestion.deadline, today, near_due_days)


# -- the forms' choices -----------------------------------------------------------------------------

def active_deputies(session: Session, tenant_id: int, *, with_account: bool = False) -> list[tuple[int, str]]:
    """The tenant's active deputies; ``with_account``: only those who can sign in (to co-sign)."""
    stmt = select(Deputy.id, Deputy.name).where(Deputy.tenant_id == tenant_id, Deputy.active.is_(True))
    if with_account:
        stmt = stmt.where(Deputy.user_id.is_not(None))
    return [(i, name) for i, name in session.execute(stmt.order_by(Deputy.name, Deputy.id))]


def leaders(session: Session, tenant_id: int) -> list[tuple[int, str]]:
    """Who may supervise a key suggestion: the tenant's congress leaders."""
    # An alias: the users' scope filter has a subquery on grants, which must not correlate with this join.
    grant = aliased(Grant)
    return [(i, name) for i, name in session.execute(
        select(User.id, User.display_name).join(grant, grant.user_id == User.id)
        .where(grant.tenant_id == tenant_id, grant.role == Role.CONGRESS_LEADER.value, User.active.is_(True))
        .distinct().order_by(User.display_name, User.id))]


def categories_in_use(session: Session, tenant_id: int) -> list[str]:
    return [c for c in session.scalars(select(Suggestion.category).where(Suggestion.tenant_id == tenant_id)
                                       .distinct().order_by(Suggestion.category)) if c]
