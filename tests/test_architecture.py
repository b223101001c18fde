"""The shape of the code base: layers, the schema's one history, and the platform/ folder's name."""

from __future__ import annotations

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
