"""Item pipeline: store every Fetch as a Snapshot, in small transactions.

Snapshots are immutable and content-addressed, so a crawl killed mid-way leaves only whole
rows behind; its run stays 'running' and tracking never reads it.
"""

from __future__ import annotations

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
        self.count = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SnapshotPipeline:
        return cls(crawler)

    @property
    def spider(self) -> Any:
        return self.crawler.spider

    def open_spider(self) -> None:
        self.engine = make_engine(self.spider.db_url)

    def _begin(self) -> AbstractContextManager[Connection]:
        assert self.engine is not None, "open_spider() was not called"
        return begin_write(self.engine)

    def _flush(self) -> None:
        if not self.pending:
            return
        reused = {url: prior[2] for url, prior in self.spider.prior.items()}
        with self._begin() as conn:
            save_fetches(conn, self.spider.run_id, self.pending, reused)
        self.pending = []

    def process_item(self, item: Fetch) -> Fetch:
        self.pending.append(item)
        self.count += 1
        if len(self.pending) >= BATCH:
            self._flush()
        return item

    def close_spider(self) -> None:
        self._flush()
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        keep = {k: v for k, v in stats.items() if isinstance(v, int | float | str)}
        with self._begin() as conn:
            finish_fetch(conn, self.spider.run_id, {"items": self.count, **keep})
        if self.engine is not None:
            self.engine.dispose()
