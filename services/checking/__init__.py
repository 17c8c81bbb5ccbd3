"""The duplicate check (撞单检测): one engine, reached through these modules.

- `normalize`    names, phones and places folded to match keys (pure: no database, no Flask):
                 `company_key`, `phone_keys`, `canonical_place`, `index_terms`, `lookup_terms`; the public face of
                 `folding`, `regions`, `names`, `trades`, `terms`, `phones`, `area_codes` and `matching`
                 (the wing's modules and the views import `normalize`, not these)
- `places`       places as people type them, written one way: `canonical`, `text` (the |place filter), `options`;
                 a place written in one cell (`parse`, also `parse_place` here: 广东深圳宝安) or at an address's start
                 (`of_address`)
- `dedup`        keys -> candidates -> verdict: `check`, `check_many`, and the one serialiser `result_json`
- `entry_check`  a person's check, the one front door of the page and the API: `check_entry`, `field_results`
- `reasons`      why two records matched, said in the reader's words: `say`, `said`, `codes`
- `check_limit`  the daily number of checks per person (no harvesting): `checked`, `checks_today`
- `rekey`        the keys rebuilt when the rules that derive them change (migrations): `rekey`

`PUBLIC` names what the other wings use, through this package only (`from .. import checking`, then
`checking.check(...)`; tests/test_architecture.py): a place's `of_record` is `place_of_record` here, and
the reasons' `said` and `stored` are `reasons_said` and `reasons_stored`.
"""
from .. import public_names

PUBLIC = {
    "CANDIDATE_LIMIT": "dedup", "CHECK_BATCH": "dedup", "check": "dedup", "check_many": "dedup",
    "hit_json": "dedup", "index_rows": "dedup", "match_json": "dedup", "phone_rows": "dedup",
    "query_keys": "dedup", "rank": "dedup", "term_hash": "dedup", "verdict_of": "dedup",
    "DUPLICATE": "normalize", "REVIEW": "normalize", "CompanyKey": "normalize", "canonical_place": "normalize",
    "company_key": "normalize", "compare": "normalize", "fold": "normalize", "index_terms": "normalize",
    "lookup_terms": "normalize", "name_grams": "normalize", "name_neighbours": "normalize",
    "name_substrings": "normalize", "phone_keys": "normalize", "phone_problem": "normalize",
    "record_keys": "normalize", "stem": "normalize", "trade_name": "normalize",
    "KEY_LISTS": "dedup", "record_keys_of": "dedup",
    "WECHAT_FIELD": "normalize", "fold_qq": "normalize", "fold_wechat": "normalize", "qq_problem": "normalize",
    "wechat_problem": "normalize",
    "place_of_record": "places.of_record", "parse_place": "places.parse", "place_of_address": "places.of_address",
    "reasons_said": "reasons.said", "reasons_stored": "reasons.stored",
}

# looked up when used: see public_names
__getattr__, __dir__ = public_names(__name__, PUBLIC)
__all__ = sorted(PUBLIC)
