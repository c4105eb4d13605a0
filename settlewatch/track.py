"""Tracking: a fetched crawl run's Snapshots → Notices, Versions, Changes and Findings.

One run is tracked in one transaction, so a crash leaves the database as it was and the
rerun does the same work once. Health comes first: an unhealthy page never becomes a change.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import Connection, Engine, Row, select, update

from settlewatch.assess import PreparedPage, attachments_by_parent
from settlewatch.health import PageVerdict, worst
from settlewatch.listing import listing_matches
from settlewatch.models import SourceDecl
from settlewatch.operator_alert import OperatorRecipients, source_health_changed
from settlewatch.store.db import begin_write, utcnow
from settlewatch.store.schema import crawl_runs, sources
from settlewatch.taxonomy import Taxonomy
from settlewatch.tracker import Tracker, TrackResult, judge_snapshot, run_pages

log = logging.getLogger("settlewatch.track")


def _listing_health(
    conn: Connection, decl: SourceDecl, snaps: list[Row[Any]], today: dt.date
) -> PageVerdict:
    states: list[PageVerdict] = []
    first_pages = {rule.url: rule for rule in decl.listings}
    for snap in snaps:
        verdict, text, body = judge_snapshot(conn, decl, snap)
        rule = first_pages.get(snap.url) if verdict.state == "ok" else None
        if rule is not None and not listing_matches(rule, snap.url, body, text, today):
            verdict = PageVerdict("broken", f"listing selector matched nothing at {snap.url}")
        states.append(verdict)
    if not states:
        return PageVerdict("failing", "no listing was fetched")
    bad = [v for v in states if v.state != "ok"]
    state = worst([v.state for v in states])
    return PageVerdict(state, bad[0].reason if bad else "")


def _update_source(
    conn: Connection,
    src: Row[Any],
    result: TrackResult,
    started: dt.datetime,
    now: dt.datetime,
    recipients: OperatorRecipients | None,
) -> None:
    ok = result.health == "ok"
    values: dict[str, Any] = {
        "health": result.health,
        "health_reason": result.reason,
        "last_attempt": started,
        "consecutive_failures": 0 if ok else src.consecutive_failures + 1,
    }
    if ok:
        values.update(last_success=now, baselined=True)
    was_ok = src.health in ("ok", "unknown")
    if was_ok and not ok:
        result.alert = f"source {src.id} is {result.health}: {result.reason}"
        log.warning(
            "source_unhealthy source=%s state=%s reason=%s", src.id, result.health, result.reason
        )
    elif not was_ok and ok:
        result.alert = f"source {src.id} recovered"
        log.info("source_recovered source=%s", src.id)
    conn.execute(update(sources).where(sources.c.id == src.id).values(**values))
    # in the same transaction: the operator alert exists if and only if the transition does
    source_health_changed(conn, src.id, result.health, result.reason, now, recipients)


def track_run(
    engine: Engine,
    run_id: int,
    taxonomy: Taxonomy,
    *,
    baseline_days: int = 30,
    now: dt.datetime | None = None,
    recipients: OperatorRecipients | None = None,
    prepared: dict[int, PreparedPage] | None = None,
) -> TrackResult:
    """Track one fetched run. A run that is not 'fetched' is left alone (idempotent).

    ``prepared``: pages read and assessed ahead of the transaction (settlewatch.prepare)."""
    now = now or utcnow()
    with begin_write(engine) as conn:
        run = conn.execute(select(crawl_runs).where(crawl_runs.c.id == run_id)).one()
        if run.status != "fetched":
            return TrackResult(run.source_id, run_id, run.status)
        src, decl, snaps = run_pages(conn, run)
        listing = _listing_health(conn, decl, [s for s in snaps if s.role == "listing"], now.date())
        tracker = Tracker(
            conn, decl, run, taxonomy, not src.baselined, baseline_days, now, prepared=prepared
        )
        tracker.attachments = attachments_by_parent(snaps)
        notice_snaps = [s for s in snaps if s.role == "notice"]
        for snap in notice_snaps:
            tracker.notice(snap)
        tracker.finish()
        result = tracker.result
        result.pages = len(snaps)
        result.health, result.reason = listing.state, listing.reason
        if listing.state == "ok" and notice_snaps and tracker.failures * 2 >= len(notice_snaps):
            result.health = "failing"
            result.reason = f"{tracker.failures} of {len(notice_snaps)} notice pages failed"
        _update_source(conn, src, result, run.started_at, now, recipients)
        conn.execute(
            update(crawl_runs)
            .where(crawl_runs.c.id == run_id)
            .values(
                status="tracked",
                finished_at=now,
                health=result.health,
                message=result.reason,
                stats={**(run.stats or {}), "result": result.as_dict()},
            )
        )
    return result
