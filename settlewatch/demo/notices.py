"""What the demo notice boards say in week 1 and week 2: the notices themselves, as data.

All text is written for the demo (the issuers are labelled 演示). Every date is computed from
the reference date ``today``, so the demo reads like this week's news on whatever day it runs:
recent notices fall within the last 30 days, history notices are months old, and the week-2
maintenance window lies a few days ahead.

Week 2 differs from week 1 in exactly three notices (see ``week2_changes``); everything else
changes only in page noise, which ``pages`` adds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from settlewatch.demo.dates import DAY, first_of_month_after, md, next_holiday, weekday, ymd

SOURCE_IDS: tuple[str, ...] = ("demo_pbc", "demo_ums", "demo_unionpay", "demo_lakala")


@dataclass(frozen=True)
class DemoNotice:
    source_id: str
    slug: str  # stable across weeks, so an edited notice keeps its URL
    title: str
    published: dt.date
    paragraphs: tuple[str, ...]
    table: tuple[tuple[str, ...], ...] = ()  # first row is the header
    signature: str = ""


@dataclass(frozen=True)
class Week2Changes:
    """The meaningful differences between week 1 and week 2, for checking the demo's summary."""

    new_maintenance: str
    maintenance_day: dt.date
    edited_holiday: str
    payout_before: dt.date
    payout_after: dt.date
    new_fee: str
    fee_effective: dt.date
    failing_source: str = "demo_lakala"


def _slug(prefix: str, published: dt.date, n: int) -> str:
    return f"{prefix}{published:%Y%m%d}_{n}"


# ---------------------------------------------------------------- demo_pbc (regulator)


def _pbc(today: dt.date, week: int) -> tuple[DemoNotice, ...]:
    sign = "人民银行支付结算司（演示）"
    fee_pub = today - 10 * DAY
    fee_from = first_of_month_after(today)
    reg_pub = today - 21 * DAY
    reg_from = first_of_month_after(today + 80 * DAY)
    plan_pub = today - 150 * DAY
    term_pub = today - 260 * DAY
    return (
        DemoNotice(
            "demo_pbc",
            _slug("", fee_pub, 5101),
            "关于延续实施小微商户支付手续费降费措施的通知",
            fee_pub,
            (
                "各收单机构、清算机构：",
                "为继续减轻小微企业和个体工商户经营负担，经研究，决定延续实施支付手续费"
                "降费措施。现将有关事项通知如下：",
                f"一、自{ymd(fee_from)}起至{ymd(fee_from.replace(year=fee_from.year + 1))}"
                "止，各收单机构对小微企业和个体工商户的银行卡刷卡手续费、条码支付服务费"
                "继续按现行标准的九折收取。",
                "二、各收单机构应在商户对账单中单独列示优惠金额，不得以其他名目变相收费。",
                "三、优惠措施到期前，各机构应提前30日向商户告知后续收费安排。",
            ),
            signature=sign,
        ),
        DemoNotice(
            "demo_pbc",
            _slug("", reg_pub, 5087),
            "关于印发《特约商户收单业务管理规定（演示稿）》的通知",
            reg_pub,
            (
                "各收单机构：",
                f"现将《特约商户收单业务管理规定（演示稿）》（银发〔{reg_pub.year}〕"
                "218号）印发给你们，请遵照执行。",
                "规定要求收单机构落实“一机一码”管理，特约商户收款终端和收款码应绑定"
                "登记的经营地址；商户结算账户原则上应为本人或法定代表人同名账户。",
                f"本规定自{ymd(reg_from)}起施行。",
            ),
            signature=sign,
        ),
        DemoNotice(
            "demo_pbc",
            _slug("", plan_pub, 4920),
            f"关于{plan_pub.year}年下半年支付清算系统运行维护安排的通知",
            plan_pub,
            (
                "各直接参与者：",
                "为保障支付清算系统安全稳定运行，清算总中心将在下半年每月最后一个周日"
                "凌晨0:00至6:00进行例行维护，维护期间大额支付系统、小额支付系统暂停"
                "业务受理。",
                "请各参与者提前做好业务安排，并向客户做好解释工作。",
            ),
            signature=sign,
        ),
        DemoNotice(
            "demo_pbc",
            _slug("", term_pub, 4711),
            "关于加强银行卡受理终端安全管理的通知",
            term_pub,
            (
                "各收单机构：",
                "近期部分地区发生受理终端被违规移机、套用商户类别码等问题。各收单机构"
                "应加强终端巡检，发现终端位置与登记地址不符的，应暂停该终端交易并核实。",
            ),
            signature=sign,
        ),
    )


