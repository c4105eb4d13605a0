"""What one spider needs to crawl one run, read from the store by run id.

Both entry points use it: `python -m crawler.run` (local processes) and a Scrapyd job, which
passes only the run id and the database URL as spider arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from settlewatch.models import SourceDecl
from settlewatch.source import decl_from_dict
from settlewatch.store.crawls import Prior, blob, prior_fetches
from settlewatch.store.db import make_engine
from settlewatch.store.schema import crawl_runs, sources


@dataclass(frozen=True)
class CrawlPlan:
    run_id: int
    decl: SourceDecl
    prior: Prior  # conditional-request validators per URL
    blobs: dict[str, bytes]  # bodies of listings that may answer 304


def load_plan(db_url: str, run_id: int) -> CrawlPlan:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            source_id = conn.scalar(select(crawl_runs.c.source_id).where(crawl_runs.c.id == run_id))
            data = conn.scalar(select(sources.c.decl).where(sources.c.id == source_id))
            if not data:
                raise SystemExit(f"crawl run {run_id}: no such run or source in {db_url}")
            decl = decl_from_dict(data)
            prior = prior_fetches(conn, decl.id)
            shas = {p[2] for p in prior.values() if p[3] == "listing"}
            blobs = {sha: blob(conn, sha) for sha in shas}
    finally:
        engine.dispose()
    return CrawlPlan(run_id, decl, prior, blobs)
