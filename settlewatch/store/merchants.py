"""Merchants in the store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from settlewatch.models import Merchant
from settlewatch.store.db import utcnow
from settlewatch.store.schema import merchants
from settlewatch.store.sql import upsert


def upsert_merchants(conn: Connection, items: list[Merchant]) -> None:
    """Write merchants; the file is the truth, so webhooks and send_empty are replaced too."""
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
                "webhooks": list(m.webhooks),
                "send_empty": m.send_empty,
                "updated_at": now,
            }
            for m in items
        ],
        "id",
    )


def merchant_from_row(r: Any) -> Merchant:
    return Merchant(
        id=r.id,
        name=r.name,
        email=r.email,
        language=r.language,
        acquirers=tuple(r.acquirers),
        flows=tuple(r.flows),
        channels=tuple(r.channels),
        region=r.region,
        webhooks=tuple(r.webhooks or ()),
        send_empty=bool(r.send_empty),
    )


def load_merchants(conn: Connection, ids: list[str] | None = None) -> list[Merchant]:
    q = select(merchants).order_by(merchants.c.id)
    if ids is not None:
        q = q.where(merchants.c.id.in_(ids))
    return [merchant_from_row(r) for r in conn.execute(q)]
