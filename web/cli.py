"""The ``renda`` command: schema upgrades, the demo, the web server, accounts and tenants.

Every command acts as the operator (``actor=None``): the services skip the permission check
but validate and audit as for anyone. Errors end in one line, in Chinese and English, exit 1.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from renda.platform.config import REPO_ROOT, InsecureSettings, check_secret_key, get_settings
from renda.platform.db import Database, Scope
from renda.platform.errors import NotFound, ValidationFailed
from renda.platform.identity.service import create_user, grant_role
from renda.platform.tenancy import queries as tenancy_queries
from renda.platform.tenancy.divisions import DivisionsUnavailable
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant
from renda.platform.tenancy.provision import provision_city, provision_county
from renda.platform.tenancy.service import get_tenant_by_slug
from renda.tenants.congress.roles import HANDLING_UNIT_ROLES, Role
from renda.tenants.demo import DemoSummary, load_demo
from renda.tenants.demo_scale import ScaleSummary, generate
from renda.web import i18n
from renda.web.modules import install_modules

app = typer.Typer(help="Renda 人大 — multi-tenant platform for local people's congresses.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="数据库 Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="账号 Accounts.", no_args_is_help=True)
tenant_app = typer.Typer(help="租户 Tenants.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(tenant_app, name="tenant")
keycloak_app = typer.Typer(help="统一身份认证 Keycloak realm and groups.", no_args_is_help=True)
app.add_typer(keycloak_app, name="keycloak")

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

ROLE_LABELS = {
    "platform_admin": "平台管理员", "congress_admin": "人大机关管理员", "congress_leader": "常委会领导",
    "township_chair": "乡镇人大主席", "station_staff": "联络站工作人员", "deputy": "人大代表",
    "handler": "承办单位经办人", "observer": "观察员（只读）",
}
FIELD_LABELS = {
    "slug": "简称", "name": "名称", "code": "区划代码", "division_code": "区划代码", "username": "用户名",
    "display_name": "姓名", "password": "密码", "role": "角色", "scope": "范围", "kind": "类型",
}


class CliError(Exception):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def _fail(zh: str, en: str) -> NoReturn:
    err_console.print(f"[bold red]错误：[/]{zh} [dim]/[/] [bold red]Error:[/] {en}")
    raise typer.Exit(1)


def _validation_line(exc: ValidationFailed) -> tuple[str, str]:
    zh_catalog = i18n.translations("zh_CN")
    zh_parts, en_parts = [], []
    for field, message in exc.errors.items():
        en = message.render(lambda s: s)
        zh = message.render(zh_catalog.gettext)
        label = FIELD_LABELS.get(field, field)
        zh_parts.append(f"{label}：{zh}" if zh != en else f"{label}输入有误")
        en_parts.append(f"{field}: {en}")
    return "；".join(zh_parts), "; ".join(en_parts)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn the errors an operator can fix into one line instead of a traceback."""
    try:
        yield
    except (CliError, InsecureSettings) as exc:
        _fail(exc.zh, exc.en)
    except ValidationFailed as exc:
        _fail(*_validation_line(exc))
    except DivisionsUnavailable as exc:
        _fail("找不到行政区划数据，请在仓库根目录运行 `npm ci`（或 `make run`）。", str(exc))
    except NotFound as exc:
        _fail(f"找不到：{exc}", f"not found: {exc}")
    except OperationalError as exc:
        first = str(exc.orig).splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        _fail(f"数据库出错：{first}", f"database error: {first}")


def _url(ctx: typer.Context) -> str:
    return (ctx.obj or {}).get("database_url") or get_settings().database_url


def _database(ctx: typer.Context) -> Database:
    return Database(url=_url(ctx))


def _require_schema(db: Database) -> None:
    if not db.has_schema():
        raise CliError("数据库还没有表结构，请先运行 `renda db upgrade`。",
                       "the database has no schema yet: run `renda db upgrade` first.")


