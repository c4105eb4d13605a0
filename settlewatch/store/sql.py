"""Small portable SQL helpers (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: Connection, table: Table) -> sqlite.Insert | postgresql.Insert:
    """The dialect's INSERT with ON CONFLICT. PostgreSQL's module is imported only when the
    store is PostgreSQL (~50 ms that a SQLite crawl need not spend)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert

    return insert(table)


def insert_ignore(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT rows, skipping those whose primary or unique key already exists."""
    if not rows:
        return
    conn.execute(_insert(conn, table).on_conflict_do_nothing(), rows)


def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], key: str) -> None:
    """INSERT rows, updating every other column when ``key`` already exists."""
    upsert_on(conn, table, rows, (key,))


def upsert_on(
    conn: Connection, table: Table, rows: list[dict[str, Any]], keys: tuple[str, ...]
) -> None:
    """INSERT rows, updating every other column when the unique ``keys`` already exist."""
    if not rows:
        return
    stmt = _insert(conn, table)
    cols = {c: getattr(stmt.excluded, c) for c in rows[0] if c not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=cols), rows)
