"""Each congress noun's access function (deputy, deputy import, suggestion, commitment): a row that is not
the actor's to see answers exactly as a missing one (STYLE.md item 11), and nothing changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from renda.platform.db import Scope, set_scope
from renda.platform.errors import NotFound
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy.models import Tenant
from renda.tenants.deputies import importer
from renda.tenants.deputies import service as deputies
from renda.tenants.deputies.models import Deputy, DeputyImport
from renda.tenants.suggestions import service as suggestions
from renda.tenants.suggestions.commitments import access_commitment
from renda.tenants.suggestions.models import Commitment, Suggestion

MISSING = 2**62  # an id no row has


def same_as_missing(look: Callable[[int], Any], hidden_id: int) -> None:
    with pytest.raises(NotFound) as hidden:
        look(hidden_id)
    with pytest.raises(NotFound) as missing:
        look(MISSING)
    assert hidden.value.args == missing.value.args


def _tiandong_rows(s: Session, cast: Any) -> tuple[Tenant, Deputy, Suggestion, Commitment, DeputyImport]:
    """A deputy linked to Tiandong's deputy account, their draft with a commitment, and an upload."""
    tiandong = s.get(Tenant, cast.tenant.tiandong)
    assert tiandong is not None
    deputy = Deputy(tenant_id=tiandong.id, name="覃永福", level="county", term=17, org_unit_id=cast.org.pingma,
                    user_id=cast.user.tiandong_deputy)
    s.add(deputy)
    s.flush()
    draft = suggestions.create_draft(s, load_principal(s, cast.user.tiandong_deputy), tiandong, title="修缮村道",
                                     content="村道破损，雨天难行。", term=17, session_no=None)
    set_scope(s, Scope.system())
    commitment = Commitment(tenant_id=tiandong.id, suggestion_id=draft.id, content="年内完成",
                            handling_unit_id=cast.unit.tiandong_transport, due_date=dt.date(2027, 6, 30))
    upload = DeputyImport(tenant_id=tiandong.id, filename="deputies.xlsx", sha256="0" * 64, content=b"x")
    s.add_all([commitment, upload])
    s.flush()
    return tiandong, deputy, draft, commitment, upload


def test_another_countys_deputies_suggestions_commitments_and_uploads_are_not_found(
        open_session: Callable[..., Session], cast: Any, principal_of: Any, row_counts: Any) -> None:
    s = open_session(Scope.system())
    tiandong, deputy, draft, commitment, upload = _tiandong_rows(s, cast)
    pingguo = s.get(Tenant, cast.tenant.pingguo)
    assert pingguo is not None
    before = row_counts(s)
    actor = principal_of(s, "pingguo_admin")
    for tenant in (pingguo, tiandong):
        same_as_missing(lambda i, t=tenant: deputies.access_deputy(s, actor, t, i), deputy.id)
        same_as_missing(lambda i, t=tenant: importer.access_import(s, actor, t, i), upload.id)
        same_as_missing(lambda i, t=tenant: suggestions.access_suggestion(s, actor, t, i), draft.id)
        same_as_missing(lambda i, t=tenant: access_commitment(s, actor, t, i), commitment.id)
        with pytest.raises(NotFound):
            deputies.set_active(s, actor, tenant, deputy.id, False)
    assert row_counts(s) == before
    set_scope(s, Scope.system())
    assert s.get(Deputy, deputy.id).active  # type: ignore[union-attr]


def test_a_commitment_of_a_draft_is_hidden_from_the_office_and_from_another_suggestion(
        open_session: Callable[..., Session], cast: Any, principal_of: Any) -> None:
    s = open_session(Scope.system())
    tiandong, _, draft, commitment, _ = _tiandong_rows(s, cast)
    # The office sees a suggestion once it is submitted: a draft's commitment is as absent as its draft.
    office = principal_of(s, "tiandong_admin")
    same_as_missing(lambda i: access_commitment(s, office, tiandong, i), commitment.id)
    set_scope(s, Scope.system())
    deputy = principal_of(s, "tiandong_deputy")
    assert access_commitment(s, deputy, tiandong, commitment.id).id == commitment.id
    same_as_missing(lambda i: access_commitment(s, deputy, tiandong, i, suggestion_id=draft.id + 1), commitment.id)
