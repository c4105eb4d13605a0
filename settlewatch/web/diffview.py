"""Diffs for people: lines first, then characters for Chinese and words for English.

Chinese has no spaces, so a word-level diff would mark a whole sentence changed for one digit;
each CJK character is a token instead. Latin text is split into words, numbers (with their
decimal point) and single punctuation marks, so "0.38%" → "0.60%" shows one changed number.
Rendering escapes every piece of text before wrapping it in markup: the text is scraped.
"""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

_TOKEN = re.compile(
    r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f]"  # one CJK character
    r"|[A-Za-z0-9_]+(?:[.'’][A-Za-z0-9_]+)*"  # a word or a number such as 0.38
    r"|\s+"
    r"|.",
    re.DOTALL,
)
MAX_TOKENS = 4000  # longer lines are compared whole: SequenceMatcher is quadratic
CONTEXT = 2


def tokenise(text: str) -> list[str]:
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class Seg:
    kind: str  # "eq" | "del" | "ins"
    text: str


@dataclass(frozen=True)
class Row:
    """One side-by-side row; ``kind`` is eq, chg, del, ins or skip (collapsed context)."""

    kind: str
    left_no: int | None
    left: tuple[Seg, ...]
    right_no: int | None
    right: tuple[Seg, ...]
    skipped: int = 0

    @property
    def inline(self) -> tuple[Seg, ...]:
        """The row as one line: removed pieces then added ones, in reading order."""
        if self.kind == "chg":
            return _merge(self.left, self.right)
        return self.left if self.kind in ("eq", "del") else self.right


def _merge(left: tuple[Seg, ...], right: tuple[Seg, ...]) -> tuple[Seg, ...]:
    out: list[Seg] = []
    li = ri = 0
    while li < len(left) or ri < len(right):
        if li < len(left) and left[li].kind == "del":
            out.append(left[li])
            li += 1
        elif ri < len(right) and right[ri].kind == "ins":
            out.append(right[ri])
            ri += 1
        else:  # both at an equal piece (the same on both sides)
            if li < len(left):
                out.append(left[li])
            li, ri = li + 1, ri + 1
    return tuple(out)


def word_diff(old: str, new: str) -> tuple[tuple[Seg, ...], tuple[Seg, ...]]:
    """Left and right segments of one changed line pair, at token level."""
    a, b = tokenise(old), tokenise(new)
    if len(a) > MAX_TOKENS or len(b) > MAX_TOKENS:
        return (Seg("del", old),), (Seg("ins", new),)
    left: list[Seg] = []
    right: list[Seg] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            left.append(Seg("eq", "".join(a[i1:i2])))
            right.append(Seg("eq", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            left.append(Seg("del", "".join(a[i1:i2])))
        if j2 > j1:
            right.append(Seg("ins", "".join(b[j1:j2])))
    return tuple(left), tuple(right)


def diff_rows(old: str, new: str, context: int = CONTEXT) -> list[Row]:
    """Side-by-side rows of two texts, unchanged runs collapsed to ``context`` lines."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[Row] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            for k in range(i2 - i1):
                seg = (Seg("eq", a[i1 + k]),)
                rows.append(Row("eq", i1 + k + 1, seg, j1 + k + 1, seg))
            continue
        pairs = min(i2 - i1, j2 - j1) if op == "replace" else 0
        for k in range(pairs):
            left, right = word_diff(a[i1 + k], b[j1 + k])
            rows.append(Row("chg", i1 + k + 1, left, j1 + k + 1, right))
        for k in range(i1 + pairs, i2):
            rows.append(Row("del", k + 1, (Seg("del", a[k]),), None, ()))
        for k in range(j1 + pairs, j2):
            rows.append(Row("ins", None, (), k + 1, (Seg("ins", b[k]),)))
    return _collapse(rows, context)


def _collapse(rows: list[Row], context: int) -> list[Row]:
    changed = [i for i, r in enumerate(rows) if r.kind != "eq"]
    if not changed:
        return rows
    keep = {j for i in changed for j in range(i - context, i + context + 1)}
    out: list[Row] = []
    run = 0
    for i, row in enumerate(rows):
        if i in keep:
            if run:
                out.append(Row("skip", None, (), None, (), skipped=run))
                run = 0
            out.append(row)
        else:
            run += 1
    if run:
        out.append(Row("skip", None, (), None, (), skipped=run))
    return out


def render_segs(segs: tuple[Seg, ...]) -> Markup:
    """Escaped text with <del>/<ins> around the changed pieces."""
    parts = []
    for s in segs:
        text = escape(s.text)
        parts.append(Markup(f"<{s.kind}>{text}</{s.kind}>") if s.kind != "eq" else text)
    return Markup("").join(parts)


@dataclass(frozen=True)
class Mark:
    start: int
    end: int
    css: str  # "hit" (a rule matched here) or "date" (a date's evidence)
    label: str  # the rule ids or date keys, shown on hover


def highlight(text: str, marks: list[Mark]) -> Markup:
    """Escape ``text`` and wrap the marked ranges (overlaps merged per piece) in <mark>."""
    spans = [m for m in marks if 0 <= m.start < m.end <= len(text)]
    if not spans:
        return escape(text)
    cuts = sorted({0, len(text), *(m.start for m in spans), *(m.end for m in spans)})
    out = []
    for lo, hi in itertools.pairwise(cuts):
        piece = escape(text[lo:hi])
        over = [m for m in spans if m.start <= lo and hi <= m.end]
        if not over:
            out.append(piece)
            continue
        css = "hit" if any(m.css == "hit" for m in over) else over[0].css
        label = escape(", ".join(dict.fromkeys(m.label for m in over)))
        out.append(Markup(f'<mark class="{css}" title="{label}">{piece}</mark>'))
    return Markup("").join(out)
