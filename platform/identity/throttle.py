"""Login throttling per account and per address, on Redis in production and in-process embedded.

Only failures count: a moving window of N failures per account and M per address; while either
is exhausted every attempt is refused before the password is even checked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from renda.platform.config import Settings


@dataclass(frozen=True)
class ThrottleState:
    allowed: bool
    retry_after_seconds: int = 0


class LoginThrottle:
    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        if storage is None:
            storage = RedisStorage(settings.redis_url) if settings.redis_url else MemoryStorage()
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)
        window = settings.login_window_seconds
        self.per_account = RateLimitItemPerSecond(settings.login_failures_per_account, window)
        self.per_address = RateLimitItemPerSecond(settings.login_failures_per_address, window)

    def _keys(self, username: str, address: str) -> list[tuple[RateLimitItemPerSecond, str]]:
        return [
            (self.per_account, f"login:account:{username.strip().lower()}"),
            (self.per_address, f"login:address:{address}"),
        ]

    def check(self, username: str, address: str) -> ThrottleState:
        for item, key in self._keys(username, address):
            if not self.limiter.test(item, key):
                reset = self.limiter.get_window_stats(item, key).reset_time
                return ThrottleState(False, max(1, int(reset - time.time())))
        return ThrottleState(True)

    def failed(self, username: str, address: str) -> None:
        for item, key in self._keys(username, address):
            self.limiter.hit(item, key)

    def succeeded(self, username: str) -> None:
        self.limiter.clear(self.per_account, f"login:account:{username.strip().lower()}")
