"""Delivering the outbox to a gateway: a local HTTP receiver, started by each test, that fails and
recovers. Nothing is lost, nothing is sent twice, and the backoff follows the settings.

Time is controlled through ``now``: the tests' messages are due in 2001, long before any other
message in the shared database, so a delivery at a 2001 ``now`` touches only them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import delete, select, update

from renda.platform import jobs
from renda.platform.config import Settings
from renda.platform.db import Database, Scope
from renda.platform.errors import N_
from renda.platform.identity.models import User
from renda.platform.notify.models import Notification, OutboxMessage, Subject
from renda.platform.notify.outbox import backoff, deliver_due
from renda.platform.notify.service import notify

T0 = dt.datetime(2001, 1, 1, 8, 0, tzinfo=dt.UTC)
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Received:
    key: str
    body: dict[str, Any]
    status: int


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that answers with the scripted statuses (then 200) and keeps a log."""

    url: str = ""
    script: list[int] = field(default_factory=list)
    delay: float = 0.0
    log: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else 200

    def record(self, item: Received) -> None:
        with self.lock:
            self.log.append(item)

    def of(self, key: str) -> list[Received]:
        return [r for r in self.log if r.key == key]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            time.sleep(state.delay)
            status = state.next_status()
            state.record(Received(self.headers.get("Idempotency-Key", ""), body, status))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"no")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/gateway"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


def closed_port() -> int:
    """A port nothing listens on (a gateway that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def settings(database_url: str, redis_url: str | None, receiver: Receiver) -> Settings:
    return Settings(database_url=database_url, redis_url=redis_url, notify_webhook_url=receiver.url,
                    notify_retry_base_seconds=30, notify_retry_cap_seconds=600, notify_max_attempts=5,
                    jobs_queue=f"test_{secrets.token_hex(4)}", jobs_workers=1, secret_key="delivery-test")


@pytest.fixture
def messages(db: Database, cast: Any) -> Iterator[Callable[..., list[str]]]:
    """``messages(n, due=T0)``: commit n reminders for the Tiandong deputy; their idempotency keys.
    Removed after the test, with whatever they became."""
    made: list[int] = []

    def make(n: int = 1, due: dt.datetime | None = T0, title: str = N_("Suggestion %(number)s is overdue"),
             subject: str | None = None, **params: Any) -> list[str]:
        tag = secrets.token_hex(4)
        with db.session(Scope.system()) as session:
            ids = [notify(session, cast.tenant.tiandong, cast.user.tiandong_deputy, "suggestion.overdue", title,
                          "", None if subject else f"/t/tiandong/suggestions/{i}", f"test:{tag}:{i}",
                          params=params or {"number": str(i)}, subject=Subject(subject, i) if subject else None,
                          ).id for i in range(n)]
            made.extend(ids)
            if due is not None:
                session.execute(update(OutboxMessage).where(OutboxMessage.notification_id.in_(ids))
                                .values(next_attempt_at=due))
            return list(session.scalars(select(OutboxMessage.idempotency_key)
                                        .where(OutboxMessage.notification_id.in_(ids)).order_by(OutboxMessage.id)))

    yield make
    with db.session(Scope.system()) as session:
        session.execute(delete(OutboxMessage).where(OutboxMessage.notification_id.in_(made)))
        session.execute(delete(Notification).where(Notification.id.in_(made)))


def outbox(db: Database, key: str) -> OutboxMessage:
    with db.session(Scope.system()) as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()


def naive(moment: dt.datetime | None) -> dt.datetime | None:
    """Compare times across backends (SQLite returns naive UTC)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment and moment.tzinfo else moment


