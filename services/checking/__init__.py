"""The duplicate check (撞单检测): names, phones and places folded to keys, the one engine that compares them, why two records matched, a person's check at the one front door, its daily limit, and the keys rebuilt when the rules change.

Modules:
- `normalize` (the public face of `folding`, `regions`, `names`, `trades`, `terms`, `phones`, `area_codes`,
  `matching`: callers import `normalize`, not these)
- `dedup`
- `places`
- `rekey`
- `check_limit`
- `entry_check`
- `reasons`
"""
