"""The suggestion's states and the steps between them, as data (DESIGN §5, DOMAIN "Deputy suggestions").

Pure: no database. Each step names the permission it needs and who, beyond the permission, may take
it (the lead deputy, a handling unit the suggestion is assigned to, …); the service checks both and
applies the step. A step that is not in the table for the current state is refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from renda.platform.errors import N_
from renda.tenants.congress.roles import Permission


class State(StrEnum):
    DRAFT = "draft"  # 草稿
    SUBMITTED = "submitted"  # 待审查
    RETURNED = "returned"  # 退回修改
    REFERENCE = "reference"  # 作为参阅件 (not a suggestion; ends here)
    ACCEPTED = "accepted"  # 已立案，待交办
    ASSIGNED = "assigned"  # 办理中
    REASSIGN_REQUESTED = "reassign_requested"  # 申请调整交办
    REPLIED = "replied"  # 已答复，待评价
    EVALUATED = "evaluated"  # 已评价 (满意/基本满意)
    REHANDLING = "rehandling"  # 重新办理 (after 不满意)
    CLOSED = "closed"  # 办结
    DISCARDED = "discarded"  # 已放弃: a draft its deputy gave up (never reviewed; ends here)


class Action(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    ACCEPT = "accept"
    RETURN = "return"
    TO_REFERENCE = "to_reference"
    ASSIGN = "assign"
    REQUEST_REASSIGN = "request_reassign"
    REASSIGN = "reassign"
    REFUSE_REASSIGN = "refuse_reassign"
    CONTACT = "contact"  # a record of contact with the deputy (沟通); no change of state
    CO_OPINION = "co_opinion"  # a co-unit's opinion to the lead unit
    REPLY = "reply"
    EVALUATE_SATISFIED = "evaluate_satisfied"
    EVALUATE_DISSATISFIED = "evaluate_dissatisfied"
    CLOSE = "close"
    MARK_KEY = "mark_key"  # 重点建议 with a supervising leader; no change of state
    DISCARD = "discard"  # the lead deputy gives up a draft (kept, out of every list)


class Who(StrEnum):
    """Who, besides holding the permission, may take a step."""

    LEAD_DEPUTY = "lead_deputy"
    STAFF = "staff"  # any holder of the permission over the suggestion's tenant
    LEAD_UNIT = "lead_unit"
    ANY_ASSIGNED_UNIT = "any_assigned_unit"
    CO_UNIT = "co_unit"


@dataclass(frozen=True)
class Step:
    action: Action
    source: State
    target: State
    permission: Permission
    who: Who


P = Permission
_HANDLING = (State.ASSIGNED, State.REHANDLING)

STEPS: tuple[Step, ...] = (
    Step(Action.EDIT, State.DRAFT, State.DRAFT, P.SUGGESTION_SUBMIT, Who.LEAD_DEPUTY),
    Step(Action.EDIT, State.RETURNED, State.RETURNED, P.SUGGESTION_SUBMIT, Who.LEAD_DEPUTY),
    Step(Action.SUBMIT, State.DRAFT, State.SUBMITTED, P.SUGGESTION_SUBMIT, Who.LEAD_DEPUTY),
    Step(Action.SUBMIT, State.RETURNED, State.SUBMITTED, P.SUGGESTION_SUBMIT, Who.LEAD_DEPUTY),
    Step(Action.WITHDRAW, State.SUBMITTED, State.DRAFT, P.SUGGESTION_SUBMIT, Who.LEAD_DEPUTY),
    Step(Action.DISCARD, State.DRAFT, State.DISCARDED, P.SUGGESTION_SUBMIT, Who.LEAD_DEPUTY),
    Step(Action.ACCEPT, State.SUBMITTED, State.ACCEPTED, P.SUGGESTION_REVIEW, Who.STAFF),
    Step(Action.RETURN, State.SUBMITTED, State.RETURNED, P.SUGGESTION_REVIEW, Who.STAFF),
    Step(Action.TO_REFERENCE, State.SUBMITTED, State.REFERENCE, P.SUGGESTION_REVIEW, Who.STAFF),
    Step(Action.ASSIGN, State.ACCEPTED, State.ASSIGNED, P.SUGGESTION_ASSIGN, Who.STAFF),
    Step(Action.REQUEST_REASSIGN, State.ASSIGNED, State.REASSIGN_REQUESTED, P.SUGGESTION_REPLY,
         Who.ANY_ASSIGNED_UNIT),
    Step(Action.REASSIGN, State.REASSIGN_REQUESTED, State.ASSIGNED, P.SUGGESTION_ASSIGN, Who.STAFF),
    Step(Action.REFUSE_REASSIGN, State.REASSIGN_REQUESTED, State.ASSIGNED, P.SUGGESTION_ASSIGN, Who.STAFF),
    *(Step(Action.CONTACT, s, s, P.SUGGESTION_REPLY, Who.ANY_ASSIGNED_UNIT) for s in _HANDLING),
    *(Step(Action.CO_OPINION, s, s, P.SUGGESTION_REPLY, Who.CO_UNIT) for s in _HANDLING),
    *(Step(Action.REPLY, s, State.REPLIED, P.SUGGESTION_REPLY, Who.LEAD_UNIT) for s in _HANDLING),
    Step(Action.EVALUATE_SATISFIED, State.REPLIED, State.EVALUATED, P.SUGGESTION_EVALUATE, Who.LEAD_DEPUTY),
    Step(Action.EVALUATE_DISSATISFIED, State.REPLIED, State.REHANDLING, P.SUGGESTION_EVALUATE,
         Who.LEAD_DEPUTY),
    Step(Action.CLOSE, State.EVALUATED, State.CLOSED, P.SUGGESTION_ASSIGN, Who.STAFF),
    # A deputy who never evaluates does not hold the suggestion open for ever: the office closes it.
    Step(Action.CLOSE, State.REPLIED, State.CLOSED, P.SUGGESTION_ASSIGN, Who.STAFF),
    *(Step(Action.MARK_KEY, s, s, P.SUGGESTION_SUPERVISE, Who.STAFF)
      for s in (State.ACCEPTED, State.ASSIGNED, State.REASSIGN_REQUESTED, State.REPLIED, State.REHANDLING)),
)

_BY_KEY = {(s.source, s.action): s for s in STEPS}

OPEN_STATES = frozenset({State.ASSIGNED, State.REASSIGN_REQUESTED, State.REHANDLING})  # a deadline runs
FINAL_STATES = frozenset({State.CLOSED, State.REFERENCE, State.DISCARDED})
# Never before the congress office: not on the board, not in the figures, not for staff to open.
UNSUBMITTED = frozenset({State.DRAFT, State.DISCARDED})


class StepRefused(ValueError):
    """This step cannot be taken from the current state. ``msgid`` says why, for people."""

    def __init__(self, state: State, action: Action) -> None:
        super().__init__(f"{action} is not possible in state {state}")
        self.state, self.action = state, action
        self.msgid = (N_("This draft was given up: nothing more can be done to it.") if state == State.DISCARDED
                      else N_("This suggestion is closed: nothing more can be done to it.") if state in FINAL_STATES
                      else N_("This step is not possible at the suggestion's current stage."))


def step(state: State, action: Action) -> Step:
    """The step ``action`` from ``state``, or StepRefused."""
    found = _BY_KEY.get((state, action))
    if found is None:
        raise StepRefused(state, action)
    return found


def actions_from(state: State) -> list[Action]:
    return [s.action for s in STEPS if s.source == state]
