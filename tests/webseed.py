"""Seed the store for web tests through the store functions (no crawl needed).

Each seeded Version goes through the same steps tracking takes: a Snapshot of the page, a
Version, a Change (with its diff for edits), the classifier's Finding and its fingerprint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import replace
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine, insert, select, update
from werkzeug.test import TestResponse

from settlewatch.assess import assess, version_text
from settlewatch.models import ChangeKind, Extracted, Fetch, Merchant
from settlewatch.pubdate import parse_date
from settlewatch.store import notices as nstore
from settlewatch.store.crawls import create_run, save_fetches
from settlewatch.store.db import begin_write, utcnow
from settlewatch.store.merchants import upsert_merchants
from settlewatch.store.schema import (
    changes,
    crawl_runs,
    findings,
    notices,
    snapshots,
    sources,
    versions,
)
from settlewatch.taxonomy import Taxonomy, load_taxonomy
from settlewatch.users import add_user

PASSWORD = "correct horse battery"


def ensure_source(engine: Engine, source_id: str = "acq_test", kind: str = "acquirer") -> None:
    with begin_write(engine) as conn:
        if conn.execute(sources.select().where(sources.c.id == source_id)).first():
            return
        conn.execute(
            sources.insert().values(
                id=source_id,
                name=f"Test acquirer {source_id}",
                authority=source_id,
                kind=kind,
                jurisdiction="CN",
                decl={},
                health="ok",
                health_reason="",
                consecutive_failures=0,
                baselined=True,
                last_attempt=utcnow(),
                last_success=utcnow(),
            )
        )


def add_version(
    engine: Engine,
    title: str,
    body: str,
    *,
    source_id: str = "acq_test",
    url: str = "http://127.0.0.1:9/notice/1.html",
    published: str = "2026-11-20",
    now: dt.datetime | None = None,
    severity: str | None = None,
    taxonomy: Taxonomy | None = None,
) -> int:
    """Record a new Version of the notice at ``url`` and its Finding; return the finding id."""
    taxonomy = taxonomy or load_taxonomy()
    now = now or utcnow()
    ensure_source(engine, source_id)
    html = f"<html><body><h1>{title}</h1><div class='body'>{body}</div></body></html>".encode()
    extracted = Extracted(title, parse_date(published), body)
    with begin_write(engine) as conn:
        run_id = create_run(conn, source_id, "test")
        fetch = Fetch(source_id, url, "notice", 200, {"Content-Type": "text/html"}, html, now)
        save_fetches(conn, run_id, [fetch])
        snap_id = conn.scalar(
            snapshots.select().with_only_columns(snapshots.c.id).where(snapshots.c.run_id == run_id)
        )
        known = select(notices.c.id).where(notices.c.source_id == source_id, notices.c.url == url)
        notice_id = conn.scalar(known) or nstore.create_notice(conn, source_id, url, now)
        old = nstore.latest_version(conn, notice_id)
        seq = old.seq + 1 if old else 1
        vid = nstore.add_version(conn, notice_id, seq, extracted, snap_id, now)
        kind: ChangeKind = "edited" if old else "new"
        assessed = assess(taxonomy, kind, extracted, version_text(old) if old else "", now)
        delta, finding = assessed.delta, assessed.finding
        change_id = nstore.add_change(
            conn,
            notice_id=notice_id,
            run_id=run_id,
            kind=kind,
            old_version_id=old.id if old else None,
            new_version_id=vid,
            diff=delta.unified if delta else "",
            baseline=False,
            technical=False,
            created_at=now,
        )
        if severity:
            finding = replace(finding, severity=severity)
        fp = nstore.finding_fingerprint(
            change_id, old.text_hash if old else None, nstore.text_hash(extracted)
        )
        conn.execute(
            update(crawl_runs)
            .where(crawl_runs.c.id == run_id)
            .values(status="tracked", finished_at=now)
        )
        return nstore.add_finding(conn, change_id, finding, "pending", fp, now)


def add_users(engine: Engine, **people: str) -> None:
    """add_users(engine, alice="officer", bob="viewer"): every password is PASSWORD."""
    with begin_write(engine) as conn:
        for name, role in people.items():
            add_user(conn, name, role, PASSWORD, utcnow())


def add_merchants(engine: Engine, source_id: str = "acq_test") -> None:
    with begin_write(engine) as conn:
        upsert_merchants(
            conn,
            [
                Merchant(
                    "m1",
                    "Tea House 茶馆",
                    "m1@example.com",
                    "zh",
                    (source_id,),
                    ("rt_d0", "qr_scan"),
                    ("qr",),
                ),
                Merchant(
                    "m2", "Book Shop", "m2@example.com", "en", (source_id,), ("refund",), ("pos",)
                ),
                Merchant(
                    "m3", "Other acquirer", "m3@example.com", "zh", ("elsewhere",), ("rt_d0",)
                ),
            ],
        )


def bulk_findings(engine: Engine, n: int, source_id: str = "bulk") -> None:
    """``n`` pending findings, inserted in bulk (one notice, Version and Change each)."""
    ensure_source(engine, source_id)
    now = utcnow()
    categories = ["maint_planned", "fee_change", "holiday_settlement", "maint_emergency"]
    with begin_write(engine) as conn:
        run_id = create_run(conn, source_id, "test")
        conn.execute(update(crawl_runs).where(crawl_runs.c.id == run_id).values(status="tracked"))
        conn.execute(
            insert(notices),
            [
                {
                    "id": 100_000 + i,
                    "source_id": source_id,
                    "url": f"http://b/{i}",
                    "state": "active",
                    "missing_count": 0,
                    "first_seen": now,
                    "last_seen": now,
                }
                for i in range(n)
            ],
        )
        conn.execute(
            insert(versions),
            [
                {
                    "id": 100_000 + i,
                    "notice_id": 100_000 + i,
                    "seq": 1,
                    "text_hash": hashlib.sha256(str(i).encode()).hexdigest(),
                    "title": f"关于系统维护的公告 {i}",
                    "published": "2026-11-20",
                    "body": "我司将于2026年12月5日凌晨2:00至6:00进行系统维护。",
                    "snapshot_id": None,
                    "created_at": now,
                }
                for i in range(n)
            ],
        )
        conn.execute(
            insert(changes),
            [
                {
                    "id": 100_000 + i,
                    "notice_id": 100_000 + i,
                    "run_id": run_id,
                    "kind": "new",
                    "old_version_id": None,
                    "new_version_id": 100_000 + i,
                    "diff": "",
                    "baseline": False,
                    "technical": False,
                    "created_at": now - dt.timedelta(minutes=i),
                }
                for i in range(n)
            ],
        )
        conn.execute(
            insert(findings),
            [
                {
                    "change_id": 100_000 + i,
                    "category": categories[i % 4],
                    "secondary": [],
                    "severity": f"S{i % 5}",
                    "flows": ["rt_d0", "qr_scan"] if i % 2 else ["refund"],
                    "dates": {
                        "window_start": {
                            "value": "2026-12-05T02:00",
                            "evidence": "x",
                            "year_inferred": False,
                            "inferred": False,
                        }
                    },
                    "hits": [],
                    "confidence": 0.8,
                    "status": "pending",
                    "fingerprint": hashlib.sha256(f"f{i}".encode()).hexdigest(),
                    "created_at": now - dt.timedelta(minutes=i),
                }
                for i in range(n)
            ],
        )


def set_status(engine: Engine, finding_id: int, **values: Any) -> None:
    with begin_write(engine) as conn:
        conn.execute(update(findings).where(findings.c.id == finding_id).values(**values))


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    m = _CSRF.search(client.get(path).get_data(as_text=True))
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def login(client: FlaskClient, name: str, password: str = PASSWORD) -> TestResponse:
    token = csrf_token(client, "/login")
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


def post_form(client: FlaskClient, path: str, data: dict[str, Any]) -> TestResponse:
    """POST like the browser does: with the session's CSRF token."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/account")})
