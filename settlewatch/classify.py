"""Classify a Change into a Finding: category, secondary categories, severity, flows and dates.

Deterministic and explainable: every category is scored by the weighted rule hits of
rules/taxonomy.yaml (a title hit counts title_weight times a body hit), suppress rules zero a
category, and each hit is kept as a RuleHit with the text it matched. Nothing here reads files
or the clock: ``now`` is passed in when time-based escalation is wanted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from settlewatch.dates import extract_dates, find_mentions
from settlewatch.dates_patterns import fold
from settlewatch.models import ChangeKind, DateValue, Finding, RuleHit, Span
from settlewatch.taxonomy import IRRELEVANT, Category, Rule, Taxonomy

_NEGATIVE_REACH = 30  # characters either side of a hit searched for its counter-indicators
_RATE = re.compile(r"\d+(?:\.\d+)?\s*[%‰]")
_AMOUNT = re.compile(r"\d+(?:\.\d+)?\s*(?:万|千)?元")
_MISSING = {"zh": "(未注明)", "en": "(not stated)"}
_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")
_FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class _Text:
    """One field prepared once per call: folded for matching, plus the gate literals present."""

    original: str
    folded: str
    candidates: frozenset[str]  # ids of the rules whose gate literals occur here

    @classmethod
    def of(cls, text: str, taxonomy: Taxonomy) -> _Text:
        folded = fold(text)
        lowered = folded.lower()
        index, opens = taxonomy.gate_index, taxonomy.gate_rules
        present = [lit for ch in index.keys() & set(lowered) for lit in index[ch] if lit in lowered]
        return cls(text, folded, taxonomy.ungated.union(*(opens[lit] for lit in present)))

    def match(self, rule: Rule, name: str) -> Span | None:
        """The first match of ``rule`` here, unless a negative sits next to it."""
        m = rule.pattern.search(self.folded)
        if m is None:
            return None
        if rule.negatives:
            near = self.folded[max(0, m.start() - _NEGATIVE_REACH) : m.end() + _NEGATIVE_REACH]
            if any(n.search(near) for n in rule.negatives):
                return None
        return Span(name, m.start(), m.end(), self.original[m.start() : m.end()])


def _search(rule: Rule, fields: Mapping[str, _Text]) -> list[Span]:
    """The first match of ``rule`` in each field it applies to, minus negated ones."""
    spans = []
    for name, f in fields.items():
        # A rule whose gate literals are all absent cannot match: its regex is skipped.
        if (rule.where == "both" or rule.where == name) and rule.id in f.candidates:
            span = f.match(rule, name)
            if span is not None:
                spans.append(span)
    return spans


def _score(
    taxonomy: Taxonomy, fields: Mapping[str, _Text]
) -> tuple[dict[str, float], list[RuleHit]]:
    scores: dict[str, float] = {}
    hits: list[RuleHit] = []
    title_weight = taxonomy.scoring.title_weight
    maybe = fields["title"].candidates | fields["body"].candidates
    for cat in taxonomy.categories:
        total = 0.0
        for rule in cat.rules:
            if rule.id not in maybe:
                continue
            for span in _search(rule, fields):
                w = rule.weight * (title_weight if span.field == "title" else 1.0)
                total += w
                hits.append(RuleHit(rule.id, cat.id, w, span))
        if total:
            for rule in cat.suppress:
                for span in _search(rule, fields):
                    # Kept as evidence with a negative weight: why this category lost.
                    hits.append(RuleHit(rule.id, cat.id, -total, span))
                    total = 0.0
        scores[cat.id] = total
    return scores, hits


def _rank(taxonomy: Taxonomy, scores: dict[str, float]) -> tuple[str, tuple[str, ...], float]:
    """Primary category, secondary categories and a confidence in [0, 1]."""
    s = taxonomy.scoring
    relevant = sorted(
        ((v, k) for k, v in scores.items() if k != IRRELEVANT and v > 0), reverse=True
    )
    irrelevant = scores.get(IRRELEVANT, 0.0)
    best, primary = relevant[0] if relevant else (0.0, IRRELEVANT)
    if best < s.min_score or irrelevant >= best:
        if irrelevant == 0.0:  # nothing fired: fairly sure, not certain
            return IRRELEVANT, (), round(0.6 - 0.3 * min(best / s.min_score, 1.0), 3)
        margin = (irrelevant - best) / irrelevant if irrelevant > best else 0.0
        strength = irrelevant / (irrelevant + 2 * s.min_score)
        return IRRELEVANT, (), round(strength * (0.5 + 0.5 * margin), 3)
    floor = max(s.min_score, s.secondary_ratio * best)
    secondary = tuple(k for v, k in relevant[1:] if v >= floor)
    runner_up = max(relevant[1][0] if len(relevant) > 1 else 0.0, irrelevant)
    strength = best / (best + 2 * s.min_score)
    return primary, secondary, round(strength * (0.5 + 0.5 * (best - runner_up) / best), 3)


def _flows(
    taxonomy: Taxonomy, primary: Category, fields: Mapping[str, _Text], hits: list[RuleHit]
) -> tuple[str, ...]:
    if primary.id == IRRELEVANT:
        return ()
    found = set(primary.flows)
    maybe = fields["title"].candidates | fields["body"].candidates
    for flow in taxonomy.flows:
        for rule in flow.keywords:
            if rule.id not in maybe:
                continue
            for span in _search(rule, fields):
                found.add(flow.id)
                hits.append(RuleHit(rule.id, flow.id, 0.0, span))
    return tuple(f.id for f in taxonomy.flows if f.id in found)


def _edit_hits(
    taxonomy: Taxonomy, category: str, added: str, removed: str, published: dt.date | None
) -> tuple[list[RuleHit], int]:
    """What an edit did: dates moved, a window extended, a rate or amount changed, cancelled."""
    hits: list[RuleHit] = []
    shift = 0
    fa, fr = fold(added), fold(removed)

    def hit(rule_id: str, m: re.Match[str] | None) -> None:
        span = (
            Span("diff", m.start(), m.end(), added[m.start() : m.end()])
            if m
            else Span("diff", 0, min(len(added), 80), added[:80])
        )
        hits.append(RuleHit(rule_id, category, 0.0, span))

    _, new = find_mentions("", fa, published)
    _, old = find_mentions("", fr, published)
    if new and old:
        first = re.search(r"\d", fa)
        if {(m.start, m.end) for m in new} != {(m.start, m.end) for m in old}:
            hit("edit.date-moved", first)
        elif {(m.start_key(), m.end_key()) for m in new} != {
            (m.start_key(), m.end_key()) for m in old
        }:
            grew = max(m.end_key() for m in new) > max(m.end_key() for m in old) or min(
                m.start_key() for m in new
            ) < min(m.start_key() for m in old)
            hit("edit.window-extended" if grew else "edit.time-changed", first)
    for rule_id, pattern in (("edit.rate-changed", _RATE), ("edit.amount-changed", _AMOUNT)):
        a, r = pattern.findall(fa), pattern.findall(fr)
        if a and r and sorted(a) != sorted(r):
            hit(rule_id, pattern.search(fa))
    for er in taxonomy.edit_rules:
        original, text = (added, fa) if er.side == "added" else (removed, fr)
        m = er.rule.pattern.search(text)
        if m:
            field = "diff" if er.side == "added" else "diff_removed"
            hits.append(
                RuleHit(
                    er.rule.id,
                    category,
                    0.0,
                    Span(field, m.start(), m.end(), original[m.start() : m.end()]),
                )
            )
            shift += er.shift
    return hits, shift


def _as_datetime(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value if "T" in value else value + "T00:00")


def _urgent(
    taxonomy: Taxonomy, cat: Category, dates: dict[str, DateValue], now: dt.datetime
) -> DateValue | None:
    """The date that makes this a stop within urgent_hours of ``now`` (or under way now)."""
    horizon = now + dt.timedelta(hours=taxonomy.scoring.urgent_hours)
    now_naive = now.replace(tzinfo=None)  # notice times are local wall-clock, as written
    horizon = horizon.replace(tzinfo=None)
    for key in cat.urgent_on:
        if key not in dates:
            continue
        start = _as_datetime(dates[key].value)
        end_key = {"window_start": "window_end", "no_settlement_start": "no_settlement_end"}.get(
            key
        )
        end = _as_datetime(dates[end_key].value) if end_key in dates else start
        if now_naive <= start <= horizon or start <= now_naive <= end:
            return dates[key]
    return None


def classify(
    taxonomy: Taxonomy,
    title: str,
    body: str,
    *,
    kind: ChangeKind = "new",
    diff_added: str = "",
    diff_removed: str = "",
    published: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Finding:
    """Read one Change. ``now`` enables time-based escalation (S4 for a stop within 72h)."""
    fields = {"title": _Text.of(title, taxonomy), "body": _Text.of(body, taxonomy)}
    scores, hits = _score(taxonomy, fields)
    primary_id, secondary, confidence = _rank(taxonomy, scores)
    primary = taxonomy.category(primary_id)
    if primary_id == IRRELEVANT:
        hits = [h for h in hits if h.category == IRRELEVANT or h.weight < 0]
    dates = extract_dates(fields["title"].folded, fields["body"].folded, published, folded=True)
    order = [s.id for s in taxonomy.severities]
    severity, shift = primary.severity, 0
    severity_set = False
    for sr in taxonomy.severity_rules:
        if primary_id == IRRELEVANT or (sr.categories and primary_id not in sr.categories):
            continue
        spans = _search(sr.rule, fields)
        if not spans:
            continue
        hits.append(RuleHit(sr.rule.id, primary_id, 0.0, spans[0]))
        if sr.severity and not severity_set:
            severity, severity_set = sr.severity, True
        shift += sr.shift
        for key in sr.drop_dates:
            dates.pop(key, None)
    if kind == "edited" and (diff_added or diff_removed):
        edit_hits, edit_shift = _edit_hits(
            taxonomy, primary_id, diff_added, diff_removed, published
        )
        hits.extend(edit_hits)
        shift += edit_shift
    index = min(max(order.index(severity) + shift, 0), len(order) - 1)
    severity = order[index]
    if now is not None and primary_id != IRRELEVANT:
        urgent = _urgent(taxonomy, primary, dates, now)
        if urgent is not None:
            severity = order[-1]
            hits.append(
                RuleHit(
                    "severity.urgent",
                    primary_id,
                    0.0,
                    Span("dates", 0, len(urgent.evidence), urgent.evidence),
                )
            )
    flows = _flows(taxonomy, primary, fields, hits)
    return Finding(primary_id, severity, flows, dates, tuple(hits), confidence, secondary)


def event_dates(
    category: Category, dates: Mapping[str, DateValue]
) -> tuple[DateValue | None, DateValue | None]:
    """The event's start and end by the category's `dates` choice (first key stated wins)."""
    start = next((dates[k] for k in category.start_keys if k in dates), None)
    end = next((dates[k] for k in category.end_keys if k in dates), None)
    return start, end


def fill(template: str, values: Mapping[str, str | None], lang: str = "en") -> str:
    """Fill ``{field}`` placeholders; a [segment] with a missing field is left out whole."""

    def present(name: str) -> bool:
        return bool(values.get(name))

    def optional(m: re.Match[str]) -> str:
        names = _FIELD.findall(m[1])
        return m[1] if all(present(n) for n in names) else ""

    text = _OPTIONAL.sub(optional, template)
    return _FIELD.sub(lambda m: values.get(m[1]) or _MISSING.get(lang, _MISSING["en"]), text)


def _show(value: DateValue | None) -> str | None:
    return value.value.replace("T", " ") if value else None


def render_action(taxonomy: Taxonomy, finding: Finding, lang: str) -> str:
    """The category's default merchant action, filled with the Finding's dates."""
    category = taxonomy.category(finding.category)
    start, end = event_dates(category, finding.dates)
    values: dict[str, str | None] = {k: _show(v) for k, v in finding.dates.items()}
    values["start"], values["end"] = _show(start), _show(end)
    return fill(category.action(lang), values, lang)
