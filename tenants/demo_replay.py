"""Replaying a planned suggestion (tenants/demo_plans.py) into the rows the services would have written: each
step is looked up in the workflow table and applied by the same effects the service applies
(renda.tenants.suggestions.effects), to rows that tenants/demo_scale.py then inserts in bulk.

What the service's session would do besides is done here too, and only that: the version moves when a
step changes the suggestion's row, and the timeline gets the step's event with what the effect says.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from renda.platform.deadlines import add_months
from renda.tenants.demo_corpus import (
    CO_OPINION,
    CONTACTS,
    DISSATISFIED,
    NUMERALS,
    PRODUCTS,
    REASSIGN_REASON,
    REFERENCE_NOTES,
    REPLIES,
    RETURN_NOTES,
    RIVERS,
    person_name,
)
from renda.tenants.demo_plans import CST, TERM, Choice, Clock, County, Plan, days, steps_of, times_of
from renda.tenants.suggestions import effects, workflow
from renda.tenants.suggestions.access import SUBJECT
from renda.tenants.suggestions.workflow import Action, Evaluation, ReplyClass, State


class Plain:
    """A row to be inserted, with the attributes of its mapped class but none of the ORM's bookkeeping (the
    effects fill hundreds of thousands of them). Typed Any where it stands for a mapped row."""

    id: Any = None  # given by the INSERT

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


ROW: Callable[..., Any] = Plain  # what the effects make their new rows with, here


# The suggestion's columns a step may change: when one does, the row is updated and its version moves.
CHANGING = ("state", "number", "title", "content", "category", "is_key", "supervisor_user_id", "lead_unit_id",
            "broad", "round", "assigned_at", "deadline", "reply_class", "evaluation", "submitted_at", "replied_at",
            "closed_at")


@dataclass
class Rows:
    """One suggestion's rows, not yet inserted (their suggestion_id, and the commitments' ids, come then)."""

    suggestion: Any  # Plain rows of Suggestion, Cosigner, Assignment, Reply, Commitment
    cosigners: list[Any] = field(default_factory=list)
    assignments: list[Any] = field(default_factory=list)
    replies: list[Any] = field(default_factory=list)
    commitments: list[Any] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    # Events whose data names a commitment: (its index in ``commitments``, the event).
    kept: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def texts(rng: random.Random, county: County, choice: Choice) -> tuple[str, str, dict[str, str]]:
    town = county.towns[choice.deputy.town]
    words = {"town": town.name, "village": rng.choice(town.villages),
             "river": rng.choice(RIVERS.get(county.slug, ("右江",))), "product": PRODUCTS[county.slug],
             "county": county.name}
    issue = choice.topic.issues[choice.issue]
    proposals = [p.format(**words) for p in (*issue.proposals, rng.choice(choice.topic.general))]
    content = (f"{issue.problem.format(**words)}，群众反映强烈。为切实解决这一问题，建议："
               + "；".join(f"{NUMERALS[i]}是{p}" for i, p in enumerate(proposals)) + "。")
    words["done"] = proposals[0]
    return issue.title.format(**words), content, words


def _local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(CST).date()


class _Replay:
    """The state of one replay: the rows so far, the current assignment, the promises to be reported kept."""

    def __init__(self, plan: Plan, clock: Clock) -> None:
        self.plan, self.clock, self.county = plan, clock, plan.county
        self.steps, session_no, self.choice = steps_of(plan, clock)
        self.times = times_of(random.Random(plan.seed ^ 0x5EED), self.steps)  # noqa: S311 - demo data
        self.rng = random.Random(plan.seed ^ 0x7E47)  # noqa: S311 - demo data, not secrets
        title, content, self.words = texts(self.rng, self.county, self.choice)
        at = self.times[0]
        self.s: Any = Plain(
            tenant_id=self.county.id, series=plan.series, term=TERM, session_no=session_no, number=None,
            title=title, content=content, category=self.choice.topic.category, state=State.DRAFT.value,
            lead_deputy_id=self.choice.deputy.id, org_unit_id=self.county.root_id,
            created_by=self.choice.deputy.user_id, client_token=None, is_key=False, supervisor_user_id=None,
            lead_unit_id=None, broad=False, round=1, assigned_at=None, deadline=None, reply_class=None,
            evaluation=None, submitted_at=None, replied_at=None, closed_at=None, created_at=at, updated_at=at,
            version=1, joint_station_id=None)
        self.rows = Rows(self.s)
        self.active: list[Any] = []
        self.promised: dict[int, tuple[dt.datetime, int | None]] = {}  # commitment index -> when kept, by whom

    def event(self, action: str, at: dt.datetime, actor: int | None, data: dict[str, Any]) -> dict[str, Any]:
        row = {"tenant_id": self.county.id, "subject_type": SUBJECT, "at": at, "actor_user_id": actor,
               "action": action, "data": data}
        self.rows.events.append(row)
        return row

    def run(self) -> Rows:
        for (action, _, params), at in zip(self.steps, self.times, strict=True):
            if action == "create":
                self.rows.cosigners, data = effects.drafted(self.s, params["cosigners"], make=ROW)
                self.event("create", at, self.choice.deputy.user_id, data)
            elif action == "cosign":
                cosigner = next(c for c in self.rows.cosigners if c.deputy_id == params["deputy_id"])
                self.event("cosign", at, None, effects.cosigned(cosigner, at))
            else:
                self.step(Action(action), at, params)
            self.s.updated_at = at
        for index, (at, by) in sorted(self.promised.items(), key=lambda kept: kept[1][0]):
            self.keep(index, at, by, "已按承诺完成。")
        if self.s.state != self.plan.state.value:
            raise AssertionError(f"planned {self.plan.state}, replayed to {self.s.state}")
        return self.rows

    def step(self, action: Action, at: dt.datetime, params: dict[str, Any]) -> None:
        target = workflow.step(State(self.s.state), action).target
        before = [getattr(self.s, name) for name in CHANGING]
        actor, data = self.apply(action, at, params)
        self.s.state = target.value
        if before != [getattr(self.s, name) for name in CHANGING]:
            self.s.version += 1
        self.event(action.value, at, actor, data)
        if action == Action.REPLY and effects.keeps_promises(self.s.reply_class or ""):
            for index in [i for i, c in enumerate(self.rows.commitments) if c.fulfilled_at is None]:
                planned = self.promised.pop(index, None)
                if planned is None or planned[0] > at:  # not reported kept before this reply: kept by it
                    self.keep(index, at, actor, self.rows.replies[-1].content[:2000], by_round=self.s.round)
                else:
                    self.promised[index] = planned

    def apply(self, action: Action, at: dt.datetime, params: dict[str, Any]) -> tuple[int | None, dict[str, Any]]:
        """The step's effects on the rows; who took it, and what its event says."""
        s, county, deputy = self.s, self.county, self.choice.deputy.user_id
        if action == Action.SUBMIT:
            return deputy, effects.submitted(s, self.plan.number, at)
        if action in (Action.ACCEPT, Action.RETURN, Action.TO_REFERENCE):
            note = "" if action == Action.ACCEPT else self.rng.choice(
                RETURN_NOTES if action == Action.RETURN else REFERENCE_NOTES)
            return county.staff_user, effects.reviewed(s, action, note, at)
        if action in (Action.ASSIGN, Action.REASSIGN):
            months = county.hard_months if params["broad"] else county.months
            self.active, data = effects.assigned(s, self.active, lead_unit_id=params["lead"], co_unit_ids=params["co"],
                                                 broad=params["broad"], deadline=add_months(_local_day(at), months),
                                                 at=at, make=ROW)
            self.rows.assignments += self.active
            return county.staff_user, data
        if action == Action.MARK_KEY:
            return county.staff_user, effects.marked_key(s, county.leader_user)
        if action == Action.REQUEST_REASSIGN:
            return county.handlers.get(params["unit"]), effects.reassignment_asked(params["unit"], REASSIGN_REASON)
        if action == Action.CONTACT:
            way, summary = CONTACTS[params["way"]]
            return county.handlers.get(params["unit"]), effects.contacted(params["unit"], way,
                                                                          summary.format(**self.words))
        if action == Action.CO_OPINION:
            return county.handlers.get(params["unit"]), effects.co_unit_opinion(params["unit"], CO_OPINION)
        if action == Action.REPLY:
            return self.reply(ReplyClass(params["class"]), at)
        if action in (Action.EVALUATE_SATISFIED, Action.EVALUATE_DISSATISFIED):
            evaluation = params.get("evaluation", Evaluation.DISSATISFIED)
            unhappy = evaluation == Evaluation.DISSATISFIED
            return deputy, effects.evaluated(
                s, self.active, evaluation=evaluation, comment=DISSATISFIED if unhappy else "",
                rehandle_by=add_months(_local_day(at), county.rehandle_months) if unhappy else None)
        if action == Action.CLOSE:
            return county.staff_user, effects.closed(s, "", at)
        if action == Action.DISCARD:
            return deputy, effects.discarded(s, at)
        raise AssertionError(f"the scaled demo plans no {action}")

    def reply(self, reply_class: ReplyClass, at: dt.datetime) -> tuple[int | None, dict[str, Any]]:
        """The lead unit's reply (a class B one with its promise, kept by the unit later or not yet)."""
        lead = next(a.handling_unit_id for a in self.active if a.lead)
        handler, day, rng = self.county.handlers.get(lead), _local_day(at), self.rng
        content = REPLIES[reply_class].format(title=self.s.title, **self.words)
        signed_by = person_name(rng, rng.random() < 0.2)
        promise = None
        if reply_class == ReplyClass.B:
            due = day + days(rng.randint(60, 300))
            promise = (self.words["done"], due)
            if due <= self.clock.last and rng.random() < 0.7:
                kept_on = day + days(rng.randint(7, max(7, (due - day).days)))
                kept = dt.datetime.combine(kept_on, dt.time(10, tzinfo=CST))
                self.promised[len(self.rows.commitments)] = (kept.astimezone(dt.UTC), handler)
        row, commitment, data = effects.replied(self.s, unit_id=lead, reply_class=reply_class, content=content,
                                                signed_by=signed_by, by=handler, at=at, today=day, commitment=promise,
                                                make=ROW, make_commitment=ROW)
        self.rows.replies.append(row)
        if commitment is not None:
            self.rows.commitments.append(commitment)
        return handler, data

    def keep(self, index: int, at: dt.datetime, by: int | None, note: str, *, by_round: int | None = None) -> None:
        data = effects.fulfilled(self.rows.commitments[index], note, at, by_reply_round=by_round)
        self.rows.kept.append((index, self.event("commitment_fulfilled", at, by, data)))


def replay(plan: Plan, clock: Clock) -> Rows:
    """The plan's suggestion as the services would have left it, with everything its steps wrote."""
    return _Replay(plan, clock).run()
