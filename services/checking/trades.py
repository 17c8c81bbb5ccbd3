"""Trade names (manual §三): a company name's stem (``stem``: without generic business words) cut into its
字号 and its trade (行业), and the trade's family (``trade_family``), for the rule that two companies of one
place and one trade cannot share a 字号. docs/dedup.md explains the cut. Pure: no database, no Flask.
"""
from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

# Generic business words between the trade name and the legal form (金源五金实业有限公司): they make no
# other company, so names are compared without them (``stem``), and shown with them.
GENERIC_WORDS = ("实业", "贸易", "商贸", "工贸", "经贸", "科技", "技术", "发展", "投资", "控股", "国际",
                 "进出口", "工业", "制品")


@functools.lru_cache(maxsize=8192)
def stem(core: str) -> str:
    """``core`` without the generic business words at its end, while 2 characters remain
    (宏图包装科技 → 宏图包装, 中天科技发展 → 中天, 科技 → 科技)."""
    stripped = True
    while stripped:
        stripped = False
        for word in GENERIC_WORDS:
            if core.endswith(word) and len(core) - len(word) >= 2:
                core, stripped = core[: -len(word)], True
                break
    return core


# Words of companynameparser's trade.txt that name no trade: places, brands, and words of rank or order.
_NOT_TRADES = frozenset({
    "常熟", "杭州", "潍坊", "莱西", "广西南宁", "唐山百驰", "明月", "众安", "天骄", "阿达", "顶津", "雪花",
    "顺然", "诺贝", "埃德尔", "埃航", "埃顿", "统众", "联汇", "宝军", "金桥", "蓝润", "研科", "起航", "大自然",
    "无忧", "以色列", "南方电网", "北方工业", "奥体中心", "省级", "甲级", "第一", "第一国际", "第二", "第三",
    "第四", "第五", "改为", "要求", "正规", "有限", "合伙", "股份", "企业", "小企业", "世界", "国家", "民族",
    "品牌", "精品", "大型", "现代", "领域", "行业", "区域", "责任", "全套", "超细", "精确", "私人", "蛀虫",
    "菠萝蜜", "煮粉", "阿胶",
})
# Our own trade words, missing from the lexicon.
_OWN_TRADES = frozenset({
    "彩色印刷", "包装印刷", "印刷包装", "针织服装", "印花", "五金交电", "灯饰照明", "家私", "水暖", "小五金",
    "建材五金", "汽配", "汽修", "客车", "钢管", "调味品", "毛织", "净水", "幼教", "婚纱", "婚纱摄影", "拖拉机",
    "面料", "布业", "丝绸", "肉类", "冷链", "瓷砖", "油漆", "橱柜", "衣柜", "钣金", "冲压", "注塑", "纸箱",
    "袜业", "内衣", "男装", "美发", "药房", "大药房", "口腔", "电线", "精细化工", "实木家具",
})
# Words that say what a company does, not in which trade: they may follow a trade word (消防器材设计,
# 服装销售) without making another trade, and give the trade only when nothing else does.
_ACTIVITIES = frozenset({
    "销售", "设计", "服务", "工程", "制造", "制作", "加工", "生产", "批发", "零售", "经营", "代理", "开发",
    "安装", "维修", "修理", "咨询", "管理", "贸易", "商贸", "工贸", "经贸", "科贸", "研发", "研究", "供应",
    "连锁", "专营", "专业", "配送", "策划", "项目", "外贸", "出口", "进口", "回收", "租赁", "出租", "检测",
    "技术", "科技", "实业", "发展", "投资", "控股", "国际", "进出口", "工业", "制品", "产品", "设备", "用品",
    "材料", "器材", "配件", "系统", "商务", "综合", "定制", "创意", "创新", "营销", "生活", "网",
})
# What a trade is made of or sells as parts: after a trade word they name no trade of their own (化工原料 is
# 化工, 电子元件 电子), as an activity does not.
_PARTS = frozenset({"原料", "元件", "元器件", "器件", "零件", "零部件", "部件", "辅料", "材料", "配件", "器材"})
# Trades of one family (trade word → family): one trade for the rule that two companies of one place and
# one trade cannot share a 字号. A word not here belongs to the family of its longest trade-word prefix
# (消防器材 → 消防, 服装辅料 → 服装), else to itself. docs/dedup.md lists them.
TRADE_FAMILIES = {
    "服饰": "服装", "时装": "服装", "制衣": "服装", "女装": "服装", "童装": "服装", "针织服装": "服装",
    "彩色印刷": "印刷", "彩印": "印刷", "印务": "印刷", "包装印刷": "印刷", "包装彩印": "印刷",
    "彩印包装": "印刷", "印刷包装": "印刷",
    "家俱": "家具", "家私": "家具", "灯饰": "照明", "灯具": "照明", "灯饰照明": "照明",
    "塑业": "塑料", "塑胶": "塑料", "塑料制品": "塑料", "塑胶制品": "塑料", "塑制品": "塑料", "橡塑": "塑料",
    "通讯": "通信", "电脑": "计算机", "茶业": "茶叶", "药业": "医药", "制药": "医药", "纸业": "纸品",
    "纸制品": "纸品", "五金制品": "五金", "小五金": "五金", "建材五金": "五金", "装饰五金": "五金",
    "五金交电": "五金", "管业": "管材", "鞋业": "鞋", "皮鞋": "鞋", "汽贸": "汽车", "装潢": "装饰",
    "装修": "装饰", "建筑装修": "装饰", "室内装饰": "装饰", "汽配": "汽车", "汽修": "汽车", "客车": "汽车",
    "男装": "服装", "内衣": "服装", "婚纱摄影": "摄影", "药房": "医药", "大药房": "医药", "面料": "纺织",
    "布业": "纺织", "瓷砖": "陶瓷", "油漆": "涂料", "建筑材料": "建材", "装饰材料": "建材",
}


