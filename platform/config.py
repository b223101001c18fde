"""Settings of one Renda deployment, read once from RENDA_* environment variables.

With nothing set Renda runs embedded (SQLite under var/, in-process cache, limits and jobs);
with RENDA_DATABASE_URL and RENDA_REDIS_URL it runs on PostgreSQL and Redis.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = REPO_ROOT / "var"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RENDA_", env_file=".env", extra="ignore")

    database_url: str = Field(default=f"sqlite:///{VAR_DIR / 'renda.sqlite3'}")
    redis_url: str | None = None
    secret_key: str = "dev-only-secret-change-me"  # noqa: S105 - replaced in every real deployment
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

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def embedded(self) -> bool:
        return not self.is_postgres and self.redis_url is None


@lru_cache
def get_settings() -> Settings:
    return Settings()
