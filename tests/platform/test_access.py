"""Who may do what where: the role × scope × target table of can(), then the service actions.

The table needs no database. The tree it uses, by org-unit paths:

    /1/            city root (tenant 1)
    /1/2/          county A root (tenant 2): township /1/2/5/ with station /1/2/5/9/,
                   township /1/2/6/, handling units /1/2/u7/ and /1/2/u8/
    /1/3/          county B root (tenant 3): township /1/3/8/, joint station /1/3/88/
                   (members B, A and Long'an) with a child /1/3/88/90/
    /1/4/          county C root (tenant 4), not a member of the joint station
    /1/23/         county 23 root: its path starts with "/1/2" but it is not under /1/2/
    /40/, /40/41/  another city and its county Long'an (tenant 41), a member of the joint station

The database tests below use the cast from conftest and check that each refused action changed
nothing and each allowed one wrote its audit entry.
"""

from __future__ import annotations

import pytest

from renda.platform.access.policy import GrantView, Principal, Target, can
from renda.tenants.congress.roles import Permission, Role

P = Permission
JOINT_MEMBERS = frozenset({3, 41, 2})

TARGETS: dict[str, Target] = {
    "city": Target(1, "/1/"),
    "county_a": Target(2, "/1/2/"),
    "township_a": Target(2, "/1/2/5/"),
    "station_a": Target(2, "/1/2/5/9/"),
    "other_township_a": Target(2, "/1/2/6/"),
    "unit_a": Target(2, "/1/2/u7/"),
    "other_unit_a": Target(2, "/1/2/u8/"),
    "county_b": Target(3, "/1/3/"),
    "township_b": Target(3, "/1/3/8/"),
    "joint": Target(3, "/1/3/88/", joint_member_tenant_ids=JOINT_MEMBERS),
    "joint_child": Target(3, "/1/3/88/90/", joint_member_tenant_ids=JOINT_MEMBERS),
    "county_c": Target(4, "/1/4/"),
    "county_23": Target(23, "/1/23/"),
    "other_city": Target(40, "/40/"),
    "longan": Target(41, "/40/41/"),
}

# Where a grant sits: (tenant, scope path, is the tenant's root node, handling unit id).
SCOPES: dict[str, tuple[int, str, bool, int | None]] = {
    "city": (1, "/1/", True, None),
    "county_a": (2, "/1/2/", True, None),
    "county_b": (3, "/1/3/", True, None),
    "county_c": (4, "/1/4/", True, None),
    "longan": (41, "/40/41/", True, None),
    "township_a": (2, "/1/2/5/", False, None),
    "station_a": (2, "/1/2/5/9/", False, None),
    "unit_a": (2, "/1/2/u7/", False, 7),
    "joint": (3, "/1/3/88/", False, None),
}

