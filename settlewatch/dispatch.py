"""Where a crawl's fetch runs: a local crawler process, or one Scrapyd job per run.

Both look the same to settlewatch.crawl, which supervises them (leases, timeout, shutdown):
start, poll until done, ask to stop, force a stop. Either way the spider reads its run from
the database and writes Snapshots back to it; tracking happens afterwards, in the caller.
"""

from __future__ import annotations

import logging
import signal
import time
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import make_url

from settlewatch import crawlerproc
from settlewatch.config import Config
from settlewatch.errors import FetchError
from settlewatch.partition import cores, partition_runs, process_count
from settlewatch.scrapyd import Scrapyd
from settlewatch.store.db import normalise_url

log = logging.getLogger("settlewatch.dispatch")


class Fetcher(Protocol):
    def start(self, hosts: dict[int, str]) -> None:
        """Fetch these runs (run id → the host of its source's listing)."""
        ...

    def done(self, wait: float) -> bool:
        """Wait up to ``wait`` seconds; True once every run's fetch has ended."""
        ...

    def stop(self) -> None:
        """Ask the crawler to close cleanly: it stores what it has and marks the run fetched."""
        ...

    def kill(self) -> None: ...

    def error(self) -> str | None: ...

    def close(self) -> None:
        """Let go of what was prepared but never started (idle crawler processes)."""
        ...


def crawler_env(cfg: Config) -> dict[str, str]:
    """The crawler's settings from the config, as the environment variables it reads."""
    return {
        "SETTLEWATCH_USER_AGENT": cfg.get("user_agent"),
        "SETTLEWATCH_DOWNLOAD_TIMEOUT": cfg.get("download_timeout"),
        "SETTLEWATCH_MAX_RESPONSE_BYTES": cfg.get("max_response_bytes"),
    }


class LocalFetch:
    """The local crawler process (settlewatch.crawlerproc), started at once, or earlier by
    ``settlewatch crawl``, so that its imports overlap with the caller's work; ``start`` hands
    it the runs in groups (see settlewatch.partition), and it forks one crawler per group."""

    def __init__(self, db_url: str, cfg: Config, *, render_js: bool = False) -> None:
        self.order = {"db": db_url, "render_js": render_js, "env": crawler_env(cfg)}
        self.setting = cfg.get_int("crawl_processes")
        self.proc = crawlerproc.start()
        self.started = False

    def start(self, hosts: dict[int, str]) -> None:
        n = process_count(self.setting, len(hosts), len(set(hosts.values())), cores())
        groups = partition_runs(hosts, n)
        crawlerproc.hand_over(self.proc, {**self.order, "groups": groups})
        self.started = True

    def close(self) -> None:
        if self.started:
            return
        crawlerproc.hand_over(self.proc, None)  # nothing to crawl: it exits
        if not self.done(10.0):
            self.kill()

    def done(self, wait: float) -> bool:
        return crawlerproc.wait_exit(self.proc, wait)

    def stop(self) -> None:
        # Scrapy treats the first SIGTERM as "close the spider cleanly"; the crawler process
        # passes it on to each crawler it forked
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.proc.poll() is None:  # its crawlers die with it
            self.proc.kill()
            self.proc.wait()

    def error(self) -> str | None:
        code = self.proc.returncode
        return f"crawler process exited with code {code}" if code else None


def shared_db_url(db_url: str) -> str:
    """The database URL as another process on this machine sees it: SQLite paths made absolute."""
    url = make_url(normalise_url(db_url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if not path.is_absolute():
            return url.set(database=str(path.resolve())).render_as_string(hide_password=False)
    return db_url


class ScrapydFetch:
    """One Scrapyd job per run; the spider gets run_id and db as string arguments."""

    POLL = 1.0  # seconds between listjobs.json calls

    def __init__(
        self, server: Scrapyd, db_url: str, cfg: Config, *, render_js: bool = False
    ) -> None:
        self.server = server
        self.db_url = shared_db_url(db_url)
        self.settings = {
            "USER_AGENT": cfg.get("user_agent"),
            "DOWNLOAD_TIMEOUT": cfg.get("download_timeout"),
            "DOWNLOAD_MAXSIZE": cfg.get("max_response_bytes"),
        }
        if render_js:
            # what `crawler.run --render-js` does locally; the crawler settings must honour it
            self.settings["SETTLEWATCH_RENDER_JS"] = "1"
        self.jobs: dict[str, int] = {}  # Scrapyd job id → run id
        self.finished: set[str] = set()
        self.last_poll = 0.0

    def start(self, hosts: dict[int, str]) -> None:
        for run_id in sorted(hosts):
            job = self.server.schedule({"run_id": str(run_id), "db": self.db_url}, self.settings)
            self.jobs[job] = run_id

    def done(self, wait: float) -> bool:
        time.sleep(max(0.0, min(wait, self.last_poll + self.POLL - time.monotonic())))
        self.last_poll = time.monotonic()
        try:
            states = self.server.job_states()
        except FetchError as exc:
            # Scrapyd restarting is not the crawl's end; the lease and timeout still bound it
            log.warning("scrapyd_unreachable error=%r", str(exc))
            return False
        # a job Scrapyd no longer lists has ended (its finished list is bounded)
        self.finished = {j for j in self.jobs if states.get(j, "finished") == "finished"}
        return len(self.finished) == len(self.jobs)

    def _cancel(self, sig: str | None = None) -> None:
        for job in set(self.jobs) - self.finished:
            try:
                self.server.cancel(job, sig)
            except FetchError as exc:
                log.warning("scrapyd_cancel_failed job=%s error=%r", job, str(exc))

    def stop(self) -> None:
        self._cancel()

    def kill(self) -> None:
        self._cancel("KILL")

    def error(self) -> str | None:
        return None

    def close(self) -> None:
        return None
