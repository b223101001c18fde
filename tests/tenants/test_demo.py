"""The demo of DESIGN §8 (Baise, its counties, the joint station, one account per role) and the CLI."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from limits.storage import MemoryStorage
from sqlalchemy import func, select
from typer.testing import CliRunner

from renda.platform.audit import AuditEntry
from renda.platform.config import REPO_ROOT, Settings
from renda.platform.db import Database, Scope
from renda.platform.identity.models import Grant, User
from renda.platform.identity.principal import load_principal
from renda.platform.identity.service import authenticate
from renda.platform.identity.throttle import LoginThrottle
from renda.platform.tenancy.models import HandlingUnit, JointStation, JointStationMember, OrgUnit, Tenant
from renda.tenants.congress.roles import Role
from renda.tenants.demo import ACCOUNTS, COUNTIES, DEMO_PASSWORD, DemoSummary, load_demo
from renda.web.cli import app as cli

BAISE_COUNTIES = {
    "youjiang": "451002", "tianyang": "451003", "tiandong": "451022", "debao": "451024", "napo": "451026",
    "lingyun": "451027", "leye": "451028", "tianlin": "451029", "xilin": "451030", "longlin": "451031",
    "jingxi": "451081", "pingguo": "451082",
}


def migrated_url(folder: Path) -> str:
    url = f"sqlite:///{folder / 'renda.sqlite3'}"
    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "head")
    return url


@dataclass
class Loaded:
    db: Database
    summary: DemoSummary
    steps: list[tuple[int, int, str]]
    seconds: float


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """The demo loaded once into a database of this module's own."""
    db = Database(url=migrated_url(tmp_path_factory.mktemp("demo")))
    steps: list[tuple[int, int, str]] = []
    started = time.perf_counter()
    summary = load_demo(db, progress=lambda *step: steps.append(step))
    loaded = Loaded(db, summary, steps, time.perf_counter() - started)
    yield loaded
    db.dispose()


def tenants_by_slug(db: Database) -> dict[str, Tenant]:
    with db.session(Scope.system()) as s:
        return {t.slug: t for t in s.scalars(select(Tenant))}


def test_demo_builds_baise_with_its_twelve_counties_on_their_real_codes(demo: Loaded) -> None:
    tenants = tenants_by_slug(demo.db)
    baise = tenants["baise"]
    assert (baise.name, baise.code, baise.level, baise.name_en) == ("百色市", "451000", "city", "Baise")
    under_baise = {t.slug: t.code for t in tenants.values() if t.parent_id == baise.id}
    assert under_baise == BAISE_COUNTIES
    assert all(tenants[slug].level == "county" and tenants[slug].path.startswith(baise.path)
               for slug in BAISE_COUNTIES)
    assert tenants["pingguo"].name_en == "Pingguo City"
    assert tenants["longan"].parent_id == tenants["nanning"].id
    assert tenants["longan"].code == "450123" and tenants["nanning"].code == "450100"
    assert demo.summary.created and demo.summary.tenants == 15


def test_every_county_gets_its_real_townships_and_tiandong_its_villages(demo: Loaded) -> None:
    tenants = tenants_by_slug(demo.db)
    with demo.db.session(Scope.system()) as s:
        per_tenant = select(OrgUnit.tenant_id, func.count()).group_by(OrgUnit.tenant_id)
        counts = dict(s.execute(per_tenant.where(OrgUnit.kind == "township")).all())
        villages = dict(s.execute(per_tenant.where(OrgUnit.kind == "village")).all())
        pingguo_towns = set(s.scalars(select(OrgUnit.name).where(
            OrgUnit.tenant_id == tenants["pingguo"].id, OrgUnit.kind == "township")))
    assert counts[tenants["tiandong"].id] == 10 and counts[tenants["pingguo"].id] == 13
    assert all(counts.get(tenants[c.slug].id) for c in COUNTIES)
    assert villages == {tenants["tiandong"].id: 173}
    assert {"马头镇", "新安镇"} <= pingguo_towns


