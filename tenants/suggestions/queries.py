"""Reads for the suggestion pages: the supervision board and the figures, each in a fixed number of
statements whatever the page size (the board: one for the rows, one for the total)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, and_, case, cast, func, literal, null, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from renda.platform import clock
from renda.platform.access.policy import Principal
from renda.platform.deadlines import Colour, colour_sql, overdue_sql
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant
from renda.platform.tenancy.settings import get_setting
from renda.tenants.deputies.models import Deputy
from renda.tenants.suggestions.models import Assignment, Reply, Suggestion
from renda.tenants.suggestions.service import overseen, require_oversight
from renda.tenants.suggestions.workflow import CONTENT, OPEN_STATES, UNSUBMITTED

SORTS: dict[str, tuple[Any, ...]] = {
    "deadline": (Suggestion.deadline.asc().nulls_last(), Suggestion.id.desc()),
    "number": (Suggestion.series.desc(), Suggestion.number.desc().nulls_last()),
    "updated": (Suggestion.updated_at.desc(), Suggestion.id.desc()),
}
OPEN = sorted(s.value for s in OPEN_STATES)
UNSUBMITTED_VALUES = sorted(s.value for s in UNSUBMITTED)


@dataclass
class BoardFilter:
    state: str | None = None
    unit_id: int | None = None
    category: str | None = None
    colour: str | None = None
    series: str | None = None
    deputy_id: int | None = None
    q: str | None = None
    key_only: bool = False
    sort: str = "deadline"
    page: int = 1
    per_page: int = 50


@dataclass
class BoardRow:
    suggestion: Suggestion
    deputy_name: str
    lead_unit: str | None
    colour: Colour


@dataclass
class Board:
    rows: list[BoardRow]
    total: int
    page: int
    per_page: int
    near_due_days: int
    counts_by_colour: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def deadline_runs() -> Any:
    """A suggestion's deadline runs while it is open (from assignment to the reply); the sweep, the board
    and the figures share this."""
    return Suggestion.state.in_(OPEN)


def colour_expression(today: dt.date, near_due_days: int) -> Any:
    """red / yellow / green / none in SQL: the platform's rule, on the deadline of an open suggestion."""
    return colour_sql(Suggestion.deadline, today, near_due_days, running=deadline_runs())


def overdue_expression(today: dt.date) -> Any:
    """An open suggestion past its deadline (red), for the figures' sums."""
    return overdue_sql(Suggestion.deadline, today, running=deadline_runs())


def board_for(session: Session, actor: Principal, tenant: Tenant, wanted: BoardFilter,
              today: dt.date | None = None) -> Board:
    """The board as a person asks for it: refused unless they oversee the tenant's suggestions."""
    require_oversight(session, actor, tenant)
    return board(session, tenant.id, wanted, today)


def unit_figures_for(session: Session, actor: Principal, tenant: Tenant,
                     today: dt.date | None = None) -> list[UnitFigures]:
    require_oversight(session, actor, tenant)
    return unit_figures(session, tenant.id, today)


def node_figures_for(session: Session, actor: Principal, tenant: Tenant, root: OrgUnit,
                     today: dt.date | None = None) -> list[Figures]:
    require_oversight(session, actor, tenant)
    return node_figures(session, tenant.id, root, today)


def tenant_figures_for(session: Session, actor: Principal, tenants: Sequence[Tenant],
                       today: dt.date | None = None) -> list[Figures]:
    """The congresses among ``tenants`` whose every suggestion the actor sees; the others are left out."""
    return tenant_figures(session, overseen(session, actor, tenants), today)


