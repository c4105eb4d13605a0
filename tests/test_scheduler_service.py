"""The scheduler service, in process: jobs fire on schedule, the store survives restarts,
missed runs run once, and crawls never overlap with on-demand ones."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, select, text

from scheduler import jobs
from scheduler.jobs import Runtime
from scheduler.main import TABLE, run_service, stored_jobs
from scheduler.plan import JobSpec, SchedulerSettings, planned_jobs
from settlewatch.cadence import Cadence
from settlewatch.config import load_config
from settlewatch.models import SourceDecl
from settlewatch.source import load_sources
from settlewatch.store.db import open_store, utcnow
from settlewatch.store.schema import crawl_runs, sources
from tests.httpfixture import FixtureServer
from tests.sitekit import declare, run, simple_board, slow_board, wait_for

pytestmark = pytest.mark.slow
SETTINGS = SchedulerSettings()


def tick(path: str) -> None:
    """A job for the tests: append the time it ran."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{time.time()}\n")


def _ticks(path: Path) -> list[float]:
    return [float(x) for x in path.read_text().split()] if path.exists() else []


def every(seconds: int) -> Callable[[SourceDecl, str], tuple[Cadence, BaseTrigger]]:
    def cadencer(_decl: SourceDecl, tz: str) -> tuple[Cadence, BaseTrigger]:
        return Cadence(interval_seconds=seconds, timezone=tz), IntervalTrigger(seconds=seconds)

    return cadencer


def runtime(db: str, src: Path, tmp_path: Path, lease: str = "3") -> Runtime:
    cfg = load_config(str(tmp_path / "none.toml"), {"db": db, "lease_seconds": lease})
    return Runtime(open_store(db), db, cfg, src, ("--db", db, "--sources", str(src)))


@contextmanager
def service(rt: Runtime, specs: list[JobSpec], **kw: Any) -> Iterator[BackgroundScheduler]:
    """run_service in a thread, as `settlewatch scheduler run` runs it in the main one."""
    ready = threading.Event()
    holder: list[BackgroundScheduler] = []

    def on_ready(s: BackgroundScheduler) -> None:
        holder.append(s)
        ready.set()

    thread = threading.Thread(
        target=run_service, args=(rt, specs, SchedulerSettings(**kw)), kwargs={"ready": on_ready}
    )
    thread.start()
    try:
        assert ready.wait(30), "scheduler did not start"
        yield holder[0]
    finally:
        rt.stop.set()
        thread.join(120)
        assert not thread.is_alive(), "scheduler did not stop"


