"""The inbox page and the header's unread badge: a user sees their own notifications from all their
tenants, newest first, marks them read, and gets a 404 for anyone else's."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, event

from renda.platform import deadline_sweep, jobs
from renda.platform.config import Settings
from renda.platform.db import Database, Scope
from renda.platform.errors import N_
from renda.platform.identity import service as identity
from renda.platform.notify.models import Notification, OutboxMessage, Subject
from renda.platform.notify.service import notify
from renda.platform.tenancy.models import Tenant
from renda.web import links
from renda.web.app import create_app

PASSWORD = "inbox-pass-1"
HELLO = N_("Suggestion %(number)s is overdue")


@pytest.fixture(scope="module")
def people(db: Database, cast: Any) -> SimpleNamespace:
    """Three deputies of Tiandong of this module's own (their inboxes start empty)."""
    tag = secrets.token_hex(3)
    with db.session(Scope.system()) as s:
        tiandong = s.get_one(Tenant, cast.tenant.tiandong)
        ids = {}
        for name in ("ann", "bob", "cat"):
            user = identity.create_user(s, None, tiandong, username=f"inbox.{name}.{tag}",
                                        display_name=f"代表{name}", password=PASSWORD)
            identity.grant_role(s, None, tiandong, user, role="deputy", org_unit_id=cast.org.pingma_station)
            ids[name] = (user.id, user.username)
    return SimpleNamespace(**{name: SimpleNamespace(id=i, username=u) for name, (i, u) in ids.items()})


@pytest.fixture
def notes(db: Database) -> Iterator[Callable[..., int]]:
    """``notes(user_id, tenant_id, minutes_ago, link=None, subject=None)``: a committed notification, removed
    afterwards."""
    made: list[int] = []
    start = dt.datetime.now(dt.UTC)

    def make(user_id: int, tenant_id: int, minutes_ago: int, link: str | None = None,
             subject: Subject | None = None) -> int:
        with db.session(Scope.system(), write=True) as s:  # SQLite: waits its turn behind the app's writers
            n = notify(s, tenant_id, user_id, "suggestion.overdue", HELLO, "", link, None,
                       params={"number": f"N{minutes_ago}"}, subject=subject, channels=(),
                       now=start - dt.timedelta(minutes=minutes_ago))
            made.append(n.id)
            return n.id

    yield make
    with db.session(Scope.system()) as s:
        s.execute(delete(OutboxMessage).where(OutboxMessage.notification_id.in_(made)))
        s.execute(delete(Notification).where(Notification.id.in_(made)))


@pytest.fixture
def settings(database_url: str, redis_url: str | None) -> Settings:
    return Settings(database_url=database_url, redis_url=redis_url, secret_key="test",
                    login_failures_per_address=1000, jobs_queue=f"test_{secrets.token_hex(4)}")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    with TestClient(create_app(settings), raise_server_exceptions=False, client=(address, 40000)) as c:
        c.cookies.set("renda_lang", "en")
        yield c


def login(client: TestClient, username: str) -> TestClient:
    client.get("/login")
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrftoken": client.cookies["csrftoken"]}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def post(client: TestClient, url: str, **data: Any) -> Any:
    return client.post(url, data={**data, "csrftoken": client.cookies["csrftoken"]}, follow_redirects=False)


def entries(html: str) -> list[tuple[int, bool]]:
    """(id, unread) of the notifications on the page, in page order."""
    return [(int(i), u == "true") for i, u in re.findall(r'id="notification-(\d+)" data-unread="(\w+)"', html)]


def badge(html: str) -> int:
    found = re.search(r'class="inbox-link" href="/inbox" data-unread="(\d+)"', html)
    assert found, "no inbox link in the header"
    return int(found.group(1))


def unread_in_db(db: Database, notification_id: int) -> bool:
    with db.session(Scope.system()) as s:
        return s.get_one(Notification, notification_id).read_at is None