def board(session: Session, tenant_id: int, wanted: BoardFilter, today: dt.date | None = None) -> Board:
    today = today or clock.today()
    near = int(get_setting(session, tenant_id, "near_due_days"))
    colour = colour_expression(today, near).label("colour")
    unit = aliased(HandlingUnit)
    conditions: list[Any] = [Suggestion.tenant_id == tenant_id, Suggestion.state.not_in(UNSUBMITTED_VALUES)]
    if wanted.state:
        conditions.append(Suggestion.state == wanted.state)
    if wanted.category:
        conditions.append(Suggestion.category == wanted.category)
    if wanted.series:
        conditions.append(Suggestion.series == wanted.series)
    if wanted.deputy_id:
        conditions.append(Suggestion.lead_deputy_id == wanted.deputy_id)
    if wanted.key_only:
        conditions.append(Suggestion.is_key.is_(True))
    if wanted.q:
        like = f"%{wanted.q.strip()}%"
        conditions.append(or_(Suggestion.title.like(like), Suggestion.content.like(like), Deputy.name.like(like)))
    if wanted.unit_id:
        conditions.append(select(Assignment.id).where(
            Assignment.tenant_id == tenant_id, Assignment.suggestion_id == Suggestion.id,
            Assignment.handling_unit_id == wanted.unit_id, Assignment.active.is_(True)).exists())
    base = (select(Suggestion, Deputy.name, unit.name, colour)
            .join(Deputy, Deputy.id == Suggestion.lead_deputy_id)
            .outerjoin(unit, and_(unit.id == Suggestion.lead_unit_id, unit.tenant_id == tenant_id))
            .where(*conditions))
    if wanted.colour:
        base = base.where(colour_expression(today, near) == wanted.colour)
    per_page = max(1, min(wanted.per_page, 200))
    page = max(1, wanted.page)
    rows = session.execute(base.order_by(*SORTS.get(wanted.sort, SORTS["deadline"]))
                           .limit(per_page).offset((page - 1) * per_page)).all()
    # The counts need neither the deputy (unless searched by name) nor the unit: no joins for them.
    inner = select(colour_expression(today, near).label("colour")).select_from(Suggestion)
    if wanted.q:
        inner = inner.join(Deputy, Deputy.id == Suggestion.lead_deputy_id)
    inner = inner.where(*conditions)
    if wanted.colour:
        inner = inner.where(colour_expression(today, near) == wanted.colour)
    counted = inner.subquery()
    by_colour = {str(c): int(n) for c, n in session.execute(
        select(counted.c.colour, func.count()).group_by(counted.c.colour)).all()}
    return Board(
        rows=[BoardRow(s, name, unit_name, Colour(c)) for s, name, unit_name, c in rows],
        total=sum(by_colour.values()), page=page, per_page=per_page, near_due_days=near,
        counts_by_colour=by_colour,
    )


@dataclass(frozen=True)
class Option:
    id: int
    name: str


@dataclass
class FilterOptions:
    """What the board's filters offer: handling units (retired last), deputies, sessions, categories."""

    units: list[Option] = field(default_factory=list)
    deputies: list[tuple[int, str]] = field(default_factory=list)
    series: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)


def filter_options(session: Session, tenant_id: int) -> FilterOptions:
    """The board's four option lists in one statement (a UNION ALL of four small reads)."""
    lists = union_all(
        select(literal("unit").label("kind"), HandlingUnit.id.label("id"), HandlingUnit.name.label("label"),
               case((HandlingUnit.retired_at.is_(None), 0), else_=1).label("rank"))
        .where(HandlingUnit.tenant_id == tenant_id),
        select(literal("deputy"), Deputy.id, Deputy.name, literal(0))
        .where(Deputy.tenant_id == tenant_id, Deputy.active.is_(True)),
        select(literal("series"), cast(null(), BigInteger), Suggestion.series, literal(0))
        .where(Suggestion.tenant_id == tenant_id).distinct(),
        select(literal("category"), cast(null(), BigInteger), Suggestion.category, literal(0))
        .where(Suggestion.tenant_id == tenant_id, Suggestion.category != "").distinct(),
    ).subquery()
    found = session.execute(select(lists.c.kind, lists.c.id, lists.c.label, lists.c.rank)).all()
    out = FilterOptions()
    for kind, id_, label, _rank in sorted(found, key=lambda r: (r.rank, r.label or "", r.id or 0)):
        if kind == "unit":
            out.units.append(Option(int(id_), label))
        elif kind == "deputy":
            out.deputies.append((int(id_), label))
        elif kind == "series":
            out.series.append(label)
        elif label:
            out.categories.append(label)
    out.series.reverse()  # the latest session first
    return out


