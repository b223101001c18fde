"""The demo of DESIGN §8: Baise city with its twelve counties on their real division codes,
Long'an (Nanning) for the Pingguo–Long'an–Tiandong joint station, liaison stations, handling
units, and one account per role. Loaded once, in one transaction; a second load changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renda.platform import audit
from renda.platform.access.policy import Principal
from renda.platform.db import Database, Scope
from renda.platform.identity.models import Grant, User
from renda.platform.identity.passwords import hash_password
from renda.platform.identity.service import create_user, grant_role
from renda.platform.tenancy.models import HandlingUnit, JointStation, JointStationMember, OrgUnit, Tenant
from renda.platform.tenancy.provision import provision_city, provision_county
from renda.platform.tenancy.service import add_org_unit, create_handling_unit, get_tenant_by_slug
from renda.tenants.congress.roles import Role
from renda.tenants.deputies.models import Deputy, DeputyStation

DEMO_PASSWORD = "renda-demo-2026"  # noqa: S105 - the demo's published password, printed on purpose


class CitySpec(NamedTuple):
    code: str
    slug: str
    name_en: str


class CountySpec(NamedTuple):
    code: str
    slug: str
    name_en: str
    city: str  # slug of the parent city tenant
    with_villages: bool = False


CITIES = (CitySpec("451000", "baise", "Baise"), CitySpec("450100", "nanning", "Nanning"))

COUNTIES = (
    CountySpec("451002", "youjiang", "Youjiang District", "baise"),
    CountySpec("451003", "tianyang", "Tianyang District", "baise"),
    CountySpec("451022", "tiandong", "Tiandong County", "baise", with_villages=True),
    CountySpec("451024", "debao", "Debao County", "baise"),
    CountySpec("451026", "napo", "Napo County", "baise"),
    CountySpec("451027", "lingyun", "Lingyun County", "baise"),
    CountySpec("451028", "leye", "Leye County", "baise"),
    CountySpec("451029", "tianlin", "Tianlin County", "baise"),
    CountySpec("451030", "xilin", "Xilin County", "baise"),
    CountySpec("451031", "longlin", "Longlin Various Nationalities Autonomous County", "baise"),
    CountySpec("451081", "jingxi", "Jingxi City", "baise"),
    CountySpec("451082", "pingguo", "Pingguo City", "baise"),
    CountySpec("450123", "longan", "Long'an County", "nanning"),
)

# (tenant slug, township code or None for a station directly under the county congress, name)
PINGMA_STATION = "平马镇人大代表联络站"
STATIONS = (
    ("tiandong", "451022100", PINGMA_STATION),
    ("tiandong", "451022108", "朔良镇人大代表联络站"),
    ("tiandong", "451022201", "作登瑶族乡人大代表之家"),
    ("tiandong", None, "田东县人大代表联络站（法律诉讼服务站）"),
    ("pingguo", "451082101", "新安镇人大代表联络站"),
    ("pingguo", "451082100", "马头镇代表之家"),
    ("pingguo", None, "平果市经开区人大代表联络站"),
    ("jingxi", "451081101", "化峒镇联合沿线片区人大代表联络站"),
    ("tianyang", "451003100", "田州镇人大代表联络站"),
    ("youjiang", None, "右江区政务服务中心人大代表联络站"),
)

# (name after the tenant's own name, e.g. "田东县" + "教育局"; the city's variant; category)
HANDLING_UNITS = (
    ("发展和改革局", "发展和改革委员会", "government"),
    ("教育局", "教育局", "government"),
    ("住房和城乡建设局", "住房和城乡建设局", "government"),
    ("交通运输局", "交通运输局", "government"),
    ("农业农村局", "农业农村局", "government"),
    ("卫生健康局", "卫生健康委员会", "government"),
    ("人力资源和社会保障局", "人力资源和社会保障局", "government"),
    ("生态环境局", "生态环境局", "government"),
    ("人民法院", "中级人民法院", "court"),
    ("人民检察院", "人民检察院", "procuratorate"),
)
HANDLING_UNIT_TENANTS = ("baise", "tiandong", "pingguo")

JOINT_STATION = "平果—隆安—田东跨区域人大代表联络站"
JOINT_HOST, JOINT_MEMBERS = "pingguo", ("pingguo", "longan", "tiandong")


class AccountSpec(NamedTuple):
    username: str
    display_name: str
    home: str  # home tenant slug
    role: str
    tenant: str = ""  # tenant of the grant (defaults to home)
    where: str = "root"  # root | station:<name> | township:<code> | unit:<name suffix> | joint


ACCOUNTS = (
    AccountSpec("admin", "韦志明", "baise", "platform_admin", where=""),
    AccountSpec("baise.admin", "黄丽萍", "baise", "congress_admin"),
    AccountSpec("baise.leader", "农建国", "baise", "congress_leader"),
    AccountSpec("tiandong.admin", "陆海燕", "tiandong", "congress_admin"),
    AccountSpec("tiandong.leader", "黄振华", "tiandong", "congress_leader"),
    AccountSpec("tiandong.chair", "罗秀英", "tiandong", "township_chair", where="township:451022100"),
    AccountSpec("tiandong.station", "韦小梅", "tiandong", "station_staff", where=f"station:{PINGMA_STATION}"),
    AccountSpec("tiandong.deputy", "覃永福", "tiandong", "deputy", where=f"station:{PINGMA_STATION}"),
    AccountSpec("tiandong.handler", "梁文斌", "tiandong", "handler", where="unit:教育局"),
    AccountSpec("tiandong.observer", "李红霞", "tiandong", "observer"),
    AccountSpec("pingguo.admin", "蒙晓东", "pingguo", "congress_admin"),
    AccountSpec("pingguo.deputy", "莫桂兰", "pingguo", "deputy", where="station:新安镇人大代表联络站"),
    AccountSpec("joint.deputy", "潘德明", "longan", "deputy", tenant="pingguo", where="joint"),
    AccountSpec("longan.admin", "劳春燕", "longan", "congress_admin"),
)

PLATFORM_WIDE = "全平台 / whole platform"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: str
    tenant: str  # home tenant slug
    where: str  # the name of the node or handling unit the role is held on


@dataclass(frozen=True)
class DemoSummary:
    created: bool  # False when the demo was there already
    tenants: int
    org_units: int
    handling_units: int
    users: int
    accounts: tuple[DemoAccount, ...]
    password: str = DEMO_PASSWORD


StepProgress = Callable[[int, int, str], None]


def load_demo(db: Database, progress: StepProgress | None = None) -> DemoSummary:
    """Build the demo in one transaction, or describe the one already there (tenant "baise")."""
    steps = len(CITIES) + len(COUNTIES) + 5
    step = 0

    def tick(label: str) -> None:
        nonlocal step
        step += 1
        if progress:
            progress(step, steps, label)

    with db.session(Scope.system(), write=True) as session:
        if get_tenant_by_slug(session, CITIES[0].slug) is not None:
            return summarize(session, created=False)
        tenants = _build_tenants(session, tick)
        password_hash = hash_password(DEMO_PASSWORD)
        operator = _platform_operator(session, tenants, password_hash)
        tick("平台管理员 platform operator")
        _build_stations(session, operator, tenants)
        tick("联络站 liaison stations")
        _build_handling_units(session, operator, tenants)
        tick("承办单位 handling units")
        _build_joint_station(session, operator, tenants)
        tick("跨区域联络站 joint station")
        _build_accounts(session, tenants, password_hash)
        _build_deputies(session, tenants)
        tick("演示账号与代表 demo accounts and deputies")
        return summarize(session, created=True)


def _build_tenants(session: Session, tick: Callable[[str], None]) -> dict[str, Tenant]:
    tenants: dict[str, Tenant] = {}
    for city in CITIES:
        tenants[city.slug] = provision_city(session, None, division_code=city.code, slug=city.slug,
                                            name_en=city.name_en)
        tick(tenants[city.slug].name)
        for county in (c for c in COUNTIES if c.city == city.slug):
            tenants[county.slug] = provision_county(
                session, None, parent=tenants[city.slug], division_code=county.code, slug=county.slug,
                name_en=county.name_en, with_villages=county.with_villages)
            tick(tenants[county.slug].name)
    return tenants


def _platform_operator(session: Session, tenants: dict[str, Tenant], password_hash: str) -> Principal:
    """The platform operator's account, and the principal the rest of the demo is built as.

    Stations and handling units go through the same actions as in the UI (add_org_unit and
    create_handling_unit take a principal, not the CLI's ``None``), so they are audited as the
    operator's doing.
    """
    spec = ACCOUNTS[0]
    user = create_user(session, None, tenants[spec.home], username=spec.username,
                       display_name=spec.display_name, password=None, is_platform_admin=True)
    user.password_hash = password_hash
    return Principal(user_id=user.id, username=user.username, display_name=user.display_name,
                     is_platform_admin=True, scope=Scope.system())


def _township(session: Session, tenant: Tenant, code: str) -> OrgUnit:
    return session.scalars(select(OrgUnit).where(OrgUnit.tenant_id == tenant.id, OrgUnit.code == code)).one()


def _build_stations(session: Session, operator: Principal, tenants: dict[str, Tenant]) -> None:
    for slug, township_code, name in STATIONS:
        tenant = tenants[slug]
        parent_id = (_township(session, tenant, township_code).id if township_code
                     else tenant.root_org_unit_id)
        assert parent_id is not None
        add_org_unit(session, operator, tenant, parent_id=parent_id, kind="station", name=name)


def _build_handling_units(session: Session, operator: Principal, tenants: dict[str, Tenant]) -> None:
    for slug in HANDLING_UNIT_TENANTS:
        tenant = tenants[slug]
        for county_name, city_name, category in HANDLING_UNITS:
            suffix = city_name if tenant.level == "city" else county_name
            create_handling_unit(session, operator, tenant, name=tenant.name + suffix, category=category)


def _build_joint_station(session: Session, operator: Principal, tenants: dict[str, Tenant]) -> None:
    """The station is a node under the host's congress, tagged so every member tenant sees it."""
    host = tenants[JOINT_HOST]
    station = JointStation(name=JOINT_STATION, host_tenant_id=host.id)
    session.add(station)
    session.flush()
    assert host.root_org_unit_id is not None
    unit = add_org_unit(session, operator, host, parent_id=host.root_org_unit_id, kind="joint_station",
                        name=JOINT_STATION)
    unit.joint_station_id = station.id
    station.org_unit_id = unit.id
    session.add_all(JointStationMember(joint_station_id=station.id, tenant_id=tenants[slug].id)
                    for slug in JOINT_MEMBERS)
    session.flush()
    audit.record(session, tenant_id=host.id, actor_id=operator.user_id, action="joint_station.create",
                 obj=station, after={"name": JOINT_STATION, "members": list(JOINT_MEMBERS)})


def _scope_of(session: Session, tenant: Tenant, where: str) -> tuple[int | None, int | None]:
    """(org unit id, handling unit id) where a demo account's role applies."""
    kind, _, key = where.partition(":")
    if kind == "root":
        return tenant.root_org_unit_id, None
    if kind == "township":
        return _township(session, tenant, key).id, None
    if kind == "station":
        station = select(OrgUnit.id).where(OrgUnit.tenant_id == tenant.id, OrgUnit.kind == "station",
                                           OrgUnit.name == key)
        return session.scalars(station).one(), None
    if kind == "joint":
        joint = select(JointStation.org_unit_id).where(JointStation.host_tenant_id == tenant.id)
        return session.scalars(joint).one(), None
    if kind == "unit":
        unit = select(HandlingUnit.id).where(HandlingUnit.tenant_id == tenant.id,
                                             HandlingUnit.name == tenant.name + key)
        return None, session.scalars(unit).one()
    raise ValueError(f"unknown demo scope {where!r}")


def _build_accounts(session: Session, tenants: dict[str, Tenant], password_hash: str) -> None:
    """Every account but the operator's, with its one grant.

    They share one hash of the published demo password: argon2 takes ~0.1 s per hash, and
    fourteen of them would be most of the demo's loading time.
    """
    for spec in ACCOUNTS[1:]:
        user = create_user(session, None, tenants[spec.home], username=spec.username,
                           display_name=spec.display_name, password=None)
        user.password_hash = password_hash
        grant_tenant = tenants[spec.tenant or spec.home]
        org_unit_id, handling_unit_id = _scope_of(session, grant_tenant, spec.where)
        grant_role(session, None, grant_tenant, user, role=spec.role, org_unit_id=org_unit_id,
                   handling_unit_id=handling_unit_id)


# Deputies of the two counties with demo accounts, besides the accounts' own records (fictional names).
DEPUTY_NAMES = {
    "tiandong": ("黄丽", "陆春燕", "农志强", "韦建华", "罗美玲", "梁国庆"),
    "pingguo": ("蒙秀兰", "黄家宝", "李玉梅", "覃德胜"),
}
DEMO_TERM = 17  # 第十七届


def _build_deputies(session: Session, tenants: dict[str, Tenant]) -> None:
    """A deputy record for each deputy account (linked to it, in the tenant of its grant), and a few
    more per county, so that suggestions have leads and co-signers to choose from."""
    for number, spec in enumerate(a for a in ACCOUNTS if a.role == Role.DEPUTY):
        tenant = tenants[spec.tenant or spec.home]
        user = session.scalars(select(User).where(User.username == spec.username)).one()
        where, _ = _scope_of(session, tenant, spec.where)
        station = session.get(OrgUnit, where)
        assert station is not None
        home = session.get(OrgUnit, station.parent_id) if station.parent_id else station
        deputy = Deputy(tenant_id=tenant.id, name=spec.display_name, level="county", term=DEMO_TERM,
                        org_unit_id=(home or station).id, user_id=user.id, id_code=f"D{tenant.code}-{number + 1:03d}")
        session.add(deputy)
        session.flush()
        session.add(DeputyStation(tenant_id=tenant.id, deputy_id=deputy.id, org_unit_id=station.id))
    for slug, names in DEPUTY_NAMES.items():
        tenant = tenants[slug]
        assert tenant.root_org_unit_id is not None
        for number, name in enumerate(names, start=101):
            session.add(Deputy(tenant_id=tenant.id, name=name, level="county", term=DEMO_TERM,
                               org_unit_id=tenant.root_org_unit_id, id_code=f"D{tenant.code}-{number}"))
    session.flush()


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def summarize(session: Session, *, created: bool) -> DemoSummary:
    """Counts of the deployment and the demo accounts with their roles, read from the database."""
    names = [a.username for a in ACCOUNTS]
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}
    slugs: dict[int, str] = dict(session.execute(select(Tenant.id, Tenant.slug)).all())
    rows = session.execute(
        select(Grant.user_id, Grant.role, func.coalesce(OrgUnit.name, HandlingUnit.name))
        .outerjoin(OrgUnit, OrgUnit.id == Grant.org_unit_id)
        .outerjoin(HandlingUnit, HandlingUnit.id == Grant.handling_unit_id)
        .where(Grant.user_id.in_([u.id for u in users.values()]))
        .order_by(Grant.id)
    ).all()
    held: dict[int, list[tuple[str, str]]] = {}
    for user_id, role, where in rows:
        held.setdefault(user_id, []).append((role, where or ""))
    accounts = []
    for name in names:
        user = users.get(name)
        if user is None:
            continue
        grants = held.get(user.id) or ([("platform_admin", PLATFORM_WIDE)] if user.is_platform_admin else [])
        accounts += [DemoAccount(user.username, user.display_name, role, slugs.get(user.tenant_id, ""), where)
                     for role, where in grants]
    return DemoSummary(
        created=created, tenants=_count(session, Tenant), org_units=_count(session, OrgUnit),
        handling_units=_count(session, HandlingUnit), users=_count(session, User), accounts=tuple(accounts),
    )
