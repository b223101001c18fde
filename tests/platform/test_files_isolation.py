"""Tenant isolation of the attachments table, each layer alone: the ORM filter and flush guard (connected
as a superuser on PostgreSQL, so RLS plays no part), then row-level security through raw SQL as renda_app
(see test_isolation_orm.py and test_isolation_rls.py for the kernel's tables)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from renda.platform.db import Database, OutOfScopeWrite, Scope, set_scope
from renda.platform.files import Attachment

INSERT = ("INSERT INTO attachments (tenant_id, subject_type, subject_id, step, filename, content_type, size,"
          " sha256, created_at) VALUES (:t, 'opinion', 1, '', :name, 'image/png', 3, :sha, CURRENT_TIMESTAMP)")


def one(tenant_id: int, name: str) -> Attachment:
    return Attachment(tenant_id=tenant_id, subject_type="opinion", subject_id=1, filename=name,
                      content_type="image/png", size=3, sha256="0" * 64)


@pytest.fixture
def seeded(open_session: Callable[..., Session], superuser_db: Database, cast: Any) -> Session:
    """A rolled-back session as a superuser, holding a file of Tiandong and one of Pingguo."""
    session = open_session(Scope.system(), database=superuser_db)
    session.add_all([one(cast.tenant.tiandong, "田东.png"), one(cast.tenant.pingguo, "平果.png")])
    session.flush()
    return session


def scoped(session: Session, scope: Scope) -> Session:
    set_scope(session, scope)
    session.expunge_all()  # rows loaded under another scope never come from the identity map
    return session


def test_the_orm_shows_a_county_only_its_own_files(cast: Any, seeded: Session) -> None:
    pingguo_file = seeded.scalars(select(Attachment.id).where(Attachment.tenant_id == cast.tenant.pingguo)).first()
    assert {cast.tenant.tiandong, cast.tenant.pingguo} <= set(seeded.scalars(select(Attachment.tenant_id)))

    session = scoped(seeded, Scope(tenant_ids=frozenset({cast.tenant.tiandong})))

    assert set(session.scalars(select(Attachment.tenant_id))) == {cast.tenant.tiandong}
    assert session.get(Attachment, pingguo_file) is None
    assert scoped(seeded, Scope()).scalar(select(func.count()).select_from(Attachment)) == 0


def test_the_orm_refuses_to_write_another_countys_file(cast: Any, seeded: Session) -> None:
    session = scoped(seeded, Scope(tenant_ids=frozenset({cast.tenant.tiandong})))
    session.add(one(cast.tenant.pingguo, "越界.png"))
    with pytest.raises(OutOfScopeWrite):
        session.flush()


@pytest.fixture
def app(db: Database, cast: Any) -> Iterator[Connection]:
    """A renda_app connection holding a file of Tiandong and one of Pingguo, rolled back after the test."""
    with db.engine.connect() as conn:
        tx = conn.begin()
        conn.execute(text("SELECT set_config('renda.scope_all', 'on', true)"))
        for tenant, name in ((cast.tenant.tiandong, "田东.png"), (cast.tenant.pingguo, "平果.png")):
            conn.execute(text(INSERT), {"t": tenant, "name": name, "sha": "0" * 64})
        conn.execute(text("SELECT set_config('renda.scope_all', 'off', true),"
                          " set_config('renda.tenant_ids', :t, true)"), {"t": f"{{{cast.tenant.tiandong}}}"})
        yield conn
        tx.rollback()


@pytest.mark.postgres
def test_row_level_security_shows_and_lets_write_only_the_visible_tenants_files(cast: Any, app: Connection) -> None:
    assert set(app.execute(text("SELECT DISTINCT tenant_id FROM attachments")).scalars()) == {cast.tenant.tiandong}
    touched = app.execute(text("UPDATE attachments SET filename = 'x' WHERE tenant_id = :p"),
                          {"p": cast.tenant.pingguo})
    assert touched.rowcount == 0

    savepoint = app.begin_nested()
    with pytest.raises(DBAPIError) as refused:
        app.execute(text(INSERT), {"t": cast.tenant.pingguo, "name": "越界.png", "sha": "0" * 64})
    savepoint.rollback()
    assert "row-level security policy" in str(refused.value.orig)

    app.execute(text("SELECT set_config('renda.tenant_ids', '{}', true)"))
    assert app.execute(text("SELECT count(*) FROM attachments")).scalar_one() == 0
