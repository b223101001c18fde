"""The deployment's Redis, or nothing when embedded: one place decides which."""

from __future__ import annotations

from functools import lru_cache

import redis

from renda.platform.config import get_settings


@lru_cache
def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def get_redis() -> redis.Redis | None:
    url = get_settings().redis_url
    return redis_client(url) if url else None
