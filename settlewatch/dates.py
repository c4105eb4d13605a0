"""Dates a notice states: publication, effect, windows, deadlines and holiday payouts.

``extract_dates`` is a pure function of the notice text and its publish date. Keys:
published, effective (effective_last when staged or regional dates differ), window_start,
window_end, deadline, expires (a discount's end), no_settlement_start, no_settlement_end and
resume. A date the text does not state is absent: nothing is guessed from the clock. A year
taken from the publish date is marked ``year_inferred``; a value derived from a phrase (即日起,
次日, 节后首个工作日, today) is marked ``inferred``.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field

from settlewatch import dates_patterns as P
from settlewatch.dates_patterns import Mention
from settlewatch.models import DateValue

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
            placed = self.date(a) if a["date"] else None
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


@dataclass
class _Found:
    """Candidates per role while the mentions of one text are read."""

    text: str
    bounds: list[int]
    windows: list[Mention] = field(default_factory=list)
    weak_windows: list[Mention] = field(default_factory=list)
    holidays: list[tuple[Mention, dt.date, bool, int]] = field(default_factory=list)  # payouts
    off_days: list[Mention] = field(default_factory=list)
    resumes: list[Mention] = field(default_factory=list)
    effective: list[tuple[int, Mention]] = field(default_factory=list)
    deadlines: list[Mention] = field(default_factory=list)
    expires: list[Mention] = field(default_factory=list)

    def sentence(self, pos: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.bounds, pos)
        return (self.bounds[i - 1] + 1 if i else 0), (
            self.bounds[i] if i < len(self.bounds) else len(self.text)
        )

    def value(self, m: Mention, end: bool = False, inferred: bool = False) -> DateValue:
        s0, s1 = self.sentence(m.pos)
        evidence = self.text[max(s0, m.pos - 12) : min(s1, m.endpos + 12)].strip()
        day, time = (m.end or m.start, m.end_time) if end else (m.start, m.start_time)
        iso = f"{day.isoformat()}T{time:%H:%M}" if time else day.isoformat()
        return DateValue(iso, evidence, m.year_inferred, m.inferred or inferred)


def _read_roles(f: _Found, mentions: list[Mention]) -> None:
    text, skip, last_rank = f.text, False, None
    for k, m in enumerate(mentions):
        if skip:
            skip = False
            continue
        s0, s1 = f.sentence(m.pos)
        prev_end = mentions[k - 1].endpos if k else 0
        nxt = mentions[k + 1] if k + 1 < len(mentions) and mentions[k + 1].pos < s1 else None
        before = text[max(s0, prev_end, m.pos - 24) : m.pos]
        after = text[m.endpos : min(nxt.pos if nxt else s1, m.endpos + 40)]
        prev_rank, last_rank = last_rank, None
        # "X至Y的交易…" (zh) or "transactions from X to Y…" (en): where to look for the payout
        trade = P.TRADE.search(text, m.endpos, nxt.pos if nxt else s1)
        paid_from = trade.end() if trade else (m.endpos if P.TRADE.search(before) else None)
        if (
            paid_from is not None
            and nxt
            and nxt.end is None
            and P.paid_on(text, paid_from, nxt, s1)
        ):
            f.holidays.append((m, nxt.start, False, nxt.endpos))  # "X至Y的交易于Z统一结算"
            skip = True
        elif paid_from is not None and (
            nd := P.NEXT_DAY.search(text, paid_from, min(s1, paid_from + 20))
        ):
            f.holidays.append((m, (m.end or m.start) + dt.timedelta(days=1), True, nd.end()))
        elif m.end is not None and (m.start_time or m.end_time):
            f.windows.append(m)
        elif m.end is not None and P.SUSPEND_AFTER.match(after):
            f.off_days.insert(0, m)  # a stated pause outranks the holiday's own dates
        elif m.end is not None and P.holiday_days(before, after):
            f.off_days.append(m)
        elif m.end is not None and P.VALIDITY_BEFORE.search(before):
            f.effective.append((1, m))
            f.expires.append(m)
        elif m.end is not None:
            if P.MAINT_WORDS.search(text, s0, s1):
                f.weak_windows.append(m)
        elif P.RESUME_AFTER.match(after) or P.RESUME_BEFORE.search(before):
            f.resumes.append(m)
        elif (rank := P.effect_rank(before, after)) is not None or (
            prev_rank is not None and P.LIST_CONTINUES.fullmatch(text, prev_end, m.pos)
        ):
            last_rank = rank if rank is not None else prev_rank  # "1 April (APAC); 25 April (EU)"
            f.effective.append((last_rank, m))
        elif P.DEADLINE_AFTER.match(after) or P.DEADLINE_BEFORE.search(before):
            f.deadlines.append(m)
        elif P.EXPIRES_BEFORE.search(before) or P.EXPIRES_AFTER.match(after):
            f.expires.append(m)
        elif P.INCIDENT_AFTER.match(after) or P.MAINT_AFTER.match(after):
            f.weak_windows.append(m)


def _holiday(f: _Found, out: dict[str, DateValue]) -> None:
    deferred = [h for h in f.holidays if (h[1] - h[0].start).days >= 2]
    if deferred:  # "43日交易于44日划付" is an ordinary T+1 day, not a deferral
        m, paid, inferred, upto = min(deferred, key=lambda h: h[0].start)
        evidence = f.text[m.pos : min(f.sentence(m.pos)[1], upto + 8)].strip()
        out["no_settlement_start"] = dataclasses.replace(f.value(m), evidence=evidence)
        out["no_settlement_end"] = dataclasses.replace(f.value(m, end=True), evidence=evidence)
        out["resume"] = DateValue(paid.isoformat(), evidence, m.year_inferred, inferred)
        return
    if not f.off_days:
        return
    m = f.off_days[0]
    out["no_settlement_start"], out["no_settlement_end"] = f.value(m), f.value(m, end=True)
    later = [r for r in f.resumes if r.start > (m.end or m.start)]
    if later:
        out["resume"] = f.value(later[0])
    elif (hit := P.NEXT_WORKDAY.search(f.text)) is not None:
        paid = P.next_workday(m.end or m.start)
        out["resume"] = DateValue(paid.isoformat(), hit.group(), m.year_inferred, True)


def extract_dates(
    title: str, body: str, published: dt.date | None, *, folded: bool = False
) -> dict[str, DateValue]:
    """Dates the notice states, by role (see the module docstring for the keys).

    ``folded`` says the caller already passed title and body through ``dates_patterns.fold``.
    """
    text, mentions = find_mentions(title, body, published, folded=folded)
    f = _Found(text, [m.start() for m in P.BOUNDARY.finditer(text)])
    _read_roles(f, mentions)
    out: dict[str, DateValue] = {}
    if published:
        out["published"] = DateValue(published.isoformat(), "publish date")
        said = P.INFERRED_EFFECTIVE.search(text)
        if said:
            out["effective"] = DateValue(published.isoformat(), said.group(), False, True)
    if f.effective:
        best = min(r for r, _ in f.effective)
        first = min((m for r, m in f.effective if r == best), key=Mention.start_key)
        if (
            "effective" not in out
            or best == 0
            or first.start < dt.date.fromisoformat(out["effective"].value[:10])
        ):
            out["effective"] = f.value(first)
        last = max((m for r, m in f.effective if r <= 1), key=Mention.start_key, default=None)
        if last and last.start > first.start:
            out["effective_last"] = f.value(last)
    windows = f.windows or f.weak_windows
    if windows:
        out["window_start"] = f.value(min(windows, key=Mention.start_key))
        last_end = max(windows, key=Mention.end_key)
        if last_end.end is not None or last_end.end_time is not None:
            out["window_end"] = f.value(last_end, end=True)
    _holiday(f, out)
    if "resume" not in out and f.resumes:
        out["resume"] = f.value(max(f.resumes, key=Mention.start_key))
    if f.deadlines:
        out["deadline"] = f.value(min(f.deadlines, key=Mention.start_key))
    if f.expires:
        out["expires"] = f.value(max(f.expires, key=Mention.end_key), end=True)
    return out
