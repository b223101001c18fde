"""Planning the scaled demo: for each suggestion, the steps a person would have taken, on plausible days
before today, in the state and deadline colour it is to end in (tenants/demo_scale.py replays them)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from renda.platform.deadlines import add_months
from renda.tenants.demo_corpus import CONTACTS, TOPICS, Topic
from renda.tenants.suggestions.drafting import series_of
from renda.tenants.suggestions.workflow import Action, Evaluation, ReplyClass, State

TERM = 17  # the county congresses elected in 2021 (第十七届); their sessions are the last five years
HEAVY = {"tiandong": 30, "pingguo": 22}  # percent of the suggestions; the other counties share the rest
STATE_WEIGHTS = {State.DRAFT: 2, State.SUBMITTED: 3, State.RETURNED: 1, State.REFERENCE: 3, State.ACCEPTED: 3,
                 State.ASSIGNED: 12, State.REASSIGN_REQUESTED: 1, State.REPLIED: 6, State.EVALUATED: 8,
                 State.REHANDLING: 2, State.CLOSED: 59, State.DISCARDED: 1}
COLOUR_WEIGHTS = {"red": 25, "yellow": 15, "green": 60}  # of suggestions with a running deadline
CST = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class Town:
    id: int
    name: str
    villages: tuple[str, ...]
    station_id: int | None


class PoolDeputy(NamedTuple):
    id: int
    user_id: int | None
    town: int  # index into the county's towns


@dataclass
class County:
    id: int
    slug: str
    name: str
    root_id: int
    towns: list[Town]
    units: dict[str, int]  # by the name after the county's, e.g. "教育局"
    handlers: dict[int, int]  # handling unit id -> a handler's user id
    staff_user: int
    leader_user: int
    months: int
    hard_months: int
    rehandle_months: int
    deputies: list[PoolDeputy] = field(default_factory=list)


@dataclass(frozen=True)
class Clock:
    today: dt.date
    sessions: tuple[dt.date, ...]  # session k of the term on sessions[k - 1]

    @property
    def last(self) -> dt.date:
        return self.today - dt.timedelta(days=1)  # the last day a step may fall on

    @classmethod
    def of(cls, today: dt.date) -> Clock:
        """A session each February, the latest at least two months before today."""
        year = today.year if today >= dt.date(today.year, 4, 25) else today.year - 1
        return cls(today, tuple(dt.date(year - 5 + k, 2, 16 + 2 * k) for k in range(1, 6)))


Step = tuple[str, dt.date, dict[str, Any]]


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def allocate(weights: dict[Any, int], n: int) -> list[Any]:
    """``n`` items in proportion to ``weights`` (largest remainder); each weight gets one when n allows."""
    total = sum(weights.values())
    counts = {k: n * w // total for k, w in weights.items()}
    for k in sorted(weights, key=lambda k: -(n * weights[k] % total))[: n - sum(counts.values())]:
        counts[k] += 1
    if n >= len(weights):
        for k in weights:
            while counts[k] == 0:
                donor = max(counts, key=lambda d: counts[d])
                counts[donor], counts[k] = counts[donor] - 1, 1
    return [k for k, c in counts.items() for _ in range(c)]


# -- planning: the steps each suggestion went through -----------------------------------------------

@dataclass(slots=True)
class Plan:
    county: County
    state: State
    colour: str
    seed: int
    created: dt.datetime = dt.datetime.min
    submitted: dt.datetime | None = None
    series: str = ""
    number: int | None = None


def plan_all(counties: list[County], n: int, rng: random.Random, clock: Clock) -> list[Plan]:
    """Who, in which state and colour, and the number each gets: numbers follow the order of submission."""
    share = (100 - sum(HEAVY.values())) * 10 // sum(c.slug not in HEAVY for c in counties)
    weights = {c.slug: HEAVY[c.slug] * 10 if c.slug in HEAVY else share for c in counties}  # per mille
    by_slug = {c.slug: c for c in counties}
    where = allocate(weights, n)
    states = allocate(STATE_WEIGHTS, n)
    rng.shuffle(where)
    rng.shuffle(states)
    running = [i for i, s in enumerate(states) if s in (State.ASSIGNED, State.REHANDLING)]
    colours = ["none"] * n
    for i, c in zip(running, allocate(COLOUR_WEIGHTS, len(running)), strict=True):
        colours[i] = c
    plans = []
    for slug, state, colour in zip(where, states, colours, strict=True):
        plan = Plan(by_slug[slug], state, colour, rng.getrandbits(48))
        steps, session_no, _ = steps_of(plan, clock)
        times = times_of(random.Random(plan.seed ^ 0x5EED), steps)  # noqa: S311 - demo data, not secrets
        plan.created, plan.series = times[0], series_of(TERM, session_no)
        plan.submitted = next((t for (a, _, _), t in zip(steps, times, strict=True) if a == Action.SUBMIT), None)
        plans.append(plan)
    plans.sort(key=lambda p: p.created)
    last: dict[tuple[int, str], int] = {}
    for p in sorted((p for p in plans if p.submitted), key=lambda p: p.submitted or p.created):
        key = (p.county.id, p.series)
        last[key] = last.get(key, 0) + 1
        p.number = last[key]
    return plans


def steps_of(plan: Plan, clock: Clock) -> tuple[list[Step], int | None, Choice]:
    rng = random.Random(plan.seed)  # noqa: S311 - demo data, not secrets
    choice = _choose(rng, plan.county)
    planner = _PLANNERS[plan.state]
    steps, session_no = planner(rng, clock, plan.county, choice, plan.colour)
    return steps, session_no, choice


class Choice(NamedTuple):
    deputy: PoolDeputy
    topic: Topic
    issue: int
    cosigners: list[int]
    lead: int
    co: list[int]
    broad: bool
    key: bool


def _choose(rng: random.Random, county: County) -> Choice:
    topic = rng.choices(TOPICS, [t.weight for t in TOPICS])[0]
    deputy = rng.choice(county.deputies)
    others = [d.id for d in county.deputies if d.id != deputy.id]
    cosigners = rng.sample(others, min(len(others), rng.choice((0, 0, 1, 1, 2, 3))))
    unit_ids = sorted(county.units.values())
    lead = county.units.get(topic.lead) or rng.choice(unit_ids)
    co = [county.units[s] for s in topic.co if s in county.units and rng.random() < 0.25 and county.units[s] != lead]
    issue = rng.randrange(len(topic.issues))
    return Choice(deputy, topic, issue, cosigners, lead, co, rng.random() < 0.08, rng.random() < 0.03)


def _deadline_for(rng: random.Random, clock: Clock, colour: str, latest: int) -> dt.date:
    """A deadline of this colour today (near-due window: the default 15 days)."""
    if colour == "red":
        return clock.today - days(rng.randint(1, 60))
    if colour == "yellow":
        return clock.today + days(rng.randint(0, 14))
    return clock.today + days(rng.randint(16, latest))


def _opening(rng: random.Random, choice: Choice, submitted: dt.date, *, confirmed: bool = True) -> list[Step]:
    created = submitted - days(rng.randint(0, 6))
    steps: list[Step] = [("create", created, {"cosigners": sorted(choice.cosigners)})]
    if confirmed:
        signed = sorted(created + days(rng.randint(0, (submitted - created).days)) for _ in choice.cosigners)
        steps += [("cosign", day, {"deputy_id": d}) for day, d in zip(signed, sorted(choice.cosigners), strict=True)]
        steps.append((Action.SUBMIT, submitted, {}))
    return steps


def _submitted_before(rng: random.Random, clock: Clock, assigned: dt.date) -> tuple[int | None, dt.date]:
    """Suggestions assigned within weeks of a session were handed in at it; the rest between sessions."""
    for k, held in enumerate(clock.sessions, start=1):
        if held + days(12) <= assigned <= held + days(75):
            return k, held + days(rng.randint(0, 3))
    return None, max(assigned - days(rng.randint(5, 30)), clock.sessions[0])


def _historic(rng: random.Random, clock: Clock, latest: dt.date) -> tuple[int | None, dt.date]:
    held = [k for k, day in enumerate(clock.sessions, start=1) if day <= latest]
    if held and rng.random() < 0.8:
        k = rng.choice(held)
        return k, clock.sessions[k - 1] + days(rng.randint(0, 3))
    start = clock.sessions[0]
    return None, start + days(rng.randint(0, max(0, (latest - start).days)))


def between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + days(rng.randint(0, max(0, (end - start).days)))


def _up_to_assignment(rng: random.Random, clock: Clock, county: County, choice: Choice, assigned: dt.date, *,
                      reassigned: bool = False) -> tuple[list[Step], int | None]:
    """Drafted, submitted and accepted before ``assigned``; then assigned (perhaps to the wrong unit first)."""
    first = assigned - days(rng.randint(3, 10)) if reassigned else assigned
    session_no, submitted = _submitted_before(rng, clock, first)
    steps = _opening(rng, choice, submitted)
    accepted = between(rng, submitted, first - days(1)) if first > submitted else submitted
    steps.append((Action.ACCEPT, accepted, {}))
    others = sorted(set(county.units.values()) - {choice.lead})
    if reassigned and others:
        wrong = rng.choice(others)
        steps.append((Action.ASSIGN, first, {"lead": wrong, "co": [], "broad": choice.broad}))
        steps.append((Action.REQUEST_REASSIGN, between(rng, first, assigned - days(1)), {"unit": wrong}))
        steps.append((Action.REASSIGN, assigned, {"lead": choice.lead, "co": choice.co, "broad": choice.broad}))
    else:
        steps.append((Action.ASSIGN, assigned, {"lead": choice.lead, "co": choice.co, "broad": choice.broad}))
    if choice.key:
        steps.append((Action.MARK_KEY, assigned, {}))
    return steps, session_no


def _handling(rng: random.Random, choice: Choice, start: dt.date, end: dt.date) -> list[Step]:
    """Contact with the deputy and the co-units' opinions between assignment and ``end``."""
    steps: list[Step] = []
    if rng.random() < 0.5:
        way = rng.randrange(len(CONTACTS))
        steps.append((Action.CONTACT, between(rng, start, end), {"way": way, "unit": choice.lead}))
    steps += [(Action.CO_OPINION, between(rng, start, end), {"unit": u}) for u in choice.co if rng.random() < 0.6]
    return sorted(steps, key=lambda s: s[1])


