"""Reads for the inbox: one page of a user's notifications, and the header's unread count."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renda.platform.notify.models import Notification
from renda.platform.tenancy.models import Tenant

PER_PAGE = 20


@dataclass(frozen=True)
class InboxEntry:
    notification: Notification
    tenant_name: str
    tenant_name_en: str
    tenant_slug: str  # the subject's pages are the tenant's


@dataclass(frozen=True)
class InboxPage:
    entries: list[InboxEntry]
    page: int
    has_next: bool


def inbox(session: Session, user_id: int, page: int = 1, per_page: int = PER_PAGE) -> InboxPage:
    """The user's notifications across their tenants, newest first, in one statement."""
    page = max(page, 1)
    stmt = (select(Notification, Tenant.name, Tenant.name_en, Tenant.slug)
            .join(Tenant, Tenant.id == Notification.tenant_id)
            .where(Notification.user_id == user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .offset((page - 1) * per_page).limit(per_page + 1))
    rows = session.execute(stmt).all()
    entries = [InboxEntry(n, name, name_en, slug) for n, name, name_en, slug in rows[:per_page]]
    return InboxPage(entries, page, has_next=len(rows) > per_page)


def entry_of(session: Session, notification: Notification) -> InboxEntry:
    """One notification (the caller has checked it is the reader's) with its tenant's names."""
    tenant = session.get_one(Tenant, notification.tenant_id)
    return InboxEntry(notification, tenant.name, tenant.name_en, tenant.slug)


def unread_count(session: Session, user_id: int) -> int:
    stmt = select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))
    return int(session.scalar(stmt) or 0)
