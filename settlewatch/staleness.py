"""Stale sources: boards with no successful crawl for too long.

A board that quietly stops being crawled (scheduler down, a job lost, a source left out of
the rotation) looks exactly like a board with no news. The daily health check marks it
`stale`, so digests list it under "sources we could not check" and the operator sees it in
`settlewatch sources list`. The next successful crawl sets the health back to `ok`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, and_, or_, select, update

from settlewatch.store.db import begin_write
from settlewatch.store.schema import sources

# Failing, blocked and broken already say more than "stale" does; only a source that
# claims to be fine (or was never judged) can go quietly out of date.
MAY_GO_STALE = ("ok", "unknown")


@dataclass(frozen=True)
class SourceState:
    id: str
    health: str
    last_success: dt.datetime | None
    last_attempt: dt.datetime | None


@dataclass(frozen=True)
class StaleVerdict:
    source_id: str
    reason: str


def _ago(now: dt.datetime, then: dt.datetime) -> str:
    days = (now - then).days
    return f"{days} day{'s' if days != 1 else ''} ago" if days else "today"


def stale_verdicts(
    states: Iterable[SourceState], now: dt.datetime, days: int
) -> list[StaleVerdict]:
    """Which sources are stale at ``now``: last success older than ``days`` days (pure).

    A source never crawled successfully is stale once its first attempt is that old; one
    never attempted at all has nothing to date it by and stays `unknown`.
    """
    cutoff = now - dt.timedelta(days=days)
    out = []
    for s in states:
        if s.health not in MAY_GO_STALE:
            continue
        if s.last_success is not None:
            if s.last_success < cutoff:
                out.append(
                    StaleVerdict(
                        s.id,
                        f"no successful crawl in {days} days "
                        f"(last success {s.last_success:%Y-%m-%d %H:%M} UTC, "
                        f"{_ago(now, s.last_success)})",
                    )
                )
        elif s.last_attempt is not None and s.last_attempt < cutoff:
            out.append(
                StaleVerdict(
                    s.id,
                    f"never crawled successfully (last attempt "
                    f"{s.last_attempt:%Y-%m-%d %H:%M} UTC, {_ago(now, s.last_attempt)})",
                )
            )
    return out


def mark_stale(engine: Engine, now: dt.datetime, days: int) -> list[StaleVerdict]:
    """Mark every stale source in the store; return what was marked."""
    cutoff = now - dt.timedelta(days=days)
    with begin_write(engine) as conn:
        rows = conn.execute(
            select(
                sources.c.id, sources.c.health, sources.c.last_success, sources.c.last_attempt
            ).order_by(sources.c.id)
        )
        verdicts = stale_verdicts((SourceState(*r) for r in rows), now, days)
        for v in verdicts:
            # the same conditions again: a crawl that succeeded meanwhile wins
            conn.execute(
                update(sources)
                .where(sources.c.id == v.source_id, sources.c.health.in_(MAY_GO_STALE))
                .where(
                    or_(
                        sources.c.last_success < cutoff,
                        and_(sources.c.last_success.is_(None), sources.c.last_attempt < cutoff),
                    )
                )
                .values(health="stale", health_reason=v.reason)
            )
    return verdicts
