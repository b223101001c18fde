"""notify(): one inbox entry and its outbox rows per reminder, in the caller's transaction; each user
reads and marks only their own notifications, in every tenant they are notified in."""

from __future__ import annotations

import secrets
import threading
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from renda.platform.db import Database, OutOfScopeWrite, Scope, set_scope
from renda.platform.errors import N_, NotFound
from renda.platform.identity.models import User
from renda.platform.notify import queries
from renda.platform.notify.models import Notification, OutboxMessage
from renda.platform.notify.service import (
    BATCH,
    Note,
    access_notification,
    mark_all_read,
    mark_read,
    notify,
    notify_many,
)

OVERDUE = N_("Suggestion %(number)s is overdue")
OVERDUE_BODY = N_("It was due on %(date)s.")


def counts(session: Session, tenant_id: int, dedupe_key: str) -> tuple[int, int]:
    """Notifications and outbox rows of one reminder, as the system sees them."""
    notifications = session.scalar(select(func.count()).select_from(Notification).where(
        Notification.tenant_id == tenant_id, Notification.dedupe_key == dedupe_key))
    outbox = session.scalar(select(func.count()).select_from(OutboxMessage).join(
        Notification, Notification.id == OutboxMessage.notification_id).where(
        Notification.tenant_id == tenant_id, Notification.dedupe_key == dedupe_key))
    return notifications or 0, outbox or 0


def test_the_same_reminder_twice_makes_one_notification_and_one_outbox_row(
        open_session: Any, principal_of: Any, cast: Any) -> None:
    session = open_session()
    principal_of(session, "tiandong_admin")  # notify() runs inside a staff member's action
    first = notify(session, cast.tenant.tiandong, cast.user.tiandong_deputy, "suggestion.overdue", OVERDUE,
                   OVERDUE_BODY, "/t/tiandong/suggestions/7", "suggestion:7:overdue",
                   params={"number": "2026-7", "date": "2026-11-20"})
    again = notify(session, cast.tenant.tiandong, cast.user.tiandong_deputy, "suggestion.overdue", OVERDUE,
                   OVERDUE_BODY, "/t/tiandong/suggestions/7", "suggestion:7:overdue",
                   params={"number": "2026-7", "date": "2026-11-20"})
    assert again.id == first.id
    session.commit()  # and in a later transaction too
    notify(session, cast.tenant.tiandong, cast.user.tiandong_deputy, "suggestion.overdue", OVERDUE,
           OVERDUE_BODY, None, "suggestion:7:overdue", params={"number": "2026-7", "date": "2026-11-20"})
    assert counts(session, cast.tenant.tiandong, "suggestion:7:overdue") == (1, 1)
    row = session.scalars(select(OutboxMessage).where(OutboxMessage.notification_id == first.id)).one()
    assert (row.status, row.attempts, row.channel) == ("pending", 0, "webhook")
    assert row.payload["title"] == OVERDUE and row.payload["params"]["number"] == "2026-7"


def test_the_same_key_for_two_people_is_two_reminders(open_session: Any, cast: Any) -> None:
    session = open_session(Scope.system())
    for user in (cast.user.tiandong_deputy, cast.user.tiandong_handler):
        notify(session, cast.tenant.tiandong, user, "suggestion.overdue", OVERDUE, "", None, "suggestion:8:overdue",
               params={"number": "8"})
    assert counts(session, cast.tenant.tiandong, "suggestion:8:overdue") == (2, 2)


def test_a_batch_writes_what_notify_would_once_and_skips_the_keys_sent_before(open_session: Any, cast: Any) -> None:
    """notify_many: more rows than one INSERT takes, a key notify() sent before, and the batch again."""
    session = open_session(Scope.system())
    tag = secrets.token_hex(3)
    before = notify(session, cast.tenant.tiandong, cast.user.tiandong_deputy, "suggestion.overdue", OVERDUE,
                    OVERDUE_BODY, None, f"{tag}:0", params={"number": "0"})
    notes = [Note(cast.tenant.tiandong, user, "suggestion.overdue", OVERDUE, OVERDUE_BODY, f"{tag}:{i}",
                  link=f"/t/tiandong/suggestions/{i}", params={"number": str(i)})
             for i in range(BATCH + 20) for user in (cast.user.tiandong_deputy, cast.user.tiandong_handler)]
    new = notify_many(session, notes)
    assert len(new) == len(notes) - 1 and notes[0] not in new  # the deputy's key 0 came from notify()
    assert notify_many(session, notes) == []  # a second sweep adds nothing
    session.commit()
    assert notify_many(session, notes[:3]) == []  # nor in a later transaction

    mine = session.scalars(select(Notification).where(Notification.dedupe_key.like(f"{tag}:%"))).all()
    assert len(mine) == len(notes) and before.id in {n.id for n in mine}
    rows = session.scalars(select(OutboxMessage).join(Notification, Notification.id == OutboxMessage.notification_id)
                           .where(Notification.dedupe_key.like(f"{tag}:%"))).all()
    assert len(rows) == len(notes) and len({r.idempotency_key for r in rows}) == len(notes)
    one = next(r for r in rows if r.payload["params"] == {"number": "7"} and r.payload["user_id"] ==
               cast.user.tiandong_handler)
    assert (one.status, one.attempts, one.channel, one.payload["link"]) == ("pending", 0, "webhook",
                                                                          "/t/tiandong/suggestions/7")


