"""One crawl over several crawler processes and extraction workers gives what one process gives."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from settlewatch.config import load_config
from settlewatch.crawl import run_crawls
from settlewatch.dispatch import LocalFetch
from settlewatch.errors import RuleError
from settlewatch.partition import partition_runs, process_count
from settlewatch.prepare import prepared_runs, workers
from settlewatch.source import load_sources
from settlewatch.store.crawls import create_run, sync_sources
from settlewatch.store.db import begin_write, normalise_url, open_store, utcnow
from settlewatch.store.schema import crawl_runs, sources
from settlewatch.taxonomy import Taxonomy, load_taxonomy
from tests.httpfixture import FixtureServer
from tests.sitekit import (
    changes,
    declare,
    fetching,
    listing_html,
    live_processes,
    notice_html,
    run,
    simple_board,
    slow_board,
    wait_for,
)


def _runs(db: str) -> list[Any]:
    engine = create_engine(normalise_url(db))
    with engine.connect() as conn:
        rows = list(conn.execute(select(crawl_runs).order_by(crawl_runs.c.id)))
    engine.dispose()
    return rows


def _summary(db: str) -> list[tuple[Any, ...]]:
    return sorted(
        (c["source"], c["url"], c["kind"], c["category"], c["severity"], c["title"], c["flows"])
        for c in changes(db)
    )


def test_process_count_and_partition_keep_a_host_in_one_process() -> None:
    assert process_count(0, runs=50, hosts=50, cores=2) == 2
    assert process_count(0, runs=50, hosts=50, cores=16) == 4  # auto is capped
    assert process_count(0, runs=3, hosts=3, cores=8) == 1  # too little work for two
    assert process_count(3, runs=50, hosts=2, cores=8) == 2  # never more than hosts
    assert process_count(0, runs=0, hosts=0, cores=2) == 1
    hosts = {1: "a.cn", 2: "a.cn", 3: "b.cn", 4: "c.cn", 5: "a.cn"}
    groups = partition_runs(hosts, 2)
    assert sorted(groups) == [[1, 2, 5], [3, 4]]
    assert partition_runs(hosts, 5) == [[1, 2, 5], [3], [4]]
    assert workers(0, pages=2000, cores=2) == 2
    assert workers(0, pages=20, cores=2) == 0  # a pool would cost more than it saves
    assert workers(1, pages=2000, cores=8) == 0
    assert workers(3, pages=5, cores=1) == 3


def test_two_crawler_processes_and_workers_match_one_process(
    site: FixtureServer, db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="settlewatch.prepare")
    with FixtureServer(host="127.0.0.2") as other:
        simple_board(site, prefix="/a")
        simple_board(site, prefix="/b", fee="0.45%")
        simple_board(other, n=4)
        src = tmp_path / "src"
        declare(src, "alpha", site.base, listing="/a/list/index.html")
        declare(src, "beta", site.base, listing="/b/list/index.html")
        declare(src, "gamma", other.base)
        parallel = {"SETTLEWATCH_CRAWL_PROCESSES": "2", "SETTLEWATCH_TRACK_PROCESSES": "2"}
        res = run(["crawl", "--json"], db_url, src, **parallel)
        assert res.exit_code == 0, res.output
        assert sum(o["prepared"] for o in json.loads(res.stdout)) == 10  # workers extracted
        # this process has threads (the test servers): its workers are spawned, not forked
        assert "prepare_pool workers=2 runs=3 start=spawn" in caplog.text
        single_db = f"sqlite:///{tmp_path / 'single.db'}"
        serial = {"SETTLEWATCH_CRAWL_PROCESSES": "1", "SETTLEWATCH_TRACK_PROCESSES": "1"}
        assert run(["crawl"], single_db, src, **serial).exit_code == 0
        first = _summary(db_url)
        assert len(first) == 10 and {c[0] for c in first} == {"alpha", "beta", "gamma"}
        assert first == _summary(single_db)

        # an edit and noise everywhere: workers diff and classify against the old Version
        simple_board(site, prefix="/a", noise=2, fee="0.55%")
        simple_board(site, prefix="/b", noise=2, fee="0.45%")
        simple_board(other, n=4, noise=2)
        res = run(["crawl", "--json"], db_url, src, **parallel)
        assert res.exit_code == 0, res.output
        assert sum(o["prepared"] for o in json.loads(res.stdout)) == 10
        assert run(["crawl"], single_db, src, **serial).exit_code == 0

    got = _summary(db_url)
    assert [c[:3] for c in got if c[2] == "edited"] == [
        ("alpha", f"{site.base}/a/notice/1.html", "edited")
    ]
    assert got == _summary(single_db)
    parallel_runs, serial_runs = _runs(db_url), _runs(single_db)
    for crawl in (parallel_runs[:3], parallel_runs[3:]):
        pids = {r.source_id: r.stats["pid"] for r in crawl}
        assert pids["alpha"] == pids["beta"] != pids["gamma"]  # one host stays in one process
    for crawl in (serial_runs[:3], serial_runs[3:]):
        assert len({r.stats["pid"] for r in crawl}) == 1


def test_sources_listing_the_same_page_each_get_it(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    """One spider crawls both; neither loses the page to the other's duplicate filter."""
    site.html("/shared/n.html", notice_html("关于系统维护的公告", "2026-11-20", "<p>维护。</p>"))
    for name in ("x", "y"):
        site.html(
            f"/{name}/list/index.html", listing_html([("/shared/n.html", "公告", "2026-11-20")])
        )
        declare(tmp_path / "src", name, site.base, listing=f"/{name}/list/index.html")
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    assert sorted((c["source"], c["url"]) for c in changes(sqlite_url)) == [
        ("x", f"{site.base}/shared/n.html"),
        ("y", f"{site.base}/shared/n.html"),
    ]


