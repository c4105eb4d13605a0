"""Rendering JavaScript pages: scrapy-playwright on the system chromium."""

from __future__ import annotations

import os

from scrapy.settings import BaseSettings

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"


def enable_playwright(s: BaseSettings) -> None:
    """Route requests marked playwright=True through chromium; others download as usual.

    Only crawls that include a render_js source turn this on (SETTLEWATCH_RENDER_JS), locally
    through `crawler.run --render-js` and on Scrapyd through the job's settings.
    """
    s.set("DOWNLOAD_HANDLERS", {"http": HANDLER, "https": HANDLER}, priority="spider")
    s.set("PLAYWRIGHT_BROWSER_TYPE", "chromium", priority="spider")
    s.set(
        "PLAYWRIGHT_LAUNCH_OPTIONS",
        {
            "executable_path": os.environ.get("SETTLEWATCH_CHROMIUM", "/usr/bin/chromium"),
            "headless": True,
            "args": BROWSER_ARGS,
        },
        priority="spider",
    )
