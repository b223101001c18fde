"""The congress base module: the roles, and the permissions they carry beyond each module's own.

Deputies, suggestions (and the modules to come) give their own permissions to these roles in their
own ``module.py``; what stays here is what no module owns yet (stations, opinions and projects are
named by the design and carried by roles today, and move to their modules when those are built).
"""

from __future__ import annotations

from renda.platform.access.roles import RoleSpec
from renda.platform.errors import N_
from renda.platform.modules import Module
from renda.platform.tenancy.settings import SettingSpec
from renda.tenants.congress.roles import HANDLING_UNIT_ROLES, Permission, Role

P = Permission
OPINIONS = N_("Citizens' opinions")

SETTINGS = (
    SettingSpec("opinion_answer_workdays", "int", 15,
                N_("Answer deadline for escalated opinions (working days)"), "", 1, 60, group=OPINIONS),
    SettingSpec("reception_day", "int", 10, N_("Monthly reception day at the stations"), "", 1, 28,
                group=OPINIONS),
)

MODULE = Module(
    name="congress",
    roles=tuple(RoleSpec(r.value, on_handling_unit=r in HANDLING_UNIT_ROLES) for r in Role
                if r is not Role.PLATFORM_ADMIN),
    permissions=tuple(Permission),
    grants={
        Role.CONGRESS_ADMIN: {P.TENANT_VIEW, P.TENANT_MANAGE, P.ORG_MANAGE, P.USER_MANAGE, P.HANDLING_UNIT_MANAGE,
                              P.AUDIT_VIEW, P.STATION_MANAGE, P.OPINION_TRIAGE, P.PROJECT_MANAGE, P.REPORT_VIEW},
        Role.CONGRESS_LEADER: {P.TENANT_VIEW, P.REPORT_VIEW, P.AUDIT_VIEW},
        Role.TOWNSHIP_CHAIR: {P.TENANT_VIEW, P.ORG_MANAGE, P.STATION_MANAGE, P.OPINION_TRIAGE, P.REPORT_VIEW},
        Role.STATION_STAFF: {P.TENANT_VIEW, P.STATION_MANAGE, P.OPINION_TRIAGE, P.REPORT_VIEW},
        Role.DEPUTY: {P.TENANT_VIEW, P.PROJECT_VOTE},
        Role.HANDLER: {P.TENANT_VIEW, P.OPINION_REPLY},
        Role.OBSERVER: {P.TENANT_VIEW, P.REPORT_VIEW},
    },
    settings=SETTINGS,
)
