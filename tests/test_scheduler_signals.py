"""`settlewatch scheduler run` as a real process: SIGTERM mid-crawl, SIGKILL and its leases,
and `scheduler jobs` on the demo database."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from scheduler.plan import planned_jobs
from settlewatch.source import load_sources
from settlewatch.store.db import utcnow
from settlewatch.store.schema import changes, crawl_runs, sources, versions
from tests.httpfixture import FixtureServer
from tests.sitekit import changes as list_changes
from tests.sitekit import declare, fetching, live_processes, run, slow_board, wait_for
from tests.test_scheduler_service import (
    SETTINGS,
    _rewind,
    runs,
    runtime,
    service,
)

pytestmark = pytest.mark.slow
LEASE = "3"


def _start(db: str, src: Path, *args: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SETTLEWATCH_LEASE_SECONDS": LEASE}
    cmd = [sys.executable, "-m", "settlewatch.cli", "--db", db, "--sources", str(src), *args]
    return subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"), start_new_session=True
    )


def _crawler_pids(session: int) -> list[int]:
    """Live `python -m crawler.run` processes in this session (the service and its children)."""
    return [
        pid
        for pid, stat, cmdline in live_processes()
        if b"crawler.run" in cmdline and int(stat[3]) == session
    ]


def _seed_due_crawl(db: str, src: Path, tmp_path: Path) -> None:
    """Store the service's jobs with acq's crawl due now: the next start runs it at once."""
    rt = runtime(db, src, tmp_path)
    with service(rt, planned_jobs(load_sources(src).values(), SETTINGS)):
        pass
    _rewind(rt.engine, "crawl:acq", utcnow() - dt.timedelta(seconds=1))


def _mid_crawl(site: FixtureServer, db: str, tmp_path: Path, src: Path) -> None:
    engine = runtime(db, src, tmp_path).engine
    wait_for(lambda: any(r["status"] == "running" for r in runs(engine)), what="a crawl run")
    fetching(site)


def _count(db: str, src: Path, tmp_path: Path, table: object) -> int:
    engine = runtime(db, src, tmp_path).engine
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def test_sigterm_during_a_scheduled_crawl_stops_cleanly(
    site: FixtureServer, db_url: str, tmp_path: Path
) -> None:
    slow_board(site, n=8, delay=1.5)
    src = tmp_path / "src"
    declare(src, "acq", site.base)
    _seed_due_crawl(db_url, src, tmp_path)
    log = tmp_path / "scheduler.log"
    proc = _start(db_url, src, "scheduler", "run", log=log)
    _mid_crawl(site, db_url, tmp_path, src)
    assert _crawler_pids(proc.pid), "the crawl runs in its own process"

    proc.send_signal(signal.SIGTERM)  # the service alone, as systemd's KillMode=mixed does
    assert proc.wait(timeout=90) == 0, log.read_text()
    text = log.read_text()
    assert "event=shutdown_requested signal=SIGTERM" in text
    assert "event=scheduler_stopped clean=true" in text
    assert "event=crawl_finished source=acq" in text and "status=aborted" in text

    assert _crawler_pids(proc.pid) == []
    engine = runtime(db_url, src, tmp_path).engine
    (stopped,) = runs(engine)
    assert stopped["trigger"] == "scheduler" and stopped["status"] == "aborted"
    assert stopped["message"] == "stopped: settlewatch is shutting down"
    assert stopped["finished_at"] is not None
    # nothing half-tracked, and the lease is free at once: no waiting for it to expire
    assert _count(db_url, src, tmp_path, versions) == 0
    assert _count(db_url, src, tmp_path, changes) == 0
    with engine.connect() as conn:
        assert conn.execute(select(sources.c.lease_owner, sources.c.lease_until)).one() == (
            None,
            None,
        )

    for route in site.routes.values():
        if hasattr(route, "delay"):
            route.delay = 0
    again = run(["crawl", "acq", "--json"], db_url, src)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)[0]["status"] == "tracked"
    listed = list_changes(db_url)  # the whole baseline, once
    assert len(listed) == 8 and len({c["url"] for c in listed}) == 8
    assert {c["kind"] for c in listed} == {"new"}


@pytest.mark.parametrize("restart_after", [0.0, 4.0], ids=["lease-still-live", "lease-expired"])
def test_sigkilled_scheduler_leaves_no_running_run_after_next_start(
    site: FixtureServer, sqlite_url: str, tmp_path: Path, restart_after: float
) -> None:
    slow_board(site, n=8, delay=1.5)
    src = tmp_path / "src"
    declare(src, "acq", site.base)
    _seed_due_crawl(sqlite_url, src, tmp_path)
    proc = _start(sqlite_url, src, "scheduler", "run", log=tmp_path / "first.log")
    _mid_crawl(site, sqlite_url, tmp_path, src)
    os.killpg(proc.pid, signal.SIGKILL)  # the service and its crawler, mid-write
    proc.wait()
    engine = runtime(sqlite_url, src, tmp_path).engine
    assert [r["status"] for r in runs(engine)] == ["running"]
    assert _count(sqlite_url, src, tmp_path, versions) == 0

    time.sleep(restart_after)
    log = tmp_path / "second.log"
    proc = _start(sqlite_url, src, "scheduler", "run", log=log)
    try:
        wait_for(lambda: runs(engine)[0]["status"] != "running", timeout=30, what="run closed")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    (closed,) = runs(engine)
    assert closed["status"] == "aborted"
    assert closed["message"] == "crawl process ended before the run finished"
    assert "event=runs_closed runs=[1]" in log.read_text()


def test_sigkilled_crawl_frees_its_lock_when_the_lease_expires(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    slow_board(site, n=8, delay=1.5)
    src = tmp_path / "src"
    declare(src, "acq", site.base)
    first = _start(sqlite_url, src, "crawl", "acq", log=tmp_path / "first.log")
    _mid_crawl(site, sqlite_url, tmp_path, src)
    engine = runtime(sqlite_url, src, tmp_path).engine
    with engine.connect() as conn:
        owner, until = conn.execute(select(sources.c.lease_owner, sources.c.lease_until)).one()
    assert f":{first.pid}:" in owner
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    killed_at = utcnow()

    refused = run(["crawl", "acq"], sqlite_url, src)
    assert refused.exit_code == 3
    assert f"source 'acq' is already being crawled by {owner}" in refused.output

    # nobody renews a dead crawl's lease: it runs out within lease_seconds of the kill
    with engine.connect() as conn:
        until = conn.scalar(select(sources.c.lease_until))
    assert until is not None and until <= killed_at + dt.timedelta(seconds=int(LEASE))
    time.sleep(max(0.0, (until - utcnow()).total_seconds()) + 0.2)
    for route in site.routes.values():
        if hasattr(route, "delay"):
            route.delay = 0
    done = run(["crawl", "acq", "--json"], sqlite_url, src)
    assert done.exit_code == 0, done.output
    statuses = [(r["status"], r["message"]) for r in runs(engine)]
    assert statuses == [
        ("aborted", "crawl process ended before the run finished"),
        ("tracked", ""),
    ]
    with engine.connect() as conn:
        running = conn.scalar(
            select(func.count()).select_from(crawl_runs).where(crawl_runs.c.status == "running")
        )
    assert running == 0


def test_scheduler_jobs_on_the_demo_database(tmp_path: Path) -> None:
    out = tmp_path / "tmp"
    db = f"sqlite:///{out / 'settlewatch.db'}"
    demo = run(["demo", "--out", str(out)], db)
    assert demo.exit_code == 0, demo.output
    listed = run(["scheduler", "jobs"], db, out / "sources")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:3] == ["job", "next", "run"]
    assert {ln.split()[0] for ln in lines[1:]} == {
        "crawl:demo_lakala",
        "crawl:demo_pbc",
        "crawl:demo_ums",
        "crawl:demo_unionpay",
        "alerts",
        "digest",
        "health",
    }
    rows = {
        r["id"]: r
        for r in json.loads(run(["scheduler", "jobs", "--json"], db, out / "sources").stdout)
    }
    now = dt.datetime.now(dt.UTC)
    for row in rows.values():
        assert dt.datetime.fromisoformat(row["next_run_time"]) > now
    digest = dt.datetime.fromisoformat(rows["digest"]["next_run_time"])
    assert (digest.isoweekday(), digest.hour, digest.minute) == (1, 9, 0)
    assert digest.utcoffset() == dt.timedelta(hours=8)
    assert "cron '0 8-20 * * *'" in rows["crawl:demo_lakala"]["name"]
    assert "cron '30 7 * * *'" in rows["crawl:demo_pbc"]["name"]
