"""Run crawls: one code path for the CLI, the web app and the scheduler.

Take each source's lease, open a run, fetch in a separate process (Scrapy's reactor cannot
restart), then track each fetched run in its own transaction and release the leases.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, update

from settlewatch.config import Config
from settlewatch.errors import LockedError
from settlewatch.models import SourceDecl
from settlewatch.store.crawls import (
    acquire_lease,
    create_run,
    release_leases,
    renew_leases,
    sync_sources,
)
from settlewatch.store.db import begin_write, utcnow
from settlewatch.store.schema import crawl_runs
from settlewatch.taxonomy import Taxonomy
from settlewatch.track import TrackResult, track_run

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CrawlOutcome:
    source_id: str
    result: TrackResult | None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.result is None:
            return {"source": self.source_id, "status": "refused", "error": self.error}
        return {**self.result.as_dict(), "error": self.error}


def lease_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _crawler_env(cfg: Config) -> dict[str, str]:
    env = dict(os.environ)
    env["SETTLEWATCH_USER_AGENT"] = cfg.get("user_agent")
    env["SETTLEWATCH_DOWNLOAD_TIMEOUT"] = cfg.get("download_timeout")
    env["SETTLEWATCH_MAX_RESPONSE_BYTES"] = cfg.get("max_response_bytes")
    return env


def _fetch(
    db_url: str, run_ids: list[int], cfg: Config, engine: Engine, leased: list[str], owner: str
) -> str | None:
    """Run the crawler process; keep the leases alive meanwhile. Returns an error or None."""
    lease = cfg.get_int("lease_seconds")
    deadline = time.monotonic() + cfg.get_int("crawl_timeout")
    cmd = [sys.executable, "-m", "crawler.run", "--db", db_url, *map(str, run_ids)]
    proc = subprocess.Popen(cmd, env=_crawler_env(cfg))
    try:
        while True:
            try:
                code = proc.wait(timeout=max(1.0, lease / 3))
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    proc.terminate()
                    proc.wait(timeout=30)
                    return f"crawl timed out after {cfg.get('crawl_timeout')} s"
                renew_leases(engine, leased, owner, lease)
    except BaseException:
        proc.terminate()
        proc.wait(timeout=30)
        raise
    return None if code == 0 else f"crawler process exited with code {code}"


def run_crawls(
    engine: Engine,
    db_url: str,
    decls: list[SourceDecl],
    taxonomy: Taxonomy,
    cfg: Config,
    *,
    trigger: str = "cli",
    progress: Progress = lambda _m: None,
) -> list[CrawlOutcome]:
    owner = lease_owner()
    outcomes: list[CrawlOutcome] = []
    with begin_write(engine) as conn:
        sync_sources(conn, decls)
    leased: list[str] = []
    for decl in decls:
        try:
            acquire_lease(engine, decl.id, owner, cfg.get_int("lease_seconds"))
            leased.append(decl.id)
        except LockedError as exc:
            outcomes.append(CrawlOutcome(decl.id, None, str(exc)))
            progress(f"{decl.id}: refused: {exc}")
    try:
        if not leased:
            return outcomes
        with begin_write(engine) as conn:
            runs = {sid: create_run(conn, sid, trigger) for sid in leased}
        progress(f"fetching {len(leased)} source(s): {', '.join(leased)}")
        error = _fetch(db_url, list(runs.values()), cfg, engine, leased, owner)
        for sid, run_id in runs.items():
            result = track_run(engine, run_id, taxonomy, baseline_days=cfg.get_int("baseline_days"))
            if result.status != "tracked":
                with begin_write(engine) as conn:
                    conn.execute(
                        update(crawl_runs)
                        .where(crawl_runs.c.id == run_id)
                        .where(crawl_runs.c.status == "running")
                        .values(
                            status="aborted",
                            finished_at=utcnow(),
                            message=error or "crawler stopped before finishing",
                        )
                    )
                result.status = "aborted"
            outcomes.append(
                CrawlOutcome(sid, result, error if result.status != "tracked" else None)
            )
            progress(_line(result))
    finally:
        release_leases(engine, leased, owner)
    return outcomes


def _line(r: TrackResult) -> str:
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(r.changes.items())) or "no changes"
    health = r.health + (f" ({r.reason})" if r.reason else "")
    return f"{r.source_id}: {r.status}, {r.pages} pages, {kinds}, health {health}"
