"""The deadline sweep: reminders to the handling unit when a suggestion turns yellow, escalation to
the congress office and the supervising leader when it turns red (DOMAIN: red/yellow/green).

Each message is sent once per suggestion, round and colour: the notification's dedupe key says
which, so sweeps repeated every few minutes, and workers restarted in between, add nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform import clock, jobs
from renda.platform.deadlines import Colour, colour
from renda.platform.errors import N_
from renda.platform.identity.models import Grant
from renda.platform.notify.service import Note, notify_many
from renda.platform.tenancy.models import Tenant, TenantSetting
from renda.platform.tenancy.settings import REGISTRY
from renda.tenants.suggestions.models import Suggestion
from renda.tenants.suggestions.workflow import OPEN_STATES

JOB = "suggestions.sweep_deadlines"
DUE_SOON_TITLE = N_("Suggestion No. %(number)s is due on %(deadline)s")
DUE_SOON_BODY = N_("“%(title)s”: please reply before the deadline.")
OVERDUE_TITLE = N_("Suggestion No. %(number)s is overdue since %(deadline)s")
OVERDUE_BODY = N_("“%(title)s” has not been answered in time.")


@dataclass
class SweepResult:
    reminded: int = 0
    escalated: int = 0


def _near_due_days(session: Session) -> dict[int, int]:
    default = int(REGISTRY["near_due_days"].default)
    days: dict[int, int] = defaultdict(lambda: default)
    for tenant_id, value in session.execute(select(TenantSetting.tenant_id, TenantSetting.value)
                                            .where(TenantSetting.key == "near_due_days")):
        days[tenant_id] = int(value.get("v", default))
    return days


def sweep(session: Session, today: dt.date) -> SweepResult:
    """One pass over every open suggestion whose deadline is near or past. Runs under the system scope."""
    near = _near_due_days(session)
    horizon = today + dt.timedelta(days=max([*near.values(), int(REGISTRY["near_due_days"].default)]))
    due = session.execute(
        select(Suggestion.id, Suggestion.tenant_id, Suggestion.round, Suggestion.deadline, Suggestion.number,
               Suggestion.title, Suggestion.supervisor_user_id, Suggestion.lead_unit_id.label("handling_unit_id"))
        .where(Suggestion.state.in_(sorted(OPEN_STATES)), Suggestion.deadline.is_not(None),
               Suggestion.lead_unit_id.is_not(None),
               Suggestion.deadline <= horizon)).all()
    if not due:
        return SweepResult()
    slugs: dict[int, str] = {i: slug for i, slug in session.execute(select(Tenant.id, Tenant.slug))}
    handlers: dict[int, list[int]] = defaultdict(list)
    for unit_id, user_id in session.execute(select(Grant.handling_unit_id, Grant.user_id).where(
            Grant.role == "handler", Grant.handling_unit_id.in_({row.handling_unit_id for row in due}))):
        if unit_id is not None:
            handlers[unit_id].append(user_id)
    staff: dict[int, list[int]] = defaultdict(list)
    roots = {i: root for i, root in session.execute(select(Tenant.id, Tenant.root_org_unit_id))}
    for tenant_id, user_id, org_unit_id in session.execute(select(Grant.tenant_id, Grant.user_id, Grant.org_unit_id)
                                                           .where(Grant.role == "congress_admin")):
        if roots.get(tenant_id) == org_unit_id:
            staff[tenant_id].append(user_id)
    notes: list[Note] = []
    for row in due:
        shade = colour(row.deadline, today, near[row.tenant_id])
        if shade not in (Colour.YELLOW, Colour.RED):
            continue
        recipients = set(handlers[row.handling_unit_id])
        if shade == Colour.RED:
            recipients |= set(staff[row.tenant_id]) | ({row.supervisor_user_id} - {None})
        key = f"suggestion:{row.id}:round:{row.round}:{shade.value}"
        params = {"number": row.number, "deadline": row.deadline.isoformat(), "title": row.title}
        notes += [Note(row.tenant_id, user_id, "suggestion.overdue" if shade == Colour.RED else "suggestion.due_soon",
                       OVERDUE_TITLE if shade == Colour.RED else DUE_SOON_TITLE,
                       OVERDUE_BODY if shade == Colour.RED else DUE_SOON_BODY,
                       f"{key}:user:{user_id}", link=f"/t/{slugs[row.tenant_id]}/suggestions/{row.id}", params=params)
                  for user_id in sorted(u for u in recipients if u is not None)]
    # Those sent by an earlier sweep (or a worker that ran it at the same moment) are skipped by their keys.
    new = notify_many(session, notes)
    escalated = sum(n.kind == "suggestion.overdue" for n in new)
    return SweepResult(reminded=len(new) - escalated, escalated=escalated)


@jobs.job(JOB, cron="*/15 * * * *")
def sweep_job(ctx: jobs.JobContext, today: str | None = None) -> None:
    with ctx.session() as session:
        sweep(session, dt.date.fromisoformat(today) if today else clock.today())