def _reply_class(rng: random.Random) -> str:
    return rng.choices((ReplyClass.A, ReplyClass.B, ReplyClass.C), (45, 40, 15))[0]


def _answered(rng: random.Random, clock: Clock, county: County, choice: Choice,
              replied: dt.date) -> tuple[list[Step], int | None]:
    """Everything up to a reply on ``replied``: on time for most, a few weeks late for some."""
    months = county.hard_months if choice.broad else county.months
    due = replied + days(rng.randint(0, 60)) if rng.random() < 0.85 else replied - days(rng.randint(1, 30))
    assigned = min(add_months(due, -months), replied - days(7))
    steps, session_no = _up_to_assignment(rng, clock, county, choice, assigned, reassigned=rng.random() < 0.05)
    steps += _handling(rng, choice, assigned, replied)
    steps.append((Action.REPLY, replied, {"class": _reply_class(rng)}))
    return steps, session_no


def _evaluation(rng: random.Random) -> dict[str, Any]:
    return {"evaluation": Evaluation.SATISFIED if rng.random() < 0.65 else Evaluation.BASICALLY}


def _plan_draft(rng: random.Random, clock: Clock, county: County, choice: Choice, colour: str
                ) -> tuple[list[Step], int | None]:
    return _opening(rng, choice, clock.last - days(rng.randint(0, 30)), confirmed=False), None


