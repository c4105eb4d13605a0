"""Load YAML with line numbers and validate it against a JSON Schema.

Every rules/ file and merchants file goes through here, so that each error names the file,
the line and the field, and says what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from settlewatch.errors import LocatedError, RuleError
from settlewatch.resources import rules_dir

Lines = dict[tuple[str | int, ...], int]
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it


def _walk(node: yaml.Node, path: tuple[str | int, ...], lines: Lines) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value
            lines[(*path, k)] = key.start_mark.line + 1
            _walk(value, (*path, k), lines)
            lines[(*path, k)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines)


def load_yaml(path: Path, error: type[LocatedError] = RuleError) -> tuple[Any, Lines]:
    """Parse ``path`` and return the data and a map from JSON path to line number."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(str(path), f"cannot read: {exc}") from exc
    loader = LOADER(text)
    try:  # compose once (the nodes carry line numbers), then build the data from the nodes
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(
            str(path), f"not valid YAML: {problem}", line=line, fix="correct the YAML syntax"
        ) from exc
    finally:
        loader.dispose()
    lines: Lines = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (rules_dir() / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")
    )
    return loaded


def _line_for(path: tuple[str | int, ...], lines: Lines) -> int | None:
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


def _describe(err: jsonschema.ValidationError) -> tuple[tuple[str | int, ...], str, str]:
    path = tuple(err.absolute_path)
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        allowed = ", ".join(sorted(err.schema.get("properties", {})))
        return (*path, extra[0]), f"unknown key '{extra[0]}'", f"remove it; allowed: {allowed}"
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return (*path, missing), f"required key '{missing}' is missing", f"add '{missing}'"
    if err.validator == "enum":
        options = ", ".join(map(str, err.validator_value))
        return path, f"{err.instance!r} is not allowed", f"use one of: {options}"
    if err.validator == "not" and isinstance(err.validator_value, dict):
        keys = err.validator_value.get("required", [])
        return path, f"{' and '.join(keys)} exclude each other", "keep only one of them"
    return path, err.message, "see the schema in rules/schemas/"


def iter_errors(data: Any, schema_name: str) -> Iterator[jsonschema.ValidationError]:
    validator = jsonschema.Draft202012Validator(
        schema(schema_name), format_checker=jsonschema.FormatChecker()
    )
    yield from sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path)))


def validate(
    path: Path,
    data: Any,
    lines: Lines,
    schema_name: str,
    error: type[LocatedError] = RuleError,
) -> None:
    """Raise ``error`` for the first schema violation, with file, line, field and fix."""
    for err in iter_errors(data, schema_name):
        where, message, fix = _describe(err)
        field = ".".join(str(p) for p in where) or None
        raise error(str(path), message, line=_line_for(where, lines), field=field, fix=fix)


def field_line(lines: Lines, *path: str | int) -> int | None:
    return _line_for(tuple(path), lines)
