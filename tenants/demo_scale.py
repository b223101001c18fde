"""Demo data at scale: ``renda demo --scale N`` adds N deputy suggestions to the demo's counties, in every
workflow state with their deputies, assignments, replies, evaluations and timelines, inserted in bulk.

Each suggestion is planned as the list of steps a person would have taken, on plausible days before today
(demo_plans.py), then replayed through the workflow table and the services' own effects (demo_replay.py), so
its row, its assignments and its timeline are what the services would have written. Numbers run without gaps
per series, taken from the platform's counters.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from renda.platform import audit, clock, counters
from renda.platform.access.policy import Principal
from renda.platform.db import Database, Scope
from renda.platform.identity.models import Grant, User
from renda.platform.identity.service import create_user, grant_role
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant
from renda.platform.tenancy.service import create_handling_unit, get_tenant_by_slug
from renda.platform.tenancy.settings import get_setting
from renda.platform.timeline import TimelineEvent
from renda.tenants.congress.roles import Role
from renda.tenants.demo import ACCOUNTS, COUNTIES, HANDLING_UNITS, StepProgress, load_demo
from renda.tenants.demo_corpus import ETHNICITIES, GROUPS, VILLAGE_HEADS, VILLAGE_TAILS, person_name
from renda.tenants.demo_plans import TERM, Clock, County, Plan, PoolDeputy, Town, plan_all
from renda.tenants.demo_replay import Rows, replay
from renda.tenants.deputies.models import Deputy, DeputyStation
from renda.tenants.suggestions.drafting import counter_of
from renda.tenants.suggestions.models import Assignment, Commitment, Cosigner, Reply, Suggestion
from renda.tenants.suggestions.workflow import State

POOL_SIZE = 100  # deputies per county
BATCH = 5000


@dataclass(frozen=True)
class ScaleSummary:
    suggestions: int
    by_tenant: dict[str, int]
    by_state: dict[str, int]
    deputies_created: int
    today: dt.date



def generate(db: Database, n: int, *, seed: int = 0, progress: StepProgress | None = None,
             today: dt.date | None = None) -> ScaleSummary:
    """Add ``n`` suggestions to the demo (loaded first when missing), in one transaction."""
    load_demo(db)
    today = today or clock.today()
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    calendar = Clock.of(today)
    with db.session(Scope.system(), write=True) as session:
        if progress:
            progress(0, n, "代表 deputies")
        counties, created = _counties(session, rng)
        plans = plan_all(counties, n, rng, calendar)
        by_state: Counter[str] = Counter()
        for done, batch in _insert_batches(session, plans, calendar):
            by_state.update(batch)
            if progress:
                progress(done, n, "建议 suggestions")
        by_tenant = Counter(p.county.slug for p in plans)
        operator = _operator(session)
        for county in counties:
            if by_tenant[county.slug]:
                audit.record(session, tenant_id=county.id, actor_id=operator.user_id, action="suggestion.generate",
                             object_type="suggestions", after={"count": by_tenant[county.slug], "seed": seed,
                                                               "today": today.isoformat()})
    return ScaleSummary(n, dict(by_tenant.most_common()), {s.value: by_state[s.value] for s in State}, created, today)


# -- the people and places --------------------------------------------------------------------------

def _operator(session: Session) -> Principal:
    spec = ACCOUNTS[0]
    user = session.scalars(select(User).where(User.username == spec.username)).one()
    return Principal(user_id=user.id, username=user.username, display_name=user.display_name,
                     is_platform_admin=True, scope=Scope.system())


def _villages(rng: random.Random, names: list[str]) -> tuple[str, ...]:
    cleaned = [v.replace("村民委员会", "村").replace("村委会", "村").replace("社区居民委员会", "社区")
               .replace("社区居委会", "社区") for v in names]
    if cleaned:
        return tuple(cleaned)
    return tuple(sorted({rng.choice(VILLAGE_HEADS) + rng.choice(VILLAGE_TAILS) + "村" for _ in range(8)}))


def _counties(session: Session, rng: random.Random) -> tuple[list[County], int]:
    """The demo's counties with what suggestions need: towns, handling units, a leader and a pool of deputies."""
    operator = _operator(session)
    counties, created = [], 0
    for spec in COUNTIES:
        tenant = get_tenant_by_slug(session, spec.slug)
        assert tenant is not None and tenant.root_org_unit_id is not None
        counties.append(_county(session, operator, tenant, rng))
    for county in counties:
        created += _deputy_pool(session, county, rng)
    return counties, created