# ---------------------------------------------------------------- demo_ums (acquirer, GBK)


def _holiday_notice(today: dt.date, week: int) -> DemoNotice:
    h = next_holiday(today)
    published = today - 6 * DAY
    # the week-2 edit: the merged payout moves one day later, nothing else changes
    payout = h.last + (1 if week == 1 else 2) * DAY
    return DemoNotice(
        "demo_ums",
        _slug("t", published, 8841),
        f"关于{h.year}年{h.name}期间商户资金结算安排的公告",
        published,
        (
            "尊敬的商户：",
            f"根据{h.year}年部分节假日安排及支付清算系统运行安排，{ymd(h.first)}至"
            f"{ymd(h.last)}为{h.name}假期。现将我司收单商户节假日期间资金结算安排公告如下：",
            f"一、{md(h.first)}至{md(h.last)}期间的交易资金，将于{md(payout)}合并划付至"
            "商户结算账户。",
            "二、已开通D0实时到账服务的商户，假期内提现仍实时到账，单日提现额度以商户服务"
            "平台显示为准。",
            f"三、{md(h.first - DAY)}的交易资金顺延至节后合并划付；节后恢复正常T+1结算。",
            "四、节后首个结算日资金量较大，到账时间可能较平日延迟，请提前做好资金周转安排。",
            "具体划付日期如下表：",
        ),
        table=(
            ("交易日期", "资金划付日期"),
            (md(h.first - DAY), md(payout)),
            (f"{md(h.first)}至{md(h.last)}", md(payout)),
            (md(h.last + DAY), md(h.last + 2 * DAY)),
        ),
        signature="银联商务股份有限公司（演示）",
    )


def _maintenance_notice(today: dt.date) -> DemoNotice:
    day = today + 4 * DAY
    return DemoNotice(
        "demo_ums",
        _slug("t", today, 8876),
        f"关于{md(day)}系统升级暂停D0实时到账服务的公告",
        today,
        (
            "尊敬的商户：",
            f"为进一步提升服务质量，我司将于{ymd(day)}（{weekday(day)}）凌晨2:00至6:00对资金"
            "结算系统进行升级。升级期间暂停D0实时到账（秒到）服务，商户发起的提现申请将在"
            "升级完成后依次处理，预计当日6:30前到账。",
            "升级期间银行卡、扫码收款交易不受影响，T+1结算资金按原计划划付。",
            "如升级提前完成，服务将提前恢复，不再另行通知。由此给您带来的不便，敬请谅解。",
        ),
        signature="银联商务股份有限公司（演示）",
    )


def _ums(today: dt.date, week: int) -> tuple[DemoNotice, ...]:
    kyc_pub = today - 14 * DAY
    d0_pub = today - 130 * DAY
    sign = "银联商务股份有限公司（演示）"
    older = (
        _holiday_notice(today, week),
        DemoNotice(
            "demo_ums",
            _slug("t", kyc_pub, 8790),
            "关于提醒商户更新法定代表人身份证件有效期信息的公告",
            kyc_pub,
            (
                "尊敬的商户：",
                "根据反洗钱相关规定，收单机构应确保商户身份信息真实、有效。",
                "请法定代表人身份证件已过期或将于90天内到期的商户，于"
                f"{ymd(today + 30 * DAY)}前通过商户服务平台“资料变更”栏目上传有效"
                "身份证件正反面照片。",
                "逾期未更新的，我司将依规暂停该商户的资金结算，直至资料更新完成。",
            ),
            signature=sign,
        ),
        DemoNotice(
            "demo_ums",
            _slug("t", d0_pub, 8402),
            "关于优化D0实时到账服务起结金额的公告",
            d0_pub,
            (
                "尊敬的商户：",
                f"自{ymd(d0_pub + 15 * DAY)}起，D0实时到账服务单笔起结金额由100元"
                "调整为10元，手续费标准不变。",
            ),
            signature=sign,
        ),
    )
    return (_maintenance_notice(today), *older) if week == 2 else older


# ---------------------------------------------------------------- demo_unionpay (scheme, RSS)


def _fee_notice(today: dt.date) -> DemoNotice:
    start = first_of_month_after(today + 20 * DAY)
    return DemoNotice(
        "demo_unionpay",
        _slug("n", today, 3307),
        "关于调整银联二维码支付收款手续费费率的公告",
        today,
        (
            "各成员机构、特约商户：",
            "为促进二维码支付业务持续健康发展，经研究，我公司决定调整银联二维码支付收款"
            "手续费费率，现将有关事项公告如下：",
            "一、单笔金额1000元以上的银联二维码支付交易，商户手续费费率由0.38%调整为0.45%。",
            "二、单笔金额1000元（含）以下的交易，费率保持0.38%不变。",
            f"三、本公告自{ymd(start)}起执行。",
        ),
        signature="中国银联（演示）",
    )