def test_a_failing_gateway_gets_the_message_once_it_recovers(
        db: Database, settings: Settings, receiver: Receiver, messages: Any) -> None:
    [key] = messages()
    receiver.script = [500, 500, 200]

    assert deliver_due(db, settings, now=T0).retried == 1
    row = outbox(db, key)
    assert (row.status, row.attempts) == ("pending", 1)
    assert naive(row.next_attempt_at) == naive(T0 + dt.timedelta(seconds=30))
    assert row.last_error and row.last_error.startswith("HTTP 500")

    assert not deliver_due(db, settings, now=T0 + dt.timedelta(seconds=29))  # not due yet: nothing sent
    assert len(receiver.of(key)) == 1

    assert deliver_due(db, settings, now=T0 + dt.timedelta(seconds=30)).retried == 1
    row = outbox(db, key)
    assert (row.attempts, naive(row.next_attempt_at)) == (2, naive(T0 + dt.timedelta(seconds=90)))  # 30 s, then 60 s

    assert deliver_due(db, settings, now=T0 + dt.timedelta(seconds=90)).sent == 1
    row = outbox(db, key)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert naive(row.sent_at) == naive(T0 + dt.timedelta(seconds=90))

    for later in (T0 + dt.timedelta(days=1), dt.datetime.now(dt.UTC) + dt.timedelta(days=1)):
        deliver_due(db, settings, now=later)
    calls = receiver.of(key)
    assert [c.status for c in calls] == [500, 500, 200]  # exactly one success, never sent again
    assert len(calls) == 3 and all(c.key == key for c in calls)  # the same Idempotency-Key every time
    assert calls[-1].body["title"] == "Suggestion 0 is overdue"
    assert calls[-1].body["recipient"] and calls[-1].body["channel"] == "webhook"


def test_a_gateway_that_cannot_be_reached_is_tried_again(
        db: Database, settings: Settings, receiver: Receiver, messages: Any) -> None:
    [key] = messages()
    down = settings.model_copy(update={"notify_webhook_url": f"http://127.0.0.1:{closed_port()}/gateway"})
    assert deliver_due(db, down, now=T0).retried == 1
    assert "ConnectError" in (outbox(db, key).last_error or "")
    assert deliver_due(db, settings, now=T0 + dt.timedelta(seconds=30)).sent == 1
    assert [c.status for c in receiver.of(key)] == [200]


def test_the_backoff_doubles_up_to_its_cap_and_the_last_attempt_fails_for_good(
        db: Database, settings: Settings, receiver: Receiver, messages: Any) -> None:
    assert [backoff(n, settings).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 480, 600]
    [key] = messages()
    receiver.script = [503] * 10
    now = T0
    for _ in range(settings.notify_max_attempts):
        deliver_due(db, settings, now=now)
        now += dt.timedelta(hours=1)
    row = outbox(db, key)
    assert (row.status, row.attempts) == ("failed", 5)
    assert row.last_error and row.last_error.startswith("HTTP 503")
    deliver_due(db, settings, now=now + dt.timedelta(days=1))
    assert len(receiver.of(key)) == 5


def test_without_a_gateway_the_messages_wait(db: Database, settings: Settings, receiver: Receiver,
                                             messages: Any) -> None:
    [key] = messages()
    assert not deliver_due(db, settings.model_copy(update={"notify_webhook_url": None}), now=T0)
    row = outbox(db, key)
    assert (row.status, row.attempts) == ("pending", 0)
    assert receiver.log == []


def test_the_gateway_gets_the_texts_in_the_recipients_language(
        db: Database, settings: Settings, receiver: Receiver, messages: Any, cast: Any) -> None:
    with db.session(Scope.system()) as session:
        session.get_one(User, cast.user.tiandong_deputy).language = "zh_CN"
    try:
        [key] = messages(number="2026-7")
        chinese = {"Suggestion %(number)s is overdue": "第%(number)s号建议已超期"}
        deliver_due(db, settings.model_copy(update={"public_url": "https://renda.example.gov.cn/"}), now=T0,
                    gettext_for=lambda language: (lambda m: chinese.get(m, m)) if language == "zh_CN" else str)
    finally:
        with db.session(Scope.system()) as session:
            session.get_one(User, cast.user.tiandong_deputy).language = None
    [call] = receiver.of(key)
    assert call.body["title"] == "第2026-7号建议已超期" and call.body["language"] == "zh_CN"
    assert call.body["link"] == "https://renda.example.gov.cn/t/tiandong/suggestions/0"


