"""What the dashboard shows, read from the store: upcoming dates, weekly counts, health."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Date, cast, func, select
from sqlalchemy.orm import aliased

from settlewatch.store.schema import changes, findings, notices, sources, versions

HORIZON_DAYS = 60
MAX_EVENTS = 100  # the agenda lists this many; the rest are counted
WEEKS = 12
# (kind, start key, end key): spans first, then single days
EVENT_KEYS: tuple[tuple[str, str, str | None], ...] = (
    ("window", "window_start", "window_end"),
    ("no_settlement", "no_settlement_start", "no_settlement_end"),
    ("effective", "effective", None),
    ("deadline", "deadline", None),
    ("resume", "resume", None),
)
EVENT_LABELS = {
    "window": "Maintenance window",
    "no_settlement": "No settlement",
    "effective": "Effective",
    "deadline": "Deadline",
    "resume": "Settlement resumes",
}
new_v = aliased(versions)
old_v = aliased(versions)


@dataclass(frozen=True)
class Event:
    finding_id: int
    kind: str
    start: dt.date
    end: dt.date
    start_text: str  # as the notice states it, time included when there is one
    end_text: str
    title: str
    severity: str
    status: str
    evidence: str
    year_inferred: bool

    @property
    def label(self) -> str:
        return EVENT_LABELS[self.kind]


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def events_from_dates(
    finding_id: int, dates: dict[str, Any], title: str, severity: str, status: str
) -> list[Event]:
    """The calendar events one Finding's dates describe (pure)."""
    out = []
    for kind, start_key, end_key in EVENT_KEYS:
        start = dates.get(start_key)
        if not isinstance(start, dict) or (first := _day(start.get("value"))) is None:
            continue
        end = dates.get(end_key) if end_key else None
        last = _day(end.get("value")) if isinstance(end, dict) else None
        if last is None or last < first:
            last, end = first, None
        out.append(
            Event(
                finding_id=finding_id,
                kind=kind,
                start=first,
                end=last,
                start_text=str(start.get("value", "")).replace("T", " "),
                end_text=str(end.get("value", "")).replace("T", " ") if end else "",
                title=title,
                severity=severity,
                status=status,
                evidence=str(start.get("evidence", "")),
                year_inferred=bool(start.get("year_inferred")),
            )
        )
    return out


def upcoming(
    conn: Connection, today: dt.date, days: int = HORIZON_DAYS, limit: int = MAX_EVENTS
) -> tuple[list[Event], int]:
    """The first ``limit`` events overlapping [today, today + days), and how many there are.

    From pending and approved findings; a notice that changed several times counts once, by
    its newest finding. Titles are read for the events shown only.
    """
    since = dt.datetime.combine(today - dt.timedelta(days=365), dt.time(), dt.UTC)
    q = (
        select(
            findings.c.id,
            findings.c.dates,
            findings.c.severity,
            findings.c.status,
            changes.c.notice_id,
        )
        .join(changes, changes.c.id == findings.c.change_id)
        .where(findings.c.status.in_(["pending", "approved"]))
        .where(findings.c.created_at >= since)
        .order_by(findings.c.id)
    )
    newest: dict[int, Any] = {}
    for row in conn.execute(q):
        newest[row.notice_id] = row
    horizon = (today + dt.timedelta(days=days)).isoformat()
    first = today.isoformat()
    # A cheap pass over every finding (ISO strings compare as dates); Events for those shown.
    keys = [
        (dates[s]["value"][:10], kind, r.id, r)
        for r in newest.values()
        if isinstance(dates := r.dates, dict)
        for kind, s, e in EVENT_KEYS
        if isinstance(dates.get(s), dict)
        and str(dates[s].get("value", ""))[:10] < horizon
        and max(str(dates[s].get("value", "")), str((dates.get(e) or {}).get("value", "")))[:10]
        >= first
    ]
    keys.sort(key=lambda k: (k[0], k[1], k[2]))
    titles = _titles(conn, sorted({k[2] for k in keys[:limit]}))
    events = []
    for _, kind, fid, r in keys[:limit]:
        for e in events_from_dates(fid, r.dates, titles.get(fid, ""), r.severity, r.status):
            if e.kind == kind:
                events.append(e)
    return events, len(keys)


def _titles(conn: Connection, finding_ids: list[int]) -> dict[int, str]:
    q = (
        select(findings.c.id, func.coalesce(new_v.c.title, old_v.c.title, "").label("title"))
        .join(changes, changes.c.id == findings.c.change_id)
        .outerjoin(new_v, new_v.c.id == changes.c.new_version_id)
        .outerjoin(old_v, old_v.c.id == changes.c.old_version_id)
        .where(findings.c.id.in_(finding_ids))
    )
    return {fid: title for fid, title in conn.execute(q)}


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def weekly_counts(
    conn: Connection, today: dt.date, weeks: int = WEEKS
) -> tuple[list[dt.date], dict[dt.date, Counter[str]]]:
    """Findings detected per ISO week (Monday) and category; baseline history left out."""
    first = week_start(today) - dt.timedelta(weeks=weeks - 1)
    since = dt.datetime.combine(first, dt.time(), dt.UTC)
    if conn.dialect.name == "postgresql":
        day: Any = cast(func.timezone("UTC", findings.c.created_at), Date)
    else:  # SQLite stores UTC text: date() reads its day
        day = func.date(findings.c.created_at)
    rows = conn.execute(
        select(findings.c.category, day.label("day"), func.count())
        .where(findings.c.created_at >= since)
        .where(findings.c.status.not_in(["history", "technical"]))
        .where(findings.c.category != "irrelevant")
        .group_by(findings.c.category, day)
    )
    starts = [first + dt.timedelta(weeks=i) for i in range(weeks)]
    counts: dict[dt.date, Counter[str]] = {s: Counter() for s in starts}
    for category, created, n in rows:
        start = week_start(dt.date.fromisoformat(str(created)[:10]))
        if start in counts:
            counts[start][category] += n
    return starts, counts


def source_health(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(sources).order_by(sources.c.id))]


def headline_counts(conn: Connection, now: dt.datetime) -> dict[str, int]:
    pending = (findings.c.status == "pending") & (
        findings.c.deferred_until.is_(None) | (findings.c.deferred_until <= now)
    )
    week_ago = now - dt.timedelta(days=7)
    return {
        "pending": conn.scalar(select(func.count()).where(pending)) or 0,
        "critical": conn.scalar(select(func.count()).where(pending, findings.c.severity == "S4"))
        or 0,
        "approved_week": conn.scalar(
            select(func.count())
            .select_from(findings)
            .join(changes, changes.c.id == findings.c.change_id)
            .where(findings.c.status == "approved", changes.c.created_at >= week_ago)
        )
        or 0,
        "notices": conn.scalar(select(func.count()).select_from(notices)) or 0,
    }
