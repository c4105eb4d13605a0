"""Snapshot → Extracted: title, publish date and body text of a notice, noise removed."""

from __future__ import annotations

import datetime as dt

from lxml.etree import _Element

from settlewatch import noise
from settlewatch.decode import decode_html
from settlewatch.htmltext import element_text, parse_html
from settlewatch.models import Extracted, NoticeRule
from settlewatch.pubdate import parse_date

_MAIN_GUESSES = (
    "article",
    "main",
    "#content",
    ".content",
    "#main",
    ".main",
    ".article",
    ".TRS_Editor",
    "#zoom",
    ".detail",
    "body",
)


def _drop(doc: _Element, selectors: tuple[str, ...]) -> None:
    for sel in selectors:
        for el in doc.cssselect(sel):
            parent = el.getparent()
            if parent is not None:
                # keep the tail text, which belongs to the parent
                if el.tail:
                    prev = el.getprevious()
                    if prev is not None:
                        prev.tail = (prev.tail or "") + el.tail
                    else:
                        parent.text = (parent.text or "") + el.tail
                parent.remove(el)


def _select_text(doc: _Element, selector: str | None) -> str:
    if not selector:
        return ""
    found = doc.cssselect(selector)
    return "\n".join(element_text(el) for el in found)


def _main_element(doc: _Element, selector: str | None) -> _Element | None:
    for sel in (selector,) if selector else _MAIN_GUESSES:
        found = doc.cssselect(sel)
        if found:
            return found[0]
    return None


def extract_text(
    rule: NoticeRule,
    url: str,
    text: str,
    listing_title: str | None = None,
    listing_date: dt.date | None = None,
) -> Extracted:
    doc = parse_html(text, url)
    title = " ".join(_select_text(doc, rule.title).split())
    date_text = _select_text(doc, rule.date)
    _drop(doc, (*noise.NOISE_SELECTORS, *rule.remove))
    main = _main_element(doc, rule.body)
    body = noise.apply(element_text(main), rule.filters) if main is not None else ""
    if not title:
        h1 = doc.cssselect("h1")
        title = " ".join(element_text(h1[0]).split()) if h1 else ""
    if not title:
        head_title = doc.findtext(".//title") or ""
        title = " ".join(head_title.split()) or (listing_title or "")
    published = parse_date(date_text, listing_date) if date_text else None
    return Extracted(title=title, published=published or listing_date, body=body)


def extract_notice(
    rule: NoticeRule,
    url: str,
    body: bytes,
    content_type: str | None,
    forced_encoding: str | None = None,
    listing_title: str | None = None,
    listing_date: dt.date | None = None,
) -> Extracted:
    text = decode_html(body, content_type, forced_encoding)
    return extract_text(rule, url, text, listing_title, listing_date)
