"""Literal gates: the plain strings of which every match of a rule's regex contains one.

classify looks for these strings first (one cheap pass per text) and skips every regex whose
gate is absent, which is most of them: the taxonomy has hundreds of rules and a notice names
a handful of topics. A gate is derived from the regex by the stdlib's own parser, so it can
never disagree with the pattern; a pattern it cannot reason about simply has no gate.
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # the stdlib's own regex parser
from typing import Any

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


# Under IGNORECASE these ASCII letters also match a non-ASCII letter (see the re docs).
_CASE_EXTRA = {"i": "İı", "s": "ſ", "k": "K"}
_MAX_FIRST = 160


def _first(items: Any) -> set[str] | None:
    """Characters every match of the parsed sequence starts with, or None when unknown
    (a category such as \\d, a negated class, or a sequence that may match nothing)."""
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        if op is sre_parse.LITERAL:
            return {chr(av)}
        if op is sre_parse.IN:
            chars: set[str] = set()
            for o, a in av:
                if o is sre_parse.LITERAL:
                    chars.add(chr(a))
                elif o is sre_parse.RANGE and a[1] - a[0] < _MAX_FIRST:
                    chars.update(map(chr, range(a[0], a[1] + 1)))
                else:
                    return None
            return chars
        if op is sre_parse.SUBPATTERN:
            return _first(av[-1])
        if op is sre_parse.BRANCH:
            union: set[str] = set()
            for branch in av[1]:
                found = _first(branch)
                if found is None:
                    return None
                union |= found
            return union
        if op in _REPEATS and av[0] >= 1:
            return _first(av[2])
        return None
    return None


def first_chars(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Every character a match of ``pattern`` can start with (None: not known)."""
    try:
        found = _first(sre_parse.parse(pattern.pattern, pattern.flags))
    except Exception:  # an exotic pattern only loses its shortcut
        return None
    if not found:
        return None
    if pattern.flags & re.IGNORECASE:
        found |= {c.swapcase() for c in found}
        found |= {x for c in found for x in _CASE_EXTRA.get(c.lower(), "")}
    return frozenset(found) if len(found) <= _MAX_FIRST else None


def with_first_chars(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` led by a look-ahead naming its possible first characters.

    Same matches, found faster: a pattern that opens with a look-behind, ``\\b`` or an
    alternation gives re nothing to skip ahead with, so it tries every position; the
    look-ahead gives it a character set to scan for (up to four times faster here).
    """
    chars = first_chars(pattern)
    if chars is None:
        return pattern
    ahead = "".join(re.escape(c) for c in sorted(chars))
    return re.compile(f"(?=[{ahead}])(?:{pattern.pattern})", pattern.flags)
