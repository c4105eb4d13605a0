"""Run crawls in this process: one spider (one Scrapy Crawler) for all the run ids given.

Started by settlewatch.crawl as ``python -m crawler.run --db URL RUN_ID ...`` because
Scrapy's reactor cannot restart inside a long-lived process. With ``--stdin`` the run ids
come on the first line of standard input instead: settlewatch starts the process early, so
that its imports overlap with taking leases and creating runs; an empty line or end of input
means there is nothing to crawl.
"""

from __future__ import annotations

import argparse
import os
import sys

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
    parser.add_argument("--stdin", action="store_true", help="read the run ids from stdin")
    parser.add_argument("run_ids", nargs="*", type=int)
    args = parser.parse_args(argv)
    run_ids: list[int] = args.run_ids
    if args.stdin:
        line = sys.stdin.readline().split()
        try:
            run_ids = [int(x) for x in line]
        except ValueError:
            parser.error(f"stdin: expected run ids separated by spaces, got {' '.join(line)!r}")
    elif not run_ids:
        parser.error("give run ids, or --stdin")
    if not run_ids:
        return 0

    settings = build_settings(args.db)
    if args.render_js:
        settings.set("SETTLEWATCH_RENDER_JS", True, priority="cmdline")
    process = CrawlerProcess(settings)
    process.crawl(NoticeSpider, run_id=",".join(map(str, run_ids)), db=args.db)
    process.start()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
