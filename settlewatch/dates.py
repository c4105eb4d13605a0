"""Dates a notice states: publication, effect, windows, deadlines and holiday payouts.

``extract_dates`` is a pure function of the notice text and its publish date. Keys:
published, effective (effective_last when staged or regional dates differ), window_start,
window_end, deadline, expires (a discount's end), no_settlement_start, no_settlement_end,
resume and announced (the day news or a penalty notice says something was announced). A date the text does not state is absent: nothing is guessed from the clock. A year
taken from the publish date is marked ``year_inferred``; a value derived from a phrase (即日起,
次日, 节后首个工作日, today) is marked ``inferred``.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from settlewatch import dates_patterns as P
from settlewatch import dates_roles as R
from settlewatch.dates_patterns import Mention
from settlewatch.dates_reader import find_mentions
from settlewatch.models import DateValue

__all__ = ["extract_dates", "find_mentions"]


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
    announced: list[Mention] = field(default_factory=list)

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
        trade = R.TRADE.search(text, m.endpos, nxt.pos if nxt else s1)
        # "transactions made between X and Y" names the trades well before the dates
        traded = R.TRADE.search(text, max(s0, prev_end, m.pos - 40), m.pos)
        paid_from = trade.end() if trade else (m.endpos if traded else None)
        if (
            paid_from is not None
            and nxt
            and nxt.end is None
            and R.paid_on(text, paid_from, nxt, s1)
        ):
            f.holidays.append((m, nxt.start, False, nxt.endpos))  # "X至Y的交易于Z统一结算"
            skip = True
        elif paid_from is not None and (
            nd := R.NEXT_DAY.search(text, paid_from, min(s1, paid_from + 20))
        ):
            f.holidays.append((m, (m.end or m.start) + dt.timedelta(days=1), True, nd.end()))
        elif m.end is not None and (m.start_time or m.end_time):
            f.windows.append(m)
        elif m.end is not None and R.SUSPEND_AFTER.match(after):
            f.off_days.insert(0, m)  # a stated pause outranks the holiday's own dates
        elif m.end is not None and R.holiday_days(before, after):
            f.off_days.append(m)
        elif m.end is not None and R.VALIDITY_BEFORE.search(before):
            f.effective.append((1, m))
            f.expires.append(m)
        elif m.end is not None:
            if R.MAINT_WORDS.search(text, s0, s1):
                f.weak_windows.append(m)
        elif R.RESUME_AFTER.match(after) or R.RESUME_BEFORE.search(before):
            f.resumes.append(m)
        elif (rank := R.effect_rank(before, after)) is not None or (
            prev_rank is not None and R.LIST_CONTINUES.fullmatch(text, prev_end, m.pos)
        ):
            last_rank = rank if rank is not None else prev_rank  # "1 April (APAC); 25 April (EU)"
            f.effective.append((last_rank, m))
        elif R.announced(before, after):
            f.announced.append(m)
        elif R.DEADLINE_AFTER.match(after) or R.DEADLINE_BEFORE.search(before):
            f.deadlines.append(m)
        elif R.EXPIRES_BEFORE.search(before) or R.EXPIRES_AFTER.match(after):
            f.expires.append(m)
        elif R.INCIDENT_AFTER.match(after) or R.MAINT_AFTER.match(after):
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
    elif (hit := R.NEXT_WORKDAY.search(f.text)) is not None:
        paid = R.next_workday(m.end or m.start)
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
        said = R.INFERRED_EFFECTIVE.search(text)
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
    if f.announced:
        out["announced"] = f.value(f.announced[0])
    if f.expires:
        out["expires"] = f.value(max(f.expires, key=Mention.end_key), end=True)
    return out
