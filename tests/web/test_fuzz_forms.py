"""Fuzzing every form of the pages: whatever a request holds, the answer is never a server error, and a
request that is refused or invalid changes nothing.

Every POST route the app has (and every GET route that reads an id or a query) is found from the app
itself, so a new page is fuzzed without editing this file. Hypothesis fills its fields and the ids in
its path from the values that once broke pages (ids beyond 64 bits, "³", full-width and Arabic-Indic
digits, empty and very long text, dates that are not dates) and from real ids: this module's county,
its neighbour's rows, nothing of the fixed cast. Anonymous visitors and the county's office both
post. Derandomized and bounded: the same examples on every run, in well under a minute.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from renda.platform.config import Settings
from renda.platform.tenancy.settings import REGISTRY
from renda.web.app import create_app

from fuzz_support import FuzzWorld, nasty_text, row_snapshot
from web_support import app_settings, new_client, sign_in

# Fields some routes read from the request itself (the board's filters, the settings form): sent to every
# route now and then, with the fields it declares.
EXTRA_NAMES = ("page", "per_page", "unit", "deputy", "state", "colour", "series", "q", "key", "sort", "before",
               "term", "by", "done", "version", *REGISTRY)
# Ending the session is not a form to fuzz; signing in is fuzzed for anonymous visitors only.
SKIP = {"/logout"}
STAFF_SKIP = SKIP | {"/login"}
ID_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def _flat(routes: list[Any]) -> Iterator[APIRoute]:
    """The app's routes, through the routers it includes (FastAPI keeps those as routers of their own)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _flat(route.original_router.routes)


def _routes() -> list[APIRoute]:
    app = create_app(Settings(database_url="sqlite://", secret_key="routes-only"))
    found = [r for r in _flat(app.routes) if not r.path.startswith("/api/")]
    posts = [r for r in found if "POST" in r.methods and r.path not in SKIP]
    reads = [r for r in found if "GET" in r.methods and (r.path.startswith("/t/") or r.dependant.query_params)]
    return sorted(posts, key=lambda r: r.path) + sorted(reads, key=lambda r: r.path)


ROUTES = _routes()


def _label(route: APIRoute) -> str:
    return f"{'POST' if 'POST' in route.methods else 'GET'} {route.path}"


FUZZ = settings(max_examples=5, derandomize=True, database=None, deadline=None, print_blob=True,
                phases=(Phase.explicit, Phase.generate, Phase.shrink),
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def world(db: Any) -> FuzzWorld:
    return FuzzWorld.build(db)


@pytest.fixture(scope="module")
def staff(database_url: str, redis_url: str | None, world: FuzzWorld) -> Iterator[TestClient]:
    with new_client(app_settings(database_url, redis_url)) as client:
        sign_in(client, world.admin, world.password)
        yield client


@pytest.fixture(scope="module")
def anonymous(database_url: str, redis_url: str | None) -> Iterator[TestClient]:
    with new_client(app_settings(database_url, redis_url)) as client:
        client.get("/login")  # the CSRF cookie: posts get past it and reach the routes
        yield client


def _request(data: st.DataObject, world: FuzzWorld, route: APIRoute) -> dict[str, Any]:
    """One request to ``route``: its path filled, its form fields (or query) drawn, files sometimes."""
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "slug":  # mostly the office's own county, where the forms lead somewhere
            return data.draw(st.sampled_from([world.slug] * 6 + [world.slug_b, "no-such-county"]), label=name)
        return quote(str(data.draw(world.values(name), label=name)), safe="")

    url = ID_PARAM.sub(fill, route.path)
    fields: dict[str, Any] = {}
    files: dict[str, Any] = {}
    params = route.dependant.body_params if "POST" in route.methods else route.dependant.query_params
    for param in params:
        if "UploadFile" in repr(param.field_info.annotation) or "file" in param.name:
            if data.draw(st.booleans(), label=f"{param.name} sent"):
                files[param.name] = (data.draw(nasty_text(), label="filename") or "x.xlsx",
                                     data.draw(st.binary(max_size=64), label="content"))
        elif data.draw(st.booleans(), label=f"{param.name} sent"):
            many = "list" in repr(param.field_info.annotation)
            values = world.values(param.name)
            drawn = data.draw(st.lists(values, max_size=3) if many else values, label=param.name)
            fields[param.name] = [str(v) for v in drawn] if many else str(drawn)
    extra = data.draw(st.dictionaries(st.sampled_from(EXTRA_NAMES), world.values().map(str), max_size=3),
                      label="extra")
    return {"url": url, "fields": {**extra, **fields}, "files": files}


def _send(client: TestClient, route: APIRoute, request: dict[str, Any]) -> Any:
    token = client.cookies.get("csrftoken", "")
    headers = {"x-csrftoken": token}
    if "POST" not in route.methods:
        return client.get(request["url"], params=request["fields"], follow_redirects=False)
    form = {"csrftoken": token, **request["fields"]}
    return client.post(request["url"], data=form, files=request["files"] or None, headers=headers,
                       follow_redirects=False)


def _check(client: TestClient, world: FuzzWorld, route: APIRoute, request: dict[str, Any]) -> None:
    before = row_snapshot(world)
    response = _send(client, route, request)
    assert response.status_code < 500, (_label(route), request, response.text[:800])
    assert "Traceback" not in response.text
    if response.status_code >= 400:
        assert row_snapshot(world) == before, ("a refused request changed rows", _label(route), request)


POSTS = [r for r in ROUTES if "POST" in r.methods and r.path not in STAFF_SKIP]
READS = [r for r in ROUTES if "POST" not in r.methods]


@pytest.mark.parametrize("route", POSTS, ids=_label)
@FUZZ
@given(data=st.data())
def test_the_countys_office_never_meets_a_server_error_posting(staff: TestClient, world: FuzzWorld,
                                                               route: APIRoute, data: st.DataObject) -> None:
    _check(staff, world, route, _request(data, world, route))


@pytest.mark.parametrize("route", READS, ids=_label)
@settings(FUZZ, max_examples=3)  # pages that only read: fewer fields, fewer ways to go wrong
@given(data=st.data())
def test_the_countys_office_never_meets_a_server_error_reading(staff: TestClient, world: FuzzWorld,
                                                               route: APIRoute, data: st.DataObject) -> None:
    _check(staff, world, route, _request(data, world, route))


@pytest.mark.parametrize("route", ROUTES, ids=_label)
@settings(FUZZ, max_examples=2)
@given(data=st.data())
def test_an_anonymous_visitor_never_meets_a_server_error(anonymous: TestClient, world: FuzzWorld,
                                                         route: APIRoute, data: st.DataObject) -> None:
    _check(anonymous, world, route, _request(data, world, route))
