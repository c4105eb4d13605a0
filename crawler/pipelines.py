"""Item pipeline: store every Fetch as a Snapshot, in small transactions.

Snapshots are immutable and content-addressed, so a crawl killed mid-way leaves only whole
rows behind; its runs stay 'running' and tracking never reads them.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from contextlib import AbstractContextManager
from typing import Any

from scrapy.crawler import Crawler
from sqlalchemy import Connection, Engine

from settlewatch.models import Fetch
from settlewatch.store.crawls import finish_fetch, save_fetches
from settlewatch.store.db import begin_write, make_engine

BATCH = 50


class SnapshotPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.engine: Engine | None = None
        self.pending: list[Fetch] = []
        self.counts: Counter[str] = Counter()  # source id → items stored
        self.runs: dict[str, int] = {}  # source id → run id
        self.reused: dict[str, dict[str, str]] = {}  # source id → url → sha of a 304

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SnapshotPipeline:
        return cls(crawler)

    @property
    def spider(self) -> Any:
        return self.crawler.spider

    def open_spider(self) -> None:
        self.engine = make_engine(self.spider.db_url)
        for run_id, plan in self.spider.plans.items():
            self.runs[plan.decl.id] = run_id
            self.reused[plan.decl.id] = plan.reused_sha()

    def _begin(self) -> AbstractContextManager[Connection]:
        assert self.engine is not None, "open_spider() was not called"
        return begin_write(self.engine)

    def _flush(self) -> None:
        if not self.pending:
            return
        by_source: dict[str, list[Fetch]] = {}
        for item in self.pending:
            by_source.setdefault(item.source_id, []).append(item)
        with self._begin() as conn:
            for sid, fetches in by_source.items():
                save_fetches(conn, self.runs[sid], fetches, self.reused[sid])
        self.pending = []

    def process_item(self, item: Fetch) -> Fetch:
        self.pending.append(item)
        self.counts[item.source_id] += 1
        if len(self.pending) >= BATCH:
            self._flush()
        return item

    def close_spider(self) -> None:
        self._flush()
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        keep = {
            k: v.isoformat() if isinstance(v, dt.datetime) else v
            for k, v in stats.items()
            if isinstance(v, int | float | str | dt.datetime)
        }
        with self._begin() as conn:
            for sid, run_id in self.runs.items():
                mine = {"items": self.counts[sid], "pid": os.getpid(), "process": keep}
                finish_fetch(conn, run_id, mine)
        if self.engine is not None:
            self.engine.dispose()
