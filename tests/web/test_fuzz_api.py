"""Fuzzing the JSON API from its own OpenAPI document (schemathesis): requests that fit the schema and
requests that break it, anonymous and signed in as the county's office. Never a server error; every
refusal is the API's JSON error; a refused request changes nothing.

Schemathesis only draws the requests; they go through one long-lived client of the app (its session
store keeps to the client's event loop), so the office stays signed in. Derandomized and bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.generation.modes import GenerationMode

from renda.platform.config import Settings
from renda.web.app import create_app

from fuzz_support import FuzzWorld, row_snapshot
from web_support import app_settings, new_client, sign_in

API = "/api/v1/"


def _operations() -> list[Any]:
    app = create_app(Settings(database_url="sqlite://", secret_key="schema-only"))
    schema = schemathesis.openapi.from_dict(app.openapi())
    found = [result.ok() for result in schema.get_all_operations()]
    return sorted((op for op in found if op.path.startswith(API)), key=lambda op: op.label)


OPERATIONS = _operations()

FUZZ = settings(max_examples=5, derandomize=True, database=None, deadline=None, print_blob=True,
                phases=(Phase.explicit, Phase.generate, Phase.shrink),
                suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def world(db: Any) -> FuzzWorld:
    return FuzzWorld.build(db)


@pytest.fixture(scope="module")
def clients(database_url: str, redis_url: str | None, world: FuzzWorld) -> Iterator[dict[str, TestClient]]:
    settings_ = app_settings(database_url, redis_url)
    with new_client(settings_) as staff, new_client(settings_) as anonymous:
        sign_in(staff, world.admin, world.password)
        anonymous.get("/login")
        yield {"staff": staff, "anonymous": anonymous}


def _cases(operation: Any) -> st.SearchStrategy[Any]:
    return st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                     operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))


@pytest.mark.parametrize("who", ["staff", "anonymous"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_the_api_never_answers_with_a_server_error(clients: dict[str, TestClient], world: FuzzWorld,
                                                   operation: Any, who: str) -> None:
    client = clients[who]

    @settings(FUZZ, max_examples=4 if who == "staff" else 2)  # anonymous requests stop at the sign-in
    @given(case=_cases(operation), data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        # Mostly the office's own county and its rows, so requests get past the tenant and the id.
        if data.draw(st.integers(0, 3), label="own county") > 0:
            case.path_parameters = {**(case.path_parameters or {}), "slug": world.slug}
            for name in (case.path_parameters or {}):
                if name != "slug" and data.draw(st.booleans(), label=f"real {name}"):
                    case.path_parameters[name] = quote(str(data.draw(world.values(name), label=name)), safe="")
        sent = case.as_transport_kwargs(base_url="http://testserver")
        headers = {k: v for k, v in sent.get("headers", {}).items() if k.lower() in ("content-type", "accept")}
        headers["x-csrftoken"] = client.cookies.get("csrftoken", "")
        before = row_snapshot(world)
        raw = sent.get("data")
        body: dict[str, Any] = ({"json": sent["json"]} if "json" in sent
                                else {"content": raw} if isinstance(raw, str | bytes) else {"data": raw})
        response = client.request(sent["method"], sent["url"], params=sent.get("params"), headers=headers,
                                  follow_redirects=False, **body)
        assert response.status_code < 500, (operation.label, sent, response.text[:800])
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/json"), response.text[:300]
            assert set(response.json()) >= {"error", "message"}
            assert row_snapshot(world) == before, ("a refused request changed rows", operation.label, sent)

    run()