def runs(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [
            dict(r._mapping) for r in conn.execute(select(crawl_runs).order_by(crawl_runs.c.id))
        ]


def test_crawl_jobs_fire_on_their_schedule(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    simple_board(site, n=2)
    src = tmp_path / "src"
    declare(src, "acq", site.base)
    rt = runtime(sqlite_url, src, tmp_path)
    specs = planned_jobs(load_sources(src).values(), SETTINGS, every(4))
    with service(rt, specs):
        wait_for(
            lambda: sum(r["status"] == "tracked" for r in runs(rt.engine)) >= 3,
            what="three scheduled crawls",
        )
    done = runs(rt.engine)
    assert {r["trigger"] for r in done} == {"scheduler"}
    assert {r["status"] for r in done} <= {"tracked", "aborted"}  # the stop may cut the last
    for a, b in itertools.pairwise(done):
        assert b["started_at"] >= a["finished_at"]  # type: ignore[operator]  # never overlapping
        gap = (b["started_at"] - a["started_at"]).total_seconds()  # type: ignore[operator]
        # on the 4 s grid; a beat is skipped, not queued, if a crawl runs long
        assert round(gap / 4) >= 1 and abs(gap - 4 * round(gap / 4)) < 0.9, gap
    first_changes = run(["changes", "list", "--json"], sqlite_url)
    assert len(json.loads(first_changes.stdout)) == 2  # the baseline, once


def test_job_store_survives_a_restart(site: FixtureServer, db_url: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    declare(src, "acq", site.base)
    declare(src, "pbc", site.base, kind="regulator")
    rt = runtime(db_url, src, tmp_path)
    with service(rt, planned_jobs(load_sources(src).values(), SETTINGS)):
        pass
    first = stored_jobs(rt.engine)
    assert set(first) == {"crawl:acq", "crawl:pbc", "alerts", "digest", "health"}
    time.sleep(1.1)  # new triggers built now would start from a later time

    rt2 = runtime(db_url, src, tmp_path)
    with service(rt2, planned_jobs(load_sources(src).values(), SETTINGS)) as sched:
        live = {j.id: j.next_run_time for j in sched.get_jobs(jobstore="default")}
    assert live == {k: v[2] for k, v in first.items()}  # next run times kept, jitter and all
    assert stored_jobs(rt2.engine) == first

    listed = run(["scheduler", "jobs", "--json"], db_url, src)
    assert listed.exit_code == 0, listed.output
    rows = {r["id"]: r for r in json.loads(listed.stdout)}
    assert {r["state"] for r in rows.values()} == {"scheduled"}
    for job_id, (_fp, _name, when) in first.items():
        assert dt.datetime.fromisoformat(rows[job_id]["next_run_time"]) == when

    # a changed declaration replaces that one job; a removed source's job goes
    (src / "pbc.yaml").unlink()
    declare(src, "acq", site.base, extra="schedule:\n  interval: 30\n")
    rows = {
        r["id"]: r for r in json.loads(run(["scheduler", "jobs", "--json"], db_url, src).stdout)
    }
    assert rows["crawl:acq"]["state"] == "changed" and rows["crawl:pbc"]["state"] == "removed"
    rt3 = runtime(db_url, src, tmp_path)
    with service(rt3, planned_jobs(load_sources(src).values(), SETTINGS)):
        pass
    third = stored_jobs(rt3.engine)
    assert "crawl:pbc" not in third and "every 30 min" in third["crawl:acq"][1]
    assert third["digest"] == first["digest"]


def _rewind(engine: Engine, job_id: str, when: dt.datetime) -> None:
    """Pretend the service was down: the stored next run time lies in the past.

    Written straight into the store, as a stopped service leaves it (a scheduler started just
    to edit it could run the job itself while shutting down).
    """
    with engine.begin() as conn:
        blob = conn.scalar(text(f"SELECT job_state FROM {TABLE} WHERE id = :id"), {"id": job_id})
        state = pickle.loads(blob)
        state["next_run_time"] = when
        conn.execute(
            text(f"UPDATE {TABLE} SET job_state = :s, next_run_time = :t WHERE id = :id"),
            {"s": pickle.dumps(state), "t": when.timestamp(), "id": job_id},
        )


@pytest.mark.parametrize(
    ("interval_h", "down_h", "grace_h", "expected"),
    [(1, 3, 5, 1), (3, 2, 1, 0)],
    ids=["missed-runs-coalesce-to-one", "too-late-is-skipped"],
)
def test_missed_runs_after_downtime(
    sqlite_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    interval_h: int,
    down_h: int,
    grace_h: int,
    expected: int,
) -> None:
    out = tmp_path / "ticks"
    spec = JobSpec(
        "tick",
        "tests.test_scheduler_service:tick",
        IntervalTrigger(hours=interval_h),
        "tick",
        args=(str(out),),
        misfire_grace_time=grace_h * 3600,
    )
    rt = runtime(sqlite_url, tmp_path, tmp_path)
    with service(rt, [spec]):
        pass
    # down for down_h hours, 5 s past a run time: with a 1 h interval, 4 run times were missed
    _rewind(rt.engine, "tick", utcnow() - dt.timedelta(hours=down_h, seconds=-5))
    caplog.set_level(logging.INFO)
    with service(runtime(sqlite_url, tmp_path, tmp_path), [spec]) as sched:
        time.sleep(2)
        after = sched.get_job("tick").next_run_time
    assert len(_ticks(out)) == expected
    assert after > dt.datetime.now(dt.UTC)  # back on its schedule
    missed = [r.getMessage() for r in caplog.records if "job_missed" in r.getMessage()]
    assert len(missed) == 1 - expected


def _cli(db: str, src: Path, *args: str, lease: str = "3") -> subprocess.Popen[str]:
    env = {**os.environ, "SETTLEWATCH_LEASE_SECONDS": lease}
    cmd = [sys.executable, "-m", "settlewatch.cli", "--db", db, "--sources", str(src), *args]
    return subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_on_demand_and_scheduled_crawls_refuse_each_other(
    site: FixtureServer, sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    slow_board(site)
    src = tmp_path / "src"
    declare(src, "acq", site.base)
    rt = runtime(sqlite_url, src, tmp_path)
    specs = planned_jobs(load_sources(src).values(), SETTINGS)  # hourly: fired by hand below
    caplog.set_level(logging.INFO)
    with service(rt, specs) as sched:
        sched.modify_job("crawl:acq", next_run_time=dt.datetime.now(dt.UTC))
        wait_for(lambda: any(r["status"] == "running" for r in runs(rt.engine)), what="crawl")
        cli = _cli(sqlite_url, src, "crawl", "acq")
        _out, err = cli.communicate(timeout=60)
        assert cli.returncode == 3, err
        assert "acq: refused: source 'acq' is already being crawled by" in err
        assert "try again when it finishes" in err
        wait_for(lambda: runs(rt.engine)[-1]["status"] == "tracked", what="scheduled crawl")

        cli = _cli(sqlite_url, src, "crawl", "acq")  # now the CLI holds the lease
        wait_for(lambda: len(runs(rt.engine)) == 2, what="CLI crawl")
        sched.modify_job("crawl:acq", next_run_time=dt.datetime.now(dt.UTC))
        wait_for(
            lambda: any("crawl_refused" in r.getMessage() for r in caplog.records),
            what="the scheduler's refusal",
        )
        assert cli.wait(60) == 0
    refused = next(r.getMessage() for r in caplog.records if "crawl_refused" in r.getMessage())
    assert "source=acq" in refused and "already being crawled by" in refused
    assert [(r["trigger"], r["status"]) for r in runs(rt.engine)] == [
        ("scheduler", "tracked"),
        ("cli", "tracked"),
    ]
    with rt.engine.connect() as conn:
        assert conn.scalar(select(sources.c.lease_owner)) is None


def test_housekeeping_jobs_call_the_cli_and_mark_stale_sources(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    rt = runtime(sqlite_url, tmp_path, tmp_path)
    fast = SchedulerSettings(alerts_interval=1)
    with service(rt, planned_jobs([], fast), alerts_interval=1):
        wait_for(
            lambda: any("job_done job=alerts" in r.getMessage() for r in caplog.records),
            timeout=20,
            what="the alerts poll",
        )
    done = next(r.getMessage() for r in caplog.records if "job_done job=alerts" in r.getMessage())
    assert "queued 0 alert message(s)" in done  # `settlewatch alerts send` ran, in process

    long_ago = utcnow() - dt.timedelta(days=10)
    with rt.engine.begin() as conn:
        conn.execute(
            sources.insert().values(
                id="quiet",
                name="q",
                authority="q",
                kind="regulator",
                jurisdiction="CN",
                decl={},
                health="ok",
                health_reason="",
                last_success=long_ago,
                last_attempt=long_ago,
                consecutive_failures=0,
                baselined=True,
            )
        )
    jobs.configure(rt)
    try:
        jobs.check_health()
    finally:
        jobs.configure(None)
    with rt.engine.connect() as conn:
        assert conn.scalar(select(sources.c.health)) == "stale"
    stale = [r.getMessage() for r in caplog.records if "source_stale" in r.getMessage()]
    assert stale == [
        'source_stale source=quiet reason="no successful crawl in 3 days '
        f'(last success {long_ago:%Y-%m-%d %H:%M} UTC, 10 days ago)"'
    ]
