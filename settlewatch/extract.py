"""Snapshot → Extracted: title, publish date and body text of a notice, noise removed."""

from __future__ import annotations

import datetime as dt
import re
from types import ModuleType

from lxml import html as lxml_html
from lxml.etree import _Element

from settlewatch import noise
from settlewatch.decode import decode_html
from settlewatch.htmltext import element_text, parse_html, select
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


_DATE_LINE = re.compile(r"(发布|时间|日期|published|date)", re.IGNORECASE)


def guess_published(body: str) -> dt.date | None:
    """A date the page's header states (发布日期：…), else the signature date at the end."""
    lines = body.splitlines()
    for line in lines[:6]:
        if len(line) <= 60 and _DATE_LINE.search(line):
            found = parse_date(line)
            if found:
                return found
    for line in reversed(lines[-3:]):
        if len(line) <= 20:
            found = parse_date(line)
            if found:
                return found
    return None


def _trafilatura() -> ModuleType:
    """trafilatura, with its justext stop-word list as a frozenset instead of a tuple.

    trafilatura hands justext the stop words of every language (~150,000) as a tuple, and
    justext looks that argument up in an lru_cache on every page, hashing the whole tuple:
    ~3 ms a page, a third of zero-config extraction. A frozenset holds the same words and
    keeps its hash, so the lookup is free and the extracted text is the same.
    """
    import trafilatura
    from trafilatura import external

    if not isinstance(external.JT_STOPLIST, frozenset):
        external.JT_STOPLIST = frozenset(external.jt_stoplist_init())  # type: ignore[assignment]
    return trafilatura


def main_content(html_text: str, url: str) -> str:
    """The main text of a page by trafilatura's boilerplate removal (zero-config sources)."""
    trafilatura = _trafilatura()
    found = trafilatura.extract(
        html_text,
        url=url,
        include_tables=True,
        include_comments=False,
        favor_recall=True,
        deduplicate=False,
    )
    return found or ""


# The default noise selectors as one selector group: one XPath union, one pass over the page
# (they are plain tag, class and id selectors, so the order of removal does not matter).
NOISE_GROUP = ", ".join(noise.NOISE_SELECTORS)


def _remove(el: _Element) -> None:
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


def _drop(doc: _Element, selectors: tuple[str, ...]) -> None:
    for sel in selectors:
        for el in select(doc, sel):
            _remove(el)


def _drop_noise_lines(doc: _Element) -> None:
    """Remove elements whose whole text is a view counter or a render clock.

    The line filters catch these in element_text()'s lines, but trafilatura can return a whole
    article as one line, where a line-anchored filter no longer sees them: remove them first.
    """
    doomed = []
    for text in doc.xpath("//body//text()"):
        el = text.getparent()
        if not text.is_text or el is None or el.tag in ("html", "body") or len(text) > 80:
            continue
        if noise.is_noise_line(el.text_content()):
            doomed.append(el)
    for el in doomed:
        _remove(el)


def _select_text(doc: _Element, selector: str | None) -> str:
    if not selector:
        return ""
    found = select(doc, selector)
    return "\n".join(element_text(el) for el in found)


def _main_element(doc: _Element, selector: str | None) -> _Element | None:
    for sel in (selector,) if selector else _MAIN_GUESSES:
        found = select(doc, sel)
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
    doc = parse_html(text)  # no base URL: the text needs no absolute links (0.15 ms a page)
    title = " ".join(_select_text(doc, rule.title).split())
    date_text = _select_text(doc, rule.date)
    _drop(doc, (NOISE_GROUP, *rule.remove))
    _drop_noise_lines(doc)
    body = ""
    if rule.body is None:
        cleaned = lxml_html.tostring(doc, encoding="unicode")
        body = noise.apply(main_content(cleaned, url), rule.filters)
    if not body:
        main = _main_element(doc, rule.body)
        body = noise.apply(element_text(main), rule.filters) if main is not None else ""
    if not title:
        h1 = select(doc, "h1")
        title = " ".join(element_text(h1[0]).split()) if h1 else ""
    if not title:
        head_title = doc.findtext(".//title") or ""
        title = " ".join(head_title.split()) or (listing_title or "")
    published = parse_date(date_text, listing_date) if date_text else None
    if published is None and not rule.date:
        published = guess_published(body)
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