def _unionpay(today: dt.date, week: int) -> tuple[DemoNotice, ...]:
    promo_pub = today - 3 * DAY
    rule_pub = today - 17 * DAY
    spec_pub = today - 210 * DAY
    sign = "中国银联（演示）"
    older = (
        DemoNotice(
            "demo_unionpay",
            _slug("n", promo_pub, 3298),
            "云闪付“岁末惠民季”商户满减活动规则",
            promo_pub,
            (
                f"活动时间：{ymd(promo_pub)}至{ymd(promo_pub + 30 * DAY)}。",
                "活动期间，用户在参与活动的商户使用云闪付APP扫码支付，单笔满50元立减"
                "10元，每位用户每日限享1次，名额有限，先到先得。",
            ),
            signature=sign,
        ),
        DemoNotice(
            "demo_unionpay",
            _slug("n", rule_pub, 3275),
            "关于修订《银联卡收单业务差错争议处理规则》部分条款的通知",
            rule_pub,
            (
                "各成员机构：",
                "为提升争议处理效率，我公司对《银联卡收单业务差错争议处理规则》部分"
                "条款进行了修订：调单回复时限由10个工作日缩短为7个工作日；拒付举证材料"
                "须包含交易凭证和商品或服务交付证明。",
                f"修订后的规则自{ymd(first_of_month_after(today + 45 * DAY))}起施行。",
            ),
            signature=sign,
        ),
        DemoNotice(
            "demo_unionpay",
            _slug("n", spec_pub, 3110),
            "关于银联二维码受理终端技术规范升级的通知",
            spec_pub,
            (
                "各成员机构：",
                "银联二维码受理终端技术规范已升级至3.2版，新入网终端应符合新版规范，"
                "存量终端应在一年内完成升级。",
            ),
            signature=sign,
        ),
    )
    return (_fee_notice(today), *older) if week == 2 else older


# ---------------------------------------------------------------- demo_lakala (acquirer)


def _lakala(today: dt.date, week: int) -> tuple[DemoNotice, ...]:
    maint_pub = today - 2 * DAY
    maint_day = today + 9 * DAY
    clean_pub = today - 24 * DAY
    app_pub = today - 150 * DAY
    sign = "拉卡拉支付股份有限公司（演示）"
    return (
        DemoNotice(
            "demo_lakala",
            _slug("", maint_pub, 702),
            f"关于{md(maint_day)}收单系统维护的公告",
            maint_pub,
            (
                "尊敬的商户：",
                f"我司将于{ymd(maint_day)}（{weekday(maint_day)}）凌晨0:00至4:00对收单"
                "系统进行例行维护。维护期间POS刷卡、扫码收款及交易查询将短暂中断，"
                "请合理安排经营，避免在此期间进行大额收款和退货操作。",
            ),
            signature=sign,
        ),
        DemoNotice(
            "demo_lakala",
            _slug("", clean_pub, 688),
            "关于清理长期未使用收款终端的公告",
            clean_pub,
            (
                "尊敬的商户：",
                "根据监管要求，连续180天无交易的收款终端将于"
                f"{ymd(today + 20 * DAY)}起停用。如需继续使用，请在此之前完成至少一笔"
                "真实交易或联系客户经理。",
            ),
            signature=sign,
        ),
        DemoNotice(
            "demo_lakala",
            _slug("", app_pub, 601),
            "关于收款宝APP全新版本上线的通知",
            app_pub,
            (
                "尊敬的商户：",
                "收款宝APP全新版本已上线，新增经营数据看板和电子发票功能，欢迎下载体验。",
            ),
            signature=sign,
        ),
    )


_BUILDERS = {"demo_pbc": _pbc, "demo_ums": _ums, "demo_unionpay": _unionpay, "demo_lakala": _lakala}


def notices(source_id: str, week: int, today: dt.date) -> tuple[DemoNotice, ...]:
    """The notices one demo board lists in ``week``, newest first."""
    return _BUILDERS[source_id](today, week)


def week2_changes(today: dt.date) -> Week2Changes:
    h = next_holiday(today)
    return Week2Changes(
        new_maintenance=_maintenance_notice(today).title,
        maintenance_day=today + 4 * DAY,
        edited_holiday=_holiday_notice(today, 2).title,
        payout_before=h.last + DAY,
        payout_after=h.last + 2 * DAY,
        new_fee=_fee_notice(today).title,
        fee_effective=first_of_month_after(today + 20 * DAY),
    )
