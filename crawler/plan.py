"""What the spider needs to crawl its runs, read from the store by run id.

Both entry points use it: `python -m crawler.run` (local processes, several runs each) and a
Scrapyd job, which passes only the run id(s) and the database URL as spider arguments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from settlewatch.models import SourceDecl, decl_from_dict
from settlewatch.store.crawls import Prior, blob, prior_fetches
from settlewatch.store.db import make_engine
from settlewatch.store.schema import crawl_runs, sources


@dataclass(frozen=True)
class CrawlPlan:
    run_id: int
    decl: SourceDecl
    prior: Prior  # conditional-request validators per URL
    blobs: dict[str, bytes]  # bodies of listings that may answer 304

    def reused_sha(self) -> dict[str, str]:
        """url → body hash of the newest 200, which a 304 for that URL stands for."""
        return {url: p[2] for url, p in self.prior.items()}


def parse_run_ids(value: int | str | Iterable[int | str]) -> list[int]:
    """Run ids as the spider gets them: 7, "7", "7,8,9" (Scrapyd passes strings) or a list."""
    if isinstance(value, int):
        return [value]
    parts = value.split(",") if isinstance(value, str) else list(value)
    try:
        ids = [int(str(p).strip()) for p in parts if str(p).strip()]
    except ValueError:
        raise ValueError(f"run_id must be run ids separated by commas, got {value!r}") from None
    if not ids:
        raise ValueError("run_id: give at least one crawl run id")
    return list(dict.fromkeys(ids))


def _plan(conn: Connection, db_url: str, run_id: int) -> CrawlPlan:
    source_id = conn.scalar(select(crawl_runs.c.source_id).where(crawl_runs.c.id == run_id))
    data = conn.scalar(select(sources.c.decl).where(sources.c.id == source_id))
    if not data:
        raise SystemExit(f"crawl run {run_id}: no such run or source in {db_url}")
    decl = decl_from_dict(data)
    prior = prior_fetches(conn, decl.id)
    shas = {p[2] for p in prior.values() if p[3] == "listing"}
    return CrawlPlan(run_id, decl, prior, {sha: blob(conn, sha) for sha in shas})


def load_plans(db_url: str, run_ids: list[int]) -> dict[int, CrawlPlan]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return {run_id: _plan(conn, db_url, run_id) for run_id in run_ids}
    finally:
        engine.dispose()
