"""Crawl cadence: when the scheduler crawls each source.

A declaration may carry ``schedule: {cron | interval, jitter, timezone}``. Without one, the
source's kind decides: acquirer maintenance boards announce windows a day or two ahead, so
they are read hourly in business hours; regulators, schemes and clearing houses publish a
few notices a week, so once a day is enough. Jitter spreads sources that share a cron line,
so twenty boards do not start in the same second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from settlewatch.errors import SourceDeclError
from settlewatch.models import SourceDecl
from settlewatch.yamlfile import field_line, load_yaml

DEFAULT_TIMEZONE = "Asia/Shanghai"
ACQUIRER_CRON = "0 8-20 * * *"  # on the hour, 08:00-20:00
DAILY_CRON = "30 7 * * *"  # before the working day starts
ACQUIRER_JITTER = 300
DAILY_JITTER = 900


@dataclass(frozen=True)
class Cadence:
    """Either a 5-field crontab line or a fixed interval, plus jitter, in one time zone."""

    cron: str | None = None
    interval_seconds: int | None = None
    jitter: int = 0  # seconds of random delay added to each run
    timezone: str = DEFAULT_TIMEZONE
    declared: bool = False  # from the source's `schedule:`, not the kind's default

    def describe(self) -> str:
        when = (
            f"cron '{self.cron}'"
            if self.cron is not None
            else f"every {_duration(self.interval_seconds or 0)}"
        )
        jitter = f", jitter {self.jitter}s" if self.jitter else ""
        return f"{when} {self.timezone}{jitter}"


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def default_cadence(kind: str, timezone: str = DEFAULT_TIMEZONE) -> Cadence:
    if kind == "acquirer":
        return Cadence(cron=ACQUIRER_CRON, jitter=ACQUIRER_JITTER, timezone=timezone)
    return Cadence(cron=DAILY_CRON, jitter=DAILY_JITTER, timezone=timezone)


def cadence_for(decl: SourceDecl, timezone: str = DEFAULT_TIMEZONE) -> Cadence:
    """The declared schedule, else the default for the source's kind (pure)."""
    # getattr: declarations stored before `schedule` existed deserialise without it
    schedule: dict[str, Any] = getattr(decl, "schedule", None) or {}
    base = default_cadence(decl.kind, schedule.get("timezone") or timezone)
    if not schedule:
        return base
    # an explicit cron or interval means "exactly then" unless jitter is asked for too
    explicit = "cron" in schedule or "interval" in schedule
    jitter = int(schedule.get("jitter", 0 if explicit else base.jitter))
    if "interval" in schedule:
        return Cadence(
            interval_seconds=int(schedule["interval"]) * 60,
            jitter=jitter,
            timezone=base.timezone,
            declared=True,
        )
    return Cadence(
        cron=str(schedule.get("cron", base.cron)),
        jitter=jitter,
        timezone=base.timezone,
        declared=True,
    )


_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DOW_ITEM = re.compile(r"^(\*|[a-z]{3}|\d)(?:-([a-z]{3}|\d))?(?:/(\d+))?$")


def _dow_number(token: str) -> int:
    if token.isdigit():
        n = int(token)
        if n > 7:
            raise ValueError(f"day of week {n} is out of range 0-7")
        return n % 7
    if token not in _DOW_NAMES:
        raise ValueError(f"unknown day of week '{token}'")
    return _DOW_NAMES.index(token)


def crontab_weekdays(field: str) -> str:
    """Translate a crontab day-of-week field (0 or 7 = Sunday) into APScheduler 3 names.

    APScheduler 3 counts 0 as Monday, so "0 9 * * 1" passed through unchanged would fire on
    Tuesdays; naming the days avoids the mismatch.
    """
    field = field.strip().lower()
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        m = _DOW_ITEM.match(item)
        if not m:
            raise ValueError(f"cannot read day-of-week item '{item}'")
        start, end, step = m.group(1), m.group(2), int(m.group(3) or 1)
        if start == "*":
            lo, hi = 0, 6
        else:
            lo = _dow_number(start)
            hi = _dow_number(end) if end else (6 if m.group(3) else lo)
            if end == "7" or end == "sun":
                hi = 7  # "5-7" is Friday to Sunday
        if hi < lo:
            raise ValueError(f"day-of-week range '{item}' runs backwards")
        days.update(d % 7 for d in range(lo, hi + 1, step))
    order = (1, 2, 3, 4, 5, 6, 0)  # Monday first, as APScheduler lists them
    return ",".join(_DOW_NAMES[d] for d in order if d in days)


def cron_trigger(expr: str, timezone: str, jitter: int = 0) -> CronTrigger:
    """A CronTrigger from a standard 5-field crontab line; ValueError says what is wrong."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"'{expr}' has {len(fields)} fields, a crontab line has 5")
    minute, hour, day, month, dow = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=crontab_weekdays(dow),
        timezone=zone(timezone),
        jitter=jitter or None,
    )


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone '{name}'") from exc


def build_trigger(cadence: Cadence) -> BaseTrigger:
    if cadence.cron is not None:
        return cron_trigger(cadence.cron, cadence.timezone, cadence.jitter)
    return IntervalTrigger(
        seconds=cadence.interval_seconds or 3600,
        timezone=zone(cadence.timezone),
        jitter=cadence.jitter or None,
    )


def trigger_for(decl: SourceDecl, timezone: str = DEFAULT_TIMEZONE) -> tuple[Cadence, BaseTrigger]:
    """The source's cadence and its trigger; a bad schedule fails naming file, line and field."""
    cadence = cadence_for(decl, timezone)
    try:
        return cadence, build_trigger(cadence)
    except ValueError as exc:
        schedule = getattr(decl, "schedule", None) or {}
        key = "timezone" if "time zone" in str(exc) else "cron"
        raise SourceDeclError(
            decl.path or f"source {decl.id}",
            str(exc),
            line=_line(decl.path, key) if key in schedule else None,
            field=f"schedule.{key}",
            fix="an IANA zone such as Asia/Shanghai"
            if key == "timezone"
            else "minute hour day month weekday, e.g. '0 8-20 * * *'",
        ) from exc


def _line(path: str, key: str) -> int | None:
    if not path or not Path(path).is_file():
        return None
    try:
        _data, lines = load_yaml(Path(path), SourceDeclError)
    except SourceDeclError:
        return None
    return field_line(lines, "schedule", key)
