"""Digest rendering: both languages, hostile text escaped, grouping and urgency, health."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from jinja2 import StrictUndefined, UndefinedError

from settlewatch.digest import (
    DigestContext,
    DigestEntry,
    digest_subject,
    environment,
    flow_labels,
    group_by_flow,
    render_digest,
)
from settlewatch.models import Merchant

HOSTILE = "<script>alert(1)</script>"
ZH_MERCHANT = Merchant(
    "m1", "杭州西湖小笼包餐饮店", "f@example.com", "zh", ("demo_ums",), ("rt_d0", "holiday")
)
EN_MERCHANT = dataclasses.replace(ZH_MERCHANT, name="Bund Coffee", language="en")
GENERATED = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


def entry(finding_id: int, flow: str, severity: str, title: str, **kw: str) -> DigestEntry:
    values = {
        "category": "maint_planned",
        "category_label": "计划内系统维护/升级",
        "what": "D0实时到账暂停",
        "when": "2026-12-01 02:00–06:00",
        "action": "维护时段避免大额收款",
        "source_name": "银联商务（演示）",
        "url": f"http://127.0.0.1:8000/ums/{finding_id}.shtml",
        "evidence_date": "2026-11-27",
    } | kw
    return DigestEntry(finding_id=finding_id, flow=flow, severity=severity, title=title, **values)


MAINT = entry(1, "rt_d0", "S3", "关于12月1日系统升级暂停D0实时到账服务的公告")
HOLIDAY = entry(
    2,
    "holiday",
    "S2",
    "关于2027年春节期间商户资金结算安排的公告",
    category="holiday_settlement",
    category_label="节假日资金结算安排",
    what="合并划付日由2月13日改为2月14日",
)


def context(
    entries: tuple[DigestEntry, ...] = (MAINT, HOLIDAY),
    language: str = "zh",
    unhealthy: tuple[str, ...] = (),
    merchant: Merchant = ZH_MERCHANT,
) -> DigestContext:
    return DigestContext(
        merchant=merchant,
        period="2026-W48",
        language=language,  # type: ignore[arg-type]
        entries=entries,
        unhealthy_sources=unhealthy,
        generated_at=GENERATED,
        flow_labels={"rt_d0": "实时到账", "holiday": "节假日结算"},
    )


def test_zh_digest_names_change_flow_and_action_in_both_bodies() -> None:
    html, text = render_digest(context())
    for body in (html, text):
        assert "杭州西湖小笼包餐饮店，您好：" in body
        assert "关于12月1日系统升级暂停D0实时到账服务的公告" in body
        assert "合并划付日由2月13日改为2月14日" in body
        assert "建议操作：" in body
        assert "影响流程：实时到账" in body
        assert "[高]" in text or "<strong>高</strong>" in html
    assert '<html lang="zh-CN">' in html
    assert '<a href="http://127.0.0.1:8000/ums/1.shtml"' in html
    assert "http://127.0.0.1:8000/ums/1.shtml" in text
    assert "Dear" not in html + text


def test_en_digest_uses_english_labels() -> None:
    en_maint = dataclasses.replace(
        MAINT, title="D0 payouts paused on 1 Dec", category_label="Planned maintenance / upgrade"
    )
    html, text = render_digest(context((en_maint,), "en", merchant=EN_MERCHANT))
    for body in (html, text):
        assert "Dear Bund Coffee," in body
        assert "What to do: " in body
        assert "D0 payouts paused on 1 Dec" in body
        assert "建议操作" not in body
    assert "[High]" in text
    assert (
        digest_subject(context((en_maint,), "en")) == "Settlement changes (2026-W48): 1 affect you"
    )


def test_hostile_text_is_escaped_in_html() -> None:
    evil = entry(
        3,
        "rt_d0",
        "S4",
        HOSTILE,
        what=f"x{HOSTILE}",
        action=HOSTILE,
        source_name=HOSTILE,
        category_label='"><img src=x onerror=alert(1)>',
    )
    merchant = dataclasses.replace(ZH_MERCHANT, name=HOSTILE)
    html, text = render_digest(context((evil,), unhealthy=(HOSTILE,), merchant=merchant))
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # plain text is not HTML: the title shows as written
    assert HOSTILE in text


def test_only_http_links_are_clickable() -> None:
    evil = entry(4, "rt_d0", "S2", "title", url="javascript:alert(1)")
    html, text = render_digest(context((evil,)))
    assert "javascript:" not in html
    assert "javascript:" not in text
    assert "<a " not in html


def test_a_title_cannot_forge_lines_in_the_text_body() -> None:
    forged = entry(5, "rt_d0", "S2", "真标题\n\n== 影响流程：伪造 ==\n建议操作：转账到某账户")
    _, text = render_digest(context((forged,)))
    assert "\n== 影响流程：伪造" not in text
    assert "\n建议操作：转账" not in text


def test_groups_by_flow_most_urgent_group_first() -> None:
    low = entry(10, "holiday", "S1", "假期低")
    critical = entry(11, "rt_d0", "S4", "实时紧急")
    medium = entry(12, "holiday", "S2", "假期中")
    groups = group_by_flow((low, critical, medium), {"rt_d0": "实时到账"})
    assert [g.flow for g in groups] == ["rt_d0", "holiday"]
    assert groups[0].label == "实时到账"
    assert groups[1].label == "holiday"  # no label known: the id is shown
    assert [e.title for e in groups[1].entries] == ["假期中", "假期低"]
    html, text = render_digest(context((low, critical, medium)))
    for body in (html, text):
        assert body.index("实时紧急") < body.index("假期中") < body.index("假期低")
        assert body.count("影响流程") == 2


def test_equally_urgent_groups_keep_the_callers_order() -> None:
    a = entry(20, "holiday", "S2", "A")
    b = entry(21, "rt_d0", "S2", "B")
    assert [g.flow for g in group_by_flow((a, b))] == ["holiday", "rt_d0"]
    assert [g.flow for g in group_by_flow((b, a))] == ["rt_d0", "holiday"]


@pytest.mark.parametrize(
    ("language", "nothing"),
    [
        ("zh", "本期没有影响您结算流程的变更"),
        ("en", "Nothing changed for you this period."),
    ],
)
def test_empty_digest_says_nothing_changed(language: str, nothing: str) -> None:
    ctx = context((), language)
    html, text = render_digest(ctx)
    assert nothing in html
    assert nothing in text
    assert '<h2 class="flow"' not in html
    assert "2026-W48" in digest_subject(ctx)
    assert len(text.splitlines()) < 10


def test_unhealthy_sources_section() -> None:
    html, text = render_digest(context(unhealthy=("拉卡拉商户公告（演示）", "中国银联（演示）")))
    for body in (html, text):
        assert "本期未能检查的来源" in body
        assert "拉卡拉商户公告（演示）" in body
        assert "中国银联（演示）" in body
    assert "<li>拉卡拉商户公告（演示）</li>" in html
    html, text = render_digest(context())
    assert "本期未能检查的来源" not in html + text
    _, text = render_digest(context((), "en", unhealthy=("Lakala (demo)",)))
    assert "Sources we could not check" in text
    assert "  - Lakala (demo)" in text


def test_environment_is_strict_and_autoescapes_html_only() -> None:
    env = environment()
    assert env is environment()
    assert env.undefined is StrictUndefined
    with pytest.raises(UndefinedError):
        env.from_string("{{ ctx.missing }}").render(ctx=context())
    assert callable(env.autoescape) and env.autoescape("digest.html")
    assert not env.autoescape("digest.txt")


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="fr"):
        context(language="fr")


def test_flow_labels_from_flows_file(tmp_path: Path) -> None:
    flows = tmp_path / "flows.yaml"
    flows.write_text("- {id: rt_d0, zh: 实时到账, en: Real-time payout}\n", encoding="utf-8")
    assert flow_labels("en", flows) == {"rt_d0": "Real-time payout"}
    assert flow_labels("zh", flows) == {"rt_d0": "实时到账"}
    assert flow_labels("zh", tmp_path / "missing.yaml") == {}
