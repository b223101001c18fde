"""A tenant's calendar of working days, and the actions on its own days (staff with tenant.manage).

``calendar_for`` is what deadline arithmetic takes: the national calendar with the tenant's own days
on top, read in one statement. Adding and removing a day are audited like every settings change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform import audit
from renda.platform.access.policy import Principal, Target, require
from renda.platform.access.roles import KernelPermission as Permission
from renda.platform.errors import N_, NotFound, ValidationFailed, check_all
from renda.platform.tenancy.models import Tenant
from renda.platform.tenancy.service import tenant_root
from renda.platform.workdays.calendar import COVERED_YEARS, WorkCalendar, package_says
from renda.platform.workdays.models import NOTE_MAX, WorkdayOverride

# How far from today a day may be entered: a slip of the year (2062 for 2026) is refused.
YEARS_AROUND = 5
_FIELDS = ("day", "working", "note")


def calendar_for(session: Session, tenant_id: int) -> WorkCalendar:
    """The tenant's working days: its own days first, then China's calendar (one statement)."""
    rows = session.execute(select(WorkdayOverride.day, WorkdayOverride.working)
                           .where(WorkdayOverride.tenant_id == tenant_id))
    return WorkCalendar({day: working for day, working in rows})


@dataclass(frozen=True)
class OwnDay:
    """A tenant's own day as its page lists it, with what the national calendar says of that day."""

    override: WorkdayOverride
    national: bool | None  # the package's answer (working or not); None: a year it does not know

    @property
    def same_as_national(self) -> bool:
        return self.national is not None and self.national == self.override.working


def _require_manager(session: Session, actor: Principal, tenant: Tenant) -> None:
    require(actor, Permission.TENANT_MANAGE, Target(tenant.id, tenant_root(session, tenant).path))


def own_days_for(session: Session, actor: Principal, tenant: Tenant) -> list[OwnDay]:
    """The tenant's own days, latest first (refused without tenant.manage)."""
    _require_manager(session, actor, tenant)
    rows = session.scalars(select(WorkdayOverride).where(WorkdayOverride.tenant_id == tenant.id)
                           .order_by(WorkdayOverride.day.desc()))
    return [OwnDay(row, package_says(row.day)) for row in rows]


def add_own_day(session: Session, actor: Principal, tenant: Tenant, *, day: dt.date | None, working: bool | None,
                note: str, today: dt.date) -> WorkdayOverride:
    """Enter one day as off or worked; a day already entered must be removed first."""
    _require_manager(session, actor, tenant)
    note = (note or "").strip()

    def check_day() -> dt.date:
        if day is None:
            raise ValidationFailed.one("day", N_("Enter a date such as 2027-10-01."))
        if abs(day.year - today.year) > YEARS_AROUND:
            raise ValidationFailed.one("day", N_("Enter a day within %(n)s years of today."), n=YEARS_AROUND)
        taken = session.scalars(select(WorkdayOverride.id).where(WorkdayOverride.tenant_id == tenant.id,
                                                                 WorkdayOverride.day == day)).first()
        if taken is not None:
            raise ValidationFailed.one("day", N_("This day is in the list already; remove it first to change it."))
        return day

    def check_working() -> bool:
        if working is None:
            raise ValidationFailed.one("working", N_("Choose whether the day is off or worked."))
        return working

    def check_note() -> str:
        if len(note) > NOTE_MAX:
            raise ValidationFailed.one("note", N_("At most %(n)s characters."), n=NOTE_MAX)
        return note

    checked_day, checked_working, checked_note = check_all(check_day, check_working, check_note)
    row = WorkdayOverride(tenant_id=tenant.id, day=checked_day, working=checked_working, note=checked_note,
                          created_by=actor.user_id)
    session.add(row)
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id, action="workday.add", obj=row,
                 after=audit.snapshot(row, *_FIELDS))
    return row


def remove_own_day(session: Session, actor: Principal, tenant: Tenant, override_id: int) -> None:
    """Take a day off the tenant's list: the national calendar speaks for it again."""
    _require_manager(session, actor, tenant)
    row = session.scalars(select(WorkdayOverride).where(WorkdayOverride.tenant_id == tenant.id,
                                                        WorkdayOverride.id == override_id)).first()
    if row is None:
        raise NotFound("workday")
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id, action="workday.remove", obj=row,
                 before=audit.snapshot(row, *_FIELDS))
    session.delete(row)


def covered_years() -> range:
    """The years China's calendar is known for, without any tenant's own days (shown on the page)."""
    return COVERED_YEARS
