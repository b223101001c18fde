"""Actions on deputies' records: create, edit, station them, link their account, deactivate.

Each action checks deputy.manage over the org node the deputy belongs to (the congress itself or
a township), validates with the rules shared with the sheet import, and writes an audit entry with
the record before and after. Edits carry the version the editor saw: a stale one is a Conflict.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform import audit, steps
from renda.platform.access.policy import Principal, Target, can, require, require_in
from renda.platform.db import Scope, get_scope, set_scope, utcnow
from renda.platform.errors import N_, Conflict, Message, NotFound, ValidationFailed
from renda.platform.identity.models import Grant, User
from renda.platform.identity.service import access_user
from renda.platform.numbers import is_id, parse_id, parse_whole
from renda.platform.tenancy.models import JointStationMember, OrgUnit, Tenant
from renda.tenants.congress.roles import Permission, Role
from renda.tenants.deputies import rules
from renda.tenants.deputies.models import LEVELS, Deputy, DeputyStation

PLACE_KINDS = ("congress", "township")  # where a deputy belongs
STATION_KINDS = ("station", "joint_station")  # where a deputy may be stationed (进站)
STALE = N_("Someone else saved this deputy while you were editing. Your input is kept below; check the "
           "current record, then save again.")


def access_deputy(session: Session, actor: Principal, tenant: Tenant, deputy_id: int) -> Deputy:
    """The deputy inside this tenant and the actor's sight, or NotFound exactly as if absent."""
    if not is_id(deputy_id):
        raise NotFound("deputy")
    deputy = session.scalars(
        select(Deputy).where(Deputy.id == deputy_id, Deputy.tenant_id == tenant.id)
    ).first()
    if deputy is None:
        raise NotFound("deputy")
    return deputy


def keeps_deputies(actor: Principal, tenant: Tenant) -> bool:
    """Whether the actor keeps deputies somewhere in the tenant (deputy.manage): the list's buttons."""
    return Permission.DEPUTY_MANAGE in actor.permissions_in(tenant.id)


def require_keeper(actor: Principal, tenant: Tenant) -> None:
    """The import and the new-deputy form are for those who keep deputies; each save checks its place."""
    require_in(actor, Permission.DEPUTY_MANAGE, tenant.id)


def place_of(session: Session, deputy: Deputy) -> OrgUnit:
    place = session.get(OrgUnit, deputy.org_unit_id)
    if place is None:
        raise NotFound("org unit")
    return place


def target_of(session: Session, deputy: Deputy) -> Target:
    return Target(deputy.tenant_id, place_of(session, deputy).path)


def may_manage(session: Session, actor: Principal, deputy: Deputy) -> bool:
    """Whether pages show this deputy's full contact details and edit buttons to the actor."""
    return can(actor, Permission.DEPUTY_MANAGE, target_of(session, deputy))


def deputy_to_edit(session: Session, actor: Principal, tenant: Tenant, deputy_id: int) -> tuple[Deputy, list[int]]:
    """The record and its stations for the edit form, for those who keep it (deputy.manage over its place)."""
    deputy = access_deputy(session, actor, tenant, deputy_id)
    require(actor, Permission.DEPUTY_MANAGE, target_of(session, deputy))
    return deputy, station_ids_of(session, deputy)


def check_place(session: Session, tenant: Tenant, org_unit_id: Any) -> OrgUnit:
    place = None
    if (place_id := parse_id(org_unit_id)) is not None:
        place = session.scalars(select(OrgUnit).where(
            OrgUnit.id == place_id, OrgUnit.tenant_id == tenant.id, OrgUnit.kind.in_(PLACE_KINDS),
            OrgUnit.retired_at.is_(None))).first()
    if place is None:
        raise ValidationFailed.one("org_unit_id", N_("Choose the congress or one of its townships."))
    return place


