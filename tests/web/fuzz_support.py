"""What the fuzzing tests share: a county of their own with a row of every kind, the values that once
broke pages, and a snapshot of the county's rows to tell that a refused request changed nothing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import func, literal, select, union_all

from renda.platform.audit import AuditEntry
from renda.platform.db import Base, Database, Scope, set_scope
from renda.platform.identity import service as identity
from renda.platform.identity.principal import load_principal
from renda.platform.numbers import MAX_ID
from renda.platform.tenancy import service as tenancy
from renda.tenants.deputies import service as deputies
from renda.tenants.suggestions import service as suggestions

from web_support import linked_deputy

PASSWORD = "fuzz-pass-12345"

# Values that broke, or could break, a page: ids beyond 64 bits, digits int() refuses or reads
# differently from the database, dates that are not dates, text of every length and script.
NASTY: tuple[Any, ...] = (
    "", " ", "0", "-1", "³", "٣", "１７", "1_0", "1e3", "0x10", "9" * 30, str(MAX_ID), str(MAX_ID + 1),
    2**63, -(2**63) - 1, "2027-06-30", "2027-02-30", "1900-01-01", "30/06/2027", "not a date",
    "org:³", "org:99999999999999999999", "unit:-1", "unit:", "org:", ":", "between",
    "accept", "return", "reference", "satisfied", "dissatisfied", "A", "B", "C", "D", "visit",
    "station", "township", "village", "congress_admin", "platform_admin", "handler", "deputy", "observer",
    "active", "inactive", "on", "true", "null", "[]", "{}", "<script>alert(1)</script>", "' OR 1=1 --",
    "x" * 5000, "汉" * 3000, "\u202e\u200b", "%s%(x)s{}", "a\x00b",
)


def nasty_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from([v for v in NASTY if isinstance(v, str)]), st.text(max_size=40))


# Which rows a field or path segment names, by its name.
KINDS: dict[str, tuple[str, ...]] = {
    "unit_id": ("org", "unit"), "parent_id": ("org",), "org_unit_id": ("org",), "stations": ("org",),
    "township": ("org",), "lead_unit_id": ("unit",), "co_unit_ids": ("unit",), "unit": ("unit",),
    "user_id": ("user",), "supervisor_user_id": ("user",), "grant_id": ("grant",), "deputy_id": ("deputy",),
    "cosigners": ("deputy",), "deputy": ("deputy",), "suggestion_id": ("suggestion",),
}


@dataclass
class FuzzWorld:
    """County A (this module's, its office signs in) and county B, with a row of every kind in each."""

    db: Database
    slug: str
    slug_b: str
    tenant_ids: tuple[int, int]
    admin: str
    password: str = PASSWORD
    # Rows of A and B by kind, never the signed-in office's own account or grant.
    ids: dict[str, list[int]] = field(default_factory=dict)

    def values(self, name: str = "") -> st.SearchStrategy[Any]:
        """What to put in a field or a path segment called ``name``: ids of its kind first."""
        kinds = KINDS.get(name, ())
        everything = st.sampled_from(sorted({i for found in self.ids.values() for i in found}))
        own = st.sampled_from([i for k in kinds for i in self.ids[k]]) if kinds else everything
        return st.one_of(
            own, own.map(str), everything.map(lambda i: f"org:{i}"), everything.map(lambda i: f"unit:{i}"),
            everything, st.sampled_from(NASTY), st.text(max_size=40),
            st.integers(min_value=-(2**70), max_value=2**70),
        )

    @classmethod
    def build(cls, db: Database) -> FuzzWorld:
        tag = secrets.token_hex(3)
        ids: dict[str, list[int]] = {}
        with db.session(Scope.system()) as s:
            counties = []
            for letter in ("a", "b"):
                tenant = tenancy.create_tenant(s, None, slug=f"fuzz-{tag}-{letter}", name=f"模糊县{tag}{letter}",
                                               code=None, parent=None, level="county")
                assert tenant.root_org_unit_id
                office = identity.create_user(s, None, tenant, username=f"fuzz.{tag}.{letter}",
                                              display_name="县人大办公室", password=PASSWORD)
                identity.grant_role(s, None, tenant, office, role="congress_admin",
                                    org_unit_id=tenant.root_org_unit_id)
                s.flush()
                actor = load_principal(s, office.id)
                set_scope(s, Scope.system())
                town = tenancy.add_org_unit(s, actor, tenant, parent_id=tenant.root_org_unit_id, kind="township",
                                            name="城关镇")
                station = tenancy.add_org_unit(s, actor, tenant, parent_id=town.id, kind="station",
                                               name="城关镇人大代表联络站")
                village = tenancy.add_org_unit(s, actor, tenant, parent_id=town.id, kind="village", name="东村")
                unit = tenancy.create_handling_unit(s, actor, tenant, name="交通运输局")
                deputy_user = identity.create_user(s, None, tenant, username=f"fuzz.{tag}.{letter}.deputy",
                                                   display_name="代表", password=PASSWORD)
                grant = identity.grant_role(s, None, tenant, deputy_user, role="deputy", org_unit_id=station.id)
                handler = identity.create_user(s, None, tenant, username=f"fuzz.{tag}.{letter}.handler",
                                               display_name="办理人员", password=PASSWORD)
                identity.grant_role(s, None, tenant, handler, role="handler", handling_unit_id=unit.id)
                deputy = deputies.create_deputy(s, actor, tenant, org_unit_id=town.id, station_ids=[station.id],
                                                fields={"name": "黄代表", "level": "county", "term": "17"})
                s.flush()
                linked_deputy(s, tenant, deputy_user.id, "覃代表", town.id)
                s.flush()
                draft = suggestions.create_draft(s, load_principal(s, deputy_user.id), tenant, title="修缮村道",
                                                 content="村道破损，雨天难行。", term=17, session_no=None)
                set_scope(s, Scope.system())
                s.flush()
                for kind, found in (("org", [tenant.root_org_unit_id, town.id, station.id, village.id]),
                                    ("unit", [unit.id]), ("user", [deputy_user.id, handler.id]),
                                    ("grant", [grant.id]), ("deputy", [deputy.id]), ("suggestion", [draft.id])):
                    ids.setdefault(kind, []).extend(found)
                counties.append((tenant, office))
            (a, office_a), (b, _) = counties
            return cls(db=db, slug=a.slug, slug_b=b.slug, tenant_ids=(a.id, b.id), admin=office_a.username,
                       ids=ids)


def row_snapshot(world: FuzzWorld) -> tuple[Any, ...]:
    """How many rows each tenant-owned table holds for the two counties, and their newest audit entry."""
    tables = [t for t in Base.metadata.sorted_tables if "tenant_id" in t.c]
    counts = [select(literal(t.name), func.count()).select_from(t).where(t.c.tenant_id.in_(world.tenant_ids))
              for t in tables]
    newest = select(literal("audit_log.max"), func.coalesce(func.max(AuditEntry.id), 0)).where(
        AuditEntry.tenant_id.in_(world.tenant_ids))
    with world.db.session(Scope.system()) as s:
        return tuple(sorted(tuple(row) for row in s.execute(union_all(*counts, newest))))