class _Rates:
    assigned: int
    answered_on_time: int
    evaluated: int
    satisfied: int

    @property
    def on_time_rate(self) -> float | None:
        return self.answered_on_time / self.assigned if self.assigned else None

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.evaluated if self.evaluated else None


@dataclass
class UnitFigures(_Rates):
    unit_id: int
    name: str
    assigned: int = 0
    answered: int = 0
    answered_on_time: int = 0
    overdue: int = 0
    by_class: dict[str, int] = field(default_factory=dict)
    evaluated: int = 0
    satisfied: int = 0
    rehandled: int = 0


@dataclass
class Figures(_Rates):
    """The same figures for a congress or an org node: of the suggestions received (submitted), those
    assigned, answered (on time, in the first round), overdue now, by class, evaluated, re-handled."""

    key: int
    name: str
    received: int = 0
    assigned: int = 0
    answered: int = 0
    answered_on_time: int = 0
    overdue: int = 0
    by_class: dict[str, int] = field(default_factory=dict)
    evaluated: int = 0
    satisfied: int = 0
    rehandled: int = 0

    def add(self, other: Figures) -> None:
        for name in ("received", "assigned", "answered", "answered_on_time", "overdue", "evaluated", "satisfied",
                     "rehandled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reply_class, n in other.by_class.items():
            self.by_class[reply_class] = self.by_class.get(reply_class, 0) + n


def _sums(today: dt.date) -> list[Any]:
    """Per group of submitted suggestions: received, assigned, answered, overdue, evaluated, satisfied, re-handled."""
    return [func.count(),
            func.sum(case((Suggestion.lead_unit_id.is_not(None), 1), else_=0)),
            func.sum(case((Suggestion.replied_at.is_not(None), 1), else_=0)),
            func.sum(case((overdue_expression(today), 1), else_=0)),
            func.sum(case((Suggestion.evaluation.is_not(None), 1), else_=0)),
            func.sum(case((Suggestion.evaluation.in_(sorted(CONTENT)), 1), else_=0)),
            func.sum(case((Suggestion.round > 1, 1), else_=0))]


def _grouped(session: Session, key: Any, where: list[Any], today: dt.date, joins: tuple[Any, ...] = ()
             ) -> dict[Any, Figures]:
    """Figures by ``key`` (a column of the suggestion or of what ``joins`` bring in): two statements, the
    suggestions' sums and their first-round replies by class."""
    stmt = select(key, *_sums(today)).select_from(Suggestion)
    replies = (select(key, Reply.reply_class, func.count(), func.sum(case((Reply.on_time.is_(True), 1), else_=0)))
               .select_from(Reply).join(Suggestion, and_(Suggestion.id == Reply.suggestion_id,
                                                         Suggestion.tenant_id == Reply.tenant_id)))
    for target, on in joins:
        stmt, replies = stmt.join(target, on), replies.join(target, on)
    wanted = [Suggestion.state.not_in(UNSUBMITTED_VALUES), *where]
    out = {k: Figures(0, "", received=int(n or 0), assigned=int(assigned or 0), answered=int(answered or 0),
                      overdue=int(over or 0), evaluated=int(ev or 0), satisfied=int(sat or 0), rehandled=int(re or 0))
           for k, n, assigned, answered, over, ev, sat, re in session.execute(stmt.where(*wanted).group_by(key))}
    for k, reply_class, n, on_time in session.execute(
            replies.where(Reply.round == 1, *wanted).group_by(key, Reply.reply_class)):
        if k in out:
            out[k].by_class[reply_class] = int(n)
            out[k].answered_on_time += int(on_time or 0)
    return out


def tenant_figures(session: Session, tenants: Sequence[Tenant], today: dt.date | None = None) -> list[Figures]:
    """One row per congress given (a city and its counties), in the order given; four statements at most."""
    today = today or clock.today()
    if not tenants:
        return []
    found = _grouped(session, Suggestion.tenant_id, [Suggestion.tenant_id.in_([t.id for t in tenants])], today)
    rows = []
    for t in tenants:
        row = found.get(t.id, Figures(0, ""))
        row.key, row.name = t.id, t.name
        rows.append(row)
    return rows


def node_figures(session: Session, tenant_id: int, root: OrgUnit, today: dt.date | None = None) -> list[Figures]:
    """One row per node under the congress (township, street, station …), by the lead deputy's place,
    with the congress's own deputies first (the root's row); three statements."""
    today = today or clock.today()
    place = aliased(OrgUnit)
    by_path = _grouped(session, place.path, [Suggestion.tenant_id == tenant_id], today, joins=(
        (Deputy, Deputy.id == Suggestion.lead_deputy_id), (place, place.id == Deputy.org_unit_id)))
    nodes = [Figures(root.id, root.name)] + [
        Figures(n.id, n.name) for n in session.scalars(select(OrgUnit).where(
            OrgUnit.tenant_id == tenant_id, OrgUnit.parent_id == root.id).order_by(OrgUnit.code, OrgUnit.name))]
    paths = {root.id: root.path} | {n.key: f"{root.path}{n.key}/" for n in nodes[1:]}
    for path, figures in by_path.items():
        home = next((n for n in nodes[1:] if str(path).startswith(paths[n.key])), nodes[0])
        home.add(figures)
    return [n for n in nodes if n.received] or nodes[:1]


def unit_figures(session: Session, tenant_id: int, today: dt.date | None = None) -> list[UnitFigures]:
    """Per handling unit, as lead unit: assigned, answered (on time), overdue, A/B/C, satisfaction, re-handled.

    Two grouped statements (the suggestions by their lead unit, the first-round replies by unit and
    class); the ranking orders by on-time rate, then satisfaction.
    """
    today = today or clock.today()
    # Grouped on the suggestions alone (an index-only scan of their lead-unit index), then named.
    per_unit = (
        select(Suggestion.lead_unit_id.label("unit_id"), func.count().label("n"),
               func.sum(case((Suggestion.replied_at.is_not(None), 1), else_=0)).label("answered"),
               func.sum(case((overdue_expression(today), 1), else_=0))
               .label("overdue"),
               func.sum(case((Suggestion.evaluation.is_not(None), 1), else_=0)).label("evaluated"),
               func.sum(case((Suggestion.evaluation.in_(sorted(CONTENT)), 1), else_=0)).label("satisfied"),
               func.sum(case((Suggestion.round > 1, 1), else_=0)).label("rehandled"))
        .where(Suggestion.tenant_id == tenant_id, Suggestion.lead_unit_id.is_not(None))
        .group_by(Suggestion.lead_unit_id)
    ).subquery()
    stats = session.execute(
        select(HandlingUnit.id, HandlingUnit.name, per_unit.c.n, per_unit.c.answered, per_unit.c.overdue,
               per_unit.c.evaluated, per_unit.c.satisfied, per_unit.c.rehandled)
        .join(per_unit, per_unit.c.unit_id == HandlingUnit.id)
        .where(HandlingUnit.tenant_id == tenant_id)).all()
    out = {uid: UnitFigures(uid, name, int(n or 0), int(ans or 0), 0, int(over or 0), {}, int(ev or 0),
                            int(sat or 0), int(re or 0))
           for uid, name, n, ans, over, ev, sat, re in stats}
    first_replies = session.execute(
        select(Reply.handling_unit_id, Reply.reply_class, func.count(),
               func.sum(case((Reply.on_time.is_(True), 1), else_=0)))
        .where(Reply.tenant_id == tenant_id, Reply.round == 1)
        .group_by(Reply.handling_unit_id, Reply.reply_class)).all()
    for uid, reply_class, n, on_time in first_replies:
        if uid in out:
            out[uid].by_class[reply_class] = int(n)
            out[uid].answered_on_time += int(on_time or 0)
    return sorted(out.values(), key=lambda f: (-(f.on_time_rate or 0), -(f.satisfaction_rate or 0), f.name))
