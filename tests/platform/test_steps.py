"""The step engine without a database: a toy module's workflow table, its refusals, the checks a step
passes before it is taken, and ``allowed`` answering by the same checks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pytest

from renda.platform.access.policy import AccessDenied, Principal
from renda.platform.errors import Conflict
from renda.platform.steps import Notice, Step, StepEngine, StepRefused, Taken, Workflow, check_version


class S(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    SHUT = "shut"


class A(StrEnum):
    NOTE = "note"
    ANSWER = "answer"
    SHUT = "shut"


class W(StrEnum):
    OWNER = "owner"
    ANYONE = "anyone"


FLOW: Workflow[S, A, W] = Workflow(
    [Step(A.NOTE, S.OPEN, S.OPEN, "opinion.reply", W.ANYONE),
     Step(A.ANSWER, S.OPEN, S.ANSWERED, "opinion.reply", W.OWNER, tell=("asker",)),
     Step(A.SHUT, S.ANSWERED, S.SHUT, "opinion.triage", W.OWNER)],
    notices={A.ANSWER: Notice("toy.answered", "Answered")},
    refusals={S.SHUT: "It is shut."}, refused="Not now.")


@dataclass
class Row:
    id: int
    tenant_id: int
    state: str
    version: int
    owner: int


class Toy(StepEngine[Row, set[int], S, A, W]):
    subject, stale, audited = "toy", "Changed meanwhile.", ("state",)

    def parts(self, session: Any, actor: Principal, record: Row) -> set[int]:
        return {record.owner}

    def who(self, actor: Principal, record: Row, step: Step[S, A, W], parts: set[int]) -> Any:
        if step.who == W.OWNER and actor.user_id not in parts:
            raise AccessDenied(step.permission, "not the owner")
        return actor.user_id


ENGINE = Toy(FLOW, S)
OWNER = Principal(user_id=1, username="owner", display_name="Owner")
OTHER = Principal(user_id=2, username="other", display_name="Other")


def test_a_step_not_in_the_table_is_refused_with_the_states_own_reason() -> None:
    assert FLOW.step(S.OPEN, A.ANSWER).target == S.ANSWERED
    with pytest.raises(StepRefused) as refused:
        FLOW.step(S.SHUT, A.NOTE)
    assert refused.value.msgid == "It is shut."
    with pytest.raises(StepRefused) as refused:
        FLOW.step(S.OPEN, A.SHUT)
    assert refused.value.msgid == "Not now."
    assert FLOW.actions_from(S.OPEN) == [A.NOTE, A.ANSWER]
    assert FLOW.actions_from(S.SHUT) == []


def test_a_table_with_two_steps_for_one_state_and_action_or_a_silent_telling_step_is_refused() -> None:
    with pytest.raises(ValueError, match="two steps"):
        Workflow([Step(A.NOTE, S.OPEN, S.OPEN, "opinion.reply", W.ANYONE),
                  Step(A.NOTE, S.OPEN, S.SHUT, "opinion.reply", W.ANYONE)])
    with pytest.raises(ValueError, match="need a notice"):
        Workflow([Step(A.ANSWER, S.OPEN, S.ANSWERED, "opinion.reply", W.OWNER, tell=("asker",))])


def test_take_checks_the_state_then_the_version_then_who_may() -> None:
    row = Row(id=7, tenant_id=1, state="open", version=3, owner=1)
    taken = ENGINE.take(None, OWNER, row, A.ANSWER, 3)
    assert isinstance(taken, Taken) and taken.step.target == S.ANSWERED and taken.part == 1
    assert taken.before == {"state": "open"}
    with pytest.raises(Conflict) as stale:
        ENGINE.take(None, OWNER, row, A.ANSWER, 2)
    assert stale.value.message.msgid == "Changed meanwhile."
    with pytest.raises(Conflict) as not_now:  # the state speaks first, even to someone else with a stale form
        ENGINE.take(None, OTHER, row, A.SHUT, 1)
    assert not_now.value.message.msgid == "Not now."
    with pytest.raises(AccessDenied):
        ENGINE.take(None, OTHER, row, A.ANSWER, 3)
    assert ENGINE.take(None, OTHER, row, A.NOTE, None).part == 2


def test_allowed_is_what_take_accepts_for_every_state_and_actor() -> None:
    for state in S:
        row = Row(id=7, tenant_id=1, state=state.value, version=1, owner=1)
        for actor in (OWNER, OTHER):
            accepted = []
            for action in A:
                try:
                    ENGINE.take(None, actor, row, action, 1)
                except (Conflict, AccessDenied):
                    continue
                accepted.append(action)
            assert ENGINE.allowed(None, actor, row) == accepted, (state, actor.username)


def test_a_version_is_checked_only_when_the_caller_names_one() -> None:
    row = Row(id=7, tenant_id=1, state="open", version=4, owner=1)
    check_version(row, None, "stale")
    check_version(row, 4, "stale")
    with pytest.raises(Conflict):
        check_version(row, 5, "stale")
