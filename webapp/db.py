"""Engines and transactions for SQLite and PostgreSQL, without Flask.

SQLite needs care to be safe under concurrent writers (SECURITY.md, "Quotas and bookings under
concurrency"): WAL so readers never block, a busy timeout so writers queue instead of failing, and
`BEGIN IMMEDIATE` for every unit of work that writes, so a transaction never has to upgrade a read lock
into a write lock (which SQLite refuses at once with "database is locked").
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 5
_IMMEDIATE = "lvtong_begin_immediate"


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    # A database host that does not answer fails a connection in seconds, not after the kernel's TCP timeout (minutes):
    # /healthz must answer the load balancer quickly, and a request must not hang a worker.
    kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", PG_CONNECT_TIMEOUT_S)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own implicit BEGIN is deferred and too late).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # Objects stay readable after commit: a view renders what a service just changed without reloading.
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """Run one unit of work that writes, committed at the end or rolled back on any error.

    Any read-only transaction the session holds is ended first, so the write starts from a fresh snapshot
    and, on SQLite, takes the write lock at BEGIN (queueing on the busy timeout) instead of at its first write.
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("write_transaction needs a session without pending changes")
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={_IMMEDIATE: True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
