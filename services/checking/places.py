"""A customer's place as the entry form's pickers give it: province, city, district, town (乡镇/街道).

Pure (no database, no Flask); the division data is services/checking/regions.py's, through normalize's public
functions only. Province and city are made canonical by `normalize.canonical_place` (上海 → 上海市,
义乌 → 金华市 and its district 义乌市). A district or a town is matched against the list of its
parent, by its full or short name (江都 → 江都区, 小榄 → 小榄镇); one that is not on the list is
kept as typed: the dictionary lags the re-zonings a salesperson reads on the customer's card,
and a place the CRM cannot confirm is still better than none.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from . import normalize

MAX_LENGTH = 32  # the columns' width (models.Opportunity)
MAX_OPTIONS = 1500  # the longest list a picker is sent (重庆市 has about 1,000 towns)
_DISTRICT_SUFFIXES = ("自治县", "自治旗", "新区", "林区", "特区", "区", "县", "市", "旗")


@dataclass(frozen=True)
class Place:
    province: str = ""
    city: str = ""
    district: str = ""
    town: str = ""


def clean(value) -> str:
    """One line of a picker's text, cut to the column: a query string may hold anything."""
    if not isinstance(value, str):
        return ""
    value = "".join(c for c in value if c.isprintable()).strip()
    return value[:MAX_LENGTH]


def _short(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def _match(typed: str, names: list[str], suffixes: tuple[str, ...]) -> str | None:
    """The one name of `names` that `typed` spells, in full or short, Traditional or Simplified."""
    if typed in names:
        return typed
    key = normalize.fold(typed)
    if not key:
        return None
    found = {n for n in names if key in (normalize.fold(n), normalize.fold(_short(n, suffixes)))}
    return found.pop() if len(found) == 1 else None


@functools.lru_cache(maxsize=64)
def _city_towns(province: str, city: str) -> dict[str, str]:
    """{town: its district} over a whole city, for a town typed without its district; the district
    is "" when the town has none (东莞市) or when two districts have a town of that name."""
    out = {name: "" for name in normalize.towns(province, city, None)}
    for district in normalize.districts(province, city):
        for name in normalize.towns(province, city, district):
            out[name] = "" if name in out else district
    return out


@functools.lru_cache(maxsize=4096)
def canonical(province: str = "", city: str = "", district: str = "", town: str = "") -> Place:
    """The four fields as the record keeps them: canonical where known, as typed otherwise.

    A missing parent is filled when the child names it alone: 江苏 + no city + 江都 gives
    扬州市 江都区; a town typed without its district finds its district when the city has one
    town of that name.
    """
    province, city, district, town = clean(province), clean(city), clean(district), clean(town)
    prov, cty, dist = normalize.canonical_place(province or None, city or None)
    if not cty and district and not city:  # the district typed, the city left empty
        p2, c2, d2 = normalize.canonical_place(prov or province or None, district)
        if c2 and d2:
            prov, cty, dist = p2, c2, d2
            district = ""
    province, city = prov or province, cty or city
    if not prov or not cty:  # nothing to match the lower levels against
        return Place(province, city, district or dist or "", town)
    if district:
        district = _match(district, normalize.districts(prov, cty), _DISTRICT_SUFFIXES) or district
    else:
        district = dist or ""
    if town:
        known_district = not district or district in normalize.districts(prov, cty)
        if district and known_district:
            town = _match(town, normalize.towns(prov, cty, district), normalize.TOWN_SUFFIXES) or town
        elif not district:
            in_city = _city_towns(prov, cty)
            found = _match(town, list(in_city), normalize.TOWN_SUFFIXES)
            if found:
                town, district = found, in_city[found]
    return Place(province, city, district, town)


def of_record(data, company_key) -> Place:
    """The place a new record keeps: the form's, made canonical, its empty levels filled from the place
    its company name gives (`normalize.company_key`: 中山市小榄镇华锐五金 → 广东省 中山市 小榄镇); the
    name's town only when the name is of the record's city and district."""
    place = canonical(data.province, data.city, data.district, data.town)
    city = place.city or company_key.city or ""
    district = place.district or company_key.district or ""
    town = place.town
    if not town and company_key.town and company_key.city == city and company_key.district in (None, district):
        town = company_key.town
    return Place(place.province or company_key.province or "", city, district, town)


def options(level: str, province: str = "", city: str = "", district: str = "") -> tuple[Place, list[str]]:
    """The parents in canonical names ("" where unknown) and the names a picker offers at `level`
    (cities, districts or towns); an empty list for anything unknown. Towns before a district is
    picked are the whole city's (东莞市 has no districts at all): typing one fills its district on save."""
    place = canonical(province, city, district if level == "towns" else "")
    prov = place.province if place.province in normalize.provinces() else ""
    cty = place.city if prov and place.city in normalize.cities(prov) else ""
    dist = place.district if cty and place.district in normalize.districts(prov, cty) else ""
    if level == "cities":
        names = normalize.cities(prov) if prov else []
    elif level == "districts":
        names = normalize.districts(prov, cty) if cty else []
    elif not cty or (place.district and not dist):
        names = []  # no city, or a district we do not know: no towns to offer
    elif dist:
        names = normalize.towns(prov, cty, dist)
    else:  # no district picked (yet): every town of the city, which `canonical` places
        names = list(_city_towns(prov, cty))
    return Place(prov, cty, dist), names[:MAX_OPTIONS]


def text(record) -> str:
    """A record's place as a Chinese address is written: the levels run together, with no space
    (浙江省宁波市江北区), a municipality's name once (上海市, never 上海市上海市); '' when none is known.
    Every page writes a place through this, so that one customer never reads two ways (issue 21)."""
    parts = [getattr(record, level, None) for level in ("province", "city", "district", "town")]
    return "".join(dict.fromkeys(p.strip() for p in parts if p and p.strip()))


# what a combined place column holds between its levels besides the levels (北京市/市辖区/朝阳区, as old exports write)
_FILLERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "中国"}
_SEPARATORS = re.compile(r"[\s,，、/／\\|｜\-－—–·•.。;；]+")
_SUFFIX_ENDS = ("省", "市", "区", "县", "州", "盟", "旗")


