"""The taxonomy loader: the bundled rules, their checks, and bad files that must fail at load
with the file, the line and the field."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from settlewatch.dates_patterns import fold
from settlewatch.errors import RuleError
from settlewatch.resources import rules_dir
from settlewatch.rulegate import first_chars, with_first_chars
from settlewatch.taxonomy import IRRELEVANT, Taxonomy, literal_gate, load_taxonomy

CATEGORIES = [
    "maint_planned", "outage_incident", "holiday_settlement", "settlement_cycle", "fee_change",
    "limit_change", "kyc_merchant_info", "terminal_qr", "settle_account", "risk_control",
    "service_termination", "regulation_new", "scheme_rule_change", "enforcement_penalty",
    IRRELEVANT,
]  # fmt: skip
FLOWS = [
    "rt_d0", "t1_d1", "holiday", "refund", "chargeback", "fee_deduct", "qr_scan", "card_present",
    "online_pay", "onboarding_kyc", "settle_account", "limits", "risk_hold", "cross_border",
    "interbank_clearing",
]  # fmt: skip
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[a-z]{3}")


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def test_bundled_taxonomy_has_the_categories_flows_and_severities(taxonomy: Taxonomy) -> None:
    assert [c.id for c in taxonomy.categories] == CATEGORIES
    assert [f.id for f in taxonomy.flows] == FLOWS
    assert [s.id for s in taxonomy.severities] == ["S0", "S1", "S2", "S3", "S4"]
    assert all(s.zh and s.en for s in taxonomy.severities)
    flow_ids = set(FLOWS)
    for cat in taxonomy.categories:
        assert cat.zh and cat.en and cat.action("zh") and cat.action("en")
        assert set(cat.flows) <= flow_ids


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_has_chinese_and_english_rules(taxonomy: Taxonomy, category: str) -> None:
    patterns = [r.pattern.pattern for r in taxonomy.category(category).rules]
    assert any(_CJK.search(p) for p in patterns)
    assert any(_LATIN.search(re.sub(r"\\.", "", p)) for p in patterns)


def test_rule_ids_are_unique_and_patterns_compiled(taxonomy: Taxonomy) -> None:
    rules = [r for c in taxonomy.categories for r in (*c.rules, *c.suppress)]
    rules += [r for f in taxonomy.flows for r in f.keywords]
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids))
    assert all(isinstance(r.pattern, re.Pattern) for r in rules)


def test_default_load_is_cached(taxonomy: Taxonomy) -> None:
    assert load_taxonomy() is taxonomy
    assert load_taxonomy(str(rules_dir())) is taxonomy


def test_literal_gate() -> None:
    assert literal_gate(re.compile("限额|免密(?:免签)?")) == {"限额", "免密"}
    assert literal_gate(re.compile(r"(?:系统|平台)?升级")) == {"升级"}
    assert literal_gate(re.compile(r"\bVisa (?:rules|news)\b", re.I)) == {"visa "}
    assert literal_gate(re.compile(r"\d+%")) == {"%"}
    assert literal_gate(re.compile(r"\d+")) is None


def test_first_chars() -> None:
    assert first_chars(re.compile("限额|免密(?:免签)?")) == {"限", "免"}
    assert first_chars(re.compile(r"(?<!非)实时|[TD]0")) == {"实", "T", "D"}
    assert first_chars(re.compile(r"\bfee\b", re.I)) == {"f", "F"}
    assert first_chars(re.compile(r"\bsk", re.I)) == {"s", "S", "ſ"}  # re's case folding
    assert first_chars(re.compile(r"(?:系统)?升级")) is None  # may start with either
    assert first_chars(re.compile(r"\d+%")) is None
    assert first_chars(re.compile(r"[^a]b")) is None


_LOOKAHEAD = re.compile(r"\(\?=\[(?:\\.|[^\]\\])*\]\)\(\?:(.*)\)", re.S)


def _case_texts() -> list[str]:
    fixtures = Path(__file__).parent / "fixtures"
    texts = []
    for name in ("classify_cases.yaml", "date_cases.yaml"):
        for case in yaml.safe_load((fixtures / name).read_text(encoding="utf-8"))["cases"]:
            texts += [case.get("title", ""), case["body"]]
            texts += [case.get("diff_added", ""), case.get("diff_removed", "")]
    return [fold(t) for t in texts if t]


def test_first_char_lookahead_finds_the_same_matches(taxonomy: Taxonomy) -> None:
    texts = _case_texts()
    rules = [r for c in taxonomy.categories for r in (*c.rules, *c.suppress)]
    rules += [r for f in taxonomy.flows for r in f.keywords]
    wrapped = 0
    for rule in rules:
        lead = _LOOKAHEAD.fullmatch(rule.pattern.pattern)
        if lead is None:
            continue
        wrapped += 1
        plain = re.compile(lead[1], rule.pattern.flags)
        assert with_first_chars(plain).pattern == rule.pattern.pattern
        for text in texts:
            got = [m.span() for m in rule.pattern.finditer(text)]
            assert got == [m.span() for m in plain.finditer(text)], rule.id
    assert wrapped > 100


def test_gates_never_hide_a_match(taxonomy: Taxonomy) -> None:
    # Every text of both case tables: when a rule's regex matches, one of its literals is there.
    fixtures = Path(__file__).parent / "fixtures"
    texts = []
    for name in ("classify_cases.yaml", "date_cases.yaml"):
        for case in yaml.safe_load((fixtures / name).read_text(encoding="utf-8"))["cases"]:
            texts += [case.get("title", ""), case["body"]]
    rules = [r for c in taxonomy.categories for r in (*c.rules, *c.suppress)]
    rules += [r for f in taxonomy.flows for r in f.keywords]
    checked = 0
    for text in map(fold, texts):
        for rule in rules:
            if rule.gate is not None and rule.pattern.search(text):
                checked += 1
                assert any(lit in text.lower() for lit in rule.gate), rule.id
    assert checked > 100


# --- bad files --------------------------------------------------------------------------------
@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    for name in ("taxonomy.yaml", "flows.yaml"):
        shutil.copy(rules_dir() / name, tmp_path / name)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` and return the 1-based line where it was."""
    text = path.read_text(encoding="utf-8")
    at = text.index(old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text.count("\n", 0, at) + 1


def _load_error(folder: Path) -> RuleError:
    with pytest.raises(RuleError) as info:
        load_taxonomy(folder)
    return info.value


def test_unknown_key(rules_copy: Path) -> None:
    path = rules_copy / "taxonomy.yaml"
    line = _edit(path, "    severity: S1\n", "    severity: S1\n    colour: red\n") + 1
    err = _load_error(rules_copy)
    assert err.path == str(path) and err.line == line
    assert err.field == "categories.0.colour" and "unknown key 'colour'" in err.message


def test_bad_regex(rules_copy: Path) -> None:
    path = rules_copy / "taxonomy.yaml"
    old = "pattern: '(?:系统|平台|设备|网络|主机)"
    line = _edit(path, old, "pattern: '(?:系统|平台|设备|网络|主机")
    err = _load_error(rules_copy)
    assert err.path == str(path) and err.line == line
    assert err.field == "categories.0.rules.0.pattern" and "bad regex" in err.message


_MAINT_FLOWS = "    flows: []\n    fallback_flows: [card_present, qr_scan, online_pay]\n"
_BAD_FLOWS = {
    "flows": ("    flows: [card_present, teleport]\n    fallback_flows: [qr_scan]\n", 0),
    "fallback_flows": ("    flows: []\n    fallback_flows: [card_present, teleport]\n", 1),
    "ignore_flows": (_MAINT_FLOWS + "    ignore_flows: [card_present, teleport]\n", 2),
}


@pytest.mark.parametrize("key", sorted(_BAD_FLOWS))
def test_unknown_flow(rules_copy: Path, key: str) -> None:
    path = rules_copy / "taxonomy.yaml"
    replacement, offset = _BAD_FLOWS[key]
    line = _edit(path, _MAINT_FLOWS, replacement) + offset
    err = _load_error(rules_copy)
    assert err.path == str(path) and err.line == line
    assert err.field == f"categories.0.{key}.1" and "unknown flow 'teleport'" in err.message
    assert err.fix and "rt_d0" in err.fix


def test_unknown_category_in_a_severity_rule(rules_copy: Path) -> None:
    path = rules_copy / "taxonomy.yaml"
    old = "categories: [regulation_new, scheme_rule_change, fee_change, limit_change]"
    line = _edit(path, old, "categories: [regulation_new, gossip]")
    err = _load_error(rules_copy)
    assert err.path == str(path) and err.line == line
    assert (
        err.field == "severity_rules.0.categories.1" and "unknown category 'gossip'" in err.message
    )


def test_negatives_in_a_flow_keyword_must_compile(rules_copy: Path) -> None:
    path = rules_copy / "flows.yaml"
    line = _edit(path, "negatives: ['单笔", "negatives: ['(单笔")
    err = _load_error(rules_copy)
    assert err.path == str(path) and err.line == line
    assert err.field is not None and ".negatives.0" in err.field and "bad regex" in err.message


def test_bad_regex_in_flows_file(rules_copy: Path) -> None:
    path = rules_copy / "flows.yaml"
    line = _edit(path, "pattern: '退款|", "pattern: '(退款|")
    err = _load_error(rules_copy)
    assert err.path == str(path) and err.line == line
    assert err.field is not None and err.field.endswith(".pattern")


def test_duplicate_rule_id(rules_copy: Path) -> None:
    path = rules_copy / "taxonomy.yaml"
    line = _edit(path, "id: maint.zh.maintenance", "id: maint.zh.system-upgrade")
    err = _load_error(rules_copy)
    assert err.line == line and "duplicate rule id 'maint.zh.system-upgrade'" in err.message


def test_unknown_template_field(rules_copy: Path) -> None:
    path = rules_copy / "taxonomy.yaml"
    line = _edit(path, "维护时段[（{start} 至 {end}）]", "维护时段[（{whenever}）]")
    err = _load_error(rules_copy)
    assert err.line == line and "unknown template field 'whenever'" in err.message
    assert err.field == "categories.0.action.zh"


def test_unknown_severity(rules_copy: Path) -> None:
    path = rules_copy / "taxonomy.yaml"
    line = _edit(path, "    severity: S1\n", "    severity: S7\n")
    err = _load_error(rules_copy)
    assert err.line == line and "unknown severity 'S7'" in err.message


def test_missing_irrelevant_category(rules_copy: Path) -> None:
    path = rules_copy / "taxonomy.yaml"
    _edit(path, "  - id: irrelevant\n", "  - id: unrelated\n")
    err = _load_error(rules_copy)
    assert "'irrelevant'" in err.message


def test_error_renders_file_line_field_and_fix(rules_copy: Path) -> None:
    path = rules_copy / "taxonomy.yaml"
    line = _edit(path, "    severity: S1\n", "    severity: S1\n    colour: red\n") + 1
    rendered = str(_load_error(rules_copy))
    assert rendered.startswith(f"{path}:{line}:")
    assert "categories.0.colour" in rendered and "fix:" in rendered