def test_stations_sit_under_their_townships_or_the_county_congress(demo: Loaded) -> None:
    tenants = tenants_by_slug(demo.db)
    with demo.db.session(Scope.system()) as s:
        stations = {u.name: u for u in s.scalars(select(OrgUnit).where(OrgUnit.kind == "station"))}
        parents = {name: s.get_one(OrgUnit, u.parent_id) for name, u in stations.items()}
    assert parents["平马镇人大代表联络站"].code == "451022100"
    assert parents["朔良镇人大代表联络站"].code == "451022108"
    assert parents["作登瑶族乡人大代表之家"].code == "451022201"
    assert parents["新安镇人大代表联络站"].name == "新安镇"
    assert parents["马头镇代表之家"].name == "马头镇"
    direct = [n for n, p in parents.items() if p.kind == "congress"]
    assert direct and all(p.tenant_id == stations[n].tenant_id for n, p in parents.items())
    assert {tenants["jingxi"].id, tenants["tianyang"].id} <= {u.tenant_id for u in stations.values()}
    assert all(u.path.startswith(parents[n].path) for n, u in stations.items())


def test_handling_units_of_the_city_tiandong_and_pingguo(demo: Loaded) -> None:
    tenants = tenants_by_slug(demo.db)
    with demo.db.session(Scope.system()) as s:
        units = {u.name: u for u in s.scalars(select(HandlingUnit))}
    assert {u.tenant_id for u in units.values()} == {tenants[t].id for t in ("baise", "tiandong", "pingguo")}
    assert units["田东县教育局"].category == "government"
    assert units["田东县人民法院"].category == "court"
    assert units["平果市人民检察院"].category == "procuratorate"
    assert "百色市教育局" in units
    tiandong_root = tenants["tiandong"].root_org_unit_id
    assert units["田东县教育局"].path.endswith(f"/{tiandong_root}/u{units['田东县教育局'].id}/")


def test_joint_station_is_hosted_by_pingguo_with_three_members(demo: Loaded) -> None:
    tenants = tenants_by_slug(demo.db)
    with demo.db.session(Scope.system()) as s:
        station = s.scalars(select(JointStation)).one()
        members = set(s.scalars(select(JointStationMember.tenant_id)
                                .where(JointStationMember.joint_station_id == station.id)))
        node = s.get(OrgUnit, station.org_unit_id)
    assert station.name == "平果—隆安—田东跨区域人大代表联络站"
    assert station.host_tenant_id == tenants["pingguo"].id
    assert members == {tenants[t].id for t in ("pingguo", "longan", "tiandong")}
    assert node is not None and node.kind == "joint_station" and node.joint_station_id == station.id
    assert node.parent_id == tenants["pingguo"].root_org_unit_id


def test_every_demo_account_signs_in_and_holds_its_role(demo: Loaded) -> None:
    tenants = tenants_by_slug(demo.db)
    throttle = LoginThrottle(Settings(), storage=MemoryStorage())
    with demo.db.session(Scope.system()) as s:
        users = {u.username: u for u in s.scalars(select(User))}
    # They share one hash of the published password: signing in as three proves it for all.
    assert len({users[a.username].password_hash for a in ACCOUNTS}) == 1
    for username in ("admin", "tiandong.handler", "joint.deputy"):
        with demo.db.session() as s:
            signed_in = authenticate(s, throttle, username, DEMO_PASSWORD, "192.0.2.1")
        assert signed_in.user_id == users[username].id
    for spec in ACCOUNTS:
        user = users[spec.username]
        assert user.tenant_id == tenants[spec.home].id and user.active
        with demo.db.session() as s:
            principal = load_principal(s, user.id)
        if spec.role == "platform_admin":
            assert principal.is_platform_admin and principal.scope.everything
            continue
        grant_tenant = tenants[spec.tenant or spec.home]
        assert principal.roles_in(grant_tenant.id) == {Role(spec.role)}, spec.username
    listed = {(a.username, a.role) for a in demo.summary.accounts}
    assert listed == {(a.username, a.role) for a in ACCOUNTS}
    assert demo.summary.password == DEMO_PASSWORD


