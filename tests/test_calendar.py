"""The digest's .ics: events per kind of date, time zones, stable UIDs across revisions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest

from settlewatch.calendar_ics import calendar_ics, entry_events, parse_when, uid
from settlewatch.digest import DigestEntry

SH = ZoneInfo("Asia/Shanghai")
STAMP = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


def entry(finding_id: int = 1, url: str = "http://b.example/n1.html", **dates: str) -> DigestEntry:
    return DigestEntry(
        finding_id=finding_id, flow="rt_d0", category="maint_planned", category_label="维护",
        severity="S3", title="关于系统升级的公告\n第二行", what="D0暂停", when="", action="备用收款",
        source_name="银联商务", url=url, evidence_date="2026-11-27",
        dates=tuple(sorted(dates.items())),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-01", dt.date(2026, 12, 1)),
        ("2026-12-01T02:00", dt.datetime(2026, 12, 1, 2, 0, tzinfo=SH)),
        ("2026-12-01 02:30:00", dt.datetime(2026, 12, 1, 2, 30, tzinfo=SH)),
        ("2026-13-01", None),
        ("soon", None),
    ],
)
def test_parse_when(value: str, expected: object) -> None:
    assert parse_when(value, SH) == expected


def test_events_per_kind() -> None:
    e = entry(
        window_start="2026-12-01T02:00", window_end="2026-12-01T06:00",
        no_settlement_start="2027-02-05", no_settlement_end="2027-02-12",
        resume="2027-02-14", effective="2027-01-01", deadline="2026-12-27", published="2026-11-27",
    )  # fmt: skip
    events = {ev.kind: ev for ev in entry_events(e, "zh", SH)}
    assert set(events) == {"window", "no_settlement", "resume", "effective", "deadline"}
    assert events["window"].start == dt.datetime(2026, 12, 1, 2, tzinfo=SH)
    assert events["window"].end == dt.datetime(2026, 12, 1, 6, tzinfo=SH)
    assert (events["no_settlement"].start, events["no_settlement"].end) == (
        dt.date(2027, 2, 5),
        dt.date(2027, 2, 13),
    )
    assert events["deadline"].end == dt.date(2026, 12, 28)
    assert events["window"].summary == "系统维护：关于系统升级的公告 第二行"  # one line
    en = {ev.kind: ev for ev in entry_events(e, "en", SH)}
    assert en["no_settlement"].summary.startswith("No settlement: ")


def test_odd_windows_fall_back_to_whole_days() -> None:
    (no_end,) = entry_events(entry(window_start="2026-12-01T02:00"), "zh", SH)
    assert no_end.end - no_end.start == dt.timedelta(hours=1)  # type: ignore[operator]
    (backwards,) = entry_events(
        entry(window_start="2026-12-02T02:00", window_end="2026-12-01T06:00"), "zh", SH
    )
    assert (backwards.start, backwards.end) == (dt.date(2026, 12, 2), dt.date(2026, 12, 3))
    (days,) = entry_events(entry(window_start="2026-12-01", window_end="2026-12-03"), "zh", SH)
    assert (days.start, days.end) == (dt.date(2026, 12, 1), dt.date(2026, 12, 4))


def test_a_revised_notice_keeps_its_event_uid() -> None:
    first = entry(1, window_start="2026-12-01T02:00", window_end="2026-12-01T06:00")
    moved = entry(7, window_start="2026-12-08T02:00", window_end="2026-12-08T06:00")
    (a,), (b,) = entry_events(first, "zh", SH), entry_events(moved, "zh", SH)
    assert a.uid == b.uid == uid("http://b.example/n1.html", "window")
    assert (a.sequence, b.sequence) == (1, 7)
    other = dataclasses.replace(moved, url="http://b.example/n2.html")
    assert entry_events(other, "zh", SH)[0].uid != a.uid


def test_ics_parses_with_timezone_alarms_and_no_unsafe_url() -> None:
    safe = entry(1, window_start="2026-12-01T02:00", window_end="2026-12-01T06:00")
    unsafe = entry(2, url="javascript:alert(1)", effective="2027-01-01")
    text = calendar_ics((safe, unsafe), "zh", "Asia/Shanghai", STAMP)
    cal = icalendar.Calendar.from_ical(text)
    assert str(cal["method"]) == "PUBLISH"
    window, effective = cal.walk("VEVENT")
    assert window.decoded("dtstart") == dt.datetime(2026, 12, 1, 2, tzinfo=SH)
    assert str(window["url"]) == "http://b.example/n1.html"
    assert window.walk("VALARM")[0].decoded("trigger") == dt.timedelta(days=-1)
    assert "url" not in effective and not effective.walk("VALARM")
    assert "javascript:" not in text
    assert [str(t["tzid"]) for t in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]


def test_no_dates_no_calendar() -> None:
    assert calendar_ics((entry(published="2026-11-27"),), "zh", "Asia/Shanghai", STAMP) == ""
