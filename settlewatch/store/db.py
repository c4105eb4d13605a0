"""Open the database and bring its schema to the newest Alembic revision."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import ArgumentError

from settlewatch.errors import UsageError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest migration's revision: a store already there opens without loading Alembic
# (0.1 s on every command and crawler process). tests/test_store.py keeps it true.
HEAD = "0004"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def normalise_url(url: str) -> str:
    """Accept postgresql:// as psycopg 3, and plain file paths as SQLite."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return f"sqlite:///{url}"
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite would otherwise commit DDL on its own and start transactions late; let
    # SQLAlchemy emit BEGIN so that a migration or a tracked run is all-or-nothing.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the lock up front: a deferred transaction that reads and then writes
    # fails at once, not after busy_timeout, when another writer committed in between.
    immediate = conn.get_execution_options().get("sqlite_immediate")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def begin_write(engine: Engine) -> AbstractContextManager[Connection]:
    """A write transaction (BEGIN IMMEDIATE on SQLite, a plain BEGIN elsewhere)."""
    return engine.execution_options(sqlite_immediate=True).begin()


def make_engine(url: str) -> Engine:
    try:
        engine = create_engine(normalise_url(url), future=True, pool_pre_ping=True)
    except (ArgumentError, ModuleNotFoundError) as exc:
        raise UsageError(
            f"--db / SETTLEWATCH_DB: cannot use database URL {url!r}: {exc} "
            "(fix: use sqlite:///path.db or postgresql://user@host:5432/db)"
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        db_path = engine.url.database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    return engine


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    """The store's Alembic revision, read directly (None for an empty database)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        value = conn.scalar(text("SELECT version_num FROM alembic_version"))
    return str(value) if value is not None else None


def upgrade(engine: Engine) -> None:
    """Migrate to head; a no-op (one cheap query) when already there."""
    if current_revision(engine) == HEAD:
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def open_store(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine
