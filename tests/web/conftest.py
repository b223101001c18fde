"""Fixtures of the page tests: a client per test, and signed-in clients with apps of their own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from web_support import app_settings, new_client, sign_in


@pytest.fixture
def app_client(database_url: str, redis_url: str | None) -> Iterator[TestClient]:
    with new_client(app_settings(database_url, redis_url)) as client:
        yield client


@pytest.fixture
def login(database_url: str, redis_url: str | None, cast: Any) -> Iterator[Callable[..., TestClient]]:
    """``login(username, password=cast.password)``: a signed-in client with an app of its own (the Redis
    session store keeps to the event loop of the client that opened it); ``login(None)``: not signed in."""
    clients: list[TestClient] = []
    settings = app_settings(database_url, redis_url)

    def open_(username: str | None, password: str | None = None) -> TestClient:
        client = new_client(settings)
        client.__enter__()
        clients.append(client)
        if username:
            sign_in(client, username, password or cast.password)
        else:
            client.get("/login")
        return client

    yield open_
    for client in clients:
        client.__exit__(None, None, None)
