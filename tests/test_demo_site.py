"""The demo site over real HTTP: encodings, the week switch, the 503 board, and the bundled
declarations reading exactly the notices the site serves, with page noise filtered out."""

from __future__ import annotations

import datetime as dt
import difflib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from settlewatch.decode import decode_html
from settlewatch.demo.dates import md, next_holiday
from settlewatch.demo.notices import SOURCE_IDS, notices, week2_changes
from settlewatch.demo.site import DemoSite, write_demo_sources
from settlewatch.extract import extract_notice
from settlewatch.listing import parse_listing
from settlewatch.models import Extracted, SourceDecl
from settlewatch.source import load_source

TODAY = dt.date(2026, 11, 27)


@pytest.fixture
def site() -> Iterator[DemoSite]:
    with DemoSite(TODAY, seed=7) as running:
        yield running


@pytest.fixture
def decls(site: DemoSite, tmp_path: Path) -> dict[str, SourceDecl]:
    return {p.stem: load_source(p) for p in write_demo_sources(tmp_path, site.base_url)}


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


def crawl(decl: SourceDecl, today: dt.date = TODAY) -> dict[str, Extracted]:
    """What a crawl of ``decl`` reads: notice title -> extracted notice, in listing order."""
    found: dict[str, Extracted] = {}
    for rule in decl.listings:
        url: str | None = rule.url
        for _ in range(rule.max_pages):
            if url is None:
                break
            status, ctype, body = get(url)
            assert status == 200, url
            page = parse_listing(rule, url, body, decode_html(body, ctype, decl.encoding), today)
            for e in page.entries:
                status, ctype, raw = get(e.url)
                assert status == 200, e.url
                found[e.title] = extract_notice(
                    decl.notice, e.url, raw, ctype, decl.encoding, e.title, e.date
                )
                assert found[e.title].published == e.date
            url = page.next_pages[0] if page.next_pages else None
    return found


def test_robots_allows_everything(site: DemoSite) -> None:
    status, ctype, body = get(site.base_url + "/robots.txt")
    assert (status, ctype.split(";")[0]) == (200, "text/plain")
    assert body.decode() == "User-agent: *\nAllow: /\n"


def test_ums_is_served_as_gbk(site: DemoSite) -> None:
    status, ctype, body = get(site.base_url + "/ums/xwzx/gsgg/index.shtml")
    assert status == 200
    assert ctype == "text/html; charset=GBK"
    assert b'<meta charset="gbk">' in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    holiday = notices("demo_ums", 1, TODAY)[0].title
    assert holiday.encode("gbk") in body


def test_pages_carry_fresh_noise_on_every_request(site: DemoSite) -> None:
    url = site.base_url + "/pbc/list.html"
    first, second = get(url)[2], get(url)[2]
    assert first != second
    assert b'class="banner"' in first and "当前时间：".encode() in first


def test_404_for_unknown_and_future_pages(site: DemoSite) -> None:
    assert get(site.base_url + "/nope.html")[0] == 404
    assert get(site.base_url + "/pbc/list_9.html")[0] == 404


def test_week_switch_and_lakala_503(site: DemoSite) -> None:
    lakala = site.base_url + "/lakala/notice/list.html"
    assert get(lakala)[0] == 200
    site.week = 2
    status, _, body = get(lakala)
    assert status == 503
    assert "系统繁忙".encode() in body
    detail = notices("demo_lakala", 2, TODAY)[0].slug
    assert get(f"{site.base_url}/lakala/notice/{detail}.html")[0] == 503
    assert get(site.base_url + "/ums/xwzx/gsgg/index.shtml")[0] == 200
    site.week = 1
    assert get(lakala)[0] == 200
    with pytest.raises(ValueError):
        site.week = 3


def test_declarations_are_written_for_the_running_site(site: DemoSite, tmp_path: Path) -> None:
    paths = write_demo_sources(tmp_path, site.base_url + "/")
    assert sorted(p.name for p in paths) == sorted(f"{s}.yaml" for s in SOURCE_IDS)
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert "{base}" not in text
        assert f"{site.base_url}/" in text and f"{site.base_url}//" not in text
        assert load_source(path).id == path.stem


