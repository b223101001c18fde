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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy import insert as insert_orm
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from renda.platform import jobs
from renda.platform.access.policy import Principal
from renda.platform.db import utcnow
from renda.platform.errors import NotFound
from renda.platform.identity.models import User
from renda.platform.notify.models import CHANNELS, PENDING, Notification, OutboxMessage, Subject
from renda.platform.notify.outbox import DELIVER_JOB
from renda.platform.numbers import is_id

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
    subject: Subject | None = None,
    channels: Iterable[str] = ("webhook",),
    now: dt.datetime | None = None,
) -> Notification:
    """Put a notification in the user's inbox and queue it for each outbound channel.

    ``title`` and ``body`` are English msgids (marked with ``N_``) with ``%(name)s`` fields filled
    from ``params`` when shown, in the reader's language. ``subject`` names what it is about (the
    web layer links it to its page); ``link`` is a path for a notification without one. With a
    ``dedupe_key`` the call is idempotent per tenant and user: a second call with the same key returns
    the first notification and queues nothing more, even when two transactions race.

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
        "subject_type": subject.type if subject else None, "subject_id": subject.id if subject else None,
    }
    notification = _insert_once(session, values)
    if notification is None:  # created before, by this call's twin
        return _existing(session, tenant_id, user_id, dedupe_key)
    payload = _payload(user, kind, title, body, notification.params, link, subject)
    for channel in channels:
        recipient = _recipient(user, channel)
        if not recipient:
            continue
        _deliver_after_commit(session)
        session.add(OutboxMessage(
            tenant_id=tenant_id, notification_id=notification.id, channel=channel, recipient=recipient,
            payload=payload, next_attempt_at=values["created_at"],
            idempotency_key=_idempotency_key(tenant_id, user_id, dedupe_key, channel),
        ))
    return notification


@dataclass(frozen=True)
class Note:
    """One notification of a batch (see notify_many); the fields mean what notify's arguments mean."""

    tenant_id: int
    user_id: int
    kind: str
    title: str
    body: str
    dedupe_key: str
    link: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    subject: Subject | None = None


BATCH = 500  # rows per INSERT: well under either database's bound-parameter limit


def notify_many(session: Session, notes: Sequence[Note], *, channels: Iterable[str] = ("webhook",),
                now: dt.datetime | None = None, outbound: Callable[[User], bool] | None = None) -> list[Note]:
    """notify() for many notifications at once, each with a dedupe key; returns those that were new.

    The same rows as notify() would write, in a few statements whatever the number: the users in one
    read, the notifications by INSERT … ON CONFLICT DO NOTHING RETURNING (an existing key is skipped,
    even one another transaction is inserting), and their outbox rows in one executemany. For sweeps
    that catch up on thousands of reminders in one transaction. ``outbound``: queue the channels' messages
    only for the users it accepts (the others find the notification in their inbox).
    """
    channels = tuple(channels)
    unknown = set(channels) - set(CHANNELS)
    if unknown:
        raise ValueError(f"unknown notification channels: {sorted(unknown)}")
    if not notes:
        return []
    created = now or utcnow()
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(sorted({n.user_id for n in notes}))))}
    wanted = {(n.tenant_id, n.user_id, n.dedupe_key): n for n in notes if n.user_id in users}
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    new: list[tuple[int, Note]] = []
    rows = [{"tenant_id": n.tenant_id, "user_id": n.user_id, "kind": n.kind, "title": n.title, "body": n.body,
             "params": dict(n.params), "link": n.link, "dedupe_key": n.dedupe_key, "created_at": created,
             "subject_type": n.subject.type if n.subject else None, "subject_id": n.subject.id if n.subject else None}
            for n in wanted.values()]
    for start in range(0, len(rows), BATCH):
        stmt = (insert(Notification).values(rows[start:start + BATCH])
                .on_conflict_do_nothing(index_elements=["tenant_id", "user_id", "dedupe_key"])
                .returning(Notification.id, Notification.tenant_id, Notification.user_id, Notification.dedupe_key))
        new += [(i, wanted[(t, u, k or "")]) for i, t, u, k in session.execute(stmt)]
    outbox = [
        {"tenant_id": n.tenant_id, "notification_id": notification_id, "channel": channel, "recipient": recipient,
         "payload": _payload(users[n.user_id], n.kind, n.title, n.body, dict(n.params), n.link, n.subject),
         "next_attempt_at": created, "status": PENDING, "attempts": 0, "created_at": created,
         "idempotency_key": _idempotency_key(n.tenant_id, n.user_id, n.dedupe_key, channel)}
        for notification_id, n in new for channel in channels
        if (outbound is None or outbound(users[n.user_id])) and (recipient := _recipient(users[n.user_id], channel))
    ]
    if outbox:
        _deliver_after_commit(session)
        session.execute(insert_orm(OutboxMessage), outbox)
    return [n for _, n in new]


def _recipient(user: User, channel: str) -> str | None:
    return user.phone if channel == "sms" else user.username


def _payload(user: User, kind: str, title: str, body: str, params: dict[str, Any], link: str | None,
             subject: Subject | None) -> dict[str, Any]:
    """What the delivery job needs later: the texts' msgids and parameters, and the subject it links."""
    return {"user_id": user.id, "username": user.username, "kind": kind, "title": title, "body": body,
            "params": params, "link": link, "language": user.language,
            "subject": {"type": subject.type, "id": subject.id} if subject else None}


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
    if not is_id(notification_id):
        raise NotFound("notification")
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


def mark_read_with_its_subject(session: Session, actor: Principal, notification_id: int,
                               now: dt.datetime | None = None) -> Notification:
    """Mark one notification read, and the actor's other unread ones about the same subject in the same
    tenant: opening the record shows what each of them told."""
    notification = mark_read(session, actor, notification_id, now)
    subject = notification.subject
    if subject is not None:
        session.execute(update(Notification)
                        .where(Notification.user_id == actor.user_id, Notification.tenant_id == notification.tenant_id,
                               Notification.subject_type == subject.type, Notification.subject_id == subject.id,
                               Notification.read_at.is_(None))
                        .values(read_at=notification.read_at)
                        .execution_options(synchronize_session="fetch"))
    return notification


def mark_all_read(session: Session, actor: Principal, now: dt.datetime | None = None) -> int:
    """Mark every unread notification of the actor read, in all their tenants; returns how many."""
    stmt = (update(Notification)
            .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
            .values(read_at=now or utcnow())
            .execution_options(synchronize_session="fetch"))
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]
