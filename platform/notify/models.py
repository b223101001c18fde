"""Notification (a user's inbox entry) and OutboxMessage (its trip through an outbound gateway).

Texts are stored as English msgids with their parameters and rendered when shown, in the
reader's language. A notification names what it is about (its subject: a type and an id, in its
tenant); the web layer turns that into the page to open, so the platform and the business modules
never write a URL. A notification is also readable and markable by its recipient in a tenant
outside their visible set (the inbox spans all of a user's tenants); the table's row-level
security policy says the same (migration 0003).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, inspect, or_
from sqlalchemy.orm import Mapped, mapped_column

from renda.platform.db import Base, Scope, ScopeFilter, TenantOwned, utcnow
from renda.platform.errors import Message

CHANNELS = ("sms", "wechat", "webhook")
PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass(frozen=True)
class Subject:
    """What a notification is about, e.g. Subject("suggestion", 7) (in the notification's tenant)."""

    type: str
    id: int


class Notification(TenantOwned, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # The same reminder is never created twice for the same person (notify() relies on it).
        UniqueConstraint("tenant_id", "user_id", "dedupe_key", name="uq_notifications_tenant_user_dedupe"),
        # The inbox lists one user's notifications across tenants, as ix_grants_user does for grants.
        Index("ix_notifications_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))  # e.g. suggestion.assigned, suggestion.overdue
    title: Mapped[str] = mapped_column(String(255))  # msgid
    body: Mapped[str] = mapped_column(Text, default="")  # msgid
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)  # for both msgids' %(name)s fields
    # What it is about; the web layer builds the link (renda.web.links). ``link`` holds a path for those
    # without a subject (and those written before subjects existed).
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None]
    link: Mapped[str | None] = mapped_column(String(512))  # a path inside Renda, e.g. /t/tiandong/suggestions/7
    dedupe_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]

    @classmethod
    def scope_filter(cls, scope: Scope) -> ScopeFilter:
        tenants, me = sorted(scope.tenant_ids), scope.user_id or -1
        return lambda c: or_(c.tenant_id.in_(tenants), c.user_id == me)

    def readable_in(self, scope: Scope) -> bool:
        return super().readable_in(scope) or (scope.user_id is not None and self.user_id == scope.user_id)

    def writable_in(self, scope: Scope) -> bool:
        """The recipient may mark their own notification read, never create one or move it."""
        if super().writable_in(scope):
            return True
        moved = inspect(self).attrs.tenant_id.history.has_changes()
        return self.id is not None and scope.user_id is not None and self.user_id == scope.user_id and not moved

    @property
    def subject(self) -> Subject | None:
        if self.subject_type is None or self.subject_id is None:
            return None
        return Subject(self.subject_type, self.subject_id)

    def render(self, gettext: Callable[[str], str]) -> tuple[str, str]:
        """Title and body in the language of ``gettext``."""
        title = Message(self.title, **self.params).render(gettext)
        body = Message(self.body, **self.params).render(gettext) if self.body else ""
        return title, body


class OutboxMessage(TenantOwned, Base):
    """One message for one outbound channel, written in the transaction of the change it reports.

    The worker delivers it to the configured gateway webhook (``renda.platform.notify.outbox``).
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_outbox_messages_tenant_idempotency_key"),
        # The delivery job scans every tenant's due messages at once.
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
        CheckConstraint("channel IN ('sms', 'wechat', 'webhook')", name="channel"),
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Sent as the Idempotency-Key header on every attempt, so a gateway can drop a repeat.
    idempotency_key: Mapped[str] = mapped_column(String(64))
