"""Impact: which merchants a Finding touches.

A regulator, scheme or clearing house applies to every merchant in its jurisdiction; an
acquirer applies to its own merchants. Then the Finding's flows must meet the merchant's.
"""

from __future__ import annotations

from dataclasses import dataclass

from settlewatch.models import Merchant


@dataclass(frozen=True)
class Publisher:
    source_id: str
    authority: str
    kind: str
    jurisdiction: str


def applies(publisher: Publisher, merchant: Merchant) -> bool:
    if publisher.kind == "acquirer":
        return (
            publisher.source_id in merchant.acquirers or publisher.authority in merchant.acquirers
        )
    return publisher.jurisdiction in (merchant.region, "GLOBAL")


def affects(publisher: Publisher, flows: tuple[str, ...], merchant: Merchant) -> bool:
    return applies(publisher, merchant) and bool(set(flows) & set(merchant.flows))


def affected(
    publisher: Publisher, flows: tuple[str, ...], merchants: list[Merchant]
) -> list[Merchant]:
    return [m for m in merchants if affects(publisher, flows, m)]
