"""Numbering: one counter per tenant and series that never gives a number twice, kept apart by tenant in
both isolation layers, and the migration that moved the suggestions' series onto it."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from renda.platform.counters import Counter, next_number, reserve
from renda.platform.db import Database, OutOfScopeWrite, Scope, set_scope

REPO_ROOT = Path(__file__).resolve().parents[2]


def series() -> str:
    return f"test:{secrets.token_hex(4)}"


def test_numbers_follow_each_other_per_tenant_and_series(system_session: Session, cast: Any) -> None:
    one, other = series(), series()
    assert [next_number(system_session, cast.tenant.tiandong, one) for _ in range(3)] == [1, 2, 3]
    assert next_number(system_session, cast.tenant.tiandong, other) == 1
    assert next_number(system_session, cast.tenant.pingguo, one) == 1  # another congress, its own series
    assert reserve(system_session, cast.tenant.tiandong, one, 10) == 13  # 4 … 13 taken at once
    assert next_number(system_session, cast.tenant.tiandong, one) == 14
    with pytest.raises(ValueError):
        reserve(system_session, cast.tenant.tiandong, one, 0)


def test_a_county_sees_only_its_own_counters_and_cannot_bump_another_in_the_orm(
        open_session: Callable[..., Session], superuser_db: Database, cast: Any) -> None:
    """As a superuser on PostgreSQL, so the ORM filter and the flush guard alone keep them apart."""
    name = series()
    session = open_session(Scope.system(), database=superuser_db)
    next_number(session, cast.tenant.pingguo, name)
    next_number(session, cast.tenant.tiandong, name)
    set_scope(session, Scope(tenant_ids=frozenset({cast.tenant.tiandong})))
    seen = session.scalars(select(Counter).where(Counter.series == name)).all()
    assert [c.tenant_id for c in seen] == [cast.tenant.tiandong]
    with pytest.raises(OutOfScopeWrite):
        next_number(session, cast.tenant.pingguo, name)


@pytest.mark.postgres
def test_row_level_security_keeps_another_tenants_counters_out(db: Database, cast: Any,
                                                              superuser_url: str) -> None:
    name = series()
    superuser = create_engine(superuser_url)
    try:
        with superuser.begin() as conn:
            conn.execute(text("INSERT INTO counters (tenant_id, series, last_number) VALUES (:t, :s, 5)"),
                         {"t": cast.tenant.pingguo, "s": name})
        with db.engine.connect() as conn, conn.begin() as tx:
            conn.execute(text("SELECT set_config('renda.tenant_ids', :t, true)"),
                         {"t": "{" + str(cast.tenant.tiandong) + "}"})
            assert conn.execute(text("SELECT count(*) FROM counters WHERE series = :s"), {"s": name}).scalar() == 0
            bumped = conn.execute(text("UPDATE counters SET last_number = last_number + 1 WHERE series = :s"),
                                  {"s": name})
            assert bumped.rowcount == 0
            tx.rollback()
    finally:
        with superuser.begin() as conn:
            conn.execute(text("DELETE FROM counters WHERE series = :s"), {"s": name})
        superuser.dispose()


@pytest.mark.postgres
def test_concurrent_transactions_never_share_a_number(db: Database, cast: Any, superuser_url: str) -> None:
    name, got, errors = series(), [], []

    def take() -> None:
        try:
            for _ in range(5):
                with db.session(Scope.system()) as session:
                    got.append(next_number(session, cast.tenant.tiandong, name))
        except Exception as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    superuser = create_engine(superuser_url)
    try:
        with superuser.begin() as conn:
            conn.execute(text("DELETE FROM counters WHERE series = :s"), {"s": name})
    finally:
        superuser.dispose()
    assert errors == []
    assert sorted(got) == list(range(1, 21))


def test_the_migration_moves_the_suggestion_series_and_back(tmp_path: Path) -> None:
    """On a database of its own (SQLite): a counter of 0009's suggestion_counters is 0010's counters row."""
    from alembic.config import Config

    engine = create_engine(f"sqlite:///{tmp_path / 'move.sqlite3'}")
    config = Config(str(REPO_ROOT / "alembic.ini"))

    def migrate(to: str, down: bool = False) -> None:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(config, to)

    try:
        migrate("0009")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO tenants (id, slug, name, name_en, level, path, active, created_at)"
                              " VALUES (1, 't', 'T', 'T', 'county', '/1/', 1, CURRENT_TIMESTAMP)"))
            conn.execute(text("INSERT INTO suggestion_counters VALUES (1, 't17-s6', 104)"))
        migrate("0010")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT tenant_id, series, last_number FROM counters")).all() == [
                (1, "suggestion:t17-s6", 104)]
        migrate("0009", down=True)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT * FROM suggestion_counters")).all() == [(1, "t17-s6", 104)]
    finally:
        engine.dispose()
