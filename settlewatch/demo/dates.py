"""Dates as the demo notices write them, and the next 国庆 or 春节 break after a given day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

DAY = dt.timedelta(days=1)
_WEEKDAYS = "一二三四五六日"

# Day of the Spring Festival (正月初一); later years fall back to 1 February. The demo's 春节
# break runs from the eve to day six: close to the real schedules, and this is fiction anyway.
# fmt: off
_SPRING_FESTIVAL = {
    2025: (1, 29), 2026: (2, 17), 2027: (2, 6), 2028: (1, 26), 2029: (2, 13), 2030: (2, 3),
    2031: (1, 23), 2032: (2, 11), 2033: (1, 31), 2034: (2, 19), 2035: (2, 8), 2036: (1, 28),
    2037: (2, 15), 2038: (2, 4), 2039: (1, 24), 2040: (2, 12),
}
# fmt: on


@dataclass(frozen=True)
class Holiday:
    name: str  # 国庆节 | 春节
    year: int
    first: dt.date
    last: dt.date


def md(d: dt.date) -> str:
    return f"{d.month}月{d.day}日"


def ymd(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def weekday(d: dt.date) -> str:
    return "星期" + _WEEKDAYS[d.weekday()]


def first_of_month_after(d: dt.date) -> dt.date:
    return dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)


def next_holiday(today: dt.date) -> Holiday:
    """The next 国庆 or 春节 break that starts at least five days after ``today``."""
    candidates = []
    for year in (today.year, today.year + 1):
        candidates.append(Holiday("国庆节", year, dt.date(year, 10, 1), dt.date(year, 10, 7)))
        day = dt.date(year, *_SPRING_FESTIVAL.get(year, (2, 1)))
        candidates.append(Holiday("春节", year, day - DAY, day + 6 * DAY))
    upcoming = [h for h in candidates if h.first >= today + 5 * DAY]
    return min(upcoming, key=lambda h: h.first)
