"""The regexes that find date and time mentions (atoms), the normalisation they run on, and
the Mention they become. dates_reader.py places atoms on the calendar; dates_roles.py says
what the words around a mention make of it; dates.py puts them together.

Text is folded first (``settlewatch.textnorm.fold``, re-exported here for older callers), so
every pattern is written once, in Simplified Chinese or English, with ASCII digits.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from settlewatch.pubdate import MONTHS, cn_numerals_to_digits
from settlewatch.textnorm import fold

# ---- date and time atoms -------------------------------------------------------------------
_MON = "|".join(sorted(MONTHS, key=len, reverse=True))

AFTERNOON = frozenset({"下午", "傍晚", "晚上", "晚间", "夜间", "夜里", "晚"})
_AP = "凌晨|早上|早晨|清晨|上午|中午|午间|下午|傍晚|晚上|晚间|夜间|夜里|晚"
# Relative days count from the publish date, never from the clock.
RELATIVE_DAYS = dict.fromkeys(("今天", "今日", "今晨", "today"), 0)
RELATIVE_DAYS |= dict.fromkeys(("昨天", "昨日", "昨晚", "yesterday"), -1)
RELATIVE_DAYS |= {"前天": -2, "明天": 1, "明日": 1}


def _time(p: str) -> str:
    """A time of day; group names carry the prefix ``p`` (a date's time or a lone time)."""
    return (
        rf"(?:北京时间\s*)?(?:(?P<{p}ap>{_AP})\s*)?(?<![\d.])(?:"
        rf"(?P<{p}h>\d{{1,2}})\s*(?::\s*(?P<{p}m>\d{{2}})|[时点](?:\s*(?P<{p}m2>\d{{1,2}})\s*分"
        rf"|(?P<{p}half>半))?)(?:\s*(?P<{p}pm>[ap]\.?m\b\.?))?"
        rf"|(?P<{p}h2>\d{{1,2}})\s*(?P<{p}pm2>[ap]\.?m\b\.?))"
    )


_DATE = (
    r"(?:(?<![\d.])(?:(?P<y1>\d{4})\s*年\s*)?(?P<m1>\d{1,2})\s*月\s*(?P<d1>\d{1,2})\s*[日号]"
    r"|(?<![\d.])(?P<y2>(?:19|20)\d{2})[-/.](?P<m2>\d{1,2})[-/.](?P<d2>\d{1,2})(?!\d)(?:\s*日)?"
    rf"|\b(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon3>{_MON})\b\.?(?:,?\s+(?P<y3>\d{{4}}))?"
    rf"|\b(?P<mon4>{_MON})\.?\s+(?P<d4>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y4>\d{{4}}))?"
    r"|(?P<rel>今天|今日|今晨|昨天|昨日|昨晚|前天|明天|明日|\b[Tt]oday\b|\b[Yy]esterday\b))"
    # "(周六)", "星期六", or "(星期六,调休工作日)": the weekday and a short note go with the date
    r"(?:\s*\(\s*(?:周|星期|礼拜)[一二三四五六日天七][^()\n]{0,12}?\)|\s*(?:周|星期|礼拜)[一二三四五六日天七])?"
)
# The leading look-ahead names every character an atom can start with: without it the leading
# look-behinds stop re from skipping ahead, and scanning costs four times as much.
ATOM = re.compile(
    r"(?=[0-9今昨前明TtYyJFMASOND凌早清上中午下傍晚夜北])"
    rf"(?:(?P<date>{_DATE}(?:\s*{_time('t')})?)"
    rf"|(?P<time>{_time('u')})"
    r"|(?P<day>(?<![\d年月./+-])(?P<dd>\d{1,2})\s*[日号])"
    r"|(?<!\d)(?P<year>(?:19|20)\d{2})\s*年"
    # "24 to 26 December", "25 and 26 December": a bare day that borrows the next one's month
    rf"|\b(?P<enday>\d{{1,2}})(?:st|nd|rd|th)?(?=\s*(?:-|~|to|and|until|through)\s*"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MON})\b))"
)
RANGE_SEP = re.compile(
    r"\s*(?:至|到|-|~|to|until|till|through|(?P<and>and))\s*"
    r"(?P<next>次日|第二天|the\s+next\s+day)?\s*$",
    re.I,
)
# "and" joins a range only after "between": "on 26 March and 29 March" lists two days.
EN_BETWEEN = re.compile(r"\bbetween\s+(?:the\s+)?$", re.I)
EN_ON = re.compile(r"\s*(?:\(?[A-Z]{2,4}\)?|local time|Beijing time)?\s*,?\s*on\s+", re.I)
# "14 March 2027, from 01:00 to 03:30", "…between 01:00 and…", or just "14 March 2027, 01:00 to…"
EN_FROM = re.compile(r"\s*,?\s*(?:(?:from|between)\s+)?", re.I)
LIST_SEP = re.compile(r"\s*[、,]\s*$")
LIST_TAIL_START = re.compile(r"\s*开始\s*,?\s*$")
LIST_TAIL_END = re.compile(r"\s*前?\s*结束")
BOUNDARY = re.compile(r"[。;\n!?]")

