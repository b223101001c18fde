"""Database engine, sessions and the tenant scope that every session carries.

Isolation happens twice. The ORM adds the scope's filter to every query of a tenant-owned
model (``with_loader_criteria`` on ``do_orm_execute``) and refuses to flush rows outside it;
on PostgreSQL the same scope is written into transaction-local settings that the row-level
security policies read, so SQL that bypasses the ORM is still confined. A session with no
scope sees no tenant-owned row: isolation fails closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    create_engine,
    event,
    inspect,
    or_,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    UOWTransaction,
    declared_attr,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from sqlalchemy.sql.elements import ColumnElement

from renda.platform.config import Settings, get_settings

# BIGINT on PostgreSQL, INTEGER (rowid alias, autoincrementing) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")
JsonType = JSON()

NAMING = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        int: Id,
        dt.datetime: DateTime(timezone=True),
        dict[str, Any]: JsonType,
    }


@dataclass(frozen=True)
class Scope:
    """What one unit of work may see: tenants, joint stations, and the acting user's own rows."""

    tenant_ids: frozenset[int] = field(default_factory=frozenset)
    joint_station_ids: frozenset[int] = field(default_factory=frozenset)
    user_id: int | None = None
    everything: bool = False  # platform operators and system jobs (demo load, migrations)

    @classmethod
    def system(cls) -> Scope:
        return cls(everything=True)

    def sees_tenant(self, tenant_id: int | None) -> bool:
        return self.everything or (tenant_id is not None and tenant_id in self.tenant_ids)

    def narrowed_to(self, tenant_id: int, joint_station_ids: Iterable[int] = ()) -> Scope:
        """What pages of one tenant may show: its rows, and those of the joint stations it is a member of.

        A city's staff see their counties too; on one county's pages they see that county alone, so a
        query that forgets to filter by the URL's tenant still cannot show another county's rows (the
        ORM filter and row-level security read this scope). Views across counties widen explicitly
        back to the principal's own scope. Narrowing never widens: a tenant or station this scope does
        not see stays unseen.
        """
        stations = frozenset(joint_station_ids)
        if not self.everything:
            stations &= self.joint_station_ids
        tenants = frozenset({tenant_id}) if self.sees_tenant(tenant_id) else frozenset[int]()
        return Scope(tenant_ids=tenants, joint_station_ids=stations, user_id=self.user_id)


ScopeFilter = Callable[[Any], ColumnElement[bool]]


class TenantOwned:
    """Mixin for every table whose rows belong to one tenant.

    ``tenant_id`` comes first in the table's composite indexes. Subclasses widen what a scope may
    *read* by overriding :meth:`scope_filter` (joint-station records, a user's own rows) and what
    it may *write* by overriding :meth:`writable_in`; the table's row-level security policy says
    the same in its USING and WITH CHECK clauses (see the migrations).
    """

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(Id, ForeignKey("tenants.id"), nullable=False)

    @classmethod
    def scope_filter(cls, scope: Scope) -> ScopeFilter:
        """A lambda over the entity (or an alias of it), so joins to aliases are filtered too.

        SQLAlchemy caches the lambda's SQL by its code and turns the closure's values into bound
        parameters, so every scope shares one compiled statement.
        """
        tenants = sorted(scope.tenant_ids)
        return lambda c: c.tenant_id.in_(tenants)

    def readable_in(self, scope: Scope) -> bool:
        """The Python twin of :meth:`scope_filter`, for rows already loaded (may be narrower)."""
        return scope.sees_tenant(self.tenant_id)

    def writable_in(self, scope: Scope) -> bool:
        return scope.sees_tenant(self.tenant_id)


class JointStationShared(TenantOwned):
    """Tenant-owned rows that may also belong to a joint station, seen by all its members."""

    @declared_attr
    def joint_station_id(cls) -> Mapped[int | None]:
        return mapped_column(Id, ForeignKey("joint_stations.id"), nullable=True)

    @classmethod
    def scope_filter(cls, scope: Scope) -> ScopeFilter:
        tenants, stations = sorted(scope.tenant_ids), sorted(scope.joint_station_ids)
        return lambda c: or_(c.tenant_id.in_(tenants), c.joint_station_id.in_(stations))

    def readable_in(self, scope: Scope) -> bool:
        return self.writable_in(scope)

    def writable_in(self, scope: Scope) -> bool:
        return super().writable_in(scope) or (
            self.joint_station_id is not None and self.joint_station_id in scope.joint_station_ids
        )


