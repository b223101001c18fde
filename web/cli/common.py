"""What the commands share: consoles, one-line errors in Chinese and English, the database and a tenant by name."""


from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from renda.platform.config import InsecureSettings, get_settings
from renda.platform.db import Database
from renda.platform.errors import NotFound, ValidationFailed
from renda.platform.tenancy.divisions import DivisionsUnavailable
from renda.platform.tenancy.models import Tenant
from renda.platform.tenancy.service import get_tenant_by_slug
from renda.web import i18n

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


def fail(zh: str, en: str) -> NoReturn:
    err_console.print(f"[bold red]错误：[/]{zh} [dim]/[/] [bold red]Error:[/] {en}")
    raise typer.Exit(1)


def validation_line(exc: ValidationFailed) -> tuple[str, str]:
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
def cli_errors() -> Iterator[None]:
    """Turn the errors an operator can fix into one line instead of a traceback."""
    try:
        yield
    except (CliError, InsecureSettings) as exc:
        fail(exc.zh, exc.en)
    except ValidationFailed as exc:
        fail(*validation_line(exc))
    except DivisionsUnavailable as exc:
        fail("找不到行政区划数据，请在仓库根目录运行 `npm ci`（或 `make run`）。", str(exc))
    except NotFound as exc:
        fail(f"找不到：{exc}", f"not found: {exc}")
    except OperationalError as exc:
        first = str(exc.orig).splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        fail(f"数据库出错：{first}", f"database error: {first}")


def database_url(ctx: typer.Context) -> str:
    return (ctx.obj or {}).get("database_url") or get_settings().database_url


def database_of(ctx: typer.Context) -> Database:
    return Database(url=database_url(ctx))


def require_schema(db: Database) -> None:
    if not db.has_schema():
        raise CliError("数据库还没有表结构，请先运行 `renda db upgrade`。",
                       "the database has no schema yet: run `renda db upgrade` first.")


def tenant_named(session: Session, slug: str) -> Tenant:
    tenant = get_tenant_by_slug(session, slug)
    if tenant is None:
        raise CliError(f"没有简称为 {slug} 的租户。", f"no tenant with the short name {slug!r}.")
    return tenant
