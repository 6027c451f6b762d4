"""Engine and session helpers: one place that knows how to open the database.

SQLite is the embedded default and gets WAL + a busy timeout so that concurrent writers wait
instead of failing with "database is locked"; PostgreSQL is used as-is.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import psycopg
from psycopg import errors as pg_errors
from psycopg.abc import PQGen
from sqlalchemy import ColumnElement, Connection, Engine, Table, bindparam, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.pool import NullPool, QueuePool
from sqlmodel import Session, SQLModel, create_engine

__all__ = [
    "PROBE_TIMEOUT_SECONDS",
    "SERVER_ANSWER_SECONDS",
    "SQLITE_BUSY_TIMEOUT_MS",
    "create_db_engine",
    "create_probe_engine",
    "database_unreachable",
    "id_in",
    "insert_if_absent",
    "is_postgres",
    "is_sqlite",
    "read_scope",
    "session_scope",
    "without_answer_deadline",
]

# Writers queue for up to this long before SQLite gives up (field case F14 asks for ≥ 5 s).
SQLITE_BUSY_TIMEOUT_MS = 15_000


def is_sqlite(engine_or_url: Engine | str) -> bool:
    return _backend(engine_or_url) == "sqlite"


def is_postgres(engine_or_url: Engine | str) -> bool:
    return _backend(engine_or_url) == "postgresql"


def _backend(engine_or_url: Engine | str) -> str:
    if isinstance(engine_or_url, Engine):
        return engine_or_url.dialect.name
    return make_url(engine_or_url).get_backend_name()


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    """Open `url` with the settings Frontline relies on (WAL and busy timeout on SQLite)."""
    if is_sqlite(url):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            # Keep connections open: closing the last connection to a WAL database checkpoints it,
            # which made every request pay about 1 ms.
            poolclass=QueuePool,
            pool_size=10,
            max_overflow=20,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN: a transaction that reads and then writes
        # fails at once with "database is locked" when another writer got in between (the busy
        # timeout cannot help there). Write transactions therefore BEGIN IMMEDIATE, taking the write
        # lock up front and queueing behind others; read-only ones (`read_scope`) stay DEFERRED so
        # a long export never blocks writers.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        connect_args=POSTGRES_CONNECT_ARGS,
    )
    event.listen(engine, "do_connect", _connect_with_deadline)
    return engine


# A server that stopped answering must not hold a request or a shutdown for ever: connecting gives
# up after 5 s, an unanswered connection is dropped after 15 s (TCP keepalives and libpq's
# tcp_user_timeout), and waiting for a pooled connection after 10 s.
POSTGRES_CONNECT_ARGS = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 2,
    "tcp_user_timeout": 15_000,
    # A database created as SQL_ASCII (old clusters, a template without a locale) would otherwise
    # hand text back as bytes, which SQLAlchemy cannot even read the server's version from.
    "client_encoding": "utf8",
}
POOL_TIMEOUT_SECONDS = 10

# A server that froze (its processes stopped, its kernel still acknowledging TCP) neither answers
# nor drops the connection: keepalives and tcp_user_timeout never fire and libpq would wait for
# ever, holding a Slack request thread or a worker's sweep. So every exchange with the server (a
# statement, a fetch, a commit, a rollback) gives up after this long and closes its connection,
# which the pool then discards. Far above any statement Frontline runs (the heaviest, a month's
# digest at a million tickets, takes under a second); migrations, whose DDL on a large table may
# legitimately take minutes, lift it (`without_answer_deadline`).
SERVER_ANSWER_SECONDS = 30.0


class _DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait on the server ends by `answer_deadline` seconds."""

    answer_deadline: float | None = SERVER_ANSWER_SECONDS

    def wait(self, gen: PQGen[Any], interval: float = 0.1, timeout: float | None = None) -> Any:
        if timeout is None:
            timeout = self.answer_deadline
        try:
            return super().wait(gen, interval=interval, timeout=timeout)
        except pg_errors._WaitTimeout as error:  # psycopg's own "wait timeout expired"
            # The exchange stopped half-way: nothing more can be read on this connection.
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"the database server did not answer within {timeout:g} s; the connection was closed"
            ) from error


