"""Source declarations: rules/sources/<source_id>.yaml, validated when they load.

A bad declaration fails here, with the file, the line and the field, never halfway through
a crawl: the schema catches unknown and missing keys, and every CSS selector, regex and
filter name is compiled or looked up.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cssselect import SelectorError

from settlewatch.errors import SourceDeclError
from settlewatch.htmltext import css_to_xpath
from settlewatch.models import SourceDecl, decl_from_dict
from settlewatch.noise import FILTERS
from settlewatch.resources import rules_dir
from settlewatch.yamlfile import Lines, field_line, load_yaml, validate


def default_sources_dir() -> Path:
    return rules_dir() / "sources"


def _check_selector(path: Path, lines: Lines, where: tuple[str | int, ...], sel: str) -> None:
    try:
        css_to_xpath(sel)  # the translator that evaluates it, so it cannot fail later
    except SelectorError as exc:
        raise SourceDeclError(
            str(path),
            f"bad CSS selector {sel!r}: {exc}",
            line=field_line(lines, *where),
            field=".".join(map(str, where)),
            fix="write a valid CSS selector",
        ) from exc


def _check_semantics(path: Path, data: dict[str, Any], lines: Lines) -> None:
    if data["id"] != path.stem:
        raise SourceDeclError(
            str(path),
            f"id '{data['id']}' differs from the file name",
            line=field_line(lines, "id"),
            field="id",
            fix=f"rename the file to {data['id']}.yaml or set id: {path.stem}",
        )
    for i, listing in enumerate(data["listings"]):
        for key in ("title", "date"):
            if key in listing and "item" not in listing and listing.get("type") != "feed":
                raise SourceDeclError(
                    str(path),
                    f"'{key}' needs 'item': without an entry block every notice "
                    "would get the first match on the page",
                    line=field_line(lines, "listings", i, key),
                    field=f"listings.{i}.{key}",
                    fix="add item: <CSS selector of one entry block>",
                )
        for key in ("item", "link", "title", "date", "next_page"):
            if key in listing:
                _check_selector(path, lines, ("listings", i, key), listing[key])
        if "link_pattern" in listing:
            try:
                re.compile(listing["link_pattern"])
            except re.error as exc:
                raise SourceDeclError(
                    str(path),
                    f"bad regex: {exc}",
                    line=field_line(lines, "listings", i, "link_pattern"),
                    field=f"listings.{i}.link_pattern",
                    fix="write a valid Python regular expression",
                ) from exc
    notice = data.get("notice", {})
    for key in ("body", "title", "date"):
        if key in notice:
            _check_selector(path, lines, ("notice", key), notice[key])
    for j, sel in enumerate(notice.get("remove", [])):
        _check_selector(path, lines, ("notice", "remove", j), sel)
    for j, name in enumerate(notice.get("filters", [])):
        if name not in FILTERS:
            raise SourceDeclError(
                str(path),
                f"unknown filter '{name}'",
                line=field_line(lines, "notice", "filters", j),
                field=f"notice.filters.{j}",
                fix="one of: " + ", ".join(sorted(FILTERS)),
            )


def load_source(path: Path) -> SourceDecl:
    data, lines = load_yaml(path, SourceDeclError)
    if not isinstance(data, dict):
        raise SourceDeclError(
            str(path), "must be a mapping of keys", line=1, fix="start with 'id: <source_id>'"
        )
    validate(path, data, lines, "source", SourceDeclError)
    _check_semantics(path, data, lines)
    return decl_from_dict(data, str(path))


def load_sources(folder: Path | None = None) -> dict[str, SourceDecl]:
    """Load and validate every declaration in ``folder``; the first bad file raises."""
    folder = folder or default_sources_dir()
    if not folder.is_dir():
        raise SourceDeclError(
            str(folder),
            "sources folder not found",
            fix="set SETTLEWATCH_SOURCES or --sources to a folder of *.yaml",
        )
    decls = [load_source(p) for p in sorted(folder.glob("*.yaml"))]
    return {d.id: d for d in decls}
