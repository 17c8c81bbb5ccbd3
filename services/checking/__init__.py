"""The duplicate check (撞单检测): one engine, reached through these modules.

- `normalize`    names, phones and places folded to match keys (pure: no database, no Flask):
                 `company_key`, `phone_keys`, `canonical_place`, `index_terms`, `lookup_terms`; the public face of
                 `folding`, `regions`, `names`, `trades`, `terms`, `phones`, `area_codes` and `matching`
                 (callers import `normalize`, not these)
- `places`       places as people type them, written one way: `canonical`, `text` (the |place filter), `options`;
                 a place written in one cell (`parse`, also `parse_place` here: 广东深圳宝安) or at an address's start
                 (`of_address`)
- `dedup`        keys -> candidates -> verdict: `check`, `check_many`, and the one serialiser `result_json`
- `entry_check`  a person's check, the one front door of the page and the API: `check_entry`, `field_results`
- `reasons`      why two records matched, said in the reader's words: `say`, `said`, `codes`
- `check_limit`  the daily number of checks per person (no harvesting): `checked`, `checks_today`
- `rekey`        the keys rebuilt when the rules that derive them change (migrations): `rekey`
"""
from .places import parse as parse_place  # noqa: F401 - the public place parser (imports' 地区 column)