def test_the_link_is_built_from_the_subject_by_the_web_layers_pages(
        db: Database, settings: Settings, receiver: Receiver, messages: Any, cast: Any) -> None:
    """The notification names its subject; the process that delivers it knows which page shows it."""
    keys = messages(2, subject="record")
    [unknown] = messages(subject="no_pages")
    pages = {"record": lambda slug, subject: f"/t/{slug}/records/{subject.id}"}
    deliver_due(db, settings.model_copy(update={"public_url": "https://renda.example.gov.cn"}), now=T0,
                link_for=lambda slug, subject: pages[subject.type](slug, subject) if subject.type in pages else None)
    bodies = [receiver.of(key)[0].body for key in keys]
    assert [b["link"] for b in bodies] == [f"https://renda.example.gov.cn/t/{cast.slug.tiandong}/records/{i}"
                                           for i in range(2)]
    assert [b["subject"] for b in bodies] == [{"type": "record", "id": i} for i in range(2)]
    assert receiver.of(unknown)[0].body["link"] is None  # a type without pages: no link, still delivered


def test_a_message_whose_text_cannot_be_rendered_fails_without_being_sent(
        db: Database, settings: Settings, receiver: Receiver, messages: Any) -> None:
    [key] = messages(title=N_("Due on %(date)s"), number="1")  # no "date" among the parameters
    assert deliver_due(db, settings, now=T0).failed == 1
    row = outbox(db, key)
    assert row.status == "failed" and "date" in (row.last_error or "")
    assert receiver.log == []


@pytest.mark.postgres
def test_two_workers_at_once_send_every_message_exactly_once(
        db: Database, settings: Settings, receiver: Receiver, messages: Any) -> None:
    keys = messages(12)
    receiver.delay = 0.05  # long enough for the two workers to overlap on every message
    reports: list[Any] = []
    workers = [threading.Thread(target=lambda: reports.append(deliver_due(db, settings, now=T0)))
               for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert sorted(r.key for r in receiver.log) == sorted(keys)  # each once: SKIP LOCKED kept them apart
    assert sum(r.sent for r in reports) == 12 and all(r.sent for r in reports)  # both took a share
    assert {outbox(db, k).status for k in keys} == {"sent"}


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_commit_with_a_notification_sets_the_worker_delivering(
        db: Database, settings: Settings, receiver: Receiver, messages: Any) -> None:
    """The transactional outbox end to end: the commit asks for a delivery, a worker (on Redis with
    PostgreSQL, in memory embedded) takes the job and posts the message."""
    queue = jobs.JobQueue(settings.model_copy(update={"jobs_periodic": False}), db)
    try:
        jobs.install(queue)
        queue.start()
        [key] = messages(due=None)  # due now, by the real clock
        assert wait_for(lambda: bool(receiver.of(key)))
        assert wait_for(lambda: outbox(db, key).status == "sent")
    finally:
        jobs.install(None)
        queue.close()
        _drop_queue(settings)
    assert [c.status for c in receiver.of(key)] == [200]


@pytest.mark.postgres
def test_renda_worker_delivers_on_redis(db: Database, settings: Settings, receiver: Receiver, messages: Any,
                                        database_url: str, redis_url: str) -> None:
    """`renda worker` in a process of its own picks up the delivery the commit queued in Redis."""
    env = {**os.environ, "RENDA_DATABASE_URL": database_url, "RENDA_REDIS_URL": redis_url,
           "RENDA_JOBS_QUEUE": settings.jobs_queue, "RENDA_NOTIFY_WEBHOOK_URL": receiver.url,
           "RENDA_JOBS_PERIODIC": "false", "RENDA_SECRET_KEY": settings.secret_key}
    queue = jobs.JobQueue(settings, db)  # this process only enqueues
    worker = subprocess.Popen([str(Path(sys.executable).with_name("renda")), "worker", "--threads", "1"],
                              cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        jobs.install(queue)
        [key] = messages(due=None)
        assert wait_for(lambda: outbox(db, key).status == "sent", timeout=30), _output(worker)
    finally:
        jobs.install(None)
        queue.close()
        output = _output(worker)  # SIGTERM: graceful, it finishes what it runs, then exits
        _drop_queue(settings)
    assert worker.returncode == 0, output
    assert "worker started" in output
    assert [c.status for c in receiver.of(key)] == [200]


def _output(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        out, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out


def _drop_queue(settings: Settings) -> None:
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url)
        try:
            keys = list(client.scan_iter(f"huey.*.{settings.jobs_queue}*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
