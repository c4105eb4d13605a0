"""The Scrapy side of a crawler process: settings, components, one crawl.

Imported by crawler.run once it has tuned the garbage collector for the imports (importing
Scrapy, Twisted and SQLAlchemy allocates ~500,000 objects).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import sys
from collections.abc import Iterator

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.settings.default_settings import LOG_VERSIONS as DEFAULT_LOG_VERSIONS
from scrapy.utils.misc import load_object
from twisted.python.failure import Failure

from crawler import settings as default_settings
from crawler.logformat import log_level
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
    if log_level(s.get("LOG_LEVEL")) <= logging.INFO:  # then the versions are seen
        s.set("LOG_VERSIONS", DEFAULT_LOG_VERSIONS, priority="cmdline")
    return s


# settings naming one class each, which a Crawler imports as it starts
CLASS_SETTINGS = (
    "SCHEDULER",
    "SCHEDULER_PRIORITY_QUEUE",
    "SCHEDULER_MEMORY_QUEUE",
    "DUPEFILTER_CLASS",
    "STATS_CLASS",
    "DOWNLOADER",
    "LOG_FORMATTER",
    "REQUEST_FINGERPRINTER_CLASS",
)
COMPONENT_SETTINGS = (
    "DOWNLOADER_MIDDLEWARES",
    "SPIDER_MIDDLEWARES",
    "EXTENSIONS",
    "ITEM_PIPELINES",
)


def preload_components(settings: Settings) -> None:
    """Import the classes a Crawler loads as it starts (middlewares, extensions, pipeline,
    HTTP handler, scheduler...), while waiting for the order: forked crawlers then start
    with them loaded. A class that fails to load is left to the crawl, which reports it."""
    paths = [settings.get(name) for name in CLASS_SETTINGS]
    for name in COMPONENT_SETTINGS:
        paths += [path for path, prio in settings.getwithbase(name).items() if prio is not None]
    paths += [settings.getwithbase("DOWNLOAD_HANDLERS").get(s) for s in ("http", "https")]
    with _shallow_stacks():
        for path in paths:
            if isinstance(path, str):
                with contextlib.suppress(Exception):
                    load_object(path)


@contextlib.contextmanager
def _shallow_stacks() -> Iterator[None]:
    """While it lasts, ``inspect.stack()`` returns only its first two frames, without source.

    Scrapy's ``create_deprecated_class()`` reads ``inspect.stack()[1]`` to name the module of
    each deprecated alias it defines, three of them in the TLS modules the HTTP handler
    imports. A full stack with source context costs ~20 ms a call there (module lookups and
    source reads for every frame of the import machinery): ~60 ms of every crawl's start. The
    two frames returned are the ones the full stack starts with, so the aliases get the same
    ``__module__``. Only preload_components uses it, before any thread or fork exists."""
    real = inspect.stack

    def stack(context: int = 1) -> list[inspect.FrameInfo]:
        frames = (sys._getframe(1), sys._getframe(2))
        return [
            inspect.FrameInfo(f, f.f_code.co_filename, f.f_lineno, f.f_code.co_name, None, None)
            for f in frames
        ]

    inspect.stack = stack
    try:
        yield
    finally:
        inspect.stack = real


def crawl(db: str, run_ids: list[int], render_js: bool) -> int:
    settings = build_settings(db)
    if render_js:
        settings.set("SETTLEWATCH_RENDER_JS", True, priority="cmdline")
    process = CrawlerProcess(settings)
    failed: list[str] = []

    def report(failure: Failure) -> None:  # now, not when the Deferred is collected
        failed.append(failure.getTraceback())
        sys.stderr.write(f"crawl of runs {run_ids} failed:\n{failed[-1]}")

    process.crawl(NoticeSpider, run_id=",".join(map(str, run_ids)), db=db).addErrback(report)
    process.start()
    return 1 if failed else 0