class OutOfScopeWrite(PermissionError):
    """A flush tried to write a tenant-owned row outside the session's scope."""


class ScopedSession(Session):
    """The session class of every Database: Session's legacy bulk methods bypass both the flush
    and ``do_orm_execute``, so they check the scope themselves."""

    def bulk_save_objects(self, objects: Any, *args: Any, **kwargs: Any) -> None:
        objects = list(objects)
        scope = get_scope(self)
        for obj in objects:
            if isinstance(obj, TenantOwned) and not scope.everything and not obj.writable_in(scope):
                raise OutOfScopeWrite(f"{type(obj).__name__} of tenant {obj.tenant_id} is outside the scope")
        super().bulk_save_objects(objects, *args, **kwargs)

    def bulk_insert_mappings(self, mapper: Any, mappings: Any, *args: Any, **kwargs: Any) -> None:
        mappings = list(mappings)
        self._check_mappings(mapper, mappings)
        super().bulk_insert_mappings(mapper, mappings, *args, **kwargs)

    def bulk_update_mappings(self, mapper: Any, mappings: Any) -> None:
        mappings = list(mappings)
        self._check_mappings(mapper, mappings)
        super().bulk_update_mappings(mapper, mappings)

    def _check_mappings(self, mapper: Any, mappings: list[Any]) -> None:
        scope = get_scope(self)
        cls = getattr(mapper, "class_", mapper)
        if scope.everything or not (isinstance(cls, type) and issubclass(cls, TenantOwned)):
            return
        for row in mappings:
            if "tenant_id" in row and not scope.sees_tenant(row["tenant_id"]):
                raise OutOfScopeWrite(f"{cls.__name__} of tenant {row['tenant_id']} is outside the scope")


def ping(session: Session) -> None:
    """One round trip to the database (the health check); raises when it cannot be reached."""
    session.execute(text("SELECT 1"))


def get_scope(session: Session) -> Scope:
    scope = session.info.get("scope")
    return scope if isinstance(scope, Scope) else Scope()


def set_scope(session: Session, scope: Scope) -> None:
    """Give the session a scope; applies at once to a transaction already under way.

    Rows loaded under a wider scope are dropped from the identity map, so that ``session.get``
    cannot hand back what the new scope may not read. Pending changes must be flushed first.
    """
    session.info["scope"] = scope
    if not scope.everything:
        for obj in list(session.identity_map.values()):
            if isinstance(obj, TenantOwned) and not obj.readable_in(scope):
                session.expunge(obj)
    if session.info.get(_WRITTEN, _NOTHING) is not _NOTHING and session.info[_WRITTEN] != scope:
        _write_scope_settings(session.connection(), scope)
        session.info[_WRITTEN] = scope
    # No connection yet: the transaction's first statement finds the scope in after_begin.


def _tenant_owned_classes() -> list[type[TenantOwned]]:
    return [
        m.class_ for m in Base.registry.mappers if issubclass(m.class_, TenantOwned)
    ]


@event.listens_for(Session, "do_orm_execute")
def _filter_by_scope(state: ORMExecuteState) -> None:
    scope = get_scope(state.session)
    if scope.everything:
        return
    if state.is_insert or state.is_update:
        _refuse_out_of_scope_statement(state, scope)
    if not (state.is_select or state.is_update or state.is_delete):
        return
    options = [
        with_loader_criteria(cls, cls.scope_filter(scope), include_aliases=True)
        for cls in _tenant_owned_classes()
    ]
    state.statement = state.statement.options(*options)


def _refuse_out_of_scope_statement(state: ORMExecuteState, scope: Scope) -> None:
    """ORM-enabled INSERT and UPDATE statements may only write tenant ids of the scope.

    The flush checks objects; these statements carry their values as parameters instead: the
    executemany list and the statement's own ``values()`` (a SET clause's parameter is named after
    its column, a WHERE clause's gets a suffix, so only the former is read here).
    """
    mapper = state.bind_mapper
    if mapper is None or not issubclass(mapper.class_, TenantOwned):
        return
    params: Any = state.parameters
    many = isinstance(params, list | tuple)
    rows: list[Any] = list(params) if many else [params or {}]
    if not (many and state.is_insert):  # an ORM bulk INSERT (executemany) has no values of its own to compile
        rows.append(state.statement.compile().params)  # type: ignore[attr-defined]
    for row in rows:
        tenant_id = row.get("tenant_id")
        if tenant_id is not None and not scope.sees_tenant(tenant_id):
            raise OutOfScopeWrite(f"{mapper.class_.__name__} of tenant {tenant_id} is outside the scope")


