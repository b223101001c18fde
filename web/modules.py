"""The deployment's modules, one line each, and what the web layer adds for each: routers and menu entries.

Adding a module writes its own folders (``tenants/<name>/`` with a ``module.py`` declaring ``MODULE``, and
``web/routes/<name>/`` whose ``__init__.py`` declares ``WEB``) and one line in :data:`MODULES`. The web app,
``renda worker`` and the command line all install this one list (``install_modules``), so what a module
declares is there in every process, or in none.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache

from fastapi import APIRouter

from renda.platform import kernel, modules

# The congress modules, in the order their menu entries and routes are laid out.
MODULES: tuple[str, ...] = (
    "congress",
    "deputies",
    "suggestions",
)


@dataclass(frozen=True)
class NavEntry:
    """A menu entry: the path under ``/t/{slug}/``, its label (msgid), the permission that shows it."""

    path: str
    label: str
    permission: str
    order: int  # place in the menu: the kernel's pages use 0 and 60-90, modules 10-50


PageOf = Callable[[str, int], str]  # (tenant slug, subject id) -> the path of the subject's page


@dataclass(frozen=True)
class WebModule:
    routers: tuple[APIRouter, ...] = ()
    nav: tuple[NavEntry, ...] = ()
    # subject type -> its page: where notifications about it lead (renda.web.links)
    links: Mapping[str, PageOf] = field(default_factory=dict)


def tenant_modules() -> list[modules.Module]:
    """The kernel first, then each listed module's declaration (``renda.tenants.<name>.module.MODULE``)."""
    found = [kernel.MODULE]
    for name in MODULES:
        declared = importlib.import_module(f"renda.tenants.{name}.module").MODULE
        if declared.name != name:
            raise ValueError(f"renda.tenants.{name} declares itself as {declared.name!r}")
        found.append(declared)
    return found


def install_modules() -> None:
    """What every process does first: the platform learns the modules' settings, jobs and roles."""
    modules.install(tenant_modules())


def web_modules() -> Iterator[WebModule]:
    """The kernel's pages, then each module's ``renda.web.routes.<name>.WEB`` where it has pages."""
    from renda.web.routes import core

    yield core.WEB
    for name in MODULES:
        try:
            package = importlib.import_module(f"renda.web.routes.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"renda.web.routes.{name}":
                raise
            continue  # a module without pages of its own
        yield package.WEB


@cache
def navigation() -> tuple[NavEntry, ...]:
    return tuple(sorted((e for m in web_modules() for e in m.nav), key=lambda e: e.order))

