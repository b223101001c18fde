"""Tables of the deputies module: the deputy's record, their stations (进站), and uploaded sheets.

A deputy belongs to one node of the org tree (the congress itself or a township); who may keep
the record is decided by deputy.manage over that node. ``id_code`` is the office's own deputy
number, stable across edits and imports, unique within a term of the tenant.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from renda.platform.db import Base, Id, TenantOwned, utcnow

LEVELS = ("national", "provincial", "city", "county", "township")


class Deputy(TenantOwned, Base):
    """A deputy 人大代表 of one term 届 at one level, kept by the tenant whose office holds the record."""

    __tablename__ = "deputies"
    __table_args__ = (
        UniqueConstraint("tenant_id", "term", "id_code", name="uq_deputies_tenant_term_code"),
        Index("ix_deputies_tenant_org_unit", "tenant_id", "org_unit_id"),
        Index("ix_deputies_tenant_name", "tenant_id", "name"),
        Index("ix_deputies_tenant_user", "tenant_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str] = mapped_column(String(8), default="")  # male | female | ""
    ethnicity: Mapped[str] = mapped_column(String(20), default="")  # 民族
    birth_date: Mapped[dt.date | None]
    level: Mapped[str] = mapped_column(String(16))  # one of LEVELS
    term: Mapped[int] = mapped_column(Integer)  # 届, e.g. 17 for 第十七届
    electoral_unit: Mapped[str] = mapped_column(String(100), default="")  # 选举单位 / 选区
    delegation: Mapped[str] = mapped_column(String(100), default="")  # 代表团 / 代表小组
    professional_group: Mapped[str] = mapped_column(String(100), default="")  # 专业小组
    org_unit_id: Mapped[int] = mapped_column(Id, ForeignKey("org_units.id"))
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    id_code: Mapped[str | None] = mapped_column(String(32))  # 代表编号
    user_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's own hook


class DeputyStation(TenantOwned, Base):
    """A deputy stationed at a liaison station 进站 (an org unit of kind station or joint_station)."""

    __tablename__ = "deputy_stations"
    __table_args__ = (Index("ix_deputy_stations_tenant_station", "tenant_id", "org_unit_id"),)

    # The key starts with tenant_id, as every tenant-owned key does (DESIGN §7: distributable by tenant).
    tenant_id: Mapped[int] = mapped_column(Id, ForeignKey("tenants.id"), primary_key=True)
    deputy_id: Mapped[int] = mapped_column(Id, ForeignKey("deputies.id", ondelete="CASCADE"), primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(Id, ForeignKey("org_units.id"), primary_key=True)


class DeputyImport(TenantOwned, Base):
    """An uploaded sheet kept between its preview and its commit, so the web process stays stateless."""

    __tablename__ = "deputy_imports"
    __table_args__ = (Index("ix_deputy_imports_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    committed_at: Mapped[dt.datetime | None]
    result: Mapped[dict[str, Any] | None]