def station_filter(tenant: Tenant) -> Any:
    """The stations a deputy of this tenant may join: its own, and joint stations it is a member of."""
    joint = select(JointStationMember.joint_station_id).where(JointStationMember.tenant_id == tenant.id)
    return (OrgUnit.kind.in_(STATION_KINDS) & OrgUnit.retired_at.is_(None)
            & ((OrgUnit.tenant_id == tenant.id) | OrgUnit.joint_station_id.in_(joint)))


def check_stations(session: Session, tenant: Tenant, station_ids: Iterable[Any]) -> list[OrgUnit]:
    wanted = {i for i in (parse_id(s) for s in station_ids) if i is not None}
    if len(wanted) != len({str(s) for s in station_ids if str(s).strip()}):
        raise ValidationFailed.one("stations", N_("Choose stations of this congress."))
    if not wanted:
        return []
    found = list(session.scalars(select(OrgUnit).where(OrgUnit.id.in_(sorted(wanted)),
                                                       station_filter(tenant))))
    if len(found) != len(wanted):
        raise ValidationFailed.one("stations", N_("Choose stations of this congress."))
    return sorted(found, key=lambda s: s.path)


def station_ids_of(session: Session, deputy: Deputy) -> list[int]:
    return sorted(session.scalars(select(DeputyStation.org_unit_id).where(
        DeputyStation.tenant_id == deputy.tenant_id, DeputyStation.deputy_id == deputy.id)))


def snapshot(deputy: Deputy, stations: list[int] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {f: getattr(deputy, f) for f in (*rules.FIELDS, "org_unit_id", "user_id", "active")}
    out["birth_date"] = deputy.birth_date.isoformat() if deputy.birth_date else None
    if stations is not None:
        out["stations"] = stations
    return out


def _check_code_free(session: Session, tenant: Tenant, term: int, id_code: str | None,
                     exclude: int | None = None) -> None:
    if id_code is None:
        return
    stmt = select(Deputy.id).where(Deputy.tenant_id == tenant.id, Deputy.term == term, Deputy.id_code == id_code)
    if exclude is not None:
        stmt = stmt.where(Deputy.id != exclude)
    if session.scalars(stmt).first() is not None:
        raise ValidationFailed.one("id_code", N_("Another deputy of this term has this number."))


def _validate(session: Session, tenant: Tenant, fields: dict[str, Any], org_unit_id: Any,
              station_ids: Iterable[Any] | None) -> tuple[dict[str, Any], OrgUnit, list[OrgUnit] | None]:
    """Every field, the place and the stations at once, so a form shows all its problems together."""
    errors: dict[str, Message] = {}
    clean: dict[str, Any] = {}
    place: OrgUnit | None = None
    stations: list[OrgUnit] | None = None
    try:
        clean = rules.clean_fields({f: fields.get(f) for f in rules.FIELDS})
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        place = check_place(session, tenant, org_unit_id)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if station_ids is not None:
        try:
            stations = check_stations(session, tenant, list(station_ids))
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors or place is None:
        raise ValidationFailed(errors)
    return clean, place, stations


def create_deputy(session: Session, actor: Principal, tenant: Tenant, *, fields: dict[str, Any],
                  org_unit_id: Any, station_ids: Iterable[Any] = ()) -> Deputy:
    clean, place, stations = _validate(session, tenant, fields, org_unit_id, station_ids)
    require(actor, Permission.DEPUTY_MANAGE, Target(tenant.id, place.path))
    _check_code_free(session, tenant, clean["term"], clean["id_code"])
    deputy = Deputy(tenant_id=tenant.id, org_unit_id=place.id, **clean)
    session.add(deputy)
    session.flush()
    ids = sorted(s.id for s in stations or [])
    session.add_all(DeputyStation(tenant_id=tenant.id, deputy_id=deputy.id, org_unit_id=s) for s in ids)
    audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id, action="deputy.create",
                 obj=deputy, after=snapshot(deputy, ids))
    return deputy


