"""Everything the change page shows about one Finding, read once into a frozen context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy import Connection, func, select

from settlewatch.action import render_action
from settlewatch.dates_patterns import fold
from settlewatch.diff import diff_texts
from settlewatch.digest_build import finding_from_row
from settlewatch.errors import UsageError
from settlewatch.impact import Impact, Publisher, impacts
from settlewatch.models import Extracted
from settlewatch.pubdate import parse_date
from settlewatch.review import approvers, evidence_fingerprints, histories, needed_approvals
from settlewatch.store.merchants import load_merchants
from settlewatch.store.schema import changes, findings, notices, reviews, snapshots, sources
from settlewatch.store.schema import versions as versions_t
from settlewatch.taxonomy import Taxonomy
from settlewatch.web.diffview import Mark, Row, diff_rows, highlight


@dataclass(frozen=True)
class ChangeContext:
    finding: dict[str, Any]
    change: dict[str, Any]
    notice: dict[str, Any]
    source: dict[str, Any]
    new: dict[str, Any] | None  # the Version after the change (None when withdrawn)
    old: dict[str, Any] | None
    snapshot: dict[str, Any] | None  # the fetch the shown text was extracted from
    old_snapshot: dict[str, Any] | None
    fetches: int  # how often the notice URL was fetched
    rows: tuple[Row, ...]
    title_html: Markup
    body_html: Markup
    added_html: Markup
    removed_html: Markup
    hits: tuple[dict[str, Any], ...]
    dates: tuple[tuple[str, dict[str, Any]], ...]
    merchants: tuple[Impact, ...]  # each with the flows it uses and its action
    action_zh: str
    action_en: str
    reviews: tuple[dict[str, Any], ...]
    approvals: tuple[str, ...]
    needed: int
    fingerprint: str
    siblings: tuple[dict[str, Any], ...]  # every finding of the same notice

    @property
    def text_version(self) -> dict[str, Any]:
        version = self.new or self.old
        assert version is not None
        return version

    @property
    def stale(self) -> bool:
        return bool(self.reviews) and self.reviews[-1]["decision"] == "stale"

    @property
    def newer(self) -> tuple[dict[str, Any], ...]:
        return tuple(s for s in self.siblings if s["id"] > self.finding["id"])


def _row(conn: Connection, table: Any, key: Any, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    row = conn.execute(select(table).where(key == value)).first()
    return dict(row._mapping) if row is not None else None


def normalised(version: dict[str, Any] | None) -> str:
    if version is None:
        return ""
    published = parse_date(version["published"]) if version["published"] else None
    return Extracted(version["title"], published, version["body"]).normalised()


def _marks(hits: list[dict[str, Any]], dates: dict[str, Any], field: str, text: str) -> list[Mark]:
    marks = [
        Mark(int(h.get("start", 0)), int(h.get("end", 0)), "hit", str(h.get("rule", "")))
        for h in hits
        if h.get("field") == field
    ]
    folded = fold(text)
    for key, value in dates.items():
        evidence = value.get("evidence", "") if isinstance(value, dict) else ""
        at = folded.find(evidence) if len(evidence) > 3 else -1
        if at >= 0:
            marks.append(Mark(at, at + len(evidence), "date", key))
    return marks


def load_change(conn: Connection, finding_id: int, taxonomy: Taxonomy) -> ChangeContext:
    finding = _row(conn, findings, findings.c.id, finding_id)
    if finding is None:
        raise UsageError(f"no finding {finding_id}")
    change = _row(conn, changes, changes.c.id, finding["change_id"])
    assert change is not None
    notice = _row(conn, notices, notices.c.id, change["notice_id"])
    assert notice is not None
    source = _row(conn, sources, sources.c.id, notice["source_id"])
    assert source is not None
    new = _row(conn, versions_t, versions_t.c.id, change["new_version_id"])
    old = _row(conn, versions_t, versions_t.c.id, change["old_version_id"])
    shown = new or old
    snap = _row(conn, snapshots, snapshots.c.id, shown["snapshot_id"] if shown else None)
    old_snap = _row(conn, snapshots, snapshots.c.id, old["snapshot_id"] if new and old else None)
    fetches = conn.scalar(
        select(func.count())
        .select_from(snapshots)
        .where(snapshots.c.source_id == notice["source_id"], snapshots.c.url == notice["url"])
    )
    hits = list(finding["hits"] or [])
    dates = dict(finding["dates"] or {})
    old_text = normalised(old) if change["kind"] == "edited" else ""
    new_text = normalised(new) if new else ""
    delta = diff_texts(old_text, new_text) if change["kind"] == "edited" else None
    title = shown["title"] if shown else ""
    body = shown["body"] if shown else ""
    publisher = Publisher(source["id"], source["authority"], source["kind"], source["jurisdiction"])
    model = finding_from_row(finding)
    merchants = impacts(publisher, model, load_merchants(conn), taxonomy)
    log = [
        dict(r._mapping)
        for r in conn.execute(
            select(reviews).where(reviews.c.finding_id == finding_id).order_by(reviews.c.id)
        )
    ]
    fp = evidence_fingerprints(conn, [finding_id])[finding_id]
    siblings = [
        dict(r._mapping)
        for r in conn.execute(
            select(
                findings.c.id,
                findings.c.status,
                findings.c.severity,
                changes.c.kind,
                changes.c.created_at,
            )
            .join(changes, changes.c.id == findings.c.change_id)
            .where(changes.c.notice_id == notice["id"])
            .order_by(findings.c.id)
        )
    ]
    known = {c.id for c in taxonomy.categories}
    action_zh = render_action(taxonomy, model, "zh") if model.category in known else ""
    action_en = render_action(taxonomy, model, "en") if model.category in known else ""
    if finding["action_text"]:
        action_zh = action_en = finding["action_text"]
    return ChangeContext(
        finding=finding,
        change=change,
        notice=notice,
        source=source,
        new=new,
        old=old,
        snapshot=snap,
        old_snapshot=old_snap,
        fetches=fetches or 0,
        rows=tuple(diff_rows(old_text, new_text)) if change["kind"] != "withdrawn" else (),
        title_html=highlight(title, _marks(hits, dates, "title", title)),
        body_html=highlight(body, _marks(hits, dates, "body", body)),
        added_html=highlight(delta.added, _marks(hits, {}, "diff", delta.added))
        if delta
        else Markup(""),
        removed_html=highlight(delta.removed, _marks(hits, {}, "diff_removed", delta.removed))
        if delta
        else Markup(""),
        hits=tuple(hits),
        dates=tuple(sorted((k, v) for k, v in dates.items() if isinstance(v, dict))),
        merchants=tuple(merchants),
        action_zh=action_zh,
        action_en=action_en,
        reviews=tuple(log),
        approvals=approvers(histories(conn, [finding_id])[finding_id], fp),
        needed=needed_approvals(finding["severity"]),
        fingerprint=fp,
        siblings=tuple(siblings),
    )
