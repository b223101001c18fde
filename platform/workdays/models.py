"""A tenant's own days: a day off or a working day that the national calendar does not (yet) say."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from renda.platform.db import Base, TenantOwned, utcnow

NOTE_MAX = 100


class WorkdayOverride(TenantOwned, Base):
    """One day of one tenant's calendar: off (a holiday) or worked (a weekend day worked in a holiday's place)."""

    __tablename__ = "workday_overrides"
    # One entry per day; the unique index also serves each tenant's calendar read.
    __table_args__ = (UniqueConstraint("tenant_id", "day", name="uq_workday_overrides_tenant_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date]
    working: Mapped[bool]  # True: a working day (调休上班); False: a day off (放假)
    note: Mapped[str] = mapped_column(String(NOTE_MAX), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