def test_the_inbox_lists_own_notifications_from_every_tenant_newest_first(
        client: TestClient, people: SimpleNamespace, notes: Any, cast: Any) -> None:
    old = notes(people.ann.id, cast.tenant.tiandong, 30)
    new = notes(people.ann.id, cast.tenant.tiandong, 1)
    elsewhere = notes(people.ann.id, cast.tenant.pingguo, 10)  # a tenant Ann has no grant in
    notes(people.bob.id, cast.tenant.tiandong, 5)  # Bob's, not Ann's

    page = login(client, people.ann.username).get("/inbox")
    assert page.status_code == 200
    assert entries(page.text) == [(new, True), (elsewhere, True), (old, True)]
    assert "Suggestion N1 is overdue" in page.text
    assert "Pingguo" in page.text  # the tenant it came from, in the reader's language
    assert badge(page.text) == 3
    assert badge(client.get(f"/t/{cast.slug.tiandong}/").text) == 3  # on every page


def test_marking_one_read_updates_the_page_and_the_badge(
        client: TestClient, people: SimpleNamespace, notes: Any, cast: Any, db: Database) -> None:
    first = notes(people.ann.id, cast.tenant.tiandong, 3)
    second = notes(people.ann.id, cast.tenant.tiandong, 2)
    login(client, people.ann.username)

    response = post(client, f"/inbox/{first}/read")
    assert response.status_code == 303 and response.headers["location"] == "/inbox"
    page = client.get("/inbox").text
    assert entries(page) == [(second, True), (first, False)]
    assert badge(page) == 1
    assert not unread_in_db(db, first)


def test_opening_a_notification_marks_it_read_and_goes_where_it_points(
        client: TestClient, people: SimpleNamespace, notes: Any, cast: Any, db: Database) -> None:
    target = f"/t/{cast.slug.tiandong}/"
    linked = notes(people.ann.id, cast.tenant.tiandong, 1, link=target)
    offsite = notes(people.ann.id, cast.tenant.tiandong, 2, link="//evil.example/")
    login(client, people.ann.username)

    response = post(client, f"/inbox/{linked}/read", open="true")
    assert response.status_code == 303 and response.headers["location"] == target
    assert not unread_in_db(db, linked)
    page = client.get("/inbox").text
    assert 'name="open"' in page  # the Open button of a notification with a link ...
    assert page.count('name="open"') == 1  # ... and none where the link leads outside Renda
    response = post(client, f"/inbox/{offsite}/read", open="true")
    assert response.headers["location"] == "/inbox"


def test_a_notification_about_a_suggestion_opens_its_page_in_the_notifications_tenant(
        client: TestClient, people: SimpleNamespace, notes: Any, cast: Any) -> None:
    """The notification names its subject; the web layer knows the page (and a type without pages has none)."""
    about = notes(people.bob.id, cast.tenant.tiandong, 1, subject=Subject("suggestion", 42))
    notes(people.bob.id, cast.tenant.tiandong, 2, subject=Subject("no_pages_yet", 7))
    login(client, people.bob.username)
    assert client.get("/inbox").text.count('name="open"') == 1
    response = post(client, f"/inbox/{about}/read", open="true")
    assert response.status_code == 303
    assert response.headers["location"] == f"/t/{cast.slug.tiandong}/suggestions/42"


def test_notifications_about_one_record_are_grouped_and_opening_it_reads_them_all(
        client: TestClient, people: SimpleNamespace, notes: Any, cast: Any, db: Database) -> None:
    assigned = notes(people.cat.id, cast.tenant.tiandong, 30, subject=Subject("suggestion", 77))
    other = notes(people.cat.id, cast.tenant.tiandong, 20, subject=Subject("suggestion", 78))
    reminded = notes(people.cat.id, cast.tenant.tiandong, 10, subject=Subject("suggestion", 77))
    elsewhere = notes(people.cat.id, cast.tenant.pingguo, 5, subject=Subject("suggestion", 77))  # another county's
    login(client, people.cat.username)
    page = client.get("/inbox").text
    # Newest group first; in a group, newest first; one Open per record.
    assert [i for i, _ in entries(page)] == [elsewhere, reminded, assigned, other]
    assert page.count('name="open"') == 3
    cards = page.split('<li class="card')[1:]
    assert [len(re.findall(r'id="notification-', card)) for card in cards] == [1, 2, 1]
    response = post(client, f"/inbox/{reminded}/read", open="true")
    assert response.headers["location"] == f"/t/{cast.slug.tiandong}/suggestions/77"
    assert [unread_in_db(db, i) for i in (assigned, reminded, other, elsewhere)] == [False, False, True, True]


