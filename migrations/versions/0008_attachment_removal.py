"""suggestion_attachments.removed_at / removed_by: a deputy takes a document off their draft

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 08:35:00.000000

The row stays (the timeline's entry points to it); the pages no longer list or serve it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('suggestion_attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('removed_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_suggestion_attachments_removed_by_users'), 'users',
                                    ['removed_by'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('suggestion_attachments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_suggestion_attachments_removed_by_users'), type_='foreignkey')
        batch_op.drop_column('removed_by')
        batch_op.drop_column('removed_at')