def update_deputy(session: Session, actor: Principal, tenant: Tenant, deputy_id: int, *, version: Any,
                  fields: dict[str, Any], org_unit_id: Any, station_ids: Iterable[Any] | None = None) -> Deputy:
    """Edit the record as the editor saw it at ``version``; stations too when given."""
    deputy = access_deputy(session, actor, tenant, deputy_id)
    require(actor, Permission.DEPUTY_MANAGE, target_of(session, deputy))
    _check_version(deputy, version)
    clean, place, stations = _validate(session, tenant, fields, org_unit_id, station_ids)
    if place.id != deputy.org_unit_id:
        require(actor, Permission.DEPUTY_MANAGE, Target(tenant.id, place.path))
    _check_code_free(session, tenant, clean["term"], clean["id_code"], exclude=deputy.id)
    before = snapshot(deputy, station_ids_of(session, deputy))
    for field, value in clean.items():
        setattr(deputy, field, value)
    deputy.org_unit_id = place.id
    ids = before["stations"] if stations is None else _write_stations(session, deputy, stations)
    return _save(session, actor, deputy, "deputy.update", before, ids)


def set_stations(session: Session, actor: Principal, tenant: Tenant, deputy_id: int,
                 station_ids: Iterable[Any]) -> Deputy:
    deputy = access_deputy(session, actor, tenant, deputy_id)
    require(actor, Permission.DEPUTY_MANAGE, target_of(session, deputy))
    stations = check_stations(session, tenant, list(station_ids))
    before = snapshot(deputy, station_ids_of(session, deputy))
    return _save(session, actor, deputy, "deputy.stations", before, _write_stations(session, deputy, stations))


def link_user(session: Session, actor: Principal | None, tenant: Tenant, *, user_id: int,
              deputy_id: int | None = None, id_code: str | None = None) -> Deputy:
    """Link the account that signs in as this deputy, named by the record's id or its deputy number.

    ``actor=None`` is the sign-in itself (an identity provider's verified deputy-number attribute):
    it may claim a record by its number in the tenant's latest term, never take one linked to
    someone else. Staff (deputy.manage) may link and relink any record they keep.
    """
    if (deputy_id is None) == (id_code is None):
        raise ValueError("name the deputy by exactly one of deputy_id and id_code")
    if deputy_id is not None:
        deputy = (access_deputy(session, actor, tenant, deputy_id) if actor is not None
                  else session.scalars(select(Deputy).where(Deputy.id == deputy_id,
                                                            Deputy.tenant_id == tenant.id)).first())
    else:
        deputy = session.scalars(select(Deputy).where(
            Deputy.tenant_id == tenant.id, Deputy.id_code == (id_code or "").strip(), Deputy.active.is_(True),
        ).order_by(Deputy.term.desc())).first()
    if deputy is None:
        raise NotFound("deputy")
    if actor is not None:
        require(actor, Permission.DEPUTY_MANAGE, target_of(session, deputy))
        user: User | None = access_user(session, actor, tenant, user_id)
    else:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("user")
        if deputy.user_id not in (None, user.id):
            raise Conflict(Message(N_("This deputy's record is linked to another account. Ask your congress "
                                      "office to check it.")))
    assert user is not None
    clash = session.scalars(select(Deputy.name).where(
        Deputy.tenant_id == tenant.id, Deputy.user_id == user.id, Deputy.id != deputy.id,
        Deputy.term == deputy.term, Deputy.level == deputy.level, Deputy.active.is_(True))).first()
    if clash is not None:
        raise ValidationFailed.one("user", N_("This account already signs in as %(name)s, a deputy of the same "
                                              "term and level."), name=clash)
    if deputy.user_id == user.id:
        return deputy
    before = snapshot(deputy)
    deputy.user_id = user.id
    return _save(session, actor, deputy, "deputy.link_user", before, None, actor_id=user.id if actor is None else None)


