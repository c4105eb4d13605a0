"""Run crawls: one code path for the CLI, the web app and the scheduler.

Take each source's lease, open a run, fetch in a separate process (Scrapy's reactor cannot
restart), then track each fetched run in its own transaction and release the leases.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, or_, select, update

from settlewatch.background import Background
from settlewatch.config import Config
from settlewatch.dispatch import Fetcher, LocalFetch, ScrapydFetch
from settlewatch.errors import OperationalError
from settlewatch.models import SourceDecl
from settlewatch.partition import cores, host_of
from settlewatch.scrapyd import DEFAULT_PROJECT, Scrapyd
from settlewatch.store.crawls import (
    acquire_leases,
    create_run,
    release_leases,
    renew_leases,
    sync_sources,
)
from settlewatch.store.db import begin_write, utcnow
from settlewatch.store.schema import crawl_runs, sources
from settlewatch.taxonomy import Taxonomy

if TYPE_CHECKING:
    from settlewatch.tracker import TrackResult

Progress = Callable[[str], None]
STOPPED = "stopped: settlewatch is shutting down"
STOP_GRACE = 30.0  # seconds a crawler gets to close cleanly before it is killed
TICK = 0.5  # seconds between checks for the end, the deadline and a stop request


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
    """Who holds a lease: host and pid for the operator, plus a token per call, because one
    process (the scheduler's threads, the web app's workers) may start several crawls."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def scrapyd_server(cfg: Config) -> Scrapyd | None:
    """The Scrapyd to dispatch to, when SETTLEWATCH_SCRAPYD_URL (or scrapyd_url) is set."""
    url = cfg.values.get("scrapyd_url") or os.environ.get("SETTLEWATCH_SCRAPYD_URL", "")
    project = cfg.values.get("scrapyd_project") or os.environ.get(
        "SETTLEWATCH_SCRAPYD_PROJECT", DEFAULT_PROJECT
    )
    return Scrapyd(url, project) if url.strip() else None


def fetcher_for(db_url: str, decls: list[SourceDecl], cfg: Config) -> Fetcher:
    """Where these sources will be fetched; the local crawler process starts warming up now."""
    render_js = any(d.render_js for d in decls)
    server = scrapyd_server(cfg)
    if server is not None:
        return ScrapydFetch(server, db_url, cfg, render_js=render_js)
    return LocalFetch(db_url, cfg, render_js=render_js)


def listing_host(decl: SourceDecl) -> str:
    return host_of(decl.listings[0].url) if decl.listings else decl.id


def _supervise(
    fetcher: Fetcher,
    hosts: dict[int, str],
    cfg: Config,
    engine: Engine,
    leased: list[str],
    owner: str,
    stop: threading.Event,
) -> str | None:
    """Run the fetch to its end, keeping the leases alive. Returns an error or None."""
    lease = cfg.get_int("lease_seconds")
    timeout = cfg.get_int("crawl_timeout")
    deadline = time.monotonic() + timeout
    renew_every = max(0.5, lease / 3)
    renew_at = time.monotonic() + renew_every

    def halt(reason: str) -> str:
        fetcher.stop()
        give_up = time.monotonic() + STOP_GRACE
        while not fetcher.done(TICK):
            if time.monotonic() > give_up:
                fetcher.kill()
                break
            renew_leases(engine, leased, owner, lease)
        return reason

    if stop.is_set():  # shutting down before the crawler started: do not start it
        return STOPPED
    try:
        fetcher.start(hosts)
        while not fetcher.done(TICK):
            if stop.is_set():
                return halt(STOPPED)
            if time.monotonic() > deadline:
                return halt(f"crawl timed out after {timeout} s")
            if time.monotonic() >= renew_at:
                renew_leases(engine, leased, owner, lease)
                renew_at = time.monotonic() + renew_every
    except OperationalError as exc:  # Scrapyd unreachable or refusing the job
        fetcher.stop()
        return str(exc)
    except BaseException:
        fetcher.stop()
        if not fetcher.done(STOP_GRACE):
            fetcher.kill()
        raise
    return fetcher.error()


def _abort(engine: Engine, run_id: int, message: str) -> None:
    with begin_write(engine) as conn:
        conn.execute(
            update(crawl_runs)
            .where(crawl_runs.c.id == run_id)
            .where(crawl_runs.c.status.in_(("running", "fetched")))
            .values(status="aborted", finished_at=utcnow(), message=message)
        )


def close_orphaned_runs(engine: Engine) -> list[int]:
    """Abort runs left 'running' or 'fetched' by a crawl that died: their lease has expired.

    A live crawl renews its lease every lease_seconds/3, so a run whose source lease is free
    or expired has nobody left to finish it. Returns the run ids closed.
    """
    now = utcnow()
    free = select(sources.c.id).where(
        or_(sources.c.lease_until.is_(None), sources.c.lease_until < now)
    )
    with begin_write(engine) as conn:
        ids = list(
            conn.scalars(
                select(crawl_runs.c.id)
                .where(crawl_runs.c.status.in_(("running", "fetched")))
                .where(crawl_runs.c.source_id.in_(free))
            )
        )
        if ids:
            conn.execute(
                update(crawl_runs)
                .where(crawl_runs.c.id.in_(ids))
                .values(
                    status="aborted",
                    finished_at=now,
                    message="crawl process ended before the run finished",
                )
            )
    return ids


