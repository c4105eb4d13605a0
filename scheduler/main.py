"""Build and run the scheduler service: APScheduler 3, its job store in settlewatch's database.

Every job runs with ``max_instances=1`` and ``coalesce=True``: a crawl still running when its
next turn comes is skipped, and runs missed while the service was down run once, if no later
than their grace time. Across processes (the scheduler, `settlewatch crawl`, the web app's
"crawl now") the per-source lease in the database keeps to one crawl per source.

SIGTERM or SIGINT stops new jobs, asks running crawlers to close cleanly (their runs are
aborted, not tracked), waits for them, and exits 0.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import pickle
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, inspect, text

from scheduler import jobs
from scheduler.jobs import Runtime, close_orphans, kv
from scheduler.plan import (
    CRAWLS,
    HOUSEKEEPING,
    JobSpec,
    SchedulerSettings,
    SyncPlan,
    job_fingerprint,
    next_fire,
    reconcile,
)
from settlewatch.cadence import zone

TABLE = "apscheduler_jobs"
VOLATILE = "volatile"
log = logging.getLogger("scheduler")


def build_scheduler(engine: Engine, settings: SchedulerSettings) -> BackgroundScheduler:
    return BackgroundScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(engine=engine, tablename=TABLE),
            VOLATILE: MemoryJobStore(),  # one-off jobs of this process only
        },
        executors={
            HOUSEKEEPING: ThreadPoolExecutor(2),
            CRAWLS: ThreadPoolExecutor(settings.workers),
        },
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.misfire_grace_seconds,
        },
        timezone=zone(settings.timezone),
    )


def sync_jobs(scheduler: BackgroundScheduler, specs: list[JobSpec]) -> SyncPlan:
    """Bring the started (paused) scheduler's store in line with ``specs``."""
    stored = {
        job.id: job_fingerprint(job.func_ref, job.args, job.name, job.misfire_grace_time)
        for job in scheduler.get_jobs()
    }
    plan = reconcile(specs, stored)
    for job_id in plan.remove:
        scheduler.remove_job(job_id)
    by_id = {s.id: s for s in specs}
    for job_id in plan.add + plan.replace:
        s = by_id[job_id]
        scheduler.add_job(
            s.func,
            s.trigger,
            args=list(s.args),
            id=s.id,
            name=s.name,
            executor=s.executor,
            misfire_grace_time=s.misfire_grace_time,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
    return plan


@dataclass(frozen=True)
class JobRow:
    id: str
    name: str
    next_run_time: dt.datetime | None
    state: str  # scheduled | paused | new | changed | removed

    def as_dict(self) -> dict[str, Any]:
        when = self.next_run_time.isoformat() if self.next_run_time else None
        return {"id": self.id, "name": self.name, "next_run_time": when, "state": self.state}


def stored_jobs(engine: Engine) -> dict[str, tuple[str, str, dt.datetime | None]]:
    """Job id → (fingerprint, name, next run time) as stored; read-only."""
    if not inspect(engine).has_table(TABLE):
        return {}
    out = {}
    with engine.connect() as conn:
        for job_id, state in conn.execute(text(f"SELECT id, job_state FROM {TABLE}")):
            job = pickle.loads(state)  # written by APScheduler into our own database
            fp = job_fingerprint(job["func"], job["args"], job["name"], job["misfire_grace_time"])
            out[job_id] = (fp, job["name"], job["next_run_time"])
    return out


def job_rows(engine: Engine, specs: list[JobSpec], now: dt.datetime, timezone: str) -> list[JobRow]:
    """Every job with its next run time: stored ones as stored, the rest as they would start."""
    stored = stored_jobs(engine)
    plan = reconcile(specs, {k: v[0] for k, v in stored.items()})
    tz = zone(timezone)

    def local(t: dt.datetime | None) -> dt.datetime | None:
        return t.astimezone(tz) if t else None

    rows = []
    for s in specs:
        if s.id in plan.keep:
            when = stored[s.id][2]
            rows.append(JobRow(s.id, s.name, local(when), "scheduled" if when else "paused"))
        else:
            state = "changed" if s.id in plan.replace else "new"
            rows.append(JobRow(s.id, s.name, local(next_fire(s.trigger, now)), state))
    rows += [JobRow(i, stored[i][1], local(stored[i][2]), "removed") for i in plan.remove]
    return rows


class LogfmtFormatter(logging.Formatter):
    """One line per record: ts=… level=… logger=… event=… key=value …"""

    def format(self, record: logging.LogRecord) -> str:
        ts = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
        head = f"ts={ts} level={record.levelname.lower()} logger={record.name}"
        msg = record.getMessage()
        event, _, rest = msg.partition(" ")
        structured = event.isidentifier() and (not rest or "=" in rest.split(" ", 1)[0])
        body = f"event={msg}" if structured else "msg=" + json.dumps(msg, ensure_ascii=False)
        if record.exc_info:
            body += " exc=" + json.dumps(self.formatException(record.exc_info))
        return f"{head} {body}"


def configure_logging(verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    # the job listener below logs every job event once, in the same format
    logging.getLogger("apscheduler").setLevel(logging.INFO if verbose else logging.CRITICAL)
    # each in-process command opens the store; its "already migrated" lines are noise
    logging.getLogger("alembic").setLevel(logging.INFO if verbose else logging.WARNING)


class _JobLog:
    def __init__(self) -> None:
        self.started: dict[str, float] = {}

    def __call__(self, event: JobEvent) -> None:
        job, code = event.job_id, event.code
        if code == EVENT_JOB_SUBMITTED and isinstance(event, JobSubmissionEvent):
            self.started[job] = time.monotonic()
            log.info("job_started %s", kv(job=job, scheduled=event.scheduled_run_times[-1]))
            return
        if not isinstance(event, JobExecutionEvent):
            return
        took = round(time.monotonic() - self.started.pop(job, time.monotonic()), 3)
        when = event.scheduled_run_time
        if code == EVENT_JOB_EXECUTED:
            log.info("job_finished %s", kv(job=job, scheduled=when, seconds=took))
        elif code == EVENT_JOB_ERROR:
            log.error(
                "job_failed %s",
                kv(job=job, scheduled=when, error=repr(event.exception)),
                exc_info=event.exception,
            )
        elif code == EVENT_JOB_MISSED:
            log.warning("job_missed %s", kv(job=job, scheduled=when, reason="past grace time"))


def _on_max_instances(event: JobEvent) -> None:
    log.warning("job_skipped %s", kv(job=event.job_id, reason="previous run still going"))


def install_signal_handlers(runtime: Runtime) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if runtime.stop.is_set():
            log.warning("shutdown_pending %s", kv(signal=name, reason="waiting for crawls"))
            return
        log.warning("shutdown_requested %s", kv(signal=name))
        runtime.stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_service(
    runtime: Runtime,
    specs: list[JobSpec],
    settings: SchedulerSettings,
    *,
    ready: Callable[[BackgroundScheduler], None] = lambda _s: None,
) -> None:
    """Run until ``runtime.stop`` is set (by a signal handler, or by a test)."""
    jobs.configure(runtime)
    close_orphans()
    scheduler = build_scheduler(runtime.engine, settings)
    scheduler.add_listener(
        _JobLog(), EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
    )
    scheduler.add_listener(_on_max_instances, EVENT_JOB_MAX_INSTANCES)
    scheduler.start(paused=True)
    try:
        plan = sync_jobs(scheduler, specs)
        log.info(
            "scheduler_started %s",
            kv(
                added=len(plan.add),
                replaced=len(plan.replace),
                kept=len(plan.keep),
                removed=len(plan.remove),
            ),
        )
        for job in scheduler.get_jobs():
            log.info("job_scheduled %s", kv(job=job.id, next_run=job.next_run_time, name=job.name))
        # a crawl killed just before this start still holds a live lease: close its run
        # once that lease has run out, rather than at the next health check
        lease = runtime.config.get_int("lease_seconds")
        scheduler.add_job(
            close_orphans,
            "date",
            run_date=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lease + 1),
            id="close-orphaned-runs",
            jobstore=VOLATILE,
        )
        scheduler.resume()
        ready(scheduler)
        while not runtime.stop.wait(1.0):
            pass
        log.info("shutdown_started %s", kv(reason="waiting for running jobs"))
    finally:
        runtime.stop.set()  # running crawls see it and close their crawlers cleanly
        scheduler.shutdown(wait=True)
        jobs.configure(None)
    log.info("scheduler_stopped %s", kv(clean=True))
