"""The kinds of issue 12, added to the labelled set (tests/data/make_dedup_cases.py) and written,
with other trade names and another seed, into the held-out set before the rules were changed.

- ``town``: a town or street (镇, 街道, 乡) inside one name and not the other: the same company;
- ``bare_form``: a bare or informal legal form (公司, 有限, 企业, 店) against another: the same;
- ``keyword_whole``: a keyword that is the whole trade name (金源五金) against a name with a generic
  business word (佛山市顺德区金源五金实业有限公司): the same;
- ``generic_word``: a generic business word (实业, 科技, 商贸...) in one name only: the same;
- ``homophone``: one character of the trade name swapped for one that sounds the same, same city: the same
  company or another, a person judges (issue 20: a review with that customer first; issue 12 said the same);
- ``landline_same_city``: a landline or fax given without area code, in the same city, names differing:
  the same (the manual: a hit on the fax means do not enter);
- look-alikes, another company: ``town_other_trade`` (same town, another trade name), ``generic_other_trade``
  (same 字号, another trade), ``sound_differs`` (one character of another sound, same city),
  ``homophone_other_city``;
- ``unrelated``: a new company checked against twenty companies of its city, many of its industry and legal
  form, whose 字号 may share characters with theirs but is not one edit away from any, nor contains one,
  nor sounds the same: must be ``new`` (the issue's "sent to review" figure).
"""
from __future__ import annotations

from collections import defaultdict

from pypinyin import lazy_pinyin
from rapidfuzz.distance import OSA

from services.checking import normalize as N

GENERIC_WORDS = ["实业", "贸易", "商贸", "工贸", "经贸", "科技", "发展", "实业发展", "科技发展", "投资",
                 "国际贸易", "进出口", "控股"]
# (form in one name, form in the other): bare, informal, dropped
BARE_FORMS = [("公司", "厂"), ("公司", "有限公司"), ("公司", "有限责任公司"), ("公司", "股份有限公司"),
              ("有限", "有限公司"), ("", "有限公司"), ("", "厂"), ("厂", "公司"), ("企业", "有限公司"),
              ("店", "商行"), ("工厂", "厂"), ("公司", ""), ("总公司", "公司"), ("有限公司", "(有限公司)")]
# characters trade names are made of (字号), to write names no list holds
NAME_CHARS = ("华达鑫源盛宏金恒泰永兴隆昌丰瑞祥和信嘉美佳新天通海德福利广明光龙凤中长正安康顺发豪宇航博"
              "伟立威诚汇聚鼎成创星辉峰富荣胜万亿百益合联凯腾飞鸿远志卓君乐欣悦茂林森友邦朗润泽川江"
              "鹏翔东南北西宝晨阳春秋冠群英华一大科力达")
INDUSTRIES = ["服装", "五金", "电子", "机械", "塑胶", "包装", "印刷", "家具", "建材", "化工", "纺织", "食品",
              "灯饰", "陶瓷", "电器", "汽配", "模具", "玩具", "鞋业", "皮具", "不锈钢", "毛织", "纸品", "光电",
              "照明", "五金制品", "塑胶制品", "织造", "制衣", "医疗器械"]
HOLDOUT_TRADES = [
    ("华锐", "五金"), ("恒信", "塑胶"), ("永盛", "毛织"), ("鸿达", "电器"), ("立信", "包装"), ("金源", "五金"),
    ("明辉", "灯饰"), ("金鼎", "机械"), ("宏图", "包装"), ("骏达", "电子"), ("裕丰", "纺织"), ("伟业", "模具"),
    ("朗润", "陶瓷"), ("安捷", "物流"), ("友邦", "建材"), ("冠华", "制衣"), ("益民", "药业"), ("欣荣", "玩具"),
    ("森源", "木业"), ("泽川", "化工"), ("冠群", "鞋业"), ("英华", "皮具"), ("春晖", "照明"), ("宝阳", "汽配"),
]


# Cities that dial a neighbour's area code (libphonenumber names the neighbour only): facts for the labels.
SHARED_AREA_CODES = [
    ("湖南省", "株洲市", "0731"), ("河南省", "开封市", "0371"), ("安徽省", "亳州市", "0558"),
    ("广西壮族自治区", "贵港市", "0775"), ("广西壮族自治区", "贺州市", "0774"), ("广西壮族自治区", "来宾市", "0772"),
    ("河南省", "济源市", "0391"), ("甘肃省", "金昌市", "0935"), ("甘肃省", "嘉峪关市", "0937"),
    ("海南省", "儋州市", "0898"), ("海南省", "琼海市", "0898"), ("海南省", "文昌市", "0898"), ("海南省", "万宁市", "0898"),
    ("北京市", "北京市", "010"),
]


