"""Build digest contexts from approved Findings, and write the rendered digests."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from settlewatch.classify import render_action
from settlewatch.digest import DigestContext, DigestEntry, flow_labels, render_digest
from settlewatch.errors import UsageError
from settlewatch.impact import Publisher, affects
from settlewatch.models import DateValue, Finding, Merchant
from settlewatch.store.db import begin_write
from settlewatch.store.merchants import load_merchants
from settlewatch.store.queries import change_rows_query
from settlewatch.store.schema import changes, digests, findings, sources
from settlewatch.store.sql import upsert_on
from settlewatch.taxonomy import Taxonomy

_PERIOD = re.compile(r"^(\d{4})-W(\d{2})$")


def iso_period(period: str) -> tuple[dt.datetime, dt.datetime]:
    """'2026-W48' → [Monday 00:00 UTC, next Monday 00:00 UTC)."""
    m = _PERIOD.match(period)
    try:
        if not m:
            raise ValueError(period)
        start = dt.datetime.combine(
            dt.date.fromisocalendar(int(m[1]), int(m[2]), 1), dt.time(), dt.UTC
        )
    except ValueError as exc:
        raise UsageError(
            f"--period {period!r} is not an ISO week (fix: use YYYY-Www, e.g. 2026-W48)"
        ) from exc
    return start, start + dt.timedelta(days=7)


def current_period(now: dt.datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def finding_from_row(row: dict[str, Any]) -> Finding:
    dates = {k: DateValue(**v) for k, v in (row["dates"] or {}).items() if isinstance(v, dict)}
    return Finding(
        category=row["category"],
        severity=row["severity"],
        flows=tuple(row["flows"] or ()),
        dates=dates,
        hits=(),
        confidence=row["confidence"],
        secondary=tuple(row["secondary"] or ()),
    )


WHEN_LABELS = {
    "zh": {
        "window": "维护时段 {start} 至 {end}",
        "hold": "{start} 至 {end} 的交易暂停结算",
        "resume": "{resume} 恢复到账",
        "effective": "{effective} 起生效",
        "deadline": "截止 {deadline}",
        "tz": "（北京时间）",
    },
    "en": {
        "window": "window {start} to {end}",
        "hold": "trades of {start} to {end} not settled",
        "resume": "paid on {resume}",
        "effective": "effective {effective}",
        "deadline": "deadline {deadline}",
        "tz": " (Asia/Shanghai time)",
    },
}


def when_text(finding: Finding, lang: str) -> str:
    """The dates of a Finding as one line a merchant reads, in the notice's local time."""
    d = {k: v.value.replace("T", " ") for k, v in finding.dates.items()}
    t = WHEN_LABELS.get(lang, WHEN_LABELS["en"])
    parts = []
    if "window_start" in d:
        parts.append(t["window"].format(start=d["window_start"], end=d.get("window_end", "?")))
    if "no_settlement_start" in d:
        parts.append(
            t["hold"].format(
                start=d["no_settlement_start"],
                end=d.get("no_settlement_end", d["no_settlement_start"]),
            )
        )
    for key in ("resume", "effective", "deadline"):
        if key in d:
            parts.append(t[key].format(**{key: d[key]}))
    text = "；".join(parts) if lang == "zh" else "; ".join(parts)
    return text + t["tz"] if any(":" in v for v in d.values()) else text


def entry_for(row: dict[str, Any], merchant: Merchant, taxonomy: Taxonomy) -> DigestEntry:
    finding = finding_from_row(row)
    lang = merchant.language
    flow = next((f for f in finding.flows if f in merchant.flows), finding.flows[0])
    title = row["new_title"] or row["old_title"] or ""
    return DigestEntry(
        finding_id=row["finding_id"],
        flow=flow,
        category=finding.category,
        category_label=getattr(taxonomy.category(finding.category), lang),
        severity=finding.severity,
        title=title,
        what=title,
        when=when_text(finding, lang),
        action=render_action(taxonomy, finding, lang),
        source_name=row["source_name"],
        url=row["url"],
        evidence_date=row["published"] or "",
    )


def build_contexts(
    rows: list[dict[str, Any]],
    merchants: list[Merchant],
    unhealthy: tuple[str, ...],
    period: str,
    now: dt.datetime,
    taxonomy: Taxonomy,
) -> list[DigestContext]:
    """One context per merchant: the approved findings that affect them (pure).

    A notice that changed twice in the period appears once, as its newest finding.
    """
    rows = list({row["url"]: row for row in rows}.values())
    contexts = []
    for merchant in merchants:
        entries = []
        for row in rows:
            publisher = Publisher(
                row["source_id"], row["authority"], row["source_kind"], row["jurisdiction"]
            )
            if affects(publisher, tuple(row["flows"] or ()), merchant):
                entries.append(entry_for(row, merchant, taxonomy))
        contexts.append(
            DigestContext(
                merchant=merchant,
                period=period,
                language=merchant.language,
                entries=tuple(entries),
                unhealthy_sources=unhealthy,
                generated_at=now,
                flow_labels=flow_labels(merchant.language),
            )
        )
    return contexts


def write_digests(
    engine: Engine, out: Path, taxonomy: Taxonomy, *, now: dt.datetime, period: str | None = None
) -> int:
    """Render every merchant's digest for ``period`` into ``out``; return the file count."""
    period = period or current_period(now)
    start, end = iso_period(period)
    with engine.connect() as conn:
        q = (
            change_rows_query()
            .where(findings.c.status == "approved", changes.c.technical.is_(False))
            .where(changes.c.created_at >= start, changes.c.created_at < end)
        )
        rows = [dict(r._mapping) for r in conn.execute(q)]
        unhealthy = tuple(
            conn.scalars(
                select(sources.c.name)
                .where(sources.c.health.not_in(["ok", "unknown"]))
                .order_by(sources.c.id)
            )
        )
        merchants = load_merchants(conn)
    out.mkdir(parents=True, exist_ok=True)
    records = []
    for ctx in build_contexts(rows, merchants, unhealthy, period, now, taxonomy):
        html, text = render_digest(ctx)
        stem = f"{ctx.merchant.id}.{period}.{ctx.language}"
        (out / f"{stem}.html").write_text(html, encoding="utf-8")
        (out / f"{stem}.txt").write_text(text, encoding="utf-8")
        records.append(
            {
                "merchant_id": ctx.merchant.id,
                "period": period,
                "language": ctx.language,
                "content_hash": hashlib.sha256(html.encode()).hexdigest(),
                "finding_ids": [e.finding_id for e in ctx.entries],
                "state": "rendered",
                "created_at": now,
            }
        )
    with begin_write(engine) as conn:
        upsert_on(conn, digests, records, ("merchant_id", "period"))
    return 2 * len(records)
