"""The exact-match keys an inverted index stores for a record (bigrams, one-deletion neighbours, short stems in
their city, 字号 in their city, phone locals), so the database finds a check's candidates without scanning rows;
``compare`` (matching.py) then judges each one. Pure: no database, no Flask.
"""
from __future__ import annotations

from .matching import MIN_NEIGHBOUR
from .names import CompanyKey
from .trades import trade_name


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
                                 area codes are checked by ``compare``);
    ``w:<id>``                   a WeChat ID (one that is a mobile number is a ``p:`` term);
    ``q:<qq>``                   a QQ number: for the lists' search only, never looked up by a check.
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
    for k in keys.get("wechat_keys") or ():
        terms["w:" + k.local] = None
    if keys.get("qq"):
        terms["q:" + keys["qq"]] = None
    return list(terms)


def lookup_terms(keys: dict) -> list[str]:
    """The terms a check looks up exactly for a query (``record_keys`` output): its own trade-name,
    neighbour, short-stem and phone terms, and ``n:`` + the names inside its trade name."""
    ck = keys["company_key"]
    core = ck.core
    terms = [t for t in index_terms(keys) if t[:2] in ("n:", "d:", "p:", "w:", "s:", "z:")]
    if core:
        terms += ["n:" + piece for piece in name_substrings(core)]
    return terms
