"""`renda user` and `renda tenant`: accounts and tenants from the command line, acting as the operator."""


from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from renda.platform.db import Scope
from renda.platform.identity.service import create_user, grant_role
from renda.platform.tenancy import queries as tenancy_queries
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant
from renda.platform.tenancy.provision import provision_city, provision_county
from renda.tenants.congress.roles import HANDLING_UNIT_ROLES, Role
from renda.web.cli.common import CliError, cli_errors, console, database_of, require_schema, tenant_named

user_app = typer.Typer(help="账号 Accounts.", no_args_is_help=True)
tenant_app = typer.Typer(help="租户 Tenants.", no_args_is_help=True)


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
    with cli_errors():
        db = database_of(ctx)
        require_schema(db)
        if password is None:
            password = typer.prompt("密码 Password", hide_input=True, confirmation_prompt=True)
        with db.session(Scope.system(), write=True) as session:
            home = tenant_named(session, tenant)
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
    with cli_errors():
        db = database_of(ctx)
        require_schema(db)
        with db.session(Scope.system(), write=True) as session:
            if is_city:
                if parent:
                    raise CliError("市级租户没有上级租户，请去掉 --parent。",
                                   "a city tenant has no parent: leave out --parent.")
                created = provision_city(session, None, division_code=division, slug=slug, name_en=name_en)
            else:
                parent_tenant = tenant_named(session, parent) if parent else None
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
