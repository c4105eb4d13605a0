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
from settlewatch.evaluate import corpus_effective
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
    for key in expect.get("year_inferred", ()):
        assert finding.dates[key].year_inferred, key
    for key in expect.get("stated_year", ()):
        assert not finding.dates[key].year_inferred, key
    for key in expect.get("inferred", ()):
        assert finding.dates[key].inferred, key
    if "flows_exact" in expect:
        assert set(finding.flows) == set(expect["flows_exact"]), finding.flows
    if "effective" in expect:
        want = expect["effective"]
        assert corpus_effective(taxonomy, finding) == (None if want is None else str(want))
    if "max_confidence" in expect:
        assert finding.confidence <= expect["max_confidence"]


def _without_gates(taxonomy: Taxonomy) -> Taxonomy:
    def strip(rules: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(dataclasses.replace(r, gate=None) for r in rules)

    categories = tuple(
        dataclasses.replace(c, rules=strip(c.rules), suppress=strip(c.suppress))
        for c in taxonomy.categories
    )
    flows = tuple(dataclasses.replace(f, keywords=strip(f.keywords)) for f in taxonomy.flows)
    severity_rules = tuple(
        dataclasses.replace(s, rule=dataclasses.replace(s.rule, gate=None))
        for s in taxonomy.severity_rules
    )
    return dataclasses.replace(
        taxonomy, categories=categories, flows=flows, severity_rules=severity_rules
    )


def test_literal_gates_change_nothing(taxonomy: Taxonomy) -> None:
    # The gates only skip regexes that cannot match: with and without them, the same Findings.
    plain = _without_gates(taxonomy)
    assert plain.ungated and not taxonomy.ungated - plain.ungated
    for case in CASES:
        assert _run(plain, case) == _run(taxonomy, case), case["id"]


def test_every_hit_points_at_the_text_it_matched(taxonomy: Taxonomy) -> None:
    for case in CASES:
        finding = _run(taxonomy, case)
        fields = {"title": case["title"], "body": case["body"], "diff": case.get("diff_added", "")}
        assert finding.hits or finding.category == "irrelevant", case["id"]
        for hit in finding.hits:
            span = hit.span
            if span.field in fields:
                assert fields[span.field][span.start : span.end] == span.text, hit.rule_id


def test_classification_is_deterministic(taxonomy: Taxonomy) -> None:
    case = CASES[0]
    assert _run(taxonomy, case) == _run(taxonomy, case)


def test_title_outweighs_body(taxonomy: Taxonomy) -> None:
    title_fee = classify(taxonomy, "关于调整手续费率的公告", "期间系统升级维护。")
    title_maint = classify(taxonomy, "系统升级维护公告", "手续费率调整。")
    assert title_fee.category == "fee_change"
    assert title_maint.category == "maint_planned"


def test_confidence_is_lower_when_categories_compete(taxonomy: Taxonomy) -> None:
    clear = classify(taxonomy, "系统升级公告", "我司将于12月5日凌晨进行系统升级，暂停受理交易。")
    mixed = classify(taxonomy, "系统升级及费率调整公告", "系统升级期间暂停受理，手续费率同时调整。")
    assert 0.0 <= mixed.confidence < clear.confidence <= 1.0
    assert mixed.secondary


def test_irrelevant_finding_has_no_flows_but_keeps_all_evidence(taxonomy: Taxonomy) -> None:
    finding = classify(
        taxonomy, "招聘公告", "我行招聘客户经理，扫码投递简历，手续费全免，优惠券抽奖。"
    )
    assert finding.category == "irrelevant" and finding.flows == () and finding.severity == "S0"
    # What lost is listed too: a reviewer sees why the fee words did not win.
    assert {"irr.zh.recruitment", "fee.zh.terms"} <= set(finding.rule_ids)
    assert not any(r.startswith("flow.") for r in finding.rule_ids)


def test_new_change_gets_no_edit_hits(taxonomy: Taxonomy) -> None:
    finding = classify(
        taxonomy, "系统升级公告", "2026年12月12日凌晨2:00至6:00升级。",
        diff_added="2026年12月12日", diff_removed="2026年12月5日",
    )  # fmt: skip
    assert not [r for r in finding.rule_ids if r.startswith("edit.")]


def test_withdrawn_change_is_marked(taxonomy: Taxonomy) -> None:
    finding = classify(taxonomy, "关于调整手续费率的公告", "", kind="withdrawn")
    assert finding.category == "fee_change" and "change.withdrawn" in finding.rule_ids


def test_edit_evidence_is_the_changed_text(taxonomy: Taxonomy) -> None:
    finding = classify(
        taxonomy, "系统升级公告", "2026年12月12日凌晨2:00至6:00升级。", kind="edited",
        diff_added="将于2026年12月12日凌晨2:00至6:00升级", diff_removed="将于2026年12月5日凌晨2:00至6:00升级",
    )  # fmt: skip
    moved = next(h for h in finding.hits if h.rule_id == "edit.date-moved")
    assert moved.span.field == "diff" and "12月12日" in moved.span.text


def test_urgency_accepts_an_aware_now(taxonomy: Taxonomy) -> None:
    now = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
    finding = classify(
        taxonomy, "系统维护公告", "我司将于2026年12月5日凌晨2:00至6:00进行系统维护。", now=now
    )
    assert finding.severity == "S4"
    assert (
        classify(taxonomy, "系统维护公告", "将于2026年12月5日凌晨2:00至6:00维护。").severity == "S1"
    )


def test_fill_leaves_out_segments_with_missing_fields() -> None:
    template = "[From {start} to {end}: ]do it[ by {deadline}]. Due {due}."
    assert fill(template, {"start": "a", "end": "b"}) == "From a to b: do it. Due (not stated)."
    assert fill(template, {"start": "a", "deadline": "d", "due": "x"}, "zh") == "do it by d. Due x."
    assert fill("{due}", {}, "zh") == "(未注明)"


def test_render_action_fills_dates_in_both_languages(taxonomy: Taxonomy) -> None:
    body = "2027年2月6日至2月12日的交易将于2月13日统一结算。"
    finding = classify(taxonomy, "春节期间资金结算安排", body)
    zh, en = render_action(taxonomy, finding, "zh"), render_action(taxonomy, finding, "en")
    assert "2027-02-06" in zh and "2027-02-13" in zh and "{" not in zh
    assert "2027-02-12" in en and "2027-02-13" in en and "{" not in en
    start, end = event_dates(taxonomy.category(finding.category), finding.dates)
    assert start is not None and start.value == "2027-02-06"
    assert end is not None and end.value == "2027-02-13"


def test_render_action_without_dates_reads_cleanly(taxonomy: Taxonomy) -> None:
    finding = classify(taxonomy, "系统升级公告", "我司将择期进行系统升级，具体时间另行通知。")
    en = render_action(taxonomy, finding, "en")
    assert en.startswith("Avoid big sales") and "(" not in en and "{" not in en


def test_a_close_call_is_flagged_for_review(taxonomy: Taxonomy) -> None:
    close = classify(taxonomy, "系统升级及费率调整公告", "系统升级期间暂停受理，手续费率同时调整。")
    clear = classify(taxonomy, "系统升级公告", "我司将于12月5日凌晨进行系统升级，暂停受理交易。")
    assert close.confidence < taxonomy.scoring.review_below <= clear.confidence
    flag = next(h for h in close.hits if h.rule_id == "review.low-confidence")
    assert flag.span.text == f"{close.confidence:.3f}"
    assert "review.low-confidence" not in clear.rule_ids


def test_fallback_flows_only_when_the_text_names_none(taxonomy: Taxonomy) -> None:
    unnamed = classify(taxonomy, "系统升级公告", "我司将于2027年3月6日凌晨进行系统升级。")
    assert set(unnamed.flows) == set(taxonomy.category("maint_planned").fallback_flows)
    assert "flows.fallback" in unnamed.rule_ids
    named = classify(
        taxonomy, "系统升级公告", "我司将于2027年3月6日凌晨进行系统升级，暂停扫码收款。"
    )
    assert named.flows == ("qr_scan",) and "flows.fallback" not in named.rule_ids


def test_ignored_flows_are_context_for_the_category(taxonomy: Taxonomy) -> None:
    body = "POS商户、扫码商户2027年2月6日至2月12日的交易将于2月13日统一结算。"
    finding = classify(taxonomy, "春节期间资金结算安排", body)
    assert finding.category == "holiday_settlement"
    assert not {"card_present", "qr_scan"} & set(finding.flows)
    assert not [h for h in finding.hits if h.rule_id.startswith("flow.card_present")]


def test_cited_instruments_name_no_flow(taxonomy: Taxonomy) -> None:
    cited = "根据《网络支付业务管理办法》，我司将于2027年3月1日起清理不规范商户。"
    assert "online_pay" not in classify(taxonomy, "商户清理公告", cited).flows
    named = "我司将于2027年3月1日起清理网络支付不规范商户。"
    assert "online_pay" in classify(taxonomy, "商户清理公告", named).flows
