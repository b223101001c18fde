"""The deputy's evaluation of the reply (满意 / 基本满意 / 不满意)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from renda.platform import clock
from renda.platform.access.policy import Principal
from renda.platform.deadlines import add_months
from renda.platform.errors import N_, ValidationFailed
from renda.platform.tenancy.models import Tenant
from renda.platform.tenancy.settings import get_setting
from renda.tenants.suggestions import effects
from renda.tenants.suggestions.access import access_suggestion, active_assignments
from renda.tenants.suggestions.engine import ENGINE, required_text
from renda.tenants.suggestions.models import Suggestion
from renda.tenants.suggestions.workflow import Action, Evaluation

EVALUATIONS = tuple(Evaluation)


def evaluate(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, evaluation: str,
             comment: str = "", version: int | None, today: dt.date | None = None) -> Suggestion:
    """满意 / 基本满意 / 不满意; 不满意 sends it back for re-handling with a new deadline and tells the office
    and the units."""
    if evaluation not in EVALUATIONS:
        raise ValidationFailed.one("evaluation", N_("Choose one of the listed options."))
    dissatisfied = evaluation == Evaluation.DISSATISFIED
    action = Action.EVALUATE_DISSATISFIED if dissatisfied else Action.EVALUATE_SATISFIED
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    taken = ENGINE.take(session, actor, suggestion, action, version)
    if dissatisfied:
        comment = required_text(comment, "comment", 2000)  # the unit needs to know what is wanting
    rehandle_by = None
    if dissatisfied:
        months = int(get_setting(session, tenant.id, "rehandle_deadline_months"))
        rehandle_by = add_months(today or clock.today(), months)
    data = effects.evaluated(suggestion, active_assignments(session, suggestion), evaluation=evaluation,
                             comment=(comment or "").strip(), rehandle_by=rehandle_by)
    return ENGINE.done(session, actor, suggestion, taken, data)
