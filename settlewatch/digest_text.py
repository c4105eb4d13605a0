"""The words of a digest entry: "what changed" in one line, and "when" with its time zone.

Both are pure functions of a Finding row. "What changed" prefers the notice's own sentence
that states the key date (found through the date's evidence), and for an edited notice the
edit itself ("将于2月13日合并划付" → "将于2月14日合并划付"), because that is what the
merchant has to notice; the title is the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from settlewatch.dates_patterns import fold
from settlewatch.models import Finding
from settlewatch.taxonomy import Category

MAX_WHAT = 140
_SENTENCE_END = re.compile(r"[。；;!?！？\n]")
_CLAUSE = re.compile(r"[，,：:、（）()。；;]")
_DATE_KEYS = ("window_start", "no_settlement_start", "effective", "deadline", "expires", "resume")

WHEN_LABELS = {
    "zh": {
        "window": "维护时段 {start} 至 {end}",
        "hold": "{start} 至 {end} 的交易暂停结算",
        "resume": "{resume} 恢复到账",
        "effective": "{effective} 起生效",
        "deadline": "截止 {deadline}",
        "expires": "{expires} 到期",
        "tz": "（{tz}）",
        "join": "；",
    },
    "en": {
        "window": "maintenance window {start} to {end}",
        "hold": "trades of {start} to {end} not settled",
        "resume": "paid on {resume}",
        "effective": "effective {effective}",
        "deadline": "deadline {deadline}",
        "expires": "ends {expires}",
        "tz": " ({tz})",
        "join": "; ",
    },
}
TZ_NAMES = {"zh": {"Asia/Shanghai": "北京时间"}, "en": {"Asia/Shanghai": "Beijing time, UTC+8"}}
WHAT_LABELS = {
    "zh": {
        "withdrawn": "公告已撤回，原安排不再有效",
        "edited": "修订",
        "to": "改为",
        "added": "新增",
    },
    "en": {
        "withdrawn": "The notice was withdrawn",
        "edited": "Revised",
        "to": "→",
        "added": "Added",
    },
}


def _shorter_end(start: str, end: str) -> str:
    """'2026-12-01 06:00' after '2026-12-01 02:00' reads as '06:00'."""
    if len(start) > 10 and len(end) > 10 and start[:10] == end[:10]:
        return end[11:]
    return end


def when_text(finding: Finding, lang: str, tz: str = "Asia/Shanghai") -> str:
    """The dates of a Finding as one line, in the notice's wall-clock time with its zone."""
    d = {k: v.value.replace("T", " ") for k, v in finding.dates.items()}
    t = WHEN_LABELS.get(lang, WHEN_LABELS["en"])
    parts = []
    if "window_start" in d:
        end = d.get("window_end", "?")
        start = d["window_start"]
        parts.append(t["window"].format(start=start, end=_shorter_end(start, end)))
    if "no_settlement_start" in d:
        start = d["no_settlement_start"]
        parts.append(t["hold"].format(start=start, end=d.get("no_settlement_end", start)))
    for key in ("resume", "effective", "deadline", "expires"):
        if key in d:
            parts.append(t[key].format(**{key: d[key]}))
    text = t["join"].join(parts)
    if text and any(":" in v for v in d.values()):
        text += t["tz"].format(tz=TZ_NAMES.get(lang, {}).get(tz, tz))
    return text


def _sentence(body: str, evidence: str) -> str | None:
    """The sentence of ``body`` that holds ``evidence`` (both compared folded)."""
    folded = fold(body)
    at = folded.find(fold(evidence))
    if at < 0:
        return None
    start = max((m.end() for m in _SENTENCE_END.finditer(folded, 0, at)), default=0)
    end_match = _SENTENCE_END.search(folded, at + len(evidence))
    end = end_match.end() if end_match else len(body)
    return " ".join(body[start:end].split())


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_WHAT else text[: MAX_WHAT - 1] + "…"


def _trim_fragment(evidence: str) -> str:
    """Evidence is a window around the date and may start mid-clause: start at a clause."""
    m = _CLAUSE.search(evidence[:20])
    return evidence[m.end() :] if m and len(evidence) - m.end() > 8 else evidence


def _context_start(text: str, at: int, width: int = 8) -> int:
    """Up to ``width`` characters of context before ``at``, not reaching back past a clause."""
    start = max(at - width, 0)
    cut = max((m.end() for m in _CLAUSE.finditer(text, start, at)), default=start)
    return max((m.end() for m in _SENTENCE_END.finditer(text, start, at)), default=cut)


def _context_end(text: str, at: int, width: int = 8) -> int:
    """Up to ``width`` characters of context after ``at``, stopping at a clause."""
    m = _CLAUSE.search(text, at, at + width) or _SENTENCE_END.search(text, at, at + width)
    return m.start() if m else min(at + width, len(text))


def edit_summary(diff: str, lang: str) -> str | None:
    """The first edit of a unified diff as "old" → "new", with a few characters of context."""
    lines = diff.splitlines()
    removed = [ln[1:] for ln in lines if ln.startswith("-") and not ln.startswith("---")]
    added = [ln[1:] for ln in lines if ln.startswith("+") and not ln.startswith("+++")]
    t = WHAT_LABELS.get(lang, WHAT_LABELS["en"])
    sep = "：" if lang == "zh" else ": "
    if not added:
        return None
    if not removed:
        return f"{t['edited']}{sep}{t['added']} “{_clip(added[0].strip())}”"
    old, new = removed[0].strip(), added[0].strip()
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    left = _context_start(old, head)
    old_part = old[left : _context_end(old, len(old) - tail)]
    new_part = new[left : _context_end(new, len(new) - tail)]
    return _clip(f"{t['edited']}{sep}“{old_part}” {t['to']} “{new_part}”")


def what_line(row: Mapping[str, Any], finding: Finding, category: Category, lang: str) -> str:
    """What changed, in one line."""
    title = row.get("new_title") or row.get("old_title") or ""
    if row.get("kind") == "withdrawn":
        return WHAT_LABELS.get(lang, WHAT_LABELS["en"])["withdrawn"]
    if row.get("kind") == "edited":
        summary = edit_summary(row.get("diff") or "", lang)
        if summary:
            return summary
    for key in (*category.start_keys, *_DATE_KEYS):
        value = finding.dates.get(key)
        if value is None or value.inferred or value.evidence == "publish date":
            continue
        sentence = _sentence(row.get("body") or "", value.evidence)
        return _clip(sentence or _trim_fragment(value.evidence))
    return _clip(title)
