"""Each kernel noun's access function (org unit, handling unit, user, grant, notification): a row that is
not the actor's to see answers exactly as a missing one, so an id tells one county nothing about
another (STYLE.md item 11); and asking, or trying to change it, changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform.db import Scope, set_scope
from renda.platform.errors import NotFound
from renda.platform.identity import service as identity
from renda.platform.identity.models import Grant, User
from renda.platform.notify import service as notify
from renda.platform.notify.models import Notification
from renda.platform.tenancy import service as tenancy
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant

MISSING = 2**62  # an id no row has


def same_as_missing(look: Callable[[int], Any], hidden_id: int) -> None:
    """``look`` refuses the hidden row with the very NotFound it gives for an id no row has."""
    with pytest.raises(NotFound) as hidden:
        look(hidden_id)
    with pytest.raises(NotFound) as missing:
        look(MISSING)
    assert hidden.value.args == missing.value.args


def test_another_countys_units_users_and_grants_are_not_found(open_session: Callable[..., Session], cast: Any,
                                                              principal_of: Any, row_counts: Any) -> None:
    s = open_session(Scope.system())
    tiandong, pingguo = s.get(Tenant, cast.tenant.tiandong), s.get(Tenant, cast.tenant.pingguo)
    assert tiandong is not None and pingguo is not None
    grant_id = s.scalars(select(Grant.id).where(Grant.user_id == cast.user.tiandong_chair)).one()
    before = row_counts(s)
    actor = principal_of(s, "pingguo_admin")  # the session now sees what Pingguo's office sees
    for tenant in (pingguo, tiandong):  # asked on its own county's pages, or on Tiandong's
        same_as_missing(lambda i, t=tenant: tenancy.access_org_unit(s, actor, t, i), cast.org.pingma)
        same_as_missing(lambda i, t=tenant: tenancy.access_handling_unit(s, actor, t, i), cast.unit.tiandong_transport)
        same_as_missing(lambda i, t=tenant: identity.access_user(s, actor, t, i), cast.user.tiandong_chair)
        same_as_missing(lambda i, t=tenant: identity.access_grant(s, actor, t, i), grant_id)
        with pytest.raises(NotFound):
            tenancy.rename_org_unit(s, actor, tenant, cast.org.pingma, name="被改名")
        with pytest.raises(NotFound):
            tenancy.set_handling_unit_retired(s, actor, tenant, cast.unit.tiandong_transport, True)
        with pytest.raises(NotFound):
            identity.set_password(s, actor, tenant, cast.user.tiandong_chair, "taken-over-123")
        with pytest.raises(NotFound):
            identity.revoke_grant(s, actor, tenant, grant_id)
    assert row_counts(s) == before
    set_scope(s, Scope.system())
    unit, office = s.get(OrgUnit, cast.org.pingma), s.get(HandlingUnit, cast.unit.tiandong_transport)
    assert unit is not None and unit.name == "平马镇" and office is not None and office.retired_at is None


def test_a_grant_named_with_another_user_is_not_found(open_session: Callable[..., Session], cast: Any,
                                                      principal_of: Any, row_counts: Any) -> None:
    s = open_session(Scope.system())
    tiandong = s.get(Tenant, cast.tenant.tiandong)
    assert tiandong is not None
    grant_id = s.scalars(select(Grant.id).where(Grant.user_id == cast.user.tiandong_chair)).one()
    before = row_counts(s)
    actor = principal_of(s, "tiandong_admin")
    same_as_missing(lambda i: identity.access_grant(s, actor, tiandong, i, user_id=cast.user.tiandong_leader),
                    grant_id)
    with pytest.raises(NotFound):
        identity.revoke_grant(s, actor, tiandong, grant_id, user_id=cast.user.tiandong_leader)
    assert row_counts(s) == before


def test_someone_elses_notification_is_not_found_and_stays_unread(open_session: Callable[..., Session],
                                                                   cast: Any, principal_of: Any) -> None:
    s = open_session(Scope.system())
    note = notify.notify(s, cast.tenant.tiandong, cast.user.tiandong_deputy, "test.access", "A message")
    s.flush()
    for name in ("pingguo_admin", "tiandong_admin"):  # another county's office, and the deputy's own
        actor = principal_of(s, name)
        same_as_missing(lambda i, actor=actor: notify.access_notification(s, actor, i), note.id)
        with pytest.raises(NotFound):
            notify.mark_read(s, actor, note.id)
        set_scope(s, Scope.system())
    found = s.get(Notification, note.id)
    assert found is not None and found.read_at is None
    deputy = principal_of(s, "tiandong_deputy")
    assert notify.access_notification(s, deputy, note.id).id == note.id


def test_an_office_may_see_a_user_of_its_county_or_with_a_role_there(open_session: Callable[..., Session],
                                                                     cast: Any, principal_of: Any) -> None:
    s = open_session(Scope.system())
    pingguo = s.get(Tenant, cast.tenant.pingguo)
    assert pingguo is not None
    actor = principal_of(s, "pingguo_admin")
    assert identity.access_user(s, actor, pingguo, cast.user.joint_deputy).id == cast.user.joint_deputy
    assert isinstance(identity.access_user_by_name(s, actor, pingguo, cast.username.pingguo_deputy), User)
    with pytest.raises(NotFound):
        identity.access_user_by_name(s, actor, pingguo, cast.username.tiandong_deputy)