def _tenant(session: Session, slug: str) -> Tenant:
    tenant = get_tenant_by_slug(session, slug)
    if tenant is None:
        raise CliError(f"没有简称为 {slug} 的租户。", f"no tenant with the short name {slug!r}.")
    return tenant


@app.callback()
def main(
    ctx: typer.Context,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="Default: RENDA_DATABASE_URL, else the SQLite file under var/.")] = None,
) -> None:
    ctx.obj = {"database_url": database_url}
    install_modules()  # the same modules as the web app: their settings, jobs and roles


def upgrade_database(url: str) -> None:
    """``alembic upgrade head`` on ``url``, with the repository's alembic.ini."""
    from alembic import command
    from alembic.config import Config

    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "head")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    with _errors():
        upgrade_database(_url(ctx))
    console.print("[green]✓[/] 数据库已是最新结构 / database schema is up to date")


def _load_demo_with_bar(db: Database) -> DemoSummary:
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("演示数据 demo", total=None)

        def step(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=f"演示数据 demo · {label}")

        return load_demo(db, progress=step)


def _print_summary(summary: DemoSummary) -> None:
    state = "已载入" if summary.created else "已存在"
    console.print(
        f"[green]✓[/] 演示数据{state} / demo {'loaded' if summary.created else 'already present'}: "
        f"{summary.tenants} tenants, {summary.org_units} org units, {summary.handling_units} handling units, "
        f"{summary.users} users")
    table = Table(title="演示账号 Demo accounts")
    table.add_column("用户名 Username", no_wrap=True)
    for column in ("姓名 Name", "角色 Role", "租户 Tenant", "范围 Where"):
        table.add_column(column)
    for a in summary.accounts:
        role = f"{a.role} {ROLE_LABELS.get(a.role, '')}"
        table.add_row(a.username, a.display_name, role, a.tenant, a.where)
    console.print(table)
    console.print(f"所有演示账号的密码 / password of every demo account: [bold]{summary.password}[/]")


def _generate_with_bar(db: Database, n: int) -> ScaleSummary:
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("建议 suggestions", total=n)

        def step(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)

        return generate(db, n, progress=step)


def _print_scale(summary: ScaleSummary, seconds: float) -> None:
    console.print(f"[green]✓[/] 已生成 {summary.suggestions:,} 件建议 / {summary.suggestions:,} suggestions generated "
                  f"in {seconds:.0f} s ({summary.deputies_created:,} new deputies; deadlines as of {summary.today})")
    table = Table(title="按状态 By state")
    table.add_column("状态 State")
    table.add_column("件数 Count", justify="right")
    for state, count in summary.by_state.items():
        table.add_row(state, f"{count:,}")
    console.print(table)
    console.print("按租户 By tenant: " + ", ".join(f"{slug} {n:,}" for slug, n in summary.by_tenant.items()))


@app.command()
def demo(
    ctx: typer.Context,
    scale: Annotated[int | None, typer.Option(
        "--scale", min=1, help="Then add this many suggestions in every state, e.g. 100000 (not idempotent).")] = None,
) -> None:
    """Load the demo (Baise and its counties, Long'an, stations, one account per role)."""
    with _errors():
        db = _database(ctx)
        _require_schema(db)
        summary = _load_demo_with_bar(db)
        if scale:
            started = time.perf_counter()
            scaled = _generate_with_bar(db, scale)
            seconds = time.perf_counter() - started
    _print_summary(summary)
    if scale:
        _print_scale(scaled, seconds)


