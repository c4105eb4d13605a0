"""Merchants files: a CSV or YAML file in, validated ``Merchant`` values out.

CSV: a header row naming the columns; the list columns (acquirers, flows, channels) separate
their items with ";". YAML: a list of mappings, or ``{merchants: [...]}``, checked against
rules/schemas/merchant.schema.json. Both forms then go through the same checks, so a bad row
fails the whole import with the file, the line, the field and the fix: half an import would
leave merchants without the digests they expect.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from settlewatch.errors import InputError
from settlewatch.impact import CHANNEL_FLOWS
from settlewatch.models import Merchant
from settlewatch.notifier import check_url
from settlewatch.resources import rules_dir
from settlewatch.yamlfile import Lines, field_line, iter_errors, load_yaml, validate

REQUIRED_FIELDS: tuple[str, ...] = ("id", "name", "email", "language", "acquirers", "flows")
OPTIONAL_FIELDS: tuple[str, ...] = ("channels", "region", "webhooks", "send_empty")
LIST_FIELDS: tuple[str, ...] = ("acquirers", "flows", "channels", "webhooks")
_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n", ""}
LANGUAGES: tuple[str, ...] = ("zh", "en")

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ID_FIX = "use 1–64 letters, digits, '_', '-' or '.', starting with a letter or digit"
_EMAIL_FIX = "write it as name@example.com"


@dataclass(frozen=True)
class _Row:
    """One merchant as read from the file, before checking, with where it came from."""

    values: Mapping[str, Any]
    line: int
    field_lines: Mapping[str, int]
    prefix: str  # YAML path of the row ("merchants.2."); CSV errors name the bare column

    def line_of(self, name: str) -> int:
        return self.field_lines.get(name, self.line)


def read_flow_table(path: Path) -> dict[str, dict[str, str]] | None:
    """Flows in a flows file (a list of {id, zh, en}, or {flows: [...]}): id → entry.

    None when the file is absent. The flows file has its own loader and schema; an
    unreadable one is that loader's error to report, so it also yields None here.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    items = data.get("flows") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return None
    table = {
        str(i["id"]): {str(k): str(v) for k, v in i.items()}
        for i in items
        if isinstance(i, dict) and "id" in i
    }
    return table or None


def read_flow_ids(path: Path) -> frozenset[str] | None:
    """The flow ids in a flows file, or None when there is none to check against."""
    table = read_flow_table(path)
    return frozenset(table) if table else None


def _read_text(path: Path) -> str:
    try:
        # utf-8-sig: spreadsheet programs put a BOM in front of exported CSV
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            str(path), f"cannot read: {exc}", fix="save the file as UTF-8 text"
        ) from exc


def _csv_rows(path: Path) -> list[_Row]:
    reader = csv.DictReader(io.StringIO(_read_text(path), newline=""))
    if not reader.fieldnames:
        raise InputError(
            str(path),
            "the file is empty",
            line=1,
            fix="start with a header row: " + ",".join(REQUIRED_FIELDS),
        )
    header = [name.strip() for name in reader.fieldnames]
    reader.fieldnames = header
    allowed = (*REQUIRED_FIELDS, *OPTIONAL_FIELDS)
    for name in header:
        if name not in allowed:
            raise InputError(
                str(path),
                f"unknown column '{name}'",
                line=1,
                field=name,
                fix="remove or rename it; allowed: " + ", ".join(allowed),
            )
        if header.count(name) > 1:
            raise InputError(
                str(path), f"column '{name}' appears twice", line=1, field=name, fix="keep one"
            )
    for name in REQUIRED_FIELDS:
        if name not in header:
            raise InputError(
                str(path),
                f"missing column '{name}'",
                line=1,
                field=name,
                fix=f"add a '{name}' column to the header row",
            )
    rows = []
    for record in reader:
        line = reader.line_num
        if None in record:
            raise InputError(
                str(path),
                f"{len(header) + len(record[None])} cells but {len(header)} columns",
                line=line,
                fix="quote cells that contain commas; use ';' inside lists",
            )
        values: dict[str, Any] = {}
        for name, cell in record.items():
            text = (cell or "").strip()  # a short row leaves None in the missing cells
            if name in LIST_FIELDS:
                values[name] = [item.strip() for item in text.split(";") if item.strip()]
            elif text or name in REQUIRED_FIELDS:
                values[name] = text
        rows.append(_Row(values, line, {}, ""))
    return rows


