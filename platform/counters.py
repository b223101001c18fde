"""Numbering: per tenant and series, numbers that follow each other and are never given twice.

Suggestion numbers now ("suggestion:t17-s6"), citizens' tracking codes and project numbers later. A
series is any name the module chooses, prefixed with its noun so that modules never share one. The
counter is bumped and read in one UPDATE … RETURNING, so concurrent transactions wait for each other
on the row instead of taking the same number.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from renda.platform.db import Base, TenantOwned


class Counter(TenantOwned, Base):
    """The last number given in a series of a tenant."""

    __tablename__ = "counters"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    series: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


def next_number(session: Session, tenant_id: int, series: str) -> int:
    """The next number of the series (1 for a new one)."""
    return reserve(session, tenant_id, series, 1)


def reserve(session: Session, tenant_id: int, series: str, count: int) -> int:
    """Take ``count`` numbers at once; returns the last of them (the first is ``last - count + 1``)."""
    if count < 1:
        raise ValueError("reserve at least one number")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(Counter).values(tenant_id=tenant_id, series=series, last_number=0)
                    .on_conflict_do_nothing())
    bumped = session.execute(
        update(Counter).where(Counter.tenant_id == tenant_id, Counter.series == series)
        .values(last_number=Counter.last_number + count).returning(Counter.last_number)
        .execution_options(synchronize_session=False))
    return int(bumped.scalar_one())