def test_every_source_of_deadlines_notifies_about_something_with_a_page() -> None:
    assert {source.subject_type for source in deadline_sweep.sources()} <= links.registered()
    assert deadline_sweep.sources(), "the app registers the suggestions' deadlines"


def test_another_users_notification_answers_404_and_stays_unread(
        client: TestClient, people: SimpleNamespace, notes: Any, cast: Any, db: Database) -> None:
    bobs = notes(people.bob.id, cast.tenant.tiandong, 1)
    login(client, people.ann.username)
    assert post(client, f"/inbox/{bobs}/read").status_code == 404
    assert post(client, f"/inbox/{bobs}/read", open="true").status_code == 404
    assert post(client, "/inbox/999999999/read").status_code == 404  # the same answer as for no such row
    assert post(client, "/inbox/read-all").status_code == 303
    assert unread_in_db(db, bobs)
    assert bobs not in {i for i, _ in entries(client.get("/inbox").text)}


def test_all_read_marks_every_own_notification(
        client: TestClient, people: SimpleNamespace, notes: Any, cast: Any, db: Database) -> None:
    mine = [notes(people.ann.id, cast.tenant.tiandong, 1), notes(people.ann.id, cast.tenant.pingguo, 2)]
    bobs = notes(people.bob.id, cast.tenant.tiandong, 1)
    login(client, people.ann.username)
    page = client.get("/inbox").text
    assert "Mark all as read" in page
    assert post(client, "/inbox/read-all").status_code == 303
    page = client.get("/inbox").text
    assert {u for i, u in entries(page) if i in mine} == {False}
    assert badge(page) == 0 and "Mark all as read" not in page
    assert unread_in_db(db, bobs)


def test_the_inbox_pages_twenty_at_a_time(client: TestClient, people: SimpleNamespace, notes: Any,
                                          cast: Any) -> None:
    ids = [notes(people.cat.id, cast.tenant.tiandong, minutes) for minutes in range(23)]
    login(client, people.cat.username)
    first = client.get("/inbox").text
    assert [i for i, _ in entries(first)] == ids[:20]
    assert 'href="/inbox?page=2"' in first
    second = client.get("/inbox?page=2").text
    assert [i for i, _ in entries(second)] == ids[20:]
    assert 'rel="next"' not in second and 'rel="prev"' in second
    assert client.get("/inbox?page=0").status_code == 422


def test_forms_without_the_csrf_token_are_refused(client: TestClient, people: SimpleNamespace, notes: Any,
                                                  cast: Any, db: Database) -> None:
    mine = notes(people.ann.id, cast.tenant.tiandong, 1)
    login(client, people.ann.username)
    assert client.post(f"/inbox/{mine}/read", follow_redirects=False).status_code == 403
    assert client.post("/inbox/read-all", follow_redirects=False).status_code == 403
    assert unread_in_db(db, mine)


def test_the_inbox_needs_a_signed_in_user(client: TestClient) -> None:
    response = client.get("/inbox", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert 'class="inbox-link"' not in client.get("/login").text


def test_the_embedded_web_process_runs_the_jobs_itself(settings: Settings, backend: str) -> None:
    """Embedded (no Redis) the lifespan starts the worker and scheduler; with Redis it leaves them
    to `renda worker` and only enqueues."""
    with TestClient(create_app(settings)):
        queue = jobs.installed()
        assert queue is not None
        assert queue.in_memory == (backend == "sqlite")
        assert queue.running == queue.in_memory
    assert jobs.installed() is None


def test_the_badge_costs_one_count(client: TestClient, people: SimpleNamespace, notes: Any, cast: Any) -> None:
    notes(people.ann.id, cast.tenant.tiandong, 1)
    login(client, people.ann.username)
    seen: list[str] = []
    engine = client.app.state.db.engine  # type: ignore[attr-defined]

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/inbox")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    counts = [s for s in seen if "count(" in s.lower() and "notifications" in s]
    assert len(counts) == 1
