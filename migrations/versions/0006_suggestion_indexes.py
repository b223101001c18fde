"""suggestion indexes for the board and the figures at 100,000 suggestions (benchmarks/bench_suggestions.py)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 07:10:00.000000

- suggestions (tenant_id, lead_deputy_id, state, deadline): the board filtered by state (or a deputy's
  suggestions in a state) reads only the matching rows of each deputy instead of all of them;
- suggestions (tenant_id, series) and (tenant_id, category), each with joint_station_id: the board's
  series and category choices as index-only scans (the row-level security policy reads joint_station_id);
- suggestion_replies (tenant_id, round, handling_unit_id, reply_class) with on_time: the figures' reply
  classes as an index-only scan.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.create_index('ix_suggestions_tenant_deputy_state', ['tenant_id', 'lead_deputy_id', 'state', 'deadline'], unique=False)
        batch_op.create_index('ix_suggestions_tenant_series', ['tenant_id', 'series'], unique=False, postgresql_include=['joint_station_id'])
        batch_op.create_index('ix_suggestions_tenant_category', ['tenant_id', 'category'], unique=False, postgresql_include=['joint_station_id'])
    with op.batch_alter_table('suggestion_replies', schema=None) as batch_op:
        batch_op.create_index('ix_suggestion_replies_tenant_round_unit', ['tenant_id', 'round', 'handling_unit_id', 'reply_class'], unique=False, postgresql_include=['on_time'])


def downgrade() -> None:
    with op.batch_alter_table('suggestion_replies', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestion_replies_tenant_round_unit')
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestions_tenant_category')
        batch_op.drop_index('ix_suggestions_tenant_series')
        batch_op.drop_index('ix_suggestions_tenant_deputy_state')
