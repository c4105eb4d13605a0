"""listing_matches(): the source-health question "does this listing have an entry?", answered
without reading the whole page, and always as parse_listing() would answer it."""

from __future__ import annotations

import datetime as dt

import pytest

from settlewatch.listing import listing_matches, parse_listing
from settlewatch.models import ListingRule

URL = "https://bank.example.cn/notices/index.html"
TODAY = dt.date(2026, 11, 27)


def _page(*items: str) -> str:
    rows = "".join(
        f'<li class="row">{item}<span class="d">2026-11-0{i % 9 + 1}</span></li>'
        for i, item in enumerate(items)
    )
    return f"<html><body><ul class='list'>{rows}</ul><a class='next' href='p2.html'>下一页</a></body></html>"


ITEM = ListingRule(URL, item="li.row", link="a", date="span.d", next_page="a.next")
PATTERN = ListingRule(URL, item="li.row", link="a", link_pattern=r"/notices/\d+\.html$")
NO_ITEM = ListingRule(URL, link="ul.list a")
FEED = ListingRule("https://regulator.example.eu/feed.xml", type="feed")
AUTO = ListingRule(URL)

CASES = [
    (
        "entries",
        ITEM,
        _page('<a href="1.html">关于调整结算周期的公告</a>', '<a href="2.html">b</a>'),
    ),
    (
        "no blocks",
        ITEM,
        "<html><body><div class='new-layout'><a href='1.html'>x</a></div></body></html>",
    ),
    (
        "first blocks have no usable link",
        ITEM,
        _page("<a>no href</a>", '<a href="javascript:void(0)">js</a>', '<a href="3.html">ok</a>'),
    ),
    (
        "no block has a usable link",
        ITEM,
        _page("<a>no href</a>", '<a href="mailto:x@example.cn">mail</a>', "<span>text</span>"),
    ),
    (
        "the pattern skips the first links",
        PATTERN,
        _page('<a href="/about.html">about</a>', '<a href="/notices/42.html">notice</a>'),
    ),
    ("the pattern matches nothing", PATTERN, _page('<a href="/about.html">about</a>')),
    ("links without item blocks", NO_ITEM, _page('<a href="7.html">seven</a>')),
    ("an empty page", ITEM, ""),
    (
        "a base href",
        ITEM,
        "<html><head><base href='https://cdn.example.cn/x/'></head><body>"
        "<li class='row'><a href='1.html'>one</a></li></body></html>",
    ),
    (
        "zero-config, a dated list",
        AUTO,
        _page(*(f'<a href="{n}.html">关于第{n}号公告的通知</a>' for n in range(6))),
    ),
    ("zero-config, nothing like a list", AUTO, "<html><body><p>系统维护中</p></body></html>"),
]


@pytest.mark.parametrize(("rule", "text"), [(r, t) for _, r, t in CASES], ids=[c[0] for c in CASES])
def test_listing_matches_agrees_with_a_full_parse(rule: ListingRule, text: str) -> None:
    body = text.encode()
    page = parse_listing(rule, rule.url, body, text, TODAY)
    assert listing_matches(rule, rule.url, body, text, TODAY) == bool(page.entries)


def test_the_cases_cover_both_answers() -> None:
    answers = {
        listing_matches(rule, rule.url, text.encode(), text, TODAY) for _, rule, text in CASES
    }
    assert answers == {True, False}


FEED_BODY = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>Notice on settlement</title><link>https://regulator.example.eu/n/1</link>
<pubDate>Tue, 24 Nov 2026 09:00:00 +0000</pubDate></item></channel></rss>"""
EMPTY_FEED = (
    b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>"""
)


@pytest.mark.parametrize(("body", "want"), [(FEED_BODY, True), (EMPTY_FEED, False)])
def test_feed_listings(body: bytes, want: bool) -> None:
    text = body.decode()
    assert listing_matches(FEED, FEED.url, body, text, TODAY) is want
    assert bool(parse_listing(FEED, FEED.url, body, text, TODAY).entries) is want
