"""The taxonomy: categories, flows, severities and their rules, loaded from rules/.

``load_taxonomy`` reads rules/taxonomy.yaml and rules/flows.yaml, validates both against their
JSON Schemas, then checks what a schema cannot: every regex compiles, every flow a category
names exists, ids are unique, severities are declared, and action templates name known fields.
Any problem raises RuleError with the file, the line, the field and the fix, at load time, never
halfway through a classification run. Regexes are compiled once here. The loaded shapes live
in ``settlewatch.taxonomy_model`` and are re-exported from here.
"""

from __future__ import annotations

import re
import string
from functools import cache
from pathlib import Path
from typing import Any

from settlewatch.errors import RuleError
from settlewatch.resources import rules_dir as default_rules_dir
from settlewatch.rulegate import literal_gate, with_first_chars
from settlewatch.taxonomy_model import (
    ACTION_FIELDS,
    IRRELEVANT,
    Category,
    EditRule,
    Flow,
    Rule,
    Scoring,
    Severity,
    SeverityRule,
    Taxonomy,
)
from settlewatch.yamlfile import Lines, field_line, load_yaml, validate

__all__ = [
    "ACTION_FIELDS",
    "IRRELEVANT",
    "Category",
    "EditRule",
    "Flow",
    "Rule",
    "Scoring",
    "Severity",
    "SeverityRule",
    "Taxonomy",
    "literal_gate",
    "load_taxonomy",
]

_ESCAPES = re.compile(r"\\.")
_LATIN = re.compile(r"[A-Za-z]")

Where = tuple[str | int, ...]


class _Builder:
    """Checks and builds the parts of one file; remembers rule ids across files."""

    def __init__(self, path: Path, lines: Lines, seen: dict[str, str]) -> None:
        self.path, self.lines, self.seen = path, lines, seen

    def fail(self, where: Where, message: str, fix: str) -> RuleError:
        line = field_line(self.lines, *where)
        field = ".".join(map(str, where))
        return RuleError(str(self.path), message, line=line, field=field, fix=fix)

    def known(self, value: str, allowed: Any, where: Where, what: str) -> None:
        if value not in allowed:
            options = ", ".join(sorted(allowed))
            raise self.fail(where, f"unknown {what} '{value}'", f"use one of: {options}")

    def known_all(self, values: Any, allowed: Any, where: Where, what: str) -> tuple[str, ...]:
        for j, value in enumerate(values):
            self.known(value, allowed, (*where, j), what)
        return tuple(values)

    def regex(self, where: Where, pattern: str) -> re.Pattern[str]:
        # Chinese needs no case folding: only patterns with Latin letters pay for IGNORECASE.
        flags = re.IGNORECASE if _LATIN.search(_ESCAPES.sub("", pattern)) else 0
        try:
            return re.compile(pattern, flags)
        except re.error as exc:
            fix = "write a valid Python regular expression"
            raise self.fail(where, f"bad regex {pattern!r}: {exc}", fix) from exc

    def rule(self, data: dict[str, Any], where: Where, target: str) -> Rule:
        rid = data["id"]
        if rid in self.seen:
            msg = f"duplicate rule id '{rid}' (also at {self.seen[rid]})"
            raise self.fail((*where, "id"), msg, "give every rule its own id")
        self.seen[rid] = f"{self.path.name}:{field_line(self.lines, *where, 'id')}"
        negs = data.get("negatives", ())
        negatives = tuple(self.regex((*where, "negatives", i), n) for i, n in enumerate(negs))
        raw = self.regex((*where, "pattern"), data["pattern"])
        weight = float(data.get("weight", 1.0))
        gate, pattern = literal_gate(raw), with_first_chars(raw)
        return Rule(rid, target, pattern, data.get("where", "both"), weight, negatives, gate)

    def rules(self, items: Any, where: Where, target: str) -> tuple[Rule, ...]:
        return tuple(self.rule(r, (*where, i), target) for i, r in enumerate(items))

    def template(self, where: Where, template: str) -> None:
        flat = re.sub(r"\[[^\[\]]*\]", "", template)
        if "[" in flat or "]" in flat:
            raise self.fail(where, "unbalanced or nested [optional] brackets", "use flat [...]")
        try:
            names = {n for _, n, _, _ in string.Formatter().parse(template) if n is not None}
        except ValueError as exc:
            raise self.fail(where, f"bad template: {exc}", "use {field} placeholders") from exc
        for name in sorted(names):
            self.known(name, ACTION_FIELDS, where, "template field")


