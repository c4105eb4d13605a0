"""parse_html(text, base_url) makes hrefs absolute exactly as lxml's make_links_absolute would,
without rewriting the links settlewatch never reads (see htmltext.absolute_hrefs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html as lxml_html

from settlewatch.htmltext import parse_html

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".html", ".htm", ".shtml"))
assert len(PAGES) > 20, "the fixture pages moved"
URL = "https://www.example.gov.cn/zhengwu/tzgg/index.html"

EDGES = {
    "relative, root, dot and parent links": (
        '<a href="1.html">a</a><a href="/x/2.html">b</a><a href="./3.html">c</a>'
        '<a href="../4.html">d</a><a href="?page=2">e</a>'
    ),
    "whitespace, fragments and other schemes": (
        '<a href="  5.html  ">a</a><a href="#top">b</a><a href="6.html#p2">c</a>'
        '<a href="javascript:void(0)">d</a><a href="mailto:x@example.cn">e</a><a href="">f</a>'
    ),
    "an absolute base href": (
        '<head><base href="https://cdn.example.cn/files/"></head>'
        '<body><a href="7.pdf">a</a><a href="/8.pdf">b</a><link href="s.css"></body>'
    ),
    "a relative base href": '<head><base href="sub/dir/"></head><a href="9.html">a</a>',
    "two base tags, the last counts": (
        '<head><base href="https://a.example.cn/"><base href="https://b.example.cn/x/">'
        '</head><a href="10.html">a</a>'
    ),
    "hrefs on other elements": '<area href="map.html"><div href="odd.html">x</div>',
}


def _hrefs(doc: lxml_html.HtmlElement) -> list[tuple[str, str]]:
    return [(el.tag, el.get("href")) for el in doc.iter() if el.get("href") is not None]


def _lxml(text: str) -> list[tuple[str, str]]:
    doc = lxml_html.document_fromstring(text, base_url=URL)
    doc.make_links_absolute(URL, resolve_base_href=True)
    return _hrefs(doc)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(FIXTURES)) for p in PAGES])
def test_fixture_pages(page: Path) -> None:
    text = page.read_bytes().decode("utf-8", "replace")
    if text.lstrip().startswith("<?xml"):
        text = text.split("?>", 1)[-1]
    assert _hrefs(parse_html(text, URL)) == _lxml(text)


@pytest.mark.parametrize("text", EDGES.values(), ids=EDGES.keys())
def test_edge_cases(text: str) -> None:
    got = _hrefs(parse_html(text, URL))
    assert got == _lxml(text)
    assert all(tag != "base" for tag, _ in got)  # base tags are applied, then dropped


def test_an_href_that_cannot_be_joined_stays_as_written() -> None:
    text = '<a href="http://[bad">x</a><a href="ok.html">y</a>'
    with pytest.raises(ValueError):
        _lxml(text)  # lxml gives up on the whole page
    assert _hrefs(parse_html(text, URL)) == [
        ("a", "http://[bad"),
        ("a", "https://www.example.gov.cn/zhengwu/tzgg/ok.html"),
    ]