def test_demo_accounts_see_what_their_role_covers(demo: Loaded) -> None:
    tenants = tenants_by_slug(demo.db)
    ids = {slug: t.id for slug, t in tenants.items()}

    def scope_of(username: str) -> Scope:
        with demo.db.session(Scope.system()) as s:
            user_id = s.scalars(select(User.id).where(User.username == username)).one()
        with demo.db.session() as s:
            return load_principal(s, user_id).scope

    assert scope_of("baise.admin").tenant_ids == {ids[c] for c in (*BAISE_COUNTIES, "baise")}
    assert scope_of("tiandong.deputy").tenant_ids == {ids["tiandong"]}
    joint = scope_of("joint.deputy")
    assert joint.tenant_ids == frozenset() and len(joint.joint_station_ids) == 1
    assert len(scope_of("longan.admin").joint_station_ids) == 1


def test_the_demo_is_audited(demo: Loaded) -> None:
    with demo.db.session(Scope.system()) as s:
        actions = dict(s.execute(
            select(AuditEntry.action, func.count()).group_by(AuditEntry.action)).all())
    assert actions["tenant.create"] == 15
    assert actions["org_tree.provision"] == 13
    assert actions["user.create"] == len(ACCOUNTS)
    assert actions["grant.add"] == len(ACCOUNTS) - 1
    assert actions["joint_station.create"] == 1
    assert actions["handling_unit.create"] == demo.summary.handling_units == 30


def test_loading_the_demo_again_changes_nothing(demo: Loaded) -> None:
    def counts() -> dict[str, int]:
        with demo.db.session(Scope.system()) as s:
            return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
                    for m in (Tenant, OrgUnit, HandlingUnit, JointStation, User, Grant, AuditEntry)}

    before = counts()
    again = load_demo(demo.db)
    assert counts() == before
    assert not again.created
    assert again.accounts == demo.summary.accounts
    assert (again.tenants, again.org_units, again.users) == (15, before["org_units"], len(ACCOUNTS))


def test_progress_reports_every_step_in_order(demo: Loaded) -> None:
    done = [step for step, _, _ in demo.steps]
    assert done == list(range(1, len(done) + 1))
    assert {total for _, total, _ in demo.steps} == {len(done)}
    assert demo.steps[0][2] == "百色市"


def test_demo_loads_quickly_on_sqlite(demo: Loaded) -> None:
    assert demo.seconds < 10, f"load_demo took {demo.seconds:.1f}s"


def test_cli_refuses_a_bad_division_code_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    runner = CliRunner()
    upgraded = runner.invoke(cli, ["--database-url", url, "db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    result = runner.invoke(cli, ["--database-url", url, "tenant", "create", "nowhere",
                                 "--division", "999999"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a clean exit, no traceback
    assert "错误" in result.output and "Error: division_code: No county-level division has this code." in (
        result.output.replace("\n", ""))
    unknown = runner.invoke(cli, ["--database-url", url, "tenant", "create", "td", "--division", "451022",
                                  "--parent", "nope"])
    assert unknown.exit_code == 1 and "nope" in unknown.output
    db = Database(url=url)
    try:
        with db.session(Scope.system()) as s:
            assert s.scalar(select(func.count()).select_from(Tenant)) == 0
    finally:
        db.dispose()


def test_cli_run_setup_loads_the_demo_into_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'setup.sqlite3'}"  # the folder does not exist yet
    result = CliRunner().invoke(cli, ["--database-url", url, "run-setup"])
    assert result.exit_code == 0, result.output
    assert "tiandong.deputy" in result.output and DEMO_PASSWORD in result.output
