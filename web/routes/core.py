"""The kernel's pages as a web module: signing in, the account, the tenant's home, administration, the inbox."""

from __future__ import annotations

from renda.platform.access.roles import KernelPermission as Permission
from renda.platform.errors import N_
from renda.web.modules import NavEntry, WebModule
from renda.web.routes import (
    account,
    admin_org,
    admin_units,
    admin_users,
    home,
    inbox,
    sso,
    tenant_holidays,
    tenant_settings,
)

WEB = WebModule(
    routers=(sso.router, account.router, home.router, admin_org.router, admin_units.router, admin_users.router,
             tenant_settings.router, tenant_holidays.router, inbox.router),
    nav=(
        NavEntry("", N_("Home"), Permission.TENANT_VIEW, 0),
        NavEntry("org", N_("Org tree"), Permission.ORG_MANAGE, 60),
        NavEntry("units", N_("Handling units"), Permission.HANDLING_UNIT_MANAGE, 70),
        NavEntry("users", N_("Users and roles"), Permission.USER_MANAGE, 75),
        NavEntry("settings", N_("Settings"), Permission.TENANT_MANAGE, 80),
        NavEntry("audit", N_("Audit log"), Permission.AUDIT_VIEW, 90),
    ),
)
