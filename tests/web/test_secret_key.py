"""Outside development, neither the web app nor `renda worker` starts with the default secret key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from renda.platform.config import DEFAULT_SECRET_KEY, InsecureSettings, Settings, get_settings
from renda.web.app import create_app
from renda.web.cli import app as cli


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The process's settings as a fresh deployment has them: no secret key, no RENDA_ENV."""
    for name in ("RENDA_SECRET_KEY", "RENDA_ENV"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize("key", [DEFAULT_SECRET_KEY, ""])
def test_the_app_refuses_to_start_with_the_default_or_no_secret_key(database_url: str, key: str) -> None:
    app = create_app(Settings(database_url=database_url, secret_key=key))
    with pytest.raises(InsecureSettings, match="RENDA_SECRET_KEY"), TestClient(app):
        pass


def test_a_development_machine_may_use_the_default_key(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, env="development"))
    with TestClient(app) as client:
        assert client.get("/login").status_code == 200


def test_renda_serve_and_worker_say_what_to_set(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("RENDA_REDIS_URL", "redis://127.0.0.1:9/0")  # never reached: the key is checked first
    for command in (["serve", "--port", "9"], ["worker"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 1, result.output
        output = " ".join(result.output.split())
        assert "RENDA_SECRET_KEY" in output and "RENDA_ENV=development" in output


def test_a_set_key_starts_everywhere(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, secret_key="a-long-random-value"))
    with TestClient(app) as client:
        assert client.get("/login").status_code == 200
