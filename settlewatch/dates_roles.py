"""The words around a date and the role they give it: effective, deadline, window, payout,
resume, announced. dates.py reads each mention through these; all patterns run on folded,
normalised text (see dates_patterns.normalise).
"""

from __future__ import annotations

import datetime as dt
import re

from settlewatch.dates_patterns import Mention

# ---- what the words around a date make of it ------------------------------------------------
EFFECTIVE_STRONG_AFTER = re.compile(
    r"\s*(?:起|开始)?\s*(?:正式|全面|统一)?\s*(?:施行|实施|执行|生效|启用|实行|上线)"
)
QI_AFTER = re.compile(r"\s*(?:起|开始)(?!\s*(?:至|到|-))")
PLAN_BEFORE = re.compile(r"(?:将|拟|预|预计|计划|定|决定)\s*于\s*$")
PLAN_AFTER = re.compile(
    r"[^。;\n]{0,20}?(?:调整|实施|执行|生效|上线|启用|停止|终止|取消|下调|上调|"
    r"变更|切换|开通|统一|推出|实行|施行)"
)
AFTERWARDS_AFTER = re.compile(r"\s*(?:之后|以后)")
EN_EFFECTIVE_BEFORE = re.compile(
    r"(?:effective(?:\s+date)?\s*:?|effective\s+(?:from|on|as\s+of)|\bfrom|\bas\s+of|"
    r"\bstarting(?:\s+on)?|\bbeginning(?:\s+on)?|on\s+or\s+after|commencing(?:\s+on)?|"
    r"(?:discontinued|retired|shut\s+down|closed|terminated|withdrawn)\s+(?:on|from)|"
    r"takes?\s+effect\s+on|(?:come|comes)\s+into\s+(?:force|effect)\s+on|go(?:es)?\s+live\s+on)"
    r"\s*,?\s*$",
    re.I,
)
EN_EFFECTIVE_AFTER = re.compile(
    r"\W{0,3}(?:marks\s+the\s+start|takes?\s+effect|comes?\s+into\s+(?:force|effect)|"
    r"enters?\s+into\s+force|goes?\s+live|onwards)",
    re.I,
)
INFERRED_EFFECTIVE = re.compile(
    r"即日起|自今日起|今日起|自(?:发布|公布|印发|下发)之日起|现予(?:发布|公布|印发)(?:实施|施行)|"
    r"(?:effective|in\s+force|takes?\s+effect|starts?)\s+(?:immediately|today)|"
    r"with\s+immediate\s+effect",
    re.I,
)
DEADLINE_AFTER = re.compile(r"\s*(?:前|之前|以前)(?!\s*结束)")
DEADLINE_BEFORE = re.compile(
    r"(?:截止(?:日期|时间)?\s*(?:为|至|到|是)?|不晚于|最迟(?:于|在)?|务必(?:于|在)|请(?:于|在)|"
    r"须于|需于|应于|必须于|\bby|\bbefore|no\s+later\s+than|not\s+later\s+than|"
    r"deadline\s*(?:is|of)?)\s*:?\s*$",
    re.I,
)
EXPIRES_BEFORE = re.compile(
    r"(?:有效期(?:至|截至|到)|优惠期(?:至|到)|(?:valid|available)\s+(?:until|through)|"
    r"expires?\s+on|\buntil)\s*$",
    re.I,
)
EXPIRES_AFTER = re.compile(r"\s*(?:到期|止|为止)")
VALIDITY_BEFORE = re.compile(r"(?:自|从|有效期(?:为)?|优惠期(?:为)?|期限(?:为)?)\s*:?\s*$")
# 恢复 alone is "resumes" only where a clause ends or a service follows: "起恢复按0.1%收取"
# resumes a fee, not settlement.
RESUME_AFTER = re.compile(
    r"\s*\)?\s*(?:起|开始)?\s*(?:正式运行|恢复(?=正常|运行|服务|交易|结算|划款|划付|营业|办理|受理|使用|"
    r"[,。;\n)]|$)|正常(?:运行|结算|划款|受理|服务)"
    r"|(?:统一|合并|集中)(?:进行)?(?:划付|划款|结算|清算|入账|到账|出款))"
)
RESUME_BEFORE = re.compile(
    r"(?:恢复(?:正常)?(?:时间)?\s*(?:为|于)?|resumes?\s+(?:on|at)?|"
    r"节后(?:首个|第一个)(?:工作日|结算日)\s*\(?\s*(?:即|为)?|"
    r"(?:first|next)\s+(?:business|working)\s+day\s*\(?\s*,?\s*(?:on\s+)?|"
    r"\b(?:be\s+)?(?:credited|paid\s+out|sent|settled)\s+on)\s*$",
    re.I,
)
# The day something was announced or published: what news reports and penalty notices date.
ANNOUNCED_AFTER = re.compile(
    r"\s*,?\s*[^。;\n,]{0,16}?(?:发布|公布|宣布|通报|披露|印发|下发|公示)(?!之日)"
)
ANNOUNCED_BEFORE = re.compile(
    r"(?:(?:announced|published|issued|disclosed)\s+(?:on\s+)?|"
    r"(?:决定|发布|公告|公示|印发|处罚)(?:日期|时间)\s*(?:为)?\s*:?\s*|"
    r"(?:decision|announcement|publication)\s+date\s*:?\s*)$",
    re.I,
)
ANNOUNCED_AFTER_EN = re.compile(
    r"\s*,\s*[^.;\n]{0,30}?\b(?:announced|published|issued|disclosed)\b", re.I
)
INCIDENT_AFTER = re.compile(
    r"[^。;\n]{0,20}?(?:故障|异常|中断|宕机|瘫痪|失败)|"
    r"[^.;\n]{0,30}?\b(?:outage|incident|disruption|problem|failure|errors?)\b",
    re.I,
)
MAINT_AFTER = re.compile(
    r"[^。;\n]{0,12}?(?:升级|维护|停机|演练|切换|割接|停运|改造|"
    r"maintenance|upgrade)",
    re.I,
)
MAINT_WORDS = re.compile(r"升级|维护|停运|停机|演练|割接|暂停|maintenance|downtime|upgrade", re.I)
SETTLE_VERB = re.compile(r"结算|划付|划款|清算|到账|入账|出款|settle|paid|credited|payout", re.I)
TRADE = re.compile(
    r"交易|transactions?|(?:card |online )?payments? (?:taken|made|received)|sales", re.I
)
SUSPEND_AFTER = re.compile(
    r"\s*\)?\s*(?:期间)?\s*(?:暂停|停止|不(?:进行)?)\s*(?:资金)?(?:划款|结算|清算|划付|出款)"
)
HOLIDAY_BEFORE = re.compile(
    r"(?:(?:放假|休假|假期)(?:时间|安排)?\s*(?:为|是)?\s*:?|"
    r"\b(?:will\s+be\s+|are\s+|is\s+)?closed\s+(?:from|on|between))\s*$",
    re.I,
)
HOLIDAY_AFTER = re.compile(r"\s*(?:放假|休假|为[^。;\n]{0,14}(?:节假日|假期|放假))")
NEXT_WORKDAY = re.compile(r"节后(?:首个|第一个)工作日|next\s+(?:business|working)\s+day", re.I)
NEXT_DAY = re.compile(r"次日|第二天|the\s+next\s+day", re.I)
LIST_CONTINUES = re.compile(r"\s*(?:\([^()]{0,60}\))?\s*[;,、]\s*(?:and\s+)?$")


