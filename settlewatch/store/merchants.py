"""Merchants in the store."""

from __future__ import annotations

from sqlalchemy import Connection, select

from settlewatch.models import Merchant
from settlewatch.store.db import utcnow
from settlewatch.store.schema import merchants
from settlewatch.store.sql import upsert


def upsert_merchants(conn: Connection, items: list[Merchant]) -> None:
    now = utcnow()
    upsert(
        conn,
        merchants,
        [
            {
                "id": m.id,
                "name": m.name,
                "email": m.email,
                "language": m.language,
                "acquirers": list(m.acquirers),
                "flows": list(m.flows),
                "channels": list(m.channels),
                "region": m.region,
                "updated_at": now,
            }
            for m in items
        ],
        "id",
    )


def load_merchants(conn: Connection) -> list[Merchant]:
    return [
        Merchant(
            id=r.id,
            name=r.name,
            email=r.email,
            language=r.language,
            acquirers=tuple(r.acquirers),
            flows=tuple(r.flows),
            channels=tuple(r.channels),
            region=r.region,
        )
        for r in conn.execute(select(merchants).order_by(merchants.c.id))
    ]
