"""kernel: tenants, org tree, handling units, joint stations, users, grants, settings, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-23 05:26:28.853102
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import rls

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Every tenant-owned table: the rows its policy lets a scope read (USING) and write (WITH CHECK)
# beyond those of the visible tenants. The ORM filter in renda.platform says the same.
TENANT_OWNED: dict[str, tuple[str | None, str | None]] = {
    "org_units": (rls.JOINT, rls.JOINT),
    "handling_units": (None, None),
    # One's own account, and whoever holds a grant in a visible tenant; writable: one's own
    # account only, and the trigger below keeps it from moving to another tenant.
    "users": (f"id = {rls.ME} OR EXISTS (SELECT 1 FROM grants g WHERE g.user_id = users.id"
              " AND g.tenant_id = ANY ((SELECT renda_visible_tenants())::bigint[]))",
              f"id = {rls.ME}"),
    # One's own grants are readable (that is how a principal loads), never writable.
    "grants": (f"user_id = {rls.ME}", None),
    "tenant_settings": (None, None),
    "audit_log": (None, None),
}

SCOPE_FUNCTIONS = """
CREATE FUNCTION renda_visible_tenants() RETURNS bigint[] LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('renda.tenant_ids', true), ''), '{}')::bigint[] $$;
CREATE FUNCTION renda_visible_joint_stations() RETURNS bigint[] LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('renda.joint_station_ids', true), ''), '{}')::bigint[] $$;
CREATE FUNCTION renda_current_user() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('renda.user_id', true), '')::bigint $$;
CREATE FUNCTION renda_scope_all() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('renda.scope_all', true), '') = 'on' $$;
CREATE FUNCTION renda_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
CREATE FUNCTION renda_keep_user_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.tenant_id <> OLD.tenant_id AND NOT renda_scope_all()
       AND NOT NEW.tenant_id = ANY (renda_visible_tenants()) THEN
      RAISE EXCEPTION 'a user cannot be moved into a tenant outside the scope';
    END IF;
    RETURN NEW;
  END $$;
"""


def _later_fk(column: str, name: str) -> list[sa.ForeignKeyConstraint]:
    """Tenants and org units refer to each other: PostgreSQL gets this key once both exist."""
    if op.get_bind().dialect.name == "sqlite":
        return [sa.ForeignKeyConstraint([column], ["org_units.id"], name=name)]
    return []


def _enable_rls() -> None:
    """Row-level security on every tenant-owned table; fails closed with no scope set."""
    op.execute(SCOPE_FUNCTIONS)
    for table, (read, write) in TENANT_OWNED.items():
        rls.enable(table, read, write)
    op.execute(
        "CREATE TRIGGER users_keep_tenant BEFORE UPDATE OF tenant_id ON users"
        " FOR EACH ROW EXECUTE FUNCTION renda_keep_user_tenant()"
    )
    op.create_foreign_key("fk_tenants_root_org_unit_id_org_units", "tenants", "org_units",
                          ["root_org_unit_id"], ["id"])
    op.create_foreign_key("fk_joint_stations_org_unit_id_org_units", "joint_stations", "org_units",
                          ["org_unit_id"], ["id"])


def upgrade() -> None:
    op.create_table('tenants',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('root_org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['tenants.id'], name=op.f('fk_tenants_parent_id_tenants')),
    *_later_fk('root_org_unit_id', 'fk_tenants_root_org_unit_id_org_units'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants')),
    sa.UniqueConstraint('code', name=op.f('uq_tenants_code')),
    sa.UniqueConstraint('slug', name=op.f('uq_tenants_slug'))
    )
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenants_path'), ['path'], unique=False)

    op.create_table('handling_units',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('contact', sa.String(length=100), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_handling_units_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handling_units')),
    sa.UniqueConstraint('tenant_id', 'name', name='uq_handling_units_tenant_name')
    )
    op.create_table('joint_stations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('host_tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['host_tenant_id'], ['tenants.id'], name=op.f('fk_joint_stations_host_tenant_id_tenants')),
    *_later_fk('org_unit_id', 'fk_joint_stations_org_unit_id_org_units'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_joint_stations'))
    )
    op.create_table('users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('is_platform_admin', sa.Boolean(), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_users_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('external_id', name=op.f('uq_users_external_id')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_tenant_username', ['tenant_id', 'username'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=64), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_audit_log_actor_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_audit_log_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_tenant_at', ['tenant_id', 'at'], unique=False)

    op.create_table('joint_station_members',
    sa.Column('joint_station_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['joint_station_id'], ['joint_stations.id'], name=op.f('fk_joint_station_members_joint_station_id_joint_stations')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_joint_station_members_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('joint_station_id', 'tenant_id', name=op.f('pk_joint_station_members'))
    )
    op.create_table('org_units',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('joint_station_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['joint_station_id'], ['joint_stations.id'], name=op.f('fk_org_units_joint_station_id_joint_stations')),
    sa.ForeignKeyConstraint(['parent_id'], ['org_units.id'], name=op.f('fk_org_units_parent_id_org_units')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_org_units_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_units')),
    sa.UniqueConstraint('tenant_id', 'code', name='uq_org_units_tenant_code')
    )
    with op.batch_alter_table('org_units', schema=None) as batch_op:
        batch_op.create_index('ix_org_units_tenant_path', ['tenant_id', 'path'], unique=False)

    op.create_table('tenant_settings',
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_settings_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_tenant_settings_updated_by_users')),
    sa.PrimaryKeyConstraint('tenant_id', 'key', name=op.f('pk_tenant_settings'))
    )
    op.create_table('grants',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('handling_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('scope_path', sa.String(length=512), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_grants_created_by_users')),
    sa.ForeignKeyConstraint(['handling_unit_id'], ['handling_units.id'], name=op.f('fk_grants_handling_unit_id_handling_units')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_grants_org_unit_id_org_units')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_grants_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_grants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grants'))
    )
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.create_index('ix_grants_tenant_user', ['tenant_id', 'user_id'], unique=False)
        batch_op.create_index('ix_grants_user', ['user_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        _enable_rls()
    rls.append_only("audit_log")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_tenants_root_org_unit_id_org_units", "tenants", type_="foreignkey")
        op.drop_constraint("fk_joint_stations_org_unit_id_org_units", "joint_stations", type_="foreignkey")
        for table in TENANT_OWNED:
            op.execute(f"DROP POLICY IF EXISTS {table}_scope ON {table}")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS users_keep_tenant ON users")
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.drop_index('ix_grants_user')
        batch_op.drop_index('ix_grants_tenant_user')

    op.drop_table('grants')
    op.drop_table('tenant_settings')
    with op.batch_alter_table('org_units', schema=None) as batch_op:
        batch_op.drop_index('ix_org_units_tenant_path')

    op.drop_table('org_units')
    op.drop_table('joint_station_members')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_tenant_at')

    op.drop_table('audit_log')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_tenant_username')

    op.drop_table('users')
    op.drop_table('joint_stations')
    op.drop_table('handling_units')
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenants_path'))

    op.drop_table('tenants')
    if op.get_bind().dialect.name == "postgresql":
        for fn in ("renda_visible_tenants", "renda_visible_joint_stations", "renda_current_user",
                   "renda_scope_all", "renda_refuse_change", "renda_keep_user_tenant"):
            op.execute(f"DROP FUNCTION IF EXISTS {fn}()")
