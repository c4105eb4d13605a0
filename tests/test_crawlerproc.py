"""The crawler process: started early by `settlewatch crawl`, told what to crawl on stdin."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from settlewatch import crawlerproc, gctune
from settlewatch.store.db import open_store


@pytest.fixture(autouse=True)
def no_early_process() -> Iterator[None]:
    yield
    proc = crawlerproc._early
    crawlerproc._early = None
    if proc is not None:
        crawlerproc.hand_over(proc, None)
        proc.wait(timeout=30)


def test_command_of_skips_global_options_and_their_values() -> None:
    assert crawlerproc.command_of(["--db", "x.db", "--sources", "src", "crawl", "--json"]) == (
        "crawl"
    )
    assert crawlerproc.command_of(["-v", "--db=x.db", "crawl"]) == "crawl"
    assert crawlerproc.command_of(["--config", "crawl", "sources", "list"]) == "sources"
    assert crawlerproc.command_of(["--version"]) is None


def test_start_early_only_for_a_local_crawl(monkeypatch: pytest.MonkeyPatch) -> None:
    for argv in (["sources", "list"], ["crawl", "--help"], ["-h"], []):
        crawlerproc.start_early(argv)
        assert crawlerproc._early is None, argv
    monkeypatch.setenv("SETTLEWATCH_SCRAPYD_URL", "http://127.0.0.1:6800")
    crawlerproc.start_early(["crawl"])  # Scrapyd crawls: no local crawler to warm up
    assert crawlerproc._early is None
    monkeypatch.delenv("SETTLEWATCH_SCRAPYD_URL")
    crawlerproc.start_early(["--db", "x.db", "crawl"])
    early = crawlerproc._early
    assert early is not None and early.poll() is None
    assert crawlerproc.start() is early  # the crawl takes the process started early
    assert crawlerproc._early is None
    crawlerproc.hand_over(early, None)  # nothing to crawl after all: it exits cleanly
    assert early.wait(timeout=30) == 0


def test_a_malformed_order_is_refused_with_a_clear_error() -> None:
    proc = subprocess.run(
        crawlerproc.CMD,
        input='{"groups": [[1, 2]]}\n',
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "stdin: expected a JSON order" in proc.stderr and "'db'" in proc.stderr


def test_a_crawler_that_fails_to_start_is_reported_by_each_fork(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    open_store(db).dispose()
    proc = subprocess.run(
        crawlerproc.CMD,
        input=json.dumps({"db": db, "groups": [[998], [999]]}) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    for run_id in (998, 999):
        assert f"crawl run {run_id}: no such run or source" in proc.stderr


def test_short_runs_freeze_what_is_loaded_and_collect_less_often() -> None:
    """In a child process: the tuning is process-wide and must not reach the test runner."""
    code = (
        "import gc, sqlalchemy; from settlewatch import gctune; gctune.for_short_run(); "
        "print(*gc.get_threshold(), gc.get_freeze_count())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    young, middle, old, frozen = map(int, out.stdout.split())
    assert (young, middle, old) == gctune.THRESHOLDS and young > 700  # CPython's default: 700
    assert frozen > 10_000  # SQLAlchemy's objects, out of the collector's sight


def test_wait_exit_wakes_when_the_process_ends_and_times_out_while_it_runs() -> None:
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; sys.stdin.read(); time.sleep(0.2)"],
        stdin=subprocess.PIPE,
    )
    try:
        t0 = time.monotonic()
        assert crawlerproc.wait_exit(sleeper, 0.3) is False  # still reading stdin
        assert time.monotonic() - t0 >= 0.25
        assert crawlerproc.wait_exit(sleeper, 0) is False
        assert sleeper.stdin is not None
        sleeper.stdin.close()  # it exits ~0.2 s later
        t0 = time.monotonic()
        assert crawlerproc.wait_exit(sleeper, 30) is True
        waited = time.monotonic() - t0
        assert 0.1 < waited < 10, waited  # woke at the exit, not at the timeout
        assert sleeper.returncode == 0
        assert crawlerproc.wait_exit(sleeper, 30) is True  # already reaped: at once
    finally:
        sleeper.kill()
        sleeper.wait()


def test_preloading_keeps_scrapy_s_deprecated_aliases_named_and_restores_inspect() -> None:
    # crawler.process swaps inspect.stack for a two-frame one while preloading (see
    # _shallow_stacks); Scrapy names its deprecated aliases' module from that stack
    code = (
        "import inspect, json\n"
        "real = inspect.stack\n"
        "from crawler import process\n"
        "process.preload_components(process.build_settings(''))\n"
        "from scrapy.core.downloader import contextfactory, tls\n"
        "print(json.dumps([inspect.stack is real, inspect.stack()[0].function,\n"
        "    contextfactory.ScrapyClientContextFactory.__module__,\n"
        "    contextfactory.AcceptableProtocolsContextFactory.__module__,\n"
        "    tls.ScrapyClientTLSOptions.__module__]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    restored, caller, *modules = json.loads(out.stdout)
    assert restored is True
    assert caller == "<module>"  # a full stack again, starting with its caller
    assert modules == [
        "scrapy.core.downloader.contextfactory",
        "scrapy.core.downloader.contextfactory",
        "scrapy.core.downloader.tls",
    ]
