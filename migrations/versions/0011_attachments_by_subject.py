"""attachments: one table for every module's files, keyed by subject like the timeline

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 09:00:00.000000

The suggestions' documents move from suggestion_attachments into attachments (subject_type
'suggestion', subject_id the suggestion), keeping their ids: download links and the timeline's
entries that name them stay valid. Citizens' opinions' and activities' photos will share the table.
The downgrade moves the suggestions' rows back and refuses while files of other records exist, which
the old table cannot hold.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

from migrations import rls

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
COMMON = "id, tenant_id, step, filename, content_type, size, sha256, uploaded_by, created_at, removed_at, removed_by"


def upgrade() -> None:
    op.create_table('attachments',
    sa.Column('id', Id, nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=False),
    sa.Column('subject_id', Id, nullable=False),
    sa.Column('step', sa.String(length=24), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', Id, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by', Id, nullable=True),
    sa.Column('tenant_id', Id, nullable=False),
    sa.ForeignKeyConstraint(['removed_by'], ['users.id'], name=op.f('fk_attachments_removed_by_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_attachments_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_attachments_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    op.create_index('ix_attachments_tenant_subject', 'attachments', ['tenant_id', 'subject_type', 'subject_id'],
                    unique=False)
    rls.enable("attachments")
    with _every_tenant():
        op.execute(f"INSERT INTO attachments (subject_type, subject_id, {COMMON})"
                   f" SELECT 'suggestion', suggestion_id, {COMMON} FROM suggestion_attachments")
        _restart_ids('attachments')
    rls.disable("suggestion_attachments")
    op.drop_index('ix_suggestion_attachments_tenant_suggestion', table_name='suggestion_attachments')
    op.drop_table('suggestion_attachments')


def downgrade() -> None:
    with _every_tenant():  # before any change: SQLite would keep what was done before a failure
        others = op.get_bind().execute(sa.text(
            "SELECT count(*) FROM attachments WHERE subject_type <> 'suggestion'")).scalar_one()
    if others:
        raise RuntimeError(f"{others} attachments belong to records other than suggestions; "
                           "suggestion_attachments cannot hold them, so this downgrade would lose them")
    op.create_table('suggestion_attachments',
    sa.Column('id', Id, nullable=False),
    sa.Column('suggestion_id', Id, nullable=False),
    sa.Column('step', sa.String(length=24), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', Id, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', Id, nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by', Id, nullable=True),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'],
                            name=op.f('fk_suggestion_attachments_suggestion_id_suggestions')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_suggestion_attachments_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_suggestion_attachments_uploaded_by_users')),
    sa.ForeignKeyConstraint(['removed_by'], ['users.id'], name=op.f('fk_suggestion_attachments_removed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_attachments'))
    )
    op.create_index('ix_suggestion_attachments_tenant_suggestion', 'suggestion_attachments',
                    ['tenant_id', 'suggestion_id'], unique=False)
    rls.enable("suggestion_attachments")
    with _every_tenant():
        op.execute(f"INSERT INTO suggestion_attachments (suggestion_id, {COMMON})"
                   f" SELECT subject_id, {COMMON} FROM attachments WHERE subject_type = 'suggestion'")
        _restart_ids('suggestion_attachments')
    rls.disable("attachments")
    op.drop_index('ix_attachments_tenant_subject', table_name='attachments')
    op.drop_table('attachments')


@contextmanager
def _every_tenant() -> Iterator[None]:
    """The copy sees and writes every tenant's rows: row-level security admits them under the system
    scope, for this transaction only (PostgreSQL; SQLite has no policies)."""
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("SELECT set_config('renda.scope_all', 'on', true)")
    yield
    if postgres:
        op.execute("SELECT set_config('renda.scope_all', 'off', true)")


def _restart_ids(table: str) -> None:
    """Rows copied with their ids: PostgreSQL's sequence goes on after the largest (SQLite's rowid does)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false)"
                   f" FROM {table}")
