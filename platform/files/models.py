"""The attachments table: one row per file added to a record of any module, keyed by its subject."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from renda.platform.db import Base, TenantOwned, utcnow


class Attachment(TenantOwned, Base):
    """A file added to a record (a suggestion's draft or reply document, an opinion's photo), or to one
    of its steps. The bytes live under the attachments folder, named by tenant and content hash; the
    row says what they are; the subject's module says who may see them."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_tenant_subject", "tenant_id", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(32))  # as on the timeline: "suggestion", "opinion" …
    subject_id: Mapped[int]
    step: Mapped[str] = mapped_column(String(24), default="")  # the action it came with: create, reply …
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Taken off its record (the timeline says when and by whom); no longer listed or served. The row
    # stays, for the timeline's entry that names it.
    removed_at: Mapped[dt.datetime | None]
    removed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
