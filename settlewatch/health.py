"""Source health: what one fetch says about the site, and the state a run leaves a source in.

None of these states ever produces a change: an unhealthy run updates health and alerts the
operator, and tracking does not compare its pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from settlewatch.models import HealthState

# 200 pages that are not content: WAF challenges, "system busy", rate limiting.
_SOFT_ERROR = re.compile(
    r"系统繁忙|访问过于频繁|请稍后再试|请求过于频繁|服务器繁忙|访问受限|安全验证|滑动验证|"
    r"wzwschallenge|wzwsconfirm|just a moment|checking your browser|captcha|"
    r"too many requests|access denied|service unavailable|temporarily unavailable",
    re.IGNORECASE,
)
_CHALLENGE = re.compile(
    r"wzws|just a moment|checking your browser|captcha|安全验证|滑动验证", re.IGNORECASE
)
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)
SOFT_ERROR_MAX_CHARS = 600
SOFT_ERROR_HEAD = 200


@dataclass(frozen=True)
class PageVerdict:
    state: HealthState  # "ok" when the page is content
    reason: str = ""


def judge_page(status: int, text: str, error: str | None = None) -> PageVerdict:
    """Is this response content, or a failure dressed as one?"""
    if status == 0:
        return PageVerdict("failing", error or "no response")
    if status in (403, 429):
        return PageVerdict("blocked", f"HTTP {status}")
    if status >= 400:
        return PageVerdict("failing", f"HTTP {status}")
    if 300 <= status < 400:
        return PageVerdict("failing", f"unfollowed redirect (HTTP {status})")
    # the head of the page is enough to tell, and keeps this cheap on long notices
    visible = " ".join(_TAGS.sub(" ", text[:20000]).split())
    # Only the head of a short page counts: a real maintenance notice may well say
    # "请稍后再试" in its body, but an error page says it first and says little else.
    if len(visible) <= SOFT_ERROR_MAX_CHARS or _CHALLENGE.search(text[:4000]):
        m = _SOFT_ERROR.search(visible[:SOFT_ERROR_HEAD]) or _CHALLENGE.search(text[:4000])
        if m:
            state: HealthState = "blocked" if _CHALLENGE.search(m.group()) else "broken"
            return PageVerdict(state, f"soft-error page: {m.group()!r}")
    return PageVerdict("ok")


def worst(states: list[HealthState]) -> HealthState:
    order: list[HealthState] = ["ok", "stale", "broken", "failing", "blocked"]
    return max(states, key=order.index) if states else "ok"