def _validate_yaml(path: Path, data: Any, lines: Lines) -> None:
    first = next(iter_errors(data, "merchant"), None)
    if first is None:
        return
    where = tuple(first.absolute_path)
    name = where[-1] if where else None
    # the schema's regexes make poor messages: say what is wrong in words instead
    if first.validator == "pattern" and name in ("id", "email"):
        message = (
            f"'{first.instance}' is not a valid email address"
            if name == "email"
            else f"'{first.instance}' is not a valid id"
        )
        raise InputError(
            str(path),
            message,
            line=field_line(lines, *where),
            field=".".join(map(str, where)),
            fix=_EMAIL_FIX if name == "email" else _ID_FIX,
        )
    validate(path, data, lines, "merchant", InputError)


def _yaml_rows(path: Path) -> list[_Row]:
    data, lines = load_yaml(path, InputError)
    if data is None:
        raise InputError(
            str(path),
            "the file is empty",
            fix="write a list of merchants, or 'merchants:' followed by one",
        )
    _validate_yaml(path, data, lines)
    prefix: tuple[str | int, ...] = ("merchants",) if isinstance(data, dict) else ()
    items = data["merchants"] if isinstance(data, dict) else data
    rows = []
    for i, item in enumerate(items):
        where = (*prefix, i)
        field_lines = {k: lines[(*where, k)] for k in item if (*where, k) in lines}
        rows.append(_Row(item, lines.get(where, 1), field_lines, ".".join(map(str, where)) + "."))
    return rows


def _check(
    path: Path, row: _Row, seen: dict[str, int], known_flows: frozenset[str] | None
) -> Merchant:
    def fail(name: str, message: str, fix: str) -> InputError:
        return InputError(
            str(path), message, line=row.line_of(name), field=row.prefix + name, fix=fix
        )

    v = row.values
    mid = v["id"]
    if not mid:
        raise fail("id", "empty id", "give every merchant a unique id")
    if not _ID.match(mid):
        raise fail("id", f"'{mid}' is not a valid id", _ID_FIX)
    if mid in seen:
        raise fail(
            "id",
            f"duplicate id '{mid}' (first used on line {seen[mid]})",
            "give every merchant a unique id",
        )
    seen[mid] = row.line_of("id")
    if not v["name"]:
        raise fail("name", "empty name", "write the merchant's name")
    if not _EMAIL.match(v["email"]):
        raise fail("email", f"'{v['email']}' is not a valid email address", _EMAIL_FIX)
    if v["language"] not in LANGUAGES:
        raise fail(
            "language",
            f"language '{v['language']}' is not supported",
            "use one of: " + ", ".join(LANGUAGES),
        )
    for name in ("acquirers", "flows"):
        if not v[name]:
            raise fail(
                name, f"no {name} given", f"list at least one; separate {name} with ';' in CSV"
            )
    if known_flows is not None:
        for flow in v["flows"]:
            if flow not in known_flows:
                raise fail(
                    "flows",
                    f"unknown flow '{flow}'",
                    "use flow ids from rules/flows.yaml: " + ", ".join(sorted(known_flows)),
                )
    for channel in v.get("channels", ()):
        if channel.strip().lower() not in CHANNEL_FLOWS:
            raise fail(
                "channels",
                f"unknown channel '{channel}'",
                "use one of: " + ", ".join(sorted(CHANNEL_FLOWS)),
            )
    send_empty = v.get("send_empty", False)
    if isinstance(send_empty, str):
        if send_empty.strip().lower() not in _TRUE | _FALSE:
            raise fail("send_empty", f"'{send_empty}' is not true or false", "write true or false")
        send_empty = send_empty.strip().lower() in _TRUE
    for url in v.get("webhooks", ()):
        problem = check_url(url)
        if problem:
            raise fail(
                "webhooks",
                f"webhook {url!r}: {problem}",
                "use an apprise URL such as json://host/path or dingtalk://${TOKEN}",
            )
    return Merchant(
        id=mid,
        name=v["name"],
        email=v["email"],
        language=v["language"],
        acquirers=tuple(v["acquirers"]),
        flows=tuple(v["flows"]),
        channels=tuple(v.get("channels", ())),
        region=v.get("region") or "CN",
        webhooks=tuple(v.get("webhooks", ())),
        send_empty=bool(send_empty),
    )


def parse_merchants(path: Path, *, flows_path: Path | None = None) -> list[Merchant]:
    """Read and check a merchants file (.csv, .yaml or .yml); the first problem raises.

    Flow ids are checked against ``flows_path`` (default rules/flows.yaml) when it exists.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(path)
    elif suffix in (".yaml", ".yml"):
        rows = _yaml_rows(path)
    else:
        raise InputError(
            str(path),
            f"unsupported file type '{suffix or path.name}'",
            fix="use a .csv, .yaml or .yml file",
        )
    known_flows = read_flow_ids(flows_path or rules_dir() / "flows.yaml")
    seen: dict[str, int] = {}
    return [_check(path, row, seen, known_flows) for row in rows]
