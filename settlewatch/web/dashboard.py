"""The home page: what is coming up, what came in, which sources are healthy, what waits."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from settlewatch.review import find_stale, refresh_stale
from settlewatch.store.db import begin_write, utcnow
from settlewatch.web import charts
from settlewatch.web.dashboard_data import (
    HORIZON_DAYS,
    headline_counts,
    source_health,
    upcoming,
    weekly_counts,
)
from settlewatch.web.format import zone
from settlewatch.web.state import state

bp = Blueprint("dashboard", __name__)


def return_stale() -> None:
    """Send approvals whose notice changed again back to the queue (writes only if needed)."""
    engine = state().engine
    with engine.connect() as conn:
        if not find_stale(conn):
            return
    with begin_write(engine) as conn:
        refresh_stale(conn, utcnow())


@bp.get("/")
def home() -> ResponseReturnValue:
    return_stale()
    st = state()
    now = utcnow()
    today = now.astimezone(zone()).date()
    with st.engine.connect() as conn:
        events, n_events = upcoming(conn, today)
        starts, counts = weekly_counts(conn, today)
        health = source_health(conn)
        headline = headline_counts(conn, now)
    categories = [(c.id, c.en) for c in st.taxonomy.categories if c.id != "irrelevant"]
    return render_template(
        "dashboard.html",
        today=today,
        days=HORIZON_DAYS,
        events=events,
        n_events=n_events,
        timeline=charts.timeline(events, today, HORIZON_DAYS, n_events),
        weekly=charts.weekly(starts, counts, categories),
        health=health,
        headline=headline,
        lease_now=now,
        horizon_end=today + dt.timedelta(days=HORIZON_DAYS - 1),
    )
