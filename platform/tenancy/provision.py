"""Create a county's or a city's tenant with its real org tree from the GB/T 2260 division codes.

With an actor every node goes through ``add_org_unit`` (checked and audited one by one); the
operator's CLI (``actor=None``) inserts the nodes in bulk, one flush per township, and audits the
whole tree once, because a county with villages has hundreds of nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from renda.platform import audit
from renda.platform.access.policy import Principal
from renda.platform.errors import N_, ValidationFailed
from renda.platform.tenancy import divisions
from renda.platform.tenancy.models import OrgUnit, Tenant
from renda.platform.tenancy.service import add_org_unit, create_tenant, tenant_root

Progress = Callable[[int, int], None]


def _division_error(msgid: str) -> ValidationFailed:
    return ValidationFailed.one("division_code", msgid)


def provision_county(
    session: Session, actor: Principal | None, *, parent: Tenant | None, division_code: str, slug: str,
    name_en: str = "", with_villages: bool = False, progress: Progress | None = None,
    data_dir: Path | str | None = None,
) -> Tenant:
    """A county-level tenant named after its division, with a node per township (and village).

    Raises ValidationFailed for a code that is not a county or a parent that is another city,
    and DivisionsUnavailable when the division data is not installed.
    """
    code = (division_code or "").strip()
    try:
        division = divisions.county(code, data_dir)
        city_code = divisions.city_of_county(code, data_dir)
    except divisions.UnknownDivision:
        raise _division_error(N_("No county-level division has this code.")) from None
    if parent is not None and parent.code and parent.level == "city" and parent.code != city_code:
        raise _division_error(N_("This county does not belong to the parent tenant's city."))
    tenant = create_tenant(session, actor, slug=slug, name=division.name, code=division.code,
                           parent=parent, level="county", name_en=name_en)
    root = tenant_root(session, tenant)
    towns = divisions.townships(code, data_dir)
    by_township = divisions.villages_in(code, data_dir) if with_villages else {}
    total = len(towns) + sum(len(by_township.get(t.code, ())) for t in towns)
    done = 0
    if progress:
        progress(done, total)
    if actor is None:
        town_units = _insert_nodes(session, tenant, root, "township", towns)
        done += len(town_units)
        if progress:
            progress(done, total)
        for town in town_units:
            found = by_township.get(town.code or "", [])
            if found:
                _insert_nodes(session, tenant, town, "village", found)
                done += len(found)
                if progress:
                    progress(done, total)
        session.flush()
    else:
        for division_town in towns:
            unit = add_org_unit(session, actor, tenant, parent_id=root.id, kind="township",
                                name=division_town.name, code=division_town.code)
            done += 1
            for village in by_township.get(division_town.code, []):
                add_org_unit(session, actor, tenant, parent_id=unit.id, kind="village",
                             name=village.name, code=village.code)
                done += 1
            if progress:
                progress(done, total)
    villages_count = sum(len(by_township.get(t.code, ())) for t in towns)
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id if actor else None,
                 action="org_tree.provision", object_type="tenants", object_id=tenant.id,
                 after={"division": division.code, "townships": len(towns), "villages": villages_count})
    return tenant


def provision_city(
    session: Session, actor: Principal | None, *, division_code: str, slug: str, name_en: str = "",
    data_dir: Path | str | None = None,
) -> Tenant:
    """A city-level tenant (no townships: its counties are tenants of their own, added under it)."""
    try:
        division = divisions.city((division_code or "").strip(), data_dir)
    except divisions.UnknownDivision:
        raise _division_error(N_("No city has this code.")) from None
    return create_tenant(session, actor, slug=slug, name=division.name, code=division.code,
                         parent=None, level="city", name_en=name_en)


def _insert_nodes(session: Session, tenant: Tenant, parent: OrgUnit, kind: str,
                  items: Sequence[divisions.Division]) -> list[OrgUnit]:
    """Insert sibling nodes in one flush and give them their paths (written at the next flush)."""
    units = [
        OrgUnit(tenant_id=tenant.id, parent_id=parent.id, kind=kind, name=d.name, code=d.code, path="",
                joint_station_id=parent.joint_station_id)
        for d in items
    ]
    session.add_all(units)
    session.flush()
    for unit in units:
        unit.path = f"{parent.path}{unit.id}/"
    return units
