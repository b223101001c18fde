"""Row-level security for tenant-owned tables, shared by every migration.

A table's policy admits the rows of the visible tenants (``renda.tenant_ids``), everything under
the system scope, and whatever extra the table names for reading (USING) and writing (WITH CHECK).
The ORM filter of the table's model must say the same (renda.platform.db.TenantOwned).
"""

from __future__ import annotations

from alembic import op

# Each function sits in a scalar sub-select so PostgreSQL evaluates it once per statement (an
# InitPlan), not once per row: as plain calls they are inlined and the setting is parsed for every
# row read (a 25-fold difference counting 30,000 suggestions).
VISIBLE = "(SELECT renda_scope_all()) OR tenant_id = ANY ((SELECT renda_visible_tenants())::bigint[])"
JOINT = "joint_station_id = ANY ((SELECT renda_visible_joint_stations())::bigint[])"
ME = "(SELECT renda_current_user())"


def enable(table: str, read: str | None = None, write: str | None = None) -> None:
    """Enable and force RLS on ``table`` with its scope policy (PostgreSQL only; a no-op on SQLite)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    using = f"{VISIBLE} OR {read}" if read else VISIBLE
    check = f"{VISIBLE} OR {write}" if write else VISIBLE
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY {table}_scope ON {table} USING ({using}) WITH CHECK ({check})")


def disable(table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP POLICY IF EXISTS {table}_scope ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def append_only(table: str) -> None:
    """Refuse UPDATE and DELETE on ``table`` on both backends (timelines, audit logs)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
                   " FOR EACH ROW EXECUTE FUNCTION renda_refuse_change()")
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table}"
                   f" BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
