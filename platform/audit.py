"""The append-only audit log: who changed what, when, in which tenant, before and after.

Rows are never updated or deleted: the migration installs triggers that refuse it on both
PostgreSQL and SQLite, and the application role holds no UPDATE or DELETE privilege on it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from renda.platform.db import Base, TenantOwned, utcnow


class AuditEntry(TenantOwned, Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_at", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]


def record(
    session: Session,
    *,
    tenant_id: int,
    actor_id: int | None,
    action: str,
    obj: Any = None,
    object_type: str | None = None,
    object_id: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry; the caller's transaction makes it atomic with the change itself."""
    if obj is not None:
        object_type = object_type or type(obj).__tablename__
        session.flush()
        object_id = object_id if object_id is not None else obj.id
    entry = AuditEntry(
        tenant_id=tenant_id,
        actor_user_id=actor_id,
        action=action,
        object_type=object_type or "",
        object_id=str(object_id or ""),
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


def snapshot(obj: Any, *fields: str) -> dict[str, Any]:
    """The named attributes of a row, JSON-ready, for an entry's before/after."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = value.isoformat() if isinstance(value, dt.date) else value  # datetime is a date too
    return out
