"""The store contract: one suite, on SQLite and (in CI) on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select

from settlewatch.errors import LockedError
from settlewatch.models import Fetch, ListingRule, Merchant, SourceDecl
from settlewatch.store import crawls
from settlewatch.store.db import open_store, upgrade
from settlewatch.store.merchants import load_merchants, upsert_merchants
from settlewatch.store.schema import blobs, crawl_runs, metadata, snapshots

DECL = SourceDecl(
    id="s1",
    name="S1",
    authority="s1",
    kind="acquirer",
    listings=(ListingRule(url="http://127.0.0.1:1/list"),),
)
NOW = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def engine(db_url: str) -> Engine:
    eng = open_store(db_url)
    with eng.begin() as conn:
        crawls.sync_sources(conn, [DECL])
    return eng


def fetch(url: str, body: bytes, etag: str | None = None) -> Fetch:
    headers = {"ETag": etag} if etag else {}
    return Fetch("s1", url, "notice", 200, headers, body, NOW)


def test_migrations_create_every_table_and_are_idempotent(engine: Engine) -> None:
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    upgrade(engine)  # second time: a no-op


def test_snapshots_are_content_addressed(engine: Engine) -> None:
    with engine.begin() as conn:
        run = crawls.create_run(conn, "s1", "test")
        crawls.save_fetches(conn, run, [fetch("http://x/a", b"same"), fetch("http://x/b", b"same")])
        crawls.save_fetches(conn, run, [fetch("http://x/a", b"same")])
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(blobs)) == 1
        assert conn.scalar(select(func.count()).select_from(snapshots)) == 3
        assert crawls.blob(conn, crawls.sha256(b"same")) == b"same"


def test_prior_fetches_gives_newest_validators(engine: Engine) -> None:
    with engine.begin() as conn:
        run = crawls.create_run(conn, "s1", "test")
        crawls.save_fetches(conn, run, [fetch("http://x/a", b"v1", '"1"')])
        crawls.save_fetches(conn, run, [fetch("http://x/a", b"v2", '"2"')])
        prior = crawls.prior_fetches(conn, "s1")
    assert prior["http://x/a"][0] == '"2"'
    assert prior["http://x/a"][2] == crawls.sha256(b"v2")


def test_lease_refuses_second_owner_until_it_expires(engine: Engine) -> None:
    crawls.acquire_lease(engine, "s1", "a", 60)
    with pytest.raises(LockedError, match="already being crawled by a"):
        crawls.acquire_lease(engine, "s1", "b", 60)
    crawls.release_leases(engine, ["s1"], "a")
    crawls.acquire_lease(engine, "s1", "b", -1)  # an already-expired lease
    crawls.acquire_lease(engine, "s1", "c", 60)


def test_new_run_aborts_a_run_left_running(engine: Engine) -> None:
    with engine.begin() as conn:
        first = crawls.create_run(conn, "s1", "test")
        crawls.create_run(conn, "s1", "test")
    with engine.connect() as conn:
        status = conn.scalar(select(crawl_runs.c.status).where(crawl_runs.c.id == first))
    assert status == "aborted"


def test_merchant_upsert_updates_without_duplicates(engine: Engine) -> None:
    m = Merchant("m1", "Shop", "a@example.com", "zh", ("s1",), ("rt_d0",))
    with engine.begin() as conn:
        upsert_merchants(conn, [m])
        upsert_merchants(
            conn, [Merchant("m1", "Shop 2", "a@example.com", "en", ("s1",), ("t1_d1",))]
        )
        got = load_merchants(conn)
    assert [(x.id, x.name, x.language, x.flows) for x in got] == [
        ("m1", "Shop 2", "en", ("t1_d1",))
    ]


def test_datetimes_come_back_aware(engine: Engine) -> None:
    with engine.begin() as conn:
        crawls.create_run(conn, "s1", "test")
    with engine.connect() as conn:
        started = conn.scalar(select(crawl_runs.c.started_at))
    assert started is not None and started.tzinfo is not None


def test_head_constant_names_the_newest_migration(tmp_path: Path) -> None:
    """open_store skips Alembic when the store is at HEAD, so HEAD must be the real head."""
    from alembic.script import ScriptDirectory

    from settlewatch.store.db import HEAD, alembic_config, current_revision, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    assert ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == HEAD
    assert current_revision(engine) is None
    open_store(f"sqlite:///{tmp_path / 'h.db'}").dispose()
    assert current_revision(engine) == HEAD
    engine.dispose()
