"""Chinese notice texts for the benchmark site: every taxonomy category, with varied figures.

All text is written for the benchmark (issuers are fictional). ``make_notice`` is pure: a
category, a random generator and a publish date in, a title and paragraphs out. The figures
(dates, rates, amounts, hours) vary per notice so that bodies differ the way real boards do,
and the filler paragraphs give the bodies a realistic length.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

# Category ids of rules/taxonomy.yaml; a test checks this list against the loaded taxonomy.
CATEGORIES: tuple[str, ...] = (
    "maint_planned",
    "outage_incident",
    "holiday_settlement",
    "settlement_cycle",
    "fee_change",
    "limit_change",
    "kyc_merchant_info",
    "terminal_qr",
    "settle_account",
    "risk_control",
    "service_termination",
    "regulation_new",
    "scheme_rule_change",
    "enforcement_penalty",
    "irrelevant",
)

# (title, paragraphs) templates; fields are filled by str.format from ``_fields``.
TEMPLATES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "maint_planned": (
        (
            "关于{md}凌晨系统升级暂停部分服务的公告",
            (
                "尊敬的商户：",
                "为提升服务质量，我公司将于{ev}凌晨{h1}:00至{h2}:00进行系统升级。届时扫码支付、"
                "POS刷卡消费及退款交易将暂停受理，请提前做好收款安排。",
                "升级完成后各项业务将自动恢复，无需重新签到。",
            ),
        ),
        (
            "关于{md}核心系统版本升级的通知",
            (
                "各合作商户：",
                "我司定于{ev}{h1}:30至{h2}:30进行核心系统版本升级，期间网上支付可能出现响应"
                "延迟或短暂中断。",
                "请合理安排营业时间，升级结束后如发现交易状态异常，请以对账单为准。",
            ),
        ),
    ),
    "outage_incident": (
        (
            "关于{md}部分交易失败的情况说明",
            (
                "{ev}上午{h1}:05至{h1}:40，因网络运营商线路故障，我司部分商户的扫码支付出现"
                "交易失败。目前已全面恢复，给您带来的不便深表歉意。",
                "对于状态未知的交易，请以对账单为准，重复扣款将原路退回。",
            ),
        ),
    ),
    "holiday_settlement": (
        (
            "关于{y}年春节期间资金结算安排的公告",
            (
                "尊敬的商户：",
                "根据春节放假安排，{ev}至{ev2}期间的交易资金将于节后首个工作日（{ev3}）合并"
                "结算划付，D0实时到账业务正常办理。",
                "请提前做好资金周转安排。",
            ),
        ),
        (
            "关于{y}年国庆节假日资金清算安排的通知",
            (
                "各收单机构、商户：",
                "国庆节假期间（{ev}至{ev2}），T+1商户资金暂停划款，节后统一划付，划款日期为{ev3}。",
                "跨境业务请在节前最后一个工作日15:00前提交。",
            ),
        ),
    ),
    "settlement_cycle": (
        (
            "关于调整商户结算周期的通知",
            (
                "尊敬的商户：",
                "自{ev}起，我司将标准商户的结算周期由T+1调整为D+1，节假日交易资金照常到账。",
                "如需保留原结算方式，请于{ev2}前联系客户经理办理。",
            ),
        ),
    ),
    "fee_change": (
        (
            "关于调整扫码支付手续费率的公告",
            (
                "尊敬的商户：",
                "自{ev}起，扫码支付手续费率由{r1}%调整为{r2}%，借记卡手续费封顶{a1}元。",
                "新费率将在当月对账单中体现，请注意核对。",
            ),
        ),
        (
            "关于延续实施小微商户手续费优惠措施的通知",
            (
                "各商户：",
                "为减轻小微商户经营负担，自{ev}起至{ev2}止，银行卡刷卡手续费继续按现行标准的"
                "九折收取，费率不高于{r1}%。",
                "优惠金额将在对账单中单独列示。",
            ),
        ),
    ),
    "limit_change": (
        (
            "关于调整小额免密免签限额的通知",
            (
                "尊敬的商户：",
                "自{ev}起，银联卡小额免密免签限额由{a1}元提高至{a2}元，单日累计交易笔数不超过"
                "{n1}笔。",
                "超过限额的交易仍需持卡人输入密码或签名确认。",
            ),
        ),
    ),
    "kyc_merchant_info": (
        (
            "关于开展商户信息补录工作的通知",
            (
                "尊敬的商户：",
                "根据实名制管理要求，请于{ev}前登录商户服务平台补充上传营业执照、法人身份证及"
                "门头照，并由法人完成实名认证。",
                "逾期未完成的商户将影响正常收款。",
            ),
        ),
    ),
    "terminal_qr": (
        (
            "关于POS终端固件升级的通知",
            (
                "各位商户：",
                "为落实受理终端管理要求，我司将于{ev}前对存量POS机具进行固件升级，请保持机具"
                "开机联网，不得私自移机。",
                "升级期间如需帮助，请联系驻点服务人员。",
            ),
        ),
    ),
    "settle_account": (
        (
            "关于规范商户结算账户管理的通知",
            (
                "尊敬的商户：",
                "自{ev}起，商户变更结算账户须使用法人同名结算账户，非法人结算需提交经公证的"
                "授权书。",
                "变更申请将在{n1}个工作日内完成审核。",
            ),
        ),
    ),
    "risk_control": (
        (
            "关于清理长期未交易商户的公告",
            (
                "尊敬的商户：",
                "对连续{n1}个月未发生交易的商户，我司将于{ev}起关闭支付权限并暂缓结算。",
                "如需继续使用，请在此前完成一笔真实交易或联系客户经理。",
            ),
        ),
    ),
    "service_termination": (
        (
            "关于终止全部收单业务的公告",
            (
                "尊敬的商户：",
                "因业务调整，我公司将于{ev}起停止所有收单业务，请商户于此前完成资金结算并迁移"
                "至其他收单机构。",
                "未结算资金将在{n1}个工作日内划付至结算账户。",
            ),
        ),
    ),
    "regulation_new": (
        (
            "中国人民银行关于印发《非银行支付机构监督管理条例实施细则》的通知",
            (
                "银发〔{y}〕{n2}号",
                "现将《非银行支付机构监督管理条例实施细则》印发给你们，自{ev}起施行，请遵照执行。",
            ),
        ),
    ),
    "scheme_rule_change": (
        (
            "关于发布银联卡业务差错处理规则修订版的通知",
            (
                "各成员机构：",
                "银联业务管理委员会修订了差错处理规则，自{ev}起生效，调单和拒付的处理时限由"
                "{n1}天调整为{n3}天。",
                "请各收单机构及时更新内部流程。",
            ),
        ),
    ),
    "enforcement_penalty": (
        (
            "行政处罚信息公示表（{y}年第{n1}期）",
            (
                "当事人：某支付科技有限公司（演示）",
                "违法行为类型：违反清算管理规定。行政处罚内容：警告，罚款{a1}万元，没收违法所得"
                "{a2}万元。作出处罚决定日期：{pub}。",
            ),
        ),
    ),
    "irrelevant": (
        (
            "关于举办{y}年度商户营销活动的公告",
            (
                "尊敬的商户：",
                "为回馈广大商户，我司将于{ev}至{ev2}开展营销活动，消费满{a1}元立减{n1}元，"
                "数量有限，先到先得。",
            ),
        ),
        (
            "公司党支部开展主题教育活动",
            ("{pub}，公司党支部组织全体党员开展主题教育活动，参观红色教育基地。",),
        ),
    ),
}

FILLER: tuple[str, ...] = (
    "如有疑问，请拨打客服热线95{n4}或联系您的客户经理。",
    "感谢您一直以来对我司的支持与信任，我们将持续提升服务品质。",
    "详情请登录商户服务平台“公告中心”栏目查看，或关注官方服务号获取最新消息。",
    "商户可通过商户服务平台查询交易明细和对账单，对账文件于每日上午9:00前生成。",
    "请妥善保管商户号、终端号及操作员密码，不要向任何人透露短信验证码。",
    "特此公告。",
)


@dataclass(frozen=True)
class NoticeText:
    category: str
    title: str
    paragraphs: tuple[str, ...]


def zh_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _fields(rng: random.Random, published: dt.date) -> dict[str, str]:
    event = published + dt.timedelta(days=rng.randint(3, 40))
    end = event + dt.timedelta(days=rng.randint(2, 7))
    after = end + dt.timedelta(days=1)
    h1 = rng.randint(0, 3)
    r1 = rng.choice((0.38, 0.45, 0.55, 0.60, 0.30))
    return {
        "y": str(event.year),
        "md": f"{event.month}月{event.day}日",
        "ev": zh_date(event),
        "ev2": zh_date(end),
        "ev3": zh_date(after),
        "pub": zh_date(published),
        "h1": str(h1),
        "h2": str(h1 + rng.randint(2, 4)),
        "r1": f"{r1:.2f}",
        "r2": f"{r1 - 0.08:.2f}",
        "a1": str(rng.choice((10, 20, 25, 50))),
        "a2": str(rng.choice((100, 150, 200, 300))),
        "n1": str(rng.randint(3, 12)),
        "n2": str(rng.randint(10, 300)),
        "n3": str(rng.randint(15, 30)),
        "n4": str(rng.randint(100, 999)),
    }


def make_notice(category: str, rng: random.Random, published: dt.date) -> NoticeText:
    """One notice of ``category`` published on ``published``, with 1-4 filler paragraphs."""
    title, paragraphs = rng.choice(TEMPLATES[category])
    values = _fields(rng, published)
    filler = [*rng.sample(FILLER[:-1], rng.randint(1, 4)), FILLER[-1]]
    return NoticeText(
        category,
        title.format(**values),
        tuple(p.format(**values) for p in (*paragraphs, *filler)),
    )