@app.command("run-setup")
def run_setup(ctx: typer.Context) -> None:
    """Used by `make run`: upgrade the schema, load the demo into an empty database, list its accounts."""
    with _errors():
        url = _url(ctx)
        upgrade_database(url)
        db = Database(url=url)
        with db.session(Scope.system()) as session:
            tenants = tenancy_queries.count_tenants(session)
            has_demo = get_tenant_by_slug(session, "baise") is not None
        if tenants and not has_demo:
            console.print("数据库已有租户，未载入演示数据 / tenants exist already; the demo was not loaded")
            return
        summary = _load_demo_with_bar(db)
        if not has_demo:  # a fresh demo: suggestions in every state, so the pages have something to show
            generate(db, DEMO_SUGGESTIONS)
            console.print(f"✓ 演示建议 {DEMO_SUGGESTIONS} 件 / {DEMO_SUGGESTIONS} demo suggestions in every state")
    _print_summary(summary)


DEMO_SUGGESTIONS = 120


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    reload: Annotated[bool, typer.Option(help="Restart when the code changes (development).")] = False,
) -> None:
    """Run the web application with uvicorn."""
    import uvicorn

    url = (ctx.obj or {}).get("database_url")
    if url:  # the app (and uvicorn's reloader child) read their settings from the environment
        os.environ["RENDA_DATABASE_URL"] = url
    with _errors():
        check_secret_key(get_settings())  # (the app checks again when it starts, under any server)
    uvicorn.run("renda.web.app:create_app", factory=True, host=host, port=port, reload=reload,
                reload_dirs=[str(REPO_ROOT)] if reload else None)


@app.command()
def worker(
    ctx: typer.Context,
    threads: Annotated[int | None, typer.Option(
        "--threads", help="Jobs run at once. Default: RENDA_JOBS_WORKERS.")] = None,
) -> None:
    """Run the background jobs and their schedule on Redis, until SIGTERM (lets running jobs finish) or Ctrl-C."""
    import logging

    from renda.platform import jobs

    settings = get_settings()
    url = (ctx.obj or {}).get("database_url")
    if url:
        settings = settings.model_copy(update={"database_url": url})
    with _errors():
        check_secret_key(settings)  # it signs the queue's messages
    if not settings.redis_url:
        _fail("未配置 Redis（RENDA_REDIS_URL）：内嵌模式下后台任务在 `renda serve` 进程内运行，无需单独启动。",
              "no Redis (RENDA_REDIS_URL): embedded, the jobs run inside `renda serve`; no worker is needed.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with _errors():
        db = Database(settings)
        queue = jobs.JobQueue(settings, db, translations=i18n.translations)
        try:
            _require_schema(db)
            names = ", ".join(sorted(spec.name for spec in queue.registry.specs()))
            console.print(f"[green]✓[/] 后台任务已启动 / worker started on queue {queue.name}: {names}")
            jobs.install(queue)
            queue.run(threads)
        finally:
            jobs.install(None)
            queue.close()
            db.dispose()


def _find_org_unit(session: Session, tenant: Tenant, ref: str) -> OrgUnit:
    """An org unit of the tenant by division code, id, or exact name."""
    unit = tenancy_queries.find_org_unit(session, tenant, ref)
    if unit is None:
        raise CliError(f"{tenant.name}没有这个组织节点：{ref}",
                       f"no org unit {ref!r} in tenant {tenant.slug}.")
    return unit


def _find_handling_unit(session: Session, tenant: Tenant, ref: str) -> HandlingUnit:
    unit = tenancy_queries.find_handling_unit(session, tenant, ref)
    if unit is None:
        raise CliError(f"{tenant.name}没有这个承办单位：{ref}",
                       f"no handling unit {ref!r} in tenant {tenant.slug}.")
    return unit


@user_app.command("create")
def user_create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name.")],
    tenant: Annotated[str, typer.Option("--tenant", help="Short name (slug) of the home tenant.")],
    name: Annotated[str, typer.Option("--name", help="Display name, e.g. 黄丽萍.")],
    password: Annotated[str | None, typer.Option(help="Asked for (hidden) when not given.")] = None,
    platform_admin: Annotated[bool, typer.Option("--platform-admin", help="Platform operator.")] = False,
    role: Annotated[str | None, typer.Option(
        help="Role to grant: " + ", ".join(r.value for r in Role if r is not Role.PLATFORM_ADMIN))] = None,
    scope: Annotated[str | None, typer.Option(
        help="Where the role applies: org unit code, id or name (default: the tenant's congress); "
             "for handler, a handling unit id or name.")] = None,
) -> None:
    """Create a local account, optionally with one role."""
    with _errors():
        db = _database(ctx)
        _require_schema(db)
        if password is None:
            password = typer.prompt("密码 Password", hide_input=True, confirmation_prompt=True)
        with db.session(Scope.system(), write=True) as session:
            home = _tenant(session, tenant)
            user = create_user(session, None, home, username=username, display_name=name, password=password,
                               is_platform_admin=platform_admin)
            where = ""
            if role:
                if role in {r.value for r in HANDLING_UNIT_ROLES}:
                    if not scope:
                        raise CliError("经办人角色需用 --scope 指定承办单位。",
                                       "the handler role needs --scope naming a handling unit.")
                    hu = _find_handling_unit(session, home, scope)
                    grant_role(session, None, home, user, role=role, handling_unit_id=hu.id)
                    where = hu.name
                else:
                    node = _find_org_unit(session, home, scope) if scope else None
                    node_id = node.id if node else home.root_org_unit_id
                    grant_role(session, None, home, user, role=role, org_unit_id=node_id)
                    where = node.name if node else home.name
            user_id = user.id
    console.print(f"[green]✓[/] 已创建账号 / created user [bold]{username}[/] (id {user_id}) in {tenant}"
                  + (f", {role} @ {where}" if role else "")
                  + (", platform admin" if platform_admin else ""))