def run_crawls(
    engine: Engine,
    db_url: str,
    decls: list[SourceDecl],
    taxonomy: Taxonomy | Callable[[], Taxonomy],
    cfg: Config,
    *,
    trigger: str = "cli",
    progress: Progress = lambda _m: None,
    stop: threading.Event | None = None,
) -> list[CrawlOutcome]:
    """Crawl ``decls`` now; a source whose lease is held elsewhere is refused, not waited for.

    Setting ``stop`` (the scheduler does on SIGTERM) asks the crawler to close cleanly; the
    runs are then aborted, not tracked, so nothing is half-recorded. ``taxonomy`` may be a
    loader: it then loads while the crawler fetches, and a bad rule file fails the crawl
    before any run is tracked (the runs are aborted).
    """
    stop = stop or threading.Event()

    def load() -> Taxonomy:  # on a thread, while the crawler fetches
        _import_tracking()
        return taxonomy() if callable(taxonomy) else taxonomy

    loading: Background[Taxonomy] = Background(load)
    fetcher = fetcher_for(db_url, decls, cfg)
    try:
        return _crawl(engine, db_url, decls, loading, cfg, fetcher, trigger, progress, stop)
    finally:
        fetcher.close()


def _import_tracking() -> None:
    """Import tracking's modules (extraction, classification, alerts: ~0.1 s). The loader
    thread does it while the crawler fetches, so that it does not delay the first request."""
    import settlewatch.operator_alert
    import settlewatch.prepare
    import settlewatch.track  # noqa: F401


def _crawl(
    engine: Engine,
    db_url: str,
    decls: list[SourceDecl],
    loading: Background[Taxonomy],
    cfg: Config,
    fetcher: Fetcher,
    trigger: str,
    progress: Progress,
    stop: threading.Event,
) -> list[CrawlOutcome]:
    owner = lease_owner()
    outcomes: list[CrawlOutcome] = []
    with begin_write(engine) as conn:
        sync_sources(conn, decls)
    refused = acquire_leases(engine, [d.id for d in decls], owner, cfg.get_int("lease_seconds"))
    leased = [d.id for d in decls if d.id not in refused]
    for sid, why in refused.items():
        outcomes.append(CrawlOutcome(sid, None, why))
        progress(f"{sid}: refused: {why}")
    try:
        if not leased:
            return outcomes
        with begin_write(engine) as conn:
            runs = {sid: create_run(conn, sid, trigger) for sid in leased}
        progress(f"fetching {len(leased)} source(s): {', '.join(leased)}")
        hosts = {runs[d.id]: listing_host(d) for d in decls if d.id in runs}
        error = _supervise(fetcher, hosts, cfg, engine, leased, owner, stop)
        if error == STOPPED:
            from settlewatch.tracker import TrackResult

            for sid, run_id in runs.items():
                _abort(engine, run_id, STOPPED)
                result = TrackResult(sid, run_id, "aborted")
                outcomes.append(CrawlOutcome(sid, result, error))
                progress(_line(result))
        else:
            try:
                rules = loading.result()
            except BaseException as exc:
                for run_id in runs.values():
                    _abort(engine, run_id, f"not tracked: {exc}")
                raise
            outcomes += _track_all(engine, db_url, runs, rules, cfg, error, progress)
    finally:
        release_leases(engine, leased, owner)
    return outcomes


def _track_all(
    engine: Engine,
    db_url: str,
    runs: dict[str, int],
    taxonomy: Taxonomy,
    cfg: Config,
    error: str | None,
    progress: Progress,
) -> list[CrawlOutcome]:
    """Track every fetched run, each in its own transaction, extracting ahead on all cores."""
    from settlewatch.operator_alert import operator_recipients  # see _import_tracking
    from settlewatch.prepare import pages_to_read, prepared_runs, workers
    from settlewatch.track import track_run

    source_of = {run_id: sid for sid, run_id in runs.items()}
    ids = list(runs.values())
    n = workers(cfg.get_int("track_processes"), pages_to_read(engine, ids), cores())
    outcomes = []
    now = utcnow()  # one clock for the workers' classification and the tracking
    baseline_days = cfg.get_int("baseline_days")
    recipients = operator_recipients(values=cfg.values)
    for run_id, prepared in prepared_runs(db_url, ids, n, taxonomy, now):
        sid = source_of[run_id]
        result = track_run(
            engine,
            run_id,
            taxonomy,
            now=now,
            baseline_days=baseline_days,
            recipients=recipients,
            prepared=prepared,
        )
        if result.status != "tracked":
            _abort(engine, run_id, error or "crawler stopped before finishing")
            result.status = "aborted"
        outcomes.append(CrawlOutcome(sid, result, error if result.status != "tracked" else None))
        progress(_line(result))
    return outcomes


def _line(r: TrackResult) -> str:
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(r.changes.items())) or "no changes"
    health = r.health + (f" ({r.reason})" if r.reason else "")
    return f"{r.source_id}: {r.status}, {r.pages} pages, {kinds}, health {health}"
