"""Zero-config listings: find the repeated link-plus-date blocks on a notice board page.

A notice list is a run of sibling elements of one shape (li, tr, div.item …), each holding a
link and, usually, a date. The best run wins; its selectors become an ordinary ListingRule,
so `settlewatch sources add` can write them into a declaration.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from lxml.etree import _Element

from settlewatch.htmltext import element_text, parse_html
from settlewatch.models import ListingRule
from settlewatch.pubdate import parse_date

MIN_ITEMS = 3


@dataclass(frozen=True)
class Candidate:
    item: str
    date: str | None
    items: int
    dated: int

    @property
    def score(self) -> float:
        return self.items + 2 * self.dated


def _shape(el: _Element) -> str:
    classes = sorted((el.get("class") or "").split())
    return el.tag + "".join(f".{c}" for c in classes[:2])


def css_path(el: _Element) -> str:
    """A short CSS path: stop at the nearest ancestor with an id."""
    parts: list[str] = []
    node: _Element | None = el
    while node is not None and isinstance(node.tag, str) and node.tag not in ("html", "body"):
        if node.get("id"):
            parts.append(f"{node.tag}#{node.get('id')}")
            break
        parts.append(_shape(node))
        node = node.getparent()
    return " > ".join(reversed(parts)) or "body"


def _date_selector(member: _Element, today: dt.date) -> str | None:
    for el in member.iter():
        if not isinstance(el.tag, str) or el.tag == "a" or el is member:
            continue
        text = " ".join(element_text(el).split())
        if text and len(text) <= 30 and parse_date(text, today):
            return _shape(el)
    return None


def _links(member: _Element) -> list[_Element]:
    return [
        a
        for a in member.iter("a")
        if (a.get("href") or "").startswith(("http://", "https://"))
        and len(" ".join(element_text(a).split())) >= 4
    ]


def candidates(doc: _Element, today: dt.date) -> list[Candidate]:
    found: list[Candidate] = []
    for parent in doc.iter():
        if not isinstance(parent.tag, str) or parent.tag in ("nav", "header", "footer"):
            continue
        groups: dict[str, list[_Element]] = defaultdict(list)
        for child in parent:
            if isinstance(child.tag, str):
                groups[_shape(child)].append(child)
        for shape, members in groups.items():
            linked = [m for m in members if 1 <= len(_links(m)) <= 3]
            if len(linked) < MIN_ITEMS:
                continue
            date_sels = [_date_selector(m, today) for m in linked]
            dated = sum(1 for d in date_sels if d)
            best_sel = max(set(date_sels) - {None}, key=date_sels.count, default=None)
            found.append(Candidate(f"{css_path(parent)} > {shape}", best_sel, len(linked), dated))
    return sorted(found, key=lambda c: c.score, reverse=True)


def detect_listing(url: str, html_text: str, today: dt.date) -> ListingRule | None:
    """The ListingRule for the page's notice list, or None when there is no list."""
    return detect_listing_in(parse_html(html_text, url), url, today)


def detect_listing_in(doc: _Element, url: str, today: dt.date) -> ListingRule | None:
    """``detect_listing`` on a page already parsed (``parse_html(text, url)``); reads it only."""
    found = candidates(doc, today)
    if not found:
        return None
    best = found[0]
    return ListingRule(url=url, item=best.item, link="a", date=best.date)
