"""Date mentions: every date, date-time and range a normalised notice text states.

A mention is placed on the calendar here, with its year: stated, carried from a year stated
earlier in the same sentence, or inferred from the publish date (and marked so). What a
mention means (effective, deadline, window, payout) is dates.py's business.
"""

from __future__ import annotations

import datetime as dt
import re

from settlewatch import dates_patterns as P
from settlewatch import dates_roles as R
from settlewatch.dates_patterns import Mention

# A year-less date is read as the first candidate year no more than this many days before
# publication: notices mostly announce what is coming, and news reports what just happened.
_LOOKBACK = dt.timedelta(days=45)


class _Reader:
    """Turns the atoms of one normalised text into Mentions, keeping the year context."""

    def __init__(self, text: str, published: dt.date | None) -> None:
        self.text, self.published = text, published
        self.last_year: tuple[int, int] | None = None  # last stated year and where it ended

    def _year(self, month: int, day: int, pos: int) -> tuple[int, bool] | None:
        if self.last_year and not P.BOUNDARY.search(self.text, self.last_year[1], pos):
            return self.last_year[0], False  # same sentence as a stated year
        if self.published:
            for year in range(self.published.year - 1, self.published.year + 2):
                date = P.make_date(year, month, day)
                if date and date >= self.published - _LOOKBACK:
                    return year, True
        return (self.last_year[0], True) if self.last_year else None

    def date(self, m: re.Match[str]) -> tuple[dt.date, bool, bool] | None:
        """(date, year_inferred, inferred) of a date atom, or None when it cannot be placed."""
        g = m.groupdict()
        if g["rel"]:
            if self.published is None:
                return None
            return self.published + dt.timedelta(P.RELATIVE_DAYS[g["rel"].lower()]), False, True
        if g["m1"]:
            y, mo, d = g["y1"], int(g["m1"]), int(g["d1"])
        elif g["y2"]:
            y, mo, d = g["y2"], int(g["m2"]), int(g["d2"])
        elif g["mon3"]:
            y, mo, d = g["y3"], P.MONTHS[g["mon3"]], int(g["d3"])
        else:
            y, mo, d = g["y4"], P.MONTHS[g["mon4"]], int(g["d4"])
        if y:
            self.last_year = (int(y), m.end())
            date = P.make_date(int(y), mo, d)
            return (date, False, False) if date else None
        found = self._year(mo, d, m.start())
        date = P.make_date(found[0], mo, d) if found else None
        return (date, bool(found and found[1]), False) if date else None

    def mentions(self) -> list[Mention]:
        atoms, out, i = list(P.ATOM.finditer(self.text)), [], 0
        while i < len(atoms):
            a = atoms[i]
            if a["year"]:  # "2014年支付清算系统…1月18日": a bare year sets the context
                self.last_year = (int(a["year"]), a.end())
            window = self._clock_window(atoms[i : i + 3])
            if window is not None:
                out.append(window)
                i += 3
                continue
            if a["enday"]:
                placed = self._borrow_month(a, atoms[i + 1] if i + 1 < len(atoms) else None)
            else:
                placed = self.date(a) if a["date"] else self._announce_day(a)
            if placed is None:
                i += 1
                continue
            start, year_inf, inferred = placed
            t = P.atom_time(a, "t")
            start += dt.timedelta(days=t[1] if t else 0)
            st = t[0] if t else None
            b = atoms[i + 1] if i + 1 < len(atoms) else None
            gap = self.text[a.end() : b.start()] if b else ""
            sep = P.RANGE_SEP.fullmatch(gap) if b else None
            if (
                sep
                and sep["and"]
                and not P.EN_BETWEEN.search(self.text, max(0, a.start() - 20), a.start())
            ):
                sep = None
            end = self._range_end(start, st, a, b, bool(sep["next"])) if b and sep else None
            et = P.list_tail(self.text, gap, b) if b and st and end is None else None
            if st and et:  # "1月18日、…、12月13日00:00开始,08:00前结束"
                end = (start, et)
                self._spread_list(out, a.start(), st, et)
            if b and end:
                out.append(Mention(start, st, *end, a.start(), b.end(), year_inf, inferred))
                i += 2
            else:
                out.append(Mention(start, st, None, None, a.start(), a.end(), year_inf, inferred))
                i += 1
        return out

    def _borrow_month(
        self, a: re.Match[str], b: re.Match[str] | None
    ) -> tuple[dt.date, bool, bool] | None:
        """The day of "24 to 26 December 2027", in the month (and year) of the next date, or
        of the month before when the day is later ("30 to 2 January")."""
        if b is None or not b["date"]:
            return None
        state = self.last_year  # placing the end must not move the year context twice
        placed = self.date(b)
        self.last_year = state
        if placed is None:
            return None
        end, day = placed[0], int(a["enday"])
        first = end.replace(day=1) if day <= end.day else end.replace(day=1) - dt.timedelta(1)
        start = P.make_date(first.year, first.month, day)
        return (start, placed[1], placed[2]) if start else None

    def _announce_day(self, a: re.Match[str]) -> tuple[dt.date, bool, bool] | None:
        """A bare day that dates an announcement ("支付宝27日宣布"): the latest such day on or
        before publication, marked as inferred. Other bare days stay unplaced."""
        if not a["day"] or self.published is None:
            return None
        if not R.ANNOUNCED_AFTER.match(self.text, a.end()):
            return None
        day, pub = int(a["dd"]), self.published
        month = pub.replace(day=1) - dt.timedelta(days=1) if day > pub.day else pub
        date = P.make_date(month.year, month.month, day)
        return (date, True, False) if date else None

    def _clock_window(self, atoms: list[re.Match[str]]) -> Mention | None:
        """English windows: "01:00 to 03:30 UTC on 14 March 2027" and "14 March 2027, from
        01:00 to 03:30" (the date stands apart from both times)."""
        if len(atoms) < 3:
            return None
        a, b, c = atoms
        text, bare_date = self.text, a["date"] and a["th"] is None and a["th2"] is None
        if a["time"] and b["time"] and c["date"] and P.EN_ON.fullmatch(text, b.end(), c.start()):
            day_atom, t1, t2 = c, a, b
        elif (
            bare_date and b["time"] and c["time"] and P.EN_FROM.fullmatch(text, a.end(), b.start())
        ):
            day_atom, t1, t2 = a, b, c
        else:
            return None
        if not P.RANGE_SEP.fullmatch(text, t1.end(), t2.start()):
            return None
        placed, st, et = self.date(day_atom), P.atom_time(t1, "u"), P.atom_time(t2, "u")
        if not (placed and st and et):
            return None
        day = placed[0]
        end = day + dt.timedelta(days=et[1] + (et[0] <= st[0] and not et[1]))
        return Mention(
            day, st[0], end, et[0], atoms[0].start(), atoms[2].end(), placed[1], placed[2]
        )

    def _range_end(
        self, start: dt.date, st: dt.time | None, a: re.Match[str], b: re.Match[str], next_day: bool
    ) -> tuple[dt.date, dt.time | None] | None:
        end: dt.date | None
        if b["date"]:
            placed = self.date(b)
            end = placed[0] if placed else None
            if end and not (b["y1"] or b["y2"] or b["y3"] or b["y4"] or b["rel"]):
                end = P.make_date(
                    start.year + (end.replace(year=start.year) < start), end.month, end.day
                )  # a year-less end belongs to the start's year, or the next
            t = P.atom_time(b, "t")
        elif b["day"]:
            day = int(b["dd"])
            end = P.make_date(start.year, start.month, day) if day >= start.day else None
            if end is None:
                month = start.month % 12 + 1
                end = P.make_date(start.year + (month == 1), month, day)
            t = None
        else:
            end = start + dt.timedelta(days=1) if next_day else start
            t = P.atom_time(b, "u", None if next_day else a["tap"])
        if end is None:
            return None
        et = None
        if t:
            end, et = end + dt.timedelta(days=t[1]), t[0]
            if st and end == start and et <= st:  # 22:00-2:00 crosses midnight
                end += dt.timedelta(days=1)
        return end, et

    def _spread_list(self, out: list[Mention], pos: int, st: dt.time, et: dt.time) -> None:
        for k in range(len(out) - 1, -1, -1):
            m = out[k]
            if m.end or m.start_time or not P.LIST_SEP.fullmatch(self.text, m.endpos, pos):
                break
            out[k] = Mention(m.start, st, m.start, et, m.pos, m.endpos, m.year_inferred, m.inferred)
            pos = m.pos


def find_mentions(
    title: str, body: str, published: dt.date | None, *, folded: bool = False
) -> tuple[str, list[Mention]]:
    """The normalised text (title, newline, body) and every date mention in it."""
    text = P.normalise(f"{title}\n{body}", published, folded=folded)
    return text, _Reader(text, published).mentions()
