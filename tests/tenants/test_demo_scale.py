"""`renda demo --scale N`: suggestions in every state whose rows, numbers and timelines agree, and the board and
the figures over them in a fixed number of statements.

The demo's tenants carry real division codes, which the shared test database gives to the fixed cast, so this
module builds a database of its own: a SQLite file on the embedded backend, a new PostgreSQL database (migrated
as renda_owner, used as renda_app) with the helpers of tests/conftest.py otherwise.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from renda.platform.counters import Counter as NumberCounter
from renda.platform.db import Database, Scope
from renda.platform.deadlines import Colour, colour
from renda.platform.identity.models import User
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy.models import OrgUnit, Tenant
from renda.platform.tenancy.service import get_tenant_by_slug
from renda.platform.timeline import TimelineEvent
from renda.tenants.demo_scale import ScaleSummary, generate
from renda.tenants.deputies.models import Deputy
from renda.tenants.suggestions import queries, service, workflow
from renda.tenants.suggestions.models import Assignment, Reply, Suggestion
from renda.tenants.suggestions.workflow import OPEN_STATES, Action, State

TODAY = dt.date(2026, 11, 23)
CST = dt.timezone(dt.timedelta(hours=8))
N = 300
SHARED_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


def _shared_conftest(config: pytest.Config) -> ModuleType:
    for plugin in config.pluginmanager.get_plugins():
        file = getattr(plugin, "__file__", None)
        if isinstance(plugin, ModuleType) and file and Path(file).resolve() == SHARED_CONFTEST:
            return plugin
    pytest.fail(f"{SHARED_CONFTEST} is not loaded: run the tests from the repository root")


@pytest.fixture(scope="module")
def scaled(backend: str, request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, ScaleSummary]]:
    """The demo with N generated suggestions, in a database of this module's own."""
    shared = _shared_conftest(request.config)
    if backend == "postgres":
        given = os.environ["RENDA_TEST_DATABASE_URL"]
        name, urls = shared._create_postgres_database(given)
        url = urls.app
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('scale') / 'renda.sqlite3'}"
        engine = shared.create_engine(url)
        try:
            shared._upgrade(engine)
        finally:
            engine.dispose()
    db = Database(url=url)
    try:
        yield db, generate(db, N, seed=7, today=TODAY)
    finally:
        db.dispose()
        if backend == "postgres":
            shared._drop_postgres_database(given, name)


@pytest.fixture
def session(scaled: tuple[Database, ScaleSummary]) -> Iterator[Session]:
    with scaled[0].session(Scope.system()) as s:
        yield s


def all_suggestions(session: Session) -> list[Suggestion]:
    return list(session.scalars(select(Suggestion).order_by(Suggestion.id)))


def test_every_workflow_state_is_generated_in_every_county(session: Session,
                                                           scaled: tuple[Database, ScaleSummary]) -> None:
    rows = all_suggestions(session)
    assert len(rows) == N
    assert {s.state for s in rows} == {s.value for s in State}
    assert scaled[1].by_state == dict(Counter(s.state for s in rows)) | {
        s.value: 0 for s in State if s.value not in {r.state for r in rows}}
    assert len({s.tenant_id for s in rows}) == 13  # the demo's twelve Baise counties and Long'an
    heavy = {slug: scaled[1].by_tenant[slug] for slug in ("tiandong", "pingguo")}
    assert min(heavy.values()) > max(n for slug, n in scaled[1].by_tenant.items() if slug not in heavy)


def test_numbers_run_without_gaps_in_each_series_and_the_counters_continue_them(session: Session) -> None:
    numbers: dict[tuple[int, str], list[int]] = defaultdict(list)
    for s in all_suggestions(session):
        assert (s.number is None) == (s.state in (State.DRAFT, State.DISCARDED)), (s.id, s.state, s.number)
        assert s.series == service.series_of(s.term, s.session_no)
        if s.number is not None:
            numbers[(s.tenant_id, s.series)].append(s.number)
    counters = {(t, series.removeprefix("suggestion:")): n for t, series, n in session.execute(
        select(NumberCounter.tenant_id, NumberCounter.series, NumberCounter.last_number))}
    for key, given in numbers.items():
        assert sorted(given) == list(range(1, len(given) + 1)), key
        assert counters[key] == len(given)


