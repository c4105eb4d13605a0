"""Text folding, the regexes that find date and time mentions, and the small predicates that
give a mention its role (effective, deadline, payout…). dates.py puts them together.

``fold`` is shared with classify.py. It maps one character to one character (full-width
forms, dash variants, Traditional to Simplified), so offsets found in folded text are offsets
in the original text too: evidence spans stay exact.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from settlewatch.pubdate import cn_numerals_to_digits

# Traditional → Simplified, one character each: OpenCC's TSCharacters (Apache-2.0) restricted
# to pairs whose Simplified side is a GB2312 level-1 character and whose Traditional side is a
# Big5 level-1 character, plus a few variants seen on mirror pages (爲 滙 凈 淩 裏 峯 纔).
# Character-level only: good enough to match keywords, never shown to a user.
_T2S_FROM = (
    "丟並乾亂亞佈佔併來侖侶侷係俠倆倉個們倖倫偉側偵偽傑傘備傢傭傳債傷傾僅僑僕僥僱價儀億儈儉儘償優儲兇兌兒內兩冊冪凈凍凜凱別刪則剋剎剛剝創剷劃劇劉劊劍劑勁動務勛勝勞勢勳勵勸勻匯區協卹卻厭厲參叢吳吶呂員唸問啞啟喚喪喫喬單喲嗆嗎嗚嘆嘔嘗嘩嘯噓噴噸噹嚇嚐嚥嚨嚮嚴囂囌囑囪國圍園圓圖團執堅堯報場塊塗塢塵塹墊墜墮墳墾壇壓壘壞壟壩壯壺壽夠"
    "夢夥夾奧奪奮妝姦娛婁婦媽嬌嬰嬸孃孫學孿宮寢實寧審寫寬寵寶將專尋對導屆屍屜屢層屬岡峯島峽崑崗崙嶄嶺嶼嶽巒巖帥師帳帶幀幟幣幫幹幾庫廁廂廄廈廚廟廠廢廣廬廳弔張強彆彈彌彎彙彥彫彿後徑從復徵徹恆恥悅悶悽惡惱愛慄態慘慚慣慫慮慶慼慾憂憊憐憑憚憤憫憲憶懇應懲懶懷懸懼懾戀戰戲戶拋拚挾捨捱捲掃掄掙掛採揀揚換揮損搖搗搶摟摯摺摻撈撐撓撥撫撲撻"
    "撾撿擁擄擇擊擋擔據擠擬擰擱擲擴擺擻擾攆攏攔攙攜攝攣攤攪攬敗敘敵數斂斃斬斷於昇時晉晝暈暢暫曆曉曠曬書會朮東枴柵桿條棄棗棟棧棲楊楓業極榦榮構槍槓槳樁樂樑樓標樞樣樸樹橋機橢橫檔檢檯檸檻櫃櫥櫻欄權欽歎歐歡歲歷歸殘殲殺殼毀毆氈氣氫氾汎汙決沒沖況洩洶涼淒淚淨淩淪淵淺渙減渦測渾湊湧湯準溝溫溼滄滅滌滙滬滯滲滷滾滿漁漢漣漬漲漸漿潑潔潛潤"
    "潰澀澆澗澤澱濁濃濕濘濛濟濤濫濰濱濺濾瀉瀋瀕瀝瀰瀾灑灘灣灤災為烏無煉煙煥煩熒熱熾燈燒燙營燦燬燭燴燻燼爍爐爛爭爲爺爾牆牴牽犢犧狀狹狽猙猶獄獅獎獨獰獲獵獸獺獻現琺瑣瑤瑩瑪環瓊甕產畝畢畫異當疇疊痙痠瘋瘍瘓瘡瘧療癒癟癡癢癥癬癱發皚皺盃盜盞盡監盤盧盪眾睏睜瞞矇矚矯硃硯碩確碼磚礎礙礦礫礬祕祿禍禦禮禱禿稅稈稜種稱穀積穎穢穩穫窩窪窮窯窺"
    "竄竅竊競筆筍箇箋節範築篩簍簑簡簽簾籃籌籠籤籬籮籲粵糞糧糰糾紀約紅紉紋納紐純紗紙級紛紡紮細紳紹終絃組絆結絕絛絞絡絢給絨統絲絹綁綏綑經綜綠綢維綱網綴綵綸綻綽綿緊緒緘線緝緞締緣編緩緬緯練緻縛縣縫縮縱縴縷總績繃織繕繞繡繩繪繫繭繳繹繼續纏纓纔纖纜缽罈罰罵罷羅羨義習翹聖聞聯聰聲聳聶職聽聾肅脅脈脣脩脫脹腎腦腫腳腸膚膠膩膽膿臉臍臘臟臥"
    "臨臺與興舉舊艙艦艱艷茲荊莊莖莢華菸萊萬葉葦葷蒐蒼蓆蓋蓮蔔蔣蔥蔭蕩蕪蕭薊薑薔薦薩薹藍藝藥藹蘆蘇蘊蘋蘭蘿處虛虜號虧蛻蝕蝦蝨蝸螞螢蟬蟲蟻蠅蠍蠟蠱蠶蠻術衛衝裏補裝裡製複褲襖襪襬襯襲見規覓視親覺覽觀觸訂訃計訊討訓訖託記訛訝訟訣訪設許訴診註証詐評詛詞詠詢詣試詩詫詭話該詳誅誇誌認誕誘語誠誡誣誤誦誨說誰課誹誼調諄談請諒論諜諧諮諱諷諸諺"
    "諾謀謂謄謊謎謗謙講謝謠謬謹譁證譏識譚譜譟譯議譴護譽讀變讒讓讚谿豈豎豐豔豬貍貓貝貞負財貢貧貨販貪貫責貯貳貴貶買貸費貼貿賀賂賃賄資賈賊賒賓賜賞賠賢賣賤賦質賬賭賴賺購賽贅贈贊贍贏贓贖贛趕趙趨跡踐踴蹟蹤躊躍軀車軋軌軍軒軟軸較載輓輔輕輛輝輥輩輪輯輸輻輾輿轄轅轉轍轎轟辦辭辮辯農迴逕這連週進遊運過達違遙遜遞遠適遲遷選遺遼邁還邊邏郵鄉"
    "鄒鄧鄭鄰醜醞醣醫醬釀釁釋釐釘針釣釦釩鈉鈍鈔鈕鈞鈣鈴鈾鉀鉅鉑鉗鉚鉛鉤鉸鉻銀銅銑銘銜銳銷銻鋁鋅鋇鋒鋤鋪鋸鋼錄錐錘錠錢錦錨錫錯錳錶鍊鍋鍍鍛鍬鍵鍾鎂鎊鎖鎚鎢鎬鎮鎳鏈鏟鏡鏽鐘鐮鐳鐵鑄鑑鑒鑰鑲鑷鑼鑽鑿長門閃閉開閏閑閒間閘閡閣閤閥閨閩閱閻闆闊闌闖關闡闢陝陞陣陰陳陸陽隊階隕際隨險隱隴隸隻雖雙雛雜雞離難雲電霑霧靈靜鞏鞦韆韋韌韓韻響頁頂頃"
    "項順須頌預頑頒頓頗領頤頭頰頸頹頻顆題額顏願顛類顧顫顯顱風颱颳飄飛飢飯飲飼飽飾餃餅養餌餒餓餘餞餡館餵餾饅饑饒饞馬馭馮馱馳馴駁駐駒駕駛駝駭駱駿騁騎騙騰騷騾驅驕驗驚驟驢骯髒體髮鬆鬍鬚鬥鬧鬨鬱魚魯鮑鮮鯉鯨鰓鱉鱗鳥鳳鳴鴉鴕鴛鴦鴨鴻鴿鵑鵝鵬鵲鶴鷗鷹鹵鹹鹼鹽麗麥麴麵麼黃點黨黴鼕齊齋齒齡齣齧齲龍龐龔龜"
)
_T2S_TO = (
    "丢并干乱亚布占并来仑侣局系侠俩仓个们幸伦伟侧侦伪杰伞备家佣传债伤倾仅侨仆侥雇价仪亿侩俭尽偿优储凶兑儿内两册幂净冻凛凯别删则克刹刚剥创铲划剧刘刽剑剂劲动务勋胜劳势勋励劝匀汇区协恤却厌厉参丛吴呐吕员念问哑启唤丧吃乔单哟呛吗呜叹呕尝哗啸嘘喷吨当吓尝咽咙向严嚣苏嘱囱国围园圆图团执坚尧报场块涂坞尘堑垫坠堕坟垦坛压垒坏垄坝壮壶寿够"
    "梦伙夹奥夺奋妆奸娱娄妇妈娇婴婶娘孙学孪宫寝实宁审写宽宠宝将专寻对导届尸屉屡层属冈峰岛峡昆岗仑崭岭屿岳峦岩帅师帐带帧帜币帮干几库厕厢厩厦厨庙厂废广庐厅吊张强别弹弥弯汇彦雕佛后径从复征彻恒耻悦闷凄恶恼爱栗态惨惭惯怂虑庆戚欲忧惫怜凭惮愤悯宪忆恳应惩懒怀悬惧慑恋战戏户抛拼挟舍挨卷扫抡挣挂采拣扬换挥损摇捣抢搂挚折掺捞撑挠拨抚扑挞"
    "挝捡拥掳择击挡担据挤拟拧搁掷扩摆擞扰撵拢拦搀携摄挛摊搅揽败叙敌数敛毙斩断于升时晋昼晕畅暂历晓旷晒书会术东拐栅杆条弃枣栋栈栖杨枫业极干荣构枪杠桨桩乐梁楼标枢样朴树桥机椭横档检台柠槛柜橱樱栏权钦叹欧欢岁历归残歼杀壳毁殴毡气氢泛泛污决没冲况泄汹凉凄泪净凌沦渊浅涣减涡测浑凑涌汤准沟温湿沧灭涤汇沪滞渗卤滚满渔汉涟渍涨渐浆泼洁潜润"
    "溃涩浇涧泽淀浊浓湿泞蒙济涛滥潍滨溅滤泻沈濒沥弥澜洒滩湾滦灾为乌无炼烟焕烦荧热炽灯烧烫营灿毁烛烩熏烬烁炉烂争为爷尔墙抵牵犊牺状狭狈狰犹狱狮奖独狞获猎兽獭献现珐琐瑶莹玛环琼瓮产亩毕画异当畴叠痉酸疯疡痪疮疟疗愈瘪痴痒症癣瘫发皑皱杯盗盏尽监盘卢荡众困睁瞒蒙瞩矫朱砚硕确码砖础碍矿砾矾秘禄祸御礼祷秃税秆棱种称谷积颖秽稳获窝洼穷窑窥"
    "窜窍窃竞笔笋个笺节范筑筛篓蓑简签帘篮筹笼签篱箩吁粤粪粮团纠纪约红纫纹纳纽纯纱纸级纷纺扎细绅绍终弦组绊结绝绦绞络绚给绒统丝绢绑绥捆经综绿绸维纲网缀彩纶绽绰绵紧绪缄线缉缎缔缘编缓缅纬练致缚县缝缩纵纤缕总绩绷织缮绕绣绳绘系茧缴绎继续缠缨才纤缆钵坛罚骂罢罗羡义习翘圣闻联聪声耸聂职听聋肃胁脉唇修脱胀肾脑肿脚肠肤胶腻胆脓脸脐腊脏卧"
    "临台与兴举旧舱舰艰艳兹荆庄茎荚华烟莱万叶苇荤搜苍席盖莲卜蒋葱荫荡芜萧蓟姜蔷荐萨苔蓝艺药蔼芦苏蕴苹兰萝处虚虏号亏蜕蚀虾虱蜗蚂萤蝉虫蚁蝇蝎蜡蛊蚕蛮术卫冲里补装里制复裤袄袜摆衬袭见规觅视亲觉览观触订讣计讯讨训讫托记讹讶讼诀访设许诉诊注证诈评诅词咏询诣试诗诧诡话该详诛夸志认诞诱语诚诫诬误诵诲说谁课诽谊调谆谈请谅论谍谐咨讳讽诸谚"
    "诺谋谓誊谎谜谤谦讲谢谣谬谨哗证讥识谭谱噪译议谴护誉读变谗让赞溪岂竖丰艳猪狸猫贝贞负财贡贫货贩贪贯责贮贰贵贬买贷费贴贸贺赂赁贿资贾贼赊宾赐赏赔贤卖贱赋质账赌赖赚购赛赘赠赞赡赢赃赎赣赶赵趋迹践踊迹踪踌跃躯车轧轨军轩软轴较载挽辅轻辆辉辊辈轮辑输辐辗舆辖辕转辙轿轰办辞辫辩农回径这连周进游运过达违遥逊递远适迟迁选遗辽迈还边逻邮乡"
    "邹邓郑邻丑酝糖医酱酿衅释厘钉针钓扣钒钠钝钞钮钧钙铃铀钾巨铂钳铆铅钩铰铬银铜铣铭衔锐销锑铝锌钡锋锄铺锯钢录锥锤锭钱锦锚锡错锰表炼锅镀锻锹键钟镁镑锁锤钨镐镇镍链铲镜锈钟镰镭铁铸鉴鉴钥镶镊锣钻凿长门闪闭开闰闲闲间闸阂阁合阀闺闽阅阎板阔阑闯关阐辟陕升阵阴陈陆阳队阶陨际随险隐陇隶只虽双雏杂鸡离难云电沾雾灵静巩秋千韦韧韩韵响页顶顷"
    "项顺须颂预顽颁顿颇领颐头颊颈颓频颗题额颜愿颠类顾颤显颅风台刮飘飞饥饭饮饲饱饰饺饼养饵馁饿余饯馅馆喂馏馒饥饶馋马驭冯驮驰驯驳驻驹驾驶驼骇骆骏骋骑骗腾骚骡驱骄验惊骤驴肮脏体发松胡须斗闹哄郁鱼鲁鲍鲜鲤鲸鳃鳖鳞鸟凤鸣鸦鸵鸳鸯鸭鸿鸽鹃鹅鹏鹊鹤鸥鹰卤咸碱盐丽麦曲面么黄点党霉冬齐斋齿龄出啮龋龙庞龚龟"
)


def _build_fold() -> dict[int, str]:
    table = {ord(t): s for t, s in zip("".join(_T2S_FROM), "".join(_T2S_TO), strict=True)}
    for cp in range(0xFF01, 0xFF5F):  # full-width ASCII: ０-９ ： （ ） ～ …
        table[cp] = chr(cp - 0xFEE0)
    for ch in "\u3000\u00a0\u2002\u2003\u2009":
        table[ord(ch)] = " "
    for ch in "—–―‐‑‒−─━﹣":
        table[ord(ch)] = "-"
    table[ord("〜")] = "~"
    return table


FOLD = _build_fold()


def fold(text: str) -> str:
    """Full-width → ASCII, dashes → '-', Traditional → Simplified; length is preserved."""
    return text.translate(FOLD)


# ---- date and time atoms -------------------------------------------------------------------
_MONTH_NAMES: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
)
_MONTH_NAMES += ("September", "October", "November", "December")
MONTHS = {name: i for i, name in enumerate(_MONTH_NAMES, start=1)}
MONTHS.update({name[:3]: i for name, i in list(MONTHS.items())})
MONTHS["Sept"] = 9
_MON = "|".join(sorted(MONTHS, key=len, reverse=True))

AFTERNOON = frozenset({"下午", "傍晚", "晚上", "晚间", "夜间", "夜里", "晚"})
_AP = "凌晨|早上|早晨|清晨|上午|中午|午间|下午|傍晚|晚上|晚间|夜间|夜里|晚"
# Relative days count from the publish date, never from the clock.
RELATIVE_DAYS = dict.fromkeys(("今天", "今日", "今晨", "today"), 0)
RELATIVE_DAYS |= dict.fromkeys(("昨天", "昨日", "昨晚", "yesterday"), -1)
RELATIVE_DAYS |= {"前天": -2, "明天": 1, "明日": 1}


def _time(p: str) -> str:
    """A time of day; group names carry the prefix ``p`` (a date's time or a lone time)."""
    return (
        rf"(?:北京时间\s*)?(?:(?P<{p}ap>{_AP})\s*)?(?<![\d.])(?:"
        rf"(?P<{p}h>\d{{1,2}})\s*(?::\s*(?P<{p}m>\d{{2}})|[时点](?:\s*(?P<{p}m2>\d{{1,2}})\s*分"
        rf"|(?P<{p}half>半))?)(?:\s*(?P<{p}pm>[ap]\.?m\b\.?))?"
        rf"|(?P<{p}h2>\d{{1,2}})\s*(?P<{p}pm2>[ap]\.?m\b\.?))"
    )


_DATE = (
    r"(?:(?<![\d.])(?:(?P<y1>\d{4})\s*年\s*)?(?P<m1>\d{1,2})\s*月\s*(?P<d1>\d{1,2})\s*[日号]"
    r"|(?<![\d.])(?P<y2>(?:19|20)\d{2})[-/.](?P<m2>\d{1,2})[-/.](?P<d2>\d{1,2})(?!\d)(?:\s*日)?"
    rf"|\b(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon3>{_MON})\b\.?(?:,?\s+(?P<y3>\d{{4}}))?"
    rf"|\b(?P<mon4>{_MON})\.?\s+(?P<d4>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y4>\d{{4}}))?"
    r"|(?P<rel>今天|今日|今晨|昨天|昨日|昨晚|前天|明天|明日|\b[Tt]oday\b|\b[Yy]esterday\b))"
    r"(?:\s*\(?\s*(?:周|星期|礼拜)[一二三四五六日天七]\s*\)?)?"
)
# The leading look-ahead names every character an atom can start with: without it the leading
# look-behinds stop re from skipping ahead, and scanning costs four times as much.
ATOM = re.compile(
    r"(?=[0-9今昨前明TtYyJFMASOND凌早清上中午下傍晚夜北])"
    rf"(?:(?P<date>{_DATE}(?:\s*{_time('t')})?)"
    rf"|(?P<time>{_time('u')})"
    r"|(?P<day>(?<![\d年月./+-])(?P<dd>\d{1,2})\s*[日号])"
    r"|(?<!\d)(?P<year>(?:19|20)\d{2})\s*年)"
)
RANGE_SEP = re.compile(
    r"\s*(?:至|到|-|~|to|until|till|through|and)\s*(?P<next>次日|第二天|the\s+next\s+day)?\s*$",
    re.I,
)
EN_ON = re.compile(r"\s*(?:\(?[A-Z]{2,4}\)?|local time|Beijing time)?\s*,?\s*on\s+", re.I)
EN_FROM = re.compile(r"\s*,?\s*(?:from|between)\s+", re.I)
LIST_SEP = re.compile(r"\s*[、,]\s*$")
LIST_TAIL_START = re.compile(r"\s*开始\s*,?\s*$")
LIST_TAIL_END = re.compile(r"\s*前?\s*结束")
BOUNDARY = re.compile(r"[。;\n!?]")

# Damaged extraction drops 月 when it sat in its own <span>: "43日" is 4月3日, "1229日" is
# 12月29日 (taxonomy.md §3.1 item 5). Only runs that cannot be a day (over 31, or 3-4 digits)
# are repaired, and only into a month next to the publish month.
LOST_MONTH = re.compile(r"(?<![\d年月./:+-])(\d{2,4})(?=\s*日(?!\s*(?:内|以内|之内|后|以后)))")
CN_TIME_NUM = re.compile(
    r"(?<=[日午晨晚上间里至到-])([〇零一二两三四五六七八九十]+)([时点])"
    r"(?:([〇零一二两三四五六七八九十]+)分)?"
)

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
RESUME_AFTER = re.compile(r"\s*(?:起|开始)?\s*(?:正式运行|恢复|正常(?:运行|结算|划款|受理|服务))")
RESUME_BEFORE = re.compile(
    r"(?:恢复(?:正常)?(?:时间)?\s*(?:为|于)?|resumes?\s+(?:on|at)?)\s*$", re.I
)
INCIDENT_AFTER = re.compile(r"[^。;\n]{0,12}?(?:故障|异常|中断|宕机|瘫痪|outage)", re.I)
MAINT_AFTER = re.compile(
    r"[^。;\n]{0,12}?(?:升级|维护|停机|演练|切换|割接|停运|改造|"
    r"maintenance|upgrade)",
    re.I,
)
MAINT_WORDS = re.compile(r"升级|维护|停运|停机|演练|割接|暂停|maintenance|downtime|upgrade", re.I)
SETTLE_VERB = re.compile(r"结算|划付|划款|清算|到账|入账|出款|settle|paid|credited|payout", re.I)
TRADE = re.compile(r"交易|transactions?", re.I)
SUSPEND_AFTER = re.compile(
    r"\s*(?:期间)?\s*(?:暂停|停止|不(?:进行)?)\s*(?:资金)?(?:划款|结算|清算|划付|出款)"
)
HOLIDAY_BEFORE = re.compile(r"(?:放假|休假|假期)(?:时间|安排)?\s*(?:为|是)?\s*:?\s*$")
HOLIDAY_AFTER = re.compile(r"\s*(?:放假|休假|为[^。;\n]{0,14}(?:节假日|假期|放假))")
NEXT_WORKDAY = re.compile(r"节后(?:首个|第一个)工作日|next\s+(?:business|working)\s+day", re.I)
NEXT_DAY = re.compile(r"次日|第二天|the\s+next\s+day", re.I)
LIST_CONTINUES = re.compile(r"\s*(?:\([^()]{0,60}\))?\s*[;,、]\s*(?:and\s+)?$")


# ---- helpers over the atoms -----------------------------------------------------------------
def normalise(text: str, published: dt.date | None, *, folded: bool = False) -> str:
    """Fold, turn Chinese numerals into digits and repair "43日" (lost 月) near publication."""
    text = cn_numerals_to_digits(text if folded else fold(text))
    text = CN_TIME_NUM.sub(lambda m: _cn(m[1]) + m[2] + (_cn(m[3]) + "分" if m[3] else ""), text)
    if published is None:
        return text
    month0 = published.month

    def repair(m: re.Match[str]) -> str:
        s, best = m[1], None
        if len(s) == 2 and int(s) <= 31:
            return s
        for cut in {2: (1,), 3: (1, 2), 4: (2,)}[len(s)]:
            month, day = int(s[:cut]), int(s[cut:])
            gap = min((month - month0) % 12, (month0 - month) % 12)
            if 1 <= month <= 12 and 1 <= day <= 31 and gap <= 1 and (best is None or gap < best[0]):
                best = (gap, f"{month}月{day}")
        return best[1] if best else s

    return LOST_MONTH.sub(repair, text)


def list_tail(text: str, gap: str, b: re.Match[str]) -> dt.time | None:
    """The end time of a shared window after a list of dates: "…12月13日00:00开始,08:00前结束"."""
    if b["time"] and LIST_TAIL_START.fullmatch(gap) and LIST_TAIL_END.match(text, b.end()):
        t = atom_time(b, "u")
        return t[0] if t else None
    return None


def _cn(run: str) -> str:
    return cn_numerals_to_digits(run + "日")[:-1]


def clock(
    hour: str | None, minute: str | None, ap: str | None, pm: str | None, half: bool = False
) -> tuple[dt.time, int] | None:
    """A time of day and a day carry (24:00 is the next day's 00:00); None if impossible."""
    if hour is None:
        return None
    h, m = int(hour), int(minute) if minute else (30 if half else 0)
    pm = (pm or "").lower()
    if (ap in AFTERNOON or pm.startswith("p")) and h < 12:
        h += 12
    elif (ap == "凌晨" or pm.startswith("a")) and h == 12:
        h = 0
    elif ap == "中午" and h < 11:
        h += 12
    if h == 24 and m == 0:
        return dt.time(0, 0), 1
    return (dt.time(h, m), 0) if h < 24 and m < 60 else None


def atom_time(m: re.Match[str], p: str, ap: str | None = None) -> tuple[dt.time, int] | None:
    """The time in atom ``m`` (group prefix ``p``); ``ap`` is 凌晨/晚… inherited from a start."""
    g = m.groupdict()
    if g[p + "h2"]:
        return clock(g[p + "h2"], None, g[p + "ap"] or ap, g[p + "pm2"])
    return clock(
        g[p + "h"], g[p + "m"] or g[p + "m2"], g[p + "ap"] or ap, g[p + "pm"], bool(g[p + "half"])
    )


# ---- mentions and the roles of dates ---------------------------------------------------------
@dataclass(frozen=True)
class Mention:
    """One date, date-time or range found in the normalised text."""

    start: dt.date
    start_time: dt.time | None
    end: dt.date | None
    end_time: dt.time | None
    pos: int
    endpos: int
    year_inferred: bool = False
    inferred: bool = False

    def start_key(self) -> dt.datetime:
        return dt.datetime.combine(self.start, self.start_time or dt.time(0, 0))

    def end_key(self) -> dt.datetime:
        return dt.datetime.combine(self.end or self.start, self.end_time or dt.time(23, 59))


def make_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


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


def holiday_days(before: str, after: str) -> bool:
    """Is a date range the holiday itself ("放假时间为:1月1日-1月3日", "…为春节法定节假日")?"""
    return bool(HOLIDAY_BEFORE.search(before) or HOLIDAY_AFTER.match(after))


def next_workday(day: dt.date) -> dt.date:
    """The next Monday-to-Friday day: no holiday calendar, so callers mark the result inferred."""
    day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day
