"""Encodings as sites really send them, and listing dates as sites really write them."""

from __future__ import annotations

import datetime as dt

import pytest

from settlewatch.decode import decode_html
from settlewatch.pubdate import parse_date

TEXT = "关于2027年春节期间资金结算安排的公告：镕𠀀"  # 镕 and 𠀀 exist only in GB18030


@pytest.mark.parametrize(
    "body,content_type,forced",
    [
        (f'<meta charset="gbk"><p>{TEXT[:-2]}</p>'.encode("gbk"), "text/html; charset=gbk", None),
        (f"<p>{TEXT[:-2]}</p>".encode("gb2312"), "text/html; charset=GB2312", None),
        (f'<meta charset="gb18030"><p>{TEXT}</p>'.encode("gb18030"), None, None),
        # mislabelled: the header says UTF-8, the bytes are GBK
        (f"<p>{TEXT[:-2]}</p>".encode("gbk"), "text/html; charset=utf-8", None),
        # no label at all
        (f"<p>{TEXT[:-2]}</p>".encode("gbk"), None, None),
        # a forced encoding in the declaration wins over a wrong <meta>
        (f'<meta charset="utf-8"><p>{TEXT[:-2]}</p>'.encode("gbk"), None, "gbk"),
        (f"<p>{TEXT}</p>".encode(), "text/html; charset=utf-8", None),
    ],
    ids=[
        "gbk",
        "gb2312",
        "gb18030-meta",
        "utf8-label-gbk-bytes",
        "unlabelled-gbk",
        "forced",
        "utf8",
    ],
)
def test_decoding(body: bytes, content_type: str | None, forced: str | None) -> None:
    text = decode_html(body, content_type, forced)
    assert "关于2027年春节期间资金结算安排的公告" in text
    assert "\ufffd" not in text


REF = dt.date(2026, 11, 27)
DATES = {
    "2026-11-20": dt.date(2026, 11, 20),
    "2026/11/20": dt.date(2026, 11, 20),
    "2026.11.20": dt.date(2026, 11, 20),
    "时间:2026-11-20": dt.date(2026, 11, 20),
    "2026年11月20日": dt.date(2026, 11, 20),
    "二〇二六年十一月二十日": dt.date(2026, 11, 20),
    "[11-20]": dt.date(2026, 11, 20),
    "11月20日": dt.date(2026, 11, 20),
    "12-30": dt.date(2025, 12, 30),  # no year, and later than today: last year
    "今天": REF,
    "昨天": dt.date(2026, 11, 26),
    "3天前": dt.date(2026, 11, 24),
    "5小时前": REF,
    "2 days ago": dt.date(2026, 11, 25),
    "20 Nov 2026": dt.date(2026, 11, 20),
    "November 20, 2026": dt.date(2026, 11, 20),
    "浏览次数": None,
    "": None,
}


@pytest.mark.parametrize("text,expected", DATES.items(), ids=list(DATES))
def test_listing_dates(text: str, expected: dt.date | None) -> None:
    assert parse_date(text, REF) == expected


def test_no_reference_means_no_guess() -> None:
    assert parse_date("3天前", None) is None
    assert parse_date("11-20", None) is None
