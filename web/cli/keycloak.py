"""`renda keycloak`: the realm exported from the org tree, and the groups Keycloak lacks."""


from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from renda.platform.config import get_settings
from renda.platform.db import Scope
from renda.web.cli.common import CliError, cli_errors, console, database_of, fail, require_schema

keycloak_app = typer.Typer(help="统一身份认证 Keycloak realm and groups.", no_args_is_help=True)


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
    with cli_errors():
        db = database_of(ctx)
        try:
            require_schema(db)
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
        fail("未配置 Keycloak：请设置 RENDA_KEYCLOAK_URL。", "Keycloak is not configured: set RENDA_KEYCLOAK_URL.")
    as_user = bool(admin_user and admin_password)
    if not as_user and not (admin_client_id and admin_client_secret):
        fail("缺少 Keycloak 管理凭据：请设置 RENDA_KEYCLOAK_ADMIN_USER 和 RENDA_KEYCLOAK_ADMIN_PASSWORD"
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
    with cli_errors():
        db = database_of(ctx)
        try:
            require_schema(db)
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
        fail(f"无法连接 Keycloak（{escape(where)}）{zh_made}。",
              escape(f"cannot reach Keycloak at {where}{en_made}: {failure}"))
    if isinstance(failure, KeycloakAuthenticationError):
        fail(f"Keycloak 拒绝了管理凭据（{escape(where)}）{zh_made}。",
              escape(f"Keycloak refused the admin credentials ({where}){en_made}."))
    if isinstance(failure, KeycloakError) and failure.response_code == 403:
        fail(f"该 Keycloak 账号无权管理 realm {escape(settings.keycloak_realm)} 的组（需要 realm-management 的 "
              f"manage-users 角色）{zh_made}。",
              escape(f"the Keycloak account may not manage the groups of realm {settings.keycloak_realm} "
                     f"(it needs realm-management's manage-users role){en_made}."))
    if isinstance(failure, KeycloakError):
        fail(f"Keycloak 出错（HTTP {failure.response_code}）{zh_made}。",
              escape(f"Keycloak error (HTTP {failure.response_code}){en_made}: {failure.error_message!r}"))
    if failure is not None:
        fail(f"同步失败{zh_made}：{escape(str(failure))}", escape(f"sync failed{en_made}: {failure}"))
    console.print(f"[green]✓[/] Keycloak 组已与组织树同步 / groups in step with the org tree ({escape(where)}): "
                  f"{made} created, {result.existing} already there")
    for path in result.created:
        console.print(f"  + {escape(path)}")
