"""Impact: which merchants a Finding reaches (publisher, flows, channels) and the action each
one gets, in its own language. Findings come from the real classifier on notices written here."""

from __future__ import annotations

import datetime as dt

import pytest

from settlewatch.classify import classify, render_action
from settlewatch.impact import (
    Impact,
    Publisher,
    affected,
    affects,
    applies,
    channel_flows,
    impacts,
    used_flows,
)
from settlewatch.models import Finding, Merchant
from settlewatch.taxonomy import Taxonomy, load_taxonomy

UMS = Publisher("demo_ums", "银联商务", "acquirer", "CN")
PBOC = Publisher("pboc", "中国人民银行", "regulator", "CN")
VISA = Publisher("visa", "Visa", "scheme", "GLOBAL")


def merchant(
    mid: str,
    *,
    language: str = "zh",
    acquirers: tuple[str, ...] = ("demo_ums",),
    flows: tuple[str, ...] = ("t1_d1",),
    channels: tuple[str, ...] = (),
    region: str = "CN",
) -> Merchant:
    lang = "zh" if language == "zh" else "en"
    return Merchant(
        mid, f"商户{mid}", f"{mid}@example.com", lang, acquirers, flows, channels, region
    )


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="module")
def card_maintenance(taxonomy: Taxonomy) -> Finding:
    """A maintenance window that stops card terminals only."""
    return classify(
        taxonomy,
        "关于POS刷卡业务系统升级的公告",
        "我司将于2027年3月6日凌晨1:00至5:00进行系统升级，届时POS刷卡交易暂停受理。",
        published=dt.date(2027, 3, 1),
    )


@pytest.fixture(scope="module")
def holiday(taxonomy: Taxonomy) -> Finding:
    return classify(
        taxonomy,
        "2027年春节期间商户资金结算安排",
        "2027年2月6日至2月12日的交易将于2月13日统一结算，请提前备足周转资金。",
        published=dt.date(2027, 1, 25),
    )


def test_the_fixture_findings_have_the_flows_the_tests_rely_on(
    card_maintenance: Finding, holiday: Finding
) -> None:
    assert card_maintenance.category == "maint_planned"
    assert card_maintenance.flows == ("card_present",)
    assert holiday.category == "holiday_settlement"
    assert {"holiday", "t1_d1"} <= set(holiday.flows)
    assert not {"card_present", "qr_scan", "online_pay"} & set(holiday.flows)


def test_channels_map_to_acceptance_flows() -> None:
    assert channel_flows(["pos", "QR", " online "]) == {"card_present", "qr_scan", "online_pay"}
    assert channel_flows(["fax"]) == frozenset()


def test_listed_channels_decide_acceptance() -> None:
    qr_only = merchant("m1", flows=("t1_d1", "card_present"), channels=("qr",))
    assert used_flows(qr_only) == {"t1_d1", "qr_scan"}  # channels win over a stray card_present
    no_channels = merchant("m2", flows=("t1_d1",))
    assert {"card_present", "qr_scan", "online_pay", "t1_d1"} == used_flows(no_channels)
    unknown_only = merchant("m3", flows=("t1_d1",), channels=("fax",))
    assert used_flows(unknown_only) == used_flows(no_channels)


def test_an_acquirer_applies_to_its_own_merchants_only() -> None:
    own_by_id = merchant("m1", acquirers=("demo_ums",))
    own_by_authority = merchant("m2", acquirers=("银联商务",))
    other = merchant("m3", acquirers=("demo_lakala",))
    assert applies(UMS, own_by_id) and applies(UMS, own_by_authority)
    assert not applies(UMS, other)


def test_a_regulator_applies_to_its_jurisdiction_and_a_global_scheme_everywhere() -> None:
    mainland, hong_kong = merchant("m1", region="CN"), merchant("m2", region="HK")
    assert applies(PBOC, mainland) and not applies(PBOC, hong_kong)
    assert applies(VISA, mainland) and applies(VISA, hong_kong)


def test_card_only_finding_skips_a_qr_only_merchant(card_maintenance: Finding) -> None:
    pos = merchant("pos", channels=("pos",))
    qr = merchant("qr", channels=("qr",))
    everything = merchant("all")  # no channels listed: accepts everything
    flows = card_maintenance.flows
    assert affects(UMS, flows, pos) and affects(UMS, flows, everything)
    assert not affects(UMS, flows, qr)
    assert [m.id for m in affected(UMS, flows, [pos, qr, everything])] == ["pos", "all"]


def test_settlement_flows_reach_merchants_whatever_their_channels(holiday: Finding) -> None:
    qr_t1 = merchant("qr", flows=("t1_d1",), channels=("qr",))
    instant_only = merchant("d0", flows=("rt_d0",), channels=("qr",))
    assert affects(PBOC, holiday.flows, qr_t1)
    assert not affects(PBOC, holiday.flows, instant_only)


def test_impacts_carry_flows_and_action_in_each_merchants_language(
    taxonomy: Taxonomy, holiday: Finding
) -> None:
    zh = merchant("zh", language="zh", flows=("t1_d1", "holiday"), channels=("qr",))
    en = merchant("en", language="en", flows=("t1_d1",), channels=("pos",))
    other_acquirer = merchant("x", acquirers=("demo_lakala",))
    found = impacts(UMS, holiday, [zh, en, other_acquirer], taxonomy)
    assert [i.merchant.id for i in found] == ["zh", "en"]
    by_id = {i.merchant.id: i for i in found}
    assert isinstance(by_id["zh"], Impact) and by_id["zh"].language == "zh"
    assert by_id["zh"].flows == tuple(f for f in holiday.flows if f in {"t1_d1", "holiday"})
    assert by_id["en"].flows == ("t1_d1",)
    assert "节假日/周末结算" in by_id["zh"].flow_names
    assert by_id["en"].flow_names == ("Next-day standard settlement",)
    assert by_id["zh"].action == render_action(taxonomy, holiday, "zh")
    assert "2027-02-13" in by_id["zh"].action and "资金" in by_id["zh"].action
    assert by_id["en"].action.startswith("Settlement of transactions from 2027-02-06")


def test_impacts_of_a_card_window_render_its_dates(
    taxonomy: Taxonomy, card_maintenance: Finding
) -> None:
    found = impacts(
        UMS, card_maintenance, [merchant("m", language="en", channels=("pos",))], taxonomy
    )
    assert len(found) == 1
    assert "2027-03-06 01:00 to 2027-03-06 05:00" in found[0].action


def test_an_irrelevant_finding_reaches_nobody(taxonomy: Taxonomy) -> None:
    finding = classify(taxonomy, "2027年校园招聘公告", "我公司招聘支付产品经理，欢迎投递简历。")
    assert finding.category == "irrelevant"
    assert impacts(PBOC, finding, [merchant("m")], taxonomy) == []