def test_without_a_key_every_call_notifies(open_session: Any, cast: Any) -> None:
    session = open_session(Scope.system())
    a = notify(session, cast.tenant.tiandong, cast.user.tiandong_deputy, "note", N_("Hello"))
    b = notify(session, cast.tenant.tiandong, cast.user.tiandong_deputy, "note", N_("Hello"))
    assert a.id != b.id


def test_sms_goes_to_the_phone_and_is_skipped_without_one(open_session: Any, cast: Any) -> None:
    session = open_session(Scope.system())
    deputy = session.get_one(User, cast.user.tiandong_deputy)
    deputy.phone = "13907761234"
    handler = session.get_one(User, cast.user.tiandong_handler)
    handler.phone = ""
    for user in (deputy, handler):
        notify(session, cast.tenant.tiandong, user.id, "note", N_("Hello"), dedupe_key="sms-test",
               channels=("sms", "wechat"))
    rows = session.execute(select(OutboxMessage.channel, OutboxMessage.recipient).join(
        Notification, Notification.id == OutboxMessage.notification_id).where(
        Notification.dedupe_key == "sms-test").order_by(OutboxMessage.id)).all()
    assert [tuple(r) for r in rows] == [("sms", "13907761234"), ("wechat", deputy.username),
                                        ("wechat", handler.username)]
    with pytest.raises(ValueError, match="unknown"):
        notify(session, cast.tenant.tiandong, deputy.id, "note", N_("Hello"), channels=("fax",))


def test_the_texts_are_shown_in_the_readers_language(open_session: Any, cast: Any) -> None:
    session = open_session(Scope.system())
    n = notify(session, cast.tenant.tiandong, cast.user.tiandong_deputy, "suggestion.overdue", OVERDUE,
               OVERDUE_BODY, params={"number": "2026-7", "date": "2026-11-20"})
    chinese = {OVERDUE: "第%(number)s号建议已超期", OVERDUE_BODY: "办理期限为%(date)s。"}
    assert n.render(lambda m: chinese.get(m, m)) == ("第2026-7号建议已超期", "办理期限为2026-11-20。")
    assert n.render(lambda m: m) == ("Suggestion 2026-7 is overdue", "It was due on 2026-11-20.")


def test_a_user_reads_and_marks_only_their_own_notifications(
        open_session: Any, principal_of: Any, cast: Any) -> None:
    session = open_session(Scope.system())
    mine = notify(session, cast.tenant.tiandong, cast.user.tiandong_admin, "note", N_("Hello"))
    theirs = notify(session, cast.tenant.tiandong, cast.user.tiandong_deputy, "note", N_("Hello"))

    admin = principal_of(session, "tiandong_admin")  # sees all of Tiandong's rows, yet not the deputy's inbox
    with pytest.raises(NotFound):
        access_notification(session, admin, theirs.id)
    with pytest.raises(NotFound):
        mark_read(session, admin, theirs.id)
    assert mark_all_read(session, admin) >= 1
    assert mark_read(session, admin, mine.id).read_at is not None
    assert theirs.id not in {e.notification.id for e in queries.inbox(session, admin.user_id, per_page=500).entries}
    assert queries.unread_count(session, admin.user_id) == 0
    session.flush()

    set_scope(session, Scope.system())
    session.expire_all()
    assert session.get_one(Notification, theirs.id).read_at is None  # untouched by the admin's "all read"