# Damaged extraction drops 月 when it sat in its own <span>: "43日" is 4月3日, "1229日" is
# 12月29日 (taxonomy.md §3.1 item 5). Only runs that cannot be a day (over 31, or 3-4 digits)
# are repaired, and only into a month next to the publish month.
LOST_MONTH = re.compile(r"(?<![\d年月./:+-])(\d{2,4})(?=\s*日(?!\s*(?:内|以内|之内|后|以后)))")
CN_TIME_NUM = re.compile(
    r"(?<=[日午晨晚上间里至到-])([〇零一二两三四五六七八九十]+)([时点])"
    r"(?:([〇零一二两三四五六七八九十]+)分)?"
)


# ---- helpers over the atoms -----------------------------------------------------------------
def normalise(text: str, published: dt.date | None, *, folded: bool = False) -> str:
    """Fold, turn Chinese numerals into digits and repair "43日" (lost 月) near publication."""
    text = cn_numerals_to_digits(text if folded else fold(text))
    text = CN_TIME_NUM.sub(lambda m: _cn(m[1]) + m[2] + (_cn(m[3]) + "分" if m[3] else ""), text)
    if published is None:
        return text
    month0 = published.month

    def repair(m: re.Match[str]) -> str:
        s, best = m[1], None
        if len(s) == 2 and int(s) <= 31:
            return s
        for cut in {2: (1,), 3: (1, 2), 4: (2,)}[len(s)]:
            month, day = int(s[:cut]), int(s[cut:])
            gap = min((month - month0) % 12, (month0 - month) % 12)
            if 1 <= month <= 12 and 1 <= day <= 31 and gap <= 1 and (best is None or gap < best[0]):
                best = (gap, f"{month}月{day}")
        return best[1] if best else s

    return LOST_MONTH.sub(repair, text)


def list_tail(text: str, gap: str, b: re.Match[str]) -> dt.time | None:
    """The end time of a shared window after a list of dates: "…12月13日00:00开始,08:00前结束"."""
    if b["time"] and LIST_TAIL_START.fullmatch(gap) and LIST_TAIL_END.match(text, b.end()):
        t = atom_time(b, "u")
        return t[0] if t else None
    return None


def _cn(run: str) -> str:
    return cn_numerals_to_digits(run + "日")[:-1]


def clock(
    hour: str | None, minute: str | None, ap: str | None, pm: str | None, half: bool = False
) -> tuple[dt.time, int] | None:
    """A time of day and a day carry (24:00 is the next day's 00:00); None if impossible."""
    if hour is None:
        return None
    h, m = int(hour), int(minute) if minute else (30 if half else 0)
    pm = (pm or "").lower()
    if (ap in AFTERNOON or pm.startswith("p")) and h < 12:
        h += 12
    elif (ap == "凌晨" or pm.startswith("a")) and h == 12:
        h = 0
    elif ap == "中午" and h < 11:
        h += 12
    if h == 24 and m == 0:
        return dt.time(0, 0), 1
    return (dt.time(h, m), 0) if h < 24 and m < 60 else None


def atom_time(m: re.Match[str], p: str, ap: str | None = None) -> tuple[dt.time, int] | None:
    """The time in atom ``m`` (group prefix ``p``); ``ap`` is 凌晨/晚… inherited from a start."""
    g = m.groupdict()
    if g[p + "h2"]:
        return clock(g[p + "h2"], None, g[p + "ap"] or ap, g[p + "pm2"])
    return clock(
        g[p + "h"], g[p + "m"] or g[p + "m2"], g[p + "ap"] or ap, g[p + "pm"], bool(g[p + "half"])
    )


# ---- mentions and the roles of dates ---------------------------------------------------------
@dataclass(frozen=True)
class Mention:
    """One date, date-time or range found in the normalised text."""

    start: dt.date
    start_time: dt.time | None
    end: dt.date | None
    end_time: dt.time | None
    pos: int
    endpos: int
    year_inferred: bool = False
    inferred: bool = False

    def start_key(self) -> dt.datetime:
        return dt.datetime.combine(self.start, self.start_time or dt.time(0, 0))

    def end_key(self) -> dt.datetime:
        return dt.datetime.combine(self.end or self.start, self.end_time or dt.time(23, 59))


def make_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None