def test_each_suggestions_timeline_replays_through_the_workflow_to_its_state(session: Session) -> None:
    events: dict[int, list[TimelineEvent]] = defaultdict(list)
    for e in session.scalars(select(TimelineEvent).where(TimelineEvent.subject_type == service.SUBJECT)
                             .order_by(TimelineEvent.at, TimelineEvent.id)):
        events[e.subject_id].append(e)
    for s in all_suggestions(session):
        steps = [e for e in events[s.id] if e.action not in ("create", "cosign", "commitment_fulfilled")]
        assert events[s.id][0].action == "create"
        state = State.DRAFT
        for e in steps:
            state = workflow.step(state, Action(e.action)).target
        assert state == s.state, (s.id, [e.action for e in events[s.id]])
        assert s.version == 1 + sum(e.action not in ("contact", "co_opinion") for e in steps)


def test_facts_agree_with_each_state(session: Session) -> None:
    leads: Counter[int] = Counter(session.scalars(select(Assignment.suggestion_id).where(
        Assignment.lead.is_(True), Assignment.active.is_(True))))
    replies: dict[int, list[Reply]] = defaultdict(list)
    for r in session.scalars(select(Reply).order_by(Reply.replied_at)):
        replies[r.suggestion_id].append(r)
    assigned_once = {State.ASSIGNED, State.REASSIGN_REQUESTED, State.REPLIED, State.EVALUATED, State.REHANDLING,
                     State.CLOSED}
    for s in all_suggestions(session):
        state = State(s.state)
        assert leads[s.id] == (1 if state in assigned_once else 0), (s.id, state)
        if state in OPEN_STATES or state in (State.REPLIED, State.EVALUATED, State.CLOSED):
            assert s.deadline is not None and s.assigned_at is not None
        if state in (State.REPLIED, State.EVALUATED, State.CLOSED):
            assert replies[s.id] and s.reply_class == replies[s.id][-1].reply_class and s.replied_at is not None
            assert replies[s.id][-1].round == s.round
        if state == State.REHANDLING:
            assert s.round == 2 and s.reply_class is None and s.evaluation == "dissatisfied"
        if state == State.EVALUATED:
            assert s.evaluation in ("satisfied", "basically")
        assert (s.closed_at is not None) == (state in workflow.FINAL_STATES)
        assert (s.submitted_at is None) == (state in (State.DRAFT, State.DISCARDED))
        assert (s.supervisor_user_id is not None) == s.is_key
        if replies[s.id] and replies[s.id][-1].round == s.round and s.deadline:
            replied = replies[s.id][-1].replied_at
            day = (replied if replied.tzinfo else replied.replace(tzinfo=dt.UTC)).astimezone(CST).date()
            assert replies[s.id][-1].on_time == (day <= s.deadline)


def test_open_deadlines_are_red_yellow_and_green_as_of_the_generation_day(session: Session) -> None:
    shades = Counter(colour(s.deadline, TODAY, 15) for s in all_suggestions(session) if s.state in OPEN_STATES)
    assert set(shades) == {Colour.RED, Colour.YELLOW, Colour.GREEN}
    assert shades[Colour.GREEN] > shades[Colour.RED] > 0


def test_each_county_has_a_pool_of_deputies_and_each_demo_deputy_account_one_record(session: Session) -> None:
    per_tenant = Counter(session.scalars(select(Deputy.tenant_id).where(Deputy.term == 17)))
    assert len(per_tenant) == 13 and min(per_tenant.values()) >= 100
    for username in ("tiandong.deputy", "pingguo.deputy", "joint.deputy"):
        user_id = session.scalar(select(User.id).where(User.username == username))
        assert len(session.scalars(select(Deputy).where(Deputy.user_id == user_id)).all()) == 1, username


