"""Run the crawls of one `settlewatch crawl` in this process: one spider per run id.

Started by settlewatch.crawl as ``python -m crawler.run --db URL RUN_ID ...`` because
Scrapy's reactor cannot restart inside a long-lived process.
"""

from __future__ import annotations

import argparse
import os

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler import settings as default_settings
from crawler.spiders.notices import NoticeSpider


def build_settings(db: str) -> Settings:
    s = Settings()
    s.setmodule(default_settings, priority="project")
    s.set("SETTLEWATCH_DB", db, priority="cmdline")
    env = {
        "SETTLEWATCH_USER_AGENT": ("USER_AGENT", str),
        "SETTLEWATCH_DOWNLOAD_TIMEOUT": ("DOWNLOAD_TIMEOUT", float),
        "SETTLEWATCH_MAX_RESPONSE_BYTES": ("DOWNLOAD_MAXSIZE", int),
        "SETTLEWATCH_RETRY_TIMES": ("RETRY_TIMES", int),
        "SETTLEWATCH_LOG_LEVEL": ("LOG_LEVEL", str),
    }
    for var, (key, cast) in env.items():
        if os.environ.get(var):
            s.set(key, cast(os.environ[var]), priority="cmdline")
    return s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.run")
    parser.add_argument("--db", required=True)
    parser.add_argument(
        "--render-js",
        action="store_true",
        help="enable Playwright rendering for sources that declare render_js",
    )
    parser.add_argument("run_ids", nargs="+", type=int)
    args = parser.parse_args(argv)

    settings = build_settings(args.db)
    if args.render_js:
        settings.set("SETTLEWATCH_RENDER_JS", True, priority="cmdline")
    process = CrawlerProcess(settings)
    for run_id in args.run_ids:
        process.crawl(NoticeSpider, run_id=run_id, db=args.db)
    process.start()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
