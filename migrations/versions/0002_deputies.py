"""deputies: records, their stations, uploaded sheets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 06:27:34.585461
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import rls

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_OWNED = ("deputies", "deputy_stations", "deputy_imports")


def upgrade() -> None:
    op.create_table('deputies',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('gender', sa.String(length=8), nullable=False),
    sa.Column('ethnicity', sa.String(length=20), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('term', sa.Integer(), nullable=False),
    sa.Column('electoral_unit', sa.String(length=100), nullable=False),
    sa.Column('delegation', sa.String(length=100), nullable=False),
    sa.Column('professional_group', sa.String(length=100), nullable=False),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('id_code', sa.String(length=32), nullable=True),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_deputies_org_unit_id_org_units')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_deputies_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_deputies_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deputies')),
    sa.UniqueConstraint('tenant_id', 'term', 'id_code', name='uq_deputies_tenant_term_code')
    )
    with op.batch_alter_table('deputies', schema=None) as batch_op:
        batch_op.create_index('ix_deputies_tenant_name', ['tenant_id', 'name'], unique=False)
        batch_op.create_index('ix_deputies_tenant_org_unit', ['tenant_id', 'org_unit_id'], unique=False)
        batch_op.create_index('ix_deputies_tenant_user', ['tenant_id', 'user_id'], unique=False)

    op.create_table('deputy_stations',
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('deputy_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_deputy_stations_deputy_id_deputies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_deputy_stations_org_unit_id_org_units')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_deputy_stations_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'deputy_id', 'org_unit_id', name=op.f('pk_deputy_stations'))
    )
    with op.batch_alter_table('deputy_stations', schema=None) as batch_op:
        batch_op.create_index('ix_deputy_stations_tenant_station', ['tenant_id', 'org_unit_id'], unique=False)

    op.create_table('deputy_imports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('committed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_deputy_imports_created_by_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_deputy_imports_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deputy_imports'))
    )
    with op.batch_alter_table('deputy_imports', schema=None) as batch_op:
        batch_op.create_index('ix_deputy_imports_tenant_created', ['tenant_id', 'created_at'], unique=False)

    for table in TENANT_OWNED:
        rls.enable(table)


def downgrade() -> None:
    for table in TENANT_OWNED:
        rls.disable(table)
    with op.batch_alter_table('deputy_imports', schema=None) as batch_op:
        batch_op.drop_index('ix_deputy_imports_tenant_created')

    op.drop_table('deputy_imports')
    with op.batch_alter_table('deputy_stations', schema=None) as batch_op:
        batch_op.drop_index('ix_deputy_stations_tenant_station')

    op.drop_table('deputy_stations')
    with op.batch_alter_table('deputies', schema=None) as batch_op:
        batch_op.drop_index('ix_deputies_tenant_user')
        batch_op.drop_index('ix_deputies_tenant_org_unit')
        batch_op.drop_index('ix_deputies_tenant_name')

    op.drop_table('deputies')
