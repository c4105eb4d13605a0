"""Date extraction: the case table in fixtures/date_cases.yaml, plus evidence and purity."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from settlewatch.dates import extract_dates
from settlewatch.dates_patterns import fold

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "date_cases.yaml").read_text(encoding="utf-8")
)["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    published = case.get("published")
    found = extract_dates(case.get("title", ""), case["body"], published)
    expect = {k: str(v) for k, v in case["expect"].items()}
    for key, value in expect.items():
        assert key in found, f"{key} missing from {found}"
        assert found[key].value == value
    if case.get("exactly"):
        extra = set(found) - set(expect) - {"published"}
        assert not extra, f"unexpected {extra}"
    for key in case.get("year_inferred", ()):
        assert found[key].year_inferred
    for key in case.get("stated_year", ()):
        assert not found[key].year_inferred
    for key in case.get("inferred", ()):
        assert found[key].inferred
    for key in case.get("absent", ()):
        assert key not in found


def test_every_value_carries_its_evidence() -> None:
    found = extract_dates("", "我司将于2026年12月5日凌晨2:00至6:00进行系统升级。", None)
    assert "12月5日凌晨2:00至6:00" in found["window_start"].evidence
    assert found["window_start"].evidence == found["window_end"].evidence


def test_evidence_of_a_phrase_is_the_phrase() -> None:
    found = extract_dates("", "本办法自发布之日起施行。", dt.date(2027, 1, 5))
    assert found["effective"].evidence == "自发布之日起"
    assert found["effective"].inferred and not found["effective"].year_inferred


def test_title_dates_count() -> None:
    found = extract_dates("关于2027年3月2日14:00-16:00系统升级的公告", "届时暂停服务。", None)
    assert found["window_start"].value == "2027-03-02T14:00"


def test_published_is_reported_only_when_given() -> None:
    assert "published" not in extract_dates("", "无日期", None)
    assert extract_dates("", "无日期", dt.date(2027, 1, 5))["published"].value == "2027-01-05"


def test_a_draft_date_in_december_about_january_rolls_over() -> None:
    found = extract_dates("", "1月3日起施行。", dt.date(2026, 12, 28))
    assert found["effective"].value == "2027-01-03"
    assert found["effective"].year_inferred


def test_never_reads_the_clock() -> None:
    # The same text and publish date give the same answer whatever today is: a year-less date
    # is placed by the publish date alone.
    a = extract_dates("", "5月1日起施行。", dt.date(2001, 4, 2))
    b = extract_dates("", "5月1日起施行。", dt.date(2031, 4, 2))
    assert a["effective"].value == "2001-05-01"
    assert b["effective"].value == "2031-05-01"


def test_fold_keeps_offsets() -> None:
    text = "２０２７年３月２日（周六）１４：００—１６：００ 結算賬戶"
    folded = fold(text)
    assert len(folded) == len(text)
    assert folded == "2027年3月2日(周六)14:00-16:00 结算账户"
