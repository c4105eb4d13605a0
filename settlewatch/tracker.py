"""Per-notice tracking decisions for one run: content → Version + Change + Finding.

The Tracker sees each notice Snapshot of a run once: unchanged bytes short-circuit, a changed
normalised text makes a Version and a Change, two 404/410s in a row make a withdrawal.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, select

from settlewatch.assess import (
    Assessed,
    PreparedPage,
    assess,
    assess_page,
    content_key,
    extract_page,
    same_bytes,
    version_text,
)
from settlewatch.decode import decode_html
from settlewatch.health import PageVerdict, judge_page
from settlewatch.models import ChangeKind, Extracted, HealthState, SourceDecl, decl_from_dict
from settlewatch.pubdate import parse_date
from settlewatch.store import notices as nstore
from settlewatch.store.crawls import blob
from settlewatch.store.schema import snapshots, sources
from settlewatch.taxonomy import Taxonomy

WITHDRAWN_AFTER = 2  # consecutive 404/410 fetches of a notice page


@dataclass
class TrackResult:
    source_id: str
    run_id: int
    status: str
    health: HealthState = "unknown"
    reason: str = ""
    pages: int = 0
    changes: Counter[str] = field(default_factory=Counter)
    findings: Counter[str] = field(default_factory=Counter)
    unchanged: int = 0
    prepared: int = 0  # pages whose extraction was done ahead, in worker processes
    alert: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source_id,
            "run": self.run_id,
            "status": self.status,
            "health": self.health,
            "reason": self.reason,
            "pages": self.pages,
            "changes": dict(self.changes),
            "findings": dict(self.findings),
            "unchanged": self.unchanged,
            "prepared": self.prepared,
            "alert": self.alert,
        }


def _content_type(headers: dict[str, str]) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == "content-type"), None)


def page_text(conn: Connection, decl: SourceDecl, snap: Row[Any]) -> str:
    """The decoded text of a stored Snapshot."""
    return _decoded(conn, decl, snap)[0]


def _decoded(conn: Connection, decl: SourceDecl, snap: Row[Any]) -> tuple[str, bytes]:
    body = blob(conn, snap.sha256) if snap.sha256 else b""
    text = decode_html(body, _content_type(snap.headers), decl.encoding) if body else ""
    return text, body


def run_pages(conn: Connection, run: Row[Any]) -> tuple[Row[Any], SourceDecl, list[Row[Any]]]:
    """A fetched run's source row, its declaration as the crawl used it, and its Snapshots in
    the order they were stored: what tracking and its extraction workers read."""
    src = conn.execute(select(sources).where(sources.c.id == run.source_id)).one()
    snaps = conn.execute(
        select(snapshots).where(snapshots.c.run_id == run.id).order_by(snapshots.c.id)
    )
    return src, decl_from_dict(src.decl), list(snaps)


def judge_snapshot(
    conn: Connection, decl: SourceDecl, snap: Row[Any]
) -> tuple[PageVerdict, str, bytes]:
    text, body = _decoded(conn, decl, snap)
    if snap.status == 304:
        return PageVerdict("ok"), text, body
    return judge_page(snap.status, text, snap.error), text, body


def _status_for(
    taxonomy_category: str,
    baseline: bool,
    published: dt.date | None,
    now: dt.datetime,
    baseline_days: int,
) -> str:
    if taxonomy_category == "irrelevant":
        return "dismissed"
    if baseline and (published is None or (now.date() - published).days > baseline_days):
        return "history"
    return "pending"


class Tracker:
    def __init__(
        self,
        conn: Connection,
        decl: SourceDecl,
        run: Row[Any],
        taxonomy: Taxonomy,
        baseline: bool,
        baseline_days: int,
        now: dt.datetime,
        technical: bool = False,
        prepared: dict[int, PreparedPage] | None = None,
    ) -> None:
        """``technical``: changes come from re-extraction, not from the site; never sent.
        ``prepared``: snapshot id → its extraction, done ahead (settlewatch.prepare)."""
        self.conn, self.decl, self.run, self.taxonomy = conn, decl, run, taxonomy
        self.technical = technical
        self.baseline, self.baseline_days, self.now = baseline, baseline_days, now
        self.result = TrackResult(decl.id, run.id, "tracked")
        self.failures = 0
        self.known: dict[str, Any] = nstore.notices_by_url(conn, decl.id)  # Rows, NoticeRefs
        self.attachments: dict[str, list[Row[Any]]] = {}
        self.prepared = prepared or {}
        self.seen: list[int] = []  # notices that answered 304, marked seen by finish()

    def content_key(self, snap: Row[Any]) -> str:
        return content_key(snap, self.attachments.get(snap.url, []))

    def record(
        self,
        notice_id: int,
        kind: ChangeKind,
        old: Row[Any] | None,
        new_id: int | None,
        extracted: Extracted,
        old_text: str = "",
        assessed: Assessed | None = None,
    ) -> None:
        """``assessed``: the diff and classification done ahead (settlewatch.prepare), for
        exactly this kind and old version; computed here when None."""
        assessed = assessed or assess(self.taxonomy, kind, extracted, old_text, self.now)
        delta, finding = assessed.delta, assessed.finding
        change_id = nstore.add_change(
            self.conn,
            notice_id=notice_id,
            run_id=self.run.id,
            kind=kind,
            old_version_id=old.id if old is not None else None,
            new_version_id=new_id,
            diff=delta.unified if delta else "",
            baseline=self.baseline,
            technical=self.technical,
            created_at=self.now,
        )
        status = (
            "technical"
            if self.technical
            else _status_for(
                finding.category,
                self.baseline and kind == "new",
                extracted.published,
                self.now,
                self.baseline_days,
            )
        )
        fp = nstore.finding_fingerprint(
            change_id, old.text_hash if old is not None else None, nstore.text_hash(extracted)
        )
        finding_id = nstore.add_finding(self.conn, change_id, finding, status, fp, self.now)
        if status == "dismissed":
            nstore.add_review(
                self.conn, finding_id, "dismiss", "system", "classified irrelevant", fp, self.now
            )
        self.result.changes["baseline" if self.baseline and kind == "new" else kind] += 1
        self.result.findings[finding.category] += 1

    def content(self, snap: Row[Any], text: str, force: bool = False) -> None:
        notice = self.known.get(snap.url)
        key = self.content_key(snap)
        if notice is None:  # first seen: every notice of the source was loaded up front
            notice_id = nstore.create_notice(self.conn, self.decl.id, snap.url, self.now, key)
            self.known[snap.url] = nstore.NoticeRef(notice_id, "active", key, 0)
        else:
            notice_id = notice.id
            nstore.update_notice(
                self.conn,
                notice_id,
                last_seen=self.now,
                missing_count=0,
                state="active",
                last_sha256=key,
            )
            if same_bytes(notice, key) and not force:
                self.result.unchanged += 1  # same bytes: no extraction, no rows
                return
        old = nstore.latest_version(self.conn, notice_id) if notice is not None else None
        old_id = old.id if old is not None else None
        page = self.prepared.get(snap.id)
        if page is not None:
            self.result.prepared += 1
        if page is None or page.old_version_id != old_id:  # not read ahead, or against another
            extracted = page.extracted if page is not None else self.read(snap, text)
            page = assess_page(extracted, old, self.taxonomy, self.now)
        if page.assessed is None:
            self.result.unchanged += 1  # new bytes, same text
            return
        extracted = page.extracted
        new_id = nstore.add_version(
            self.conn, notice_id, (old.seq + 1) if old else 1, extracted, snap.id, self.now
        )
        if old is None:
            self.record(notice_id, "new", None, new_id, extracted, assessed=page.assessed)
        else:
            old_text = version_text(old)
            self.record(
                notice_id, "edited", old, new_id, extracted, old_text, assessed=page.assessed
            )

    def read(self, snap: Row[Any], text: str) -> Extracted:
        return extract_page(self.conn, self.decl, snap, text, self.attachments.get(snap.url, []))

    def missing(self, snap: Row[Any]) -> None:
        notice = self.known.get(snap.url)
        if notice is None or notice.state != "active":
            return
        count = notice.missing_count + 1
        nstore.update_notice(self.conn, notice.id, missing_count=count)
        old = nstore.latest_version(self.conn, notice.id)
        if count >= WITHDRAWN_AFTER and old is not None:
            nstore.update_notice(self.conn, notice.id, state="withdrawn")
            extracted = Extracted(old.title, parse_date(old.published), old.body)
            self.record(notice.id, "withdrawn", old, None, extracted, version_text(old))

    def notice(self, snap: Row[Any]) -> None:
        if snap.status in (404, 410):
            self.missing(snap)
            return
        if snap.status == 304:  # the server says: as last time; nothing to read or judge
            notice = self.known.get(snap.url)
            if notice is not None:
                self.seen.append(notice.id)
            self.result.unchanged += 1
            return
        if snap.id in self.prepared:  # a worker judged it ok and read it
            self.content(snap, "")
            return
        verdict, text, _ = judge_snapshot(self.conn, self.decl, snap)
        if verdict.state != "ok":
            self.failures += 1
            return
        self.content(snap, text)

    def finish(self) -> None:
        """Record, in one statement, that the notices answering 304 are still there."""
        nstore.mark_seen(self.conn, self.seen, self.now)
        self.seen = []
