"""Shared fixtures: one backend per run, a migrated database, the fixed cast, rolled-back sessions.

The suite runs once per backend, chosen by the environment:

- PostgreSQL + Redis: ``RENDA_TEST_DATABASE_URL`` (a superuser URL, e.g.
  ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) and ``RENDA_TEST_REDIS_URL``.
  A fresh database ``renda_test_<random>`` is created, migrated as ``renda_owner`` and used by the
  app as ``renda_app``, a role that owns nothing and is subject to row-level security.
- Embedded: ``RENDA_TEST_BACKEND=sqlite`` (or no database URL): a SQLite file in a temporary
  directory, no Redis.

Tests marked ``postgres`` are skipped on the embedded backend.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from renda.platform.audit import AuditEntry
from renda.platform.db import Database, Scope, ScopedSession, set_scope
from renda.platform.identity import service as identity
from renda.platform.identity.models import Grant, User
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy import service as tenancy
from renda.platform.tenancy.models import (
    HandlingUnit,
    JointStation,
    JointStationMember,
    OrgUnit,
    Tenant,
    TenantSetting,
)
from renda.web.modules import install_modules

REPO_ROOT = Path(__file__).resolve().parent.parent

install_modules()  # as every Renda process does first: the modules' roles, settings and jobs

OWNER_ROLE = "renda_owner"  # owns the schema objects; runs the migrations
APP_ROLE = "renda_app"  # what the application connects as: owns nothing, subject to RLS
# Only for clusters that ask for passwords on TCP (e.g. the postgres Docker image); trust ignores it.
TEST_ROLE_PASSWORD = "renda-test"
PASSWORD = "cast-password-1"  # the password of the cast's users who log in


def _backend() -> str:
    if os.environ.get("RENDA_TEST_BACKEND", "").lower() == "sqlite":
        return "sqlite"
    return "postgres" if os.environ.get("RENDA_TEST_DATABASE_URL") else "sqlite"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _backend() == "postgres":
        return
    skip = pytest.mark.skip(
        reason="PostgreSQL only (row-level security, roles); set RENDA_TEST_DATABASE_URL to run it"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


# --- PostgreSQL roles and grants ---------------------------------------------------------------
# The same SQL sets up a production database (README): roles once per cluster, the database
# once, the grants after every migration.


def roles_sql(password: str | None = None) -> list[str]:
    """Create the two roles if missing (run as a superuser, once per cluster)."""
    pw = f" PASSWORD '{password}'" if password else ""
    return [
        f"""DO $$ BEGIN
  CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE{pw};
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$"""
        for role in (OWNER_ROLE, APP_ROLE)
    ]


def database_sql(database: str) -> list[str]:
    """Create the database owned by renda_owner; only renda_app may connect besides it."""
    return [
        f'CREATE DATABASE "{database}" OWNER {OWNER_ROLE}',
        f'REVOKE ALL ON DATABASE "{database}" FROM PUBLIC',
        f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO {APP_ROLE}',
    ]


def schema_sql() -> list[str]:
    """Inside the new database, as a superuser, before the migrations."""
    return [
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"GRANT ALL ON SCHEMA public TO {OWNER_ROLE}",
    ]


def app_grants_sql() -> list[str]:
    """After every migration, as renda_owner: what the application role may do, and no more."""
    return [
        f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}",
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {APP_ROLE}",
        f"REVOKE UPDATE, DELETE ON audit_log FROM {APP_ROLE}",  # append-only
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {APP_ROLE}",  # migrations are the owner's
    ]


def _run_all(conn: Connection, statements: list[str]) -> None:
    for sql in statements:
        conn.execute(text(sql))


def _url_as(base: URL, *, user: str, database: str, password: str | None) -> str:
    return base.set(username=user, password=password, database=database).render_as_string(hide_password=False)


def _ensure_roles(admin: Engine) -> None:
    """Create the roles, tolerating a concurrent run doing the same; refuse if they are too powerful."""
    for attempt in range(3):
        try:
            with admin.connect() as conn:
                _run_all(conn, roles_sql(TEST_ROLE_PASSWORD))
            break
        except DBAPIError:  # "tuple concurrently updated" when two runs race
            if attempt == 2:
                raise
    with admin.connect() as conn:
        rows = conn.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname = ANY (:r) AND (rolsuper OR rolbypassrls)"),
            {"r": [OWNER_ROLE, APP_ROLE]},
        ).all()
    if rows:
        pytest.exit(f"roles {[r[0] for r in rows]} are superusers or bypass RLS; the tests need them plain")


def _alembic_config() -> Config:
    return Config(str(REPO_ROOT / "alembic.ini"))


def _upgrade(engine: Engine) -> None:
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@dataclass(frozen=True)
class PostgresUrls:
    superuser: str  # the test database as the superuser (RLS does not apply)
    owner: str  # as renda_owner
    app: str  # as renda_app


def _create_postgres_database(given: str) -> tuple[str, PostgresUrls]:
    base = make_url(given)
    name = f"renda_test_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        _ensure_roles(admin)
        with admin.connect() as conn:
            _run_all(conn, database_sql(name))
    finally:
        admin.dispose()
    urls = PostgresUrls(
        superuser=base.set(database=name).render_as_string(hide_password=False),
        owner=_url_as(base, user=OWNER_ROLE, database=name, password=TEST_ROLE_PASSWORD),
        app=_url_as(base, user=APP_ROLE, database=name, password=TEST_ROLE_PASSWORD),
    )
    superuser = create_engine(urls.superuser, isolation_level="AUTOCOMMIT")
    try:
        with superuser.connect() as conn:
            _run_all(conn, schema_sql())
    finally:
        superuser.dispose()
    owner = create_engine(urls.owner)
    try:
        _upgrade(owner)
        with owner.begin() as conn:
            _run_all(conn, app_grants_sql())
    finally:
        owner.dispose()
    return name, urls


def _drop_postgres_database(given: str, name: str) -> None:
    admin = create_engine(make_url(given), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE datname = :d AND pid <> pg_backend_pid()"),
                {"d": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# --- the database ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def backend() -> str:
    """'postgres' or 'sqlite', from the environment (see the module docstring)."""
    return _backend()


@pytest.fixture(scope="session")
def redis_url(backend: str) -> str | None:
    """The test Redis (a database number of its own), or None on the embedded backend."""
    return os.environ.get("RENDA_TEST_REDIS_URL") if backend == "postgres" else None


@pytest.fixture(scope="session")
def _postgres(backend: str) -> Iterator[PostgresUrls | None]:
    if backend != "postgres":
        yield None
        return
    given = os.environ["RENDA_TEST_DATABASE_URL"]
    name, urls = _create_postgres_database(given)
    try:
        yield urls
    finally:
        _drop_postgres_database(given, name)


@pytest.fixture(scope="session")
def database_url(_postgres: PostgresUrls | None, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL the application uses: renda_app on PostgreSQL, a migrated SQLite file otherwise."""
    if _postgres is not None:
        return _postgres.app
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'renda.sqlite3'}"
    engine = create_engine(url)
    try:
        _upgrade(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def owner_url(_postgres: PostgresUrls | None) -> str:
    """renda_owner's URL (PostgreSQL only): owns the tables, still under FORCE row-level security."""
    if _postgres is None:
        pytest.skip("PostgreSQL only: the embedded backend has no roles")
    return _postgres.owner


@pytest.fixture(scope="session")
def superuser_url(_postgres: PostgresUrls | None, database_url: str) -> str:
    """The test database as a superuser, whom row-level security never applies to.

    Tests of the ORM filter alone use it, so that a passing test owes nothing to RLS. On SQLite
    it is the same file as ``database_url``.
    """
    return _postgres.superuser if _postgres is not None else database_url


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[Database]:
    """The application's Database (renda_app on PostgreSQL)."""
    database = Database(url=database_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def superuser_db(superuser_url: str) -> Iterator[Database]:
    """A Database connected as a superuser (PostgreSQL) so only the ORM filter confines it."""
    database = Database(url=superuser_url)
    yield database
    database.dispose()


OpenSession = Callable[..., Session]


@pytest.fixture
def open_session(db: Database) -> Iterator[OpenSession]:
    """``open_session(scope, database=db)``: a session whose work is rolled back after the test.

    The session joins an outer transaction through a savepoint, so ``session.commit()`` and
    ``session.rollback()`` behave as in the application while nothing outlives the test.
    """
    opened: list[tuple[Session, Any, Connection]] = []

    def open_(scope: Scope | None = None, database: Database | None = None) -> Session:
        conn = (database or db).engine.connect()
        outer = conn.begin()
        session = ScopedSession(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        session.info["scope"] = scope or Scope()
        opened.append((session, outer, conn))
        return session

    yield open_
    for session, outer, conn in reversed(opened):
        session.close()
        if outer.is_active:
            outer.rollback()
        conn.close()


@pytest.fixture
def system_session(open_session: OpenSession) -> Session:
    """A rolled-back session of the application's Database under the system scope."""
    return open_session(Scope.system())


# --- the fixed cast ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    """Ids of the fixed cast, built once per backend run (see ``build_cast``)."""

    tenant: SimpleNamespace  # city, tiandong, pingguo, nanning, longan
    slug: SimpleNamespace  # their URL names, e.g. "tiandong-1a2b3c" (unique per run)
    org: SimpleNamespace  # roots, townships, stations, the joint station node
    unit: SimpleNamespace  # handling units
    user: SimpleNamespace  # user ids by cast name
    username: SimpleNamespace  # user names by cast name (unique per run)
    joint_station: int  # JointStation.id (pingguo hosts; pingguo, longan, tiandong are members)
    password: str = PASSWORD  # of those who log in: platform_admin, tiandong_admin, tiandong_deputy, joint_deputy


def build_cast(session: Session, suffix: str) -> Cast:
    """The demo's people and places in miniature, through the service actions, under Scope.system().

    Baise city (451000) with Tiandong (451022) and Pingguo (451082); Nanning city (450100) with
    Long'an (450123); a joint station hosted by Pingguo with Pingguo, Long'an and Tiandong as
    members; a user of each role. Tenant codes are unique in a deployment, so these five codes
    belong to the cast in the shared test database: other fixtures there use ``code=None`` (or a
    database of their own); slugs and user names carry ``suffix``.
    """
    set_scope(session, Scope.system())
    city = tenancy.create_tenant(session, None, slug=f"baise-{suffix}", name="百色市人大常委会", code="451000",
                                 parent=None, level="city", name_en="Baise")
    admin_user = identity.create_user(session, None, city, username=f"platform-admin-{suffix}",
                                      display_name="平台管理员", password=PASSWORD, is_platform_admin=True)
    session.flush()  # load_principal narrows the scope for a moment: nothing may be pending then
    admin = load_principal(session, admin_user.id)  # leaves the session scoped to everything

    def tenant(slug: str, name: str, code: str, parent: Tenant | None, level: str) -> Tenant:
        return tenancy.create_tenant(session, admin, slug=f"{slug}-{suffix}", name=name, code=code,
                                     parent=parent, level=level, name_en=slug.title())

    tiandong = tenant("tiandong", "田东县人大常委会", "451022", city, "county")
    pingguo = tenant("pingguo", "平果市人大常委会", "451082", city, "county")
    nanning = tenant("nanning", "南宁市人大常委会", "450100", None, "city")
    longan = tenant("longan", "隆安县人大常委会", "450123", nanning, "county")

    def node(t: Tenant, parent_id: int, kind: str, name: str, code: str | None = None) -> OrgUnit:
        return tenancy.add_org_unit(session, admin, t, parent_id=parent_id, kind=kind, name=name, code=code)

    assert tiandong.root_org_unit_id and pingguo.root_org_unit_id and longan.root_org_unit_id
    pingma = node(tiandong, tiandong.root_org_unit_id, "township", "平马镇", "451022100")
    shuoliang = node(tiandong, tiandong.root_org_unit_id, "township", "朔良镇", "451022108")
    pingma_station = node(tiandong, pingma.id, "station", "平马镇人大代表联络站")
    shuoliang_station = node(tiandong, shuoliang.id, "station", "朔良镇人大代表联络站")
    xinan = node(pingguo, pingguo.root_org_unit_id, "township", "新安镇", "451082101")
    xinan_station = node(pingguo, xinan.id, "station", "新安镇人大代表联络站")
    chengxiang = node(longan, longan.root_org_unit_id, "township", "城厢镇", "450123100")
    chengxiang_station = node(longan, chengxiang.id, "station", "城厢镇人大代表联络站")

    station = JointStation(name="平果—隆安—田东跨区域人大代表联络站", host_tenant_id=pingguo.id)
    session.add(station)
    session.flush()
    joint_node = node(pingguo, pingguo.root_org_unit_id, "joint_station", station.name)
    joint_node.joint_station_id = station.id
    station.org_unit_id = joint_node.id
    session.add_all(JointStationMember(joint_station_id=station.id, tenant_id=t.id)
                    for t in (pingguo, longan, tiandong))

    def unit(t: Tenant, name: str) -> HandlingUnit:
        return tenancy.create_handling_unit(session, admin, t, name=name)

    tiandong_transport = unit(tiandong, "田东县交通运输局")
    tiandong_court = unit(tiandong, "田东县人民法院")
    pingguo_housing = unit(pingguo, "平果市住房和城乡建设局")
    longan_water = unit(longan, "隆安县水利局")

    for t in (city, tiandong, pingguo, longan):
        session.add(TenantSetting(tenant_id=t.id, key="near_due_days", value={"v": 15}))

    users: dict[str, User] = {"platform_admin": admin_user}

    def person(name: str, home: Tenant, display: str, role: str, *, org_unit_id: int | None = None,
               handling_unit_id: int | None = None, password: str | None = None) -> None:
        user = identity.create_user(session, admin, home, username=f"{name.replace('_', '-')}-{suffix}",
                                    display_name=display, password=password)
        # Every grant of the cast lies in its holder's home tenant (the joint station is Pingguo's).
        identity.grant_role(session, None, home, user, role=role, org_unit_id=org_unit_id,
                            handling_unit_id=handling_unit_id)
        users[name] = user

    person("city_admin", city, "百色市人大办公室", "congress_admin", org_unit_id=city.root_org_unit_id)
    person("tiandong_admin", tiandong, "田东县人大办公室", "congress_admin",
           org_unit_id=tiandong.root_org_unit_id, password=PASSWORD)
    person("tiandong_leader", tiandong, "田东县人大常委会主任", "congress_leader",
           org_unit_id=tiandong.root_org_unit_id)
    person("tiandong_chair", tiandong, "平马镇人大主席", "township_chair", org_unit_id=pingma.id)
    person("tiandong_staff", tiandong, "平马镇联络站工作人员", "station_staff", org_unit_id=pingma_station.id)
    person("tiandong_deputy", tiandong, "田东县人大代表", "deputy", org_unit_id=pingma_station.id,
           password=PASSWORD)
    person("tiandong_handler", tiandong, "交通运输局办理人员", "handler",
           handling_unit_id=tiandong_transport.id)
    person("pingguo_admin", pingguo, "平果市人大办公室", "congress_admin", org_unit_id=pingguo.root_org_unit_id)
    person("pingguo_deputy", pingguo, "平果市人大代表", "deputy", org_unit_id=xinan_station.id)
    person("longan_admin", longan, "隆安县人大办公室", "congress_admin", org_unit_id=longan.root_org_unit_id)
    person("joint_deputy", pingguo, "跨区域联络站代表", "deputy", org_unit_id=joint_node.id, password=PASSWORD)
    session.flush()

    return Cast(
        tenant=SimpleNamespace(city=city.id, tiandong=tiandong.id, pingguo=pingguo.id, nanning=nanning.id,
                               longan=longan.id),
        slug=SimpleNamespace(**{t.name_en.lower(): t.slug for t in (city, tiandong, pingguo, nanning, longan)}),
        org=SimpleNamespace(
            city_root=city.root_org_unit_id, tiandong_root=tiandong.root_org_unit_id,
            pingguo_root=pingguo.root_org_unit_id, nanning_root=nanning.root_org_unit_id,
            longan_root=longan.root_org_unit_id,
            pingma=pingma.id, shuoliang=shuoliang.id, pingma_station=pingma_station.id,
            shuoliang_station=shuoliang_station.id, xinan=xinan.id, xinan_station=xinan_station.id,
            chengxiang=chengxiang.id, chengxiang_station=chengxiang_station.id, joint_node=joint_node.id,
        ),
        unit=SimpleNamespace(tiandong_transport=tiandong_transport.id, tiandong_court=tiandong_court.id,
                             pingguo_housing=pingguo_housing.id, longan_water=longan_water.id),
        user=SimpleNamespace(**{name: u.id for name, u in users.items()}),
        username=SimpleNamespace(**{name: u.username for name, u in users.items()}),
        joint_station=station.id,
    )


@pytest.fixture(scope="session")
def cast(db: Database) -> Cast:
    """The fixed cast, committed once per backend run through the application's own role."""
    with db.session(Scope.system()) as session:
        return build_cast(session, secrets.token_hex(3))


# --- small helpers for tests -------------------------------------------------------------------


@pytest.fixture
def principal_of(cast: Cast) -> Callable[[Session, str], Any]:
    """``principal_of(session, "tiandong_admin")``: load a cast member and scope the session to them."""

    def load(session: Session, name: str) -> Any:
        return load_principal(session, getattr(cast.user, name))

    return load


COUNTED = (Tenant, OrgUnit, HandlingUnit, JointStation, User, Grant, TenantSetting, AuditEntry)


def _row_counts(session: Session) -> dict[str, int]:
    previous = session.info.get("scope")
    set_scope(session, Scope.system())
    try:
        session.flush()
        return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0 for m in COUNTED}
    finally:
        set_scope(session, previous if isinstance(previous, Scope) else Scope())


@pytest.fixture
def row_counts() -> Callable[[Session], dict[str, int]]:
    """``row_counts(session)``: rows per kernel table as the system sees them, after a flush.

    Denial tests compare it before and after the refused action: whatever the session still held
    would be flushed and counted, so "nothing changed" covers what it would have committed too.
    """
    return _row_counts
