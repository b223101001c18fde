"""Settings of one Renda deployment, read once from RENDA_* environment variables.

With nothing set Renda runs embedded (SQLite under var/, in-process cache, limits and jobs);
with RENDA_DATABASE_URL and RENDA_REDIS_URL it runs on PostgreSQL and Redis.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = REPO_ROOT / "var"
DEFAULT_SECRET_KEY = "dev-only-secret-change-me"  # noqa: S105 - known to all: a development machine's only


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RENDA_", env_file=".env", extra="ignore")

    database_url: str = Field(default=f"sqlite:///{VAR_DIR / 'renda.sqlite3'}")
    redis_url: str | None = None
    # "development" (`make run` sets it) may run with the default secret key; any other deployment refuses to
    # start with it (check_secret_key): it signs the CSRF cookies and the job queue's messages.
    env: Literal["production", "development"] = "production"
    secret_key: str = DEFAULT_SECRET_KEY
    language: str = "zh_CN"
    session_lifetime_seconds: int = 8 * 3600
    cookie_secure: bool = False

    # Login throttling: failures allowed per window, per account and per address.
    login_failures_per_account: int = 5
    login_failures_per_address: int = 20
    login_window_seconds: int = 15 * 60

    # Keycloak (used by the SSO issue; empty means local login only).
    keycloak_url: str | None = None
    keycloak_realm: str = "renda"
    keycloak_client_id: str = "renda-web"
    keycloak_client_secret: str | None = None
    keycloak_timeout_seconds: int = 5
    # The address people reach Renda at, for the redirect URIs given to Keycloak; unset: the request's.
    public_url: str | None = None

    # Background jobs (huey): on Redis when redis_url is set (`renda worker` runs them), else in memory
    # and inside the web process. The queue's name keys its Redis lists; cron times are in `timezone`.
    jobs_queue: str = "renda"
    jobs_workers: int = 2
    jobs_periodic: bool = True  # this process's scheduler enqueues the periodic jobs
    # The deployment's time zone: "today" for deadlines, displayed times, cron schedules (platform/clock.py).
    timezone: str = "Asia/Shanghai"

    # Outbound notifications (SMS / WeChat gateway): the outbox is POSTed to this webhook as JSON;
    # unset: messages wait in the outbox. A failed delivery is retried after base·2^(n-1) seconds,
    # at most cap seconds, until max attempts have been made.
    notify_webhook_url: str | None = None
    # Uploaded documents and photos of every module (platform/files). Several web processes share this folder.
    attachments_dir: Path = VAR_DIR / "attachments"
    attachment_max_bytes: int = 10 * 1024 * 1024
    notify_webhook_timeout_seconds: float = 10.0
    notify_retry_base_seconds: int = 30
    notify_retry_cap_seconds: int = 3600
    notify_max_attempts: int = 8
    notify_batch_size: int = 100  # deliveries per job run; the next run takes the rest

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")


class InsecureSettings(RuntimeError):
    """The settings must not be used outside development as they stand (said in English and Chinese)."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(f"{en} / {zh}")
        self.en, self.zh = en, zh


def check_secret_key(settings: Settings) -> None:
    """At the start of the web app and of `renda worker`: no default (or empty) secret key outside development."""
    if settings.env == "development" or settings.secret_key not in ("", DEFAULT_SECRET_KEY):
        return
    raise InsecureSettings(
        "RENDA_SECRET_KEY is not set (the default is known to everyone): give it a long random value, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`; on a development machine set "
        "RENDA_ENV=development instead",
        "未设置 RENDA_SECRET_KEY（默认值人人皆知）：请设为一个足够长的随机值；开发机可改设 RENDA_ENV=development",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
