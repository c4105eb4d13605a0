"""Build digest contexts from approved Findings (pure), and write rendered digests to files.

Which findings a merchant's digest for a period carries:
- if that digest was already queued, exactly the findings it carried (``digest_entries``), so a
  preview or a re-render shows what was sent;
- otherwise the approved, non-technical findings that affect the merchant, whose change was
  detected before the period ended (and at most ``LOOKBACK`` before it began), and that no
  earlier digest to this merchant carried. A notice that changed twice shows once, as its
  newest finding; the older one is recorded as covered so it never appears later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from settlewatch.classify import render_action
from settlewatch.digest import DigestContext, DigestEntry, flow_labels, render_digest
from settlewatch.digest_text import what_line, when_text
from settlewatch.errors import UsageError
from settlewatch.impact import Publisher, affects, applies
from settlewatch.models import DateValue, Finding, Merchant
from settlewatch.store.db import begin_write
from settlewatch.store.merchants import load_merchants
from settlewatch.store.queries import change_rows_query
from settlewatch.store.schema import changes, digest_entries, digests, findings, outbox, sources
from settlewatch.store.sql import upsert_on
from settlewatch.taxonomy import Taxonomy

_PERIOD = re.compile(r"^(\d{4})-W(\d{2})$")
LOOKBACK = dt.timedelta(weeks=8)
UNHEALTHY = ("failing", "blocked", "broken", "stale")


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
            f"--week {period!r} is not an ISO week (fix: use YYYY-Www, e.g. 2026-W48)"
        ) from exc
    return start, start + dt.timedelta(days=7)


def current_period(now: dt.datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def digest_key(merchant_id: str, period: str) -> str:
    """The outbox idempotency key: one digest per merchant and week, ever."""
    return f"digest:{merchant_id}:{period}:email"


def finding_from_row(row: Mapping[str, Any]) -> Finding:
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


def publisher(row: Mapping[str, Any]) -> Publisher:
    return Publisher(row["source_id"], row["authority"], row["source_kind"], row["jurisdiction"])


def entry_for(
    row: Mapping[str, Any],
    merchant: Merchant,
    taxonomy: Taxonomy,
    tz: str = "Asia/Shanghai",
    covers: tuple[int, ...] = (),
) -> DigestEntry:
    finding = finding_from_row(row)
    lang = merchant.language
    flow = next((f for f in finding.flows if f in merchant.flows), finding.flows[0])
    title = row["new_title"] or row["old_title"] or ""
    category = taxonomy.category(finding.category)
    return DigestEntry(
        finding_id=row["finding_id"],
        flow=flow,
        category=finding.category,
        category_label=getattr(category, lang),
        severity=finding.severity,
        title=title,
        what=what_line(row, finding, category, lang),
        when=when_text(finding, lang, tz),
        action=row.get("action_text") or render_action(taxonomy, finding, lang),
        source_name=row["source_name"],
        url=row["url"],
        evidence_date=row["published"] or "",
        kind=row["kind"],
        dates=tuple(sorted((k, v.value) for k, v in finding.dates.items())),
        covers=covers,
    )


@dataclass(frozen=True)
class DigestInputs:
    """What the digests of one period are built from, read in one go."""

    period: str
    rows: tuple[Mapping[str, Any], ...]  # approved findings, oldest change first
    merchants: tuple[Merchant, ...]
    sources: tuple[Mapping[str, Any], ...]
    digested: Mapping[str, frozenset[int]]  # merchant → findings an earlier digest carried
    queued: Mapping[str, frozenset[int]]  # merchant → findings of this period's queued digest


def load_inputs(
    conn: Connection, period: str, merchant_ids: list[str] | None = None
) -> DigestInputs:
    start, end = iso_period(period)
    q = (
        change_rows_query()
        .add_columns(findings.c.action_text)
        .where(findings.c.status == "approved", changes.c.technical.is_(False))
        .where(changes.c.created_at < end, changes.c.created_at >= start - LOOKBACK)
    )
    rows = tuple(dict(r._mapping) for r in conn.execute(q))
    merchants = tuple(load_merchants(conn, merchant_ids))
    digested: dict[str, set[int]] = {}
    queued: dict[str, set[int]] = {}
    # only the entries of findings in play: the table grows by merchants × findings each week
    entries = (
        select(digest_entries.c.merchant_id, digest_entries.c.finding_id, outbox.c.period)
        .join(outbox, outbox.c.id == digest_entries.c.outbox_id)
        .where(digest_entries.c.finding_id.in_([r["finding_id"] for r in rows]))
    )
    if merchant_ids is not None:
        entries = entries.where(digest_entries.c.merchant_id.in_(merchant_ids))
    for r in conn.execute(entries):
        target = queued if r.period == period else digested
        target.setdefault(r.merchant_id, set()).add(r.finding_id)
    # a queued digest without entries (a "nothing changed" one) still fixes the period's content
    for mid in conn.scalars(
        select(outbox.c.merchant_id).where(outbox.c.kind == "digest", outbox.c.period == period)
    ):
        queued.setdefault(mid, set())
    source_rows = tuple(dict(r._mapping) for r in conn.execute(select(sources)))
    return DigestInputs(
        period=period,
        rows=rows,
        merchants=merchants,
        sources=source_rows,
        digested={k: frozenset(v) for k, v in digested.items()},
        queued={k: frozenset(v) for k, v in queued.items()},
    )


def unchecked_sources(
    source_rows: tuple[Mapping[str, Any], ...], merchant: Merchant, period_start: dt.datetime
) -> tuple[str, ...]:
    """Names of the merchant's sources that are unhealthy or had no good fetch this period."""
    names = []
    for s in sorted(source_rows, key=lambda s: s["id"]):
        pub = Publisher(s["id"], s["authority"], s["kind"], s["jurisdiction"])
        if not applies(pub, merchant):
            continue
        stale = s["last_success"] is not None and s["last_success"] < period_start
        if s["health"] in UNHEALTHY or stale:
            names.append(s["name"])
    return tuple(names)


