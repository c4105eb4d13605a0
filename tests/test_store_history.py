"""A crawl's own queries stay bounded as the store's history grows.

Every crawl adds Snapshots and a run per source, and every digest adds outbox rows. Planning
a crawl and tracking it must read what the crawl needs by index, never by walking that history.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Engine, event

from crawler.plan import load_plans
from settlewatch.models import Fetch, ListingRule, SourceDecl
from settlewatch.store import crawls
from settlewatch.store.db import alembic_config, begin_write, make_engine, open_store
from settlewatch.store.queries import recent_runs
from settlewatch.store.schema import blobs, snapshots
from tests.httpfixture import FixtureServer, Route
from tests.sitekit import declare, run, simple_board

NOW = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)
# the tables that grow with every crawl or digest
HISTORY = {"snapshots", "crawl_runs", "outbox", "blobs", "notices", "versions", "changes"}


def _snap(run_id: int, source: str, url: str, status: int, body: bytes, **headers: str) -> Any:
    digest = crawls.sha256(body) if body else None
    return {
        "run_id": run_id,
        "source_id": source,
        "url": url,
        "role": "listing" if url.endswith("/list") else "notice",
        "status": status,
        "headers": headers,
        "sha256": digest,
        "fetched_at": NOW,
    }


def _decl(source_id: str) -> SourceDecl:
    return SourceDecl(
        id=source_id,
        name=source_id,
        authority=source_id,
        kind="acquirer",
        listings=(ListingRule(url="http://x/list"),),
    )


def test_migration_builds_each_urls_newest_fetch_from_the_snapshots(db_url: str) -> None:
    engine = make_engine(db_url)
    command.upgrade(alembic_config(engine), "0003")  # a store from before newest_fetches
    with begin_write(engine) as conn:
        crawls.sync_sources(conn, [_decl("s1"), _decl("s2")])
        r = [crawls.create_run(conn, "s1" if i != 1 else "s2", "test") for i in range(6)]
    bodies = [b"v1", b"v2", b"list", b"other"]
    rows = [
        _snap(r[0], "s1", "http://x/a", 200, b"v1", ETag='"1"'),
        _snap(r[0], "s1", "http://x/list", 200, b"list", **{"last-modified": "Tue, 1 Dec 2026"}),
        _snap(r[1], "s2", "http://x/a", 200, b"other", ETag='"s2"'),
        _snap(r[2], "s1", "http://x/a", 200, b"v2", etag='"2"'),
        _snap(r[2], "s1", "http://x/list", 500, b""),  # a failure keeps the last validators
        _snap(r[2], "s1", "http://x/gone", 404, b"not found"),  # never a 200: no validators
        _snap(r[3], "s1", "http://x/a", 304, b""),
    ]
    with begin_write(engine) as conn:
        conn.execute(
            blobs.insert(),
            [{"sha256": crawls.sha256(b), "size": len(b), "content": b} for b in bodies]
            + [{"sha256": crawls.sha256(b"not found"), "size": 9, "content": b"not found"}],
        )
        conn.execute(snapshots.insert(), rows)
    engine.dispose()
    engine = open_store(db_url)  # migrates to the head
    with engine.connect() as conn:
        assert crawls.prior_fetches(conn, "s1") == {
            "http://x/a": ('"2"', None, crawls.sha256(b"v2"), "notice"),
            "http://x/list": (None, "Tue, 1 Dec 2026", crawls.sha256(b"list"), "listing"),
        }
        assert crawls.prior_fetches(conn, "s2")["http://x/a"][0] == '"s2"'
    # from now on each 200 replaces its URL's validators; a 304 or an error leaves them
    with begin_write(engine) as conn:
        new = Fetch("s1", "http://x/a", "notice", 200, {"ETag": '"3"'}, b"v3", NOW)
        crawls.save_fetches(conn, r[4], [new])
        crawls.save_fetches(conn, r[5], [Fetch("s1", "http://x/a", "notice", 304, {}, b"", NOW)])
    with engine.connect() as conn:
        assert crawls.prior_fetches(conn, "s1")["http://x/a"][:3] == (
            '"3"',
            None,
            crawls.sha256(b"v3"),
        )
    engine.dispose()


@contextlib.contextmanager
def _statements() -> Iterator[list[tuple[str, Any]]]:
    """Every single statement any engine of this process executes meanwhile."""
    seen: list[tuple[str, Any]] = []

    def grab(_c: Any, _cur: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        if not many:
            seen.append((sql, params))

    event.listen(Engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", grab)


def _history_scans(db: str, statements: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    return [
        (sql, step)
        for sql, step in _plans(db, statements)
        if step.startswith("SCAN ") and step.split()[1] in HISTORY
    ]


def _plans(db: str, statements: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """(statement, plan step) for every read or update statement, on SQLite."""
    out = []
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        for sql, params in statements:
            if sql.lstrip().split(None, 1)[0].upper() in ("SELECT", "UPDATE", "DELETE"):
                for step in conn.execute("EXPLAIN QUERY PLAN " + sql, params):
                    out.append((" ".join(sql.split()), str(step[3])))
    return out


def test_planning_and_tracking_an_unchanged_crawl_never_scan_history(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    simple_board(site, n=4)
    for path, route in site.routes.items():  # the unchanged crawl is answered with 304s
        if isinstance(route, Route) and path != "/robots.txt":
            route.etag = f'"{path}"'
    declare(tmp_path / "src", "acq", site.base)
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    with _statements() as seen:  # the command tracks in this process; plans load here too
        res = run(["crawl", "--json"], sqlite_url, tmp_path / "src")
        assert res.exit_code == 0 and '"unchanged": 4' in res.output, res.output
        engine = open_store(sqlite_url)
        with begin_write(engine) as conn:
            run_id = crawls.create_run(conn, "acq", "test")
        engine.dispose()
        plan = load_plans(sqlite_url, [run_id])[run_id]
    assert len(plan.prior) == 5  # the listing and 4 notices, read from newest_fetches
    touched = " ".join(sql for sql, _ in seen)
    assert "FROM newest_fetches" in touched and "FROM outbox" in touched  # not vacuous
    assert _history_scans(sqlite_url, seen) == []


def test_recent_runs_are_each_sources_newest_read_by_index(db_url: str) -> None:
    engine = open_store(db_url)
    with begin_write(engine) as conn:
        crawls.sync_sources(conn, [_decl("s1"), _decl("s2")])
        ids: dict[str, list[int]] = {"s1": [], "s2": []}
        for _ in range(7):
            for sid in ids:
                ids[sid].append(crawls.create_run(conn, sid, "test"))
    with _statements() as seen, engine.connect() as conn:
        got = recent_runs(conn, ["s1", "s2", "s3"], 3)
    engine.dispose()
    assert {sid: [r["id"] for r in rows] for sid, rows in got.items()} == {
        "s1": ids["s1"][:-4:-1],
        "s2": ids["s2"][:-4:-1],
        "s3": [],
    }
    if db_url.startswith("sqlite"):
        selects = [sql for sql, _ in seen if sql.lstrip().startswith("SELECT")]
        assert len(selects) == 3 and _history_scans(db_url, seen) == []


def test_tracking_edits_and_withdrawals_never_scans_history(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    simple_board(site, n=4)
    declare(tmp_path / "src", "acq", site.base)
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    simple_board(site, n=4, fee="0.60%")  # notice 1 is edited
    site.routes["/notice/3.html"] = Route(b"<html><body>404</body></html>", status=404)
    with _statements() as seen:  # the second 404 in a row withdraws notice 3
        kinds = []
        for _ in range(2):
            res = run(["crawl", "--json"], sqlite_url, tmp_path / "src")
            assert res.exit_code == 0, res.output
            kinds += [k for o in json.loads(res.stdout) for k in o["changes"]]
    assert sorted(kinds) == ["edited", "withdrawn"]  # not vacuous
    assert _history_scans(sqlite_url, seen) == []
