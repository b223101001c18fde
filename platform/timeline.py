"""The timeline of a tenant-owned record: every step as an event, never overwritten.

Suggestions, citizens' opinions and projects share this one table; an event names its subject by
type and id, who acted, what they did, and the step's details (a note, a reply class, attachments).
The migration makes the table append-only on both backends.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from renda.platform.db import Base, TenantOwned, utcnow


class TimelineEvent(TenantOwned, Base):
    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_events_subject", "tenant_id", "subject_type", "subject_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(48))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


def record(session: Session, *, tenant_id: int, subject_type: str, subject_id: int, actor_id: int | None,
           action: str, data: dict[str, Any] | None = None, at: dt.datetime | None = None) -> TimelineEvent:
    event = TimelineEvent(tenant_id=tenant_id, subject_type=subject_type, subject_id=subject_id,
                          actor_user_id=actor_id, action=action, data=data or {}, at=at or utcnow())
    session.add(event)
    return event


def events(session: Session, tenant_id: int, subject_type: str, subject_id: int) -> list[TimelineEvent]:
    stmt = (select(TimelineEvent)
            .where(TimelineEvent.tenant_id == tenant_id, TimelineEvent.subject_type == subject_type,
                   TimelineEvent.subject_id == subject_id)
            .order_by(TimelineEvent.at, TimelineEvent.id))
    return list(session.scalars(stmt))
