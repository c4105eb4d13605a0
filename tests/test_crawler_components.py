"""The Scrapy components settlewatch swaps in for speed do what the stock ones did."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.settings.default_settings import LOG_VERSIONS
from scrapy.utils.test import get_crawler

from crawler.logformat import QuietLogFormatter, log_level
from crawler.middlewares import BodyMetaRefreshMiddleware
from crawler.process import build_settings
from tests.httpfixture import FixtureServer, Route
from tests.sitekit import changes, declare, listing_html, notice_html, run

REFRESH = (
    b'<html><head><meta http-equiv="refresh" content="0;url=/notice/moved.html"></head></html>'
)


URL = "http://127.0.0.1/notice/1.html"


def _response(body: bytes, status: int = 200) -> HtmlResponse:
    return HtmlResponse(URL, status=status, body=body, request=Request(URL))


@pytest.mark.parametrize("level,shown", [("WARNING", False), ("INFO", False), ("DEBUG", True)])
def test_page_lines_are_built_only_when_the_level_shows_them(level: str, shown: bool) -> None:
    crawler = get_crawler(settings_dict={"LOG_LEVEL": level})
    fmt = QuietLogFormatter.from_crawler(crawler)
    response = _response(b"<html></html>")
    crawled = fmt.crawled(Request(URL), response, crawler.spider)  # type: ignore[arg-type]
    scraped = fmt.scraped({"url": response.url}, response, crawler.spider)  # type: ignore[arg-type]
    assert (crawled is not None, scraped is not None) == (shown, shown)
    if shown:
        assert crawled is not None and "Crawled" in crawled["msg"]
    # the lines Scrapy shows at WARNING and above stay whatever the level
    assert fmt.item_error({}, Exception("x"), response, crawler.spider) is not None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value,level", [("info", 20), ("WARNING", 30), (10, 10), ("40", 40), ("loud", 10)]
)
def test_log_level_reads_names_and_numbers_and_hides_nothing_it_cannot_read(
    value: object, level: int
) -> None:
    assert log_level(value) == level


def test_meta_refresh_is_followed_and_bodyless_responses_are_passed_through() -> None:
    mw = BodyMetaRefreshMiddleware.from_crawler(get_crawler())
    redirected = mw.process_response(Request(URL), _response(REFRESH))
    assert isinstance(redirected, Request)
    assert redirected.url == "http://127.0.0.1/notice/moved.html"
    not_modified = _response(b"", status=304)
    assert mw.process_response(Request(URL), not_modified) is not_modified


def test_settings_use_the_quiet_components(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SETTLEWATCH_LOG_LEVEL", raising=False)
    s = build_settings("sqlite://")
    mws = s.getwithbase("DOWNLOADER_MIDDLEWARES")
    assert mws["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    assert mws["crawler.middlewares.BodyMetaRefreshMiddleware"] == 580
    assert mws["scrapy.downloadermiddlewares.stats.DownloaderStats"] is None
    assert s.get("LOG_FORMATTER") == "crawler.logformat.QuietLogFormatter"
    assert s.getlist("LOG_VERSIONS") == []
    monkeypatch.setenv("SETTLEWATCH_LOG_LEVEL", "INFO")  # the versions are logged: look them up
    assert build_settings("sqlite://").getlist("LOG_VERSIONS") == LOG_VERSIONS


def test_a_crawl_follows_a_meta_refresh_and_rereads_unchanged_pages_as_304(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    site.html("/list/index.html", listing_html([("/notice/1.html", "维护公告", "2026-11-20")]))
    site.routes["/notice/1.html"] = Route(REFRESH)
    body = notice_html("关于系统维护的公告", "2026-11-20", "<p>12月1日凌晨D0暂停。</p>")
    site.routes["/notice/moved.html"] = Route(body.encode(), etag='"m1"')
    declare(tmp_path / "src", "acq", site.base)
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    assert [c["title"] for c in changes(sqlite_url)] == ["关于系统维护的公告"]
    site.requests.clear()
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    assert len(changes(sqlite_url)) == 1
    moved = [h for p, h in site.requests if p == "/notice/moved.html"]
    assert [h.get("If-None-Match") for h in moved] == ['"m1"']  # answered 304
