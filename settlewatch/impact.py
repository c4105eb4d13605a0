"""Impact: which merchants a Finding touches, and what each of them should do.

A Finding affects a merchant when both hold:

- the publisher applies to the merchant: a regulator, scheme or clearing house applies to every
  merchant in its jurisdiction (or everywhere, for ``GLOBAL``); an acquirer applies to its own
  merchants, named in the merchant's ``acquirers`` by source id or by authority;
- the Finding's flows meet the flows the merchant uses. Those are the merchant's ``flows``
  plus the acceptance flows of its ``channels`` (pos → card_present, qr → qr_scan,
  online → online_pay). A merchant that lists channels accepts through those only, so a Finding
  about card terminals alone does not reach a QR-only shop; a merchant that lists no channels
  is taken to accept everything.

Each Impact carries the merchant's action text, rendered in the merchant's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from settlewatch.action import render_action
from settlewatch.models import Finding, Merchant
from settlewatch.taxonomy_model import IRRELEVANT, Taxonomy

# Acceptance channel names (as merchants files write them) → the acceptance flow they use.
CHANNEL_FLOWS: dict[str, str] = {
    "pos": "card_present",
    "card": "card_present",
    "card_present": "card_present",
    "qr": "qr_scan",
    "qr_scan": "qr_scan",
    "barcode": "qr_scan",
    "online": "online_pay",
    "online_pay": "online_pay",
    "ecommerce": "online_pay",
    "web": "online_pay",
    "app": "online_pay",
}
ACCEPTANCE_FLOWS = frozenset(CHANNEL_FLOWS.values())


@dataclass(frozen=True)
class Publisher:
    source_id: str
    authority: str
    kind: str
    jurisdiction: str


@dataclass(frozen=True)
class Impact:
    """One merchant touched by one Finding."""

    merchant: Merchant
    flows: tuple[str, ...]  # the Finding's flows that this merchant uses, in the Finding's order
    flow_names: tuple[str, ...]  # the same, named in the merchant's language
    action: str  # the category's action, filled with the Finding's dates, in that language

    @property
    def language(self) -> str:
        return self.merchant.language


def channel_flows(channels: Iterable[str]) -> frozenset[str]:
    """The acceptance flows of the named channels; unknown names are ignored."""
    return frozenset(
        CHANNEL_FLOWS[key] for c in channels if (key := c.strip().lower()) in CHANNEL_FLOWS
    )


def used_flows(merchant: Merchant) -> frozenset[str]:
    """Every flow the merchant uses: its flows, with acceptance flows set by its channels.

    Listed channels decide acceptance (a card_present in ``flows`` of a QR-only merchant does
    not count); no channel listed, or none that names an acceptance channel, means all of them.
    """
    accepted = channel_flows(merchant.channels) or ACCEPTANCE_FLOWS
    return (frozenset(merchant.flows) - ACCEPTANCE_FLOWS) | accepted


def applies(publisher: Publisher, merchant: Merchant) -> bool:
    """Does the publisher's word reach this merchant at all (flows aside)?"""
    if publisher.kind == "acquirer":
        return (
            publisher.source_id in merchant.acquirers or publisher.authority in merchant.acquirers
        )
    return publisher.jurisdiction in (merchant.region, "GLOBAL")


def touched(flows: Iterable[str], merchant: Merchant) -> tuple[str, ...]:
    """The given flows that the merchant uses, in the given order."""
    used = used_flows(merchant)
    return tuple(f for f in flows if f in used)


def affects(publisher: Publisher, flows: tuple[str, ...], merchant: Merchant) -> bool:
    return applies(publisher, merchant) and bool(touched(flows, merchant))


def affected(
    publisher: Publisher, flows: tuple[str, ...], merchants: list[Merchant]
) -> list[Merchant]:
    return [m for m in merchants if affects(publisher, flows, m)]


def impacts(
    publisher: Publisher, finding: Finding, merchants: Iterable[Merchant], taxonomy: Taxonomy
) -> list[Impact]:
    """The merchants ``finding`` affects, each with its flows and action in its language."""
    if finding.category == IRRELEVANT:
        return []
    names = {f.id: f for f in taxonomy.flows}
    actions: dict[str, str] = {}  # one rendering per language, shared by its merchants
    out = []
    for m in merchants:
        flows = touched(finding.flows, m) if applies(publisher, m) else ()
        if not flows:
            continue
        if m.language not in actions:
            actions[m.language] = render_action(taxonomy, finding, m.language)
        named = tuple(names[f].name(m.language) if f in names else f for f in flows)
        out.append(Impact(m, flows, named, actions[m.language]))
    return out