@tenant_app.command("create")
def tenant_create(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="Short name used in URLs, e.g. tiandong.")],
    division: Annotated[str, typer.Option(
        "--division", help="GB/T 2260 code: 451022 (county), 451000 (city).")],
    parent: Annotated[str | None, typer.Option(help="Slug of the parent (city) tenant.")] = None,
    villages: Annotated[bool, typer.Option(
        "--villages", help="Also create every village and community.")] = False,
    name_en: Annotated[str, typer.Option("--name-en", help="English name, e.g. 'Tiandong County'.")] = "",
) -> None:
    """Create a tenant from its division code: a county with its townships (and villages), or a city."""
    division = division.strip()
    is_city = len(division) == 6 and division.isdigit() and division.endswith("00")
    with _errors():
        db = _database(ctx)
        _require_schema(db)
        with db.session(Scope.system(), write=True) as session:
            if is_city:
                if parent:
                    raise CliError("市级租户没有上级租户，请去掉 --parent。",
                                   "a city tenant has no parent: leave out --parent.")
                created = provision_city(session, None, division_code=division, slug=slug, name_en=name_en)
            else:
                parent_tenant = _tenant(session, parent) if parent else None
                with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                              TimeElapsedColumn(), console=console, transient=True) as bar:
                    task = bar.add_task(f"组织树 org tree {division}", total=None)
                    created = provision_county(
                        session, None, parent=parent_tenant, division_code=division, slug=slug,
                        name_en=name_en, with_villages=villages,
                        progress=lambda done, total: bar.update(task, completed=done, total=total))
            nodes = tenancy_queries.count_org_units(session, created)
            label = f"{created.name} ({created.code}, {created.level})"
    console.print(f"[green]✓[/] 已创建租户 / created tenant [bold]{slug}[/]: {label}, {nodes} org units")


# --- Keycloak --------------------------------------------------------------------------------------
# python-keycloak (and requests under it) is imported by these commands only.

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


@contextmanager
def _duplicate_paths() -> Iterator[None]:
    from renda.platform.identity.keycloak_realm import DuplicateGroupPath

    try:
        yield
    except DuplicateGroupPath as exc:
        ids = ", ".join(str(i) for i in exc.node_ids)
        raise CliError(f"组织节点 {ids} 对应同一个 Keycloak 组 {exc.path}（区划代码重复），请先更正代码。",
                       f"org units {ids} would share the Keycloak group {exc.path} (a repeated division "
                       "code): correct the codes first.") from None


