"""Reads for the deputies pages: the searchable, paginated list and one deputy's page, each in a
fixed number of statements however many deputies a tenant keeps."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, aliased

from renda.platform.identity.models import User
from renda.platform.tenancy.models import OrgUnit, Tenant
from renda.tenants.deputies.models import LEVELS, Deputy, DeputyStation
from renda.tenants.deputies.service import PLACE_KINDS, station_filter

PER_PAGE = 25


@dataclass(frozen=True)
class DeputyFilter:
    q: str = ""  # name, electoral unit or station name
    level: str = ""
    term: int | None = None
    township: int | None = None  # org unit id of the deputy's place
    active: bool | None = True


@dataclass(frozen=True)
class DeputyRow:
    deputy: Deputy
    place: str
    stations: list[str]


@dataclass
class DeputyPage:
    rows: list[DeputyRow]
    total: int
    page: int
    pages: int
    per_page: int = PER_PAGE


@dataclass
class DeputyDetail:
    deputy: Deputy
    place: OrgUnit | None
    stations: list[OrgUnit] = field(default_factory=list)
    user: User | None = None


def _conditions(tenant: Tenant, f: DeputyFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Deputy.tenant_id == tenant.id]
    q = f.q.strip()
    if q:
        station = aliased(OrgUnit)
        in_station = (select(DeputyStation.deputy_id)
                      .join(station, station.id == DeputyStation.org_unit_id)
                      .where(DeputyStation.tenant_id == tenant.id, station.name.icontains(q, autoescape=True)))
        where.append(or_(Deputy.name.icontains(q, autoescape=True),
                         Deputy.electoral_unit.icontains(q, autoescape=True),
                         Deputy.id.in_(in_station)))
    if f.level in LEVELS:
        where.append(Deputy.level == f.level)
    if f.term is not None:
        where.append(Deputy.term == f.term)
    if f.township is not None:
        where.append(Deputy.org_unit_id == f.township)
    if f.active is not None:
        where.append(Deputy.active.is_(f.active))
    return where


def deputy_page(session: Session, tenant: Tenant, f: DeputyFilter, page: int = 1,
                per_page: int = PER_PAGE) -> DeputyPage:
    """One page of the tenant's deputies, newest term first, in three statements."""
    where = _conditions(tenant, f)
    total = session.scalar(select(func.count()).select_from(Deputy).where(*where)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = session.execute(
        select(Deputy, OrgUnit.name).join(OrgUnit, OrgUnit.id == Deputy.org_unit_id).where(*where)
        .order_by(Deputy.term.desc(), Deputy.name, Deputy.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    names = stations_by_deputy(session, tenant, [d.id for d, _ in rows])
    return DeputyPage([DeputyRow(d, place, names.get(d.id, [])) for d, place in rows], total, page, pages,
                      per_page)


def stations_by_deputy(session: Session, tenant: Tenant, deputy_ids: list[int]) -> dict[int, list[str]]:
    if not deputy_ids:
        return {}
    out: dict[int, list[str]] = defaultdict(list)
    for deputy_id, name in session.execute(
        select(DeputyStation.deputy_id, OrgUnit.name).join(OrgUnit, OrgUnit.id == DeputyStation.org_unit_id)
        .where(DeputyStation.tenant_id == tenant.id, DeputyStation.deputy_id.in_(deputy_ids))
        .order_by(OrgUnit.path)
    ):
        out[deputy_id].append(name)
    return out


def deputy_detail(session: Session, tenant: Tenant, deputy: Deputy) -> DeputyDetail:
    stations = list(session.scalars(
        select(OrgUnit).join(DeputyStation, DeputyStation.org_unit_id == OrgUnit.id)
        .where(DeputyStation.tenant_id == tenant.id, DeputyStation.deputy_id == deputy.id).order_by(OrgUnit.path)))
    return DeputyDetail(
        deputy=deputy,
        place=session.get(OrgUnit, deputy.org_unit_id),
        stations=stations,
        user=session.get(User, deputy.user_id) if deputy.user_id else None,
    )


def places(session: Session, tenant: Tenant) -> list[OrgUnit]:
    """Where a deputy may belong: the congress, then its townships."""
    return list(session.scalars(select(OrgUnit).where(
        OrgUnit.tenant_id == tenant.id, OrgUnit.kind.in_(PLACE_KINDS), OrgUnit.retired_at.is_(None),
    ).order_by(OrgUnit.path)))


def stations(session: Session, tenant: Tenant) -> list[OrgUnit]:
    return list(session.scalars(select(OrgUnit).where(station_filter(tenant)).order_by(OrgUnit.path)))


def terms(session: Session, tenant: Tenant) -> list[int]:
    return list(session.scalars(select(Deputy.term).where(Deputy.tenant_id == tenant.id).distinct()
                                .order_by(Deputy.term.desc())))
