"""Shared fixtures: a real HTTP server, and one store suite for SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.httpfixture import FixtureServer

pytest_plugins = ["tests.mail_fixtures"]

FIXTURES = Path(__file__).parent / "fixtures"
PG_URL = os.environ.get("SETTLEWATCH_TEST_POSTGRES_URL")


@pytest.fixture
def site() -> Iterator[FixtureServer]:
    with FixtureServer() as server:
        yield server


def _pg_schema_url(base: str) -> Iterator[str]:
    """A fresh schema per test inside the shared `test` database, dropped afterwards."""
    schema = f"sw_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every store test runs on SQLite, and on PostgreSQL when CI provides one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sw.db'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL suite runs when SETTLEWATCH_TEST_POSTGRES_URL is set (CI sets it)")
    yield from _pg_schema_url(PG_URL)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sw.db'}"