def link_by_number(session: Session, user_id: int, code: str) -> list[tuple[str, str]]:
    """At single sign-on: link the account to the record its verified deputy number names, in each
    tenant where the sign-in made it a deputy. Finding those tenants must see every tenant, so it runs
    under the system scope and restores the caller's. Returns (tenant slug, why) for each tenant where
    nothing was linked (a number that names nothing, a record linked to someone else): the office's
    to resolve, and the caller's to log."""
    if not code:
        return []
    missed: list[tuple[str, str]] = []
    previous = get_scope(session)
    set_scope(session, Scope.system())
    try:
        tenants = session.scalars(select(Tenant).join(Grant, Grant.tenant_id == Tenant.id).where(
            Grant.user_id == user_id, Grant.role == Role.DEPUTY.value).distinct())
        for tenant in list(tenants):
            try:
                link_user(session, None, tenant, user_id=user_id, id_code=code)
            except (NotFound, Conflict) as exc:
                missed.append((tenant.slug, type(exc).__name__))
        session.flush()
    finally:
        set_scope(session, previous)
    return missed


def unlink_user(session: Session, actor: Principal, tenant: Tenant, deputy_id: int) -> Deputy:
    deputy = access_deputy(session, actor, tenant, deputy_id)
    require(actor, Permission.DEPUTY_MANAGE, target_of(session, deputy))
    if deputy.user_id is None:
        return deputy
    before = snapshot(deputy)
    deputy.user_id = None
    return _save(session, actor, deputy, "deputy.unlink_user", before, None)


def set_active(session: Session, actor: Principal, tenant: Tenant, deputy_id: int, active: bool) -> Deputy:
    """Deactivate a deputy (term ended, resigned, recalled) or restore one; the record stays."""
    deputy = access_deputy(session, actor, tenant, deputy_id)
    require(actor, Permission.DEPUTY_MANAGE, target_of(session, deputy))
    if deputy.active == active:
        return deputy
    before = snapshot(deputy)
    deputy.active = active
    return _save(session, actor, deputy, "deputy.reactivate" if active else "deputy.deactivate", before, None)


def deputy_for_user(session: Session, user_id: int, tenant_id: int | None = None) -> Deputy | None:
    """The active record a signed-in user acts as (for suggestions, votes, stations), within the
    session's scope: in ``tenant_id`` when given; the highest level first, then the latest term."""
    stmt = select(Deputy).where(Deputy.user_id == user_id, Deputy.active.is_(True))
    if tenant_id is not None:
        stmt = stmt.where(Deputy.tenant_id == tenant_id)
    found = list(session.scalars(stmt))
    found.sort(key=lambda d: (LEVELS.index(d.level), -d.term, d.id))
    return found[0] if found else None


def _check_version(deputy: Deputy, version: Any) -> None:
    """The version the editor saw (a form's text, or a number); anything else is no version of it."""
    steps.check_version(deputy, parse_whole(version, minimum=1) or -1, STALE)


def _write_stations(session: Session, deputy: Deputy, stations: list[OrgUnit]) -> list[int]:
    """Make the deputy's stations exactly these; returns their ids."""
    wanted = {s.id for s in stations}
    current = {link.org_unit_id: link for link in session.scalars(select(DeputyStation).where(
        DeputyStation.tenant_id == deputy.tenant_id, DeputyStation.deputy_id == deputy.id))}
    for station_id, link in current.items():
        if station_id not in wanted:
            session.delete(link)
    session.add_all(DeputyStation(tenant_id=deputy.tenant_id, deputy_id=deputy.id, org_unit_id=s)
                    for s in sorted(wanted - set(current)))
    if wanted != set(current):
        deputy.updated_at = utcnow()  # the row changes too, so its version guards the stations
    return sorted(wanted)


def _save(session: Session, actor: Principal | None, deputy: Deputy, action: str, before: dict[str, Any],
          stations: list[int] | None, actor_id: int | None = None) -> Deputy:
    """Flush (a concurrent edit is a Conflict) and audit the change, if there was one."""
    steps.save(session, actor_id=actor.user_id if actor else actor_id, record=deputy, action=action, before=before,
               after=snapshot(deputy, stations), stale=STALE)
    return deputy
