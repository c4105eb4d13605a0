"""Present an EvalReport: the plain-text table of `settlewatch eval` and its `--json` object.

The JSON object is a contract (other tools score ``items`` independently): the keys
category_accuracy, flows_micro_f1, date_accuracy, n, per_category and items keep their names.
"""

from __future__ import annotations

from typing import Any

from settlewatch.evaluate import EvalReport


def format_report(report: EvalReport) -> str:
    """A plain-text report: headline figures, per-category table and the misses."""
    tp, fp, fn = report.flow_counts()
    out = [
        f"category accuracy: {report.correct}/{report.total} = {report.accuracy:.1%}",
        f"flows micro-F1:    {report.flows_micro_f1:.3f} "
        f"(precision {report.flows_precision:.3f}, recall {report.flows_recall:.3f}; "
        f"tp {tp}, fp {fp}, fn {fn})",
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
        out += [f"  {r.id}: label {r.date_label} found {r.effective or '-'}" for r in wrong]
    return "\n".join(out)


def report_json(report: EvalReport) -> dict[str, Any]:
    """One object: headline figures, per-category counts and one predicted item per row."""
    tp, fp, fn = report.flow_counts()
    return {
        "n": report.total,
        "category_accuracy": round(report.accuracy, 4),
        "category_correct": report.correct,
        "flows_micro_f1": round(report.flows_micro_f1, 4),
        "flows_precision": round(report.flows_precision, 4),
        "flows_recall": round(report.flows_recall, 4),
        "flows_counts": {"tp": tp, "fp": fp, "fn": fn},
        "date_accuracy": round(report.date_accuracy, 4),
        "date_correct": report.date_correct,
        "date_n": report.date_total,
        "per_category": {
            s.category: {
                "support": s.support,
                "predicted": s.predicted,
                "correct": s.correct,
                "precision": round(s.precision, 4),
                "recall": round(s.recall, 4),
            }
            for s in report.per_category
        },
        "items": [
            {
                "id": r.id,
                "category": r.predicted,
                "flows": list(r.flows),
                "effective": r.effective,
                "secondary": list(r.secondary),
                "severity": r.severity,
                "confidence": r.confidence,
            }
            for r in report.rows
        ],
    }
