"""The app's per-process state: the engine, the taxonomy and the background helpers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import Engine

from settlewatch.config import Config
from settlewatch.taxonomy import Taxonomy
from settlewatch.web.crawljobs import CrawlLauncher
from settlewatch.web.limiter import LoginLimiter


@dataclass
class WebState:
    """What every view needs, built once per process by create_app."""

    engine: Engine
    db_url: str
    taxonomy: Taxonomy
    config: Config
    sources_dir: Path | None  # a configured, writable folder; None = the bundled sources
    launcher: CrawlLauncher
    limiter: LoginLimiter


def state() -> WebState:
    web_state: WebState = current_app.extensions["settlewatch"]
    return web_state
