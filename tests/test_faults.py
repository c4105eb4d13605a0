"""Every way a site can fail is recorded as source health, never as a change."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.httpfixture import FixtureServer, Route
from tests.sitekit import changes, declare, health, listing_html, notice_html, run, simple_board

CHALLENGE = (
    "<html><head><title>安全验证</title><script>var wzwschallenge='a1b2c3';"
    "document.cookie='wzwsconfirm=1';location.reload();</script></head><body></body></html>"
)

FAULTS: dict[str, tuple[Any, str]] = {
    "timeout": (Route(b"<html></html>", delay=3.0), "failing"),
    "connection-refused": ("refused", "failing"),
    "http-500": (Route(b"<html><body>Internal error</body></html>", status=500), "failing"),
    "http-503": (Route(b"<html><body>Unavailable</body></html>", status=503), "failing"),
    "http-403": (Route(b"<html><body>Forbidden</body></html>", status=403), "blocked"),
    "http-429": (Route(b"<html><body>Slow down</body></html>", status=429), "blocked"),
    "challenge-200": (Route(CHALLENGE.encode()), "blocked"),
    "busy-200": (
        Route(
            "<html><head><title>提示</title></head><body><p>系统繁忙，请稍后再试"
            "</p></body></html>".encode()
        ),
        "broken",
    ),
    "redirect-loop": (Route(redirect="/list/index.html"), "failing"),
    "truncated-body": (
        Route(b"<html><body><ul class='list'>" + b"x" * 5000, truncate=True),
        "failing",
    ),
    "30MB-page": (Route(b"<html><body>" + b"<p>0</p>" * (30 * 1024 * 1024 // 8)), "failing"),
    "selector-matches-nothing": (
        Route(
            b"<html><body><div class='v2'>"
            + "<p>栏目改版</p>".encode() * 300
            + b"</div></body></html>"
        ),
        "broken",
    ),
}


@pytest.mark.parametrize("fault,expected", FAULTS.values(), ids=FAULTS.keys())
def test_listing_fault_is_health_not_change(
    site: FixtureServer, sqlite_url: str, tmp_path: Path, fault: Any, expected: str
) -> None:
    simple_board(site)
    src = tmp_path / "src"
    declare(src, "acq", site.base)
    env = {"SETTLEWATCH_DOWNLOAD_TIMEOUT": "1", "SETTLEWATCH_MAX_RESPONSE_BYTES": str(10 << 20)}
    assert run(["crawl"], sqlite_url, src, **env).exit_code == 0
    before = changes(sqlite_url)
    if fault == "refused":
        declare(src, "acq", "http://127.0.0.1:9")
    else:
        site.routes["/list/index.html"] = fault
    res = run(["crawl", "--json"], sqlite_url, src, **env)
    assert res.exit_code == 0, res.output
    h = health(sqlite_url)["acq"]
    assert h["health"] == expected, h
    assert h["reason"]
    assert h["last_success"] is not None  # the earlier success is kept
    assert changes(sqlite_url) == before  # no change, and in particular no "withdrawn"
    # the next good crawl clears the state
    if fault == "refused":
        declare(src, "acq", site.base)
    simple_board(site)
    assert run(["crawl"], sqlite_url, src, **env).exit_code == 0
    assert health(sqlite_url)["acq"]["health"] == "ok"
    assert changes(sqlite_url) == before


def test_one_failing_notice_page_changes_nothing(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    simple_board(site, n=4)
    declare(tmp_path / "src", "acq", site.base)
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    before = changes(sqlite_url)
    site.routes["/notice/2.html"] = Route(b"<html><body>oops</body></html>", status=500)
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    assert changes(sqlite_url) == before
    assert health(sqlite_url)["acq"]["health"] == "ok"


def test_notice_moving_to_page_two_is_not_a_change(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    items = [(f"/n/{i}.html", f"公告{i}", f"2026-11-{10 + i}") for i in range(1, 5)]
    for href, title, date in items:
        site.html(href, notice_html(title, date, f"<p>{title}的正文，结算安排不变。</p>"))
    site.html("/list/index.html", listing_html(items[:3], next_href="/list/index_1.html"))
    site.html("/list/index_1.html", listing_html(items[3:]))
    declare(tmp_path / "src", "acq", site.base)
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    assert len(changes(sqlite_url)) == 4
    # a new notice pushes the oldest one onto page 2
    site.html("/n/5.html", notice_html("公告5", "2026-11-20", "<p>公告5的正文，新增内容。</p>"))
    newest = [("/n/5.html", "公告5", "2026-11-20"), *items]
    site.html("/list/index.html", listing_html(newest[:3], next_href="/list/index_1.html"))
    site.html("/list/index_1.html", listing_html(newest[3:]))
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    after = changes(sqlite_url)
    assert [c["title"] for c in after[4:]] == ["公告5"]
    assert {c["kind"] for c in after} == {"new"}


def test_robots_txt_is_honoured(site: FixtureServer, sqlite_url: str, tmp_path: Path) -> None:
    simple_board(site)
    site.routes["/robots.txt"] = Route(
        b"User-agent: *\nDisallow: /notice/2.html\n", headers={"Content-Type": "text/plain"}
    )
    declare(tmp_path / "src", "acq", site.base)
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    assert not any(p == "/notice/2.html" for p, _ in site.requests)
    assert len(changes(sqlite_url)) == 2
    ua = next(h for p, h in site.requests if p == "/list/index.html").get("User-Agent", "")
    assert ua.startswith("settlewatch/")


def test_transient_errors_are_retried_with_backoff(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    simple_board(site)
    page = site.routes["/list/index.html"]
    calls: list[float] = []

    def flaky(_handler: Any) -> Route:
        import time

        calls.append(time.monotonic())
        if len(calls) <= 2:
            return Route(b"<html><body>busy</body></html>", status=503)
        assert isinstance(page, Route)
        return page

    site.routes["/list/index.html"] = flaky
    declare(tmp_path / "src", "acq", site.base)
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    assert len(calls) == 3
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert gaps[0] >= 0.4 and gaps[1] >= 0.8  # 0.5 s, then 1 s
    assert health(sqlite_url)["acq"]["health"] == "ok"
    assert len(changes(sqlite_url)) == 3


@pytest.mark.parametrize(
    "retry_after,calls_expected", [("1", 3), ("120", 1)], ids=["short-wait", "beyond-cap"]
)
def test_retry_after_is_honoured_up_to_what_a_crawl_waits(
    site: FixtureServer, sqlite_url: str, tmp_path: Path, retry_after: str, calls_expected: int
) -> None:
    """Retry-After: 1 is waited for (twice); Retry-After: 120 is beyond RETRY_BACKOFF_MAX
    (30 s), so the crawl gives up at once and records the source as failing."""
    import time

    simple_board(site)
    calls: list[float] = []

    def busy(_handler: Any) -> Route:
        calls.append(time.monotonic())
        headers = {"Content-Type": "text/html", "Retry-After": retry_after}
        return Route(b"<html><body>busy</body></html>", status=503, headers=headers)

    site.routes["/list/index.html"] = busy
    declare(tmp_path / "src", "acq", site.base)
    started = time.monotonic()
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    assert len(calls) == calls_expected
    if calls_expected == 3:
        gaps = [b - a for a, b in itertools.pairwise(calls)]
        assert min(gaps) >= 0.9  # the server's 1 s, not the 0.5 s backoff
    else:
        assert time.monotonic() - started < 20  # not 2 × 30 s
    assert health(sqlite_url)["acq"]["health"] == "failing"
    assert changes(sqlite_url) == []
