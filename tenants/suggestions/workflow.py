"""The suggestion's states and the steps between them, as data (DESIGN §5, DOMAIN "Deputy suggestions").

Pure: no database. Each step names the permission it needs, who, beyond the permission, may take it
(the lead deputy, a handling unit the suggestion is assigned to, …) and who is told when it is taken;
the platform's step engine (renda.platform.steps) checks and applies it through the service. A step
that is not in the table for the current state is refused with the reason.
"""

from __future__ import annotations

from enum import StrEnum

from renda.platform.errors import N_
from renda.platform.steps import Notice, Step, StepRefused, Workflow
from renda.tenants.congress.roles import Permission

__all__ = ["CONTENT", "FINAL_STATES", "FLOW", "OPEN_STATES", "STEPS", "UNSUBMITTED", "Action", "Audience", "ContactWay",
           "Evaluation", "Permission", "ReplyClass", "State", "Step", "StepRefused", "Who", "actions_from", "step"]


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
    COSIGN = "cosign"  # a co-signer confirms (附议); no change of state
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
    COSIGNER = "cosigner"  # a co-signer invited on it who has not confirmed yet
    STAFF = "staff"  # any holder of the permission over the suggestion's tenant
    LEAD_UNIT = "lead_unit"
    ANY_ASSIGNED_UNIT = "any_assigned_unit"
    CO_UNIT = "co_unit"


class Audience(StrEnum):
    """Who a step tells (the service finds the people)."""

    DEPUTIES = "deputies"  # the lead deputy and the co-signers
    UNITS = "units"  # the handlers of the handling units it is assigned to now
    OFFICE = "office"  # the congress office: its staff at the tenant's root
    SUPERVISOR = "supervisor"  # the leader supervising a key suggestion


class ReplyClass(StrEnum):
    """答复 result classes; which are in use is a tenant setting (reply_classes)."""

    A = "A"  # 已解决或基本解决
    B = "B"  # 正在解决或列入计划解决: names a commitment
    C = "C"  # 因条件限制需以后解决
    D = "D"  # 留作参考


