"""Score the classifier and the date extractor against a hand-labelled JSONL corpus.

The corpus format and the date-scoring convention are those of shared/corpus/README.md: a row
counts for dates when its `effective` label is a date, a date-time or a range; the extracted
start must match to the day (to the minute when the label has a time) and, for a range, the
end too; for holiday arrangements each end may be off by one day. Flows are scored as a
micro-averaged F1 over every row that carries a `flows` label. Everything is scored end to
end, through the predicted category, as a merchant would see it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from settlewatch.classify import classify, event_dates
from settlewatch.errors import InputError
from settlewatch.models import DateValue, Finding
from settlewatch.taxonomy import Taxonomy

_POINT = re.compile(r"^\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?$")
_SEVERITY = re.compile(r"\bsev:(S\d)")
_ROW_FIX = "one JSON object per line with id, title, text, published, category, flows, effective"


@dataclass(frozen=True)
class CategoryStats:
    category: str
    support: int  # rows labelled with it
    predicted: int  # rows predicted as it
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.support if self.support else 0.0


@dataclass(frozen=True)
class RowResult:
    id: str
    gold: str
    predicted: str
    secondary: tuple[str, ...]
    confidence: float
    date_label: str | None
    effective: str | None  # the predicted event in the corpus's own format
    date_scored: bool
    date_ok: bool
    severity_gold: str | None
    severity: str
    flows_gold: tuple[str, ...] | None  # None: the row has no flows label
    flows: tuple[str, ...]


@dataclass(frozen=True)
class EvalReport:
    rows: tuple[RowResult, ...]
    per_category: tuple[CategoryStats, ...]

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def correct(self) -> int:
        return sum(r.gold == r.predicted for r in self.rows)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def date_total(self) -> int:
        return sum(r.date_scored for r in self.rows)

    @property
    def date_correct(self) -> int:
        return sum(r.date_ok for r in self.rows)

    @property
    def date_accuracy(self) -> float:
        return self.date_correct / self.date_total if self.date_total else 0.0

    @property
    def severity_total(self) -> int:
        return sum(r.severity_gold is not None for r in self.rows)

    @property
    def severity_correct(self) -> int:
        return sum(r.severity_gold == r.severity for r in self.rows)

    def flow_counts(self) -> tuple[int, int, int]:
        """(true positives, false positives, false negatives) over every labelled row."""
        tp = fp = fn = 0
        for r in self.rows:
            if r.flows_gold is None:
                continue
            gold, got = set(r.flows_gold), set(r.flows)
            tp, fp, fn = tp + len(gold & got), fp + len(got - gold), fn + len(gold - got)
        return tp, fp, fn

    @property
    def flows_precision(self) -> float:
        tp, fp, _ = self.flow_counts()
        return tp / (tp + fp) if tp + fp else 0.0

    @property
    def flows_recall(self) -> float:
        tp, _, fn = self.flow_counts()
        return tp / (tp + fn) if tp + fn else 0.0

    @property
    def flows_micro_f1(self) -> float:
        tp, fp, fn = self.flow_counts()
        return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0


def _parse_label(label: object) -> tuple[str, str | None] | None:
    """(start, end) of a scorable label, or None for null, month-only and free-text labels."""
    if not isinstance(label, str):
        return None
    parts = label.split("/")
    if len(parts) > 2 or not all(_POINT.match(p) for p in parts):
        return None
    return parts[0], parts[1] if len(parts) == 2 else None


def _matches(label: str, found: DateValue | None, slack_days: int) -> bool:
    if found is None:
        return False
    value = found.value.replace("T", " ")
    if " " in label:  # to the minute
        return (
            value == label
            if slack_days == 0
            else (value[:16] == label or (_day_gap(label, value) <= slack_days and " " in value))
        )
    return _day_gap(label, value) <= slack_days


def _day_gap(a: str, b: str) -> int:
    return abs((dt.date.fromisoformat(a[:10]) - dt.date.fromisoformat(b[:10])).days)


def corpus_effective(taxonomy: Taxonomy, finding: Finding) -> str | None:
    """The Finding's event in the corpus's format: `YYYY-MM-DD[ HH:MM]`, `START/END` or None."""
    start, end = event_dates(taxonomy.category(finding.category), finding.dates)
    if start is None:
        return None
    text = start.value.replace("T", " ")
    return f"{text}/{end.value.replace('T', ' ')}" if end else text


def score_dates(
    label: object, category_id: str, taxonomy: Taxonomy, dates: dict[str, DateValue]
) -> tuple[bool, bool]:
    """(scored, correct) for one row, by the corpus convention."""
    parsed = _parse_label(label)
    if parsed is None:
        return False, False
    start, end = event_dates(taxonomy.category(category_id), dates)
    slack = 1 if category_id == "holiday_settlement" else 0
    ok = _matches(parsed[0], start, slack) and (
        parsed[1] is None or _matches(parsed[1], end, slack)
    )
    return True, ok


def _row(path: Path, n: int, line: str) -> dict[str, Any]:
    try:
        row = json.loads(line)
        if not isinstance(row, dict):
            raise TypeError("not a JSON object")
        for key in ("title", "text", "category"):
            if not isinstance(row.get(key), str):
                raise KeyError(key)
        if row.get("published"):
            dt.date.fromisoformat(row["published"])
        flows = row.get("flows")
        if flows is not None and not (
            isinstance(flows, list) and all(isinstance(f, str) for f in flows)
        ):
            raise TypeError("flows must be a list of flow ids")
    except (ValueError, KeyError, TypeError) as exc:
        what = f"missing or non-text field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise InputError(str(path), f"bad corpus row: {what}", line=n, fix=_ROW_FIX) from exc
    return row


def score_row(taxonomy: Taxonomy, row: dict[str, Any], n: int) -> RowResult:
    """Classify one corpus row and compare it with its labels."""
    published = dt.date.fromisoformat(row["published"]) if row.get("published") else None
    finding = classify(taxonomy, row["title"], row["text"], published=published)
    label = row.get("effective")
    scored, ok = score_dates(label, finding.category, taxonomy, finding.dates)
    sev = _SEVERITY.search(row.get("notes") or "")
    flows = row.get("flows")
    return RowResult(
        id=str(row.get("id", n)),
        gold=row["category"],
        predicted=finding.category,
        secondary=finding.secondary,
        confidence=finding.confidence,
        date_label=label if isinstance(label, str) else None,
        effective=corpus_effective(taxonomy, finding),
        date_scored=scored,
        date_ok=ok,
        severity_gold=sev.group(1) if sev else None,
        severity=finding.severity,
        flows_gold=tuple(flows) if flows is not None else None,
        flows=finding.flows,
    )


def evaluate(path: Path | str, taxonomy: Taxonomy) -> EvalReport:
    """Classify every row of the JSONL corpus at ``path`` and score it against its labels."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"cannot read: {exc}", fix="pass a UTF-8 JSONL file") from exc
    rows = [(n, _row(path, n, line)) for n, line in enumerate(lines, start=1) if line.strip()]
    results = [score_row(taxonomy, row, n) for n, row in rows]
    stats = tuple(
        CategoryStats(
            c.id,
            sum(r.gold == c.id for r in results),
            sum(r.predicted == c.id for r in results),
            sum(r.gold == r.predicted == c.id for r in results),
        )
        for c in taxonomy.categories
    )
    return EvalReport(tuple(results), stats)