def parse(value) -> Place | None:
    """A place written in one cell (地区: 广东深圳宝安, 广东省,深圳市,宝安区, 广东省/深圳市/宝安区, 广东 深圳 宝安区),
    its province, city, district and town canonical; a town the dictionary lacks is kept when written with its
    镇, 乡 or 街道. None when the text is not a place we can read whole (火星), or names one ambiguously (朝阳区)."""
    if not isinstance(value, str) or not value.strip():
        return None
    parts = [p for p in _SEPARATORS.split(value.strip()) if p and p not in _FILLERS]
    parts = [p for i, p in enumerate(parts) if i == 0 or normalize.fold(p) != normalize.fold(parts[i - 1])]
    read = normalize.read_place("".join(parts))
    if read is None:
        return None
    province, city, district, town, rest = read
    if rest and (town or not city):
        return None
    place = canonical(province or "", city or "", district or "", town or rest)
    if rest and place.town not in normalize.towns(place.province, place.city, place.district or None) \
            and not rest.endswith(normalize.TOWN_SUFFIXES):
        return None
    return place


def of_address(value) -> Place | None:
    """The place an address begins with (广东省深圳市宝安区西乡街道宝源路1号), or None: read only when it begins with a
    province or with a name that ends as a division's does (深圳市, 宝安区), so that 中山路 is not 中山市."""
    if not isinstance(value, str) or not value.strip():
        return None
    read = normalize.read_place(value, whole=False)
    if read is None:
        return None
    province, city, district, town, rest = read
    folded = normalize.fold(value)
    begins = folded[: len(folded) - len(rest)]
    if not begins.endswith(_SUFFIX_ENDS) and not any(begins.startswith(p[:2]) for p in normalize.provinces()):
        return None
    return canonical(province or "", city or "", district or "", town or "")
