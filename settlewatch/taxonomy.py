"""The taxonomy: categories, flows, severities and their rules, loaded from rules/.

``load_taxonomy`` reads rules/taxonomy.yaml and rules/flows.yaml, validates both against their
JSON Schemas, then checks what a schema cannot: every regex compiles, every flow a category
names exists, ids are unique, severities are declared, and action templates name known fields.
Any problem raises RuleError with the file, the line, the field and the fix, at load time, never
halfway through a classification run. Regexes are compiled once here.
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # the stdlib's own regex parser: used to derive literal gates
import string
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

from settlewatch.errors import RuleError
from settlewatch.resources import rules_dir as default_rules_dir
from settlewatch.yamlfile import Lines, field_line, load_yaml, validate

IRRELEVANT = "irrelevant"
# Fields an action template may use (see rules/taxonomy.yaml).
ACTION_FIELDS = frozenset(("start", "end", "resume", "effective", "effective_last", "deadline"))
ACTION_FIELDS |= {"expires", "window_start", "window_end", "published"}
ACTION_FIELDS |= {"no_settlement_start", "no_settlement_end"}
_ESCAPES = re.compile(r"\\.")
_LATIN = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class Rule:
    """One pattern that votes for ``target`` (a category or a flow id)."""

    id: str
    target: str
    pattern: re.Pattern[str]
    where: str = "both"  # "title" | "body" | "both"
    weight: float = 1.0
    negatives: tuple[re.Pattern[str], ...] = ()
    # Literals (lower-cased) of which every match contains one; None when none can be derived.
    # classify skips the regex when none of them is in the text: most rules fail this cheaply.
    gate: frozenset[str] | None = None


@dataclass(frozen=True)
class Category:
    id: str
    zh: str
    en: str
    severity: str
    flows: tuple[str, ...]
    action_zh: str
    action_en: str
    rules: tuple[Rule, ...]
    suppress: tuple[Rule, ...] = ()
    urgent_on: tuple[str, ...] = ()
    start_keys: tuple[str, ...] = ("effective",)
    end_keys: tuple[str, ...] = ("effective_last",)

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def action(self, lang: str) -> str:
        return self.action_zh if lang == "zh" else self.action_en


@dataclass(frozen=True)
class Flow:
    id: str
    zh: str
    en: str
    keywords: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Severity:
    id: str
    zh: str
    en: str


@dataclass(frozen=True)
class SeverityRule:
    rule: Rule
    categories: tuple[str, ...] = ()  # empty: any category
    severity: str | None = None
    shift: int = 0
    drop_dates: tuple[str, ...] = ()


@dataclass(frozen=True)
class EditRule:
    rule: Rule
    side: str = "added"  # "added" | "removed"
    shift: int = 0


@dataclass(frozen=True)
class Scoring:
    title_weight: float = 2.0
    min_score: float = 2.5
    secondary_ratio: float = 0.6
    urgent_hours: int = 72


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]
    flows: tuple[Flow, ...]
    severities: tuple[Severity, ...]
    scoring: Scoring = Scoring()
    severity_rules: tuple[SeverityRule, ...] = ()
    edit_rules: tuple[EditRule, ...] = ()
    path: str = ""
    # Derived here so that classify does no lookups per call: categories by id, every gate
    # literal by its first character (one pass per text finds those present), the rules each
    # literal opens, and the rules without a gate (always tried).
    by_id: dict[str, Category] = field(init=False, compare=False, repr=False)
    gate_index: dict[str, tuple[str, ...]] = field(init=False, compare=False, repr=False)
    gate_rules: dict[str, frozenset[str]] = field(init=False, compare=False, repr=False)
    ungated: frozenset[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        rules = [r for c in self.categories for r in (*c.rules, *c.suppress)]
        rules += [r for f in self.flows for r in f.keywords]
        rules += [s.rule for s in self.severity_rules]
        index: dict[str, set[str]] = {}
        opens: dict[str, set[str]] = {}
        for r in rules:
            for lit in r.gate or ():
                index.setdefault(lit[0], set()).add(lit)
                opens.setdefault(lit, set()).add(r.id)
        setattr_ = partial(object.__setattr__, self)  # frozen: derived fields are set once, here
        setattr_("by_id", {c.id: c for c in self.categories})
        setattr_("gate_index", {k: tuple(v) for k, v in index.items()})
        setattr_("gate_rules", {k: frozenset(v) for k, v in opens.items()})
        setattr_("ungated", frozenset(r.id for r in rules if not r.gate))

    def category(self, category_id: str) -> Category:
        return self.by_id[category_id]


_ZERO_WIDTH = (sre_parse.AT, sre_parse.ASSERT, sre_parse.ASSERT_NOT)
_REPEATS = (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT)


def _factors(items: Any) -> set[str] | None:
    """A set of literals one of which every match of the parsed sequence contains, or None."""
    options: list[set[str]] = []
    run = ""
    for op, av in items:
        if op is sre_parse.LITERAL:
            run += chr(av)
            continue
        if op in _ZERO_WIDTH:
            continue  # consumes nothing: the literals either side stay adjacent
        if run:
            options.append({run})
            run = ""
        found: set[str] | None = None
        if op is sre_parse.SUBPATTERN:
            found = _factors(av[-1])
        elif op is sre_parse.BRANCH:
            branches = [_factors(b) for b in av[1]]
            found = {f for b in branches if b for f in b} if all(branches) else None
        elif op in _REPEATS and av[0] >= 1:
            found = _factors(av[2])
        elif op is sre_parse.IN and len(av) <= 4 and all(o is sre_parse.LITERAL for o, _ in av):
            found = {chr(a) for _, a in av}
        if found:
            options.append(found)
    if run:
        options.append({run})
    # The most selective choice: longest shortest literal, then fewest literals.
    return max(options, key=lambda o: (min(map(len, o)), -len(o))) if options else None


def literal_gate(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Lower-cased literals of which every match contains one (None: no shortcut known)."""
    try:
        found = _factors(sre_parse.parse(pattern.pattern, pattern.flags))
    except Exception:  # an exotic pattern only loses its shortcut, never its meaning
        return None
    return frozenset(f.lower() for f in found) if found else None


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
        pattern = self.regex((*where, "pattern"), data["pattern"])
        weight = float(data.get("weight", 1.0))
        gate = literal_gate(pattern)
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
    for j, flow in enumerate(c["flows"]):
        b.known(flow, flows, (*where, "flows", j), "flow")
    for lang in ("zh", "en"):
        b.template((*where, "action", lang), c["action"][lang])
    names = (c["id"], c["zh"], c["en"], c["severity"], tuple(c["flows"]))
    actions = (c["action"]["zh"], c["action"]["en"])
    rules = b.rules(c["rules"], (*where, "rules"), c["id"])
    suppress = b.rules(c.get("suppress", ()), (*where, "suppress"), c["id"])
    dates = c.get("dates", {})
    keys = tuple(dates.get("start", ("effective",))), tuple(dates.get("end", ("effective_last",)))
    return Category(*names, *actions, rules, suppress, tuple(c.get("urgent_on", ())), *keys)


def _severity_rule(
    b: _Builder, s: dict[str, Any], i: int, cats: set[str], sevs: list[str]
) -> SeverityRule:
    where: Where = ("severity_rules", i)
    for j, cid in enumerate(s.get("categories", ())):
        b.known(cid, cats, (*where, "categories", j), "category")
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
