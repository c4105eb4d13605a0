"""Run the whole pipeline on the bundled demo board: two crawls a week apart, then digests."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from settlewatch.config import Config
from settlewatch.crawl import CrawlOutcome, run_crawls
from settlewatch.demo import demo_merchants_path
from settlewatch.demo.site import DemoSite, write_demo_sources
from settlewatch.digest_build import write_digests
from settlewatch.merchant import parse_merchants
from settlewatch.review import decide, pending_ids
from settlewatch.source import load_sources
from settlewatch.store.db import begin_write, utcnow
from settlewatch.store.merchants import upsert_merchants
from settlewatch.store.queries import change_json, list_changes, source_rows
from settlewatch.taxonomy import load_taxonomy

DEMO_REVIEWERS = ("demo-officer", "demo-officer-2")


@dataclass
class DemoSummary:
    sources: int = 0
    pages: int = 0
    baseline: int = 0
    unchanged: int = 0  # week-2 notice pages whose bytes differed only in noise, or not at all
    week2_changes: list[dict[str, Any]] = field(default_factory=list)
    findings: Counter[str] = field(default_factory=Counter)
    health: dict[str, str] = field(default_factory=dict)
    digests: Path | None = None
    digest_count: int = 0
    db_url: str = ""
    sources_dir: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "sources": self.sources,
            "pages": self.pages,
            "baseline": self.baseline,
            "week2_changes": self.week2_changes,
            "changes_by_kind": dict(Counter(c["kind"] for c in self.week2_changes)),
            "findings_by_category": dict(self.findings),
            "health": self.health,
            "digests": str(self.digests),
            "digest_count": self.digest_count,
            "db": self.db_url,
            "sources_dir": str(self.sources_dir),
        }


def _pages(outcomes: list[CrawlOutcome]) -> int:
    return sum(o.result.pages for o in outcomes if o.result)


def run_demo(
    engine: Engine,
    db_url: str,
    out: Path,
    cfg: Config,
    progress: Callable[[str], None],
    today: dt.date | None = None,
) -> DemoSummary:
    today = today or dt.date.today()
    taxonomy = load_taxonomy()
    summary = DemoSummary(db_url=db_url, sources_dir=out / "sources")
    merchants = parse_merchants(demo_merchants_path())
    with begin_write(engine) as conn:
        upsert_merchants(conn, merchants)
    progress(f"imported {len(merchants)} demo merchants")
    with DemoSite(today) as site:
        progress(f"demo notice board serving on {site.base_url}")
        write_demo_sources(out / "sources", site.base_url)
        decls = list(load_sources(out / "sources").values())
        summary.sources = len(decls)
        progress("week 1: first crawl (the baseline)")
        first = run_crawls(engine, db_url, decls, taxonomy, cfg, trigger="demo", progress=progress)
        summary.baseline = sum(o.result.changes["baseline"] for o in first if o.result)
        site.week = 2
        progress("week 2: the boards changed; crawling again")
        second = run_crawls(engine, db_url, decls, taxonomy, cfg, trigger="demo", progress=progress)
    summary.pages = _pages(first) + _pages(second)
    summary.unchanged = sum(o.result.unchanged for o in second if o.result)
    run_ids = {o.result.run_id for o in second if o.result}
    now = utcnow()
    with begin_write(engine) as conn:
        for finding_id in pending_ids(conn):
            # critical findings need a second officer (four-eyes)
            for reviewer in DEMO_REVIEWERS:
                if decide(conn, finding_id, "approve", reviewer, now).status == "approved":
                    break
    with engine.connect() as conn:
        rows = [change_json(r) for r in list_changes(conn) if r["run_id"] in run_ids]
        summary.week2_changes = rows
        summary.findings = Counter(r["category"] for r in rows)
        summary.health = {r["id"]: r["health"] for r in source_rows(conn)}
    summary.digests = out / "digests"
    summary.digest_count = write_digests(engine, summary.digests, taxonomy, now=now)
    return summary


def format_summary(s: DemoSummary) -> str:
    kinds = Counter(c["kind"] for c in s.week2_changes)
    lines = [
        "",
        "settlewatch demo: summary",
        f"  sources crawled : {s.sources} (twice: week 1 baseline, week 2)",
        f"  pages fetched   : {s.pages}",
        f"  baseline notices: {s.baseline} (week 1, recorded as history or queued for review)",
        "  week-2 changes  : "
        + (", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none"),
    ]
    lines.append(
        f"  no change       : {s.unchanged} notice pages re-read with no meaningful "
        "change (their clocks, counters, tokens and banners all differ)"
    )
    for c in s.week2_changes:
        lines.append(
            f"    - {c['kind']:<9} {c['category']:<20} {c['severity']}  "
            f"[{c['source']}] {c['title']}"
        )
    lines.append(
        "  findings by category: "
        + (", ".join(f"{k} {v}" for k, v in sorted(s.findings.items())) or "none")
    )
    lines.append(
        "  source health   : " + ", ".join(f"{k} {v}" for k, v in sorted(s.health.items()))
    )
    lines.append(f"  digests         : {s.digest_count} files in {s.digests}")
    lines.append(f"  database        : {s.db_url}")
    lines.append(f"  try             : settlewatch --db {s.db_url} changes list")
    return "\n".join(lines)