def _county(session: Session, operator: Principal, tenant: Tenant, rng: random.Random) -> County:
    nodes = session.execute(select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.kind, OrgUnit.name)
                            .where(OrgUnit.tenant_id == tenant.id, OrgUnit.retired_at.is_(None))
                            .order_by(OrgUnit.id)).all()
    villages: dict[int | None, list[str]] = defaultdict(list)
    stations: dict[int | None, int] = {}
    for node_id, parent_id, kind, name in nodes:
        if kind == "village":
            villages[parent_id].append(name)
        elif kind == "station":
            stations.setdefault(parent_id, node_id)
    towns = [Town(i, name, _villages(rng, villages[i]), stations.get(i)) for i, _, kind, name in nodes
             if kind == "township" and name.endswith(("镇", "乡", "街道"))]
    if not session.scalars(select(HandlingUnit.id).where(HandlingUnit.tenant_id == tenant.id)).first():
        for suffix, _, category in HANDLING_UNITS:  # counties the demo gave no units to
            create_handling_unit(session, operator, tenant, name=tenant.name + suffix, category=category)
    units = {name.removeprefix(tenant.name): i for i, name in session.execute(
        select(HandlingUnit.id, HandlingUnit.name).where(HandlingUnit.tenant_id == tenant.id,
                                                         HandlingUnit.retired_at.is_(None)))}
    grants = session.execute(select(Grant.role, Grant.user_id, Grant.org_unit_id, Grant.handling_unit_id)
                              .where(Grant.tenant_id == tenant.id).order_by(Grant.id)).all()
    handlers = {u: user for role, user, _, u in grants if role == Role.HANDLER and u is not None}
    staff = [user for role, user, node, _ in grants if role == Role.CONGRESS_ADMIN and node == tenant.root_org_unit_id]
    leaders = [user for role, user, _, _ in grants if role == Role.CONGRESS_LEADER]
    if not leaders:  # key suggestions need a leader of this congress to supervise them
        username = f"{tenant.slug}.leader"
        if session.scalars(select(User.id).where(User.username == username)).first() is None:
            leader = create_user(session, None, tenant, username=username, display_name=person_name(rng, False),
                                 password=None)
            grant_role(session, None, tenant, leader, role=Role.CONGRESS_LEADER.value,
                       org_unit_id=tenant.root_org_unit_id)
            leaders = [leader.id]
    assert tenant.root_org_unit_id is not None
    return County(tenant.id, tenant.slug, tenant.name, tenant.root_org_unit_id, towns, units, handlers,
                   staff[0] if staff else operator.user_id, leaders[0] if leaders else operator.user_id,
                   int(get_setting(session, tenant.id, "suggestion_deadline_months")),
                   int(get_setting(session, tenant.id, "suggestion_hard_deadline_months")),
                   int(get_setting(session, tenant.id, "rehandle_deadline_months")))


def _deputy_pool(session: Session, county: County, rng: random.Random) -> int:
    """Reuse the county's deputies of this term; add fictional ones up to POOL_SIZE, and records for the
    demo's deputy accounts so that they find suggestions of their own."""
    town_of = {t.id: i for i, t in enumerate(county.towns)}
    station_town = {t.station_id: i for i, t in enumerate(county.towns) if t.station_id}
    existing = session.execute(select(Deputy.id, Deputy.user_id, Deputy.org_unit_id).where(
        Deputy.tenant_id == county.id, Deputy.term == TERM, Deputy.active.is_(True)).order_by(Deputy.id)).all()
    linked = {user for _, user, _ in existing if user}
    accounts = session.execute(select(Grant.user_id, Grant.org_unit_id, User.display_name)
                               .join(User, User.id == Grant.user_id)
                               .where(Grant.tenant_id == county.id, Grant.role == Role.DEPUTY.value)).all()
    rows: list[dict[str, Any]] = []
    for user_id, node, name in accounts:
        if user_id not in linked:
            linked.add(user_id)
            town = station_town.get(node or 0, 0)
            rows.append(_deputy_row(county, rng, len(existing) + len(rows), town, name, user_id))
    while len(existing) + len(rows) < POOL_SIZE:
        rows.append(_deputy_row(county, rng, len(existing) + len(rows), rng.randrange(len(county.towns)), None, None))
    ids = _insert(session, Deputy.__table__, rows, returning=True)
    _insert(session, DeputyStation.__table__, [
        {"tenant_id": county.id, "deputy_id": i, "org_unit_id": county.towns[row["_town"]].station_id}
        for i, row in zip(ids, rows, strict=True) if county.towns[row["_town"]].station_id])
    county.deputies = [PoolDeputy(i, user, town_of.get(node, 0)) for i, user, node in existing]
    county.deputies += [PoolDeputy(i, row["user_id"], row["_town"]) for i, row in zip(ids, rows, strict=True)]
    return len(rows)


