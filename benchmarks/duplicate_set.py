"""A labelled base for the duplicate scan: customers with planted duplicates and look-alikes.

Used by tests/test_duplicates_quality.py and benchmarks/bench_duplicates.py (issue 11).

Built from benchmarks/synth.py's customers (unique trade names, real cities and area codes), so no two
base customers are one company. For each base customer, by turns, one more record is planted:

duplicates (the same company, as another salesperson or an old system typed it):
  respelled   another legal form, the region in brackets or dropped, Traditional characters, and the
              landline without its area code (synth.respell);
  name_place  the name respelled, no phone, the province and city given;
  name_only   the name with its city, no phone and no place fields;
  phone_only  another name altogether, the same landline without area code, in the same city;
  fax_phone   another name, the customer's fax given as its phone;
  fullwidth   full-width brackets and digits, spaces, the phone written +86 (0xxx) ...;
look-alikes (other companies that resemble):
  neighbour   one character of the trade name changed (瑞丽 / 瑞丰), same city, its own phone;
  other_city  the same trade name in another city, its own phone;
  same_trade  the same industry in the same city, another trade name, its own phone;
  other_area  the same local number under another city's area code, another name.

Mobiles are left out: the database keeps a mobile unique (migration 0006), so two records cannot
share one. Each record carries its label in `contact` ("b12", "d12-respelled", "l12-neighbour"), so a
test finds which stored record is which.
"""
from __future__ import annotations

import random

from benchmarks.synth import TRADE_WORDS, Generator, _short, respell

DUPLICATE_KINDS = ("respelled", "name_place", "name_only", "phone_only", "fax_phone", "fullwidth")
LOOKALIKE_KINDS = ("neighbour", "other_city", "same_trade", "other_area")
_FULLWIDTH = str.maketrans("0123456789()-", "０１２３４５６７８９（）－")


def build(companies=600, seed=11):
    """(rows, planted, lookalikes): CSV rows, and the (base label, planted label) pairs of each kind."""
    generator, rng = Generator(seed), random.Random(seed)
    rows, planted, lookalikes = [], [], []
    kinds = DUPLICATE_KINDS + LOOKALIKE_KINDS
    for n in range(companies):
        base = {**generator.customer(), "mobile": "", "contact": f"b{n}"}
        rows.append(base)
        kind = kinds[n % len(kinds)]
        other = _planted(kind, base, generator, rng)
        if other is None:
            continue
        label = ("d" if kind in DUPLICATE_KINDS else "l") + f"{n}-{kind}"
        rows.append({**other, "mobile": "", "contact": label})
        (planted if kind in DUPLICATE_KINDS else lookalikes).append((f"b{n}", label))
    return rows, planted, lookalikes


def _local(phone):
    return phone.split("-", 1)[-1]


def _core(row):
    from services.checking import normalize

    return normalize.company_key(row["company"], row["province"], row["city"]).core


def _planted(kind, base, generator, rng):
    place = {"province": base["province"], "city": base["city"]}
    # drawn for every kind, used by some: each kind takes the same turns of the generator as before
    fresh = generator.customer()  # another company of some city: its name, its numbers
    if kind in DUPLICATE_KINDS:
        return _duplicate(kind, base, fresh, place, rng)
    if kind in LOOKALIKE_KINDS:
        return _lookalike(kind, base, fresh, place, generator, rng)
    raise ValueError(kind)


def _duplicate(kind, base, fresh, place, rng):
    """The same company as `base`, written as the module's docstring says for `kind`."""
    if kind == "respelled":
        return {**respell(base, rng), "fax": ""}
    if kind == "name_place":
        return {**respell(base, rng), "phone": "", "fax": ""}
    if kind == "name_only":
        return {"company": _short(base["city"]) + _core(base) + "有限公司", "province": "", "city": "",
                "phone": "", "fax": ""}
    if kind == "phone_only":  # a name without a place of its own: the fields say where it is
        return {"company": _core(fresh) + "有限公司", **place, "phone": _local(base["phone"]), "fax": ""}
    if kind == "fax_phone":
        number = base["fax"] or base["phone"]
        return {"company": _core(fresh) + "商行", **place, "phone": number, "fax": ""}
    if kind == "fullwidth":
        code, local = base["phone"].split("-", 1)
        company = (_core(base) + " 有限公司（" + _short(base["city"]) + "）").translate(_FULLWIDTH)
        return {"company": company, **place, "phone": f"+86 ({code}) {local}".translate(_FULLWIDTH), "fax": ""}
    raise ValueError(kind)


def _lookalike(kind, base, fresh, place, generator, rng):
    """Another company that resembles `base`, as the module's docstring says for `kind`; None when
    the draw cannot make one (other_area with the base's own area code)."""
    if kind == "neighbour":
        core = _core(base)
        return {"company": base["city"] + _one_changed(core, rng) + "厂", **place,
                "phone": f"{base['phone'].split('-')[0]}-{_local(fresh['phone'])}", "fax": ""}
    if kind == "other_city":
        return {"company": _core(base) + "有限公司", "province": fresh["province"], "city": fresh["city"],
                "phone": fresh["phone"], "fax": ""}
    if kind == "same_trade":
        return {"company": base["city"] + generator.core() + "有限公司", **place,
                "phone": f"{base['phone'].split('-')[0]}-{_local(fresh['phone'])}", "fax": ""}
    if kind == "other_area":
        code = fresh["phone"].split("-")[0]
        if code == base["phone"].split("-")[0]:
            return None
        return {"company": fresh["company"], "province": fresh["province"], "city": fresh["city"],
                "phone": f"{code}-{_local(base['phone'])}", "fax": ""}
    raise ValueError(kind)


def _one_changed(core, rng):
    """The trade name with one character of its trade word replaced by another trade word's."""
    letters = sorted({c for word in TRADE_WORDS for c in word})
    i = rng.randrange(min(2, len(core)))
    while True:
        c = rng.choice(letters)
        if c != core[i]:
            return core[:i] + c + core[i + 1:]
