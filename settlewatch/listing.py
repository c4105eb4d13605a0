"""Read a listing page (HTML list or RSS/Atom feed) into notice entries and next pages."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urldefrag

import feedparser
from lxml.etree import _Element

from settlewatch.htmltext import element_text, parse_html
from settlewatch.models import ListingEntry, ListingPage, ListingRule
from settlewatch.pubdate import parse_date


def _first(el: _Element, selector: str | None) -> _Element | None:
    if not selector:
        return None
    found = el.cssselect(selector)
    return found[0] if found else None


def _text(el: _Element | None) -> str:
    return " ".join(element_text(el).split()) if el is not None else ""


def _clean_url(url: str) -> str:
    return urldefrag(url.strip())[0]


def parse_html_listing(rule: ListingRule, url: str, text: str, today: dt.date) -> ListingPage:
    doc = parse_html(text, url)
    blocks = doc.cssselect(rule.item) if rule.item else [doc]
    pattern = re.compile(rule.link_pattern) if rule.link_pattern else None
    entries: dict[str, ListingEntry] = {}
    for block in blocks:
        links = block.cssselect(rule.link) if rule.item is None else [_first(block, rule.link)]
        for link in links:
            if link is None or not link.get("href"):
                continue
            href = _clean_url(link.get("href", ""))
            if not href.startswith(("http://", "https://")):
                continue
            if pattern and not pattern.search(href):
                continue
            title = _text(_first(block, rule.title)) if rule.title else ""
            title = title or link.get("title") or _text(link)
            date_text = _text(_first(block, rule.date)) if rule.date else ""
            entries.setdefault(href, ListingEntry(href, title, parse_date(date_text, today)))
    next_pages: tuple[str, ...] = ()
    if rule.next_page:
        nxt = _first(doc, rule.next_page)
        if nxt is not None and nxt.get("href"):
            next_pages = (_clean_url(nxt.get("href", "")),)
    return ListingPage(tuple(entries.values()), next_pages)


def parse_feed_listing(body: bytes, url: str) -> ListingPage:
    feed = feedparser.parse(body)
    entries: dict[str, ListingEntry] = {}
    for e in feed.entries:
        link = e.get("link")
        if not link:
            continue
        parsed = e.get("published_parsed") or e.get("updated_parsed")
        date = dt.date(*parsed[:3]) if parsed else None
        href = _clean_url(link)
        entries.setdefault(href, ListingEntry(href, " ".join(e.get("title", "").split()), date))
    return ListingPage(tuple(entries.values()), ())


def parse_listing(
    rule: ListingRule, url: str, body: bytes, text: str, today: dt.date
) -> ListingPage:
    """Entries and next-page URLs on one listing page, in page order, without duplicates."""
    if rule.type == "feed":
        return parse_feed_listing(body, url)
    return parse_html_listing(rule, url, text, today)
