"""Extraction ahead of tracking, on every core: the CPU-heavy, read-only part of tracking.

Tracking a run is one write transaction, and SQLite lets one writer in at a time. Reading the
notice text out of a page (parse, noise removal, main content, attachments) needs no lock and
is most of the CPU of tracking new or changed pages. So after a large fetch, worker processes
extract the pages of many runs at once, and ``track_run`` uses their results instead of
extracting again, run by run, as results come in.

A result can never be stale: extraction is a pure function of a Snapshot's bytes, its
attachments and the declaration (``tracker.extract_page``). A page without a result is
extracted inline, as before; a worker that fails costs time, never a change.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sqlalchemy import Engine, func, select

from settlewatch.assess import (
    PreparedPage,
    assess_page,
    attachments_by_parent,
    content_key,
    extract_page,
    same_bytes,
)
from settlewatch.store.db import make_engine
from settlewatch.store.notices import latest_version, notices_by_url
from settlewatch.store.schema import crawl_runs, snapshots
from settlewatch.taxonomy import Taxonomy
from settlewatch.tracker import judge_snapshot, run_pages

log = logging.getLogger("settlewatch.prepare")

Prepared = dict[int, PreparedPage]  # snapshot id → the page read and assessed
MIN_PAGES = 200  # below this a pool's start-up costs more than it saves
MAX_WORKERS = 4

_worker: tuple[Engine, Taxonomy, dt.datetime] | None = None  # per worker process


def workers(setting: int, pages: int, cores: int) -> int:
    """How many worker processes extract ``pages`` pages; 0 = extract inline while tracking.

    ``setting`` (track_processes): 1 = inline, 2 or more = that many, 0 = auto: one per core
    (at most MAX_WORKERS) once there are MIN_PAGES pages to read.
    """
    if setting == 1 or pages == 0:
        return 0
    if setting >= 2:
        return setting
    n = min(cores, MAX_WORKERS)
    return n if n > 1 and pages >= MIN_PAGES else 0


def pages_to_read(engine: Engine, run_ids: list[int]) -> int:
    """Notice pages with a body in these runs: an upper bound on the extraction work."""
    with engine.connect() as conn:
        count = conn.scalar(
            select(func.count())
            .select_from(snapshots)
            .where(snapshots.c.run_id.in_(run_ids))
            .where(snapshots.c.role == "notice")
            .where(snapshots.c.sha256.is_not(None))
            .where(snapshots.c.status != 304)
        )
    return int(count or 0)


def prepare_run(engine: Engine, run_id: int, taxonomy: Taxonomy, now: dt.datetime) -> Prepared:
    """Read and assess every page of a fetched run that tracking would (read-only)."""
    out: Prepared = {}
    with engine.connect() as conn:
        run = conn.execute(select(crawl_runs).where(crawl_runs.c.id == run_id)).one()
        if run.status != "fetched":
            return out
        _src, decl, snaps = run_pages(conn, run)
        attachments = attachments_by_parent(snaps)
        known = notices_by_url(conn, decl.id)
        for snap in snaps:
            if snap.role != "notice" or snap.status in (304, 404, 410) or not snap.sha256:
                continue
            verdict, text, _ = judge_snapshot(conn, decl, snap)
            if verdict.state != "ok":
                continue
            atts = attachments.get(snap.url, [])
            notice = known.get(snap.url)
            if same_bytes(notice, content_key(snap, atts)):
                continue  # tracking will not read it
            old = latest_version(conn, notice.id) if notice is not None else None
            extracted = extract_page(conn, decl, snap, text, atts)
            out[snap.id] = assess_page(extracted, old, taxonomy, now)
    return out


def _init(db_url: str, taxonomy: Taxonomy, now: dt.datetime) -> None:
    global _worker
    _worker = (make_engine(db_url), taxonomy, now)


def _work(run_id: int) -> tuple[int, Prepared | None, str]:
    assert _worker is not None, "worker not initialised"
    engine, taxonomy, now = _worker
    try:
        return run_id, prepare_run(engine, run_id, taxonomy, now), ""
    except Exception as exc:  # tracking reads the pages inline, and reports the error then
        return run_id, None, f"{type(exc).__name__}: {exc}"


def _context() -> Any:
    # fork is instant and shares what is loaded, but is only safe without other threads
    # (the scheduler and the web app have them): spawn starts clean processes there
    safe_fork = sys.platform == "linux" and threading.active_count() == 1
    return multiprocessing.get_context("fork" if safe_fork else "spawn")


def prepared_runs(
    db_url: str, run_ids: list[int], n: int, taxonomy: Taxonomy, now: dt.datetime
) -> Iterator[tuple[int, Prepared]]:
    """(run id, extractions) for every run once, in the order workers finish them.

    With ``n`` = 0, when no pool can start, or for the runs of a worker that died, a run comes
    back with nothing prepared, and tracking extracts inline.
    """
    done: set[int] = set()
    if n >= 2 and len(run_ids) >= 2:
        try:
            context = _context()
            log.info(
                "prepare_pool workers=%d runs=%d start=%s",
                min(n, len(run_ids)),
                len(run_ids),
                context.get_start_method(),
            )
            pool = ProcessPoolExecutor(
                min(n, len(run_ids)),
                mp_context=context,
                initializer=_init,
                initargs=(db_url, taxonomy, now),
            )
        except OSError as exc:
            log.warning("prepare_pool_failed error=%r", str(exc))
        else:
            try:
                futures = [pool.submit(_work, r) for r in run_ids]
                for future in as_completed(futures):
                    run_id, prepared, error = future.result()
                    if error:
                        log.warning("prepare_failed run=%s error=%r", run_id, error)
                    done.add(run_id)
                    yield run_id, prepared or {}
            except BrokenProcessPool as exc:  # a worker died: the rest are tracked inline
                log.warning("prepare_pool_broken error=%r", str(exc))
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
    yield from ((r, {}) for r in run_ids if r not in done)