def test_a_failing_worker_leaves_its_run_to_inline_extraction(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="settlewatch.prepare")
    open_store(sqlite_url).dispose()
    got = dict(prepared_runs(sqlite_url, [424242, 434343], 2, load_taxonomy(), utcnow()))
    assert got == {424242: {}, 434343: {}}  # no such runs: workers fail, nothing is lost
    assert "prepare_pool workers=2 runs=2" in caplog.text  # the pool did start
    assert "prepare_failed run=424242" in caplog.text
    assert "prepare_failed run=434343" in caplog.text


def test_rules_that_fail_to_load_abort_the_runs_and_free_the_leases(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    simple_board(site)
    declare(tmp_path / "src", "acq", site.base)
    engine = open_store(sqlite_url)

    def broken() -> Taxonomy:
        raise RuleError("rules/taxonomy.yaml", "not valid YAML", line=3)

    with pytest.raises(RuleError):
        run_crawls(
            engine, sqlite_url, list(load_sources(tmp_path / "src").values()), broken, load_config()
        )
    [crawl] = _runs(sqlite_url)
    assert crawl.status == "aborted" and "not valid YAML" in crawl.message
    with engine.connect() as conn:
        assert conn.scalar(select(sources.c.lease_owner)) is None
    engine.dispose()


def test_the_cli_forks_its_workers_and_they_prepare_every_new_page(
    site: FixtureServer, db_url: str, tmp_path: Path
) -> None:
    """`settlewatch crawl` has no other threads when it tracks, so its workers are forked."""
    import os
    import subprocess
    import sys

    simple_board(site, prefix="/a")
    simple_board(site, prefix="/b")
    src = tmp_path / "src"
    declare(src, "alpha", site.base, listing="/a/list/index.html")
    declare(src, "beta", site.base, listing="/b/list/index.html")
    env = {**os.environ, "SETTLEWATCH_TRACK_PROCESSES": "2", "SETTLEWATCH_LOG_LEVEL": "WARNING"}
    cmd = [sys.executable, "-m", "settlewatch.cli", "--db", db_url, "--sources", str(src)]
    out = subprocess.run(
        [*cmd, "-v", "crawl", "--json"], env=env, capture_output=True, text=True, timeout=180
    )
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)
    assert [r["prepared"] for r in results] == [3, 3]
    assert "prepare_pool workers=2 runs=2 start=fork" in out.stderr
    assert sorted(c["kind"] for c in changes(db_url)) == ["new"] * 6


def _live_children(pid: int) -> list[int]:
    return [child for child, stat, _cmd in live_processes() if stat[1] == str(pid)]


def test_stop_and_kill_reach_every_forked_crawler(
    site: FixtureServer, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crawler process forks one crawler per group: stop() closes each cleanly (both runs
    marked fetched, by two processes), kill() takes them down with it."""
    monkeypatch.setenv("SETTLEWATCH_CRAWL_PROCESSES", "2")  # two runs: one crawler each
    with FixtureServer(host="127.0.0.2") as other:
        slow_board(site, n=8, delay=1.0)
        slow_board(other, n=8, delay=1.0)
        src = tmp_path / "src"
        declare(src, "near", site.base)
        declare(src, "far", other.base)
        engine = open_store(sqlite_url)

        def start() -> tuple[LocalFetch, list[int]]:
            site.requests.clear()
            other.requests.clear()
            with begin_write(engine) as conn:
                sync_sources(conn, load_sources(src).values())
                ids = [create_run(conn, sid, "cli") for sid in ("near", "far")]
            fetch = LocalFetch(sqlite_url, load_config())
            fetch.start({ids[0]: "127.0.0.1", ids[1]: "127.0.0.2"})
            fetching(site)
            fetching(other)
            return fetch, ids

        fetch, ids = start()
        assert len(_live_children(fetch.proc.pid)) == 2  # one forked crawler per group
        # SIGTERM, passed on: Scrapy closes each spider cleanly. Were it not passed on, the
        # parent would die of it (an error) and take the crawlers along (runs left running).
        fetch.stop()
        assert fetch.done(30.0) and fetch.error() is None
        stopped = [r for r in _runs(sqlite_url) if r.id in ids]
        assert [r.status for r in stopped] == ["fetched", "fetched"]
        assert len({r.stats["pid"] for r in stopped}) == 2

        fetch, ids = start()
        crawlers = _live_children(fetch.proc.pid)
        assert len(crawlers) == 2
        fetch.kill()  # SIGKILL to the parent: the crawlers die with it (PR_SET_PDEATHSIG)
        wait_for(
            lambda: not any(Path(f"/proc/{pid}").exists() for pid in crawlers),
            10,
            "the forked crawlers to die with their parent",
        )
        assert [r.status for r in _runs(sqlite_url) if r.id in ids] == ["running", "running"]
        engine.dispose()
