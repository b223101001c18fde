"""Background jobs: enqueued by name, run by a worker (on Redis with PostgreSQL, in memory embedded),
fired by the scheduler on their cron schedule, with a system-scoped session of their own."""

from __future__ import annotations

import datetime as dt
import pickle
import queue as stdlib_queue
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from huey.registry import Message
from sqlalchemy import func, select

from renda.platform import jobs
from renda.platform.config import Settings
from renda.platform.db import Database, get_scope
from renda.platform.tenancy.models import Tenant

UTC = dt.UTC


@pytest.fixture
def settings(database_url: str, redis_url: str | None) -> Iterator[Settings]:
    """Settings with a queue of this test's own (its Redis keys are removed afterwards)."""
    name = f"test_{secrets.token_hex(4)}"
    yield Settings(database_url=database_url, redis_url=redis_url, jobs_queue=name, jobs_workers=1)
    if redis_url:
        client = redis.Redis.from_url(redis_url)
        try:
            keys = list(client.scan_iter(f"huey.*.{name}*")) + list(client.scan_iter(f"renda:jobs:{name}:*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


@pytest.fixture
def make_queue(settings: Settings, db: Database) -> Iterator[Any]:
    made: list[jobs.JobQueue] = []

    def make(registry: jobs.Registry, **options: Any) -> jobs.JobQueue:
        q = jobs.JobQueue(settings, db, registry=registry, **options)
        made.append(q)
        return q

    yield make
    jobs.install(None)
    for q in made:
        q.close()


def test_a_job_enqueued_by_name_runs_on_a_worker_with_a_system_session(
        make_queue: Any, settings: Settings, redis_url: str | None, cast: Any) -> None:
    ran: stdlib_queue.Queue[tuple[str, int, bool]] = stdlib_queue.Queue()

    def count_tenants(ctx: jobs.JobContext, *, label: str) -> None:
        with ctx.session() as session:
            tenants = session.scalar(select(func.count()).select_from(Tenant)) or 0
            ran.put((label, tenants, get_scope(session).everything))

    registry = jobs.Registry()
    registry.register("test.count_tenants", count_tenants)
    q = make_queue(registry)
    jobs.install(q)

    jobs.enqueue("test.count_tenants", label="first run")
    assert q.pending() == 1  # waiting until a worker takes it
    if redis_url:  # ... in Redis itself, where any `renda worker` could take it
        client = redis.Redis.from_url(redis_url)
        try:
            assert client.llen(q.huey.storage.queue_key) == 1
        finally:
            client.close()
    q.start()
    label, tenants, system = ran.get(timeout=15)
    assert label == "first run"
    assert system and tenants >= 5  # the system scope sees every tenant (the cast has five)
    assert q.pending() == 0


def test_the_scheduler_fires_a_periodic_job(make_queue: Any) -> None:
    fired: stdlib_queue.Queue[str] = stdlib_queue.Queue()
    registry = jobs.Registry()
    registry.register("test.every_minute", lambda ctx: fired.put("tick"), cron="* * * * *")
    registry.register("test.on_request", lambda ctx: fired.put("should not run"))
    q = make_queue(registry)
    q.start()  # the scheduler looks at the schedule at once, then every minute
    assert fired.get(timeout=15) == "tick"
    with pytest.raises(stdlib_queue.Empty):
        fired.get(timeout=0.5)


def test_schedules_are_read_in_the_deployment_time_zone(make_queue: Any) -> None:
    registry = jobs.Registry()
    registry.register("test.morning", lambda ctx: None, cron="*/15 9 * * 1-5")  # weekdays 09:00-09:45
    registry.register("test.sweep", lambda ctx: None, cron="*/15 * * * *")
    q = make_queue(registry)
    monday_0915_beijing = dt.datetime(2026, 11, 23, 1, 15, tzinfo=UTC)
    assert q.due(monday_0915_beijing) == ["test.morning", "test.sweep"]
    assert q.due(monday_0915_beijing + dt.timedelta(minutes=1)) == []
    assert q.due(dt.datetime(2026, 11, 23, 9, 15, tzinfo=UTC)) == ["test.sweep"]  # 17:15 in Beijing
    assert q.due(dt.datetime(2026, 11, 22, 1, 30, tzinfo=UTC)) == ["test.sweep"]  # a Sunday


def test_each_periodic_run_is_enqueued_once_however_many_schedulers(make_queue: Any, redis_url: str | None,
                                                                    ) -> None:
    """Every `renda worker` runs a scheduler; on a shared Redis queue only one enqueues each minute."""
    if not redis_url:
        pytest.skip("needs Redis: embedded, the web process has the only scheduler")
    registry = jobs.Registry()
    registry.register("test.sweep", lambda ctx: None, cron="*/15 * * * *")
    first, second = make_queue(registry), make_queue(registry)
    at = dt.datetime(2026, 11, 23, 1, 15, tzinfo=UTC)
    assert first.enqueue_periodic(at) == ["test.sweep"]
    assert second.enqueue_periodic(at) == []
    assert second.enqueue_periodic(at + dt.timedelta(minutes=1)) == []  # not due
    assert second.enqueue_periodic(at + dt.timedelta(minutes=15)) == ["test.sweep"]
    assert first.pending() == 2


def test_mistakes_fail_when_made_not_when_run(make_queue: Any) -> None:
    registry = jobs.Registry()
    with pytest.raises(ValueError, match="five fields"):
        registry.register("test.bad", lambda ctx: None, cron="*/15 * * *")
    with pytest.raises(ValueError):
        registry.register("test.bad", lambda ctx: None, cron="61 * * * *")

    def one(ctx: jobs.JobContext) -> None: ...

    def another(ctx: jobs.JobContext) -> None: ...

    registry.register("test.one", one)
    registry.register("test.one", one)  # importing a module twice is harmless
    with pytest.raises(ValueError, match="already registered"):
        registry.register("test.one", another)
    q = make_queue(registry)
    with pytest.raises(jobs.UnknownJob):
        q.enqueue("test.nobody")
    with pytest.raises(TypeError):
        q.enqueue("test.one", when=dt.datetime.now(UTC))  # arguments travel as JSON
    assert q.pending() == 0


def test_a_request_for_a_run_never_fails_the_caller(settings: Settings, db: Database) -> None:
    """After a commit there is nothing to undo: no queue, or Redis down, only logs."""
    jobs.install(None)
    assert jobs.request_run("notify.deliver") is False
    unreachable = jobs.JobQueue(settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"}), db)
    try:
        jobs.install(unreachable)
        assert jobs.request_run("notify.deliver") is False
    finally:
        jobs.install(None)
        unreachable.close()


def test_a_message_not_signed_with_the_deployments_secret_is_never_run(make_queue: Any, redis_url: str | None,
                                                                       ) -> None:
    """Queue messages are pickles: one written into Redis by anyone but Renda is dropped unread."""
    if not redis_url:
        pytest.skip("needs Redis: the in-memory queue is out of anyone else's reach")
    ran: stdlib_queue.Queue[str] = stdlib_queue.Queue()
    registry = jobs.Registry()
    registry.register("test.sensitive", lambda ctx, **kw: ran.put("ran"))
    q = make_queue(registry)
    forged = Message(id="forged", name="renda.platform.jobs.test.sensitive", args=({},), kwargs={})
    client = redis.Redis.from_url(redis_url)
    try:
        client.lpush(q.huey.storage.queue_key, pickle.dumps(forged))
    finally:
        client.close()
    q.start()
    assert wait_until(lambda: q.pending() == 0)  # taken off the queue ...
    with pytest.raises(stdlib_queue.Empty):
        ran.get(timeout=1)  # ... and refused
    q.enqueue("test.sensitive")  # while Renda's own messages run
    assert ran.get(timeout=15) == "ran"


def wait_until(condition: Any, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
