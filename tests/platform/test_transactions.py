"""A unit of work is all or nothing on both backends, and SQLite's writers wait their turn.

pysqlite left to itself emits no BEGIN before a SAVEPOINT, so SQLite opened a transaction for the
savepoint alone and its release committed the step: a failure afterwards undid nothing. These tests
use the application's real engine (no outer test transaction), on the shared test database: when
they pass they leave nothing there.
"""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from renda.platform.db import Database, Scope
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy import service as tenancy
from renda.platform.tenancy.models import HandlingUnit, Tenant


class RenderingFailed(Exception):
    """What goes wrong after the step, e.g. while the page is rendered."""


def _units_named(db: Database, name: str) -> list[int]:
    with db.session(Scope.system()) as session:
        return list(session.scalars(select(HandlingUnit.id).where(HandlingUnit.name == name)))


@pytest.mark.parametrize("in_savepoint", [True, False], ids=["step-in-savepoint", "step"])
def test_a_failure_after_a_step_leaves_nothing_behind(db: Database, cast: Any, in_savepoint: bool) -> None:
    name = f"交通局-{secrets.token_hex(4)}"
    with pytest.raises(RenderingFailed), db.session(Scope(), write=True) as session:
        admin = load_principal(session, cast.user.tiandong_admin)
        tiandong = session.get_one(Tenant, cast.tenant.tiandong)
        if in_savepoint:  # as a step that carries files does (all of it or none of it)
            with session.begin_nested():
                tenancy.create_handling_unit(session, admin, tiandong, name=name, category="government")
        else:
            tenancy.create_handling_unit(session, admin, tiandong, name=name, category="government")
            session.flush()
        assert _units_named_in(session, name)  # the step is done inside the transaction ...
        raise RenderingFailed
    assert _units_named(db, name) == []  # ... and undone with it


def _units_named_in(session: Any, name: str) -> list[int]:
    return list(session.scalars(select(HandlingUnit.id).where(HandlingUnit.name == name)))


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Any:
    database = Database(url=f"sqlite:///{tmp_path / 'writers.sqlite3'}")
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    yield database
    database.dispose()


def test_two_concurrent_writers_on_sqlite_both_succeed(sqlite_file: Database) -> None:
    """Each reads, then writes what it read plus one: the second waits for the first, none fails, none is lost."""
    db = sqlite_file
    first_has_read = threading.Event()
    errors: list[BaseException] = []

    def increment(after: threading.Event | None) -> None:
        try:
            if after is not None:
                after.wait(5)
            with db.session(Scope(), write=True) as session:
                n = session.execute(text("SELECT n FROM counter")).scalar_one()
                if after is None:
                    first_has_read.set()
                    time.sleep(0.3)  # the other writer arrives while this transaction is open
                session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=increment, args=(None,)),
               threading.Thread(target=increment, args=(first_has_read,))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert errors == []
    with db.session(Scope()) as session:
        assert session.execute(text("SELECT n FROM counter")).scalar_one() == 2


def test_readers_go_on_while_a_writer_holds_the_lock(sqlite_file: Database) -> None:
    db = sqlite_file
    with db.session(Scope(), write=True) as writer:
        writer.execute(text("UPDATE counter SET n = 5"))
        with db.session(Scope()) as reader:  # WAL: the reader sees the last commit, without waiting
            assert reader.execute(text("SELECT n FROM counter")).scalar_one() == 0
    with db.session(Scope()) as reader:
        assert reader.execute(text("SELECT n FROM counter")).scalar_one() == 5
