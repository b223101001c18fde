"""The org tree's materialized paths follow moves, and edits change only what they name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform.db import Scope
from renda.platform.identity.models import Grant
from renda.platform.tenancy import service as tenancy
from renda.platform.tenancy.models import OrgUnit, Tenant


def _tiandong(session: Session, cast: Any) -> Tenant:
    tenant = session.get(Tenant, cast.tenant.tiandong)
    assert tenant is not None
    return tenant


def test_moving_a_station_moves_its_subtree_and_the_grants_scoped_inside(
    cast: Any, open_session: Any, principal_of: Any,
) -> None:
    session = open_session(Scope())
    actor = principal_of(session, "tiandong_admin")
    tiandong = _tiandong(session, cast)
    shuoliang = session.get(OrgUnit, cast.org.shuoliang)
    assert shuoliang is not None

    moved = tenancy.move_org_unit(session, actor, tiandong, cast.org.pingma_station, new_parent_id=shuoliang.id)

    assert moved.parent_id == shuoliang.id
    assert moved.path == f"{shuoliang.path}{moved.id}/"
    scoped = session.scalars(select(Grant).where(Grant.org_unit_id == moved.id)).all()
    assert scoped and all(g.scope_path == moved.path for g in scoped)
    # The station staff's principal now sits under 朔良镇: its chair covers it, 平马镇's does not.
    staff = principal_of(session, "tiandong_staff")
    assert {g.scope_path for g in staff.grants} == {moved.path}


def test_moving_a_township_rewrites_every_descendant_path(cast: Any, open_session: Any, principal_of: Any) -> None:
    session = open_session(Scope())
    actor = principal_of(session, "tiandong_admin")
    tiandong = _tiandong(session, cast)
    village = tenancy.add_org_unit(session, actor, tiandong, parent_id=cast.org.pingma, kind="village",
                                   name="测试村")
    station = tenancy.add_org_unit(session, actor, tiandong, parent_id=cast.org.pingma, kind="station",
                                   name="测试联络站")
    other = tenancy.add_org_unit(session, actor, tiandong, parent_id=cast.org.tiandong_root, kind="station",
                                 name="县城联络站")
    tenancy.move_org_unit(session, actor, tiandong, station.id, new_parent_id=cast.org.tiandong_root)
    session.refresh(village)
    session.refresh(station)
    root = session.get(OrgUnit, cast.org.tiandong_root)
    assert root is not None
    assert station.path == f"{root.path}{station.id}/"
    assert village.path.endswith(f"/{cast.org.pingma}/{village.id}/")
    assert other.path == f"{root.path}{other.id}/"


def test_renaming_without_a_code_keeps_the_code(cast: Any, open_session: Any, principal_of: Any) -> None:
    session = open_session(Scope())
    actor = principal_of(session, "tiandong_admin")
    tiandong = _tiandong(session, cast)
    unit = tenancy.add_org_unit(session, actor, tiandong, parent_id=cast.org.pingma, kind="village",
                                name="旧名村", code="451022100299")
    renamed = tenancy.rename_org_unit(session, actor, tiandong, unit.id, name="新名村")
    assert (renamed.name, renamed.code) == ("新名村", "451022100299")
    cleared = tenancy.rename_org_unit(session, actor, tiandong, unit.id, name="新名村", code="")
    assert cleared.code is None
