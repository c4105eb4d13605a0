"""The queue stays fast with 10,000 pending findings (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

import statistics
import time

from flask.testing import FlaskClient
from sqlalchemy import Engine

from settlewatch.store.db import open_store
from settlewatch.web import create_app
from tests import webseed
from tests.webseed import login

PENDING = 10_000
BUDGET = 0.5  # seconds, median per page; measured ~0.05 s on SQLite on the dev machine


def median_load(client: FlaskClient, path: str, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        resp = client.get(path)
        times.append(time.perf_counter() - start)
        assert resp.status_code == 200, path
    return statistics.median(times)


def seeded(db_url: str) -> Engine:
    engine = open_store(db_url)
    webseed.bulk_findings(engine, PENDING)
    webseed.add_users(engine, alice="officer")
    return engine


def test_queue_with_ten_thousand_pending_findings(db_url: str) -> None:
    seeded(db_url)
    client = create_app(db_url, secret_key="k").test_client()
    login(client, "alice")
    first = client.get("/queue").get_data(as_text=True)
    assert f"{PENDING} finding(s) · page 1 of 200" in first
    figures = {
        path: median_load(client, path)
        for path in (
            "/queue",
            "/queue?page=150",
            "/queue?category=fee_change&flow=refund",
            "/queue?severity=S4&source=bulk",
            "/api/findings",
            "/",
        )
    }
    print("\nmedian page-load seconds with 10,000 pending findings:", figures)
    for path, seconds in figures.items():
        assert seconds < BUDGET, (path, seconds)
