"""The digest's calendar: maintenance windows, no-settlement days, effective dates, deadlines.

Each event's UID is derived from the notice URL and the kind of date, so when a notice is
revised (a maintenance window moves) the new digest's event replaces the old one in the
merchant's calendar instead of adding a second one; SEQUENCE is the Finding id, which grows
with every revision. Times in notices are wall-clock times of the notice's time zone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import icalendar

from settlewatch.digest import DigestEntry, http_url, oneline

DAY = dt.timedelta(days=1)
When = dt.date | dt.datetime

LABELS = {
    "zh": {
        "window": "系统维护",
        "no_settlement": "暂停结算",
        "resume": "恢复到账",
        "effective": "生效",
        "deadline": "截止",
        "name": "结算变更日历",
    },
    "en": {
        "window": "Maintenance window",
        "no_settlement": "No settlement",
        "resume": "Funds paid",
        "effective": "Takes effect",
        "deadline": "Deadline",
        "name": "Settlement changes",
    },
}
# (kind, start key, end key): one event per kind a Finding states
KINDS: tuple[tuple[str, str, str | None], ...] = (
    ("window", "window_start", "window_end"),
    ("no_settlement", "no_settlement_start", "no_settlement_end"),
    ("resume", "resume", None),
    ("effective", "effective", None),
    ("deadline", "deadline", None),
)


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    kind: str
    summary: str
    start: When
    end: When  # exclusive, as iCalendar wants it
    description: str
    url: str
    sequence: int


def parse_when(value: str, tz: ZoneInfo) -> When | None:
    """'2026-12-01' → a date; '2026-12-01T02:00' → an aware datetime in ``tz``."""
    try:
        if "T" in value or " " in value.strip():
            return dt.datetime.fromisoformat(value.strip().replace(" ", "T")).replace(tzinfo=tz)
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None  # a date the classifier could not pin down: no event rather than a wrong one


def _span(start: When, end: When | None) -> tuple[When, When]:
    """Start and exclusive end; mixed or backwards values fall back to whole days."""
    timed = isinstance(start, dt.datetime)
    if end is None:
        return (start, start + dt.timedelta(hours=1)) if timed else (start, start + DAY)
    if timed and isinstance(end, dt.datetime) and end > start:
        return start, end
    first = start.date() if isinstance(start, dt.datetime) else start
    last = end.date() if isinstance(end, dt.datetime) else end
    return first, max(last, first) + DAY


def uid(url: str, kind: str) -> str:
    return hashlib.sha256(f"{url}|{kind}".encode()).hexdigest()[:32] + "@settlewatch"


def entry_events(entry: DigestEntry, language: str, tz: ZoneInfo) -> list[CalendarEvent]:
    labels = LABELS.get(language, LABELS["en"])
    dates = dict(entry.dates)
    sep = "：" if language == "zh" else ": "
    events = []
    for kind, start_key, end_key in KINDS:
        start = parse_when(dates[start_key], tz) if start_key in dates else None
        if start is None:
            continue
        end = parse_when(dates[end_key], tz) if end_key and end_key in dates else None
        first, last = _span(start, end)
        description = "\n".join(
            part
            for part in (oneline(entry.what), oneline(entry.action), http_url(entry.url))
            if part
        )
        events.append(
            CalendarEvent(
                uid=uid(entry.url or str(entry.finding_id), kind),
                kind=kind,
                summary=f"{labels[kind]}{sep}{oneline(entry.title)}"[:200],
                start=first,
                end=last,
                description=description,
                url=http_url(entry.url),
                sequence=entry.finding_id,
            )
        )
    return events


def calendar_events(
    entries: Sequence[DigestEntry], language: str, tz: ZoneInfo
) -> list[CalendarEvent]:
    events = [e for entry in entries for e in entry_events(entry, language, tz)]
    return sorted(events, key=lambda e: (str(e.start), e.uid))


def _component(e: CalendarEvent, stamp: dt.datetime) -> icalendar.Event:
    ev = icalendar.Event()
    ev.add("uid", e.uid)
    ev.add("sequence", e.sequence)
    ev.add("dtstamp", stamp)
    ev.add("summary", e.summary)
    ev.add("dtstart", e.start)
    ev.add("dtend", e.end)
    ev.add("description", e.description)
    ev.add("transp", "TRANSPARENT")  # a reminder, not a meeting that blocks time
    if e.url:
        ev.add("url", e.url)
    if e.kind in ("window", "no_settlement", "deadline"):
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", e.summary)
        alarm.add("trigger", dt.timedelta(days=-1))
        ev.add_component(alarm)
    return ev


# Building iCalendar objects is slow next to rendering HTML, and merchants with the same flows
# share entries: each entry's events are serialised once, and calendars are joined from them.
@lru_cache(maxsize=16384)
def _entry_ical(
    entry: DigestEntry, language: str, timezone: str, stamp: dt.datetime
) -> tuple[tuple[str, str, bool], ...]:
    """(sort key, VEVENT text, timed) per event of one entry."""
    return tuple(
        (f"{e.start}|{e.uid}", _component(e, stamp).to_ical().decode("utf-8"), isinstance(e.start, dt.datetime))
        for e in entry_events(entry, language, ZoneInfo(timezone))
    )  # fmt: skip


@lru_cache(maxsize=64)
def _frame(language: str, timezone: str) -> tuple[str, str, str]:
    """The calendar's head, its VTIMEZONE block and its tail, as text."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//settlewatch//digest//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", LABELS.get(language, LABELS["en"])["name"])
    head, tail = cal.to_ical().decode("utf-8").rsplit("END:VCALENDAR", 1)
    probe = icalendar.Calendar()
    ev = icalendar.Event()
    ev.add("dtstart", dt.datetime(2026, 1, 1, tzinfo=ZoneInfo(timezone)))
    probe.add_component(ev)
    probe.add_missing_timezones()
    zone = "".join(c.to_ical().decode("utf-8") for c in probe.walk("VTIMEZONE"))
    return head, zone, "END:VCALENDAR" + tail


def calendar_ics(
    entries: tuple[DigestEntry, ...], language: str, timezone: str, stamp: dt.datetime
) -> str:
    """The .ics text for ``entries``, or "" when none of them has a date worth a reminder."""
    events = sorted(e for entry in entries for e in _entry_ical(entry, language, timezone, stamp))
    if not events:
        return ""
    head, zone, tail = _frame(language, timezone)
    timed = any(t for _, _, t in events)
    return head + (zone if timed else "") + "".join(text for _, text, _ in events) + tail
