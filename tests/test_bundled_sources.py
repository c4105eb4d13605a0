"""Every bundled source declaration reads its frozen fixture pages the way it must read the site.

For each ``rules/sources/<source_id>.yaml`` there is ``tests/fixtures/pages/<source_id>/`` holding
the listing page(s) (or feed) and one or two notice pages, written in that site's shape (same CMS
markup, class names, date formats and encoding), plus ``expected.yaml``:

```yaml
today: 2026-10-20              # optional; the reference date for year-less dates
listings:
  - file: listing.html         # a listing page or feed.xml
    listing: 0                 # index into the declaration's listings (default 0)
    content_type: text/html; charset=utf-8   # optional: the header the server sends
    rendered: false            # true: the DOM after JavaScript ran (the source needs render_js)
    link_hosts: [www.example.cn]   # optional; default: the host of the listing URL
    entries: [{url: ..., title: ..., date: 2026-10-10}]
    next_pages: []
notices:
  - file: notice-1.html
    url: https://...           # must be one of the listing entries unless listed: false
    content_type: text/html; charset=utf-8
    title: ...
    published: 2026-10-10      # or null
    contains: [phrases the body must contain]
    excludes: [page furniture the body must not contain]
```

The listing is parsed with the declared listing URL as the page URL, exactly as the spider does
(decode with the declared encoding, then ``parse_listing``), so relative links must resolve to the
declared site. Nothing here touches the network.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from settlewatch.decode import decode_html
from settlewatch.extract import extract_notice
from settlewatch.listing import parse_listing
from settlewatch.models import ListingEntry, SourceDecl
from settlewatch.source import default_sources_dir, load_source

PAGES = Path(__file__).parent / "fixtures" / "pages"
SOURCE_IDS = sorted(p.stem for p in default_sources_dir().glob("*.yaml"))
DEFAULT_TODAY = dt.date(2026, 10, 20)


def _decl(source_id: str) -> SourceDecl:
    return load_source(default_sources_dir() / f"{source_id}.yaml")


def _expected(source_id: str) -> dict[str, Any]:
    data = yaml.safe_load((PAGES / source_id / "expected.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{source_id}/expected.yaml must be a mapping"
    return data


def _date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _today(expected: dict[str, Any]) -> dt.date:
    return _date(expected.get("today")) or DEFAULT_TODAY


def _parse(source_id: str, case: dict[str, Any], today: dt.date) -> tuple[ListingEntry, ...]:
    decl = _decl(source_id)
    rule = decl.listings[case.get("listing", 0)]
    body = (PAGES / source_id / case["file"]).read_bytes()
    text = decode_html(body, case.get("content_type"), decl.encoding)
    page = parse_listing(rule, rule.url, body, text, today)
    return page.entries


def _entries(source_id: str) -> dict[str, ListingEntry]:
    """Every entry the source's listing fixtures yield, by URL (as the spider would pass on)."""
    expected = _expected(source_id)
    found: dict[str, ListingEntry] = {}
    for case in expected["listings"]:
        for entry in _parse(source_id, case, _today(expected)):
            found.setdefault(entry.url, entry)
    return found


@pytest.mark.parametrize("source_id", SOURCE_IDS, ids=SOURCE_IDS)
def test_declaration_has_a_fixture_for_every_listing(source_id: str) -> None:
    decl = _decl(source_id)
    folder = PAGES / source_id
    assert folder.is_dir(), f"no fixture folder {folder}"
    expected = _expected(source_id)
    listings = expected.get("listings") or []
    notices = expected.get("notices") or []
    covered = {case.get("listing", 0) for case in listings}
    assert covered == set(range(len(decl.listings))), (
        f"listing fixtures cover {sorted(covered)}, declaration has {len(decl.listings)} listings"
    )
    assert notices, "at least one notice page per source"
    for case in (*listings, *notices):
        assert (folder / case["file"]).is_file(), f"missing fixture file {case['file']}"
    for case in listings:
        rule = decl.listings[case.get("listing", 0)]
        assert (rule.type == "feed") == case["file"].endswith(".xml"), case["file"]


@pytest.mark.parametrize("source_id", SOURCE_IDS, ids=SOURCE_IDS)
def test_listing_fixture_yields_the_expected_notices(source_id: str) -> None:
    decl = _decl(source_id)
    expected = _expected(source_id)
    for case in expected["listings"]:
        rule = decl.listings[case.get("listing", 0)]
        body = (PAGES / source_id / case["file"]).read_bytes()
        text = decode_html(body, case.get("content_type"), decl.encoding)
        page = parse_listing(rule, rule.url, body, text, _today(expected))
        got = [{"url": e.url, "title": e.title, "date": e.date} for e in page.entries]
        want = [
            {"url": e["url"], "title": e["title"], "date": _date(e.get("date"))}
            for e in case.get("entries") or []
        ]
        assert got == want, f"{case['file']}: entries differ"
        assert list(page.next_pages) == list(case.get("next_pages") or []), case["file"]
        hosts = set(case.get("link_hosts") or [urlsplit(rule.url).hostname])
        for entry in page.entries:
            assert urlsplit(entry.url).hostname in hosts, f"{entry.url} is off the declared site"


@pytest.mark.parametrize("source_id", SOURCE_IDS, ids=SOURCE_IDS)
def test_notice_fixture_extracts_title_date_and_clean_body(source_id: str) -> None:
    decl = _decl(source_id)
    expected = _expected(source_id)
    listed = _entries(source_id)
    for case in expected["notices"]:
        entry = listed.get(case["url"])
        if case.get("listed", True):
            assert entry is not None, f"{case['url']} is not on any listing fixture"
        body = (PAGES / source_id / case["file"]).read_bytes()
        got = extract_notice(
            decl.notice,
            case["url"],
            body,
            case.get("content_type"),
            decl.encoding,
            listing_title=entry.title if entry else None,
            listing_date=entry.date if entry else None,
        )
        assert got.title == case["title"], case["file"]
        assert got.published == _date(case.get("published")), case["file"]
        assert got.body.strip(), f"{case['file']}: empty body"
        for phrase in case.get("contains") or []:
            assert phrase in got.body, f"{case['file']}: body lacks {phrase!r}\n{got.body}"
        for phrase in case.get("excludes") or []:
            assert phrase not in got.body, f"{case['file']}: noise {phrase!r} in body\n{got.body}"
