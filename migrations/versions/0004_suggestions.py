"""Deputy suggestions and the timeline every workflow shares (append-only)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 06:30:34.873749
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import rls

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TENANT_OWNED = ("timeline_events", "suggestions", "suggestion_cosigners", "suggestion_assignments",
                "suggestion_replies", "suggestion_commitments", "suggestion_counters")


def upgrade() -> None:
    op.create_table('suggestion_counters',
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('series', sa.String(length=24), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_suggestion_counters_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'series', name=op.f('pk_suggestion_counters'))
    )
    op.create_table('timeline_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_timeline_events_actor_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_timeline_events_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline_events'))
    )
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.create_index('ix_timeline_events_subject', ['tenant_id', 'subject_type', 'subject_id', 'at'], unique=False)

    op.create_table('suggestions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('series', sa.String(length=24), nullable=False),
    sa.Column('term', sa.Integer(), nullable=False),
    sa.Column('session_no', sa.Integer(), nullable=True),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('lead_deputy_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('client_token', sa.String(length=64), nullable=True),
    sa.Column('is_key', sa.Boolean(), nullable=False),
    sa.Column('supervisor_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('broad', sa.Boolean(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('reply_class', sa.String(length=2), nullable=True),
    sa.Column('evaluation', sa.String(length=24), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('joint_station_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_suggestions_created_by_users')),
    sa.ForeignKeyConstraint(['joint_station_id'], ['joint_stations.id'], name=op.f('fk_suggestions_joint_station_id_joint_stations')),
    sa.ForeignKeyConstraint(['lead_deputy_id'], ['deputies.id'], name=op.f('fk_suggestions_lead_deputy_id_deputies')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_suggestions_org_unit_id_org_units')),
    sa.ForeignKeyConstraint(['supervisor_user_id'], ['users.id'], name=op.f('fk_suggestions_supervisor_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_suggestions_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestions')),
    sa.UniqueConstraint('tenant_id', 'client_token', name='uq_suggestions_tenant_client_token'),
    sa.UniqueConstraint('tenant_id', 'series', 'number', name='uq_suggestions_tenant_series_number')
    )
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.create_index('ix_suggestions_tenant_lead_deputy', ['tenant_id', 'lead_deputy_id'], unique=False)
        batch_op.create_index('ix_suggestions_tenant_state', ['tenant_id', 'state', 'deadline'], unique=False)

    op.create_table('suggestion_assignments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('suggestion_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('handling_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lead', sa.Boolean(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['handling_unit_id'], ['handling_units.id'], name=op.f('fk_suggestion_assignments_handling_unit_id_handling_units')),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_assignments_suggestion_id_suggestions')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_suggestion_assignments_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_assignments'))
    )
    with op.batch_alter_table('suggestion_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_suggestion_assignments_tenant_suggestion', ['tenant_id', 'suggestion_id'], unique=False)
        batch_op.create_index('ix_suggestion_assignments_tenant_unit', ['tenant_id', 'handling_unit_id', 'active'], unique=False)

    op.create_table('suggestion_commitments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('suggestion_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('handling_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('fulfilled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fulfilment_note', sa.Text(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['handling_unit_id'], ['handling_units.id'], name=op.f('fk_suggestion_commitments_handling_unit_id_handling_units')),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_commitments_suggestion_id_suggestions')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_suggestion_commitments_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_commitments'))
    )
    with op.batch_alter_table('suggestion_commitments', schema=None) as batch_op:
        batch_op.create_index('ix_suggestion_commitments_tenant_due', ['tenant_id', 'fulfilled_at', 'due_date'], unique=False)

    op.create_table('suggestion_cosigners',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('suggestion_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('deputy_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_suggestion_cosigners_deputy_id_deputies')),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_cosigners_suggestion_id_suggestions')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_suggestion_cosigners_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_cosigners')),
    sa.UniqueConstraint('tenant_id', 'suggestion_id', 'deputy_id', name='uq_suggestion_cosigners_tenant_suggestion_deputy')
    )
    op.create_table('suggestion_replies',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('suggestion_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('handling_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('reply_class', sa.String(length=2), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('signed_by', sa.String(length=50), nullable=False),
    sa.Column('replied_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('on_time', sa.Boolean(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['handling_unit_id'], ['handling_units.id'], name=op.f('fk_suggestion_replies_handling_unit_id_handling_units')),
    sa.ForeignKeyConstraint(['replied_by'], ['users.id'], name=op.f('fk_suggestion_replies_replied_by_users')),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_replies_suggestion_id_suggestions')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_suggestion_replies_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_replies'))
    )
    with op.batch_alter_table('suggestion_replies', schema=None) as batch_op:
        batch_op.create_index('ix_suggestion_replies_tenant_suggestion', ['tenant_id', 'suggestion_id'], unique=False)
    for table in TENANT_OWNED:
        joint = rls.JOINT if table == "suggestions" else None  # joint-station suggestions: all members see them
        rls.enable(table, joint, joint)
    rls.append_only("timeline_events")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS timeline_events_append_only ON timeline_events")
    for table in TENANT_OWNED:
        rls.disable(table)
    with op.batch_alter_table('suggestion_replies', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestion_replies_tenant_suggestion')

    op.drop_table('suggestion_replies')
    op.drop_table('suggestion_cosigners')
    with op.batch_alter_table('suggestion_commitments', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestion_commitments_tenant_due')

    op.drop_table('suggestion_commitments')
    with op.batch_alter_table('suggestion_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestion_assignments_tenant_unit')
        batch_op.drop_index('ix_suggestion_assignments_tenant_suggestion')

    op.drop_table('suggestion_assignments')
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestions_tenant_state')
        batch_op.drop_index('ix_suggestions_tenant_lead_deputy')

    op.drop_table('suggestions')
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.drop_index('ix_timeline_events_subject')

    op.drop_table('timeline_events')
    op.drop_table('suggestion_counters')
