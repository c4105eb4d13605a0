"""Crawls dispatched to a real Scrapyd on 127.0.0.1 write to the shared database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from settlewatch.config import load_config
from settlewatch.crawl import CrawlOutcome, run_crawls
from settlewatch.source import load_sources
from settlewatch.store.db import normalise_url, open_store
from settlewatch.store.schema import crawl_runs, snapshots, sources
from settlewatch.taxonomy import load_taxonomy
from tests.httpfixture import FixtureServer
from tests.sitekit import changes, declare, fetching, run, simple_board, slow_board

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real Scrapyd with its own port, eggs, logs and dbs folders under tmp_path."""
    home = tmp_path / "scrapyd"
    home.mkdir()
    port = _free_port()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        f"eggs_dir = {home / 'eggs'}\n"
        f"logs_dir = {home / 'logs'}\n"
        f"dbs_dir = {home / 'dbs'}\n"
        "poll_interval = 0.2\n"
        "max_proc = 2\n",
        encoding="utf-8",
    )
    log = (home / "scrapyd.out").open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SETTLEWATCH_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scrapyd"], cwd=home, stdout=log, stderr=subprocess.STDOUT, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{url}/daemonstatus.json", timeout=1) as resp:
                    if json.load(resp)["status"] == "ok":
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("scrapyd did not start: " + (home / "scrapyd.out").read_text())
        yield url, home
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _finished_jobs(url: str) -> list[dict[str, str]]:
    with urllib.request.urlopen(f"{url}/listjobs.json?project=settlewatch", timeout=5) as resp:
        data = json.load(resp)
    assert not data["pending"] and not data["running"]
    jobs: list[dict[str, str]] = data["finished"]
    return jobs


def _count(db: str, *where: Any) -> int:
    engine = create_engine(normalise_url(db))
    with engine.connect() as conn:
        n = int(conn.scalar(select(func.count()).select_from(snapshots).where(*where)) or 0)
    engine.dispose()
    return n


def test_crawl_dispatched_to_scrapyd_lands_in_shared_db(
    scrapyd: tuple[str, Path], site: FixtureServer, db_url: str, tmp_path: Path
) -> None:
    url, home = scrapyd
    simple_board(site, n=3)
    src = tmp_path / "src"
    declare(src, "acq", site.base)

    deployed = run(["crawler", "deploy", "--url", url, "--version", "100"], db_url)
    assert deployed.exit_code == 0, deployed.output
    assert "version 100" in deployed.output and "1 spider(s)" in deployed.output

    res = run(["crawl", "acq", "--json"], db_url, src, SETTLEWATCH_SCRAPYD_URL=url)
    assert res.exit_code == 0, res.output
    (outcome,) = json.loads(res.stdout)
    assert outcome["status"] == "tracked" and outcome["pages"] == 4, outcome
    assert _count(db_url, snapshots.c.run_id == outcome["run"]) == 4
    # it ran in Scrapyd, not in a local process
    assert [j["spider"] for j in _finished_jobs(url)] == ["notices"]
    assert len(list((home / "logs" / "settlewatch" / "notices").glob("*.log"))) == 1

    listed = changes(db_url)
    assert sorted(c["kind"] for c in listed) == ["new", "new", "new"]
    assert {c["source"] for c in listed} == {"acq"}

    simple_board(site, n=3, noise=2, fee="0.60%")  # a real edit, plus noise that must not count
    res = run(["crawl", "acq", "--json"], db_url, src, SETTLEWATCH_SCRAPYD_URL=url)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)[0]["changes"] == {"edited": 1}
    edited = [c for c in changes(db_url) if c["kind"] == "edited"]
    assert len(edited) == 1 and edited[0]["url"].endswith("/notice/1.html")
    assert len(_finished_jobs(url)) == 2

    engine = create_engine(normalise_url(db_url))
    with engine.connect() as conn:
        assert conn.scalar(select(sources.c.lease_owner).where(sources.c.id == "acq")) is None
    engine.dispose()


def test_unreachable_scrapyd_aborts_the_run_and_frees_the_lease(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    simple_board(site, n=2)
    src = tmp_path / "src"
    declare(src, "acq", site.base)
    dead = f"http://127.0.0.1:{_free_port()}"
    res = run(["crawl", "acq", "--json"], sqlite_url, src, SETTLEWATCH_SCRAPYD_URL=dead)
    (outcome,) = json.loads(res.stdout)
    assert outcome["status"] == "aborted"
    assert "Scrapyd at" in outcome["error"] and "schedule.json failed" in outcome["error"]
    engine = create_engine(normalise_url(sqlite_url))
    with engine.connect() as conn:
        run_row = conn.execute(select(crawl_runs)).one()
        lease = conn.scalar(select(sources.c.lease_owner).where(sources.c.id == "acq"))
    engine.dispose()
    assert run_row.status == "aborted" and "Scrapyd" in run_row.message
    assert lease is None
    assert _count(sqlite_url) == 0


def test_deploy_without_url_names_the_fix(sqlite_url: str) -> None:
    res = run(["crawler", "deploy"], sqlite_url, SETTLEWATCH_SCRAPYD_URL="")
    assert res.exit_code == 2
    assert "SETTLEWATCH_SCRAPYD_URL" in res.output and "--url" in res.output


def test_stopping_a_scrapyd_crawl_cancels_the_job_and_aborts_the_run(
    scrapyd: tuple[str, Path], site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    url, _home = scrapyd
    slow_board(site, n=8, delay=1.5)
    src = tmp_path / "src"
    declare(src, "acq", site.base)
    assert run(["crawler", "deploy", "--url", url], sqlite_url).exit_code == 0
    cfg = load_config(str(tmp_path / "none.toml"), {"db": sqlite_url, "scrapyd_url": url})
    engine = open_store(sqlite_url)
    stop = threading.Event()
    outcomes: list[CrawlOutcome] = []
    worker = threading.Thread(
        target=lambda: outcomes.extend(
            run_crawls(
                engine,
                sqlite_url,
                list(load_sources(src).values()),
                load_taxonomy(),
                cfg,
                stop=stop,
            )
        )
    )
    worker.start()
    fetching(site)
    stop.set()  # what SIGTERM does to the scheduler
    worker.join(90)
    assert not worker.is_alive()
    (outcome,) = outcomes
    assert outcome.result is not None and outcome.result.status == "aborted"
    assert outcome.error == "stopped: settlewatch is shutting down"
    assert len(_finished_jobs(url)) == 1  # cancelled, and Scrapyd saw it end
    with engine.connect() as conn:
        assert conn.execute(select(crawl_runs.c.status)).scalars().all() == ["aborted"]
        assert conn.scalar(select(sources.c.lease_owner)) is None
    engine.dispose()
