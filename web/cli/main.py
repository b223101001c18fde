"""The ``renda`` command: schema upgrades, the demo, the web server, accounts and tenants.

Every command acts as the operator (``actor=None``): the services skip the permission check
but validate and audit as for anyone. Errors end in one line, in Chinese and English, exit 1.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from renda.platform.config import REPO_ROOT, check_secret_key, get_settings
from renda.platform.db import Database, Scope
from renda.platform.tenancy import queries as tenancy_queries
from renda.platform.tenancy.service import get_tenant_by_slug
from renda.tenants.demo import DemoSummary, load_demo
from renda.tenants.demo_scale import ScaleSummary, generate
from renda.web import i18n, links
from renda.web.cli.accounts import tenant_app, user_app
from renda.web.cli.common import ROLE_LABELS, cli_errors, console, database_of, database_url, fail, require_schema
from renda.web.cli.keycloak import keycloak_app
from renda.web.modules import install_modules

app = typer.Typer(help="Renda 人大 — multi-tenant platform for local people's congresses.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="数据库 Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(tenant_app, name="tenant")
app.add_typer(keycloak_app, name="keycloak")


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
    with cli_errors():
        upgrade_database(database_url(ctx))
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
    with cli_errors():
        db = database_of(ctx)
        require_schema(db)
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
    with cli_errors():
        url = database_url(ctx)
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
    with cli_errors():
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
    with cli_errors():
        check_secret_key(settings)  # it signs the queue's messages
    if not settings.redis_url:
        fail("未配置 Redis（RENDA_REDIS_URL）：内嵌模式下后台任务在 `renda serve` 进程内运行，无需单独启动。",
              "no Redis (RENDA_REDIS_URL): embedded, the jobs run inside `renda serve`; no worker is needed.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with cli_errors():
        db = Database(settings)
        queue = jobs.JobQueue(settings, db, translations=i18n.translations, links=links.link_for)
        try:
            require_schema(db)
            names = ", ".join(sorted(spec.name for spec in queue.registry.specs()))
            console.print(f"[green]✓[/] 后台任务已启动 / worker started on queue {queue.name}: {names}")
            jobs.install(queue)
            queue.run(threads)
        finally:
            jobs.install(None)
            queue.close()
            db.dispose()