@event.listens_for(Session, "before_flush")
def _refuse_out_of_scope_writes(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    scope = get_scope(session)
    if scope.everything:
        return
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, TenantOwned) and not obj.writable_in(scope):
            raise OutOfScopeWrite(f"{type(obj).__name__} of tenant {obj.tenant_id} is outside the scope")


def _pg_array(ids: frozenset[int]) -> str:
    return "{" + ",".join(str(i) for i in sorted(ids)) + "}"


def _write_scope_settings(connection: Any, scope: Scope) -> None:
    if connection.dialect.name != "postgresql":
        return
    connection.execute(
        text(
            "SELECT set_config('renda.tenant_ids', :t, true), set_config('renda.joint_station_ids', :j, true),"
            " set_config('renda.user_id', :u, true), set_config('renda.scope_all', :a, true)"
        ),
        {
            "t": _pg_array(scope.tenant_ids),
            "j": _pg_array(scope.joint_station_ids),
            "u": str(scope.user_id or ""),
            "a": "on" if scope.everything else "off",
        },
    )


_WRITTEN = "scope_written"  # session.info: the scope the open transaction's settings say
_NOTHING = object()


@event.listens_for(Session, "after_begin")
def _scope_transaction(session: Session, transaction: Any, connection: Any) -> None:
    """The transaction has its connection: write the scope, unless it is the empty one.

    The settings are only ever written transaction-local (``set_config(…, true)``), so a transaction
    starts with them unset, which the policies read as the empty scope: nothing to write for it. A
    savepoint inside a longer transaction may inherit settings, so there it is always written.
    """
    scope = get_scope(session)
    if scope != Scope() or connection.in_nested_transaction():
        _write_scope_settings(connection, scope)
    session.info[_WRITTEN] = scope


@event.listens_for(Session, "after_transaction_end")
def _scope_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_WRITTEN, None)


WRITE = "renda_write"  # connection execution option: this transaction will write (SQLite: BEGIN IMMEDIATE)


def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    # pysqlite's own transaction handling emits BEGIN only before DML and none before SAVEPOINT, so a
    # savepoint could open (and its release commit) a transaction of its own: we emit BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers go on while one writer writes
    cursor.execute("PRAGMA busy_timeout=5000")  # a writer waits up to 5 s for the one before it
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """Every transaction begins for real; a writing one takes the write lock at once (IMMEDIATE).

    A deferred transaction that reads and then writes cannot wait for another writer (its snapshot is
    stale by then, SQLite answers "database is locked" at once); an IMMEDIATE one waits at BEGIN.
    """
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")


def make_engine(url: str) -> Engine:
    """The deployment's engine. SQLite: real transactions (SQLAlchemy's recipe for pysqlite), WAL, a busy timeout."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """The engine and session factory of one deployment (one per process)."""

    def __init__(self, settings: Settings | None = None, url: str | None = None) -> None:
        self.settings = settings or get_settings()
        self.engine = make_engine(url or self.settings.database_url)
        self.sessions = sessionmaker(self.engine, class_=ScopedSession, expire_on_commit=False)

    @contextmanager
    def session(self, scope: Scope | None = None, *, write: bool = False) -> Iterator[Session]:
        """A session in a transaction that commits on success and rolls back on error.

        ``write=True`` says the transaction will write: on SQLite it takes the write lock when it
        begins, so concurrent writers wait their turn instead of failing. PostgreSQL ignores it.
        """
        with self.sessions(execution_options={WRITE: True} if write else {}) as session:
            session.info["scope"] = scope or Scope()
            with session.begin():
                yield session

    def has_schema(self) -> bool:
        """Whether the migrations have run on this database (its tenants table exists)."""
        return inspect(self.engine).has_table("tenants")

    def dispose(self) -> None:
        self.engine.dispose()
