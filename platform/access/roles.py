"""Roles and the permissions each carries. Fixed in code: a role is a contract, not data."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    TENANT_VIEW = "tenant.view"
    TENANT_MANAGE = "tenant.manage"  # settings, tenant-wide administration
    ORG_MANAGE = "org.manage"
    USER_MANAGE = "user.manage"
    HANDLING_UNIT_MANAGE = "handling_unit.manage"
    AUDIT_VIEW = "audit.view"
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
    PLATFORM_ADMIN = "platform_admin"
    CONGRESS_ADMIN = "congress_admin"
    CONGRESS_LEADER = "congress_leader"
    TOWNSHIP_CHAIR = "township_chair"
    STATION_STAFF = "station_staff"
    DEPUTY = "deputy"
    HANDLER = "handler"
    OBSERVER = "observer"


P = Permission

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PLATFORM_ADMIN: frozenset(Permission),
    Role.CONGRESS_ADMIN: frozenset(
        {
            P.TENANT_VIEW, P.TENANT_MANAGE, P.ORG_MANAGE, P.USER_MANAGE, P.HANDLING_UNIT_MANAGE,
            P.AUDIT_VIEW, P.DEPUTY_MANAGE, P.STATION_MANAGE, P.SUGGESTION_REVIEW, P.SUGGESTION_ASSIGN,
            P.SUGGESTION_SUPERVISE, P.OPINION_TRIAGE, P.PROJECT_MANAGE, P.REPORT_VIEW,
        }
    ),
    Role.CONGRESS_LEADER: frozenset({P.TENANT_VIEW, P.SUGGESTION_SUPERVISE, P.REPORT_VIEW, P.AUDIT_VIEW}),
    Role.TOWNSHIP_CHAIR: frozenset(
        {P.TENANT_VIEW, P.ORG_MANAGE, P.STATION_MANAGE, P.OPINION_TRIAGE, P.REPORT_VIEW, P.SUGGESTION_SUBMIT}
    ),
    Role.STATION_STAFF: frozenset({P.TENANT_VIEW, P.STATION_MANAGE, P.OPINION_TRIAGE, P.REPORT_VIEW}),
    Role.DEPUTY: frozenset({P.TENANT_VIEW, P.SUGGESTION_SUBMIT, P.SUGGESTION_EVALUATE, P.PROJECT_VOTE}),
    Role.HANDLER: frozenset({P.TENANT_VIEW, P.SUGGESTION_REPLY, P.OPINION_REPLY}),
    Role.OBSERVER: frozenset({P.TENANT_VIEW, P.REPORT_VIEW}),
}

# Roles that may be granted on a handling unit rather than on an org node.
HANDLING_UNIT_ROLES = frozenset({Role.HANDLER})