def _plan_discarded(rng: random.Random, clock: Clock, county: County, choice: Choice, colour: str
                    ) -> tuple[list[Step], int | None]:
    created = clock.last - days(rng.randint(5, 60))
    steps = _opening(rng, choice, created, confirmed=False)
    steps.append((Action.DISCARD, between(rng, created, clock.last), {}))
    return steps, None


def _plan_submitted(rng: random.Random, clock: Clock, county: County, choice: Choice, colour: str
                    ) -> tuple[list[Step], int | None]:
    return _opening(rng, choice, clock.last - days(rng.randint(0, 20))), None


def _plan_reviewed(action: Action, lo: int, hi: int) -> Any:
    def plan(rng: random.Random, clock: Clock, county: County, choice: Choice, colour: str
             ) -> tuple[list[Step], int | None]:
        submitted = clock.last - days(rng.randint(lo, hi))
        steps = _opening(rng, choice, submitted)
        steps.append((action, between(rng, submitted, min(submitted + days(7), clock.last)), {}))
        if action == Action.ACCEPT and choice.key:
            steps.append((Action.MARK_KEY, steps[-1][1], {}))
        return steps, None
    return plan


def _plan_reference(rng: random.Random, clock: Clock, county: County, choice: Choice, colour: str
                    ) -> tuple[list[Step], int | None]:
    session_no, submitted = _historic(rng, clock, clock.last - days(10))
    steps = _opening(rng, choice, submitted)
    steps.append((Action.TO_REFERENCE, submitted + days(rng.randint(2, 10)), {}))
    return steps, session_no


