"""Fill a store with classified Changes and Findings, and merchants, for the non-crawl benchmarks.

The rows are what tracking writes (notices, versions, changes, findings with the classifier's
JSON), inserted in bulk so that seeding 10,000 findings takes seconds. The notices come from
``bench.corpus``, so the review queue and the digests show realistic Chinese text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Table, func, select, update

from bench.corpus import CATEGORIES, make_notice
from bench.sitegen import KINDS
from settlewatch.classify import classify
from settlewatch.models import ChangeKind, Finding, ListingRule, Merchant, SourceDecl
from settlewatch.store.crawls import create_run, sync_sources
from settlewatch.store.db import begin_write
from settlewatch.store.merchants import upsert_merchants
from settlewatch.store.notices import finding_to_row
from settlewatch.store.schema import changes, crawl_runs, findings, notices, versions
from settlewatch.taxonomy import Taxonomy


@dataclass(frozen=True)
class ChangeCase:
    """One change as classify() sees it."""

    title: str
    body: str
    kind: ChangeKind
    added: str
    removed: str
    published: dt.date


def source_decls(n: int) -> list[SourceDecl]:
    return [
        SourceDecl(
            id=f"bench_s{i:03d}",
            name=f"基准测试公告栏 {i:03d}",
            authority=f"bench_s{i:03d}",
            kind=KINDS[i % len(KINDS)],
            listings=(ListingRule(url=f"http://127.0.0.{i + 2}/list/index.html"),),
        )
        for i in range(n)
    ]


def change_cases(n: int, today: dt.date, seed: int = 7) -> list[ChangeCase]:
    """``n`` changes of every category: four in five new notices, one in five edits."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        published = today - dt.timedelta(days=rng.randint(0, 60))
        text = make_notice(CATEGORIES[i % len(CATEGORIES)], rng, published)
        body = "\n".join(text.paragraphs)
        if i % 5 == 4:  # an edit: one figure changed in the notice's key sentence
            old = text.paragraphs[1] if len(text.paragraphs) > 1 else text.paragraphs[0]
            new = old.replace("日", "日（已调整）", 1) if "日" in old else old + "（已调整）"
            out.append(
                ChangeCase(text.title, body.replace(old, new), "edited", new, old, published)
            )
        else:
            out.append(ChangeCase(text.title, body, "new", "", "", published))
    return out


def classify_case(taxonomy: Taxonomy, c: ChangeCase, now: dt.datetime) -> Finding:
    return classify(
        taxonomy,
        c.title,
        c.body,
        kind=c.kind,
        diff_added=c.added,
        diff_removed=c.removed,
        published=c.published,
        now=now,
    )


def _max_id(conn: Connection, table: Table) -> int:
    return int(conn.scalar(select(func.max(table.c.id))) or 0)


def seed_findings(
    engine: Engine,
    taxonomy: Taxonomy,
    n: int,
    *,
    status: str,
    now: dt.datetime,
    sources: int = 50,
    seed: int = 7,
) -> int:
    """Insert ``n`` relevant findings with ``status``; returns how many were written."""
    decls = source_decls(sources)
    cases = [
        (c, f)
        for c in change_cases(n * 2, now.date(), seed)
        if (f := classify_case(taxonomy, c, now)).category != "irrelevant"
    ][:n]
    with begin_write(engine) as conn:
        sync_sources(conn, decls)
        runs = {}
        for d in decls:
            runs[d.id] = create_run(conn, d.id, "bench")
        conn.execute(update(crawl_runs).values(status="tracked", finished_at=now))
        first = _max_id(conn, notices)
        tag = f"{seed}-{status}-{first}"
        conn.execute(
            notices.insert(),
            [
                {
                    "source_id": decls[i % sources].id,
                    "url": f"http://127.0.0.{i % sources + 2}/notice/{tag}-{i}.html",
                    "state": "active",
                    "missing_count": 0,
                    "first_seen": now,
                    "last_seen": now,
                }
                for i in range(len(cases))
            ],
        )
        v0 = _max_id(conn, versions)
        conn.execute(
            versions.insert(),
            [
                {
                    "notice_id": first + 1 + i,
                    "seq": 1,
                    "text_hash": hashlib.sha256(f"{c.title}\n{c.body}".encode()).hexdigest(),
                    "title": c.title,
                    "published": c.published.isoformat(),
                    "body": c.body,
                    "snapshot_id": None,
                    "created_at": now,
                }
                for i, (c, _) in enumerate(cases)
            ],
        )
        c0 = _max_id(conn, changes)
        conn.execute(
            changes.insert(),
            [
                {
                    "notice_id": first + 1 + i,
                    "run_id": runs[decls[i % sources].id],
                    "kind": c.kind,
                    "old_version_id": None,
                    "new_version_id": v0 + 1 + i,
                    "diff": f"-{c.removed}\n+{c.added}" if c.kind == "edited" else "",
                    "baseline": False,
                    "technical": False,
                    "created_at": now,
                }
                for i, (c, _) in enumerate(cases)
            ],
        )
        conn.execute(
            findings.insert(),
            [
                {
                    "change_id": c0 + 1 + i,
                    "status": status,
                    "fingerprint": hashlib.sha256(f"{c0 + 1 + i}".encode()).hexdigest(),
                    "created_at": now,
                    **finding_to_row(f),
                }
                for i, (_, f) in enumerate(cases)
            ],
        )
    return len(cases)


def merchants(n: int, taxonomy: Taxonomy, sources: int = 50, seed: int = 11) -> list[Merchant]:
    """``n`` merchants: zh and en, each with 2-5 flows and one or two acquirer sources."""
    rng = random.Random(seed)
    flows = [f.id for f in taxonomy.flows]
    acquirers = [d.id for d in source_decls(sources) if d.kind == "acquirer"]
    return [
        Merchant(
            id=f"m{i:05d}",
            name=f"基准商户{i:05d}" if i % 2 else f"Bench Merchant {i:05d}",
            email=f"m{i:05d}@merchant.example.com",
            language="zh" if i % 2 else "en",
            acquirers=tuple(rng.sample(acquirers, min(len(acquirers), rng.randint(1, 2)))),
            flows=tuple(rng.sample(flows, rng.randint(2, 5))),
        )
        for i in range(n)
    ]


def seed_merchants(engine: Engine, items: list[Merchant]) -> None:
    with begin_write(engine) as conn:
        for i in range(0, len(items), 1000):
            upsert_merchants(conn, items[i : i + 1000])
