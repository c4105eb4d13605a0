"""Zero-config sources, `sources add` and `sources check` against a local board."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from settlewatch.source import load_source
from tests.httpfixture import FixtureServer
from tests.sitekit import changes, listing_html, notice_html, run

ITEMS = [
    (f"/news/{i}.html", f"关于调整商户结算时间的公告之{i}", f"2026-11-{10 + i}")
    for i in range(1, 6)
]


def board(site: FixtureServer) -> None:
    page = (
        listing_html(ITEMS)
        .replace('class="row"', 'class="news-item"')
        .replace('<ul class="list">', '<div id="main"><ul class="news">')
        .replace(
            "</ul>",
            "</ul></div><ul class='links'><li><a href='/about'>关于我们</a>"
            "</li><li><a href='/contact'>联系我们</a></li></ul>",
        )
    )
    site.html("/board/", page)
    for href, title, date in ITEMS:
        site.html(
            href,
            notice_html(
                title, date, f"<p>{title}：自2026年12月1日起，D0结算到账时间调整为次日。</p>"
            ),
        )


def test_sources_add_writes_a_working_declaration(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    board(site)
    src = tmp_path / "src"
    res = run(["sources", "add", f"{site.base}/board/", "--id", "newboard"], sqlite_url, src)
    assert res.exit_code == 0, res.output
    assert "5 notices found" in res.stdout and "关于调整商户结算时间的公告之3" in res.stdout
    decl = load_source(src / "newboard.yaml")
    assert decl.listings[0].item and decl.listings[0].date
    assert run(["crawl"], sqlite_url, src).exit_code == 0
    got = changes(sqlite_url)
    assert sorted(c["title"] for c in got) == sorted(t for _, t, _ in ITEMS)
    assert all(c["published"] for c in got)


def test_url_only_declaration_finds_list_and_bodies(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    board(site)
    src = tmp_path / "src"
    src.mkdir()
    (src / "bare.yaml").write_text(
        f"id: bare\nname: Bare\nauthority: bare\nkind: acquirer\n"
        f"listings:\n  - url: {site.base}/board/\n",
        encoding="utf-8",
    )
    assert run(["crawl"], sqlite_url, src).exit_code == 0
    got = changes(sqlite_url)
    assert len(got) == 5
    assert {c["category"] for c in got} <= {"settlement_cycle", "maint_planned", "regulation_new"}


def test_sources_add_refuses_a_page_without_a_list(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    site.html("/plain", "<html><body><p>" + "普通页面。" * 100 + "</p></body></html>")
    res = run(
        ["sources", "add", f"{site.base}/plain", "--id", "plain"], sqlite_url, tmp_path / "src"
    )
    assert res.exit_code == 2
    assert "nothing was written" in res.stderr
    assert not (tmp_path / "src" / "plain.yaml").exists()
    res = run(["sources", "add", "ftp://example.com/x"], sqlite_url, tmp_path / "src")
    assert res.exit_code == 2 and "not an http(s) URL" in res.stderr


def test_sources_check_reports_each_source(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    board(site)
    src = tmp_path / "src"
    assert (
        run(["sources", "add", f"{site.base}/board/", "--id", "up"], sqlite_url, src).exit_code == 0
    )
    (src / "down.yaml").write_text(
        "id: down\nname: Down\nauthority: down\nkind: regulator\n"
        "listings:\n  - url: http://127.0.0.1:9/list/\n",
        encoding="utf-8",
    )
    res = run(["sources", "check", "--json"], sqlite_url, src, SETTLEWATCH_DOWNLOAD_TIMEOUT="3")
    assert res.exit_code == 1
    rows = {r["id"]: r for r in json.loads(res.stdout)}
    assert rows["up"]["state"] == "ok" and rows["up"]["reason"] == "5 notices"
    assert rows["down"]["state"] == "unreachable" and "Connection refused" in rows["down"]["reason"]
    text = run(["sources", "check"], sqlite_url, src, SETTLEWATCH_DOWNLOAD_TIMEOUT="3")
    assert "1 of 2 listing(s) not ok; 1 unreachable" in text.stderr


def test_main_content_keeps_trafilaturas_text_with_a_hashed_stoplist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """main_content() swaps trafilatura's stop-word tuple for a frozenset (hashing the tuple
    cost ~3 ms a page); the text must be exactly what stock trafilatura extracts."""
    import trafilatura
    from trafilatura import external

    from settlewatch.extract import main_content

    calls: list[int] = []
    original = external.try_justext

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(external, "try_justext", counting)
    pages = [
        notice_html(title, date, f"<p>尊敬的商户：{title}，自2026年12月1日起D0结算调整。</p>")
        for _, title, date in ITEMS
    ]
    monkeypatch.setattr(external, "JT_STOPLIST", None)  # stock: the tuple, built on first use
    stock = [
        trafilatura.extract(
            page,
            url="http://127.0.0.1/n.html",
            include_tables=True,
            include_comments=False,
            favor_recall=True,
            deduplicate=False,
        )
        for page in pages
    ]
    assert isinstance(external.JT_STOPLIST, tuple)
    ours = [main_content(page, "http://127.0.0.1/n.html") for page in pages]
    assert isinstance(external.JT_STOPLIST, frozenset)
    assert len(calls) == 2 * len(pages), "the pages must go through trafilatura's justext rescue"
    assert ours == stock and all("D0结算" in text for text in ours)