def test_the_next_submission_takes_the_next_number_of_its_series(scaled: tuple[Database, ScaleSummary]) -> None:
    with scaled[0].sessions() as s:  # closed without a commit: the submission is rolled back
        s.info["scope"] = Scope.system()
        tenant = get_tenant_by_slug(s, "tiandong")
        assert tenant is not None
        user_id = s.scalar(select(User.id).where(User.username == "tiandong.deputy"))
        before = s.scalar(select(NumberCounter.last_number).where(
            NumberCounter.tenant_id == tenant.id, NumberCounter.series == "suggestion:t17-between")) or 0
        deputy = load_principal(s, int(user_id or 0))
        draft = service.create_draft(s, deputy, tenant, title="关于平马镇农贸市场改造的建议", content="……", term=17,
                                     session_no=None)
        submitted = service.submit(s, deputy, tenant, draft.id, version=draft.version)
        assert submitted.number == before + 1


@pytest.fixture
def statements(scaled: tuple[Database, ScaleSummary]) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(scaled[0].engine, "before_cursor_execute", count)
    yield seen
    event.remove(scaled[0].engine, "before_cursor_execute", count)


def test_the_board_and_the_figures_read_in_a_fixed_number_of_statements(
        scaled: tuple[Database, ScaleSummary], statements: list[str]) -> None:
    with scaled[0].session(Scope.system()) as s:
        admin = s.scalar(select(User.id).where(User.username == "tiandong.admin"))
    with scaled[0].session(Scope()) as s:
        load_principal(s, int(admin or 0))  # scoped as the county staff's request
        tenant = get_tenant_by_slug(s, "tiandong")
        assert tenant is not None
        submitted = s.scalar(select(func.count()).select_from(Suggestion).where(
            Suggestion.tenant_id == tenant.id, Suggestion.state != State.DRAFT))
        counts = []
        for per_page in (20, 50, 200):
            statements.clear()
            board = queries.board(s, tenant.id, queries.BoardFilter(per_page=per_page), TODAY)
            counts.append(len(statements))
            assert board.total == submitted and len(board.rows) == min(per_page, board.total)
        assert counts[0] == counts[1] == counts[2] <= 10, counts
        statements.clear()
        red = queries.board(s, tenant.id, queries.BoardFilter(state="assigned", colour="red"), TODAY)
        assert len(statements) <= 10 and {r.colour for r in red.rows} <= {Colour.RED}
        assert all(r.lead_unit for r in red.rows)
        statements.clear()
        figures = queries.unit_figures(s, tenant.id, TODAY)
        assert len(statements) <= 10
        leads = s.scalar(select(func.count()).select_from(Assignment).where(
            Assignment.tenant_id == tenant.id, Assignment.lead.is_(True), Assignment.active.is_(True)))
        assert sum(f.assigned for f in figures) == leads and sum(f.answered for f in figures) > 0


def test_the_figures_match_the_rows_they_count(scaled: tuple[Database, ScaleSummary]) -> None:
    """Every number of the ranking, recounted in Python from the suggestions, assignments and replies."""
    with scaled[0].session(Scope.system()) as s:
        tenant = get_tenant_by_slug(s, "tiandong")
        assert tenant is not None
        ranked = queries.unit_figures(s, tenant.id, TODAY)
        suggestions = list(s.scalars(select(Suggestion).where(Suggestion.tenant_id == tenant.id)))
        leads = {a.suggestion_id: a.handling_unit_id for a in s.scalars(select(Assignment).where(
            Assignment.tenant_id == tenant.id, Assignment.lead.is_(True), Assignment.active.is_(True)))}
        first_replies = list(s.scalars(select(Reply).where(Reply.tenant_id == tenant.id, Reply.round == 1)))

    assert {x.id: x.lead_unit_id for x in suggestions if x.lead_unit_id} == leads  # the row agrees with its lead
    figures = {f.unit_id: f for f in ranked}
    expected: dict[int, Counter[str]] = defaultdict(Counter)
    for x in suggestions:
        if x.id not in leads:
            continue
        unit = expected[leads[x.id]]
        unit["assigned"] += 1
        unit["answered"] += x.replied_at is not None
        unit["overdue"] += x.state in OPEN_STATES and x.deadline is not None and x.deadline < TODAY
        unit["evaluated"] += x.evaluation is not None
        unit["satisfied"] += x.evaluation in ("satisfied", "basically")
        unit["rehandled"] += x.round > 1
    for r in first_replies:
        if r.handling_unit_id in expected:
            expected[r.handling_unit_id][f"class {r.reply_class}"] += 1
            expected[r.handling_unit_id]["on time"] += bool(r.on_time)
    assert set(figures) == set(expected) and len(figures) > 3
    for unit_id, f in figures.items():
        want = expected[unit_id]
        assert (f.assigned, f.answered, f.overdue, f.evaluated, f.satisfied, f.rehandled, f.answered_on_time) == (
            want["assigned"], want["answered"], want["overdue"], want["evaluated"], want["satisfied"],
            want["rehandled"], want["on time"]), f.name
        assert f.by_class == {k.removeprefix("class "): n for k, n in want.items() if k.startswith("class ")}
    keys = [(-(f.on_time_rate or 0), -(f.satisfaction_rate or 0), f.name) for f in ranked]
    assert keys == sorted(keys)  # the ranking: on-time rate, then satisfaction


