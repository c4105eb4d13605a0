"""The merchant action of a Finding: its category's template, filled with the Finding's dates.

Templates live in rules/taxonomy.yaml (``action.zh`` / ``action.en``). A ``{field}`` is a date
key of the Finding, or ``start``/``end`` (the event's dates by the category's ``dates``
choice). A ``[segment]`` naming a field the notice does not state is left out whole, so an
undated notice still reads as a clean sentence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from settlewatch.models import DateValue, Finding
from settlewatch.taxonomy_model import Category, Taxonomy

_MISSING = {"zh": "(未注明)", "en": "(not stated)"}
_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")
_FIELD = re.compile(r"\{(\w+)\}")


def event_dates(
    category: Category, dates: Mapping[str, DateValue]
) -> tuple[DateValue | None, DateValue | None]:
    """The event's start and end by the category's `dates` choice (first key stated wins)."""
    start = next((dates[k] for k in category.start_keys if k in dates), None)
    end = next((dates[k] for k in category.end_keys if k in dates), None)
    if start and end and end.value[:10] < start.value[:10]:
        end = None  # an old discount's expiry before the new price starts ends nothing here
    return start, end


def fill(template: str, values: Mapping[str, str | None], lang: str = "en") -> str:
    """Fill ``{field}`` placeholders; a [segment] with a missing field is left out whole."""

    def present(name: str) -> bool:
        return bool(values.get(name))

    def optional(m: re.Match[str]) -> str:
        names = _FIELD.findall(m[1])
        return m[1] if all(present(n) for n in names) else ""

    text = _OPTIONAL.sub(optional, template)
    return _FIELD.sub(lambda m: values.get(m[1]) or _MISSING.get(lang, _MISSING["en"]), text)


def _show(value: DateValue | None) -> str | None:
    return value.value.replace("T", " ") if value else None


def render_action(taxonomy: Taxonomy, finding: Finding, lang: str) -> str:
    """The category's default merchant action in ``lang`` (zh or en), filled with its dates."""
    category = taxonomy.category(finding.category)
    start, end = event_dates(category, finding.dates)
    values: dict[str, str | None] = {k: _show(v) for k, v in finding.dates.items()}
    values["start"], values["end"] = _show(start), _show(end)
    return fill(category.action(lang), values, lang)
