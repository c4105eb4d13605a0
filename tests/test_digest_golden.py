"""Golden files for the rendered digest (HTML and text, zh and en), and a look at the HTML in
chromium: a PNG per language in build/test-artifacts/.

Regenerate the golden files after an intended change with
``SETTLEWATCH_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_digest_golden.py`` and review the diff.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from settlewatch.digest import DigestContext, DigestEntry, render_digest
from settlewatch.models import Merchant

GOLDEN = Path(__file__).parent / "fixtures" / "golden"
ARTIFACTS = Path(__file__).resolve().parent.parent / "build" / "test-artifacts"
GENERATED = dt.datetime(2026, 11, 27, 0, 30, tzinfo=dt.UTC)

MERCHANTS = {
    "zh": Merchant(
        "m-hz", "杭州西湖小笼包餐饮店", "f@example.com", "zh", ("ums",), ("rt_d0", "holiday")
    ),
    "en": Merchant("m-sh", "Bund Coffee", "ops@example.com", "en", ("ums",), ("rt_d0", "holiday")),
}
FLOW_LABELS = {
    "zh": {
        "rt_d0": "实时到账/T+0/D+0/秒到",
        "holiday": "节假日/周末结算",
        "fee_deduct": "手续费/费率扣收",
    },
    "en": {
        "rt_d0": "Real-time / same-day payout",
        "holiday": "Holiday and weekend settlement",
        "fee_deduct": "Fees and deductions",
    },
}
WORDS = {
    "zh": {
        "maint": ("计划内系统维护/升级", "维护时段 2026-12-01 02:00 至 06:00（北京时间）",
                  "维护时段避免大额收款和退款，准备备用收款方式，结束后及时对账。"),
        "holiday": ("节假日资金结算安排", "2027-02-05 至 2027-02-12 的交易暂停结算；2027-02-14 恢复到账",
                    "节前备足周转资金：2月5日至2月12日的交易资金于2月14日到账。"),
        "fee": ("费率/手续费调整", "2027-01-01 起生效", "重算综合费率，核对对账单扣费。"),
    },
    "en": {
        "maint": ("Planned maintenance / upgrade",
                  "maintenance window 2026-12-01 02:00 to 06:00 (Beijing time, UTC+8)",
                  "Avoid big sales and refunds during the window; have a fallback way to take payment."),
        "holiday": ("Holiday settlement schedule",
                    "trades of 2027-02-05 to 2027-02-12 not settled; paid on 2027-02-14",
                    "Keep enough cash for the holiday: trades of 5-12 Feb are paid on 14 Feb."),
        "fee": ("Fee change", "effective 2027-01-01", "Recompute your blended rate and check the fees on your statement."),
    },
}  # fmt: skip


def context(lang: str) -> DigestContext:
    w = WORDS[lang]
    base = "http://127.0.0.1:8000/ums"
    entries = (
        DigestEntry(
            finding_id=11, flow="holiday", category="holiday_settlement",
            category_label=w["holiday"][0], severity="S2",
            title="关于2027年春节期间商户资金结算安排的公告",
            what="修订：“将于2月13日合并划付至商户” 改为 “将于2月14日合并划付至商户”",
            when=w["holiday"][1], action=w["holiday"][2], source_name="银联商务（演示）",
            url=f"{base}/holiday.shtml", evidence_date="2026-11-21", kind="edited",
        ),
        DigestEntry(
            finding_id=12, flow="rt_d0", category="maint_planned",
            category_label=w["maint"][0], severity="S4",
            title="关于12月1日系统升级暂停D0实时到账服务的公告",
            what="我司将于2026年12月1日（星期二）凌晨2:00至6:00对资金结算系统进行升级。",
            when=w["maint"][1], action=w["maint"][2], source_name="银联商务（演示）",
            url=f"{base}/maint.shtml", evidence_date="2026-11-27",
        ),
        DigestEntry(
            finding_id=13, flow="fee_deduct", category="fee_change",
            category_label=w["fee"][0], severity="S1",
            title='关于调整手续费的公告<script>alert(1)</script><img src=x onerror="alert(2)">',
            what="三、本公告自2027年1月1日起执行。", when=w["fee"][1], action=w["fee"][2],
            source_name="中国银联（演示）", url="javascript:alert(3)", evidence_date="2026-11-27",
        ),
    )  # fmt: skip
    return DigestContext(
        merchant=MERCHANTS[lang],
        period="2026-W48",
        language=lang,  # type: ignore[arg-type]
        entries=entries,
        unhealthy_sources=("拉卡拉商户公告（演示）",),
        generated_at=GENERATED,
        flow_labels=FLOW_LABELS[lang],
        has_calendar=True,
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_rendered_digest_matches_golden_files(lang: str) -> None:
    html, text = render_digest(context(lang))
    for suffix, body in (("html", html), ("txt", text)):
        path = GOLDEN / f"digest.{lang}.{suffix}"
        if os.environ.get("SETTLEWATCH_UPDATE_GOLDEN"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
        assert body == path.read_text(encoding="utf-8"), f"{path} differs (see module doc)"


def test_golden_html_is_mail_safe() -> None:
    html = (GOLDEN / "digest.zh.html").read_text(encoding="utf-8")
    assert "<style" not in html and "class=" in html and "style=" in html
    assert "&lt;script&gt;" in html and "<script" not in html and "<img" not in html
    assert "javascript:" not in html
    assert html.index("系统升级") < html.index("春节期间") < html.index("调整手续费")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_digest_in_chromium(lang: str) -> None:
    from playwright import sync_api  # the test extra; chromium is Debian's

    html, _ = render_digest(context(lang))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = ARTIFACTS / f"digest.{lang}.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        page = browser.new_page(viewport={"width": 760, "height": 900})
        page.set_content(html)
        page.screenshot(path=str(png), full_page=True)
        boxes = page.eval_on_selector_all(
            ".entry", "els => els.map(e => [e.getBoundingClientRect().width, "
            "getComputedStyle(e).borderLeftColor])",
        )  # fmt: skip
        masthead = page.eval_on_selector(".masthead", "e => getComputedStyle(e).backgroundColor")
        text = page.inner_text("body")
        browser.close()
    assert png.stat().st_size > 20_000
    assert len(boxes) == 3 and all(600 < width <= 680 for width, _ in boxes)
    assert boxes[0][1] == "rgb(185, 28, 28)"  # the critical entry comes first, in red
    assert masthead == "rgb(15, 61, 94)"
    assert ("结算变更周报" if lang == "zh" else "Settlement change digest") in text
    assert "<script>alert(1)</script>" in text  # shown as text, not run
