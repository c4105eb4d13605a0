"""Classification: the case table in fixtures/classify_cases.yaml, plus properties of the
scoring that a table cannot show (determinism, spans, gates, confidence, action text)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from settlewatch.classify import classify, event_dates, fill, render_action
from settlewatch.models import Finding
from settlewatch.taxonomy import Taxonomy, load_taxonomy

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "classify_cases.yaml").read_text(encoding="utf-8")
)["cases"]


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def _run(taxonomy: Taxonomy, case: dict[str, Any]) -> Finding:
    now = case.get("now")
    return classify(
        taxonomy,
        case["title"],
        case["body"],
        kind=case.get("kind", "new"),
        diff_added=case.get("diff_added", ""),
        diff_removed=case.get("diff_removed", ""),
        published=case.get("published"),
        now=now if isinstance(now, dt.datetime) else None,
    )


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(taxonomy: Taxonomy, case: dict[str, Any]) -> None:
    finding = _run(taxonomy, case)
    expect = case["expect"]
    assert finding.category == expect["category"], finding.rule_ids
    for cat in expect.get("secondary_includes", ()):
        assert cat in finding.secondary
    for cat in expect.get("secondary_excludes", ()):
        assert cat not in finding.secondary and cat != finding.category
    if "severity" in expect:
        assert finding.severity == expect["severity"]
    for flow in expect.get("flows_include", ()):
        assert flow in finding.flows
    for flow in expect.get("flows_exclude", ()):
        assert flow not in finding.flows
    for rule_id in expect.get("rules_include", ()):
        assert rule_id in finding.rule_ids
    for rule_id in expect.get("rules_exclude", ()):
        assert rule_id not in finding.rule_ids
    for key, value in expect.get("dates", {}).items():
        assert key in finding.dates, f"{key} missing from {finding.dates}"
        assert finding.dates[key].value == str(value)
    for key in expect.get("dates_absent", ()):
        assert key not in finding.dates
    if "max_confidence" in expect:
        assert finding.confidence <= expect["max_confidence"]
