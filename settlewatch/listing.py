"""Read a listing page (HTML list or RSS/Atom feed) into notice entries and next pages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urldefrag, urljoin

from lxml.etree import _Element

from settlewatch.autolist import detect_listing_in
from settlewatch.htmltext import element_text, parse_html, select
from settlewatch.models import ListingEntry, ListingPage, ListingRule
from settlewatch.pubdate import parse_date


def _first(el: _Element, selector: str | None) -> _Element | None:
    if not selector:
        return None
    found = select(el, selector)
    return found[0] if found else None


def _text(el: _Element | None) -> str:
    return " ".join(element_text(el).split()) if el is not None else ""


def _clean_url(url: str, base: str = "") -> str:
    return urldefrag(urljoin(base, url.strip()))[0]


def _is_http(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _html_entries(
    rule: ListingRule, url: str, doc: _Element, today: dt.date
) -> Iterator[ListingEntry]:
    """The entries of an HTML listing in page order, found lazily (duplicates included)."""
    blocks = select(doc, rule.item) if rule.item else [doc]
    pattern = re.compile(rule.link_pattern) if rule.link_pattern else None
    for block in blocks:
        link_sel = rule.link or "a"
        links = select(block, link_sel) if rule.item is None else [_first(block, link_sel)]
        for link in links:
            if link is None or not link.get("href"):
                continue
            href = _clean_url(link.get("href", ""), url)
            if not _is_http(href):
                continue
            if pattern and not pattern.search(href):
                continue
            title = _text(_first(block, rule.title)) if rule.title else ""
            title = title or link.get("title") or _text(link)
            date_text = _text(_first(block, rule.date)) if rule.date else ""
            yield ListingEntry(href, title, parse_date(date_text, today))


def _next_pages(rule: ListingRule, url: str, doc: _Element) -> tuple[str, ...]:
    if not rule.next_page:
        return ()
    nxt = _first(doc, rule.next_page)
    href = _clean_url(nxt.get("href", ""), url) if nxt is not None else ""
    return (href,) if _is_http(href) and href != _clean_url(url) else ()


def _resolved(rule: ListingRule, url: str, doc: _Element, today: dt.date) -> ListingRule | None:
    """The rule to apply: a zero-config rule becomes the list found on the page (None: none)."""
    if not rule.auto:
        return rule
    detected = detect_listing_in(doc, url, today)
    if detected is None:
        return None
    return dataclasses.replace(
        detected,
        next_page=rule.next_page,
        max_pages=rule.max_pages,
        link_pattern=rule.link_pattern,
    )


def parse_html_listing(rule: ListingRule, url: str, text: str, today: dt.date) -> ListingPage:
    doc = parse_html(text, url)
    resolved = _resolved(rule, url, doc, today)
    if resolved is None:
        return ListingPage((), ())
    entries: dict[str, ListingEntry] = {}
    for entry in _html_entries(resolved, url, doc, today):
        entries.setdefault(entry.url, entry)
    return ListingPage(tuple(entries.values()), _next_pages(resolved, url, doc))


def _feed_date(entry: Any) -> dt.date | None:
    """The date as the publisher wrote it (feedparser's *_parsed fields are shifted to UTC)."""
    raw = entry.get("published") or entry.get("updated") or ""
    if raw:
        try:
            return email.utils.parsedate_to_datetime(raw).date()
        except (TypeError, ValueError):
            pass
        try:
            return dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
        except ValueError:
            pass
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return dt.date(*parsed[:3]) if parsed else None


def parse_feed_listing(rule: ListingRule, body: bytes, url: str) -> ListingPage:
    import feedparser  # here: HTML listings (and the crawler's start) do without it

    feed = feedparser.parse(body)
    pattern = re.compile(rule.link_pattern) if rule.link_pattern else None
    entries: dict[str, ListingEntry] = {}
    for e in feed.entries:
        href = _clean_url(e.get("link") or "", url)
        if not _is_http(href) or (pattern and not pattern.search(href)):
            continue
        entries.setdefault(
            href, ListingEntry(href, " ".join(e.get("title", "").split()), _feed_date(e))
        )
    return ListingPage(tuple(entries.values()), ())


def parse_listing(
    rule: ListingRule, url: str, body: bytes, text: str, today: dt.date
) -> ListingPage:
    """Entries and next-page URLs on one listing page, in page order, without duplicates."""
    if rule.type == "feed":
        return parse_feed_listing(rule, body, url)
    return parse_html_listing(rule, url, text, today)


def listing_matches(rule: ListingRule, url: str, body: bytes, text: str, today: dt.date) -> bool:
    """Whether the listing page has at least one entry: ``parse_listing(...).entries`` is not
    empty, found without reading past the first entry (source health asks this of every
    listing a crawl fetched)."""
    if rule.type == "feed":
        return bool(parse_feed_listing(rule, body, url).entries)
    doc = parse_html(text, url)
    resolved = _resolved(rule, url, doc, today)
    return resolved is not None and next(_html_entries(resolved, url, doc, today), None) is not None
