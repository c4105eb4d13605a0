"""A crawl killed at any point leaves a consistent database; the next one has no duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from settlewatch.store.db import normalise_url
from settlewatch.store.schema import changes, crawl_runs, notices, snapshots, versions
from tests.httpfixture import FixtureServer
from tests.sitekit import changes as list_changes
from tests.sitekit import declare, fetching, slow_board


def _counts(db: str) -> dict[str, int]:
    engine = create_engine(normalise_url(db))
    if not inspect(engine).has_table("snapshots"):  # killed before the schema was created
        engine.dispose()
        return dict.fromkeys(("snapshots", "notices", "versions", "changes", "running"), 0)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        out = {
            t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in (snapshots, notices, versions, changes)
        }
        out["running"] = int(
            conn.scalar(
                select(func.count()).select_from(crawl_runs).where(crawl_runs.c.status == "running")
            )
            or 0
        )
    engine.dispose()
    return out


@pytest.mark.parametrize("kill_at", ["while-starting", "mid-fetch"])
def test_sigkill_then_rerun_is_consistent(
    site: FixtureServer, db_url: str, tmp_path: Path, kill_at: str
) -> None:
    slow_board(site, n=8, delay=1.0)  # two rounds of 4 pages: the kill lands mid-crawl
    declare(tmp_path / "src", "acq", site.base)
    env = {**os.environ, "SETTLEWATCH_LEASE_SECONDS": "2"}
    cmd = [
        sys.executable,
        "-m",
        "settlewatch.cli",
        "--db",
        db_url,
        "--sources",
        str(tmp_path / "src"),
        "crawl",
    ]
    proc = subprocess.Popen(
        cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if kill_at == "mid-fetch":
        fetching(site)
        time.sleep(0.3)
    else:
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = _counts(db_url)
    assert partial["versions"] == 0 and partial["changes"] == 0  # nothing half-tracked

    time.sleep(2.2)  # the killed crawl's lease expires
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    final = _counts(db_url)
    assert final["running"] == 0
    assert final["notices"] == 8 and final["versions"] == 8 and final["changes"] == 8
    assert len({c["url"] for c in list_changes(db_url)}) == 8


def test_sigkill_of_a_crawl_over_two_crawler_processes_then_rerun(
    site: FixtureServer, db_url: str, tmp_path: Path
) -> None:
    """Two crawler processes and extraction workers: a kill mid-fetch leaves whole rows only."""
    with FixtureServer(host="127.0.0.2") as other:
        slow_board(site, n=6, delay=1.0)  # two rounds of 4: the fetch lasts ~2 s
        slow_board(other, n=6, delay=1.0)
        declare(tmp_path / "src", "near", site.base)
        declare(tmp_path / "src", "far", other.base)
        env = {
            **os.environ,
            "SETTLEWATCH_LEASE_SECONDS": "2",
            "SETTLEWATCH_CRAWL_PROCESSES": "2",
            "SETTLEWATCH_TRACK_PROCESSES": "2",
        }
        cmd = [sys.executable, "-m", "settlewatch.cli", "--db", db_url]
        cmd += ["--sources", str(tmp_path / "src"), "crawl"]
        proc = subprocess.Popen(
            cmd,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        fetching(site)
        fetching(other)
        time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        partial = _counts(db_url)
        assert partial["running"] == 2  # killed while both runs were fetching
        assert partial["versions"] == 0 and partial["changes"] == 0

        time.sleep(2.2)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    final = _counts(db_url)
    assert final["running"] == 0
    assert final["notices"] == 12 and final["versions"] == 12 and final["changes"] == 12
    assert len({(c["source"], c["url"]) for c in list_changes(db_url)}) == 12
