"""suggestion attachments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 06:48:32.108472
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import rls

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('suggestion_attachments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('suggestion_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('step', sa.String(length=24), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_attachments_suggestion_id_suggestions')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_suggestion_attachments_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_suggestion_attachments_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_attachments'))
    )
    with op.batch_alter_table('suggestion_attachments', schema=None) as batch_op:
        batch_op.create_index('ix_suggestion_attachments_tenant_suggestion', ['tenant_id', 'suggestion_id'], unique=False)
    rls.enable("suggestion_attachments")


def downgrade() -> None:
    rls.disable("suggestion_attachments")
    with op.batch_alter_table('suggestion_attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestion_attachments_tenant_suggestion')

    op.drop_table('suggestion_attachments')