def _plan_assigned(rng: random.Random, clock: Clock, county: County, choice: Choice, colour: str
                   ) -> tuple[list[Step], int | None]:
    months = county.hard_months if choice.broad else county.months
    assigned = min(add_months(_deadline_for(rng, clock, colour, 85), -months), clock.last)
    steps, session_no = _up_to_assignment(rng, clock, county, choice, assigned, reassigned=rng.random() < 0.05)
    return steps + _handling(rng, choice, assigned, clock.last), session_no


def _plan_reassign_requested(rng: random.Random, clock: Clock, county: County, choice: Choice, colour: str
                             ) -> tuple[list[Step], int | None]:
    assigned = clock.last - days(rng.randint(1, 12))
    steps, session_no = _up_to_assignment(rng, clock, county, choice._replace(key=False), assigned)
    steps.append((Action.REQUEST_REASSIGN, between(rng, assigned, clock.last), {"unit": choice.lead}))
    return steps, session_no


def _plan_replied(rng: random.Random, clock: Clock, county: County, choice: Choice, colour: str
                  ) -> tuple[list[Step], int | None]:
    return _answered(rng, clock, county, choice, clock.last - days(rng.randint(0, 44)))


def _plan_evaluated(rng: random.Random, clock: Clock, county: County, choice: Choice, colour: str
                    ) -> tuple[list[Step], int | None]:
    evaluated = clock.last - days(rng.randint(0, 59))
    steps, session_no = _answered(rng, clock, county, choice, evaluated - days(rng.randint(3, 30)))
    return [*steps, (Action.EVALUATE_SATISFIED, evaluated, _evaluation(rng))], session_no


def _plan_rehandling(rng: random.Random, clock: Clock, county: County, choice: Choice, colour: str
                     ) -> tuple[list[Step], int | None]:
    judged = min(add_months(_deadline_for(rng, clock, colour, 28), -county.rehandle_months), clock.last)
    steps, session_no = _answered(rng, clock, county, choice, judged - days(rng.randint(3, 25)))
    steps.append((Action.EVALUATE_DISSATISFIED, judged, {}))
    if rng.random() < 0.3:
        steps.append((Action.CONTACT, between(rng, judged, clock.last), {"way": 0, "unit": choice.lead}))
    return steps, session_no