def effect_rank(before: str, after: str) -> int | None:
    """How surely the words around a date make it the effective date (0 surest), or None."""
    if (
        EFFECTIVE_STRONG_AFTER.match(after)
        or EN_EFFECTIVE_BEFORE.search(before)
        or EN_EFFECTIVE_AFTER.match(after)
    ):
        return 0
    if QI_AFTER.match(after):
        return 1
    if PLAN_BEFORE.search(before) and PLAN_AFTER.match(after):
        return 2
    return 3 if AFTERWARDS_AFTER.match(after) else None


def paid_on(text: str, trade_end: int, nxt: Mention, sentence_end: int) -> bool:
    """After "X至Y的交易", does a settlement verb tie the next date to a payout ("于Z统一结算")?"""
    if nxt.pos - trade_end > 48:
        return False
    return bool(
        SETTLE_VERB.search(text, trade_end, nxt.pos)
        or SETTLE_VERB.search(text, nxt.endpos, min(sentence_end, nxt.endpos + 10))
    )


def announced(before: str, after: str) -> bool:
    """Does the date say when something was announced ("4月18日,某公司发布…")?"""
    return bool(
        ANNOUNCED_AFTER.match(after)
        or ANNOUNCED_BEFORE.search(before)
        or ANNOUNCED_AFTER_EN.match(after)
    )


def holiday_days(before: str, after: str) -> bool:
    """Is a date range the holiday itself ("放假时间为:1月1日-1月3日", "…为春节法定节假日")?"""
    return bool(HOLIDAY_BEFORE.search(before) or HOLIDAY_AFTER.match(after))


def next_workday(day: dt.date) -> dt.date:
    """The next Monday-to-Friday day: no holiday calendar, so callers mark the result inferred."""
    day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day
