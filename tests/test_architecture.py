"""The shape of the code base: layers, the schema's one history, and the platform/ folder's name."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import renda.platform.models  # every table of the kernel
import renda.tenants.models  # noqa: F401 - and of the congress work
from renda.platform.db import Base

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_imports_point_downwards_only(tmp_path: Path) -> None:
    """import-linter's contract (pyproject): web -> tenants -> platform, never upward.

    grimp cannot see the namespace package through setuptools' editable finder, so the check runs
    on a tree of symlinks named as the packages are imported.
    """
    tree = tmp_path / "renda"
    tree.mkdir()
    for name in ("platform", "tenants", "web"):
        (tree / name).symlink_to(REPO_ROOT / name)
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter), "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_models_and_migrations_agree(database_url: str) -> None:
    """Autogenerate finds nothing to do on a database migrated to head (on this run's backend)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_platform_folder_does_not_shadow_the_standard_library() -> None:
    assert not (REPO_ROOT / "platform" / "__init__.py").exists()
    result = subprocess.run([sys.executable, "-c", "import platform, renda.platform.db; print(platform.__file__)"],
                            cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=60)
    assert not result.stdout.strip().startswith(str(REPO_ROOT))


# --- the web layer reads and writes through the services --------------------------------------------
# Routes parse, call a service (or an access_<noun>, or a *_for read, which check who may), and render.
# A statement written in web/ would decide again what a person may see, so none is: no query built
# there (sqlalchemy's select, text, func … are not imported), no session.get(Model, id), and no
# .execute/.scalars/.scalar/.query on anything. request.session is the HTTP session, not the database's.

WEB = REPO_ROOT / "web"
# What web/ may take from sqlalchemy: the session's type for annotations, and the errors a route answers.
SQLALCHEMY_ALLOWED = {"sqlalchemy.orm": {"Session"}, "sqlalchemy.exc": {"*"}, "sqlalchemy.orm.exc": {"*"}}
STATEMENT_METHODS = {"execute", "scalars", "scalar", "scalar_one", "scalar_one_or_none", "query"}
# Reasoned exceptions, as (file relative to web/, line's code): none today.
ALLOWED: set[tuple[str, str]] = set()


def _is_http_session(node: ast.expr) -> bool:
    """``request.session`` (starsessions' dict), which may be asked .get() as any dict."""
    return (isinstance(node, ast.Attribute) and node.attr == "session" and isinstance(node.value, ast.Name)
            and node.value.id == "request")


def _is_db_session(node: ast.expr) -> bool:
    """``session``, ``s``, ``db_session`` or ``….session`` (ctx.session, page.ctx.session), not request.session."""
    if isinstance(node, ast.Name):
        return node.id in {"session", "s", "db_session"}
    return isinstance(node, ast.Attribute) and node.attr == "session" and not _is_http_session(node)


def database_statements(source: str) -> list[tuple[int, str]]:
    """Where ``source`` builds or runs a database statement itself: (line, what)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names if a.name.split(".")[0] == "sqlalchemy"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            allowed = SQLALCHEMY_ALLOWED.get(node.module or "", set())
            found += [(node.lineno, f"from {node.module} import {a.name}") for a in node.names
                      if "*" not in allowed and a.name not in allowed]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in STATEMENT_METHODS:
                found.append((node.lineno, f".{node.func.attr}("))
            elif node.func.attr == "get" and _is_db_session(node.func.value):
                found.append((node.lineno, "session.get("))
    return found


def test_the_check_finds_statements_and_leaves_the_http_session_alone() -> None:
    source = """
from sqlalchemy import select, text
from sqlalchemy.orm import Session, aliased
from sqlalchemy.exc import IntegrityError
import sqlalchemy
def route(request, session, ctx, s):
    request.session.get("user_id")
    request.session["scope"] = {}
    headers.get("HX-Request")
    ctx.session.get(User, 1)
    session.get(User, 2)
    s.get(User, 3)
    ctx.session.scalars(select(User)).first()
    session.execute(text("SELECT 1"))
    session.scalar(q)
"""
    found = {what for _, what in database_statements(source)}
    assert found == {"from sqlalchemy import select", "from sqlalchemy import text",
                     "from sqlalchemy.orm import aliased", "import sqlalchemy", "session.get(", ".scalars(",
                     ".execute(", ".scalar("}
    assert [line for line, what in database_statements(source) if what == "session.get("] == [10, 11, 12]


def test_the_web_layer_runs_no_database_statement_of_its_own() -> None:
    """Routes, the CLI and every web module ask the services; the allow-list above says why if not."""
    offences = []
    for path in sorted(WEB.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        name = str(path.relative_to(WEB))
        for line, what in database_statements(source):
            if (name, lines[line - 1].strip()) not in ALLOWED:
                offences.append(f"web/{name}:{line}: {what}  {lines[line - 1].strip()}")
    assert offences == [], "\n".join(offences)