Y, N = True, False
# (role, grant scope, permission, target, expected). "platform_admin" holds no grant: it is the flag.
TABLE: list[tuple[str, str | None, Permission, str, bool]] = [
    ("platform_admin", None, P.TENANT_MANAGE, "city", Y),
    ("platform_admin", None, P.ORG_MANAGE, "longan", Y),
    ("platform_admin", None, P.SUGGESTION_REPLY, "joint", Y),
    ("platform_admin", None, P.USER_MANAGE, "other_city", Y),
    # congress_admin at city scope: every county of the city, not another city's
    ("congress_admin", "city", P.ORG_MANAGE, "township_a", Y),
    ("congress_admin", "city", P.USER_MANAGE, "county_b", Y),
    ("congress_admin", "city", P.HANDLING_UNIT_MANAGE, "unit_a", Y),
    ("congress_admin", "city", P.ORG_MANAGE, "joint", Y),
    ("congress_admin", "city", P.ORG_MANAGE, "longan", N),
    ("congress_admin", "city", P.ORG_MANAGE, "other_city", N),
    ("congress_admin", "city", P.SUGGESTION_SUBMIT, "county_a", N),
    # congress_admin at county scope: its own tree, and the joint station it is a member of
    ("congress_admin", "county_a", P.ORG_MANAGE, "county_a", Y),
    ("congress_admin", "county_a", P.ORG_MANAGE, "township_a", Y),
    ("congress_admin", "county_a", P.STATION_MANAGE, "station_a", Y),
    ("congress_admin", "county_a", P.HANDLING_UNIT_MANAGE, "unit_a", Y),
    ("congress_admin", "county_a", P.USER_MANAGE, "city", N),
    ("congress_admin", "county_a", P.ORG_MANAGE, "county_b", N),
    ("congress_admin", "county_a", P.ORG_MANAGE, "township_b", N),
    ("congress_admin", "county_a", P.ORG_MANAGE, "county_23", N),
    ("congress_admin", "county_a", P.ORG_MANAGE, "joint", Y),
    ("congress_admin", "county_a", P.ORG_MANAGE, "joint_child", Y),
    ("congress_admin", "county_a", P.ORG_MANAGE, "longan", N),
    ("congress_admin", "county_a", P.SUGGESTION_REPLY, "unit_a", N),
    ("congress_admin", "county_b", P.ORG_MANAGE, "joint", Y),
    ("congress_admin", "county_b", P.ORG_MANAGE, "county_a", N),
    ("congress_admin", "county_c", P.ORG_MANAGE, "joint", N),
    ("congress_admin", "county_c", P.REPORT_VIEW, "joint", N),
    ("congress_admin", "longan", P.ORG_MANAGE, "joint", Y),
    ("congress_admin", "longan", P.ORG_MANAGE, "county_b", N),
    ("congress_admin", "longan", P.ORG_MANAGE, "township_a", N),
    ("congress_admin", "township_a", P.ORG_MANAGE, "station_a", Y),
    ("congress_admin", "township_a", P.ORG_MANAGE, "other_township_a", N),
    ("congress_admin", "township_a", P.USER_MANAGE, "county_a", N),
    ("congress_admin", "township_a", P.ORG_MANAGE, "joint", N),
    # congress_leader: supervises and reads, manages nothing
    ("congress_leader", "city", P.SUGGESTION_SUPERVISE, "county_b", Y),
    ("congress_leader", "city", P.REPORT_VIEW, "township_a", Y),
    ("congress_leader", "city", P.ORG_MANAGE, "county_a", N),
    ("congress_leader", "county_a", P.SUGGESTION_SUPERVISE, "station_a", Y),
    ("congress_leader", "county_a", P.AUDIT_VIEW, "county_a", Y),
    ("congress_leader", "county_a", P.REPORT_VIEW, "joint", Y),
    ("congress_leader", "county_a", P.REPORT_VIEW, "county_b", N),
    ("congress_leader", "county_a", P.USER_MANAGE, "county_a", N),
    ("congress_leader", "county_a", P.SUGGESTION_ASSIGN, "county_a", N),
    # township_chair: its township and stations only
    ("township_chair", "township_a", P.ORG_MANAGE, "township_a", Y),
    ("township_chair", "township_a", P.STATION_MANAGE, "station_a", Y),
    ("township_chair", "township_a", P.OPINION_TRIAGE, "station_a", Y),
    ("township_chair", "township_a", P.SUGGESTION_SUBMIT, "township_a", Y),
    ("township_chair", "township_a", P.ORG_MANAGE, "other_township_a", N),
    ("township_chair", "township_a", P.ORG_MANAGE, "county_a", N),
    ("township_chair", "township_a", P.ORG_MANAGE, "township_b", N),
    ("township_chair", "township_a", P.STATION_MANAGE, "joint", N),
    ("township_chair", "township_a", P.USER_MANAGE, "township_a", N),
    ("township_chair", "township_a", P.HANDLING_UNIT_MANAGE, "unit_a", N),
    ("township_chair", "county_a", P.ORG_MANAGE, "other_township_a", Y),
    ("township_chair", "county_a", P.USER_MANAGE, "county_a", N),
    # station_staff: the station (a township grant covers its stations)
    ("station_staff", "station_a", P.STATION_MANAGE, "station_a", Y),
    ("station_staff", "station_a", P.OPINION_TRIAGE, "station_a", Y),
    ("station_staff", "station_a", P.REPORT_VIEW, "station_a", Y),
    ("station_staff", "station_a", P.STATION_MANAGE, "township_a", N),
    ("station_staff", "station_a", P.OPINION_TRIAGE, "other_township_a", N),
    ("station_staff", "station_a", P.ORG_MANAGE, "station_a", N),
    ("station_staff", "township_a", P.STATION_MANAGE, "station_a", Y),
    ("station_staff", "joint", P.STATION_MANAGE, "joint", Y),
    ("station_staff", "joint", P.OPINION_TRIAGE, "joint_child", Y),
    ("station_staff", "joint", P.STATION_MANAGE, "county_b", N),
    ("station_staff", "joint", P.STATION_MANAGE, "township_a", N),
    # deputy: submits, evaluates and votes where granted
    ("deputy", "county_a", P.SUGGESTION_SUBMIT, "county_a", Y),
    ("deputy", "county_a", P.PROJECT_VOTE, "county_a", Y),
    ("deputy", "county_a", P.SUGGESTION_EVALUATE, "township_a", Y),
    ("deputy", "county_a", P.SUGGESTION_SUBMIT, "joint", Y),
    ("deputy", "county_a", P.SUGGESTION_SUBMIT, "county_b", N),
    ("deputy", "county_a", P.STATION_MANAGE, "station_a", N),
    ("deputy", "county_a", P.SUGGESTION_ASSIGN, "county_a", N),
    ("deputy", "station_a", P.SUGGESTION_SUBMIT, "station_a", Y),
    ("deputy", "station_a", P.SUGGESTION_SUBMIT, "township_a", N),
    ("deputy", "station_a", P.USER_MANAGE, "station_a", N),
    ("deputy", "joint", P.SUGGESTION_SUBMIT, "joint", Y),
    ("deputy", "joint", P.SUGGESTION_SUBMIT, "joint_child", Y),
    ("deputy", "joint", P.SUGGESTION_SUBMIT, "county_b", N),
    ("deputy", "joint", P.SUGGESTION_SUBMIT, "county_a", N),
    # handler: answers for its own handling unit only
    ("handler", "unit_a", P.SUGGESTION_REPLY, "unit_a", Y),
    ("handler", "unit_a", P.OPINION_REPLY, "unit_a", Y),
    ("handler", "unit_a", P.TENANT_VIEW, "unit_a", Y),
    ("handler", "unit_a", P.SUGGESTION_REPLY, "other_unit_a", N),
    ("handler", "unit_a", P.SUGGESTION_REPLY, "county_a", N),
    ("handler", "unit_a", P.SUGGESTION_SUBMIT, "unit_a", N),
    # observer: reads reports, changes nothing
    ("observer", "city", P.REPORT_VIEW, "county_b", Y),
    ("observer", "city", P.TENANT_VIEW, "station_a", Y),
    ("observer", "city", P.ORG_MANAGE, "county_a", N),
    ("observer", "city", P.REPORT_VIEW, "longan", N),
    ("observer", "county_a", P.REPORT_VIEW, "township_a", Y),
    ("observer", "county_a", P.REPORT_VIEW, "joint", Y),
    ("observer", "county_a", P.REPORT_VIEW, "county_b", N),
    ("observer", "county_a", P.SUGGESTION_SUPERVISE, "county_a", N),
]


