"""Classify a Change into a Finding: category, secondary categories, severity, flows and dates.

Deterministic and explainable: every category is scored by the weighted rule hits of
rules/taxonomy.yaml (a title hit counts title_weight times a body hit), suppress rules zero a
category, and each hit is kept as a RuleHit with the text it matched. Flows are the
category's own, plus those the text names (flow keywords of rules/flows.yaml), or the
category's fallback when it names none. Nothing here reads files or the clock: ``now`` is
passed in when time-based escalation is wanted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from settlewatch.action import event_dates, fill, render_action
from settlewatch.dates import extract_dates
from settlewatch.edits import edit_hits
from settlewatch.models import ChangeKind, DateValue, Finding, RuleHit, Span
from settlewatch.rulematch import Field, search
from settlewatch.taxonomy_model import IRRELEVANT, Category, Taxonomy

__all__ = ["classify", "event_dates", "fill", "render_action"]

_WINDOW_ENDS = {"window_start": "window_end", "no_settlement_start": "no_settlement_end"}


def _score(
    taxonomy: Taxonomy, fields: Mapping[str, Field]
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
            for span in search(rule, fields):
                w = rule.weight * (title_weight if span.field == "title" else 1.0)
                total += w
                hits.append(RuleHit(rule.id, cat.id, w, span))
        if total:
            for rule in cat.suppress:
                for span in search(rule, fields):
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
    taxonomy: Taxonomy, primary: Category, fields: Mapping[str, Field], hits: list[RuleHit]
) -> tuple[str, ...]:
    """The category's flows, those the text names (citations aside), else its fallback."""
    plain = {name: f.without_citations() for name, f in fields.items()}
    maybe = fields["title"].candidates | fields["body"].candidates
    named: set[str] = set()
    for flow in taxonomy.flows:
        if flow.id in primary.ignore_flows:
            continue
        for rule in flow.keywords:
            if rule.id not in maybe:
                continue
            for span in search(rule, plain):
                named.add(flow.id)
                hits.append(RuleHit(rule.id, flow.id, 0.0, span))
    found = set(primary.flows) | named
    if primary.fallback_flows and not named - set(primary.flows):
        found.update(primary.fallback_flows)
        listed = ",".join(primary.fallback_flows)
        hits.append(RuleHit("flows.fallback", primary.id, 0.0, Span("category", 0, 0, listed)))
    return tuple(f.id for f in taxonomy.flows if f.id in found)


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
    fields: Mapping[str, Field],
    hits: list[RuleHit],
    dates: dict[str, DateValue],
) -> tuple[str, int]:
    """The category's severity as set by the first matching severity rule, and the shifts."""
    severity, shift, fixed = primary.severity, 0, False
    for sr in taxonomy.severity_rules:
        if sr.categories and primary.id not in sr.categories:
            continue
        spans = search(sr.rule, fields)
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
    fields = {"title": Field.of("title", title, taxonomy), "body": Field.of("body", body, taxonomy)}
    scores, hits = _score(taxonomy, fields)
    primary_id, secondary, confidence = _rank(taxonomy, scores)
    primary = taxonomy.category(primary_id)
    dates = extract_dates(fields["title"].folded, fields["body"].folded, published, folded=True)
    order = [s.id for s in taxonomy.severities]
    if confidence < taxonomy.scoring.review_below:  # a close call: a person should look
        span = Span("category", 0, 0, f"{confidence:.3f}")
        hits.append(RuleHit("review.low-confidence", primary_id, 0.0, span))
    if primary_id == IRRELEVANT:
        return Finding(primary_id, primary.severity, (), dates, tuple(hits), confidence)
    severity, shift = _severity(taxonomy, primary, fields, hits, dates)
    if kind == "edited" and (diff_added or diff_removed):
        more, edit_shift = edit_hits(taxonomy, primary_id, diff_added, diff_removed, published)
        hits += more
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
