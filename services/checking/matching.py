"""The verdict between two records (manual §三): ``compare(query, candidate)`` turns their keys (``record_keys``)
into a ``Match`` (duplicate / review, with its reasons), and ``verdict(matches)`` gives a check's one verdict.

Pure: no database, no Flask. The reasons are ``Reason``s with English text; the app says them in the reader's
words (reasons.py).
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from .area_codes import _area_code_table, area_code_places
from .names import CompanyKey, company_key
from .phones import PhoneKey, phone_keys
from .reasons import Reason
from .regions import _towns
from .trades import TradeName, trade_name
from .wechat import qq_problem, wechat_keys

DUPLICATE, REVIEW, NEW = "duplicate", "review", "new"

@dataclass(frozen=True)
class Match:
    """One candidate found by ``compare``.

    score:      0..1 (1 = a phone/fax/WeChat match or the same company name).
    matched_on: subset of ('name', 'phone', 'fax', 'wechat'), in that order: which of the query's
                fields hit (a query's phone that hits the candidate's fax is 'phone'; a WeChat ID
                that is a mobile number is a mobile, 'phone').
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
                fax: str | None = None, wechat: str | None = None, qq: str | None = None) -> dict:
    """The dict ``compare`` takes, from a record's or a query's raw fields. A WeChat ID that is a
    mobile number joins the phone keys (it is that mobile); any other is a ``wechat_keys`` entry. A QQ
    number is kept for the index only (``q:``, the lists' search): ``compare`` never reads it."""
    phones = phone_keys(phone)
    mobiles, wechats = wechat_keys(wechat)
    return {
        "company_key": company_key(company or "", province or None, city or None),
        "phone_keys": phones + [k for k in mobiles if k not in phones],
        "fax_keys": phone_keys(fax),
        "wechat_keys": wechats,
        "qq": (qq or "").strip() if qq and not qq_problem(qq) else None,
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
        [("fax", k) for k in c.get("fax_keys") or ()] + [("wechat", k) for k in c.get("wechat_keys") or ()]
    if not cand:
        return out
    for qrole, keys in (("phone", q.get("phone_keys") or ()), ("fax", q.get("fax_keys") or ()),
                        ("wechat", q.get("wechat_keys") or ())):
        for a in keys:
            for crole, b in cand:
                found = _number_match(qrole, a, crole, b, qk, ck)
                if found is not None and (qrole, found[1]) not in seen:
                    seen.add((qrole, found[1]))
                    out.append((qrole, *found))
    return out


def _number_match(qrole: str, a: PhoneKey, crole: str, b: PhoneKey, qk: CompanyKey, ck: CompanyKey
                  ) -> tuple[str, str] | None:
    """(verdict, reason) when the query's number ``a`` (in its ``qrole``) is the candidate's ``b``, else None.
    Area codes must agree when both sides give one; one side's missing code is ignored unless the other's
    contradicts that side's place."""
    if a.local != b.local or a.kind != b.kind:
        return None
    if "wechat" in (qrole, crole):
        # an ID (never digits alone: those are mobiles) is personal, as a mobile: shared, one customer
        return DUPLICATE, Reason("same_wechat", f"WeChat ID {a.local}", number=a.local)
    what = a.kind if a.kind == "mobile" else ("fax" if qrole == "fax" else "landline")
    cross = "" if qrole == crole else f" (their {crole})"
    their = _their(qrole, crole)
    if a.area_code and b.area_code:
        if a.area_code != b.area_code:
            return None
        return DUPLICATE, Reason("same_number", f"{what} {a.area_code}-{a.local}{cross}", what=what,
                                 number=f"{a.area_code}-{a.local}", their=their)
    if not (a.area_code or b.area_code):
        return DUPLICATE, Reason("same_number", f"{what} {a.local}{cross}", what=what, number=a.local, their=their)
    area = a.area_code or b.area_code
    missing = ck if a.area_code else qk
    conflict = _phone_conflict(missing, area)
    if conflict:
        return REVIEW, Reason("number_other_area", f"{what} {a.local}{cross} matches without area code, but "
                              f"{area} is {conflict}, not {_place_text(missing)}", what=what, number=a.local,
                              their=their, area=area, area_place=conflict, place=_place_text(missing))
    return DUPLICATE, Reason("same_number_no_area", f"{what} {a.local}{cross}, area code ignored", what=what,
                             number=a.local, their=their)


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
        return _same_name(a, ck, rel)
    if rel == OTHER:
        return None
    if _sounds_alike(a, b):  # the whole stems: a typo of one or two characters, which the d: terms find
        return 0.85, REVIEW, Reason("homophone", f"{b} sounds the same as {a}", name=a, other=b)
    near = OSA.distance(a, b, score_cutoff=1) <= 1
    if not (near or a[:2] == b[:2] or a in b or b in a):
        return None  # nothing in common the rules below could see (and the index find): no need to cut them
    ta, tb = trade_name(a), trade_name(b)
    # in this order: the same 字号, one name inside the other, one character apart
    return _same_zihao(ta, tb, ck, rel) or _contained(a, b, ta, tb) or _one_char_apart(a, b, ta, tb, near)


def _same_name(a: str, ck: CompanyKey, rel: str) -> tuple[float, str, str]:
    """The same trade name: one company where the places agree or cannot tell them apart, else a resemblance."""
    if rel == SAME:
        return 1.0, DUPLICATE, Reason("same_name_same_place", f"same trade name {a}, same place {ck.place}", name=a,
                                      place=ck.place)
    if rel == UNKNOWN:
        return PLACELESS_SCORE, DUPLICATE, Reason("same_name_no_place", f"same trade name {a}, no place to tell them "
                                                  "apart", name=a)
    return 0.8, REVIEW, Reason("same_name_other_place", f"same trade name {a} in another place ({_place_text(ck)})",
                               name=a, place=_place_text(ck))


def _same_trade(ta: TradeName, tb: TradeName) -> bool:
    return bool(ta.family) and ta.family == tb.family


def _same_zihao(ta: TradeName, tb: TradeName, ck: CompanyKey, rel: str) -> tuple[float, str, str] | None:
    """The same 字号, both with a trade (豪腾印刷 / 豪腾彩色印刷): one company in one trade and place, else a
    resemblance; None when the 字号 differ or a side has no trade."""
    if ta.zihao != tb.zihao or not (ta.family and tb.family):
        return None
    if _same_trade(ta, tb) and rel == SAME:
        return 1.0, DUPLICATE, Reason("same_name_same_trade", f"same trade name {ta.zihao} and trade "
                                      f"({tb.trade} / {ta.trade}), same place {ck.place}", name=ta.zihao,
                                      trade=ta.trade, other_trade=tb.trade, place=ck.place)
    if _same_trade(ta, tb):
        return 0.9, REVIEW, Reason("same_name_same_trade_no_place", f"same trade name {ta.zihao} and trade "
                                   f"({tb.trade} / {ta.trade}), no place to tell them apart", name=ta.zihao,
                                   trade=ta.trade, other_trade=tb.trade)
    return 0.7, REVIEW, Reason("same_name_other_trade", f"same trade name {ta.zihao} in another trade "
                               f"({tb.trade}, not {ta.trade})", name=ta.zihao, trade=ta.trade, other_trade=tb.trade)


def _contained(a: str, b: str, ta: TradeName, tb: TradeName) -> tuple[float, str, str] | None:
    """One name inside the other (a keyword search, 瑞丽 in 瑞丽服装), scored by how much of it the inner one
    covers; None when neither is."""
    if _contains(tb, ta, b, a):
        return 0.5 + 0.4 * len(a) / len(b), REVIEW, Reason("contains", f"{b} contains {a}", name=b, other=a)
    if 2 * len(b) >= len(a) and _contains(ta, tb, a, b):
        return 0.5 + 0.4 * len(b) / len(a), REVIEW, Reason("contains", f"{a} contains {b}", name=a, other=b)
    # one 字号 inside the other by a character, in one trade (安泰 / 新安泰): the d: terms find it
    za, zb = ta.zihao, tb.zihao
    if _same_trade(ta, tb) and min(len(za), len(zb)) >= MIN_CONTAIN and abs(len(za) - len(zb)) == 1 \
            and (za in zb or zb in za):
        outer, inner = (zb, za) if za in zb else (za, zb)
        return 0.5 + 0.4 * len(inner) / len(outer), REVIEW, Reason("contains", f"{outer} contains {inner}",
                                                                   name=outer, other=inner)
    return None


def _one_char_apart(a: str, b: str, ta: TradeName, tb: TradeName, near: bool) -> tuple[float, str, str] | None:
    """Two names one edit apart: their 字号 in one trade, else the whole stems where a side has no trade (two
    trades make two companies); None otherwise."""
    same_trade = _same_trade(ta, tb)
    if not near or not (same_trade or not (ta.family and tb.family)):
        return None
    if not (_one_char(ta.zihao, tb.zihao) if same_trade else _one_char(a, b)):
        return None
    ratio = fuzz.ratio(a, b)
    return round(0.9 * ratio / 100, 3), REVIEW, Reason("one_char", f"{b} is one character from {a}", name=a, other=b)


def compare(query: dict, candidate: dict) -> Match | None:
    """Compare a query with one existing record; None when they have nothing in common.

    Each dict holds ``company_key`` (CompanyKey), ``phone_keys`` and ``fax_keys``
    (lists of PhoneKey); ``record_keys`` builds one. Rules:

    - a shared landline, fax or mobile number (landline against fax both ways; area
      codes must agree when both sides give one, and are ignored when one side lacks it,
      unless that side's place contradicts the area code), or a shared WeChat ID → duplicate;
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
    for role in ("phone", "fax", "wechat"):
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