class Evaluation(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY = "basically"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意: handled again


# Those that count as satisfied in the figures' satisfaction rate.
CONTENT = frozenset({Evaluation.SATISFIED, Evaluation.BASICALLY})


class ContactWay(StrEnum):
    VISIT = "visit"
    PHONE = "phone"
    MEETING = "meeting"
    LETTER = "letter"
    ONLINE = "online"


P = Permission
_HANDLING = (State.ASSIGNED, State.REHANDLING)
_DRAFTS = (State.DRAFT, State.RETURNED)
DEPS, UNITS, OFFICE, LEADER = Audience.DEPUTIES, Audience.UNITS, Audience.OFFICE, Audience.SUPERVISOR

STEPS: tuple[Step[State, Action, Who], ...] = (
    *(Step(Action.EDIT, s, s, P.SUGGESTION_SUBMIT, Who.LEAD_DEPUTY) for s in _DRAFTS),
    *(Step(Action.COSIGN, s, s, P.SUGGESTION_SUBMIT, Who.COSIGNER) for s in _DRAFTS),
    *(Step(Action.SUBMIT, s, State.SUBMITTED, P.SUGGESTION_SUBMIT, Who.LEAD_DEPUTY) for s in _DRAFTS),
    Step(Action.WITHDRAW, State.SUBMITTED, State.DRAFT, P.SUGGESTION_SUBMIT, Who.LEAD_DEPUTY),
    Step(Action.DISCARD, State.DRAFT, State.DISCARDED, P.SUGGESTION_SUBMIT, Who.LEAD_DEPUTY),
    Step(Action.ACCEPT, State.SUBMITTED, State.ACCEPTED, P.SUGGESTION_REVIEW, Who.STAFF),
    Step(Action.RETURN, State.SUBMITTED, State.RETURNED, P.SUGGESTION_REVIEW, Who.STAFF, (DEPS,)),
    Step(Action.TO_REFERENCE, State.SUBMITTED, State.REFERENCE, P.SUGGESTION_REVIEW, Who.STAFF, (DEPS,)),
    Step(Action.ASSIGN, State.ACCEPTED, State.ASSIGNED, P.SUGGESTION_ASSIGN, Who.STAFF, (UNITS,)),
    Step(Action.REQUEST_REASSIGN, State.ASSIGNED, State.REASSIGN_REQUESTED, P.SUGGESTION_REPLY,
         Who.ANY_ASSIGNED_UNIT, (OFFICE,)),
    Step(Action.REASSIGN, State.REASSIGN_REQUESTED, State.ASSIGNED, P.SUGGESTION_ASSIGN, Who.STAFF, (UNITS,)),
    Step(Action.REFUSE_REASSIGN, State.REASSIGN_REQUESTED, State.ASSIGNED, P.SUGGESTION_ASSIGN, Who.STAFF, (UNITS,)),
    *(Step(Action.CONTACT, s, s, P.SUGGESTION_REPLY, Who.ANY_ASSIGNED_UNIT) for s in _HANDLING),
    *(Step(Action.CO_OPINION, s, s, P.SUGGESTION_REPLY, Who.CO_UNIT) for s in _HANDLING),
    *(Step(Action.REPLY, s, State.REPLIED, P.SUGGESTION_REPLY, Who.LEAD_UNIT, (DEPS,)) for s in _HANDLING),
    Step(Action.EVALUATE_SATISFIED, State.REPLIED, State.EVALUATED, P.SUGGESTION_EVALUATE, Who.LEAD_DEPUTY),
    Step(Action.EVALUATE_DISSATISFIED, State.REPLIED, State.REHANDLING, P.SUGGESTION_EVALUATE,
         Who.LEAD_DEPUTY, (OFFICE, UNITS)),
    Step(Action.CLOSE, State.EVALUATED, State.CLOSED, P.SUGGESTION_ASSIGN, Who.STAFF),
    # A deputy who never evaluates does not hold the suggestion open for ever: the office closes it.
    Step(Action.CLOSE, State.REPLIED, State.CLOSED, P.SUGGESTION_ASSIGN, Who.STAFF),
    *(Step(Action.MARK_KEY, s, s, P.SUGGESTION_SUPERVISE, Who.STAFF, (LEADER,))
      for s in (State.ACCEPTED, State.ASSIGNED, State.REASSIGN_REQUESTED, State.REPLIED, State.REHANDLING)),
)

# What those a step tells read; %(number)s and %(title)s are the suggestion's.
NOTICES = {
    Action.RETURN: Notice("suggestion.returned", N_("Suggestion No. %(number)s was returned for revision"),
                          N_("“%(title)s”: revise it as the congress office asks, then submit it again.")),
    Action.TO_REFERENCE: Notice("suggestion.reference", N_("Suggestion No. %(number)s is kept as a reference "
                                                           "opinion"),
                                N_("“%(title)s”: the congress office gives it to the departments for reference.")),
    Action.ASSIGN: Notice("suggestion.assigned", N_("Suggestion No. %(number)s is assigned to your unit"),
                          N_("“%(title)s”: please handle it and reply by %(deadline)s.")),
    Action.REASSIGN: Notice("suggestion.assigned", N_("Suggestion No. %(number)s is assigned to your unit"),
                            N_("“%(title)s”: please handle it and reply by %(deadline)s.")),
    Action.REFUSE_REASSIGN: Notice("suggestion.reassign_refused",
                                   N_("Suggestion No. %(number)s stays assigned as it was"),
                                   N_("“%(title)s”: the congress office kept the assignment; please reply by "
                                      "%(deadline)s.")),
    Action.REQUEST_REASSIGN: Notice("suggestion.reassign_requested",
                                    N_("A unit asks to be re-assigned from suggestion No. %(number)s"),
                                    N_("“%(title)s”: decide on the request.")),
    Action.REPLY: Notice("suggestion.replied", N_("Suggestion No. %(number)s has been answered"),
                         N_("“%(title)s”: read the reply and evaluate it.")),
    Action.EVALUATE_DISSATISFIED: Notice("suggestion.dissatisfied",
                                         N_("The deputy is not satisfied with the reply to suggestion No. "
                                            "%(number)s"),
                                         N_("“%(title)s” is handled again, by %(deadline)s.")),
    Action.MARK_KEY: Notice("suggestion.key", N_("Suggestion No. %(number)s is a key suggestion under your "
                                                 "supervision"),
                            N_("“%(title)s”: you supervise its handling.")),
}

OPEN_STATES = frozenset({State.ASSIGNED, State.REASSIGN_REQUESTED, State.REHANDLING})  # a deadline runs
FINAL_STATES = frozenset({State.CLOSED, State.REFERENCE, State.DISCARDED})
# Never before the congress office: not on the board, not in the figures, not for staff to open.
UNSUBMITTED = frozenset({State.DRAFT, State.DISCARDED})

FLOW: Workflow[State, Action, Who] = Workflow(
    STEPS, notices=NOTICES, refused=N_("This step is not possible at the suggestion's current stage."),
    refusals={State.DISCARDED: N_("This draft was given up: nothing more can be done to it."),
              State.CLOSED: N_("This suggestion is closed: nothing more can be done to it."),
              State.REFERENCE: N_("This suggestion is closed: nothing more can be done to it.")})


def step(state: State, action: Action) -> Step[State, Action, Who]:
    """The step ``action`` from ``state``, or StepRefused."""
    return FLOW.step(state, action)


def actions_from(state: State) -> list[Action]:
    return FLOW.actions_from(state)
