"""Diff two Versions' normalised text: a unified diff plus the added and removed lines."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class TextDiff:
    unified: str
    added: str
    removed: str

    @property
    def empty(self) -> bool:
        return not self.added and not self.removed


def diff_texts(old: str, new: str, old_label: str = "before", new_label: str = "after") -> TextDiff:
    a, b = old.splitlines(), new.splitlines()
    unified = "\n".join(difflib.unified_diff(a, b, old_label, new_label, lineterm="", n=1))
    added, removed = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            removed.extend(a[i1:i2])
        if op in ("replace", "insert"):
            added.extend(b[j1:j2])
    return TextDiff(unified, "\n".join(added), "\n".join(removed))
