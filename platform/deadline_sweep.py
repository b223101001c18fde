"""The one deadline sweep: reminders before a deadline, escalations after it, for every source of deadlines.

A source (suggestions now; citizens' opinions and project milestones later) declares how to find its
rows whose deadline runs and who answers for them; the sweep colours each row by the platform's rule
(renda.platform.deadlines), finds the recipients by role (renda.platform.access.recipients) and
notifies them in a few statements whatever the number of rows:

- yellow (near due): the holders of the source's responsible role on the row's handling unit or org node;
- red (overdue): those, the holders of its escalation role at the tenant's root (the office), and the
  row's supervisor.

Each message is sent once per row, round and colour: the notification's dedupe key says which, so sweeps
repeated every few minutes, and workers restarted in between, add nothing. Notifications name their
subject (type and id); the web layer links it to its page.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from renda.platform import clock, jobs
from renda.platform.access.recipients import holders_by_place
from renda.platform.deadlines import Colour, colour, near_horizon
from renda.platform.notify.models import Subject
from renda.platform.notify.service import Note, notify_many
from renda.platform.tenancy.models import Tenant, TenantSetting
from renda.platform.tenancy.settings import REGISTRY

JOB = "deadlines.sweep"
# The columns a source's rows carry by these names; any other column is a parameter of its messages.
ROW = ("id", "tenant_id", "round", "deadline", "handling_unit_id", "org_unit_id", "supervisor_user_id")


@dataclass(frozen=True)
class Notice:
    """One colour's message: its kind (e.g. suggestion.overdue) and English msgids with %(name)s fields."""

    kind: str
    title: str
    body: str


@dataclass(frozen=True)
class DeadlineSource:
    """A kind of record with deadlines, as the sweep sees it.

    ``due(last_day)`` selects the rows whose deadline runs and falls on or before ``last_day``, with columns
    labelled ``id``, ``tenant_id``, ``round`` (a deadline set again starts a new round), ``deadline``, and
    where they apply ``handling_unit_id`` / ``org_unit_id`` (where the responsible role is held) and
    ``supervisor_user_id``; its other columns (and ``deadline``) fill the messages' fields.
    """

    subject_type: str  # the notifications' subject, and the start of their dedupe keys
    due: Callable[[dt.date], Select[*tuple[Any, ...]]]
    near_due_setting: str  # the tenant setting holding the near-due window, in days
    responsible_role: str  # told when yellow and when red, held on the row's unit or node
    escalation_role: str  # told when red, held at the tenant's root
    due_soon: Notice
    overdue: Notice


_SOURCES: dict[str, DeadlineSource] = {}


def register(source: DeadlineSource) -> DeadlineSource:
    """Add a source to the sweep (its module declares it once)."""
    known = _SOURCES.get(source.subject_type)
    if known is not None and known is not source:
        raise ValueError(f"another deadline source is registered for {source.subject_type!r}")
    _SOURCES[source.subject_type] = source
    return source


def sources() -> tuple[DeadlineSource, ...]:
    return tuple(_SOURCES.values())


@dataclass
class SweepResult:
    reminded: int = 0
    escalated: int = 0


def sweep(session: Session, today: dt.date, only: Iterable[DeadlineSource] | None = None) -> SweepResult:
    """One pass over every registered source (or ``only`` these). Runs under the system scope."""
    chosen = tuple(only) if only is not None else sources()
    notes = [note for source in chosen for note in _notes(session, source, today)]
    # Those sent by an earlier sweep (or a worker that ran it at the same moment) are skipped by their keys.
    new = notify_many(session, notes)
    overdue = {source.overdue.kind for source in chosen}
    escalated = sum(n.kind in overdue for n in new)
    return SweepResult(reminded=len(new) - escalated, escalated=escalated)


def _near_due_days(session: Session, key: str, default: int) -> defaultdict[int, int]:
    """Each tenant's near-due window (the setting ``key``), the default for those that did not set it."""
    days: defaultdict[int, int] = defaultdict(lambda: default)
    for tenant_id, value in session.execute(select(TenantSetting.tenant_id, TenantSetting.value)
                                            .where(TenantSetting.key == key)):
        days[tenant_id] = int(value.get("v", default))
    return days


def _notes(session: Session, source: DeadlineSource, today: dt.date) -> list[Note]:
    default = int(REGISTRY[source.near_due_setting].default)
    near = _near_due_days(session, source.near_due_setting, default)
    last_day = near_horizon(today, max([*near.values(), default]))
    rows = [(row, shade) for row in session.execute(source.due(last_day)).mappings()
            if (shade := colour(row["deadline"], today, near[row["tenant_id"]])) in (Colour.YELLOW, Colour.RED)]
    if not rows:
        return []
    responsible = holders_by_place(session, source.responsible_role,
                                   handling_unit_ids={row.get("handling_unit_id") or 0 for row, _ in rows},
                                   org_unit_ids={row.get("org_unit_id") or 0 for row, _ in rows})
    late_tenants = sorted({row["tenant_id"] for row, shade in rows if shade == Colour.RED})
    roots: dict[int, int | None] = {tenant_id: root for tenant_id, root in session.execute(
        select(Tenant.id, Tenant.root_org_unit_id).where(Tenant.id.in_(late_tenants)))} if late_tenants else {}
    office = holders_by_place(session, source.escalation_role, org_unit_ids={r or 0 for r in roots.values()})
    notes: list[Note] = []
    for row, shade in rows:
        recipients = responsible.at(org_unit_id=row.get("org_unit_id"), handling_unit_id=row.get("handling_unit_id"))
        if shade == Colour.RED:
            recipients = recipients | office.at(org_unit_id=roots.get(row["tenant_id"])) | (
                {row["supervisor_user_id"]} if row.get("supervisor_user_id") else set())
        notice = source.overdue if shade == Colour.RED else source.due_soon
        key = f"{source.subject_type}:{row['id']}:round:{row['round']}:{shade.value}"
        params = {name: value.isoformat() if isinstance(value, dt.date) else value
                  for name, value in row.items() if name == "deadline" or name not in ROW}
        notes += [Note(row["tenant_id"], user_id, notice.kind, notice.title, notice.body, f"{key}:user:{user_id}",
                       params=params, subject=Subject(source.subject_type, row["id"]))
                  for user_id in sorted(recipients)]
    return notes


@jobs.job(JOB, cron="*/15 * * * *")
def sweep_job(ctx: jobs.JobContext, today: str | None = None) -> None:
    with ctx.session() as session:
        sweep(session, dt.date.fromisoformat(today) if today else clock.today())