def _plan_closed(rng: random.Random, clock: Clock, county: County, choice: Choice, colour: str
                 ) -> tuple[list[Step], int | None]:
    """Forward from a past submission; tried again from an earlier one when it would end after today."""
    months = county.hard_months if choice.broad else county.months
    for attempt in range(40):
        session_no, submitted = _historic(rng, clock, clock.last - days(60 if attempt < 20 else 500))
        steps = _opening(rng, choice, submitted)
        day = submitted + days(rng.randint(1, 4))
        if rng.random() < 0.05:  # returned for more detail, then handed in again under the same number
            steps += [(Action.RETURN, day, {}), (Action.SUBMIT, day + days(2), {})]
            day += days(rng.randint(3, 6))
        steps.append((Action.ACCEPT, day, {}))
        assigned = day + days(rng.randint(10, 45) if session_no else rng.randint(3, 20))
        steps.append((Action.ASSIGN, assigned, {"lead": choice.lead, "co": choice.co, "broad": choice.broad}))
        if choice.key:
            steps.append((Action.MARK_KEY, assigned, {}))
        due = add_months(assigned, months)
        replied = (between(rng, assigned + days(20), due) if rng.random() < 0.88
                   else due + days(rng.randint(1, 30)))
        steps += _handling(rng, choice, assigned, replied)
        steps.append((Action.REPLY, replied, {"class": _reply_class(rng)}))
        outcome = rng.random()
        if outcome < 0.12:  # the deputy never evaluated: the office closes it
            end = replied + days(rng.randint(30, 90))
        else:
            judged = replied + days(rng.randint(3, 30))
            if outcome < 0.20:  # dissatisfied: handled again within the re-handling deadline
                steps.append((Action.EVALUATE_DISSATISFIED, judged, {}))
                again = between(rng, judged + days(7), add_months(judged, county.rehandle_months) + days(5))
                steps.append((Action.REPLY, again, {"class": rng.choice((ReplyClass.A, ReplyClass.B))}))
                judged = again + days(rng.randint(3, 20))
            steps.append((Action.EVALUATE_SATISFIED, judged, _evaluation(rng)))
            end = judged + days(rng.randint(2, 20))
        steps.append((Action.CLOSE, end, {}))
        if end <= clock.last:
            return steps, session_no
    raise RuntimeError("no closed history fits before today")


_PLANNERS: dict[State, Any] = {
    State.DRAFT: _plan_draft, State.SUBMITTED: _plan_submitted,
    State.RETURNED: _plan_reviewed(Action.RETURN, 5, 40), State.ACCEPTED: _plan_reviewed(Action.ACCEPT, 3, 30),
    State.REFERENCE: _plan_reference, State.ASSIGNED: _plan_assigned,
    State.REASSIGN_REQUESTED: _plan_reassign_requested, State.REPLIED: _plan_replied,
    State.EVALUATED: _plan_evaluated, State.REHANDLING: _plan_rehandling, State.CLOSED: _plan_closed,
    State.DISCARDED: _plan_discarded,
}


def times_of(rng: random.Random, steps: Sequence[Step]) -> list[dt.datetime]:
    """Office hours in China on each step's day, strictly increasing."""
    times: list[dt.datetime] = []
    for _, day, _ in steps:
        at = dt.datetime(day.year, day.month, day.day, 8, 30, tzinfo=CST) + dt.timedelta(minutes=rng.randint(0, 540))
        if times and at <= times[-1]:
            at = times[-1] + dt.timedelta(minutes=rng.randint(1, 90))
        times.append(at)
    return [t.astimezone(dt.UTC) for t in times]