@keycloak_app.command("export-realm")
def keycloak_export_realm(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option(help="Where to write the realm import (JSON).")] = Path(
        "infra/keycloak/realm-renda.json"),
    public_url: Annotated[str | None, typer.Option(
        help=f"Address people reach Renda at. Default: RENDA_PUBLIC_URL, else {DEFAULT_PUBLIC_URL}.")] = None,
    redirect_uri: Annotated[list[str] | None, typer.Option(
        "--redirect-uri", help="Allowed redirect URI (repeatable). Default: {public-url}/login/sso/callback.")] = None,
    villages: Annotated[bool, typer.Option(
        "--villages", help="Also make groups for villages and communities.")] = False,
    secret_placeholder: Annotated[bool, typer.Option(
        help="Write the client secret as ${RENDA_KEYCLOAK_CLIENT_SECRET}, filled in by `--import-realm` "
             "from Keycloak's environment; --no-secret-placeholder lets Keycloak generate one.")] = True,
) -> None:
    """Write the realm import (client, realm role, mappers, the org tree as groups) for Keycloak."""
    from renda.platform.identity.keycloak_realm import (
        SECRET_PLACEHOLDER,
        build_realm,
        iter_groups,
        write_realm,
    )

    settings = get_settings()
    base = (public_url or settings.public_url or DEFAULT_PUBLIC_URL).rstrip("/")
    with _errors():
        db = _database(ctx)
        try:
            _require_schema(db)
            with db.session(Scope.system()) as session, _duplicate_paths():
                realm = build_realm(
                    session, settings, redirect_uris=redirect_uri or [f"{base}/login/sso/callback"],
                    post_logout_redirect_uris=[f"{base}/login"], web_origins=[base], include_villages=villages,
                    client_secret=SECRET_PLACEHOLDER if secret_placeholder else None)
        finally:
            db.dispose()
        written = write_realm(output, realm)
    count = sum(1 for _ in iter_groups(realm["groups"]))
    console.print(f"[green]✓[/] 已导出 realm {realm['realm']}（{count} 个组）/ exported realm {realm['realm']} "
                  f"with {count} groups → {written}")


