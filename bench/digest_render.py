"""Benchmark: render 10,000 merchant digests (target: under 20 s in total).

Each digest is what ``settlewatch digest send`` puts in the outbox: entries chosen per merchant
(``build_contexts``), HTML with its CSS inlined, the plain-text part and the .ics calendar
(``compose``). The input is synthetic but shaped like the store's rows: 40 approved findings
from 8 sources over the real taxonomy, and merchants with random flows, acquirers and languages.

    .venv/bin/python bench/digest_render.py [--merchants 10000] [--findings 40] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from typing import Any

from settlewatch.digest_build import DigestInputs, build_contexts
from settlewatch.digest_send import compose
from settlewatch.models import Merchant
from settlewatch.taxonomy import load_taxonomy

NOW = dt.datetime(2026, 11, 27, 1, 0, tzinfo=dt.UTC)
PERIOD = "2026-W48"
SOURCES = [(f"acq{i}", "acquirer") for i in range(6)] + [("pbc", "regulator"), ("cup", "scheme")]
SAMPLES: list[tuple[str, str, dict[str, str], str]] = [
    ("maint_planned", "关于{d}系统升级暂停D0实时到账服务的公告",
     {"window_start": "2026-12-{d:02d}T02:00", "window_end": "2026-12-{d:02d}T06:00"},
     "我司将于2026年12月{d}日凌晨2:00至6:00对资金结算系统进行升级，届时D0实时到账暂停。"),
    ("holiday_settlement", "关于春节期间商户资金结算安排的公告{d}",
     {"no_settlement_start": "2027-02-05", "no_settlement_end": "2027-02-12", "resume": "2027-02-14"},
     "2月5日至2月12日期间的交易资金，将于2月14日合并划付至商户结算账户。"),
    ("fee_change", "关于调整扫码支付手续费费率的公告{d}", {"effective": "2027-01-{d:02d}"},
     "自2027年1月{d}日起，扫码支付手续费率调整为0.38%。"),
    ("kyc_merchant_info", "关于开展商户信息核验工作的通知{d}", {"deadline": "2026-12-{d:02d}"},
     "请于2026年12月{d}日前通过商户服务平台完成资料更新。"),
]  # fmt: skip


def finding_rows(n: int, rng: random.Random) -> list[dict[str, Any]]:
    taxonomy = load_taxonomy()
    rows = []
    for i in range(n):
        category, title, dates, body = SAMPLES[i % len(SAMPLES)]
        day = 1 + i % 27
        source_id, kind = SOURCES[i % len(SOURCES)]
        flows = list(taxonomy.category(category).flows[:3])
        evidence = body.format(d=day)
        rows.append(
            {
                "finding_id": i + 1, "url": f"https://{source_id}.example.cn/notice/{i}.html",
                "source_id": source_id, "authority": source_id, "source_kind": kind,
                "jurisdiction": "CN", "source_name": f"{source_id} 公告", "kind": "new",
                "new_title": title.format(d=day), "old_title": None, "published": "2026-11-25",
                "category": category, "severity": rng.choice(["S1", "S2", "S3", "S4"]),
                "flows": flows, "confidence": 0.9, "secondary": [], "diff": "",
                "body": f"各商户：\n{evidence}\n特此公告。", "action_text": None,
                "dates": {k: {"value": v.format(d=day), "evidence": evidence} for k, v in dates.items()},
            }
        )  # fmt: skip
    return rows


def merchants(n: int, rng: random.Random) -> list[Merchant]:
    flows = [f.id for f in load_taxonomy().flows]
    return [
        Merchant(
            id=f"m{i:05d}",
            name=f"商户{i}" if i % 3 else f"Merchant {i}",
            email=f"m{i}@example.com",
            language="en" if i % 3 == 0 else "zh",
            acquirers=tuple(rng.sample([s for s, k in SOURCES if k == "acquirer"], 2)),
            flows=tuple(rng.sample(flows, 4)),
        )
        for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, default=10_000)
    parser.add_argument("--findings", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(48)
    inputs = DigestInputs(
        period=PERIOD,
        rows=tuple(finding_rows(args.findings, rng)),
        merchants=tuple(merchants(args.merchants, rng)),
        sources=(),
        digested={},
        queued={},
    )
    taxonomy = load_taxonomy()
    t0 = time.perf_counter()
    contexts = build_contexts(inputs, NOW, taxonomy)
    t1 = time.perf_counter()
    sizes = [len(compose(ctx, "Asia/Shanghai").body_html) for ctx in contexts]
    t2 = time.perf_counter()
    entries = sum(len(c.entries) for c in contexts)
    result = {
        "merchants": args.merchants,
        "findings": args.findings,
        "entries": entries,
        "build_seconds": round(t1 - t0, 2),
        "render_seconds": round(t2 - t1, 2),
        "total_seconds": round(t2 - t0, 2),
        "ms_per_digest": round(1000 * (t2 - t0) / max(args.merchants, 1), 3),
        "mean_html_bytes": sum(sizes) // max(len(sizes), 1),
        "target_seconds": 20,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>16}: {value}")
    sys.exit(0 if result["total_seconds"] < 20 or args.merchants != 10_000 else 1)


if __name__ == "__main__":
    main()