def principal(role: str, scope: str | None) -> Principal:
    if role == "platform_admin":
        return Principal(user_id=1, username="operator", display_name="operator", is_platform_admin=True)
    assert scope is not None
    tenant_id, path, is_root, unit = SCOPES[scope]
    grant = GrantView(role=Role(role), tenant_id=tenant_id, scope_path=path, handling_unit_id=unit,
                      org_unit_id=None if unit else int(path.rstrip("/").rsplit("/", 1)[-1]),
                      is_tenant_root=is_root)
    return Principal(user_id=2, username=f"{scope}-{role}", display_name=role, grants=(grant,))


def row_id(row: tuple[str, str | None, Permission, str, bool]) -> str:
    role, scope, permission, target, expected = row
    who = role if scope is None else f"{scope}_{role}"
    return f"{who}-{target}-{permission}-{'allowed' if expected else 'denied'}"


@pytest.mark.parametrize("role, scope, permission, target, expected", TABLE, ids=[row_id(r) for r in TABLE])
def test_can(role: str, scope: str | None, permission: Permission, target: str, expected: bool) -> None:
    assert can(principal(role, scope), permission, TARGETS[target]) is expected


def test_table_covers_every_role_and_every_level_of_scope() -> None:
    assert {row[0] for row in TABLE} == {r.value for r in Role}
    assert {"city", "county_a", "township_a", "station_a", "unit_a", "joint"} <= {row[1] for row in TABLE}
    for role in Role:
        verdicts = {row[4] for row in TABLE if row[0] == role.value}
        assert verdicts == ({True} if role is Role.PLATFORM_ADMIN else {True, False}), role


def test_a_joint_station_record_without_its_member_list_is_covered_by_path_alone() -> None:
    """The member rule needs the target to carry the members; callers must build it so."""
    bare = Target(3, "/1/3/88/")
    assert not can(principal("congress_admin", "county_a"), P.ORG_MANAGE, bare)
    assert can(principal("congress_admin", "county_b"), P.ORG_MANAGE, bare)
