"""The bundled demo: a local fake notice board, its source declarations and demo merchants.

``make demo`` and ``settlewatch demo`` serve it on 127.0.0.1, crawl it in "week 1", switch it
to "week 2" and crawl again, so the whole pipeline can be watched without the internet.
"""

from __future__ import annotations

from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent


def demo_merchants_path() -> Path:
    """The bundled demo merchants file (YAML, loaded with settlewatch.merchant)."""
    return DEMO_DIR / "merchants.yaml"
