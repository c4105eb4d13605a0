"""What an edit did to a notice, read from its diff: the added and the removed lines.

Structural comparisons come first and need no vocabulary: the dates stated before and after
(a date moved, a date set, a window extended or re-timed) and the figures (a rate or an
amount changed). Then the taxonomy's edit rules name what words say (cancelled, postponed).
Every hit quotes the changed text: the added line, or the removed one for what was dropped.
"""

from __future__ import annotations

import datetime as dt
import re

from settlewatch import dates_patterns as P
from settlewatch.dates import find_mentions
from settlewatch.models import RuleHit, Span
from settlewatch.rulematch import match_rule
from settlewatch.taxonomy_model import Taxonomy
from settlewatch.textnorm import fold

_RATE = re.compile(
    r"\d+(?:\.\d+)?\s*[%‰]|(?:万分之|千分之|百分之)\s*[\d.点〇零一二两三四五六七八九十]+"
)
_AMOUNT = re.compile(
    r"\d[\d,]*(?:\.\d+)?\s*(?:万|千|百)?元|(?:RMB|CNY|USD|EUR|GBP|HK\$|US\$|[$£€¥])\s?\d[\d,]*(?:\.\d+)?"
)


def _first_new(pattern: re.Pattern[str], added: str, removed: str) -> re.Match[str] | None:
    """The first match in ``added`` whose text ``removed`` does not have: what the edit changed."""
    old = set(pattern.findall(removed))
    return next((m for m in pattern.finditer(added) if m.group() not in old), None)


def _date_change(new: list[P.Mention], old: list[P.Mention]) -> str | None:
    """The rule id for how the dates changed, or None when they did not."""
    if not new:
        return None
    if not old:
        return "edit.date-set"  # "具体时间另行通知" became a date
    if {m.start for m in new} != {m.start for m in old}:
        return "edit.date-moved"
    # Same days: compare the windows (a time or an end stated) when both sides state them;
    # "12月5日凌晨" against "12月5日凌晨2:00至6:00" only drops detail, it moves nothing.
    spans_new = {(m.start_key(), m.end_key()) for m in new if m.end or m.start_time}
    spans_old = {(m.start_key(), m.end_key()) for m in old if m.end or m.start_time}
    if not spans_new or not spans_old or spans_new == spans_old:
        return None
    earlier = min(s for s, _ in spans_new) < min(s for s, _ in spans_old)
    later = max(e for _, e in spans_new) > max(e for _, e in spans_old)
    return "edit.window-extended" if earlier or later else "edit.time-changed"


def edit_hits(
    taxonomy: Taxonomy, category: str, added: str, removed: str, published: dt.date | None
) -> tuple[list[RuleHit], int]:
    """Hits for what an edit did, and the severity shift its edit rules ask for."""
    hits: list[RuleHit] = []
    fa, fr = fold(added), fold(removed)

    def hit(rule_id: str, m: re.Match[str] | None, field: str = "diff") -> None:
        text = added if field == "diff" else removed
        span = Span(field, m.start(), m.end(), text[m.start() : m.end()]) if m else None
        hits.append(RuleHit(rule_id, category, 0.0, span or Span(field, 0, 0, "")))

    _, new = find_mentions("", fa, published, folded=True)
    _, old = find_mentions("", fr, published, folded=True)
    moved = _date_change(new, old)
    if moved:
        hit(moved, _first_new(P.ATOM, fa, fr))
    for rule_id, pattern in (("edit.rate-changed", _RATE), ("edit.amount-changed", _AMOUNT)):
        if pattern.search(fr) and (m := _first_new(pattern, fa, fr)):
            hit(rule_id, m)
    shift = 0
    for er in taxonomy.edit_rules:
        m = match_rule(er.rule, fa if er.side == "added" else fr)
        if m:
            hit(er.rule.id, m, "diff" if er.side == "added" else "diff_removed")
            shift += er.shift
    return hits, shift
