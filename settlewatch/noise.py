"""Noise filters: small named text filters in a registry.

A filter is a plain function ``str -> str``. The first line of its docstring is the help that
``settlewatch rules kinds`` shows. The DEFAULT chain runs on every notice; a source adds more
by name in ``notice.filters``. Filters remove what changes without meaning (counters, clocks,
tokens, whitespace) and never touch a sentence that carries a date, a rate or an amount.
"""

from __future__ import annotations

import re
from collections.abc import Callable

TextFilter = Callable[[str], str]
FILTERS: dict[str, TextFilter] = {}

# CSS selectors of page furniture removed before any text is read.
NOISE_SELECTORS: tuple[str, ...] = (
    "script",
    "style",
    "noscript",
    "iframe",
    "template",
    "svg",
    "form",
    "nav",
    "header",
    "footer",
    "aside",
    # whole class or id tokens only: substrings such as "ad-" would also hit "download-list"
    *(
        f"[class~={t}]"
        for t in (
            "counter",
            "visits",
            "views",
            "share",
            "breadcrumb",
            "banner",
            "sidebar",
            "clock",
            "ad",
            "ads",
            "advert",
            "hits",
        )
    ),
    *(f"[id~={t}]" for t in ("counter", "visits", "clock", "share", "banner")),
)


def text_filter(fn: TextFilter) -> TextFilter:
    FILTERS[fn.__name__] = fn
    return fn


_COUNTER = re.compile(
    r"^[^\n]{0,40}?(浏览(?:次数|量)?|阅读(?:量|数|次数)?|访问(?:量|次数)?|点击(?:量|数|次数)?|"
    r"(?:page[ \t]*)?views?|hits|visits?)[ \t]*[:：]?[ \t]*\d[\d,]*[ \t]*(?:次)?[^\n]{0,20}$",
    re.IGNORECASE | re.MULTILINE,
)


@text_filter
def drop_counters(text: str) -> str:
    """Drop short lines that only report a view, visit or click counter."""
    return _COUNTER.sub("", text)


_CLOCK = re.compile(
    r"^[^\n]{0,20}?(当前时间|现在时间|页面生成(?:时间)?|生成时间|刷新时间|服务器时间|"
    r"current time|generated at|page generated|last refreshed)[^\n]{0,60}$",
    re.IGNORECASE | re.MULTILINE,
)


def is_noise_line(text: str) -> bool:
    """Is ``text``, as one line, only a view counter or a page-render clock?"""
    line = " ".join(text.split())
    return len(line) <= 80 and bool(_COUNTER.fullmatch(line) or _CLOCK.fullmatch(line))


@text_filter
def drop_clock(text: str) -> str:
    """Drop lines that show the time the page was rendered, not a notice date."""
    return _CLOCK.sub("", text)


_TOKEN = re.compile(r"\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{24,}\b")


@text_filter
def drop_tokens(text: str) -> str:
    """Remove session ids, CSRF tokens and cache-busters (long mixed letter-digit runs)."""
    return _TOKEN.sub("", text)


@text_filter
def collapse_whitespace(text: str) -> str:
    """Trim each line, fold runs of spaces and drop empty lines."""
    lines = (re.sub(r"[ \t\u3000\xa0]+", " ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


_URL = re.compile(r"https?://\S+")


@text_filter
def drop_urls(text: str) -> str:
    """Remove bare URLs (for sites that append tracking parameters to every link)."""
    return _URL.sub("", text)


_BRACKET_NUMBER = re.compile(r"[（(]\s*\d+\s*[)）]")


@text_filter
def drop_bracket_numbers(text: str) -> str:
    """Remove counts in brackets such as "评论(12)" that some boards append to titles."""
    return _BRACKET_NUMBER.sub("", text)


DEFAULT: tuple[str, ...] = ("drop_counters", "drop_clock", "drop_tokens", "collapse_whitespace")


def apply(text: str, extra: tuple[str, ...] = ()) -> str:
    """Run the default chain, then ``extra`` filters, then fold whitespace again."""
    for name in (*DEFAULT[:-1], *extra, "collapse_whitespace"):
        text = FILTERS[name](text)
    return text