def test_the_inbox_spans_the_recipients_tenants(open_session: Any, principal_of: Any, cast: Any) -> None:
    """Pingguo notifies a Tiandong deputy (e.g. a joint-station matter): Pingguo is outside the
    deputy's visible set, yet the notification is theirs to read and mark read."""
    session = open_session(Scope.system())
    elsewhere = notify(session, cast.tenant.pingguo, cast.user.tiandong_deputy, "note", N_("Hello"))

    deputy = principal_of(session, "tiandong_deputy")
    assert not deputy.scope.sees_tenant(cast.tenant.pingguo)
    page = queries.inbox(session, deputy.user_id, per_page=500)
    entry = next(e for e in page.entries if e.notification.id == elsewhere.id)
    assert entry.tenant_name == "平果市人大常委会"
    mark_read(session, deputy, elsewhere.id)
    session.flush()  # the ORM lets the recipient write it, and on PostgreSQL so does row-level security

    set_scope(session, Scope.system())
    session.expire_all()
    assert session.get_one(Notification, elsewhere.id).read_at is not None


def test_a_recipient_cannot_create_notifications_outside_their_tenants(
        open_session: Any, principal_of: Any, cast: Any) -> None:
    session = open_session()
    principal_of(session, "tiandong_deputy")
    with pytest.raises(OutOfScopeWrite):
        notify(session, cast.tenant.pingguo, cast.user.tiandong_deputy, "note", N_("Hello"))


@pytest.mark.postgres
def test_row_level_security_confines_notifications_to_tenant_and_recipient(db: Database, cast: Any) -> None:
    """Raw SQL under a deputy's scope: their own rows in any tenant; others' only in visible tenants."""
    with db.session(Scope.system()) as setup:
        own_elsewhere = notify(setup, cast.tenant.pingguo, cast.user.tiandong_deputy, "note", N_("Hello")).id
        other_elsewhere = notify(setup, cast.tenant.pingguo, cast.user.pingguo_deputy, "note", N_("Hello")).id
    try:
        with db.engine.connect() as conn:
            tx = conn.begin()
            conn.execute(text("SELECT set_config('renda.tenant_ids', :t, true), set_config('renda.user_id', :u, true)"),
                         {"t": "{" + str(cast.tenant.tiandong) + "}", "u": str(cast.user.tiandong_deputy)})
            ids = {"a": own_elsewhere, "b": other_elsewhere}
            assert set(conn.scalars(text("SELECT id FROM notifications WHERE id IN (:a, :b)"), ids)) == {own_elsewhere}
            marked = conn.execute(text("UPDATE notifications SET read_at = now() WHERE id IN (:a, :b)"), ids)
            assert marked.rowcount == 1
            assert conn.scalar(text("SELECT count(*) FROM outbox_messages WHERE notification_id IN (:a, :b)"),
                               ids) == 0  # outbox rows keep to their tenant
            savepoint = conn.begin_nested()
            with pytest.raises(DBAPIError, match="row-level security"):
                conn.execute(text("INSERT INTO notifications (tenant_id, user_id, kind, title, body, params,"
                                  " created_at) VALUES (:p, :u, 'note', 'Hello', '', '{}', now())"),
                             {"p": cast.tenant.pingguo, "u": cast.user.tiandong_deputy})
            savepoint.rollback()
            tx.rollback()
    finally:
        with db.session(Scope.system()) as cleanup:
            _delete(cleanup, [own_elsewhere, other_elsewhere])


def _delete(session: Session, notification_ids: list[int]) -> None:
    session.execute(delete(OutboxMessage).where(OutboxMessage.notification_id.in_(notification_ids)))
    session.execute(delete(Notification).where(Notification.id.in_(notification_ids)))


@pytest.mark.postgres
def test_two_transactions_racing_with_one_key_make_one_notification(db: Database, cast: Any) -> None:
    key = f"race:{secrets.token_hex(4)}"
    args = (cast.tenant.tiandong, cast.user.tiandong_deputy, "note", N_("Hello"), "", None, key)
    try:
        with db.session(Scope.system()) as first:
            created = notify(first, *args)
            second_result: list[int] = []

            def second() -> None:  # blocks on the uncommitted twin, then finds it
                with db.session(Scope.system()) as other:
                    second_result.append(notify(other, *args).id)

            racer = threading.Thread(target=second)
            racer.start()
            racer.join(0.5)
            assert racer.is_alive()  # waiting for the first transaction
        racer.join(10)
        assert second_result == [created.id]
        with db.session(Scope.system()) as check:
            assert counts(check, cast.tenant.tiandong, key) == (1, 1)
    finally:
        with db.session(Scope.system()) as cleanup:
            _delete(cleanup, list(cleanup.scalars(select(Notification.id).where(Notification.dedupe_key == key))))
