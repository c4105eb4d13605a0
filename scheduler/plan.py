"""What the scheduler should run, and how a stored job store is brought in line with it (pure).

The job store persists each job's next run time; keeping a stored job whose schedule did not
change is what lets a restart keep its next run times and run a missed job once, late, within
its grace time. A job whose schedule changed is replaced, and a job for a source that is no
longer declared is removed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from settlewatch.cadence import Cadence, cron_trigger, trigger_for, zone
from settlewatch.config import Config
from settlewatch.errors import InputError
from settlewatch.models import SourceDecl

JOBS_MODULE = "scheduler.jobs"
CRAWLS = "crawls"  # executor for crawl jobs: each holds a thread while its process runs
HOUSEKEEPING = "default"  # alerts, digest, health: never queued behind long crawls

# Settings the scheduler reads (config file key, or SETTLEWATCH_<NAME>): name → default, help.
SCHEDULER_SETTINGS: dict[str, tuple[str, str]] = {
    "digest_cron": ("0 9 * * 1", "When the weekly digest goes out (crontab, in `timezone`)."),
    "health_cron": ("0 6 * * *", "When the daily health check marks stale sources."),
    "stale_days": ("3", "A source with no successful crawl for this many days is stale."),
    "alerts_interval": ("60", "Seconds between polls of the outbox for urgent alerts."),
    "misfire_grace_seconds": (
        "3600",
        "A crawl missed while the scheduler was down still runs (once) if this late or less.",
    ),
    "scheduler_workers": ("8", "Crawls the scheduler runs at the same time, at most."),
}


def setting(cfg: Config, name: str) -> tuple[str, str]:
    """(value, origin) of a scheduler setting: config registry, then environment, then default."""
    if name in cfg.values:
        return cfg.values[name], cfg.origins.get(name, "config")
    env = "SETTLEWATCH_" + name.upper()
    if os.environ.get(env):
        return os.environ[env], env
    return SCHEDULER_SETTINGS[name][0], "default"


@dataclass(frozen=True)
class SchedulerSettings:
    timezone: str = "Asia/Shanghai"
    digest_cron: str = "0 9 * * 1"
    health_cron: str = "0 6 * * *"
    stale_days: int = 3
    alerts_interval: int = 60
    misfire_grace_seconds: int = 3600
    workers: int = 8

    @classmethod
    def from_config(cls, cfg: Config) -> SchedulerSettings:
        values: dict[str, str] = {}
        for name in SCHEDULER_SETTINGS:
            value, origin = setting(cfg, name)
            values[name] = value
            if name.endswith("_cron"):
                try:
                    cron_trigger(value, cfg.get("timezone"))
                except ValueError as exc:
                    raise InputError(
                        origin, str(exc), field=name, fix="a crontab line such as '0 9 * * 1'"
                    ) from exc
            elif not value.isdigit() or int(value) < 1:
                raise InputError(
                    origin, f"'{value}' is not a positive whole number", field=name, fix="e.g. 3"
                )
        try:
            zone(cfg.get("timezone"))
        except ValueError as exc:
            raise InputError(
                cfg.origins["timezone"], str(exc), field="timezone", fix="e.g. Asia/Shanghai"
            ) from exc
        return cls(
            timezone=cfg.get("timezone"),
            digest_cron=values["digest_cron"],
            health_cron=values["health_cron"],
            stale_days=int(values["stale_days"]),
            alerts_interval=int(values["alerts_interval"]),
            misfire_grace_seconds=int(values["misfire_grace_seconds"]),
            workers=int(values["scheduler_workers"]),
        )


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # textual reference: the job store keeps references, not code
    trigger: BaseTrigger = field(compare=False)
    name: str  # what and when, as `scheduler jobs` shows it
    args: tuple[str, ...] = ()
    executor: str = HOUSEKEEPING
    misfire_grace_time: int = 3600

    @property
    def fingerprint(self) -> str:
        return job_fingerprint(self.func, self.args, self.name, self.misfire_grace_time)


def job_fingerprint(func: str, args: Iterable[object], name: str, grace: int | None) -> str:
    return f"{func}{tuple(args)!r}|{name}|{grace}"


Cadencer = Callable[[SourceDecl, str], tuple[Cadence, BaseTrigger]]


def planned_jobs(
    decls: Iterable[SourceDecl],
    settings: SchedulerSettings,
    cadencer: Cadencer = trigger_for,
) -> list[JobSpec]:
    """One crawl job per source, then the alerts poll, the weekly digest and the health check."""
    specs = []
    for decl in sorted(decls, key=lambda d: d.id):
        cadence, trigger = cadencer(decl, settings.timezone)
        specs.append(
            JobSpec(
                id=f"crawl:{decl.id}",
                func=f"{JOBS_MODULE}:crawl_source",
                trigger=trigger,
                name=f"crawl {decl.id}: {cadence.describe()}",
                args=(decl.id,),
                executor=CRAWLS,
                misfire_grace_time=settings.misfire_grace_seconds,
            )
        )
    tz = settings.timezone
    specs += [
        JobSpec(
            id="alerts",
            func=f"{JOBS_MODULE}:send_alerts",
            trigger=IntervalTrigger(seconds=settings.alerts_interval, timezone=zone(tz)),
            name=f"urgent alerts: every {settings.alerts_interval} s",
            # the next poll comes soon anyway; a late one only adds to the queue
            misfire_grace_time=settings.alerts_interval,
        ),
        JobSpec(
            id="digest",
            func=f"{JOBS_MODULE}:send_digest",
            trigger=cron_trigger(settings.digest_cron, tz),
            name=f"weekly digest: cron '{settings.digest_cron}' {tz}",
            # a digest hours late beats no digest; sending is once per week and merchant
            misfire_grace_time=24 * 3600,
        ),
        JobSpec(
            id="health",
            func=f"{JOBS_MODULE}:check_health",
            trigger=cron_trigger(settings.health_cron, tz),
            name=f"health check: cron '{settings.health_cron}' {tz}",
            misfire_grace_time=24 * 3600,
        ),
    ]
    return specs


@dataclass(frozen=True)
class SyncPlan:
    add: tuple[str, ...]  # not stored yet
    replace: tuple[str, ...]  # stored with another schedule
    keep: tuple[str, ...]  # stored as planned: next run time kept
    remove: tuple[str, ...]  # stored, no longer planned


def reconcile(specs: Iterable[JobSpec], stored: dict[str, str]) -> SyncPlan:
    """Compare planned jobs with stored ones (job id → fingerprint)."""
    specs = list(specs)
    planned = {s.id for s in specs}
    return SyncPlan(
        add=tuple(s.id for s in specs if s.id not in stored),
        replace=tuple(s.id for s in specs if s.id in stored and stored[s.id] != s.fingerprint),
        keep=tuple(s.id for s in specs if stored.get(s.id) == s.fingerprint),
        remove=tuple(sorted(set(stored) - planned)),
    )


def next_fire(trigger: BaseTrigger, now: dt.datetime) -> dt.datetime | None:
    """The first run time of a trigger not stored yet (jitter included, as the scheduler would)."""
    result: dt.datetime | None = trigger.get_next_fire_time(None, now)
    return result