Prepared = tuple[tuple[Mapping[str, Any], Publisher, tuple[str, ...]], ...]
Memo = dict[tuple[int, str, str, tuple[int, ...]], DigestEntry]


def _entry(
    row: Mapping[str, Any],
    merchant: Merchant,
    taxonomy: Taxonomy,
    tz: str,
    covers: tuple[int, ...],
    memo: Memo,
) -> DigestEntry:
    # an entry depends on the merchant only through its language and the flow it is filed
    # under: merchants alike share one (10,000 digests are built from a few hundred entries)
    flows = tuple(row["flows"] or ())
    flow = next((f for f in flows if f in merchant.flows), flows[0] if flows else "")
    key = (row["finding_id"], flow, merchant.language, covers)
    if key not in memo:
        memo[key] = entry_for(row, merchant, taxonomy, tz, covers)
    return memo[key]


def select_entries(
    inputs: DigestInputs,
    merchant: Merchant,
    taxonomy: Taxonomy,
    tz: str,
    prepared: Prepared | None = None,
    memo: Memo | None = None,
) -> tuple[DigestEntry, ...]:
    """The entries of one merchant's digest for the period (see the module docstring)."""
    memo = {} if memo is None else memo
    if merchant.id in inputs.queued:
        carried = inputs.queued[merchant.id]
        by_url = {r["url"]: r for r in inputs.rows if r["finding_id"] in carried}
        return tuple(_entry(r, merchant, taxonomy, tz, (), memo) for r in by_url.values())
    if prepared is None:
        prepared = prepare(inputs)
    done = inputs.digested.get(merchant.id, frozenset())
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row, pub, flows in prepared:
        if affects(pub, flows, merchant):
            groups.setdefault(row["url"], []).append(row)
    entries = []
    for group in groups.values():
        newest = max(group, key=lambda r: r["finding_id"])
        if newest["finding_id"] in done:
            continue  # the notice's newest reading was already sent
        covers = tuple(
            r["finding_id"] for r in group if r is not newest and r["finding_id"] not in done
        )
        entries.append(_entry(newest, merchant, taxonomy, tz, covers, memo))
    return tuple(entries)


def prepare(inputs: DigestInputs) -> Prepared:
    return tuple((r, publisher(r), tuple(r["flows"] or ())) for r in inputs.rows)


def build_contexts(
    inputs: DigestInputs,
    now: dt.datetime,
    taxonomy: Taxonomy,
    tz: str = "Asia/Shanghai",
) -> list[DigestContext]:
    """One context per merchant (pure)."""
    start, _ = iso_period(inputs.period)
    labels = {lang: flow_labels(lang) for lang in ("zh", "en")}
    prepared = prepare(inputs)
    memo: Memo = {}
    return [
        DigestContext(
            merchant=m,
            period=inputs.period,
            language=m.language,
            entries=select_entries(inputs, m, taxonomy, tz, prepared, memo),
            unhealthy_sources=unchecked_sources(inputs.sources, m, start),
            generated_at=now,
            flow_labels=labels[m.language],
            timezone=tz,
        )
        for m in inputs.merchants
    ]


def write_digests(
    engine: Engine,
    out: Path,
    taxonomy: Taxonomy,
    *,
    now: dt.datetime,
    period: str | None = None,
    tz: str = "Asia/Shanghai",
) -> int:
    """Render every merchant's digest for ``period`` into ``out``; return the file count."""
    period = period or current_period(now)
    with engine.connect() as conn:
        inputs = load_inputs(conn, period)
    out.mkdir(parents=True, exist_ok=True)
    records = []
    contexts = build_contexts(inputs, now, taxonomy, tz)
    for ctx in contexts:
        html, text = render_digest(ctx)
        stem = f"{ctx.merchant.id}.{period}.{ctx.language}"
        (out / f"{stem}.html").write_text(html, encoding="utf-8")
        (out / f"{stem}.txt").write_text(text, encoding="utf-8")
        if ctx.merchant.id not in inputs.queued:  # a queued digest's record is the sender's
            records.append(digest_record(ctx, html, "rendered", now))
    with begin_write(engine) as conn:
        upsert_on(conn, digests, records, ("merchant_id", "period"))
    return 2 * len(contexts)


def digest_record(ctx: DigestContext, html: str, state: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "merchant_id": ctx.merchant.id,
        "period": ctx.period,
        "language": ctx.language,
        "content_hash": hashlib.sha256(html.encode()).hexdigest(),
        "finding_ids": [e.finding_id for e in ctx.entries],
        "state": state,
        "created_at": now,
    }
