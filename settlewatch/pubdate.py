"""Publish dates as listings and notice headers write them.

Absolute forms (2026-11-20, 2026/11/20, 2026年11月20日, 二〇二六年十一月二十日, 20 Nov 2026,
November 20, 2026), dates without a year (11-20, 11月20日: the year comes from the reference
date, rolling back when that would put the date in the future) and relative forms (今天, 昨天,
3天前, 2 days ago). Returns None when the text states no date: fetch time is never a date.
"""

from __future__ import annotations

import datetime as dt
import re

_CN_DIGITS = {
    "〇": 0,
    "零": 0,
    "○": 0,
    "Ｏ": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def _cn_number(s: str) -> str:
    """二〇二六 → 2026, 二十三 → 23, 十一 → 11."""
    if "十" not in s:
        return "".join(str(_CN_DIGITS.get(c, c)) for c in s)
    tens, _, units = s.partition("十")
    return str((_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(units, 0)))


_CN_NUM_RUN = re.compile(r"[〇零○一二两三四五六七八九十]+(?=[年月日号])")


def cn_numerals_to_digits(text: str) -> str:
    return _CN_NUM_RUN.sub(lambda m: _cn_number(m.group()), text)


_MONTH_NAMES: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# English month names and abbreviations as notices write them (one table for every reader).
MONTHS = {name: i for i, name in enumerate(_MONTH_NAMES, start=1)}
MONTHS.update({name[:3]: i for name, i in list(MONTHS.items())})
MONTHS["Sept"] = 9
_MONTHS = {name.lower(): i for name, i in MONTHS.items()}
_MON = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"

_FULL = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})"
)
_DMY_EN = re.compile(r"(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+" + _MON + r",?\s+(?P<y>\d{4})", re.I)
_MDY_EN = re.compile(_MON + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})", re.I)
_MD = re.compile(r"(?<!\d)(?P<m>\d{1,2})\s*(?:-|/|月)\s*(?P<d>\d{1,2})(?:日|号)?(?!\d)")
_AGO = re.compile(r"(?P<n>\d+)\s*(?:天前|days?\s+ago)", re.I)
_HOURS_AGO = re.compile(r"\d+\s*(?:小时前|分钟前|hours?\s+ago|minutes?\s+ago)", re.I)


def _make(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def parse_date(text: str | None, ref: dt.date | None = None) -> dt.date | None:
    """The first date ``text`` states, or None. ``ref`` resolves years and relative forms."""
    if not text:
        return None
    text = cn_numerals_to_digits(text.strip())
    m = _FULL.search(text)
    if m:
        return _make(int(m["y"]), int(m["m"]), int(m["d"]))
    for pat in (_DMY_EN, _MDY_EN):
        m = pat.search(text)
        if m:
            return _make(int(m["y"]), _MONTHS[m["mon"].lower()], int(m["d"]))
    if ref is None:
        return None
    lowered = text.lower()
    if "今天" in text or "今日" in text or "today" in lowered or _HOURS_AGO.search(text):
        return ref
    if "昨天" in text or "yesterday" in lowered:
        return ref - dt.timedelta(days=1)
    if "前天" in text:
        return ref - dt.timedelta(days=2)
    m = _AGO.search(text)
    if m:
        return ref - dt.timedelta(days=int(m["n"]))
    m = _MD.search(text)
    if m:
        date = _make(ref.year, int(m["m"]), int(m["d"]))
        if date and date > ref + dt.timedelta(days=1):
            date = _make(ref.year - 1, int(m["m"]), int(m["d"]))
        return date
    return None
