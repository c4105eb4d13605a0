"""Readable text from an lxml element: block elements become lines, cells are separated.

A space goes between two adjacent inline text runs that would otherwise glue digits together,
so that "4<span>月</span>3日"-style markup and "17:15<b>17:30</b>" stay readable.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urljoin

from lxml import html as lxml_html
from lxml.cssselect import LxmlHTMLTranslator
from lxml.etree import _Element

BLOCK = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "tr",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "blockquote",
        "pre",
        "dd",
        "dt",
        "dl",
        "hr",
        "tbody",
        "thead",
        "main",
        "center",
        "address",
        "figure",
        "figcaption",
    }
)
CELL = frozenset({"td", "th"})


def element_text(el: _Element) -> str:
    parts: list[str] = []

    def add(s: str | None) -> None:
        if not s:
            return
        if parts and parts[-1][-1:].isdigit() and s[:1].isdigit():
            parts.append(" ")
        parts.append(s)

    def walk(node: _Element) -> None:
        if not isinstance(node.tag, str):  # comments and processing instructions: not text
            return
        tag = node.tag
        if tag in BLOCK:
            parts.append("\n")
        elif tag in CELL:
            parts.append(" | ")
        add(node.text)
        for child in node:
            walk(child)
            add(child.tail)
        if tag in BLOCK:
            parts.append("\n")

    walk(el)
    return "".join(parts)


def parse_html(text: str, base_url: str | None = None) -> _Element:
    if not text.strip():
        text = "<html></html>"
    # lxml refuses str input that carries an XML encoding declaration.
    if text.lstrip().startswith("<?xml"):
        text = text.split("?>", 1)[-1]
    doc = lxml_html.document_fromstring(text, base_url=base_url)
    if base_url:
        absolute_hrefs(doc, base_url)
    return doc


def absolute_hrefs(doc: _Element, base_url: str) -> None:
    """Make every ``href`` in ``doc`` absolute, after its ``<base href>`` (which is removed).

    What ``make_links_absolute(base_url, resolve_base_href=True)`` does to ``href``
    attributes, the only links settlewatch reads, without rewriting every ``src``, ``style``
    and ``<meta refresh>`` link too: that took 0.3 ms of a 0.4 ms listing parse. An href
    that cannot be joined (``http://[``) stays as written instead of failing the page.
    """
    base_href = None
    for tag in [t for t in doc.iter("base") if t.get("href") is not None]:
        base_href = tag.get("href")  # the last one counts, as in lxml
        tag.drop_tree()
    for el in doc.xpath("//*[@href]"):
        href = el.get("href")
        link = href.strip()
        try:
            joined = urljoin(base_url, urljoin(base_href, link) if base_href else link)
        except ValueError:
            continue
        if joined != href:
            el.set("href", joined)


_CSS = LxmlHTMLTranslator()


@lru_cache(maxsize=1024)
def css_to_xpath(selector: str) -> str:
    """The XPath of a CSS selector, translated once; cssselect's SelectorError when it is not
    valid (source declarations are checked with it when they load)."""
    return str(_CSS.css_to_xpath(selector))


def select(el: _Element, selector: str) -> list[_Element]:
    """``el.cssselect(selector)``, with the CSS → XPath translation done once per selector:
    the one place CSS selectors are evaluated.

    lxml translates CSS to XPath on every cssselect() call; over the ~30 noise selectors and
    every listing entry that translation was the largest single cost of tracking. Only the
    string is cached: a compiled evaluator reused across documents gave wrong results (and a
    UnicodeDecodeError) once other libraries had used lxml's extension functions, such as
    the one behind :contains() (see bench/RESULTS.md).
    """
    return list(el.xpath(css_to_xpath(selector)))
