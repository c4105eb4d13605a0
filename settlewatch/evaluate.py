"""Score the classifier and the date extractor against a hand-labelled JSONL corpus.

The corpus format and the date-scoring convention are those of shared/corpus/README.md: a row
counts for dates when its `effective` label is a date, a date-time or a range; the extracted
start must match to the day (to the minute when the label has a time) and, for a range, the
end too; for holiday arrangements each end may be off by one day.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

from settlewatch.classify import classify, event_dates
from settlewatch.errors import InputError
from settlewatch.models import DateValue
from settlewatch.taxonomy import Taxonomy

_POINT = re.compile(r"^\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?$")
_SEVERITY = re.compile(r"\bsev:(S\d)")


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
    date_found: str | None  # "start" or "start/end" as extracted
    date_scored: bool
    date_ok: bool
    severity_gold: str | None
    severity: str


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


def score_dates(
    label: object, category_id: str, taxonomy: Taxonomy, dates: dict[str, DateValue]
) -> tuple[bool, bool, str | None]:
    """(scored, correct, what was found) for one row, by the corpus convention."""
    start, end = event_dates(taxonomy.category(category_id), dates)
    found = (start.value if start else "-") + (f"/{end.value}" if end else "")
    parsed = _parse_label(label)
    if parsed is None:
        return False, False, found if start or end else None
    slack = 1 if category_id == "holiday_settlement" else 0
    ok = _matches(parsed[0], start, slack) and (
        parsed[1] is None or _matches(parsed[1], end, slack)
    )
    return True, ok, found if start or end else None


def evaluate(path: Path | str, taxonomy: Taxonomy) -> EvalReport:
    """Classify every row of the JSONL corpus at ``path`` and score it against its labels."""
    path = Path(path)
    results: list[RowResult] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            published = dt.date.fromisoformat(row["published"]) if row.get("published") else None
            gold, title, text = row["category"], row["title"], row["text"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(
                str(path),
                f"bad corpus row: {exc}",
                line=n,
                fix="one JSON object per line with title, text, category",
            ) from exc
        finding = classify(taxonomy, title, text, published=published)
        # Dates are scored through the predicted category, end to end, as a merchant sees them.
        scored, ok, found = score_dates(
            row.get("effective"), finding.category, taxonomy, finding.dates
        )
        sev = _SEVERITY.search(row.get("notes") or "")
        results.append(
            RowResult(
                str(row.get("id", n)),
                gold,
                finding.category,
                finding.secondary,
                finding.confidence,
                row.get("effective") if isinstance(row.get("effective"), str) else None,
                found,
                scored,
                ok,
                sev.group(1) if sev else None,
                finding.severity,
            )
        )
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


def format_report(report: EvalReport) -> str:
    """A plain-text report: headline figures, per-category table and the misses."""
    out = [
        f"category accuracy: {report.correct}/{report.total} = {report.accuracy:.1%}",
        f"date accuracy:     {report.date_correct}/{report.date_total} = {report.date_accuracy:.1%}",
    ]
    if report.severity_total:
        out.append(
            f"severity match:    {report.severity_correct}/{report.severity_total} = "
            f"{report.severity_correct / report.severity_total:.1%}"
        )
    out += ["", f"{'category':<22}{'support':>8}{'predicted':>10}{'precision':>10}{'recall':>8}"]
    for s in report.per_category:
        if s.support or s.predicted:
            out.append(
                f"{s.category:<22}{s.support:>8}{s.predicted:>10}"
                f"{s.precision:>10.2f}{s.recall:>8.2f}"
            )
    misses = [r for r in report.rows if r.gold != r.predicted]
    if misses:
        out += ["", "category misses:"]
        out += [f"  {r.id}: {r.gold} -> {r.predicted} ({r.confidence:.2f})" for r in misses]
    wrong = [r for r in report.rows if r.date_scored and not r.date_ok]
    if wrong:
        out += ["", "date misses:"]
        out += [f"  {r.id}: label {r.date_label} found {r.date_found or '-'}" for r in wrong]
    return "\n".join(out)