def _load_file(path: Path, schema: str, seen: dict[str, str]) -> tuple[dict[str, Any], _Builder]:
    data, lines = load_yaml(path, RuleError)
    if not isinstance(data, dict):
        raise RuleError(str(path), "must be a mapping", line=1, fix="start with 'version: 1'")
    validate(path, data, lines, schema, RuleError)
    return data, _Builder(path, lines, seen)


def _unique(b: _Builder, items: list[dict[str, Any]], key: str) -> None:
    ids: set[str] = set()
    for i, item in enumerate(items):
        if item["id"] in ids:
            raise b.fail((key, i, "id"), f"duplicate id '{item['id']}'", "rename it")
        ids.add(item["id"])


def _flows(path: Path, seen: dict[str, str]) -> tuple[Flow, ...]:
    data, b = _load_file(path, "flows", seen)
    _unique(b, data["flows"], "flows")
    flows = []
    for i, f in enumerate(data["flows"]):
        keywords = b.rules(f.get("keywords", ()), ("flows", i, "keywords"), f["id"])
        flows.append(Flow(f["id"], f["zh"], f["en"], keywords))
    return tuple(flows)


def _category(b: _Builder, c: dict[str, Any], i: int, flows: set[str], sevs: list[str]) -> Category:
    where: Where = ("categories", i)
    b.known(c["severity"], sevs, (*where, "severity"), "severity")
    always = b.known_all(c["flows"], flows, (*where, "flows"), "flow")
    fallback = b.known_all(c.get("fallback_flows", ()), flows, (*where, "fallback_flows"), "flow")
    ignore = b.known_all(c.get("ignore_flows", ()), flows, (*where, "ignore_flows"), "flow")
    for lang in ("zh", "en"):
        b.template((*where, "action", lang), c["action"][lang])
    names = (c["id"], c["zh"], c["en"], c["severity"], always)
    actions = (c["action"]["zh"], c["action"]["en"])
    rules = b.rules(c["rules"], (*where, "rules"), c["id"])
    suppress = b.rules(c.get("suppress", ()), (*where, "suppress"), c["id"])
    dates = c.get("dates", {})
    keys = tuple(dates.get("start", ("effective",))), tuple(dates.get("end", ("effective_last",)))
    urgent = tuple(c.get("urgent_on", ()))
    return Category(*names, *actions, rules, suppress, urgent, *keys, fallback, frozenset(ignore))


def _severity_rule(
    b: _Builder, s: dict[str, Any], i: int, cats: set[str], sevs: list[str]
) -> SeverityRule:
    where: Where = ("severity_rules", i)
    b.known_all(s.get("categories", ()), cats, (*where, "categories"), "category")
    if s.get("severity") is not None:
        b.known(s["severity"], sevs, (*where, "severity"), "severity")
    rule = b.rule(s, where, "severity")
    cats_, drop = tuple(s.get("categories", ())), tuple(s.get("drop_dates", ()))
    return SeverityRule(rule, cats_, s.get("severity"), int(s.get("shift", 0)), drop)


@cache  # per folder: classification may call load_taxonomy() freely
def _load(folder: Path) -> Taxonomy:
    seen: dict[str, str] = {}
    flows = _flows(folder / "flows.yaml", seen)
    data, b = _load_file(folder / "taxonomy.yaml", "taxonomy", seen)
    severities = tuple(Severity(s["id"], s["zh"], s["en"]) for s in data["severities"])
    sevs = [s.id for s in severities]
    _unique(b, data["categories"], "categories")
    flow_ids = {f.id for f in flows}
    categories = tuple(_category(b, c, i, flow_ids, sevs) for i, c in enumerate(data["categories"]))
    if IRRELEVANT not in {c.id for c in categories}:
        raise b.fail(("categories",), f"no '{IRRELEVANT}' category", f"add id: {IRRELEVANT}")
    cat_ids = {c.id for c in categories}
    severity_rules = tuple(
        _severity_rule(b, s, i, cat_ids, sevs) for i, s in enumerate(data.get("severity_rules", ()))
    )
    edit_rules = tuple(
        EditRule(b.rule(e, ("edit_rules", i), "edit"), e.get("side", "added"), e.get("shift", 0))
        for i, e in enumerate(data.get("edit_rules", ()))
    )
    scoring = Scoring(**data["scoring"])
    return Taxonomy(categories, flows, severities, scoring, severity_rules, edit_rules, str(b.path))


def load_taxonomy(rules_dir: Path | str | None = None) -> Taxonomy:
    """Load and check rules/taxonomy.yaml and rules/flows.yaml from ``rules_dir``.

    Loads are cached per folder: classification calls this freely without re-reading files.
    """
    folder = Path(rules_dir) if rules_dir is not None else default_rules_dir()
    return _load(folder.resolve())