@keycloak_app.command("sync")
def keycloak_sync(
    ctx: typer.Context,
    admin_user: Annotated[str | None, typer.Option(
        envvar="RENDA_KEYCLOAK_ADMIN_USER", help="Keycloak administrator (password grant).")] = None,
    admin_password: Annotated[str | None, typer.Option(
        envvar="RENDA_KEYCLOAK_ADMIN_PASSWORD", help="Its password.")] = None,
    admin_realm: Annotated[str, typer.Option(
        envvar="RENDA_KEYCLOAK_ADMIN_REALM", help="Realm the administrator logs in to.")] = "master",
    admin_client_id: Annotated[str | None, typer.Option(
        envvar="RENDA_KEYCLOAK_ADMIN_CLIENT_ID",
        help="With --admin-user: the client to log in through (default admin-cli). Without: a client of "
             "the Renda realm whose service account may manage groups (realm-management manage-users).")] = None,
    admin_client_secret: Annotated[str | None, typer.Option(
        envvar="RENDA_KEYCLOAK_ADMIN_CLIENT_SECRET", help="That client's secret.")] = None,
    villages: Annotated[bool, typer.Option(
        "--villages", help="Also make groups for villages and communities.")] = False,
) -> None:
    """Create the groups the live realm is missing after the org tree changed (deletes nothing)."""
    from keycloak import KeycloakAdmin
    from keycloak.exceptions import KeycloakAuthenticationError, KeycloakConnectionError, KeycloakError
    from rich.markup import escape

    from renda.platform.identity.keycloak_realm import SyncFailed, SyncResult, build_group_tree, sync_groups

    settings = get_settings()
    if not settings.keycloak_url:
        _fail("未配置 Keycloak：请设置 RENDA_KEYCLOAK_URL。", "Keycloak is not configured: set RENDA_KEYCLOAK_URL.")
    as_user = bool(admin_user and admin_password)
    if not as_user and not (admin_client_id and admin_client_secret):
        _fail("缺少 Keycloak 管理凭据：请设置 RENDA_KEYCLOAK_ADMIN_USER 和 RENDA_KEYCLOAK_ADMIN_PASSWORD"
              "（或 RENDA_KEYCLOAK_ADMIN_CLIENT_ID 和 RENDA_KEYCLOAK_ADMIN_CLIENT_SECRET）。",
              "no Keycloak admin credentials: set RENDA_KEYCLOAK_ADMIN_USER and RENDA_KEYCLOAK_ADMIN_PASSWORD "
              "(or RENDA_KEYCLOAK_ADMIN_CLIENT_ID and RENDA_KEYCLOAK_ADMIN_CLIENT_SECRET).")

    def connect() -> KeycloakAdmin:
        """An administrator through admin-cli of their realm, or a service account of the Renda realm."""
        if as_user:
            return KeycloakAdmin(server_url=settings.keycloak_url, realm_name=settings.keycloak_realm,
                                 username=admin_user, password=admin_password, user_realm_name=admin_realm,
                                 client_id=admin_client_id or "admin-cli", client_secret_key=admin_client_secret,
                                 timeout=settings.keycloak_timeout_seconds)
        return KeycloakAdmin(server_url=settings.keycloak_url, realm_name=settings.keycloak_realm,
                             client_id=admin_client_id or "", client_secret_key=admin_client_secret,
                             timeout=settings.keycloak_timeout_seconds)

    where = f"{settings.keycloak_url} realm {settings.keycloak_realm}"
    result, failure = SyncResult(), None
    with _errors():
        db = _database(ctx)
        try:
            _require_schema(db)
            with db.session(Scope.system()) as session:
                with _duplicate_paths():
                    tree = build_group_tree(session, include_villages=villages)
                try:
                    result = sync_groups(session, connect(), tree)
                except SyncFailed as exc:  # what was created before the failure is audited all the same
                    result, failure = exc.result, exc.cause
                except KeycloakError as exc:
                    failure = exc
        finally:
            db.dispose()
    made = len(result.created)
    zh_made, en_made = (f"，此前已创建 {made} 个组", f" after creating {made} groups") if made else ("", "")
    if isinstance(failure, KeycloakConnectionError):
        _fail(f"无法连接 Keycloak（{escape(where)}）{zh_made}。",
              escape(f"cannot reach Keycloak at {where}{en_made}: {failure}"))
    if isinstance(failure, KeycloakAuthenticationError):
        _fail(f"Keycloak 拒绝了管理凭据（{escape(where)}）{zh_made}。",
              escape(f"Keycloak refused the admin credentials ({where}){en_made}."))
    if isinstance(failure, KeycloakError) and failure.response_code == 403:
        _fail(f"该 Keycloak 账号无权管理 realm {escape(settings.keycloak_realm)} 的组（需要 realm-management 的 "
              f"manage-users 角色）{zh_made}。",
              escape(f"the Keycloak account may not manage the groups of realm {settings.keycloak_realm} "
                     f"(it needs realm-management's manage-users role){en_made}."))
    if isinstance(failure, KeycloakError):
        _fail(f"Keycloak 出错（HTTP {failure.response_code}）{zh_made}。",
              escape(f"Keycloak error (HTTP {failure.response_code}){en_made}: {failure.error_message!r}"))
    if failure is not None:
        _fail(f"同步失败{zh_made}：{escape(str(failure))}", escape(f"sync failed{en_made}: {failure}"))
    console.print(f"[green]✓[/] Keycloak 组已与组织树同步 / groups in step with the org tree ({escape(where)}): "
                  f"{made} created, {result.existing} already there")
    for path in result.created:
        console.print(f"  + {escape(path)}")