def test_the_figures_by_congress_and_by_place_match_the_rows_they_count(scaled: tuple[Database, ScaleSummary]
                                                                       ) -> None:
    """Each congress's and each township's figures, recounted from the submitted suggestions and replies."""
    with scaled[0].session(Scope.system()) as s:
        tenants = list(s.scalars(select(Tenant).where(Tenant.path.like(
            s.scalars(select(Tenant.path).where(Tenant.slug == "baise")).one() + "%")).order_by(Tenant.path)))
        by_congress = queries.tenant_figures(s, tenants, TODAY)
        tiandong = next(t for t in tenants if t.slug == "tiandong")
        root = s.get(OrgUnit, tiandong.root_org_unit_id)
        assert root is not None
        by_place = queries.node_figures(s, tiandong.id, root, TODAY)
        submitted = [x for x in s.scalars(select(Suggestion).where(
            Suggestion.state.not_in([State.DRAFT, State.DISCARDED])))]
        places = dict(s.execute(select(Deputy.id, OrgUnit.path).join(OrgUnit, OrgUnit.id == Deputy.org_unit_id)).all())
        children = {n.id: n.path for n in s.scalars(select(OrgUnit).where(OrgUnit.parent_id == root.id))}
        first = {(r.suggestion_id): r for r in s.scalars(select(Reply).where(Reply.round == 1))}

    def recount(rows: list[Suggestion]) -> tuple[int, ...]:
        classes = Counter(first[x.id].reply_class for x in rows if x.id in first)
        return (len(rows), sum(x.lead_unit_id is not None for x in rows), sum(x.replied_at is not None for x in rows),
                sum(bool(first[x.id].on_time) for x in rows if x.id in first),
                sum(x.state in OPEN_STATES and x.deadline is not None and x.deadline < TODAY for x in rows),
                sum(x.evaluation is not None for x in rows), sum(x.round > 1 for x in rows), *sorted(classes.items()))

    def shown(f: queries.Figures) -> tuple[int, ...]:
        return (f.received, f.assigned, f.answered, f.answered_on_time, f.overdue, f.evaluated, f.rehandled,
                *sorted(f.by_class.items()))

    assert [f.name for f in by_congress] == [t.name for t in tenants] and len(tenants) > 2
    for t, f in zip(tenants, by_congress, strict=True):
        assert shown(f) == recount([x for x in submitted if x.tenant_id == t.id]), t.slug
    assert sum(f.received for f in by_place) == by_congress[[t.id for t in tenants].index(tiandong.id)].received
    for f in by_place:
        mine = [x for x in submitted if x.tenant_id == tiandong.id and (
            places[x.lead_deputy_id].startswith(children[f.key]) if f.key in children
            else not any(places[x.lead_deputy_id].startswith(p) for p in children.values()))]
        assert shown(f) == recount(mine), f.name
    assert len(by_place) > 3 and by_place[0].key == root.id  # the congress's own deputies first
