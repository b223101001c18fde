"""Modules: how a part of Renda declares, in one place, what it brings to the deployment.

Warehouse's ``includeme`` is the model. A module (the kernel, deputies, suggestions, stations …)
declares its tenant settings, its jobs, its roles, its permissions and which roles carry them, and its
sources of deadlines, as one :class:`Module` value in its own ``module.py``. Nothing registers itself
by being imported: the deployment installs one list of modules (``renda.web.modules``), the same in
the web app, ``renda worker`` and the command line, so a job that no module declares never runs and
the test of that list notices. The web layer adds each module's routers and navigation entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from renda.platform import deadline_sweep, jobs
from renda.platform.access import roles
from renda.platform.deadline_sweep import DeadlineSource
from renda.platform.tenancy import settings


@dataclass(frozen=True)
class Module:
    name: str
    settings: tuple[settings.SettingSpec, ...] = ()
    jobs: tuple[jobs.JobFunction, ...] = ()  # functions marked with @jobs.job
    roles: tuple[roles.RoleSpec, ...] = ()
    permissions: tuple[str, ...] = ()  # the permissions this module defines
    grants: Mapping[str, Iterable[str]] = field(default_factory=dict)  # role -> permissions it adds to the role
    deadline_sources: tuple[DeadlineSource, ...] = ()  # what the one deadline sweep goes over


_installed: dict[str, Module] = {}


def install(modules: Sequence[Module]) -> None:
    """Register what the modules declare with the platform's registries. Installing again is harmless.

    Roles before permissions before grants, in the order given: a module may give its permissions to
    roles an earlier module declared (the congress's roles), never the other way round.
    """
    for module in modules:
        known = _installed.get(module.name)
        if known is module:
            continue
        if known is not None:
            raise ValueError(f"two different modules are named {module.name!r}")
        roles.registry.declare(module.roles, module.permissions, module.grants)
        settings.register(*module.settings)
        for func in module.jobs:
            jobs.registry.add(jobs.spec_of(func))
        for source in module.deadline_sources:
            deadline_sweep.register(source)
        _installed[module.name] = module


def installed() -> tuple[Module, ...]:
    return tuple(_installed.values())
