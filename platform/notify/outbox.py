"""Delivering the outbox to the gateway webhook: at least once, never again after a success.

Each due message is POSTed as JSON to ``settings.notify_webhook_url`` with an ``Idempotency-Key``
header that stays the same on every attempt. A 2xx answer marks it sent; anything else (an error
status, a refused connection, a timeout) schedules the next attempt after an exponential backoff,
until the last allowed attempt marks it failed. On PostgreSQL a message is taken with
``SELECT … FOR UPDATE SKIP LOCKED`` and its lock held while it is posted, so concurrent workers
never post the same message twice; an embedded SQLite database has one process, whose workers
take turns. The message's link is built by the web layer from its subject (``link_for``, given by
the process that runs the job), and made absolute with ``settings.public_url``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform import jobs
from renda.platform.config import Settings
from renda.platform.db import Database, Scope, utcnow
from renda.platform.errors import Message
from renda.platform.notify.models import FAILED, PENDING, SENT, OutboxMessage, Subject
from renda.platform.tenancy.models import Tenant

log = logging.getLogger("renda.notify")

DELIVER_JOB = "notify.deliver"
GettextFor = Callable[[str | None], Callable[[str], str]]
LinkFor = Callable[[str, Subject], str | None]  # (tenant slug, subject) -> a path of the pages, if it has one

_embedded_turns = threading.Lock()


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __bool__(self) -> bool:
        return bool(self.sent or self.retried or self.failed)


def backoff(attempts: int, settings: Settings) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: base, 2·base, 4·base … at most cap."""
    seconds = settings.notify_retry_base_seconds * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.notify_retry_cap_seconds))


def deliver_due(db: Database, settings: Settings, *, gettext_for: GettextFor | None = None,
                link_for: LinkFor | None = None, now: dt.datetime | None = None, limit: int | None = None,
                ) -> DeliveryReport:
    """Deliver the messages due at ``now`` (default: the clock at each message), oldest first.

    Without a webhook URL nothing is delivered and the messages wait.
    """
    report = DeliveryReport()
    url = settings.notify_webhook_url
    if not url:
        return report
    texts = _Texts(gettext_for or (lambda language: lambda message: message),
                   link_for or (lambda slug, subject: None))
    postgres = db.engine.dialect.name == "postgresql"
    with httpx.Client(timeout=settings.notify_webhook_timeout_seconds) as client:
        for _ in range(limit or settings.notify_batch_size):
            deliver = _deliver_locked if postgres else _deliver_in_turn
            outcome = deliver(db, settings, client, url, texts, now or utcnow())
            if outcome is None:
                break
            setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _next_due(session: Session, now: dt.datetime) -> OutboxMessage | None:
    stmt = (select(OutboxMessage)
            .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True))  # rendered on PostgreSQL only
    return session.scalars(stmt).first()


@dataclass(frozen=True)
class _Texts:
    """How a message's texts and link are made: the web layer's catalogs and page addresses."""

    gettext_for: GettextFor
    link_for: LinkFor


def _deliver_locked(db: Database, settings: Settings, client: httpx.Client, url: str, texts: _Texts,
                    now: dt.datetime) -> str | None:
    """PostgreSQL: the row stays locked from choosing it to recording the answer."""
    with db.session(Scope.system(), write=True) as session:
        message = _next_due(session, now)
        if message is None:
            return None
        return _record(message, _post(client, url, message, _link(session, message, texts), settings, texts),
                       now, settings)


def _deliver_in_turn(db: Database, settings: Settings, client: httpx.Client, url: str, texts: _Texts,
                     now: dt.datetime) -> str | None:
    """SQLite: no transaction stays open during the request (it would hold up every writer)."""
    with _embedded_turns:
        with db.session(Scope.system()) as session:
            message = _next_due(session, now)
            if message is None:
                return None
            link = _link(session, message, texts)
        error = _post(client, url, message, link, settings, texts)
        with db.session(Scope.system(), write=True) as session:
            return _record(session.get_one(OutboxMessage, message.id), error, now, settings)


class _Undeliverable(Exception):
    """The message cannot be sent as it stands (its texts do not render): retrying will not help."""


def _link(session: Session, message: OutboxMessage, texts: _Texts) -> str | None:
    """The page the message is about: from its subject (in its tenant), else the path it was given."""
    subject = message.payload.get("subject")
    if isinstance(subject, dict) and subject.get("type") and isinstance(subject.get("id"), int):
        tenant = session.get(Tenant, message.tenant_id)
        built = texts.link_for(tenant.slug, Subject(str(subject["type"]), subject["id"])) if tenant else None
        if built:
            return built
    link = message.payload.get("link")
    return link if isinstance(link, str) and link else None


def _post(client: httpx.Client, url: str, message: OutboxMessage, link: str | None, settings: Settings,
          texts: _Texts) -> str | _Undeliverable | None:
    """None when the gateway took it; else what went wrong."""
    try:
        body = _body(message, link, settings, texts.gettext_for)
    except (KeyError, TypeError, ValueError) as exc:
        return _Undeliverable(f"cannot render the message: {exc!r}")
    try:
        response = client.post(url, json=body, headers={"Idempotency-Key": message.idempotency_key})
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if response.is_success:
        return None
    return f"HTTP {response.status_code}: {response.text[:200]}"


def _record(message: OutboxMessage, error: str | _Undeliverable | None, now: dt.datetime,
            settings: Settings) -> str:
    message.attempts += 1
    if error is None:
        message.status, message.sent_at, message.last_error = SENT, now, None
        return "sent"
    message.last_error = str(error)[:2000]
    if isinstance(error, _Undeliverable) or message.attempts >= settings.notify_max_attempts:
        message.status = FAILED
        log.warning("outbox message %s failed for good after %s attempts: %s", message.id, message.attempts, error)
        return "failed"
    message.next_attempt_at = now + backoff(message.attempts, settings)
    return "retried"


def _body(message: OutboxMessage, link: str | None, settings: Settings, gettext_for: GettextFor) -> dict[str, Any]:
    """What the gateway receives: the texts rendered in the recipient's language, the page's address."""
    payload = message.payload
    language = payload.get("language") or settings.language
    gettext = gettext_for(language)
    params = payload.get("params") or {}
    if link and settings.public_url:
        link = settings.public_url.rstrip("/") + link
    return {
        "id": message.idempotency_key,
        "channel": message.channel,
        "recipient": message.recipient,
        "tenant_id": message.tenant_id,
        "user_id": payload.get("user_id"),
        "username": payload.get("username"),
        "kind": payload.get("kind"),
        "title": Message(payload["title"], **params).render(gettext),
        "body": Message(payload["body"], **params).render(gettext) if payload.get("body") else "",
        "link": link,
        "subject": payload.get("subject"),
        "language": language,
        "created_at": message.created_at.isoformat(),
    }


# Every minute, and at once after a commit that wrote outbox messages (see service.notify).
@jobs.job(DELIVER_JOB, cron="* * * * *")
def deliver_job(ctx: jobs.JobContext) -> None:
    report = deliver_due(ctx.db, ctx.settings, gettext_for=ctx.gettext, link_for=ctx.link_for)
    if report:
        log.info("outbox: %s sent, %s to retry, %s failed", report.sent, report.retried, report.failed)

