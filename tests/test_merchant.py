"""Merchants import: CSV and YAML parse to the same Merchants; every error names where."""

from __future__ import annotations

from pathlib import Path

import pytest

from settlewatch.demo import demo_merchants_path
from settlewatch.errors import InputError
from settlewatch.merchant import parse_merchants, read_flow_ids
from settlewatch.models import Merchant

FIXTURES = Path(__file__).parent / "fixtures" / "merchants"
NO_FLOWS_FILE = Path("/nonexistent/flows.yaml")

GOOD_YAML_ROW = """\
  - id: m001
    name: 杭州西湖小笼包餐饮店
    email: finance@xiaolongbao.example.com
    language: zh
    acquirers: [demo_ums]
    flows: [rt_d0]
"""


def parse(path: Path, flows: Path = NO_FLOWS_FILE) -> list[Merchant]:
    return parse_merchants(path, flows_path=flows)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_csv() -> None:
    merchants = parse(FIXTURES / "good.csv")
    assert [m.id for m in merchants] == ["m001", "m002", "m003"]
    first, second, third = merchants
    assert first == Merchant(
        id="m001",
        name="杭州西湖小笼包餐饮店",
        email="finance@xiaolongbao.example.com",
        language="zh",
        acquirers=("demo_ums",),
        flows=("rt_d0", "t1_d1", "holiday", "qr_scan"),
        channels=("pos", "qr"),
        region="CN",
    )
    assert second.name == "Shanghai Bund Coffee, Ltd."  # quoted comma stays in the cell
    assert second.acquirers == ("demo_ums", "demo_lakala")  # spaces around ';' trimmed
    assert third.channels == ()
    assert third.region == "HK"


def test_good_yaml_matches_csv_reading() -> None:
    merchants = parse(FIXTURES / "good.yaml")
    assert [m.id for m in merchants] == ["m001", "m002"]
    assert merchants[0].flows == ("rt_d0", "t1_d1", "holiday")
    assert merchants[1].channels == ()
    assert merchants[1].language == "en"


def test_yaml_top_level_list(tmp_path: Path) -> None:
    top_level = "".join(line[2:] + "\n" for line in GOOD_YAML_ROW.splitlines())
    path = write(tmp_path, "m.yml", top_level)
    assert [m.id for m in parse(path)] == ["m001"]


def test_csv_with_bom(tmp_path: Path) -> None:
    text = (FIXTURES / "good.csv").read_text(encoding="utf-8")
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert parse(path)[0].id == "m001"


def test_missing_column_names_file_line_and_column() -> None:
    with pytest.raises(InputError) as err:
        parse(FIXTURES / "missing_column.csv")
    e = err.value
    assert e.path.endswith("missing_column.csv")
    assert (e.line, e.field) == (1, "flows")
    assert "missing column 'flows'" in str(e)
    assert "missing_column.csv:1:" in str(e)
    assert e.fix and "flows" in e.fix


def test_bad_language_csv() -> None:
    with pytest.raises(InputError) as err:
        parse(FIXTURES / "bad_language.csv")
    e = err.value
    assert (e.line, e.field) == (3, "language")
    assert "'fr'" in e.message
    assert str(e).startswith(f"{FIXTURES / 'bad_language.csv'}:3:")
    assert e.fix and "zh" in e.fix and "en" in e.fix


def test_duplicate_id_yaml_names_both_lines() -> None:
    with pytest.raises(InputError) as err:
        parse(FIXTURES / "duplicate_id.yaml")
    e = err.value
    assert e.path.endswith("duplicate_id.yaml")
    assert (e.line, e.field) == (13, "2.id")
    assert "duplicate id 'm001'" in e.message
    assert "line 1" in e.message


def test_missing_key_yaml(tmp_path: Path) -> None:
    path = write(
        tmp_path, "m.yaml", "merchants:\n" + GOOD_YAML_ROW.replace("    flows: [rt_d0]\n", "")
    )
    with pytest.raises(InputError) as err:
        parse(path)
    assert err.value.field == "merchants.0.flows"
    assert err.value.line == 2
    assert "'flows' is missing" in err.value.message


def test_unknown_key_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "m.yaml", "merchants:\n" + GOOD_YAML_ROW + "    phone: '123'\n")
    with pytest.raises(InputError) as err:
        parse(path)
    assert (err.value.line, err.value.field) == (8, "merchants.0.phone")


