"""The module list is the one place a module is installed: nothing is registered by being imported.

These tests walk every module under ``renda`` and fail when a job, a setting or a router exists in the
code but not in what the installed modules declare — the job that would never run, the setting that
would never show, the page that would answer 404.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from fastapi import APIRouter

import renda
from renda.platform import jobs, modules
from renda.platform.access.roles import PLATFORM_ADMIN, permissions_of, registry
from renda.platform.tenancy.settings import REGISTRY, SettingSpec
from renda.tenants.congress.roles import Permission, Role
from renda.web.app import create_app
from renda.web.modules import MODULES, install_modules, navigation, tenant_modules


def _every_module(package: str) -> list[ModuleType]:
    root = importlib.import_module(package)
    found = [root]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        found.append(importlib.import_module(info.name))
    return found


def _defined_here(module: ModuleType, value: object) -> bool:
    return getattr(value, "__module__", module.__name__) == module.__name__


def test_every_job_in_the_code_is_declared_by_an_installed_module() -> None:
    install_modules()
    registered = {spec.name: spec.func for spec in jobs.registry.specs()}
    marked = {}
    for package in ("renda.platform", "renda.tenants"):
        for module in _every_module(package):
            for value in vars(module).values():
                spec = getattr(value, jobs.SPEC_ATTRIBUTE, None)
                if isinstance(spec, jobs.JobSpec):
                    marked[spec.name] = value
    assert marked, "the walk found no job at all"
    assert {name: registered.get(name) for name in marked} == marked


def test_every_setting_in_the_code_is_registered_and_its_default_is_valid() -> None:
    install_modules()
    defined: list[SettingSpec] = []
    for package in ("renda.platform", "renda.tenants"):
        for module in _every_module(package):
            for value in vars(module).values():
                candidates = value if isinstance(value, tuple) else (value,)
                defined += [v for v in candidates if isinstance(v, SettingSpec)]
    assert {s.key for s in defined} == set(REGISTRY)
    for spec in REGISTRY.values():
        assert spec.default is not None, spec.key
        assert spec.parse(spec.default) == spec.default, spec.key


def test_every_router_in_the_web_layer_is_served() -> None:
    app = create_app()
    served = {id(r.endpoint) for r in app.routes if hasattr(r, "endpoint")}
    for module in _every_module("renda.web.routes"):
        for value in vars(module).values():
            if isinstance(value, APIRouter) and _defined_here(module, value):
                missing = [r.path for r in value.routes if id(getattr(r, "endpoint", None)) not in served]
                assert not missing, f"{module.__name__}: {missing}"


def test_the_list_names_each_module_once_and_each_declares_itself_under_its_name() -> None:
    assert len(set(MODULES)) == len(MODULES)
    declared = [m.name for m in tenant_modules()]
    assert declared == ["platform", *MODULES]
    install_modules()
    install_modules()  # every process may install again (each app the tests create does): harmless
    assert [m.name for m in modules.installed()] == declared


def test_the_menu_has_one_entry_per_path() -> None:
    paths = [e.path for e in navigation()]
    assert len(paths) == len(set(paths))
    assert paths[0] == ""  # the tenant's home first


def test_the_roles_carry_what_the_congress_gives_them() -> None:
    """The permissions each role carries, gathered from the modules, are the design's (DESIGN §4)."""
    install_modules()
    P = Permission
    expected = {
        Role.CONGRESS_ADMIN: {P.TENANT_VIEW, P.TENANT_MANAGE, P.ORG_MANAGE, P.USER_MANAGE, P.HANDLING_UNIT_MANAGE,
                              P.AUDIT_VIEW, P.DEPUTY_MANAGE, P.STATION_MANAGE, P.SUGGESTION_REVIEW,
                              P.SUGGESTION_ASSIGN, P.SUGGESTION_SUPERVISE, P.OPINION_TRIAGE, P.PROJECT_MANAGE,
                              P.REPORT_VIEW},
        Role.CONGRESS_LEADER: {P.TENANT_VIEW, P.SUGGESTION_SUPERVISE, P.REPORT_VIEW, P.AUDIT_VIEW},
        Role.TOWNSHIP_CHAIR: {P.TENANT_VIEW, P.ORG_MANAGE, P.STATION_MANAGE, P.OPINION_TRIAGE, P.REPORT_VIEW,
                              P.SUGGESTION_SUBMIT},
        Role.STATION_STAFF: {P.TENANT_VIEW, P.STATION_MANAGE, P.OPINION_TRIAGE, P.REPORT_VIEW},
        Role.DEPUTY: {P.TENANT_VIEW, P.SUGGESTION_SUBMIT, P.SUGGESTION_EVALUATE, P.PROJECT_VOTE},
        Role.HANDLER: {P.TENANT_VIEW, P.SUGGESTION_REPLY, P.OPINION_REPLY},
        Role.OBSERVER: {P.TENANT_VIEW, P.REPORT_VIEW},
    }
    assert {r: set(permissions_of(r)) for r in expected} == expected
    assert permissions_of(PLATFORM_ADMIN) == set(Permission)
    assert set(registry.roles()) == set(Role)
    assert registry.unit_roles() == (Role.HANDLER,)


def test_the_kernel_holds_no_congress_vocabulary() -> None:
    """No congress role or permission name appears in the platform's code (it declares none of them)."""
    congress_words = {p.value for p in Permission if not p.value.startswith(
        ("tenant.", "org.", "user.", "handling_unit.", "audit."))} | {r.value for r in Role if r != PLATFORM_ADMIN}
    offending = []
    for module in _every_module("renda.platform"):
        if module.__file__ is None:  # the namespace itself
            continue
        with open(module.__file__, encoding="utf-8") as file:
            source = file.read()
        for word in congress_words:
            if f'"{word}"' in source or f"'{word}'" in source:
                offending.append((module.__name__, word))
    assert not offending


assert renda  # the namespace the walk starts from
