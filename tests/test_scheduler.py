"""Cadences, job plans and staleness, against a fixed clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from scheduler.plan import JobSpec, SchedulerSettings, planned_jobs, reconcile
from settlewatch.cadence import Cadence, cadence_for, crontab_weekdays, trigger_for
from settlewatch.config import load_config
from settlewatch.crawl import STOP_GRACE
from settlewatch.errors import InputError, SourceDeclError
from settlewatch.models import SourceDecl
from settlewatch.source import load_source
from settlewatch.staleness import SourceState, mark_stale, stale_verdicts
from settlewatch.store.db import begin_write, open_store
from settlewatch.store.schema import sources
from tests.sitekit import declare, run

SH = ZoneInfo("Asia/Shanghai")


def _decl(tmp_path: Path, sid: str, kind: str = "acquirer", extra: str = "") -> SourceDecl:
    return load_source(declare(tmp_path, sid, "http://127.0.0.1:9", kind=kind, extra=extra))


def test_defaults_by_kind(tmp_path: Path) -> None:
    acq = cadence_for(_decl(tmp_path, "acq"))
    reg = cadence_for(_decl(tmp_path, "reg", kind="regulator"))
    assert (acq.cron, acq.jitter, acq.timezone) == ("0 8-20 * * *", 300, "Asia/Shanghai")
    assert reg.cron == "30 7 * * *" and reg.jitter == 900 and not reg.declared
    assert acq.describe() == "cron '0 8-20 * * *' Asia/Shanghai, jitter 300s"


@pytest.mark.parametrize(
    ("now", "earliest"),
    [
        (dt.datetime(2026, 11, 27, 20, 30, tzinfo=SH), dt.datetime(2026, 11, 28, 8, 0, tzinfo=SH)),
        (dt.datetime(2026, 11, 27, 9, 10, tzinfo=SH), dt.datetime(2026, 11, 27, 10, 0, tzinfo=SH)),
        (dt.datetime(2026, 11, 27, 3, 0, tzinfo=SH), dt.datetime(2026, 11, 27, 8, 0, tzinfo=SH)),
    ],
    ids=["after-hours", "business-hours", "night"],
)
def test_acquirer_runs_hourly_in_business_hours(
    tmp_path: Path, now: dt.datetime, earliest: dt.datetime
) -> None:
    _cadence, trigger = trigger_for(_decl(tmp_path, "acq"))
    for _ in range(20):  # jitter is random: it only ever delays, by at most 300 s
        fire = trigger.get_next_fire_time(None, now)
        assert earliest <= fire <= earliest + dt.timedelta(seconds=300)


def test_declared_interval_and_cron_with_timezone(tmp_path: Path) -> None:
    every = _decl(tmp_path, "a", extra="schedule:\n  interval: 15\n  jitter: 30\n")
    cadence, trigger = trigger_for(every)
    assert cadence == Cadence(interval_seconds=900, jitter=30, declared=True)
    assert isinstance(trigger, IntervalTrigger) and trigger.interval == dt.timedelta(minutes=15)
    assert cadence.describe() == "every 15 min Asia/Shanghai, jitter 30s"

    cron = _decl(tmp_path, "b", extra="schedule:\n  cron: '0 9 * * 1-5'\n  timezone: UTC\n")
    cadence, trigger = trigger_for(cron)
    assert (cadence.cron, cadence.jitter, cadence.timezone) == ("0 9 * * 1-5", 0, "UTC")
    saturday = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
    assert trigger.get_next_fire_time(None, saturday) == dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("1", "mon"),
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("5-7", "fri,sat,sun"),
        ("*/2", "tue,thu,sat,sun"),
        ("sat,sun", "sat,sun"),
        ("*", "*"),
    ],
)
def test_crontab_weekdays_count_sunday_as_zero(field: str, names: str) -> None:
    assert crontab_weekdays(field) == names


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ("schedule:\n  cron: '61 * * * *'\n", "schedule.cron", "61"),
        ("schedule:\n  cron: '0 9 * * 8'\n", "schedule.cron", "out of range"),
        ("schedule:\n  interval: 5\n  timezone: Mars/Base\n", "schedule.timezone", "Mars/Base"),
    ],
    ids=["minute", "weekday", "timezone"],
)
def test_bad_schedule_names_file_line_field_and_fix(
    tmp_path: Path, extra: str, field: str, words: str
) -> None:
    decl = _decl(tmp_path, "bad", extra=extra)
    with pytest.raises(SourceDeclError) as err:
        trigger_for(decl)
    text = str(err.value)
    assert str(tmp_path / "bad.yaml") in text and f"field '{field}'" in text
    assert words in text and "fix:" in text
    assert err.value.line is not None and err.value.line > 10


def test_weekly_digest_defaults_to_monday_nine_shanghai(tmp_path: Path) -> None:
    settings = SchedulerSettings.from_config(load_config(str(tmp_path / "none.toml")))
    specs = {s.id: s for s in planned_jobs([], settings)}
    assert set(specs) == {"alerts", "digest", "health"}
    sunday = dt.datetime(2026, 11, 29, 23, 0, tzinfo=dt.UTC)  # Monday 07:00 in Shanghai
    fire = specs["digest"].trigger.get_next_fire_time(None, sunday)
    assert fire == dt.datetime(2026, 11, 30, 9, 0, tzinfo=SH)
    assert specs["alerts"].trigger.interval == dt.timedelta(seconds=60)


def test_scheduler_settings_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SETTLEWATCH_DIGEST_CRON", "30 8 * * 5")
    monkeypatch.setenv("SETTLEWATCH_STALE_DAYS", "5")
    settings = SchedulerSettings.from_config(load_config(str(tmp_path / "none.toml")))
    assert settings.digest_cron == "30 8 * * 5" and settings.stale_days == 5
    monkeypatch.setenv("SETTLEWATCH_DIGEST_CRON", "every monday")
    with pytest.raises(InputError) as err:
        SchedulerSettings.from_config(load_config(str(tmp_path / "none.toml")))
    assert "SETTLEWATCH_DIGEST_CRON" in str(err.value) and "field 'digest_cron'" in str(err.value)


def test_reconcile_keeps_unchanged_jobs(tmp_path: Path) -> None:
    settings = SchedulerSettings()
    decls = [_decl(tmp_path, "acq"), _decl(tmp_path, "reg", kind="regulator")]
    specs = planned_jobs(decls, settings)
    assert [s.id for s in specs] == ["crawl:acq", "crawl:reg", "alerts", "digest", "health"]
    stored = {s.id: s.fingerprint for s in specs}
    assert reconcile(specs, stored).keep == tuple(stored)

    changed = _decl(tmp_path, "acq", extra="schedule:\n  interval: 30\n")
    respec = planned_jobs([changed, decls[1]], settings)
    stored["crawl:gone"] = "old"
    plan = reconcile(respec, stored)
    assert plan.replace == ("crawl:acq",) and plan.remove == ("crawl:gone",)
    assert plan.add == () and "crawl:reg" in plan.keep
    tick = JobSpec("tick", "x:y", IntervalTrigger(seconds=1), "tick")
    assert reconcile([tick], {}).add == ("tick",)


NOW = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


def test_stale_verdicts() -> None:
    day = dt.timedelta(days=1)
    states = [
        SourceState("fresh", "ok", NOW - 2 * day, NOW),
        SourceState("old", "ok", NOW - 4 * day, NOW - 4 * day),
        SourceState("failing", "failing", NOW - 9 * day, NOW),
        SourceState("never", "unknown", None, NOW - 5 * day),
        SourceState("untried", "unknown", None, None),
        SourceState("already", "stale", NOW - 9 * day, NOW - 9 * day),
    ]
    verdicts = {v.source_id: v.reason for v in stale_verdicts(states, NOW, 3)}
    assert set(verdicts) == {"old", "never"}
    assert verdicts["old"] == (
        "no successful crawl in 3 days (last success 2026-11-23 08:00 UTC, 4 days ago)"
    )
    assert verdicts["never"].startswith("never crawled successfully (last attempt 2026-11-22")


def test_mark_stale_updates_only_stale_sources(db_url: str) -> None:
    engine = open_store(db_url)
    base = {"name": "n", "authority": "a", "kind": "acquirer", "jurisdiction": "CN", "decl": {}}
    with begin_write(engine) as conn:
        for sid, last in (("fresh", NOW), ("old", NOW - dt.timedelta(days=10))):
            conn.execute(
                sources.insert().values(
                    id=sid,
                    health="ok",
                    health_reason="",
                    last_success=last,
                    last_attempt=last,
                    consecutive_failures=0,
                    baselined=True,
                    **base,
                )
            )
    marked = mark_stale(engine, NOW, 3)
    assert [v.source_id for v in marked] == ["old"]
    with engine.connect() as conn:
        health = dict(
            conn.execute(sources.select().with_only_columns(sources.c.id, sources.c.health)).all()
        )
        reason = conn.scalar(
            sources.select().with_only_columns(sources.c.health_reason).where(sources.c.id == "old")
        )
    assert health == {"fresh": "ok", "old": "stale"}
    assert "no successful crawl in 3 days" in str(reason)
    assert mark_stale(engine, NOW, 3) == []  # stale stays stale, and is not marked twice
    engine.dispose()


def test_bad_schedule_stops_the_scheduler_commands_with_one_line(
    tmp_path: Path, sqlite_url: str
) -> None:
    declare(
        tmp_path / "src", "acq", "http://127.0.0.1:9", extra="schedule:\n  cron: '0 25 * * *'\n"
    )
    res = run(["scheduler", "jobs"], sqlite_url, tmp_path / "src")
    assert res.exit_code == 1
    (line,) = res.output.strip().splitlines()
    assert line.startswith("error: ") and "acq.yaml:" in line and "field 'schedule.cron'" in line


def test_systemd_unit_runs_the_scheduler_and_stops_it_gently() -> None:
    unit = (Path(__file__).parent.parent / "deploy" / "settlewatch-scheduler.service").read_text()
    keys = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#")
    )
    assert keys["ExecStart"].endswith("settlewatch scheduler run")
    assert keys["KillMode"] == "mixed" and keys["KillSignal"] == "SIGTERM"
    assert int(keys["TimeoutStopSec"]) > STOP_GRACE  # a crawler gets that long to close
    assert run(["scheduler", "run", "--help"], "sqlite:///unused.db").exit_code == 0