@pytest.mark.parametrize(
    ("line", "bad", "field", "words"),
    [
        (
            "    email: finance@xiaolongbao.example.com\n",
            "    email: not-an-email\n",
            "email",
            "not a valid email",
        ),
        ("    language: zh\n", "    language: zh-TW\n", "language", "not allowed"),
        ("  - id: m001\n", "  - id: 'm 001'\n", "id", "not a valid id"),
    ],
    ids=["email", "language", "id"],
)
def test_bad_values_yaml(tmp_path: Path, line: str, bad: str, field: str, words: str) -> None:
    path = write(tmp_path, "m.yaml", "merchants:\n" + GOOD_YAML_ROW.replace(line, bad))
    with pytest.raises(InputError) as err:
        parse(path)
    bad_line = ("merchants:\n" + GOOD_YAML_ROW).splitlines().index(line.rstrip("\n")) + 1
    assert (err.value.line, err.value.field) == (bad_line, f"merchants.0.{field}")
    assert words in err.value.message


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        (",Shop,a@example.com,zh,demo_ums,rt_d0", "id", "empty id"),
        ("m9,Shop,a.example.com,zh,demo_ums,rt_d0", "email", "not a valid email"),
        ("m9,Shop,a@example.com,zh,,rt_d0", "acquirers", "no acquirers"),
        ("m9,,a@example.com,zh,demo_ums,rt_d0", "name", "empty name"),
        ("m9,Shop,a@example.com,zh,demo_ums,rt_d0,extra", None, "cells but"),
    ],
    ids=["empty-id", "email", "no-acquirer", "empty-name", "extra-cell"],
)
def test_bad_csv_rows(tmp_path: Path, row: str, field: str | None, words: str) -> None:
    good = "m1,Shop,b@example.com,en,demo_ums,t1_d1"
    path = write(tmp_path, "m.csv", f"id,name,email,language,acquirers,flows\n{good}\n{row}\n")
    with pytest.raises(InputError) as err:
        parse(path)
    assert (err.value.line, err.value.field) == (3, field)
    assert words in err.value.message


def test_unknown_column(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "id,name,email,language,acquirers,flows,phone\n")
    with pytest.raises(InputError) as err:
        parse(path)
    assert (err.value.line, err.value.field) == (1, "phone")


def test_unknown_flow_checked_against_flows_file(tmp_path: Path) -> None:
    flows = write(
        tmp_path,
        "flows.yaml",
        "- {id: rt_d0, zh: 实时到账, en: Real-time}\n- {id: t1_d1, zh: T+1, en: Next-day}\n",
    )
    path = write(
        tmp_path,
        "m.csv",
        "id,name,email,language,acquirers,flows\n"
        "m1,Shop,a@example.com,zh,demo_ums,rt_d0;t0_instant\n",
    )
    with pytest.raises(InputError) as err:
        parse(path, flows)
    assert (err.value.line, err.value.field) == (2, "flows")
    assert "unknown flow 't0_instant'" in err.value.message
    assert err.value.fix and "rt_d0" in err.value.fix
    # without a flows file the same row is accepted
    assert parse(path)[0].flows == ("rt_d0", "t0_instant")


def test_read_flow_ids_forms(tmp_path: Path) -> None:
    wrapped = write(tmp_path, "a.yaml", "flows:\n  - {id: holiday, zh: 节假日, en: Holiday}\n")
    assert read_flow_ids(wrapped) == frozenset({"holiday"})
    assert read_flow_ids(tmp_path / "absent.yaml") is None


def test_unsupported_extension(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unsupported file type"):
        parse(write(tmp_path, "m.xlsx", ""))


def test_bundled_demo_merchants_parse() -> None:
    merchants = parse_merchants(demo_merchants_path())  # checks flows.yaml when it exists
    assert 6 <= len(merchants) <= 8
    assert {m.language for m in merchants} == {"zh", "en"}
    assert any("demo_lakala" in m.acquirers for m in merchants)
    assert any("rt_d0" in m.flows and "demo_ums" in m.acquirers for m in merchants)


def test_unknown_channel_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "m.csv"
    f.write_text(
        "id,name,email,language,acquirers,flows,channels\n"
        "m1,Shop,a@example.com,zh,acq,t1_d1,pos;teleport\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="unknown channel 'teleport'") as err:
        parse_merchants(f)
    assert err.value.line == 2 and err.value.field == "channels"
