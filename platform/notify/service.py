"""Actions on notifications: notify a user (with the outbound messages), mark read.

``notify`` runs in the caller's transaction, so the notification and its outbox rows are
committed together with the business change they report, or not at all (a transactional
outbox). After the commit the delivery job is asked to run at once; its periodic run catches
up whatever that missed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from renda.platform import jobs
from renda.platform.access.policy import Principal
from renda.platform.db import utcnow
from renda.platform.errors import NotFound
from renda.platform.identity.models import User
from renda.platform.notify.models import CHANNELS, Notification, OutboxMessage
from renda.platform.notify.outbox import DELIVER_JOB

_DELIVER_AFTER_COMMIT = "renda.notify.deliver_after_commit"


def notify(
    session: Session,
    tenant_id: int,
    user_id: int,
    kind: str,
    title: str,
    body: str = "",
    link: str | None = None,
    dedupe_key: str | None = None,
    *,
    params: dict[str, Any] | None = None,
    channels: Iterable[str] = ("webhook",),
    now: dt.datetime | None = None,
) -> Notification:
    """Put a notification in the user's inbox and queue it for each outbound channel.

    ``title`` and ``body`` are English msgids (marked with ``N_``) with ``%(name)s`` fields filled
    from ``params`` when shown, in the reader's language. With a ``dedupe_key`` the call is
    idempotent per tenant and user: a second call with the same key returns the first
    notification and queues nothing more, even when two transactions race.

    Channels: ``sms`` goes to the user's phone (skipped when they have none), ``wechat`` and
    ``webhook`` to their user name, which the gateway maps to its own addresses.
    """
    channels = tuple(channels)
    unknown = set(channels) - set(CHANNELS)
    if unknown:
        raise ValueError(f"unknown notification channels: {sorted(unknown)}")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user")
    values = {
        "tenant_id": tenant_id, "user_id": user_id, "kind": kind, "title": title, "body": body,
        "params": dict(params or {}), "link": link, "dedupe_key": dedupe_key, "created_at": now or utcnow(),
    }
    notification = _insert_once(session, values)
    if notification is None:  # created before, by this call's twin
        return _existing(session, tenant_id, user_id, dedupe_key)
    payload = {"user_id": user_id, "username": user.username, "kind": kind, "title": title, "body": body,
               "params": notification.params, "link": link, "language": user.language}
    for channel in channels:
        recipient = user.phone if channel == "sms" else user.username
        if not recipient:
            continue
        _deliver_after_commit(session)
        session.add(OutboxMessage(
            tenant_id=tenant_id, notification_id=notification.id, channel=channel, recipient=recipient,
            payload=payload, next_attempt_at=values["created_at"],
            idempotency_key=_idempotency_key(tenant_id, user_id, dedupe_key, channel),
        ))
    return notification


def _insert_once(session: Session, values: dict[str, Any]) -> Notification | None:
    """Insert the notification; None when its dedupe key exists already (ON CONFLICT DO NOTHING)."""
    if values["dedupe_key"] is None:
        notification = Notification(**values)
        session.add(notification)
        session.flush()
        return notification
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    stmt = (insert(Notification).values(**values)
            .on_conflict_do_nothing(index_elements=["tenant_id", "user_id", "dedupe_key"])
            .returning(Notification.id))
    new_id = session.execute(stmt).scalar_one_or_none()
    return None if new_id is None else session.get(Notification, new_id)


def _existing(session: Session, tenant_id: int, user_id: int, dedupe_key: str | None) -> Notification:
    stmt = select(Notification).where(Notification.tenant_id == tenant_id, Notification.user_id == user_id,
                                      Notification.dedupe_key == dedupe_key)
    return session.scalars(stmt).one()


def _idempotency_key(tenant_id: int, user_id: int, dedupe_key: str | None, channel: str) -> str:
    """The same reminder gets the same key, even from another transaction; others a random one."""
    if dedupe_key is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{tenant_id}\x1f{user_id}\x1f{dedupe_key}\x1f{channel}".encode()).hexdigest()[:40]


def _deliver_after_commit(session: Session) -> None:
    if session.info.get(_DELIVER_AFTER_COMMIT):
        return
    session.info[_DELIVER_AFTER_COMMIT] = True

    def request_delivery(committed: Session) -> None:
        committed.info.pop(_DELIVER_AFTER_COMMIT, None)
        jobs.request_run(DELIVER_JOB)

    event.listen(session, "after_commit", request_delivery, once=True)


def access_notification(session: Session, actor: Principal, notification_id: int) -> Notification:
    """The actor's own notification; anyone else's answers as a missing one does."""
    stmt = select(Notification).where(Notification.id == notification_id, Notification.user_id == actor.user_id)
    notification = session.scalars(stmt).first()
    if notification is None:
        raise NotFound("notification")
    return notification


def mark_read(session: Session, actor: Principal, notification_id: int, now: dt.datetime | None = None,
              ) -> Notification:
    notification = access_notification(session, actor, notification_id)
    if notification.read_at is None:
        notification.read_at = now or utcnow()
    return notification


def mark_all_read(session: Session, actor: Principal, now: dt.datetime | None = None) -> int:
    """Mark every unread notification of the actor read, in all their tenants; returns how many."""
    stmt = (update(Notification)
            .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
            .values(read_at=now or utcnow())
            .execution_options(synchronize_session="fetch"))
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]
