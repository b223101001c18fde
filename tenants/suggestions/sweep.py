"""Suggestions as a source of deadlines for the platform's one sweep (renda.platform.deadline_sweep),
declared by the suggestions module (module.py).

A suggestion's deadline runs while it is open and assigned: when it turns yellow its lead unit's handlers
are reminded, when it turns red they are told again with the congress office and the supervising leader
(DOMAIN: red/yellow/green).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, select

from renda.platform.deadline_sweep import DeadlineSource, Notice
from renda.platform.errors import N_
from renda.tenants.congress.roles import Role
from renda.tenants.suggestions.access import SUBJECT
from renda.tenants.suggestions.models import Suggestion
from renda.tenants.suggestions.queries import deadline_runs


def due(last_day: dt.date) -> Select[*tuple[Any, ...]]:
    """Open, assigned suggestions due on or before ``last_day``, with what their messages say."""
    return (select(Suggestion.id, Suggestion.tenant_id, Suggestion.round, Suggestion.deadline,
                   Suggestion.lead_unit_id.label("handling_unit_id"), Suggestion.supervisor_user_id,
                   Suggestion.number, Suggestion.title)
            .where(deadline_runs(), Suggestion.deadline.is_not(None), Suggestion.lead_unit_id.is_not(None),
                   Suggestion.deadline <= last_day))


SOURCE = DeadlineSource(
    subject_type=SUBJECT,
    due=due,
    near_due_setting="near_due_days",
    responsible_role=Role.HANDLER,
    escalation_role=Role.CONGRESS_ADMIN,
    due_soon=Notice("suggestion.due_soon", N_("Suggestion No. %(number)s is due on %(deadline)s"),
                    N_("“%(title)s”: please reply before the deadline.")),
    overdue=Notice("suggestion.overdue", N_("Suggestion No. %(number)s is overdue since %(deadline)s"),
                   N_("“%(title)s” has not been answered in time.")),
)
