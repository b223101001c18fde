"""A request is one transaction: a failure after its step (while rendering) undoes the step, on both backends.

The app here uses the real engine (no outer test transaction), so what it commits is really committed;
when the test passes, nothing is.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Response
from fastapi.testclient import TestClient
from sqlalchemy import select

from renda.platform.db import Database, Scope
from renda.platform.tenancy import service as tenancy
from renda.platform.tenancy.models import HandlingUnit
from renda.web.app import create_app
from renda.web.deps import TenantDep

from web_support import app_settings, count_statements, post_form, sign_in


class RenderingFailed(Exception):
    pass


def test_a_failure_while_rendering_undoes_the_requests_step(database_url: str, redis_url: str | None,
                                                            cast: Any, db: Database) -> None:
    name = f"住建局-{secrets.token_hex(4)}"
    app = create_app(app_settings(database_url, redis_url))

    @app.post("/t/{slug}/step-then-fail")
    def step_then_fail(ctx: TenantDep) -> Response:
        with ctx.session.begin_nested():  # as a step with files does
            tenancy.create_handling_unit(ctx.session, ctx.principal, ctx.tenant, name=name)
        raise RenderingFailed

    with TestClient(app, raise_server_exceptions=False, client=("10.11.0.1", 40000)) as client:
        sign_in(client, cast.username.tiandong_admin, cast.password)
        with count_statements(client) as sent:
            response = post_form(client, f"/t/{cast.slug.tiandong}/step-then-fail")
        assert response.status_code == 500, response.text
        with count_statements(client) as read:
            assert client.get(f"/t/{cast.slug.tiandong}/units").status_code == 200
    with db.session(Scope.system()) as session:
        assert session.scalars(select(HandlingUnit).where(HandlingUnit.name == name)).all() == []
    if db.engine.dialect.name == "sqlite":  # a write request takes the write lock when it begins; a read does not
        assert sent[0] == "BEGIN IMMEDIATE"  # (the error page reads in a transaction of its own afterwards)
        assert read[0] == "BEGIN" and "BEGIN IMMEDIATE" not in read
