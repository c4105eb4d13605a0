"""The taxonomy as loaded: categories, flows, severities and their compiled rules.

Plain frozen dataclasses; ``settlewatch.taxonomy`` builds them from rules/ and checks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial

IRRELEVANT = "irrelevant"
# Fields an action template may use (see rules/taxonomy.yaml).
ACTION_FIELDS = frozenset(("start", "end", "resume", "effective", "effective_last", "deadline"))
ACTION_FIELDS |= {"expires", "window_start", "window_end", "published", "announced"}
ACTION_FIELDS |= {"no_settlement_start", "no_settlement_end"}


@dataclass(frozen=True)
class Rule:
    """One pattern that votes for ``target`` (a category or a flow id)."""

    id: str
    target: str
    pattern: re.Pattern[str]  # led by a first-character look-ahead when one can be derived
    where: str = "both"  # "title" | "body" | "both"
    weight: float = 1.0
    negatives: tuple[re.Pattern[str], ...] = ()
    # Literals (lower-cased) of which every match contains one; None when none can be derived.
    # classify skips the regex when none of them is in the text: most rules fail this cheaply.
    gate: frozenset[str] | None = None


@dataclass(frozen=True)
class Category:
    id: str
    zh: str
    en: str
    severity: str
    flows: tuple[str, ...]  # always tagged: what the category is about
    action_zh: str
    action_en: str
    rules: tuple[Rule, ...]
    suppress: tuple[Rule, ...] = ()
    urgent_on: tuple[str, ...] = ()
    start_keys: tuple[str, ...] = ("effective",)
    end_keys: tuple[str, ...] = ("effective_last",)
    # Tagged when the text names no flow beyond ``flows``: the usual reach of such a notice.
    fallback_flows: tuple[str, ...] = ()
    # Flows whose keywords are context in this category's notices, not what changes (the
    # "POS" of "POS商户春节结算安排" is who is paid late, not card acceptance).
    ignore_flows: frozenset[str] = frozenset()

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def action(self, lang: str) -> str:
        return self.action_zh if lang == "zh" else self.action_en


@dataclass(frozen=True)
class Flow:
    id: str
    zh: str
    en: str
    keywords: tuple[Rule, ...] = ()

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Severity:
    id: str
    zh: str
    en: str


@dataclass(frozen=True)
class SeverityRule:
    rule: Rule
    categories: tuple[str, ...] = ()  # empty: any category
    severity: str | None = None
    shift: int = 0
    drop_dates: tuple[str, ...] = ()


@dataclass(frozen=True)
class EditRule:
    rule: Rule
    side: str = "added"  # "added" | "removed"
    shift: int = 0


@dataclass(frozen=True)
class Scoring:
    title_weight: float = 2.0
    min_score: float = 2.5
    secondary_ratio: float = 0.6
    urgent_hours: int = 72
    review_below: float = 0.0  # a Finding less confident than this is flagged for review


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]
    flows: tuple[Flow, ...]
    severities: tuple[Severity, ...]
    scoring: Scoring = Scoring()
    severity_rules: tuple[SeverityRule, ...] = ()
    edit_rules: tuple[EditRule, ...] = ()
    path: str = ""
    # Derived here so that classify does no lookups per call: categories by id, every gate
    # literal by its first character (one pass per text finds those present), the rules each
    # literal opens, and the rules without a gate (always tried).
    by_id: dict[str, Category] = field(init=False, compare=False, repr=False)
    gate_index: dict[str, tuple[str, ...]] = field(init=False, compare=False, repr=False)
    gate_rules: dict[str, frozenset[str]] = field(init=False, compare=False, repr=False)
    ungated: frozenset[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        rules = [r for c in self.categories for r in (*c.rules, *c.suppress)]
        rules += [r for f in self.flows for r in f.keywords]
        rules += [s.rule for s in self.severity_rules]
        index: dict[str, set[str]] = {}
        opens: dict[str, set[str]] = {}
        for r in rules:
            for lit in r.gate or ():
                index.setdefault(lit[0], set()).add(lit)
                opens.setdefault(lit, set()).add(r.id)
        setattr_ = partial(object.__setattr__, self)  # frozen: derived fields are set once, here
        setattr_("by_id", {c.id: c for c in self.categories})
        setattr_("gate_index", {k: tuple(v) for k, v in index.items()})
        setattr_("gate_rules", {k: frozenset(v) for k, v in opens.items()})
        setattr_("ungated", frozenset(r.id for r in rules if not r.gate))

    def category(self, category_id: str) -> Category:
        return self.by_id[category_id]
