"""Tables of deputy suggestions. The timeline (platform.timeline) holds every step; these rows hold
the current facts that lists, boards and figures read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from renda.platform.db import Base, Id, JointStationShared, TenantOwned, utcnow


class Suggestion(JointStationShared, Base):
    __tablename__ = "suggestions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "series", "number", name="uq_suggestions_tenant_series_number"),
        UniqueConstraint("tenant_id", "client_token", name="uq_suggestions_tenant_client_token"),
        Index("ix_suggestions_tenant_state", "tenant_id", "state", "deadline"),
        Index("ix_suggestions_tenant_lead_deputy", "tenant_id", "lead_deputy_id"),
        # The board at scale (migration 0006): by state per deputy, and its series and category choices as
        # index-only scans (row-level security reads joint_station_id).
        Index("ix_suggestions_tenant_deputy_state", "tenant_id", "lead_deputy_id", "state", "deadline"),
        Index("ix_suggestions_tenant_series", "tenant_id", "series", postgresql_include=["joint_station_id"]),
        Index("ix_suggestions_tenant_category", "tenant_id", "category", postgresql_include=["joint_station_id"]),
        # The board's default order (by deadline; PostgreSQL sorts the ties on id incrementally), and the
        # figures grouped by lead unit, covering what they count and what row-level security reads (0007).
        Index("ix_suggestions_tenant_deadline", "tenant_id", "deadline"),
        Index("ix_suggestions_tenant_lead_unit", "tenant_id", "lead_unit_id",
              postgresql_include=["state", "deadline", "replied_at", "evaluation", "round", "joint_station_id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Numbering series: "t5-s6" for the 6th session of the 5th congress, "t5-between" between sessions.
    series: Mapped[str] = mapped_column(String(24))
    term: Mapped[int] = mapped_column(Integer)
    session_no: Mapped[int | None] = mapped_column(Integer)  # None: submitted between sessions (闭会期间)
    number: Mapped[int | None] = mapped_column(Integer)  # given at first submission, never reused
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40), default="")
    state: Mapped[str] = mapped_column(String(24))
    lead_deputy_id: Mapped[int] = mapped_column(Id, ForeignKey("deputies.id"))
    org_unit_id: Mapped[int] = mapped_column(Id, ForeignKey("org_units.id"))  # where it is handled from
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    client_token: Mapped[str | None] = mapped_column(String(64))  # one suggestion per form, however often posted
    is_key: Mapped[bool] = mapped_column(default=False)  # 重点建议
    supervisor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The active lead unit (主办单位), kept by assign(): its assignment row says the same; the figures and
    # lists read it here instead of joining the assignments (one row per unit and round).
    lead_unit_id: Mapped[int | None] = mapped_column(Id, ForeignKey("handling_units.id"))
    broad: Mapped[bool] = mapped_column(default=False)  # 涉及面广、处理难度大: the longer deadline
    round: Mapped[int] = mapped_column(Integer, default=1)  # 1, then +1 for each re-handling
    assigned_at: Mapped[dt.datetime | None]
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    reply_class: Mapped[str | None] = mapped_column(String(2))
    evaluation: Mapped[str | None] = mapped_column(String(24))  # satisfied | basically | dissatisfied
    submitted_at: Mapped[dt.datetime | None]
    replied_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook


class Cosigner(TenantOwned, Base):
    """A co-signing deputy (附议代表); they confirm before the suggestion can be submitted."""

    __tablename__ = "suggestion_cosigners"
    __table_args__ = (UniqueConstraint("tenant_id", "suggestion_id", "deputy_id",
                                       name="uq_suggestion_cosigners_tenant_suggestion_deputy"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(Id, ForeignKey("suggestions.id"))
    deputy_id: Mapped[int] = mapped_column(Id, ForeignKey("deputies.id"))
    confirmed_at: Mapped[dt.datetime | None]


class Assignment(TenantOwned, Base):
    """A handling unit's part in one round: the lead unit (主办) or a co-unit (协办)."""

    __tablename__ = "suggestion_assignments"
    __table_args__ = (Index("ix_suggestion_assignments_tenant_unit", "tenant_id", "handling_unit_id", "active"),
                      Index("ix_suggestion_assignments_tenant_suggestion", "tenant_id", "suggestion_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(Id, ForeignKey("suggestions.id"))
    handling_unit_id: Mapped[int] = mapped_column(Id, ForeignKey("handling_units.id"))
    lead: Mapped[bool] = mapped_column(default=False)
    round: Mapped[int] = mapped_column(Integer, default=1)
    assigned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(default=True)


class Reply(TenantOwned, Base):
    """The lead unit's answer (答复) in one round, with its result class."""

    __tablename__ = "suggestion_replies"
    __table_args__ = (Index("ix_suggestion_replies_tenant_suggestion", "tenant_id", "suggestion_id"),
                      # The figures' reply classes as an index-only scan (migration 0006).
                      Index("ix_suggestion_replies_tenant_round_unit", "tenant_id", "round", "handling_unit_id",
                            "reply_class", postgresql_include=["on_time"]))

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(Id, ForeignKey("suggestions.id"))
    handling_unit_id: Mapped[int] = mapped_column(Id, ForeignKey("handling_units.id"))
    round: Mapped[int] = mapped_column(Integer)
    reply_class: Mapped[str] = mapped_column(String(2))
    content: Mapped[str] = mapped_column(Text)
    signed_by: Mapped[str] = mapped_column(String(50))  # the unit head who signed it off
    replied_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replied_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    on_time: Mapped[bool] = mapped_column(default=True)


class Commitment(TenantOwned, Base):
    """What a B-class reply promises, tracked until fulfilled (承诺事项, "回头看")."""

    __tablename__ = "suggestion_commitments"
    __table_args__ = (Index("ix_suggestion_commitments_tenant_due", "tenant_id", "fulfilled_at", "due_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(Id, ForeignKey("suggestions.id"))
    handling_unit_id: Mapped[int] = mapped_column(Id, ForeignKey("handling_units.id"))
    content: Mapped[str] = mapped_column(Text)
    due_date: Mapped[dt.date] = mapped_column(Date)
    fulfilled_at: Mapped[dt.datetime | None]
    fulfilment_note: Mapped[str] = mapped_column(Text, default="")
