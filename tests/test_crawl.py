"""Crawl a real HTTP server on 127.0.0.1 and track what changed (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, func, select

from settlewatch.store.db import normalise_url
from settlewatch.store.schema import outbox, snapshots, versions
from tests.httpfixture import FixtureServer, Route
from tests.sitekit import changes, declare, health, listing_html, notice_html, run, simple_board


def operator_alerts(db: str) -> list[tuple[str, str]]:
    engine = create_engine(normalise_url(db))
    with engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.recipient, outbox.c.subject)
            .where(outbox.c.kind == "operator")
            .order_by(outbox.c.id)
        )
        out = [(r.recipient, r.subject) for r in rows]
    engine.dispose()
    return out


def count(db: str, table: object) -> int:
    engine = create_engine(normalise_url(db))
    with engine.connect() as conn:
        n = conn.scalar(select(func.count()).select_from(table))  # type: ignore[arg-type]
    engine.dispose()
    return int(n or 0)


def test_first_crawl_is_baseline_then_edit_is_caught(
    site: FixtureServer, db_url: str, tmp_path: Path
) -> None:
    simple_board(site)
    declare(tmp_path / "src", "acq", site.base)
    res = run(["crawl"], db_url, tmp_path / "src")
    assert res.exit_code == 0, res.output
    first = changes(db_url)
    assert [c["kind"] for c in first] == ["new"] * 3
    assert all(c["baseline"] for c in first)
    assert {c["category"] for c in first} >= {"fee_change", "maint_planned"}
    assert health(db_url)["acq"]["health"] == "ok"

    # Noise only: clocks, counters and tokens differ; nothing meaningful changed.
    simple_board(site, noise=7)
    assert run(["crawl"], db_url, tmp_path / "src").exit_code == 0
    assert len(changes(db_url)) == 3

    # One digit in a fee is a real edit.
    simple_board(site, noise=8, fee="0.39%")
    assert run(["crawl"], db_url, tmp_path / "src").exit_code == 0
    after = changes(db_url)
    edited = [c for c in after if c["kind"] == "edited"]
    assert len(edited) == 1
    assert edited[0]["url"].endswith("/notice/1.html")
    assert not edited[0]["baseline"]
    assert count(db_url, versions) == 4


def test_gbk_board_is_decoded(site: FixtureServer, sqlite_url: str, tmp_path: Path) -> None:
    simple_board(site, charset="gbk")
    declare(tmp_path / "src", "gbk", site.base)
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    titles = sorted(c["title"] for c in changes(sqlite_url))
    assert titles[0] == "关于系统维护的公告2"
    assert any("手续费率" in t for t in titles)


def test_pagination_and_feed(site: FixtureServer, sqlite_url: str, tmp_path: Path) -> None:
    site.html("/n/a.html", notice_html("公告甲", "2026-11-01", "<p>甲的正文内容。</p>"))
    site.html("/n/b.html", notice_html("公告乙", "2026-11-02", "<p>乙的正文内容。</p>"))
    site.html(
        "/list/index.html",
        listing_html([("/n/a.html", "公告甲", "2026-11-01")], next_href="/list/index_1.html"),
    )
    site.html("/list/index_1.html", listing_html([("/n/b.html", "公告乙", "2026-11-02")]))
    declare(tmp_path / "src", "paged", site.base)
    site.routes["/feed.xml"] = Route(
        (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
            f"<item><title>公告丙</title><link>{site.base}/n/c.html</link>"
            f"<pubDate>Mon, 02 Nov 2026 08:00:00 +0800</pubDate></item></channel></rss>"
        ).encode(),
        headers={"Content-Type": "application/rss+xml"},
    )
    site.html("/n/c.html", notice_html("公告丙", "2026-11-02", "<p>丙的正文内容。</p>"))
    declare(tmp_path / "src", "feedy", site.base, listing="/feed.xml", feed=True)
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    assert sorted(c["title"] for c in changes(sqlite_url)) == ["公告丙", "公告乙", "公告甲"]


def test_unchanged_recrawl_uses_conditional_requests(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    simple_board(site)
    for path, route in list(site.routes.items()):
        if isinstance(route, Route) and path.endswith(".html"):
            route.etag = f'"{abs(hash(route.body))}"'
    declare(tmp_path / "src", "acq", site.base)
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    snaps_before = count(sqlite_url, snapshots)
    site.requests.clear()
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    html_requests = [h for p, h in site.requests if p.endswith(".html")]
    assert html_requests and all("If-None-Match" in h for h in html_requests)
    assert count(sqlite_url, versions) == 3
    assert count(sqlite_url, snapshots) == 2 * snaps_before  # every fetch is kept
    assert len(changes(sqlite_url)) == 3


def test_notice_withdrawn_only_after_two_404s(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    simple_board(site)
    declare(tmp_path / "src", "acq", site.base)
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    site.routes["/notice/2.html"] = Route(b"<html><body>Not Found</body></html>", status=404)
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    assert not [c for c in changes(sqlite_url) if c["kind"] == "withdrawn"]
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    withdrawn = [c for c in changes(sqlite_url) if c["kind"] == "withdrawn"]
    assert [c["url"].rsplit("/", 1)[1] for c in withdrawn] == ["2.html"]


def test_unreachable_source_is_health_not_error(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    simple_board(site)
    declare(tmp_path / "src", "good", site.base)
    declare(tmp_path / "src", "down", "http://127.0.0.1:9")  # discard port: refused
    env = {"SETTLEWATCH_DOWNLOAD_TIMEOUT": "3", "SETTLEWATCH_OPERATOR_EMAIL": "ops@example.com"}
    res = run(["crawl", "--json"], sqlite_url, tmp_path / "src", **env)
    assert res.exit_code == 0, res.output
    h = health(sqlite_url)
    assert h["down"]["health"] == "failing"
    assert h["good"]["health"] == "ok"
    assert {c["source"] for c in changes(sqlite_url)} == {"good"}
    # one operator alert for the transition, none for the healthy source, none on a repeat
    assert run(["crawl"], sqlite_url, tmp_path / "src", **env).exit_code == 0
    alerts = operator_alerts(sqlite_url)
    assert len(alerts) == 1 and alerts[0][0] == "ops@example.com"
    assert "down" in alerts[0][1] and "failing" in alerts[0][1]


def test_soft_error_and_broken_listing_make_no_change(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    simple_board(site)
    declare(tmp_path / "src", "acq", site.base)
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    site.html("/list/index.html", "<html><body><p>系统繁忙，请稍后再试</p></body></html>")
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    assert health(sqlite_url)["acq"]["health"] == "broken"
    # the layout changes: the selector matches nothing
    site.html(
        "/list/index.html",
        "<html><body><div class='new-layout'>" + "<p>内容</p>" * 200 + "</div></body></html>",
    )
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    h = health(sqlite_url)["acq"]
    assert h["health"] == "broken" and "matched nothing" in h["reason"]
    assert [c["kind"] for c in changes(sqlite_url)] == ["new"] * 3