def _connect_with_deadline(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> psycopg.Connection[Any]:
    return _DeadlineConnection.connect(*cargs, **cparams)


def _connect_for_probe(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> psycopg.Connection[Any]:
    connection = _DeadlineConnection.connect(*cargs, **cparams)
    connection.answer_deadline = PROBE_TIMEOUT_SECONDS
    return connection


@contextmanager
def without_answer_deadline(connection: Connection) -> Iterator[None]:
    """Lift SERVER_ANSWER_SECONDS for the work done on `connection` inside the block."""
    driver = connection.connection.driver_connection
    if not isinstance(driver, _DeadlineConnection):
        yield
        return
    previous, driver.answer_deadline = driver.answer_deadline, None
    try:
        yield
    finally:
        driver.answer_deadline = previous


# Health checks and scrapes must answer while the database is down or stuck: no probe waits longer.
PROBE_TIMEOUT_SECONDS = 2


def database_unreachable(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached or stopped answering (refused, gone,
    frozen past its deadline, locked past the busy timeout), rather than that a statement was wrong."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def create_probe_engine(url: str) -> Engine:
    """An engine for `/readyz` and `/metrics`: a fresh connection per probe (NullPool: a pooled
    connection to a server that froze would hang), connect, statement and answer timeouts of
    PROBE_TIMEOUT_SECONDS, and SQLite opened read-only, so that a missing file is reported rather
    than created empty."""
    if is_sqlite(url):
        file_uri = Path(make_url(url).database or "").absolute().as_uri() + "?mode=ro"

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(file_uri, uri=True, timeout=PROBE_TIMEOUT_SECONDS, check_same_thread=False)

        return create_engine("sqlite://", creator=connect, poolclass=NullPool)
    engine = create_engine(
        url,
        poolclass=NullPool,
        connect_args={
            "connect_timeout": PROBE_TIMEOUT_SECONDS,
            "options": f"-c statement_timeout={PROBE_TIMEOUT_SECONDS * 1000}",
            "client_encoding": POSTGRES_CONNECT_ARGS["client_encoding"],
        },
    )
    event.listen(engine, "do_connect", _connect_for_probe)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _use_wal(cursor: Any) -> None:
    """WAL is a property of the file, set once. Switching needs a moment with no other writer and
    does not wait on the busy timeout, so processes opening a new file together retry briefly."""
    for _ in range(100):
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            time.sleep(0.05)
    raise sqlite3.OperationalError("could not switch the database to WAL mode: another process keeps it locked")


_READ_ONLY = "frontline_read_only"


def _sqlite_begin(connection: Any) -> None:
    if connection.get_execution_options().get(_READ_ONLY, False):
        connection.exec_driver_sql("BEGIN DEFERRED")
    else:
        _begin_immediate(connection.connection.driver_connection)


# How often a writer looks again while another process holds the write lock. SQLite's own busy
# handler sleeps 1, 2, 5, 10 … up to 100 ms between looks, so a writer behind a 1 ms transaction
# of the worker often waited 25–100 ms (p99 of `/ticket` was 300 ms with a worker posting cards).
_WRITE_LOCK_POLL_FIRST, _WRITE_LOCK_POLL_MAX = 0.0002, 0.002


def _begin_immediate(dbapi_connection: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, polling briefly for the write lock for up to the busy timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    delay = _WRITE_LOCK_POLL_FIRST
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, _WRITE_LOCK_POLL_MAX)
    finally:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")  # reads and COMMIT keep waiting
        cursor.close()


# SQLite has one writer at a time. Writers of this process queue on a lock instead of inside
# SQLite, whose busy handler sleeps between retries (up to 100 ms a time) and gave p99 latencies of
# a second under 8 concurrent requests. Other processes still wait through the busy timeout.
_SQLITE_WRITERS: WeakKeyDictionary[Engine, threading.RLock] = WeakKeyDictionary()
_SQLITE_WRITERS_GUARD = threading.Lock()


def _writer_lock(engine: Engine) -> AbstractContextManager[object]:
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _SQLITE_WRITERS_GUARD:
        return _SQLITE_WRITERS.setdefault(engine, threading.RLock())


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with _writer_lock(engine), Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def insert_if_absent(
    session: Session, model: type[SQLModel], values: dict[str, Any], *, unique: str | tuple[str, ...]
) -> Any:
    """INSERT … ON CONFLICT (`unique`: a column or several) DO NOTHING on either backend (rather than catching an
    IntegrityError: no savepoint, and a concurrent duplicate waits for the other transaction instead
    of failing it). Returns the new row's first primary-key column, or None if the row existed."""
    statement = _insert_if_absent(session.get_bind().dialect.name, model, tuple(values), unique)
    # On the session's connection, past the ORM's execute (no autoflush, no ORM compile step): a
    # third of this call's cost. Rows it may refer to (a ticket) are flushed by their creator.
    row = session.connection().execute(statement, values).first()
    return row[0] if row is not None else None


def id_in(column: Any, ids: list[int]) -> ColumnElement[bool]:
    """`column IN (ids)` with the integers written into the SQL instead of bound one parameter each:
    for the sweep's hundreds of ids, binding cost more than the query (type processing in
    SQLAlchemy, placeholder conversion in psycopg). Only for ints, which cannot inject anything."""
    values = [int(value) for value in ids]
    test: ColumnElement[bool] = column.in_(bindparam(f"ids_{column.key}", values, expanding=True, literal_execute=True))
    return test


def insert_many_if_absent(
    session: Session, model: type[SQLModel], rows: list[dict[str, Any]], *, unique: str | tuple[str, ...]
) -> None:
    """`insert_if_absent` for many rows of one shape, as one executemany (ids not returned)."""
    if rows:
        statement = _insert_if_absent(session.get_bind().dialect.name, model, tuple(rows[0]), unique, returning=False)
        session.connection().execute(statement, rows)


@lru_cache(maxsize=64)
def _insert_if_absent(
    dialect: str,
    model: type[SQLModel],
    columns: tuple[str, ...],
    unique: str | tuple[str, ...],
    *,
    returning: bool = True,
) -> Any:
    # Built once per shape and bound per call: building the statement cost more than running it.
    # On the Table, not the model: an ORM-enabled INSERT with parameters takes the slower "bulk"
    # path, for nothing here, since the row never becomes an object in the session.
    table: Table = model.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values({column: bindparam(column) for column in columns})
        .on_conflict_do_nothing(index_elements=[unique] if isinstance(unique, str) else list(unique))
    )
    return statement.returning(*table.primary_key.columns) if returning else statement


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A read-only unit of work: on SQLite it does not take the write lock."""
    with Session(engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False) as session:
        yield session