def _deputy_row(county: County, rng: random.Random, k: int, town: int, name: str | None,
                user_id: int | None) -> dict[str, Any]:
    female = rng.random() < 0.3
    place = county.towns[town].name
    now = dt.datetime.now(dt.UTC)
    return {
        "tenant_id": county.id, "name": name or person_name(rng, female), "gender": "female" if female else "male",
        "ethnicity": rng.choices([e for e, _ in ETHNICITIES], [w for _, w in ETHNICITIES])[0],
        "birth_date": dt.date(rng.randint(1962, 1994), rng.randint(1, 12), rng.randint(1, 28)), "level": "county",
        "term": TERM, "electoral_unit": f"{place}第{rng.randint(1, 6)}选区", "delegation": f"{place}代表团",
        "professional_group": f"{rng.choice(GROUPS)}专业小组", "org_unit_id": county.towns[town].id, "phone": "",
        "email": "", "id_code": f"S{TERM}-{k + 1:04d}", "user_id": user_id, "active": True, "created_at": now,
        "updated_at": now, "version": 1, "_town": town,
    }



# -- inserting --------------------------------------------------------------------------------------

def _values(rows: Sequence[Any], table: Any, **more: Any) -> list[dict[str, Any]]:
    """Unsaved rows as values for one executemany INSERT, every column but the id."""
    columns = [c.key for c in table.columns if c.key != "id"]
    return [{**{k: row.__dict__.get(k) for k in columns}, **more} for row in rows]


def _insert(session: Session, table: Any, values: list[dict[str, Any]], *, returning: bool = False) -> list[int]:
    """One executemany INSERT (Core, no ORM flush); with ``returning`` the new ids in the rows' order."""
    if not values:
        return []
    assert isinstance(table, Table)
    clean = [{k: v for k, v in row.items() if not k.startswith("_")} for row in values]
    if returning:
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return [row[0] for row in session.execute(stmt, clean)]
    session.execute(insert(table), clean)
    return []


def _number(session: Session, plans: list[Plan]) -> None:
    """Take each series' numbers from its counter at once; the plans' numbers (1, 2 … in the order of
    submission) continue after those given before."""
    wanted: Counter[tuple[int, str]] = Counter((p.county.id, p.series) for p in plans if p.number is not None)
    offset = {key: counters.reserve(session, key[0], counter_of(key[1]), n) - n for key, n in sorted(wanted.items())}
    for plan in plans:
        if plan.number is not None:
            plan.number += offset[(plan.county.id, plan.series)]


def _insert_batches(session: Session, plans: list[Plan], calendar: Clock) -> Iterator[tuple[int, Counter[str]]]:
    """Parents first, their ids read back in order, then the children; BATCH suggestions at a time."""
    _number(session, plans)
    for start in range(0, len(plans), BATCH):
        batch: list[Rows] = [replay(p, calendar) for p in plans[start:start + BATCH]]
        ids = _insert(session, Suggestion.__table__, _values([r.suggestion for r in batch], Suggestion.__table__),
                      returning=True)
        children: dict[str, list[dict[str, Any]]] = defaultdict(list)
        promised: list[tuple[Rows, int]] = []
        for sid, rows in zip(ids, batch, strict=True):
            for name, model in (("cosigners", Cosigner), ("assignments", Assignment), ("replies", Reply),
                                ("commitments", Commitment)):
                children[name] += _values(getattr(rows, name), model.__table__, suggestion_id=sid)
            promised += [(rows, i) for i in range(len(rows.commitments))]
            children["events"] += [{**e, "subject_id": sid} for e in rows.events]
        _insert(session, Cosigner.__table__, children["cosigners"])
        _insert(session, Assignment.__table__, children["assignments"])
        _insert(session, Reply.__table__, children["replies"])
        commitment_ids = dict(zip([(id(r), i) for r, i in promised],
                                  _insert(session, Commitment.__table__, children["commitments"], returning=True),
                                  strict=True))
        for rows in batch:
            for index, event in rows.kept:
                event["data"]["commitment_id"] = commitment_ids[(id(rows), index)]
        _insert(session, TimelineEvent.__table__, children["events"])
        yield start + len(batch), Counter(r.suggestion.state for r in batch)
