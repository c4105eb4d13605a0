"""Corrections an officer makes to a Finding before approving it.

An officer may correct the category, the flows, the dates or the merchant action text. Each
correction is checked against the taxonomy here, then recorded in the review as
``{field: {"from": old, "to": new}}`` so that the audit log shows exactly what changed, and
written onto the Finding, which merchants' digests read.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from settlewatch.errors import UsageError
from settlewatch.taxonomy import ACTION_FIELDS, Taxonomy

FIELDS = ("category", "flows", "dates", "action_text")
# The date keys a Finding may hold; start/end are derived per category, not stored.
DATE_KEYS = tuple(sorted(ACTION_FIELDS - {"start", "end"}))
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::\d{2})?)?$")
MAX_ACTION = 2000


def parse_date_value(key: str, text: str) -> str:
    """'2026-12-05', '2026-12-05 02:00' or '2026-12-05T02:00' → the stored ISO form."""
    m = _DATE.match(text.strip())
    try:
        if not m:
            raise ValueError(text)
        dt.date.fromisoformat(m[1])
        if m[2]:
            dt.time.fromisoformat(m[2])
    except ValueError as exc:
        raise UsageError(
            f"dates.{key}: {text!r} is not a date (fix: write YYYY-MM-DD or YYYY-MM-DD HH:MM)"
        ) from exc
    return f"{m[1]}T{m[2]}" if m[2] else m[1]


def _check_dates(
    old: dict[str, Any], wanted: dict[str, Any], reviewer: str
) -> dict[str, Any] | None:
    new = {k: v for k, v in old.items() if isinstance(v, dict)}
    for key, value in wanted.items():
        if key not in DATE_KEYS:
            raise UsageError(f"dates.{key}: unknown date key (fix: one of {', '.join(DATE_KEYS)})")
        text = "" if value is None else str(value).strip()
        if not text:
            new.pop(key, None)
            continue
        iso = parse_date_value(key, text)
        if key in new and new[key].get("value") == iso:
            continue
        new[key] = {
            "value": iso,
            "evidence": f"corrected by {reviewer}",
            "year_inferred": False,
            "inferred": False,
        }
    return new if new != old else None


def check_corrections(
    taxonomy: Taxonomy, finding: dict[str, Any], wanted: dict[str, Any], reviewer: str
) -> dict[str, Any]:
    """Validate ``wanted`` against the taxonomy; keep only real changes as {from, to}."""
    unknown = sorted(set(wanted) - set(FIELDS))
    if unknown:
        raise UsageError(
            f"cannot correct {', '.join(unknown)} (fix: correct one of {', '.join(FIELDS)})"
        )
    out: dict[str, Any] = {}
    if wanted.get("category") is not None:
        category = str(wanted["category"]).strip()
        if category not in taxonomy.by_id:
            raise UsageError(
                f"category {category!r} is not in the taxonomy "
                f"(fix: one of {', '.join(c.id for c in taxonomy.categories)})"
            )
        if category != finding["category"]:
            out["category"] = {"from": finding["category"], "to": category}
    if wanted.get("flows") is not None:
        known = [f.id for f in taxonomy.flows]
        flows = [str(f).strip() for f in wanted["flows"] if str(f).strip()]
        bad = [f for f in flows if f not in known]
        if bad:
            raise UsageError(
                f"flows: unknown flow(s) {', '.join(bad)} (fix: one of {', '.join(known)})"
            )
        ordered = [f for f in known if f in flows]  # the taxonomy's order, no duplicates
        if ordered != list(finding["flows"] or []):
            out["flows"] = {"from": list(finding["flows"] or []), "to": ordered}
    if wanted.get("dates") is not None:
        if not isinstance(wanted["dates"], dict):
            raise UsageError(
                "dates must map a date key to a value (fix: {'effective': 'YYYY-MM-DD'})"
            )
        old = dict(finding["dates"] or {})
        new = _check_dates(old, wanted["dates"], reviewer)
        if new is not None:
            out["dates"] = {"from": old, "to": new}
    if wanted.get("action_text") is not None:
        text = str(wanted["action_text"]).strip()
        if len(text) > MAX_ACTION:
            raise UsageError(f"action_text is longer than {MAX_ACTION} characters (fix: shorten)")
        if text != (finding["action_text"] or ""):
            out["action_text"] = {"from": finding["action_text"], "to": text or None}
    if not out:
        raise UsageError(
            "the correction changes nothing (fix: change the category, flows, dates or action "
            "text, or approve as it is)"
        )
    return out


def apply_corrections(recorded: dict[str, Any]) -> dict[str, Any]:
    """The Finding column values a checked correction sets."""
    return {name: change["to"] for name, change in recorded.items()}
