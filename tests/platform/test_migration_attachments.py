"""Migration 0011 on a database of its own, on the run's backend: the suggestions' documents move into the
attachments table with their ids (download links stay valid), new ids go on after them, and the
downgrade moves them back, refusing while files of other records exist that the old table cannot hold."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url

REPO_ROOT = Path(__file__).resolve().parents[2]
REVISION = "0011"
BEFORE = ScriptDirectory.from_config(Config(str(REPO_ROOT / "alembic.ini"))).get_revision(REVISION).down_revision
COLUMNS = "step, filename, content_type, size, sha256, removed_at"


@dataclass
class Fresh:
    migrator: Engine  # runs the migrations (renda_owner on PostgreSQL)
    superuser: Engine  # sees every row, and may write rows whose references are not there (a sketch of a real one)

    def migrate(self, verb: str, revision: str) -> None:
        config = Config(str(REPO_ROOT / "alembic.ini"))
        with self.migrator.begin() as conn:
            config.attributes["connection"] = conn
            getattr(command, verb)(config, revision)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.superuser.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]


@pytest.fixture
def fresh(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Fresh]:
    if backend == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'migrate.sqlite3'}")  # foreign keys unchecked
        yield Fresh(engine, engine)
        engine.dispose()
        return
    superuser_url, owner_url = (make_url(request.getfixturevalue(f)) for f in ("superuser_url", "owner_url"))
    name = f"renda_migrate_{secrets.token_hex(4)}"
    admin = create_engine(superuser_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER {owner_url.username}'))
    superuser = create_engine(superuser_url.set(database=name))
    with superuser.begin() as conn:
        conn.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        conn.execute(text(f"GRANT ALL ON SCHEMA public TO {owner_url.username}"))
    migrator = create_engine(owner_url.set(database=name))
    try:
        yield Fresh(migrator, superuser)
    finally:
        migrator.dispose()
        superuser.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def write(fresh: Fresh, sql: str, **params: Any) -> None:
    """As the superuser, foreign keys unchecked: the rows a suggestion would point at are left out."""
    with fresh.superuser.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(sql), params)


def as_migrator(fresh: Fresh, sql: str, **params: Any) -> None:
    """A write as the application's tables' owner would make it (under the system scope on PostgreSQL)."""
    with fresh.migrator.begin() as conn:
        _system_scope(conn)
        conn.execute(text(sql), params)


def _system_scope(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT set_config('renda.scope_all', 'on', true)"))


def test_the_suggestions_documents_move_with_their_ids_and_move_back(fresh: Fresh) -> None:
    fresh.migrate("upgrade", BEFORE)
    write(fresh, "INSERT INTO tenants (id, slug, name, name_en, level, path, active, created_at)"
                 " VALUES (5, 'migrate', '田东县人大常委会', '', 'county', '/5/', true, CURRENT_TIMESTAMP)")
    for suggestion_id in (70, 71):  # its deputy and org unit left out
        write(fresh, "INSERT INTO suggestions (id, tenant_id, series, term, title, content, category, state,"
                     " lead_deputy_id, org_unit_id, is_key, broad, round, created_at, updated_at, version)"
                     " VALUES (:id, 5, 't17-s6', 17, '关于校园安全的建议', '……', '', 'draft', 1, 1, false, false, 1,"
                     " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)", id=suggestion_id)
    for attachment_id, suggestion_id, removed in ((7, 70, None), (12, 71, "2026-11-20 08:00:00+00")):
        write(fresh, "INSERT INTO suggestion_attachments (id, tenant_id, suggestion_id, step, filename, content_type,"
                     " size, sha256, created_at, removed_at) VALUES (:id, 5, :s, 'create', '调研报告.pdf',"
                     " 'application/pdf', 42, :sha, CURRENT_TIMESTAMP, :removed)",
              id=attachment_id, s=suggestion_id, sha="a" * 64, removed=removed)

    fresh.migrate("upgrade", REVISION)  # this migration alone: later ones have their own downgrades

    moved = fresh.rows(f"SELECT id, tenant_id, subject_type, subject_id, {COLUMNS} FROM attachments ORDER BY id")
    assert [r[:4] for r in moved] == [(7, 5, "suggestion", 70), (12, 5, "suggestion", 71)]
    assert [r[4:9] for r in moved] == [("create", "调研报告.pdf", "application/pdf", 42, "a" * 64)] * 2
    assert moved[0][9] is None and moved[1][9] is not None
    assert "suggestion_attachments" not in inspect(fresh.superuser).get_table_names()

    as_migrator(fresh, "INSERT INTO attachments (tenant_id, subject_type, subject_id, step, filename, content_type,"
                       " size, sha256, created_at) VALUES (5, 'suggestion', 70, 'edit', '补充.png', 'image/png', 9,"
                       " :sha, CURRENT_TIMESTAMP)", sha="b" * 64)
    assert fresh.rows("SELECT max(id) FROM attachments") == [(13,)]  # after the copied ids, never one of them

    as_migrator(fresh, "INSERT INTO attachments (tenant_id, subject_type, subject_id, step, filename, content_type,"
                       " size, sha256, created_at) VALUES (5, 'opinion', 3, '', '照片.png', 'image/png', 9,"
                       " :sha, CURRENT_TIMESTAMP)", sha="c" * 64)
    with pytest.raises(RuntimeError, match="other than suggestions"):
        fresh.migrate("downgrade", BEFORE)
    assert len(fresh.rows("SELECT id FROM attachments")) == 4  # nothing lost
    as_migrator(fresh, "DELETE FROM attachments WHERE subject_type = 'opinion'")

    fresh.migrate("downgrade", BEFORE)

    back = fresh.rows("SELECT id, tenant_id, suggestion_id, step, filename FROM suggestion_attachments ORDER BY id")
    assert back == [(7, 5, 70, "create", "调研报告.pdf"), (12, 5, 71, "create", "调研报告.pdf"),
                    (13, 5, 70, "edit", "补充.png")]
    assert "attachments" not in inspect(fresh.superuser).get_table_names()