@functools.cache
def _trade_words() -> frozenset[str]:
    """The trade lexicon: companynameparser's data/trade.txt (read from its package, which is never
    imported: its parser loads jieba) without the words that name no trade, and ours."""
    spec = importlib.util.find_spec("companynameparser")
    path = Path(spec.submodule_search_locations[0]) / "data" / "trade.txt"
    words = {w for w in path.read_text(encoding="utf-8").split() if len(w) >= 2}
    return frozenset((words | _OWN_TRADES | set(TRADE_FAMILIES) | set(GENERIC_WORDS)) - _NOT_TRADES)


@functools.lru_cache(maxsize=4096)
def trade_family(word: str) -> str:
    """The family of a trade word: TRADE_FAMILIES; else that of its head, the longest trade word it ends
    with (a Chinese trade names its kind last: 精细化工 is 化工, 装饰建材 建材, 休闲食品 食品), unless
    that head is an activity (消防器材 is not 器材); else its longest trade-word prefix's; else itself."""
    if word in TRADE_FAMILIES:
        return TRADE_FAMILIES[word]
    words = _trade_words()
    for start in range(1, len(word) - 1):
        head = word[start:]
        if head in words and head not in _ACTIVITIES and head not in _PARTS:
            return trade_family(head)
    for end in range(len(word) - 1, 1, -1):
        if word[:end] in words and word[:end] not in _ACTIVITIES:
            return trade_family(word[:end])
    return word


def _trade_split(text: str) -> list[str] | None:
    """``text`` as trade words, the longest first at each step, or None when it is not only trade words."""
    words = _trade_words()
    n = len(text)
    # ok[i]: text[i:] splits into trade words (from the end, so the longest word at each step is safe)
    ok = [False] * n + [True]
    for i in range(n - 2, -1, -1):
        ok[i] = any(ok[j] and text[i:j] in words for j in range(min(n, i + 8), i + 1, -1))
    if not ok[0]:
        return None
    out, i = [], 0
    while i < n:
        j = next(j for j in range(min(n, i + 8), i + 1, -1) if ok[j] and text[i:j] in words)
        out.append(text[i:j])
        i = j
    return out


@dataclass(frozen=True, slots=True)
class TradeName:
    """A stem cut into its 字号 and its trade (行业): 豪腾彩色印刷 → 豪腾 | 彩色印刷, family 印刷.
    A stem with no trade words at its end is all 字号 (trade and family empty)."""

    zihao: str
    trade: str = ""
    family: str = ""


@functools.lru_cache(maxsize=65536)
def trade_name(stem_: str) -> TradeName:
    """The 字号 and trade of a stem: the trade is the longest end made only of trade words that leaves a 字号
    of two characters at least (东八时区五金 → 东八时区 | 五金, 金源五金 → 金源 | 五金), else of one (达五金 → 达 | 五金:
    inside 亨达五金 it keeps one character of its own)."""
    for start in (*range(2, len(stem_) - 1), 1):
        split = _trade_split(stem_[start:])
        if split:
            trade = stem_[start:]
            if trade in TRADE_FAMILIES:
                return TradeName(stem_[:start], trade, TRADE_FAMILIES[trade])
            # the last word that names a trade gives the family: a trade names its kind last (装饰建材 →
            # 建材, 休闲食品 → 食品), but not as an activity or a part (消防器材设计 → 消防, 电子元件 → 电子);
            # activities alone (通达净水 | 设备 without 净水 in the lexicon) name none
            heads = [w for w in split if w not in _ACTIVITIES and w not in _PARTS]
            return TradeName(stem_[:start], trade, trade_family(heads[-1]) if heads else "")
    return TradeName(stem_)
