"""workday_overrides: a tenant's own days off and working days, beside the national calendar

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 09:00:00.000000

The chinese-calendar package knows the years the State Council had announced when it was released;
a tenant's staff enter the days of a later year (or a regional holiday) here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import rls

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('workday_overrides',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('working', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=100), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_workday_overrides_created_by_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_workday_overrides_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workday_overrides')),
    sa.UniqueConstraint('tenant_id', 'day', name='uq_workday_overrides_tenant_day')
    )
    rls.enable("workday_overrides")


def downgrade() -> None:
    rls.disable("workday_overrides")
    op.drop_table('workday_overrides')
