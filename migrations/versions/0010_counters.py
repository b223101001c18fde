"""counters: the platform's numbering, one table for every module's series

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 09:00:00.000000

The suggestions' series counters move over as "suggestion:<series>" (suggestion_counters goes), so the
next suggestion submitted gets the number after the last one given.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import rls

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX = "suggestion:"


def _every_tenant(on: bool) -> None:
    """The policies admit every tenant's rows under the system scope (this transaction only)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT set_config('renda.scope_all', '{'on' if on else 'off'}', true)")


def upgrade() -> None:
    op.create_table('counters',
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('series', sa.String(length=64), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_counters_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'series', name=op.f('pk_counters'))
    )
    rls.enable('counters')
    _every_tenant(True)
    op.execute(f"INSERT INTO counters (tenant_id, series, last_number) "
               f"SELECT tenant_id, '{PREFIX}' || series, last_number FROM suggestion_counters")
    _every_tenant(False)
    rls.disable('suggestion_counters')
    op.drop_table('suggestion_counters')


def downgrade() -> None:
    op.create_table('suggestion_counters',
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('series', sa.String(length=24), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_suggestion_counters_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'series', name=op.f('pk_suggestion_counters'))
    )
    rls.enable('suggestion_counters')
    _every_tenant(True)
    op.execute(f"INSERT INTO suggestion_counters (tenant_id, series, last_number) "
               f"SELECT tenant_id, substr(series, {len(PREFIX) + 1}), last_number FROM counters "
               f"WHERE series LIKE '{PREFIX}%'")
    _every_tenant(False)
    rls.disable('counters')
    op.drop_table('counters')
