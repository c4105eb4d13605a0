"""Source declarations fail at load, naming the file, the line and the field."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from settlewatch.errors import SourceDeclError
from settlewatch.models import decl_from_dict, decl_to_json
from settlewatch.source import load_source, load_sources
from tests.sitekit import run

GOOD = """\
id: acq
name: Test acquirer
authority: acq
kind: acquirer
listings:
  - url: https://example.com/notices/
    item: li.row
    link: a
notice:
  body: div.body
"""

CASES = {
    "unknown-key": (
        GOOD.replace("kind: acquirer", "kind: acquirer\ncolour: red"),
        5,
        "unknown key 'colour'",
    ),
    "missing-url": (
        GOOD.replace("  - url: https://example.com/notices/\n    item", "  - item"),
        6,
        "required key 'url' is missing",
    ),
    "bad-url": (
        GOOD.replace("https://example.com/notices/", "example.com/notices"),
        6,
        "does not match",
    ),
    "bad-selector": (GOOD.replace("item: li.row", "item: 'li[[row'"), 7, "bad CSS selector"),
    # parsel's ::text is no CSS the crawler evaluates: refused when the file loads
    "pseudo-element": (GOOD.replace("item: li.row", "item: 'li.row::text'"), 7, "bad CSS selector"),
    "bad-kind": (GOOD.replace("kind: acquirer", "kind: bank"), 4, "is not allowed"),
    "unknown-filter": (GOOD + "  filters: [drop_everything]\n", 11, "unknown filter"),
    "yaml-syntax": (GOOD.replace("link: a", "link: [a"), None, "not valid YAML"),
}


@pytest.mark.parametrize("text,line,message", CASES.values(), ids=CASES.keys())
def test_bad_declaration_names_file_line_and_problem(
    tmp_path: Path, text: str, line: int | None, message: str
) -> None:
    path = tmp_path / "acq.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceDeclError) as err:
        load_source(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)
    if line is not None:
        assert err.value.line == line, str(err.value)
    assert "fix:" in str(err.value)


def test_good_declaration_loads(tmp_path: Path) -> None:
    (tmp_path / "acq.yaml").write_text(GOOD, encoding="utf-8")
    decl = load_sources(tmp_path)["acq"]
    assert decl.listings[0].item == "li.row"
    assert decl.notice.body == "div.body"


def test_id_must_match_file_name(tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(GOOD, encoding="utf-8")
    with pytest.raises(SourceDeclError, match="differs from the file name"):
        load_source(path)


def test_crawl_with_bad_declaration_fails_before_writing(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "acq.yaml").write_text(CASES["unknown-key"][0], encoding="utf-8")
    db = tmp_path / "sw.db"
    res = run(["crawl"], f"sqlite:///{db}", tmp_path / "src")
    assert res.exit_code == 1
    assert res.stderr.count("\n") == 1 and "unknown key 'colour'" in res.stderr
    assert not db.exists()


def test_bundled_declarations_are_valid() -> None:
    for decl in load_sources().values():
        assert decl.listings


def test_the_stored_declaration_reads_back_as_loaded() -> None:
    """What the store keeps (decl_to_json, through JSON) is what crawlers and tracking read."""
    decls = list(load_sources().values())
    assert decls
    for decl in decls:
        stored = json.loads(json.dumps(decl_to_json(decl)))
        assert "path" not in stored
        assert decl_from_dict(stored) == dataclasses.replace(decl, path="")
        assert decl_from_dict(stored, decl.path) == decl


def test_schedule_cron_and_interval_exclude_each_other(tmp_path: Path) -> None:
    path = tmp_path / "acq.yaml"
    path.write_text(GOOD + "schedule:\n  cron: '0 9 * * *'\n  interval: 60\n", encoding="utf-8")
    with pytest.raises(SourceDeclError, match="cron and interval exclude each other"):
        load_source(path)
    path.write_text(GOOD + "schedule:\n  interval: 60\n  jitter: 30\n", encoding="utf-8")
    assert load_source(path).schedule == {"interval": 60, "jitter": 30}
