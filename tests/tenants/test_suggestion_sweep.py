"""The deadline sweep reminds before the deadline and escalates after it, once each, on real Redis too;
its notifications name the suggestion, and the web layer links them to its page."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform import deadline_sweep, jobs
from renda.platform.config import Settings
from renda.platform.db import Database, Scope, set_scope
from renda.platform.identity import service as identity
from renda.platform.identity.principal import load_principal
from renda.platform.notify.models import Notification, Subject
from renda.platform.tenancy.models import Tenant
from renda.tenants.deputies.models import Deputy
from renda.tenants.suggestions import service
from renda.tenants.suggestions.models import Suggestion
from renda.tenants.suggestions.sweep import SOURCE

TODAY = dt.date(2026, 11, 23)
DEADLINE = dt.date(2027, 2, 23)


def assigned_suggestion(session: Session, cast: Any, *, key_leader: bool = False) -> int:
    """A suggestion of Tiandong assigned to its transport bureau, due on DEADLINE."""
    tiandong = session.get(Tenant, cast.tenant.tiandong)
    assert tiandong is not None
    user = identity.create_user(session, None, tiandong, username=f"sweep-dep-{secrets.token_hex(3)}",
                                display_name="韦代表", password=None)
    identity.grant_role(session, None, tiandong, user, role="deputy", org_unit_id=cast.org.pingma_station)
    session.add(Deputy(tenant_id=tiandong.id, name="韦代表", level="county", term=17, org_unit_id=cast.org.pingma,
                       user_id=user.id))
    session.flush()

    def p(user_id: int) -> Any:
        return load_principal(session, user_id)

    s = service.create_draft(session, p(user.id), tiandong, title="关于改善乡村道路的建议", content="……", term=17,
                             session_no=6)
    s = service.submit(session, p(user.id), tiandong, s.id, version=s.version)
    s = service.review(session, p(cast.user.tiandong_admin), tiandong, s.id, decision="accept", version=s.version)
    s = service.assign(session, p(cast.user.tiandong_admin), tiandong, s.id,
                       lead_unit_id=cast.unit.tiandong_transport, deadline=DEADLINE, version=s.version, today=TODAY)
    if key_leader:
        service.mark_key(session, p(cast.user.tiandong_admin), tiandong, s.id,
                         supervisor_user_id=cast.user.tiandong_leader, version=s.version)
    return s.id


def sent(session: Session, suggestion_id: int) -> list[tuple[int, str]]:
    rows = session.execute(select(Notification.user_id, Notification.kind).where(
        Notification.dedupe_key.like(f"suggestion:{suggestion_id}:%"))).all()
    return sorted((u, k) for u, k in rows)


def test_yellow_reminds_the_unit_and_red_escalates_to_office_and_leader_once_each(open_session: Any,
                                                                                  cast: Any) -> None:
    session = open_session(Scope.system())
    sid = assigned_suggestion(session, cast, key_leader=True)
    session.flush()
    set_scope(session, Scope.system())
    # What other tests left in the shared database is swept too: the counts are of this suggestion's.
    deadline_sweep.sweep(session, DEADLINE - dt.timedelta(days=30))
    assert sent(session, sid) == []  # still green
    assert deadline_sweep.sweep(session, DEADLINE - dt.timedelta(days=10)).reminded >= 1
    deadline_sweep.sweep(session, DEADLINE - dt.timedelta(days=9))  # once
    assert sent(session, sid) == [(cast.user.tiandong_handler, "suggestion.due_soon")]

    result = deadline_sweep.sweep(session, DEADLINE + dt.timedelta(days=1))
    overdue = {u for u, k in sent(session, sid) if k == "suggestion.overdue"}
    deadline_sweep.sweep(session, DEADLINE + dt.timedelta(days=2))
    assert {u for u, k in sent(session, sid) if k == "suggestion.overdue"} == overdue  # once
    assert len(sent(session, sid)) == 1 + len(overdue)
    # The unit, the supervising leader and the county's office (other tests may add more staff there).
    assert {cast.user.tiandong_handler, cast.user.tiandong_admin, cast.user.tiandong_leader} <= overdue
    assert cast.user.city_admin not in overdue and cast.user.pingguo_admin not in overdue
    assert result.escalated >= len(overdue)


def test_a_reminder_names_its_suggestion_and_leaves_the_address_to_the_pages(open_session: Any, cast: Any) -> None:
    session = open_session(Scope.system())
    sid = assigned_suggestion(session, cast)
    set_scope(session, Scope.system())
    deadline_sweep.sweep(session, DEADLINE - dt.timedelta(days=3), only=[SOURCE])
    note = session.scalars(select(Notification).where(Notification.dedupe_key.like(f"suggestion:{sid}:%"))).one()
    assert note.subject == Subject("suggestion", sid) and note.link is None
    number = session.get_one(Suggestion, sid).number
    assert note.params == {"number": number, "deadline": DEADLINE.isoformat(), "title": "关于改善乡村道路的建议"}
    assert note.render(lambda m: m) == (f"Suggestion No. {number} is due on {DEADLINE.isoformat()}",
                                         "“关于改善乡村道路的建议”: please reply before the deadline.")


def test_answered_suggestions_are_left_alone(open_session: Any, cast: Any) -> None:
    session = open_session(Scope.system())
    sid = assigned_suggestion(session, cast)
    tiandong = session.get(Tenant, cast.tenant.tiandong)
    assert tiandong is not None
    s = service.access_suggestion(session, load_principal(session, cast.user.tiandong_handler), tiandong, sid)
    service.reply(session, load_principal(session, cast.user.tiandong_handler), tiandong, sid, reply_class="A",
                  content="已解决", signed_by="李局长", version=s.version, today=TODAY)
    set_scope(session, Scope.system())
    deadline_sweep.sweep(session, DEADLINE + dt.timedelta(days=5))
    assert sent(session, sid) == []


@pytest.fixture
def queue(database_url: str, redis_url: str | None, db: Database) -> Iterator[jobs.JobQueue]:
    name = f"test_sweep_{secrets.token_hex(4)}"
    settings = Settings(database_url=database_url, redis_url=redis_url, jobs_queue=name, jobs_workers=1)
    registry = jobs.Registry()
    registry.register(deadline_sweep.JOB, deadline_sweep.sweep_job)
    q = jobs.JobQueue(settings, db, registry=registry)
    jobs.install(q)
    yield q
    jobs.install(None)
    q.close()
    if redis_url:
        client = redis.Redis.from_url(redis_url)
        try:
            keys = list(client.scan_iter(f"huey.*.{name}*")) + list(client.scan_iter(f"renda:jobs:{name}:*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


def test_the_sweep_job_runs_on_the_worker(queue: jobs.JobQueue, db: Database, cast: Any,
                                          redis_url: str | None) -> None:
    """On PostgreSQL the job goes through Redis to the worker; embedded, through the in-process queue."""
    with db.session(Scope.system()) as session:
        sid = assigned_suggestion(session, cast)
    jobs.enqueue(deadline_sweep.JOB, today=(DEADLINE + dt.timedelta(days=1)).isoformat())
    queue.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with db.session(Scope.system()) as session:
            got = sent(session, sid)
        if got:
            break
        time.sleep(0.2)
    assert {k for _, k in got} == {"suggestion.overdue"}
    assert {u for u, _ in got} >= {cast.user.tiandong_handler, cast.user.tiandong_admin}
