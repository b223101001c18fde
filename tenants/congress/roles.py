"""The roles of a people's congress deployment and the permission names the congress modules use.

The kernel's permissions appear here under the same values, so congress code names every permission
from one enum; the kernel's own code uses ``KernelPermission``. A new module may declare further
permissions of its own in its own package (its ``module.py`` lists them).
"""

from __future__ import annotations

from enum import StrEnum

from renda.platform.access.roles import PLATFORM_ADMIN, KernelPermission


class Permission(StrEnum):
    TENANT_VIEW = KernelPermission.TENANT_VIEW.value
    TENANT_MANAGE = KernelPermission.TENANT_MANAGE.value
    ORG_MANAGE = KernelPermission.ORG_MANAGE.value
    USER_MANAGE = KernelPermission.USER_MANAGE.value
    HANDLING_UNIT_MANAGE = KernelPermission.HANDLING_UNIT_MANAGE.value
    AUDIT_VIEW = KernelPermission.AUDIT_VIEW.value
    DEPUTY_MANAGE = "deputy.manage"
    STATION_MANAGE = "station.manage"
    SUGGESTION_SUBMIT = "suggestion.submit"
    SUGGESTION_REVIEW = "suggestion.review"
    SUGGESTION_ASSIGN = "suggestion.assign"
    SUGGESTION_REPLY = "suggestion.reply"
    SUGGESTION_EVALUATE = "suggestion.evaluate"
    SUGGESTION_SUPERVISE = "suggestion.supervise"
    OPINION_TRIAGE = "opinion.triage"
    OPINION_REPLY = "opinion.reply"
    PROJECT_VOTE = "project.vote"
    PROJECT_MANAGE = "project.manage"
    REPORT_VIEW = "report.view"


class Role(StrEnum):
    """DESIGN §1; the order is the order of the Keycloak group leaves under each node."""

    PLATFORM_ADMIN = PLATFORM_ADMIN
    CONGRESS_ADMIN = "congress_admin"  # 人大机关
    CONGRESS_LEADER = "congress_leader"  # 常委会领导
    TOWNSHIP_CHAIR = "township_chair"  # 乡镇人大主席
    STATION_STAFF = "station_staff"  # 联络站工作人员
    DEPUTY = "deputy"  # 人大代表
    HANDLER = "handler"  # 承办单位 (granted on a handling unit)
    OBSERVER = "observer"  # 只读合作方 (审计、监察)


# Roles granted on a handling unit rather than on an org node.
HANDLING_UNIT_ROLES = frozenset({Role.HANDLER})
