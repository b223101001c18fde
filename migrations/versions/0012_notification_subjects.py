"""notifications.subject_type / subject_id: what a notification is about, linked by the web layer

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 12:00:00.000000

The sweep wrote a page's URL into each notification from the business layer; a notification now names
its subject and the inbox and the webhook build the link. Existing rows keep their link.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_type', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('subject_id')
        batch_op.drop_column('subject_type')
