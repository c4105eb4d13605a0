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

from settlewatch import dates_patterns as P
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
_WINDOW_ENDS = {"window_start": "window_end", "no_settlement_start": "no_settlement_end"}


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
        m = _match(rule, self.folded)
        return Span(name, m.start(), m.end(), self.original[m.start() : m.end()]) if m else None


def _match(rule: Rule, folded: str) -> re.Match[str] | None:
    """The first match of ``rule`` in folded text, unless a counter-indicator sits next to it."""
    m = rule.pattern.search(folded)
    if m is not None and rule.negatives:
        near = folded[max(0, m.start() - _NEGATIVE_REACH) : m.end() + _NEGATIVE_REACH]
        if any(n.search(near) for n in rule.negatives):
            return None
    return m


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


def _first_new(pattern: re.Pattern[str], added: str, removed: str) -> re.Match[str] | None:
    """The first match in ``added`` whose text ``removed`` does not have: what the edit changed."""
    old = set(pattern.findall(removed))
    return next((m for m in pattern.finditer(added) if m.group() not in old), None)


def _edit_hits(
    taxonomy: Taxonomy, category: str, added: str, removed: str, published: dt.date | None
) -> tuple[list[RuleHit], int]:
    """What an edit did: dates moved, a window extended, a rate or amount changed, cancelled."""
    hits: list[RuleHit] = []
    fa, fr = fold(added), fold(removed)

    def hit(rule_id: str, m: re.Match[str] | None, field: str = "diff") -> None:
        text = added if field == "diff" else removed
        span = Span(field, m.start(), m.end(), text[m.start() : m.end()]) if m else None
        hits.append(RuleHit(rule_id, category, 0.0, span or Span(field, 0, 0, "")))

    _, new = find_mentions("", fa, published, folded=True)
    _, old = find_mentions("", fr, published, folded=True)
    changed = _first_new(P.ATOM, fa, fr)
    if new and old and {m.start for m in new} != {m.start for m in old}:
        hit("edit.date-moved", changed)
    elif new and old:  # same days: compare the timed windows, when both sides state times
        tn = [(m.start_key(), m.end_key()) for m in new if m.start_time or m.end_time]
        to = [(m.start_key(), m.end_key()) for m in old if m.start_time or m.end_time]
        if tn and to and set(tn) != set(to):
            grew = min(tn)[0] < min(to)[0] or max(e for _, e in tn) > max(e for _, e in to)
            hit("edit.window-extended" if grew else "edit.time-changed", changed)
    for rule_id, pattern in (("edit.rate-changed", _RATE), ("edit.amount-changed", _AMOUNT)):
        if pattern.search(fr) and (m := _first_new(pattern, fa, fr)):
            hit(rule_id, m)
    shift = 0
    for er in taxonomy.edit_rules:
        m = _match(er.rule, fa if er.side == "added" else fr)
        if m:
            hit(er.rule.id, m, "diff" if er.side == "added" else "diff_removed")
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
        end_key = _WINDOW_ENDS.get(key, key)
        end = _as_datetime(dates[end_key].value) if end_key in dates else start
        if now_naive <= start <= horizon or start <= now_naive <= end:
            return dates[key]
    return None


def _severity(
    taxonomy: Taxonomy,
    primary: Category,
    fields: Mapping[str, _Text],
    hits: list[RuleHit],
    dates: dict[str, DateValue],
) -> tuple[str, int]:
    """The category's severity as set by the first matching severity rule, and the shifts."""
    severity, shift, fixed = primary.severity, 0, False
    for sr in taxonomy.severity_rules:
        if sr.categories and primary.id not in sr.categories:
            continue
        spans = _search(sr.rule, fields)
        if spans:
            hits.append(RuleHit(sr.rule.id, primary.id, 0.0, spans[0]))
            severity, fixed = (
                (sr.severity, True) if sr.severity and not fixed else (severity, fixed)
            )
            shift += sr.shift
            for key in sr.drop_dates:  # a draft is not in force: its dates are not effective
                dates.pop(key, None)
    return severity, shift


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
    """Read one Change into a Finding.

    ``kind="edited"`` also reads ``diff_added``/``diff_removed`` (dates moved, windows
    extended, rates changed, cancellations). ``now`` enables time-based escalation: a stop
    within urgent_hours (or under way) becomes S4. Notice times are wall-clock times as
    written, so ``now`` is compared as a wall-clock time too (an aware ``now`` loses its zone).
    """
    fields = {"title": _Text.of(title, taxonomy), "body": _Text.of(body, taxonomy)}
    scores, hits = _score(taxonomy, fields)
    primary_id, secondary, confidence = _rank(taxonomy, scores)
    primary = taxonomy.category(primary_id)
    dates = extract_dates(fields["title"].folded, fields["body"].folded, published, folded=True)
    order = [s.id for s in taxonomy.severities]
    if primary_id == IRRELEVANT:
        return Finding(primary_id, primary.severity, (), dates, tuple(hits), confidence)
    severity, shift = _severity(taxonomy, primary, fields, hits, dates)
    if kind == "edited" and (diff_added or diff_removed):
        edit_hits, edit_shift = _edit_hits(
            taxonomy, primary_id, diff_added, diff_removed, published
        )
        hits += edit_hits
        shift += edit_shift
    elif kind == "withdrawn":  # the page is gone: the Finding says so, with the title as evidence
        hits.append(
            RuleHit("change.withdrawn", primary_id, 0.0, Span("title", 0, len(title), title))
        )
    severity = order[min(max(order.index(severity) + shift, 0), len(order) - 1)]
    urgent = _urgent(taxonomy, primary, dates, now) if now is not None else None
    if urgent is not None:
        severity = order[-1]
        span = Span("dates", 0, len(urgent.evidence), urgent.evidence)
        hits.append(RuleHit("severity.urgent", primary_id, 0.0, span))
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
