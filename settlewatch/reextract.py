"""Re-extraction: rebuild Versions from stored Snapshots after a declaration or code fix.

Snapshots are the truth. The newest content Snapshot of every notice is read again with the
current declaration; where the text now differs, a new Version is written and its Change is
marked technical, so it never reaches a merchant.
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from settlewatch.models import SourceDecl
from settlewatch.store.crawls import create_run, sync_sources
from settlewatch.store.db import begin_write, utcnow
from settlewatch.store.schema import crawl_runs, notices, snapshots
from settlewatch.taxonomy import Taxonomy
from settlewatch.tracker import Tracker, TrackResult, page_text


def reextract_source(engine: Engine, decl: SourceDecl, taxonomy: Taxonomy) -> TrackResult:
    now = utcnow()
    with begin_write(engine) as conn:
        sync_sources(conn, [decl])
        run_id = create_run(conn, decl.id, "reextract")
        run = conn.execute(select(crawl_runs).where(crawl_runs.c.id == run_id)).one()
        newest = (
            select(func.max(snapshots.c.id).label("id"))
            .where(
                snapshots.c.source_id == decl.id,
                snapshots.c.role == "notice",
                snapshots.c.status == 200,
                snapshots.c.sha256.is_not(None),
            )
            .where(snapshots.c.url.in_(select(notices.c.url).where(notices.c.source_id == decl.id)))
            .group_by(snapshots.c.url)
            .subquery()
        )
        snaps = list(
            conn.execute(
                select(snapshots)
                .join(newest, newest.c.id == snapshots.c.id)
                .order_by(snapshots.c.id)
            )
        )
        tracker = Tracker(
            conn, decl, run, taxonomy, baseline=False, baseline_days=0, now=now, technical=True
        )
        for snap in snaps:
            text = page_text(conn, decl, snap)
            tracker.content(snap, text, force=True)
        result = tracker.result
        result.pages = len(snaps)
        result.health = "ok"
        conn.execute(
            crawl_runs.update()
            .where(crawl_runs.c.id == run_id)
            .values(
                status="tracked",
                finished_at=now,
                pages=len(snaps),
                health=None,
                message="re-extraction",
                stats={"result": result.as_dict()},
            )
        )
    return result
