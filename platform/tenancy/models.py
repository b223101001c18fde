"""Tables of the tenancy kernel.

Tenants form a tree (a city above its counties) with a materialized ``path`` of tenant ids.
Org units form one tree across all tenants (a city's root above its counties' roots) whose
``path`` is the chain of org-unit ids, so "is X under Y" is ``x.path.startswith(y.path)``.
Handling units hang under their tenant's root with a path of their own ("…/u17/") so that
grants on a node cover them the same way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from renda.platform.db import Base, Id, JointStationShared, TenantOwned, utcnow


class Tenant(Base):
    """A congress (city or county level) using the deployment. A directory row, not tenant-owned."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    code: Mapped[str | None] = mapped_column(String(12), unique=True)  # GB/T 2260
    level: Mapped[str] = mapped_column(String(16))  # city | county
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"))
    path: Mapped[str] = mapped_column(String(255), index=True)
    root_org_unit_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("org_units.id", use_alter=True, name="fk_tenants_root_org_unit_id_org_units")
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OrgUnit(JointStationShared, Base):
    """A node of the org tree: the congress, a township, a station, a village or community."""

    __tablename__ = "org_units"
    __table_args__ = (
        Index("ix_org_units_tenant_path", "tenant_id", "path"),
        UniqueConstraint("tenant_id", "code", name="uq_org_units_tenant_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    path: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(12))
    retired_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1


class HandlingUnit(TenantOwned, Base):
    """A body that answers assigned suggestions: a government department, court, procuratorate…"""

    __tablename__ = "handling_units"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_handling_units_tenant_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(20), default="government")
    contact: Mapped[str] = mapped_column(String(100), default="")
    path: Mapped[str] = mapped_column(String(512), default="")
    retired_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class JointStation(Base):
    """A liaison station shared by several tenants. A directory row: its records are scoped."""

    __tablename__ = "joint_stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    host_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    org_unit_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("org_units.id", use_alter=True, name="fk_joint_stations_org_unit_id_org_units")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class JointStationMember(Base):
    __tablename__ = "joint_station_members"

    joint_station_id: Mapped[int] = mapped_column(ForeignKey("joint_stations.id"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)


class TenantSetting(TenantOwned, Base):
    """One typed per-tenant setting value; absent keys take the registered default."""

    __tablename__ = "tenant_settings"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