def sound(text: str) -> tuple[str, ...]:
    """The pronunciation of a text without tones (a pinyin input method's typo keeps it)."""
    return tuple(lazy_pinyin(text))


def homophones(chars: str) -> dict[str, list[str]]:
    """Character → other characters of ``chars`` that sound the same (pypinyin)."""
    by_sound = defaultdict(list)
    for c in dict.fromkeys(chars):
        by_sound[sound(c)].append(c)
    return {c: [o for o in group if o != c] for group in by_sound.values() for c in group if len(group) > 1}


# a wider pool for homophone swaps: common characters of trade names
HOMOPHONE_POOL = NAME_CHARS + ("晖辉徽鼎顶定宏鸿弘洪红成诚城承辰晨臣峰丰锋风元园圆源远铭名明鸣利力立丽"
                               "翔祥详盛胜圣嘉佳家加锐瑞睿泰太钛恒衡亨凯楷铠福富复甫义艺毅益亿易怡"
                               "达大骏俊峻军君均伟威维纬玮炜浩豪昊皓好")


class Issue12:
    """The new kinds, written by a ``Gen`` of make_dedup_cases (rng, places, names, phones)."""

    def __init__(self, gen, trades) -> None:
        self.g = gen
        self.rng = gen.rng
        self.trades = trades
        self.same_sound = homophones(HOMOPHONE_POOL)
        self.town_places = self._town_places()

    def _town_places(self) -> list[tuple[tuple[str, str, str], str | None, list[str]]]:
        """(place, district or None, its towns) for the cities of the set: Dongguan and Zhongshan first."""
        out = []
        for p in self.g.places:
            dists = N.districts(p[0], p[1])
            if not dists:
                towns = N.towns(p[0], p[1])
                if towns:
                    out.append((p, None, towns))
                continue
            for d in dists[:3]:
                towns = N.towns(p[0], p[1], d)
                if towns:
                    out.append((p, d, towns))
        return out

    def _town_place(self, i: int):
        if i % 3 == 0:  # the cities the issue names: towns only, no districts
            cities = [t for t in self.town_places if t[1] is None]
            return self.rng.choice(cities)
        return self.rng.choice(self.town_places)

    def add(self, kind, existing, query, expected, note, distract=True):
        self.g.add(kind, existing, query, expected, note, distract=distract)

    def trade(self):
        return self.rng.choice(self.trades)

    def rec(self, name, p, fields=True, phone=True):
        return self.g.record(name, p, self.g.landline(p[2]) if phone else None, fields=fields)

    # --- duplicates -----------------------------------------------------------------------
    def town(self, n: int) -> None:
        for i in range(n):
            p, dist, towns = self._town_place(i)
            town = self.rng.choice(towns)
            short = next((town[: -len(s)] for s in N.TOWN_SUFFIXES
                          if town.endswith(s) and len(town) - len(s) >= 2), town)
            zihao, industry = self.trade()
            form, form2 = self.rng.choice(["有限公司", "厂"]), self.rng.choice(["有限公司", "厂", "制品厂"])
            city, city_s = p[1], self.g.short(p[1])
            d = dist or ""
            variant = i % 4
            if variant == 0:
                existing, query = f"{city}{d}{town}{zihao}{industry}{form}", f"{city}{zihao}{industry}{form}"
            elif variant == 1:
                existing, query = f"{city}{zihao}{industry}{form}", f"{city_s}{short}{zihao}{industry}{form2}"
            elif variant == 2:
                existing, query = f"{city}{d}{town}{zihao}{industry}{form}", f"{city_s}{zihao}{industry}{form2}"
            else:
                existing, query = f"{city}{zihao}{industry}{form}", f"{town}{zihao}{industry}{form}"
            if self.rng.random() < 0.5:
                existing, query = query, existing
            self.add("town", [self.rec(existing, p)],
                     {"company": query, "province": p[0], "city": p[1]}, "duplicate",
                     f"town {town} in one name only")

    def bare_form(self, n: int) -> None:
        for i in range(n):
            trade, p = self.trade(), self.g.place()
            a, b = BARE_FORMS[i % len(BARE_FORMS)]
            style = self.rng.choice(["city_full", "city_short"])
            existing = self.g.name(trade, p, style, a or "有限公司") if a else \
                self.g.name(trade, p, style, "X")[:-1]
            query = self.g.name(trade, p, self.rng.choice(["city_full", "city_short"]), b or "X")
            if not b:
                query = query[:-1]
            if i % 2:
                existing, query = query, existing
            self.add("bare_form", [self.rec(existing, p)],
                     {"company": query, "province": p[0], "city": p[1]}, "duplicate",
                     f"legal form {a or '(none)'} against {b or '(none)'}")

    def keyword_whole(self, n: int) -> None:
        for i in range(n):
            (zihao, industry), p = self.trade(), self.g.place()
            generic = self.rng.choice(GENERIC_WORDS)
            dists = N.districts(p[0], p[1])
            region = p[1] + (self.rng.choice(dists) if dists and i % 2 else "")
            existing = f"{region}{zihao}{industry}{generic}{self.rng.choice(['有限公司', '有限责任公司'])}"
            self.add("keyword_whole", [self.rec(existing, p)], {"company": zihao + industry},
                     "duplicate", f"keyword {zihao}{industry}: the whole trade name, before {generic}")

    def generic_word(self, n: int) -> None:
        for i in range(n):
            (zihao, industry), p = self.trade(), self.g.place()
            g1, g2 = self.rng.sample(GENERIC_WORDS, 2)
            existing = f"{p[1]}{zihao}{industry}{g1}有限公司"
            query = f"{self.g.short(p[1])}{zihao}{industry}{g2 if i % 3 == 0 else ''}{self.rng.choice(['有限公司', '厂', '公司'])}"
            if i % 2:
                existing, query = query, existing
            self.add("generic_word", [self.rec(existing, p)],
                     {"company": query, "province": p[0], "city": p[1]}, "duplicate",
                     f"generic word {g1} (or {g2}) between the trade name and the legal form")

    def sounding_as(self, zihao: str) -> str | None:
        """``zihao`` with one character swapped for another of the same sound, or None if none has one."""
        at = [i for i, c in enumerate(zihao) if c in self.same_sound]
        if not at:
            return None
        i = self.rng.choice(at)
        return zihao[:i] + self.rng.choice(self.same_sound[zihao[i]]) + zihao[i + 1:]

    def homophone(self, n: int) -> None:
        made = 0
        while made < n:
            (zihao, industry), p = self.trade(), self.g.place()
            other = self.sounding_as(zihao)
            if other is None:
                continue
            form = self.rng.choice(["有限公司", "厂", "经营部"])
            right = self.rec(f"{p[1]}{zihao}{industry}{form}", p)
            # issue 20: a typo of the same company or another company: a person judges, shown it first
            self.g.add("homophone", [right],
                       {"company": f"{self.g.short(p[1])}{other}{industry}{form}", "province": p[0], "city": p[1]},
                       "review", f"{other} sounds as {zihao}: a typo, or another company", first=right["company"])
            made += 1

    def landline_same_city(self, n: int) -> None:
        for i in range(n):
            trade, p = self.trade(), self.g.place()
            if i % 3 == 0:  # a city whose area code libphonenumber lists under a neighbour only
                p = self.rng.choice(SHARED_AREA_CODES)
            area, local, fax = p[2], self.g.local(self.rng.choice([7, 8, 8])), None
            fax = self.g.local(len(local))
            existing = self.g.record(self.g.name(trade, p, self.rng.choice(["city_full", "prov_city_full"])), p,
                                     f"{area}-{local}", f"{area}-{fax}")
            other = self.trade()
            hit = [("phone", local), ("fax", fax), ("phone", fax), ("fax", local)][i % 4]
            q = {"company": self.g.name(other, p, self.rng.choice(["city_full", "city_short", "none"])),
                 hit[0]: hit[1]}
            if i % 5 != 4:  # else the city only in the name
                q.update(province=p[0], city=self.g.short(p[1]) if i % 2 else p[1])
            elif not q["company"].startswith((p[1], self.g.short(p[1]))):
                q["company"] = self.g.name(other, p, "city_full")
            self.add("landline_same_city", [existing], q, "duplicate",
                     f"{hit[0]} {hit[1]} without area code in {p[1]}, another name: the same company")

    # --- look-alikes ---------------------------------------------------------------------
    def town_other_trade(self, n: int) -> None:
        for i in range(n):
            p, dist, towns = self._town_place(i)
            town = self.rng.choice(towns)
            a, b = self.rng.sample(self.trades, 2)
            b = (b[0], a[1]) if i % 2 else b
            self.add("town_other_trade", [self.rec(f"{p[1]}{dist or ''}{town}{a[0]}{a[1]}有限公司", p)],
                     {"company": f"{p[1]}{town}{b[0]}{b[1]}厂", "province": p[0], "city": p[1],
                      "phone": self.g.landline(p[2])}, "new", f"same town {town}, another trade name")

    def generic_other_trade(self, n: int) -> None:
        for _ in range(n):
            (zihao, industry), p = self.trade(), self.g.place()
            other = self.rng.choice([x for x in INDUSTRIES if x != industry and industry not in x])
            g1 = self.rng.choice(GENERIC_WORDS)
            self.add("generic_other_trade", [self.rec(f"{p[1]}{zihao}{industry}{g1}有限公司", p)],
                     {"company": f"{p[1]}{zihao}{other}有限公司", "province": p[0], "city": p[1],
                      "phone": self.g.landline(p[2])}, "new", f"same 字号 {zihao}, {other} is not {industry}")

    def sound_differs(self, n: int) -> None:
        made = 0
        while made < n:
            (zihao, industry), p = self.trade(), self.g.place()
            i = self.rng.randrange(len(zihao))
            c = self.rng.choice(NAME_CHARS)
            other = zihao[:i] + c + zihao[i + 1:]
            if c == zihao[i] or sound(c) == sound(zihao[i]):
                continue
            self.add("sound_differs", [self.rec(f"{p[1]}{zihao}{industry}有限公司", p)],
                     {"company": f"{self.g.short(p[1])}{other}{industry}厂", "province": p[0], "city": p[1],
                      "phone": self.g.landline(p[2])}, "new", f"{other} does not sound as {zihao}")
            made += 1

    def homophone_other_city(self, n: int) -> None:
        made = 0
        while made < n:
            (zihao, industry), p = self.trade(), self.g.place()
            other = self.sounding_as(zihao)
            if other is None:
                continue
            q = self.g.place(exclude=(p[1],))
            self.add("homophone_other_city", [self.rec(f"{p[1]}{zihao}{industry}有限公司", p)],
                     {"company": f"{q[1]}{other}{industry}有限公司", "province": q[0], "city": q[1],
                      "phone": self.g.landline(q[2])}, "new", f"{other} sounds as {zihao}, but in {q[1]}")
            made += 1

    # --- unrelated names ------------------------------------------------------------------
    def zihao(self) -> str:
        return "".join(self.rng.sample(NAME_CHARS, self.rng.choice([2, 2, 2, 3])))

    def unrelated(self, n: int, neighbours: int = 20) -> None:
        forms = ["有限公司", "有限公司", "厂", "制品厂", "有限责任公司", "商行", "经营部"]
        for _ in range(n):
            p = self.g.place()
            industry = self.rng.choice(INDUSTRIES)
            existing = []
            names_in_order = []
            for k in range(neighbours):
                z = self.zihao()
                ind = industry if k % 2 == 0 else self.rng.choice(INDUSTRIES)
                generic = self.rng.choice(GENERIC_WORDS) if k % 5 == 0 else ""
                names_in_order.append(z)
                style = self.rng.choice(["city_full", "city_short", "prov_city_full"])
                existing.append(self.g.record(self.g.name((z, ind + generic), p, style, self.rng.choice(forms)), p,
                                              self.g.landline(p[2])))
            same_trade = [name for i, name in enumerate(names_in_order) if i % 2 == 0]
            while True:  # characters may be shared, but not a neighbour's name (those stay reviews)
                z = self.zihao()
                if all(OSA.distance(z, o) >= 2 and z not in o and o not in z and sound(z) != sound(o)
                       for o in names_in_order) and z not in same_trade:
                    break
            query = self.g.name((z, industry), p, self.rng.choice(["city_full", "city_short"]), self.rng.choice(forms))
            self.add("unrelated", existing, {"company": query, "province": p[0], "city": p[1],
                                             "phone": self.g.landline(p[2])}, "new",
                     "a new company among twenty of its city, industry and legal forms; no 字号 one edit away",
                     distract=False)


def add_issue_12(gen, trades, scale: float = 1) -> None:
    """The kinds of issue 12, ``scale`` × their count."""
    k = Issue12(gen, trades)
    for method, count in ((k.town, 48), (k.bare_form, 42), (k.keyword_whole, 40), (k.generic_word, 42),
                          (k.homophone, 40), (k.landline_same_city, 45), (k.town_other_trade, 40),
                          (k.generic_other_trade, 40), (k.sound_differs, 40), (k.homophone_other_city, 20),
                          (k.unrelated, 200)):
        method(max(1, round(count * scale)))
