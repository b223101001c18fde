"""Deputies' records through their service actions: who may keep them, what a record must satisfy,
optimistic locking, the audit trail, linking accounts, and isolation between tenants."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

import renda.tenants.deputies.models  # noqa: F401 - maps the deputies' tables for this run
from renda.platform.access.policy import AccessDenied
from renda.platform.audit import AuditEntry
from renda.platform.db import Database, Scope, set_scope
from renda.platform.errors import Conflict, NotFound, ValidationFailed
from renda.platform.identity import service as identity
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy.models import Tenant
from renda.tenants.deputies import rules, service
from renda.tenants.deputies.models import Deputy, DeputyStation

FIELDS = {"name": "黄秀英", "gender": "女", "ethnicity": "壮族", "birth_date": "1975.03", "level": "county",
          "term": "17", "electoral_unit": "平马镇第三选区", "delegation": "平马镇代表小组",
          "professional_group": "农业农村", "phone": "13807761234", "email": "", "id_code": ""}


def _tenant(s: Session, tenant_id: int) -> Tenant:
    tenant = s.get(Tenant, tenant_id)
    assert tenant is not None
    return tenant


def _create(s: Session, actor: Any, tenant: Tenant, org_unit_id: int, stations: tuple[int, ...] = (),
            **fields: Any) -> Deputy:
    return service.create_deputy(s, actor, tenant, fields={**FIELDS, **fields}, org_unit_id=org_unit_id,
                                 station_ids=stations)


def _count(s: Session, model: Any = Deputy) -> int:
    previous = s.info.get("scope")
    set_scope(s, Scope.system())
    try:
        s.flush()
        return s.scalar(select(func.count()).select_from(model)) or 0
    finally:
        set_scope(s, previous if isinstance(previous, Scope) else Scope())


def _audits(s: Session, deputy_id: int) -> list[AuditEntry]:
    return list(s.scalars(select(AuditEntry).where(AuditEntry.object_type == "deputies",
                                                   AuditEntry.object_id == str(deputy_id)).order_by(AuditEntry.id)))


@pytest.fixture
def session(open_session: Any) -> Session:
    return open_session(Scope.system())


@pytest.fixture
def township_manager(session: Session, cast: Any) -> int:
    """A user who keeps the deputies of 平马镇 only (congress staff role granted on the township)."""
    tiandong = _tenant(session, cast.tenant.tiandong)
    user = identity.create_user(session, None, tiandong, username=f"pingma-keeper-{secrets.token_hex(3)}",
                                display_name="平马镇代表工作人员", password=None)
    identity.grant_role(session, None, tiandong, user, role="congress_admin", org_unit_id=cast.org.pingma)
    session.flush()
    return user.id


# --- creating, validating, auditing --------------------------------------------------------------


def test_county_staff_create_a_deputy_with_stations_and_the_change_is_audited(
        session: Session, cast: Any, principal_of: Any) -> None:
    actor = principal_of(session, "tiandong_admin")
    tiandong = _tenant(session, cast.tenant.tiandong)
    deputy = _create(session, actor, tiandong, cast.org.pingma, (cast.org.pingma_station,), id_code="TD17-001")
    assert (deputy.name, deputy.gender, deputy.level, deputy.term) == ("黄秀英", "female", "county", 17)
    assert deputy.birth_date is not None and deputy.birth_date.isoformat() == "1975-03-01"
    assert deputy.version == 1 and deputy.user_id is None and deputy.active
    assert service.station_ids_of(session, deputy) == [cast.org.pingma_station]
    [entry] = _audits(session, deputy.id)
    assert entry.action == "deputy.create" and entry.actor_user_id == cast.user.tiandong_admin
    assert entry.after is not None and entry.after["phone"] == "13807761234"
    assert entry.after["stations"] == [cast.org.pingma_station]


def test_every_invalid_field_is_reported_at_once_and_nothing_is_written(
        session: Session, cast: Any, principal_of: Any) -> None:
    actor = principal_of(session, "tiandong_admin")
    tiandong = _tenant(session, cast.tenant.tiandong)
    before = _count(session)
    with pytest.raises(ValidationFailed) as caught:
        _create(session, actor, tiandong, cast.org.xinan, (cast.org.xinan_station,), name=" ", level="village",
                term="31", phone="12345", email="not-an-email", birth_date="1975-13", gender="x")
    assert set(caught.value.errors) == {"name", "level", "term", "phone", "email", "birth_date", "gender",
                                        "org_unit_id", "stations"}
    assert caught.value.errors["name"].msgid == "Enter a name."
    assert _count(session) == before


def test_a_name_of_more_than_fifty_characters_is_refused(session: Session, cast: Any, principal_of: Any) -> None:
    actor = principal_of(session, "tiandong_admin")
    with pytest.raises(ValidationFailed) as caught:
        _create(session, actor, _tenant(session, cast.tenant.tiandong), cast.org.pingma, name="黄" * 51)
    assert caught.value.errors["name"].params == {"n": 50}


@pytest.mark.parametrize(("typed", "stored"), [
    ("13807761234", "13807761234"), ("138 0776 1234", "13807761234"), ("+8613807761234", "13807761234"),
    ("0776-5221234", "0776-5221234"), ("07765221234", "07765221234"), ("010-12345678", "010-12345678"),
    ("", ""),
])
def test_mainland_mobiles_and_landlines_are_accepted(typed: str, stored: str) -> None:
    assert rules.clean_phone(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "23807761234", "1380776123", "0776-12345", "phone", "1380776123x"])
def test_other_phone_numbers_are_refused(typed: str) -> None:
    with pytest.raises(ValidationFailed):
        rules.clean_phone(typed)


@pytest.mark.parametrize(("typed", "term"), [("5", 5), ("第五届", 5), ("十七", 17), ("第二十届", 20), ("30", 30),
                                             (17.0, 17)])
def test_terms_are_read_as_offices_write_them(typed: Any, term: int) -> None:
    assert rules.clean_term(typed) == term


@pytest.mark.parametrize(("typed", "day"), [
    ("1975-03-12", dt.date(1975, 3, 12)), ("1975.03", dt.date(1975, 3, 1)), ("1975年3月", dt.date(1975, 3, 1)),
    ("1975年3月12日", dt.date(1975, 3, 12)), ("197503", dt.date(1975, 3, 1)), ("1975/3/12", dt.date(1975, 3, 12)),
    (dt.datetime(1975, 3, 12, 0, 0), dt.date(1975, 3, 12)), ("", None),  # Excel's date cells arrive as datetimes
])
def test_birth_dates_are_read_as_offices_write_them(typed: Any, day: dt.date | None) -> None:
    assert rules.clean_birth_date(typed) == day


def test_phones_are_masked_for_display() -> None:
    assert rules.mask_phone("13807761234") == "138****1234"
    assert rules.mask_phone("0776-5221234") == "077****1234"


def test_the_same_deputy_number_twice_in_a_term_is_refused_but_not_across_terms(
        session: Session, cast: Any, principal_of: Any) -> None:
    actor = principal_of(session, "tiandong_admin")
    tiandong = _tenant(session, cast.tenant.tiandong)
    _create(session, actor, tiandong, cast.org.pingma, id_code="TD-DUP")
    with pytest.raises(ValidationFailed) as caught:
        _create(session, actor, tiandong, cast.org.pingma, id_code="TD-DUP", name="另一位")
    assert set(caught.value.errors) == {"id_code"}
    assert _create(session, actor, tiandong, cast.org.pingma, id_code="TD-DUP", term="16").term == 16


# --- who may keep which records ------------------------------------------------------------------


def test_a_township_keeper_edits_their_townships_deputies_but_not_another_townships(
        session: Session, cast: Any, principal_of: Any, township_manager: int) -> None:
    admin = principal_of(session, "tiandong_admin")
    tiandong = _tenant(session, cast.tenant.tiandong)
    own = _create(session, admin, tiandong, cast.org.pingma, id_code="PM-1")
    other = _create(session, admin, tiandong, cast.org.shuoliang, id_code="SL-1", name="韦国强")
    session.flush()
    keeper = load_principal(session, township_manager)
    own = service.update_deputy(session, keeper, tiandong, own.id, version=own.version,
                                fields={**FIELDS, "id_code": "PM-1", "delegation": "新代表小组"},
                                org_unit_id=cast.org.pingma)
    assert own.delegation == "新代表小组"
    other = service.access_deputy(session, keeper, tiandong, other.id)  # readable, not writable
    audits = _count(session, AuditEntry)
    with pytest.raises(AccessDenied):
        service.update_deputy(session, keeper, tiandong, other.id, version=other.version,
                              fields={**FIELDS, "name": "韦国强"}, org_unit_id=cast.org.shuoliang)
    with pytest.raises(AccessDenied):  # nor move their own deputy into the other township
        service.update_deputy(session, keeper, tiandong, own.id, version=own.version, fields=FIELDS,
                              org_unit_id=cast.org.shuoliang)
    with pytest.raises(AccessDenied):
        _create(session, keeper, tiandong, cast.org.shuoliang)
    assert (other.name, own.org_unit_id) == ("韦国强", cast.org.pingma)
    assert _count(session, AuditEntry) == audits


def test_a_township_chair_cannot_edit_a_deputy(session: Session, cast: Any, principal_of: Any) -> None:
    admin = principal_of(session, "tiandong_admin")
    tiandong = _tenant(session, cast.tenant.tiandong)
    deputy = _create(session, admin, tiandong, cast.org.shuoliang)
    session.flush()
    chair = principal_of(session, "tiandong_chair")
    with pytest.raises(AccessDenied):
        service.update_deputy(session, chair, tiandong, deputy.id, version=1, fields=FIELDS,
                              org_unit_id=cast.org.shuoliang)
    with pytest.raises(AccessDenied):
        service.set_active(session, chair, tiandong, deputy.id, False)
    assert deputy.active and deputy.version == 1


def test_staff_of_another_county_get_not_found_for_a_deputys_id(
        session: Session, cast: Any, principal_of: Any) -> None:
    admin = principal_of(session, "tiandong_admin")
    tiandong = _tenant(session, cast.tenant.tiandong)
    deputy = _create(session, admin, tiandong, cast.org.pingma)
    session.flush()
    deputy_id = deputy.id
    outsider = principal_of(session, "pingguo_admin")
    pingguo = _tenant(session, cast.tenant.pingguo)
    for tenant in (pingguo, tiandong):  # through their own tenant, or naming Tiandong outright
        with pytest.raises(NotFound):
            service.access_deputy(session, outsider, tenant, deputy_id)
        with pytest.raises(NotFound):
            service.update_deputy(session, outsider, tenant, deputy_id, version=1, fields=FIELDS,
                                  org_unit_id=cast.org.pingma)
    assert session.get(Deputy, deputy_id) is None


# --- versions, stations, accounts ----------------------------------------------------------------


def test_an_edit_made_on_a_stale_version_is_a_conflict_and_changes_nothing(
        session: Session, cast: Any, principal_of: Any) -> None:
    actor = principal_of(session, "tiandong_admin")
    tiandong = _tenant(session, cast.tenant.tiandong)
    deputy = _create(session, actor, tiandong, cast.org.pingma)
    service.update_deputy(session, actor, tiandong, deputy.id, version=1, fields={**FIELDS, "phone": "13907760000"},
                          org_unit_id=cast.org.pingma)
    assert deputy.version == 2
    with pytest.raises(Conflict) as caught:
        service.update_deputy(session, actor, tiandong, deputy.id, version=1, fields={**FIELDS, "name": "旧"},
                              org_unit_id=cast.org.pingma)
    assert "Someone else saved this deputy" in caught.value.message.msgid
    assert (deputy.name, deputy.phone, deputy.version) == ("黄秀英", "13907760000", 2)
    entries = _audits(session, deputy.id)
    assert [e.action for e in entries] == ["deputy.create", "deputy.update"]
    assert entries[1].before is not None and entries[1].after is not None
    assert (entries[1].before["phone"], entries[1].after["phone"]) == ("13807761234", "13907760000")


def test_a_concurrent_edit_committed_in_between_is_a_conflict(db: Database, cast: Any) -> None:
    """Two transactions edit the same row: the second flush finds the version moved on."""
    tag = secrets.token_hex(3)
    with db.session(Scope.system()) as s:  # committed, and left there: audit entries outlive any delete
        tiandong = _tenant(s, cast.tenant.tiandong)
        actor = load_principal(s, cast.user.tiandong_admin)
        deputy_id = _create(s, actor, tiandong, cast.org.pingma, id_code=f"RACE-{tag}", name=f"竞争{tag}").id
    first, second = db.sessions(), db.sessions()
    try:
        a = load_principal(first, cast.user.tiandong_admin)
        b = load_principal(second, cast.user.tiandong_admin)
        t1, t2 = _tenant(first, cast.tenant.tiandong), _tenant(second, cast.tenant.tiandong)
        service.access_deputy(second, b, t2, deputy_id)  # the second editor loaded version 1
        service.update_deputy(first, a, t1, deputy_id, version=1, fields={**FIELDS, "id_code": f"RACE-{tag}",
                              "name": f"甲{tag}"}, org_unit_id=cast.org.pingma)
        first.commit()
        if db.engine.dialect.name == "sqlite":
            return  # one writer at a time: the second transaction would wait for the file lock
        with pytest.raises(Conflict):
            service.update_deputy(second, b, t2, deputy_id, version=1, fields={**FIELDS, "name": f"乙{tag}",
                                  "id_code": f"RACE-{tag}"}, org_unit_id=cast.org.pingma)
    finally:
        second.close()
        first.close()


def test_stations_may_be_the_tenants_own_or_a_joint_station_it_belongs_to(
        session: Session, cast: Any, principal_of: Any) -> None:
    actor = principal_of(session, "tiandong_admin")
    tiandong = _tenant(session, cast.tenant.tiandong)
    deputy = _create(session, actor, tiandong, cast.org.pingma)
    service.set_stations(session, actor, tiandong, deputy.id, [cast.org.pingma_station, cast.org.joint_node])
    assert service.station_ids_of(session, deputy) == sorted([cast.org.pingma_station, cast.org.joint_node])
    assert deputy.version == 2  # stations are part of the record's version
    with pytest.raises(ValidationFailed):
        service.set_stations(session, actor, tiandong, deputy.id, [cast.org.xinan_station])
    with pytest.raises(ValidationFailed):  # a township is not a station
        service.set_stations(session, actor, tiandong, deputy.id, [cast.org.shuoliang])
    assert [e.action for e in _audits(session, deputy.id)] == ["deputy.create", "deputy.stations"]


def test_accounts_are_linked_by_record_or_by_deputy_number_and_found_again(
        session: Session, cast: Any, principal_of: Any) -> None:
    actor = principal_of(session, "tiandong_admin")
    tiandong = _tenant(session, cast.tenant.tiandong)
    # An account of its own: the cast's deputy may be linked already by tests that ran before (they commit).
    account = identity.create_user(session, None, tiandong, username=f"link-{secrets.token_hex(3)}",
                                   display_name="黄代表", password=None).id
    county = _create(session, actor, tiandong, cast.org.pingma, id_code="TD17-LINK")
    township = _create(session, actor, tiandong, cast.org.pingma, level="township", term="12", id_code="PM12-LINK")
    service.link_user(session, actor, tiandong, deputy_id=township.id, user_id=account)
    # The sign-in names the deputy number (no acting staff): the county record is claimed too.
    service.link_user(session, None, tiandong, id_code="TD17-LINK", user_id=account)
    assert county.user_id == township.user_id == account
    found = service.deputy_for_user(session, account, cast.tenant.tiandong)
    assert found is not None and found.id == county.id  # the higher level first
    with pytest.raises(Conflict):  # a record linked to someone else is never taken over at sign-in
        service.link_user(session, None, tiandong, id_code="TD17-LINK", user_id=cast.user.tiandong_admin)
    service.set_active(session, actor, tiandong, county.id, False)
    found = service.deputy_for_user(session, account, cast.tenant.tiandong)
    assert found is not None and found.id == township.id
    actions = [e.action for e in _audits(session, county.id)]
    assert actions == ["deputy.create", "deputy.link_user", "deputy.deactivate"]
    assert _audits(session, county.id)[1].actor_user_id == account


def test_an_account_of_another_county_cannot_be_linked(session: Session, cast: Any, principal_of: Any) -> None:
    actor = principal_of(session, "tiandong_admin")
    tiandong = _tenant(session, cast.tenant.tiandong)
    deputy = _create(session, actor, tiandong, cast.org.pingma)
    with pytest.raises(NotFound):
        service.link_user(session, actor, tiandong, deputy_id=deputy.id, user_id=cast.user.longan_admin)
    assert deputy.user_id is None


# --- isolation -----------------------------------------------------------------------------------


def _two_counties(s: Session, cast: Any) -> tuple[int, int]:
    admin = load_principal(s, cast.user.platform_admin)
    a = _create(s, admin, _tenant(s, cast.tenant.tiandong), cast.org.pingma, (cast.org.pingma_station,))
    b = _create(s, admin, _tenant(s, cast.tenant.pingguo), cast.org.xinan, (cast.org.xinan_station,))
    s.flush()
    return a.id, b.id


def test_deputies_of_another_tenant_are_invisible_through_the_orm(
        open_session: Any, superuser_db: Database, cast: Any) -> None:
    """Through a superuser connection on PostgreSQL, so the ORM filter alone does the work."""
    s = open_session(Scope.system(), database=superuser_db)
    a, b = _two_counties(s, cast)
    set_scope(s, Scope(tenant_ids=frozenset({cast.tenant.tiandong})))
    ids = set(s.scalars(select(Deputy.id)))
    assert a in ids and b not in ids
    assert {t for (t,) in s.execute(select(DeputyStation.tenant_id).distinct())} == {cast.tenant.tiandong}
    assert s.get(Deputy, b) is None
    set_scope(s, Scope())
    assert s.scalar(select(func.count()).select_from(Deputy)) == 0


@pytest.mark.postgres
def test_row_level_security_confines_raw_sql_on_deputies(open_session: Any, cast: Any) -> None:
    s = open_session(Scope.system())
    _, b = _two_counties(s, cast)
    set_scope(s, Scope(tenant_ids=frozenset({cast.tenant.tiandong})))
    for table in ("deputies", "deputy_stations"):
        seen = set(s.execute(text(f"SELECT DISTINCT tenant_id FROM {table}")).scalars())
        assert seen == {cast.tenant.tiandong}, table
    assert s.execute(text("SELECT count(*) FROM deputies WHERE id = :b"), {"b": b}).scalar_one() == 0