@pytest.mark.parametrize("source_id", SOURCE_IDS)
def test_declarations_extract_every_notice_without_noise(
    site: DemoSite, decls: dict[str, SourceDecl], source_id: str
) -> None:
    read = crawl(decls[source_id])
    expected = notices(source_id, 1, TODAY)
    assert list(read) == [n.title for n in expected]  # pagination followed, order kept
    for n in expected:
        got = read[n.title]
        assert (got.title, got.published) == (n.title, n.published)
        assert n.paragraphs[-1] in got.body
        for noise in ("浏览次数", "当前时间", "阅读量", "扫码关注", "访问量", "版权所有", "首页"):
            assert noise not in got.body, (n.title, noise)


def test_holiday_table_dates_survive_split_spans(
    site: DemoSite, decls: dict[str, SourceDecl]
) -> None:
    read = crawl(decls["demo_ums"])
    h = next_holiday(TODAY)
    body = read[notices("demo_ums", 1, TODAY)[0].title].body
    assert f"| {md(h.first)}至{md(h.last)} | {md(h.last + dt.timedelta(days=1))}" in body


def test_week2_has_exactly_the_announced_changes(
    site: DemoSite, decls: dict[str, SourceDecl]
) -> None:
    week1 = {s: crawl(decls[s]) for s in SOURCE_IDS}
    site.week = 2
    week2 = {s: crawl(decls[s]) for s in SOURCE_IDS if s != "demo_lakala"}
    changes = week2_changes(TODAY)

    new = {s: set(week2[s]) - set(week1[s]) for s in week2}
    assert new == {
        "demo_pbc": set(),
        "demo_ums": {changes.new_maintenance},
        "demo_unionpay": {changes.new_fee},
    }
    assert all(set(week1[s]) <= set(week2[s]) for s in week2)  # nothing disappears

    edited = {
        (s, t)
        for s in week2
        for t in week1[s]
        if week1[s][t].normalised() != week2[s][t].normalised()
    }
    assert edited == {("demo_ums", changes.edited_holiday)}  # noise alone changed nothing else

    before = week1["demo_ums"][changes.edited_holiday].body.splitlines()
    after = week2["demo_ums"][changes.edited_holiday].body.splitlines()
    removed = [line[1:] for line in difflib.ndiff(before, after) if line.startswith("- ")]
    added = [line[1:] for line in difflib.ndiff(before, after) if line.startswith("+ ")]
    assert [
        r.replace(md(changes.payout_before), md(changes.payout_after)) for r in removed
    ] == added
    assert changes.payout_after - changes.payout_before == dt.timedelta(days=1)

    maint = week2["demo_ums"][changes.new_maintenance]
    day = changes.maintenance_day
    assert changes.new_maintenance == f"关于{md(day)}系统升级暂停D0实时到账服务的公告"
    assert f"{day.year}年{md(day)}" in maint.body and "凌晨2:00至6:00" in maint.body
    assert maint.published == TODAY
    fee = week2["demo_unionpay"][changes.new_fee]
    eff = changes.fee_effective
    assert f"自{eff.year}年{eff.month}月{eff.day}日起执行" in fee.body
    assert "0.38%调整为0.45%" in fee.body


@pytest.mark.parametrize(
    "today",
    [
        dt.date(2026, 1, 3),
        dt.date(2026, 9, 20),
        dt.date(2026, 10, 3),
        dt.date(2027, 12, 31),
        dt.date(2035, 12, 1),
        dt.date(2045, 3, 1),
    ],
)
def test_dates_stay_realistic_on_any_day(today: dt.date) -> None:
    h = next_holiday(today)
    assert h.name in ("国庆节", "春节")
    assert today + dt.timedelta(days=5) <= h.first <= today + dt.timedelta(days=300)
    for source_id in SOURCE_IDS:
        items = notices(source_id, 2, today)
        dates = [n.published for n in items]
        assert dates == sorted(dates, reverse=True)  # listings are newest first
        assert all(d <= today for d in dates)
        assert any(today - d <= dt.timedelta(days=30) for d in dates)
    old = [
        n
        for s in SOURCE_IDS
        for n in notices(s, 1, today)
        if today - n.published > dt.timedelta(days=90)
    ]
    assert len(old) >= 3  # history for the baseline to set aside
    assert week2_changes(today).maintenance_day == today + dt.timedelta(days=4)
