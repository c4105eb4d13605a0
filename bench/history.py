"""Age a store: the history that weeks of scheduled crawls and weekly digests leave behind.

    python -m bench.history --db sqlite:///rep0.db --crawls 250 --digests 50000

The crawl scenarios start from an empty store, so the second crawl meets a history of one
crawl. In production every crawl adds a run per source and a Snapshot per page, and every
weekly digest an outbox row per merchant. ``grow`` adds that history to a tracked store: for
each past crawl, a tracked run per source whose Snapshots repeat the source's newest run as
304s (an unchanged crawl), and ``digests`` sent digest emails. Nothing else changes, so a
crawl afterwards must find exactly what it found before, only with more rows around it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, literal, select

from settlewatch.store.db import begin_write, make_engine
from settlewatch.store.schema import crawl_runs, outbox, snapshots

BODY = "尊敬的商户：本周与您的结算相关的公告如下。" * 40  # ~1.6 kB, a short digest email
BATCH = 5000


def _newest_runs(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        select(crawl_runs.c.source_id, func.max(crawl_runs.c.id))
        .where(crawl_runs.c.status == "tracked")
        .group_by(crawl_runs.c.source_id)
    )
    return {sid: int(run_id) for sid, run_id in rows}


def _past_crawl(conn: Connection, newest: dict[str, int], when: dt.datetime) -> int:
    """One unchanged crawl of every source, at ``when``; returns the Snapshots added."""
    added = 0
    for sid, template in newest.items():
        run_id = conn.execute(
            insert(crawl_runs).values(
                source_id=sid,
                status="tracked",
                trigger="bench-history",
                started_at=when,
                finished_at=when,
                pages=0,
                health="ok",
                message="",
                stats={},
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        cols = ("source_id", "url", "role", "headers", "sha256", "listing_title", "listing_date")
        added += conn.execute(
            insert(snapshots).from_select(
                ["run_id", "status", "fetched_at", *cols],
                select(
                    literal(run_id),
                    literal(304),
                    literal(when, snapshots.c.fetched_at.type),
                    *(snapshots.c[c] for c in cols),
                ).where(snapshots.c.run_id == template),
            )
        ).rowcount
    return added


def _digests(first: int, n: int, when: dt.datetime) -> list[dict[str, Any]]:
    return [
        {
            "kind": "digest",
            "channel": "email",
            "recipient": f"merchant{i}@example.com",
            "period": f"{when:%G}-W{(i // 10_000) % 52 + 1:02d}",
            "subject": "settlewatch 每周结算提示",
            "body_text": BODY,
            "body_html": f"<p>{BODY}</p>",
            "attachments": [],
            "content_hash": f"{i:064x}",
            "idempotency_key": f"<bench-history-{i}@settlewatch>",
            "state": "sent",
            "attempts": 1,
            "last_error": "",
            "created_at": when,
            "sent_at": when,
        }
        for i in range(first, first + n)
    ]


def grow(db_url: str, crawls: int, digests: int) -> dict[str, int]:
    """Add ``crawls`` unchanged past crawls and ``digests`` sent digests; returns the rows
    added per table. The store must hold at least one tracked crawl."""
    engine = make_engine(db_url)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    try:
        with begin_write(engine) as conn:
            newest = _newest_runs(conn)
            if not newest:
                raise ValueError(f"{db_url}: no tracked crawl to repeat")
            hours = (start + dt.timedelta(hours=i) for i in range(crawls))
            added = sum(_past_crawl(conn, newest, when) for when in hours)
        for lo in range(0, digests, BATCH):
            with begin_write(engine) as conn:
                conn.execute(insert(outbox), _digests(lo, min(BATCH, digests - lo), start))
    finally:
        engine.dispose()
    return {"crawl_runs": crawls * len(newest), "snapshots": added, "outbox": digests}


def aged_copy(db_file: Path, dest: Path, crawls: int, digests: int) -> dict[str, int]:
    """Copy a SQLite store (with SQLite's backup, so a WAL is included) and age the copy."""
    dest.unlink(missing_ok=True)
    with sqlite3.connect(db_file) as src, sqlite3.connect(dest) as out:
        src.backup(out)
    return grow(f"sqlite:///{dest}", crawls, digests)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__.split("\n")[0])
    p.add_argument("--db", required=True, help="a tracked store, e.g. sqlite:///rep0.db")
    p.add_argument("--crawls", type=int, default=250, help="past unchanged crawls to add")
    p.add_argument("--digests", type=int, default=50_000, help="sent digest emails to add")
    args = p.parse_args(argv)
    print(grow(args.db, args.crawls, args.digests))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
