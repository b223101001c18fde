"""The suggestion state machine, walked whole: every (state, action) is allowed or refused with a reason."""

from __future__ import annotations

import pytest

from renda.platform.access.roles import permissions_of, registry
from renda.tenants.congress.roles import Role
from renda.tenants.suggestions.workflow import (
    FINAL_STATES,
    STEPS,
    Action,
    State,
    StepRefused,
    Who,
    actions_from,
    step,
)

PAIRS = [(state, action) for state in State for action in Action]
ALLOWED = {(s.source, s.action) for s in STEPS}


@pytest.mark.parametrize("state, action", PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_every_state_and_action_is_allowed_or_refused_with_a_reason(state: State, action: Action) -> None:
    if (state, action) in ALLOWED:
        found = step(state, action)
        assert found.source == state and found.action == action
        # Some role holds the permission the step names.
        assert any(found.permission in perms for perms in map(permissions_of, registry.roles()))
    else:
        with pytest.raises(StepRefused) as refused:
            step(state, action)
        assert refused.value.msgid


@pytest.mark.parametrize("role, who", [
    (Role.DEPUTY, Who.LEAD_DEPUTY), (Role.CONGRESS_ADMIN, Who.STAFF), (Role.HANDLER, Who.LEAD_UNIT),
])
def test_each_kind_of_actor_holds_the_permissions_of_its_steps(role: Role, who: Who) -> None:
    for s in STEPS:
        if s.who == who and s.action not in (Action.MARK_KEY,):
            assert s.permission in permissions_of(role), s


def test_the_whole_road_from_draft_to_closed_with_a_dissatisfied_round() -> None:
    road = [Action.SUBMIT, Action.ACCEPT, Action.ASSIGN, Action.CONTACT, Action.REPLY,
            Action.EVALUATE_DISSATISFIED, Action.REPLY, Action.EVALUATE_SATISFIED, Action.CLOSE]
    state = State.DRAFT
    for action in road:
        state = step(state, action).target
    assert state == State.CLOSED


def test_nothing_leaves_a_final_state() -> None:
    for state in FINAL_STATES:
        assert actions_from(state) == []
        with pytest.raises(StepRefused) as refused:
            step(state, Action.REPLY)
        assert ("given up" if state == State.DISCARDED else "closed") in refused.value.msgid


def test_every_state_but_the_final_ones_has_a_way_on() -> None:
    for state in State:
        if state not in FINAL_STATES:
            assert actions_from(state), state
