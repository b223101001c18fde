"""The suggestion page tests' world: Tiandong's people who sign in, made once per test module."""

from __future__ import annotations

import secrets
from types import SimpleNamespace
from typing import Any

import pytest

from renda.platform.db import Database, Scope
from renda.platform.identity import service as identity
from renda.platform.tenancy.models import Tenant

from web_support import linked_deputy


@pytest.fixture(scope="module")
def world(db: Database, cast: Any) -> SimpleNamespace:
    """Tiandong's deputy, a co-signing deputy and a court handler who can log in, all committed."""
    tag = secrets.token_hex(3)
    with db.session(Scope.system()) as s:
        tiandong = s.get(Tenant, cast.tenant.tiandong)
        assert tiandong is not None
        for name in ("tiandong_handler", "tiandong_leader"):
            identity.set_password(s, None, tiandong, getattr(cast.user, name), cast.password)
        lead = linked_deputy(s, tiandong, cast.user.tiandong_deputy, "覃永福", cast.org.pingma)
        cosigner_user = identity.create_user(s, None, tiandong, username=f"sg-cosigner-{tag}", display_name="黄丽",
                                             password=cast.password)
        identity.grant_role(s, None, tiandong, cosigner_user, role="deputy", org_unit_id=cast.org.pingma_station)
        court_user = identity.create_user(s, None, tiandong, username=f"sg-court-{tag}", display_name="法院办理人",
                                          password=cast.password)
        identity.grant_role(s, None, tiandong, court_user, role="handler", handling_unit_id=cast.unit.tiandong_court)
        s.flush()
        cosigner = linked_deputy(s, tiandong, cosigner_user.id, f"黄丽{tag}", cast.org.pingma)
        return SimpleNamespace(tag=tag, slug=cast.slug.tiandong, base=f"/t/{cast.slug.tiandong}/suggestions",
                               lead=lead, cosigner=cosigner, cosigner_name=cosigner_user.username,
                               court=court_user.username, court_id=court_user.id)
