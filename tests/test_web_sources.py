"""The sources page: health, "crawl now" in the background, the one-crawl-per-source rule."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from settlewatch.source import load_sources
from settlewatch.store.crawls import acquire_lease, sync_sources
from settlewatch.store.db import begin_write, open_store
from settlewatch.store.schema import crawl_runs, findings
from settlewatch.web import create_app
from settlewatch.web.state import WebState
from tests import webseed
from tests.httpfixture import FixtureServer
from tests.sitekit import declare, simple_board
from tests.webseed import login, post_form


def make_app(db: str, tmp_path: Path, sources: Path | None) -> Flask:
    return create_app(db, secret_key="k", sources_dir=sources, crawl_log_dir=tmp_path / "logs")


def flashes(client: object, path: str = "/sources") -> str:
    return client.get(path).get_data(as_text=True)  # type: ignore[attr-defined, no-any-return]


def test_crawl_now_runs_the_cli_crawl_in_the_background(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    simple_board(site)
    src = tmp_path / "src"
    declare(src, "acq", site.base)
    engine = open_store(sqlite_url)
    webseed.add_users(engine, alice="officer")
    app = make_app(sqlite_url, tmp_path, src)
    client = app.test_client()
    login(client, "alice")
    page = flashes(client)
    assert 'id="crawl-acq"' in page and "never crawled" in page

    resp = post_form(client, "/sources/acq/crawl", {})
    assert resp.status_code == 302
    page = flashes(client)
    assert "started in the background" in page
    assert '<meta http-equiv="refresh" content="3">' in page  # the page follows progress
    assert re.search(r'id="crawling-acq"', page)
    # a second click while it runs is refused with a clear message
    post_form(client, "/sources/acq/crawl", {})
    assert "Not started: a crawl of &#39;acq&#39; started by alice" in flashes(client)

    state: WebState = app.extensions["settlewatch"]
    state.launcher.wait(timeout=180)
    assert state.launcher.launches["acq"].exit_code == 0
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(findings)) == 3
        assert list(conn.scalars(select(crawl_runs.c.trigger))) == ["web"]
    page = flashes(client)
    assert "http-equiv" not in page  # nothing running: no more refreshing
    assert "● ok" in page and "acq: tracked, 4 pages" in page  # health and the crawl's log


def test_crawl_now_is_refused_while_another_crawl_holds_the_lease(
    sqlite_url: str, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    declare(src, "acq", "http://127.0.0.1:9")
    engine = open_store(sqlite_url)
    webseed.add_users(engine, alice="officer")
    with begin_write(engine) as conn:
        sync_sources(conn, load_sources(src).values())
    acquire_lease(engine, "acq", "scheduler-host:4242", 120)
    app = make_app(sqlite_url, tmp_path, src)
    client = app.test_client()
    login(client, "alice")
    page = flashes(client)
    assert "crawling · scheduler-host:4242" in page and "disabled" in page
    post_form(client, "/sources/acq/crawl", {})
    page = flashes(client)
    assert "already being crawled by scheduler-host:4242" in page
    assert app.extensions["settlewatch"].launcher.launches == {}
    assert post_form(client, "/sources/nope/crawl", {}).status_code == 404


def test_admin_adds_a_checked_source_declaration(sqlite_url: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    engine = open_store(sqlite_url)
    webseed.add_users(engine, root="admin", alice="officer")
    app = make_app(sqlite_url, tmp_path, src)
    officer = app.test_client()
    login(officer, "alice")
    assert officer.get("/sources/new").status_code == 403
    admin = app.test_client()
    login(admin, "root")
    bad = post_form(
        admin, "/sources/new", {"id": "acme", "yaml": "id: acme\nname: Acme\nbogus: 1\n"}
    )
    assert bad.status_code == 400
    assert "acme.yaml:" in bad.get_data(as_text=True) and "bogus" in bad.get_data(as_text=True)
    assert "/tmp" not in bad.get_data(as_text=True) and not (src / "acme.yaml").exists()
    good_yaml = (
        "id: acme\nname: Acme board\nauthority: acme\nkind: acquirer\nlistings:\n"
        "  - url: http://127.0.0.1:9/list.html\n    item: li\n    link: a\n"
    )
    resp = post_form(admin, "/sources/new", {"id": "acme", "yaml": good_yaml})
    assert resp.status_code == 302
    assert (src / "acme.yaml").read_text(encoding="utf-8") == good_yaml
    assert 'id="crawl-acme"' in flashes(admin)
    bundled = make_app(sqlite_url, tmp_path, None).test_client()
    login(bundled, "root")
    assert bundled.get("/sources/new").status_code == 409
