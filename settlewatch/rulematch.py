"""Matching taxonomy rules against a notice's fields, with evidence spans.

A field is folded once (full-width → ASCII, Traditional → Simplified, same length), and the
literal gates present in it are collected in one pass, so that a rule whose gate is absent is
skipped without running its regex. Offsets in folded text are offsets in the original text,
so every span quotes the notice exactly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from settlewatch.models import Span
from settlewatch.taxonomy_model import Rule, Taxonomy
from settlewatch.textnorm import fold

NEGATIVE_REACH = 30  # characters either side of a hit searched for its counter-indicators
# Instruments cited as the legal basis ("根据《非银行机构网络支付业务管理办法》…") name what the
# law covers, not what this notice changes: their names are no evidence of a flow.
_CITED = re.compile(
    r"(?:根据|依据|按照|依照|遵照|参照|遵循)[^。;\n《]{0,8}((?:《[^《》\n]{1,60}》[、,及和与\s]*)+)"
)


@dataclass(frozen=True)
class Field:
    """One field prepared once per call: folded for matching, plus the gate literals present."""

    name: str
    original: str
    folded: str
    candidates: frozenset[str]  # ids of the rules whose gate literals occur here

    @classmethod
    def of(cls, name: str, text: str, taxonomy: Taxonomy) -> Field:
        folded = fold(text)
        lowered = folded.lower()
        index, opens = taxonomy.gate_index, taxonomy.gate_rules
        present = [lit for ch in index.keys() & set(lowered) for lit in index[ch] if lit in lowered]
        return cls(name, text, folded, taxonomy.ungated.union(*(opens[lit] for lit in present)))

    def without_citations(self) -> Field:
        """The same field with cited instrument names blanked (offsets kept)."""
        if "《" not in self.folded:
            return self
        masked = _CITED.sub(lambda m: m[0][: m.start(1) - m.start()] + " " * len(m[1]), self.folded)
        return Field(self.name, self.original, masked, self.candidates)

    def match(self, rule: Rule) -> Span | None:
        """The first match of ``rule`` here, unless a negative sits next to it."""
        m = match_rule(rule, self.folded)
        return (
            Span(self.name, m.start(), m.end(), self.original[m.start() : m.end()]) if m else None
        )


def match_rule(rule: Rule, folded: str) -> re.Match[str] | None:
    """The first match of ``rule`` in folded text, unless a counter-indicator sits next to it."""
    for m in rule.pattern.finditer(folded):
        if not rule.negatives:
            return m
        near = folded[max(0, m.start() - NEGATIVE_REACH) : m.end() + NEGATIVE_REACH]
        if not any(n.search(near) for n in rule.negatives):
            return m
    return None


def search(rule: Rule, fields: Mapping[str, Field]) -> list[Span]:
    """The first match of ``rule`` in each field it applies to, minus negated ones."""
    spans = []
    for name, f in fields.items():
        # A rule whose gate literals are all absent cannot match: its regex is skipped.
        if (rule.where == "both" or rule.where == name) and rule.id in f.candidates:
            span = f.match(rule)
            if span is not None:
                spans.append(span)
    return spans
