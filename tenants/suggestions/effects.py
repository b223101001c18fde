"""What each step does to a suggestion's rows, once: the service applies these to the rows it loaded, the
scaled demo (tenants/demo_scale.py) to rows it is about to insert in bulk, so the two never disagree.

Pure: no session, no checks (the service checks before it applies), no clock (each takes the moment ``at``
and the day ``today`` it happens on). Each returns what the step's timeline event says, and the rows the
step adds, unsaved: the caller adds them to its session or its batch. ``make`` builds those rows: the
mapped classes for the service; the demo passes a plain class of the same attributes, thousands of times
cheaper to fill than a mapped instance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from renda.platform.deadlines import is_overdue
from renda.tenants.suggestions.models import Assignment, Commitment, Cosigner, Reply, Suggestion
from renda.tenants.suggestions.workflow import Action, Evaluation, ReplyClass

Data = dict[str, Any]


def drafted(s: Suggestion, cosigner_ids: Sequence[int], *, make: Callable[..., Cosigner] = Cosigner
            ) -> tuple[list[Cosigner], Data]:
    """A new draft's co-signers (s.id set, or set on them later), unconfirmed."""
    ids = sorted(cosigner_ids)
    return ([make(tenant_id=s.tenant_id, suggestion_id=s.id, deputy_id=i, confirmed_at=None) for i in ids],
            {"cosigners": ids})


def cosigned(cosigner: Cosigner, at: dt.datetime) -> Data:
    cosigner.confirmed_at = at
    return {"deputy_id": cosigner.deputy_id}


def submitted(s: Suggestion, number: int | None, at: dt.datetime) -> Data:
    """Handed in (again): a suggestion keeps the number it got the first time."""
    if s.number is None:
        s.number = number
    s.submitted_at = at
    return {}


def reviewed(s: Suggestion, action: Action, note: str, at: dt.datetime) -> Data:
    if action == Action.TO_REFERENCE:
        s.closed_at = at
    return {"note": note}


def assigned(s: Suggestion, current: Sequence[Assignment], *, lead_unit_id: int, co_unit_ids: Sequence[int],
             broad: bool, deadline: dt.date, at: dt.datetime, make: Callable[..., Assignment] = Assignment
             ) -> tuple[list[Assignment], Data]:
    """交办 (or again, 调整交办): the units of the current round replace those before."""
    co = sorted(set(co_unit_ids) - {lead_unit_id})
    for old in current:
        old.active = False
    new = [make(tenant_id=s.tenant_id, suggestion_id=s.id, handling_unit_id=unit, lead=unit == lead_unit_id,
                      round=s.round, assigned_at=at, active=True) for unit in (lead_unit_id, *co)]
    s.broad, s.deadline, s.lead_unit_id = broad, deadline, lead_unit_id
    s.assigned_at = s.assigned_at or at
    return new, {"lead_unit_id": lead_unit_id, "co_unit_ids": co, "deadline": deadline.isoformat()}


def reassignment_asked(unit_id: int, reason: str) -> Data:
    return {"reason": reason, "handling_unit_id": unit_id}


def reassignment_refused(note: str) -> Data:
    return {"note": note}


def contacted(unit_id: int, way: str, summary: str) -> Data:
    return {"way": way, "summary": summary, "handling_unit_id": unit_id}


def co_unit_opinion(unit_id: int, opinion: str) -> Data:
    return {"opinion": opinion, "handling_unit_id": unit_id}


def marked_key(s: Suggestion, supervisor_user_id: int) -> Data:
    s.is_key, s.supervisor_user_id = True, supervisor_user_id
    return {"supervisor_user_id": supervisor_user_id}


def replied(s: Suggestion, *, unit_id: int, reply_class: str, content: str, signed_by: str, by: int | None,
            at: dt.datetime, today: dt.date, commitment: tuple[str, dt.date] | None = None,
            make: Callable[..., Reply] = Reply, make_commitment: Callable[..., Commitment] = Commitment
            ) -> tuple[Reply, Commitment | None, Data]:
    """答复 in the current round; on time when given by the deadline. A class B reply's promise is tracked."""
    on_time = not is_overdue(s.deadline, today)  # the board's red, from the same rule
    reply = make(tenant_id=s.tenant_id, suggestion_id=s.id, handling_unit_id=unit_id, round=s.round,
                  reply_class=reply_class, content=content, signed_by=signed_by, replied_by=by, replied_at=at,
                  on_time=on_time)
    promise = None
    if commitment is not None:
        promise = make_commitment(tenant_id=s.tenant_id, suggestion_id=s.id, handling_unit_id=unit_id,
                             content=commitment[0], due_date=commitment[1], fulfilled_at=None, fulfilment_note="")
    s.reply_class, s.replied_at = reply_class, at
    return reply, promise, {"reply_class": reply_class, "on_time": on_time, "handling_unit_id": unit_id}


def keeps_promises(reply_class: str) -> bool:
    """A class A reply (solved) keeps every earlier round's open promise ("回头看" answered)."""
    return reply_class == ReplyClass.A


def fulfilled(commitment: Commitment, note: str, at: dt.datetime, *, by_reply_round: int | None = None) -> Data:
    """A promise kept: reported done by its unit, or by a later class A reply."""
    commitment.fulfilled_at, commitment.fulfilment_note = at, note
    data: Data = {"commitment_id": commitment.id}
    if by_reply_round is not None:
        data["by_reply_round"] = by_reply_round
    return data


def evaluated(s: Suggestion, current: Sequence[Assignment], *, evaluation: str, comment: str,
              rehandle_by: dt.date | None) -> Data:
    """满意 / 基本满意 / 不满意; 不满意 opens a new round for the same units, due by ``rehandle_by``."""
    s.evaluation = evaluation
    data: Data = {"evaluation": evaluation, "comment": comment}
    if evaluation == Evaluation.DISSATISFIED:
        assert rehandle_by is not None
        s.round += 1
        s.deadline = rehandle_by
        s.reply_class = None
        for assignment in current:
            assignment.round = s.round
        data["deadline"] = rehandle_by.isoformat()
    return data


def closed(s: Suggestion, note: str, at: dt.datetime) -> Data:
    s.closed_at = at
    return {"note": note}


def discarded(s: Suggestion, at: dt.datetime) -> Data:
    s.closed_at = at  # when it ended, as for every final state
    return {}
