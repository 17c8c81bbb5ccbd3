"""Unit tests of services.checking.normalize: folding, company keys, phone keys, comparison."""
import dataclasses
import time

import phonenumbers
import pytest

from services.checking import normalize as N
from services.checking.normalize import CompanyKey, Match, PhoneKey, company_key, compare, fold, phone_keys, record_keys

# --- fold --------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, folded", [
    ("上海瑞麗服裝廠", "上海瑞丽服装厂"),  # Traditional → Simplified (OpenCC)
    ("揚州五環印花廠", "扬州五环印花厂"),
    ("ＡＢＣ电子（上海）有限公司", "abc电子上海有限公司"),  # full-width letters and brackets
    ("１２３", "123"),
    ("上海 瑞丽·服装　有限公司", "上海瑞丽服装有限公司"),  # spaces, ideographic space, middle dot
    ("“瑞丽”服装，有限公司。", "瑞丽服装有限公司"),  # Chinese punctuation
    ("【瑞丽】服装-厂_/", "瑞丽服装厂"),
    ("Hello World", "helloworld"),
    ("", ""),
    (None, ""),
])
def test_fold(raw, folded):
    assert fold(raw) == folded


# --- company_key ------------------------------------------------------------------------------

def test_the_manuals_pair_has_one_key():
    a = company_key("上海瑞丽服装厂")
    b = company_key("上海市瑞丽服装有限公司")
    assert a.core == b.core == "瑞丽服装"
    assert (a.province, a.city) == (b.province, b.city) == ("上海市", "上海市")
    assert (a.legal_form, b.legal_form) == ("厂", "有限公司")
    assert a.folded == "上海瑞丽服装厂"


def test_the_manuals_other_examples():
    k = company_key("佛山市南海区里水惠翔印刷厂")  # 里水 is a town (里水镇) of 南海区
    assert (k.core, k.province, k.city, k.district, k.town, k.legal_form) == (
        "惠翔印刷", "广东省", "佛山市", "南海区", "里水镇", "厂")
    k = company_key("潍坊市的迪有限公司")
    assert (k.core, k.province, k.city) == ("的迪", "山东省", "潍坊市")
    k = company_key("揚州五環(huán)印花廠")  # as printed in the manual, pinyin annotation included
    assert (k.core, k.province, k.city) == ("五环印花", "江苏省", "扬州市")
    k = company_key("泰安藝動力彩色印刷廠")
    assert (k.core, k.city) == ("艺动力彩色印刷", "泰安市")


@pytest.mark.parametrize("name", [
    "上海瑞丽服装厂", "上海市瑞丽服装厂", "上海瑞麗服裝廠", "瑞丽服装(上海)有限公司",
    "瑞丽服装（上海市）有限责任公司", "上海 瑞丽·服装 股份有限公司", "上海瑞丽服装集团有限公司",
    "上海瑞丽服装商行", "上海瑞丽服装经营部", "上海瑞丽服装(集团)有限公司",
])
def test_variants_of_one_name(name):
    k = company_key(name)
    assert (k.core, k.province, k.city) == ("瑞丽服装", "上海市", "上海市"), k


@pytest.mark.parametrize("name, core, province, city, district", [
    ("江苏省扬州市五环印花厂", "五环印花", "江苏省", "扬州市", None),
    ("江苏扬州五环印花厂", "五环印花", "江苏省", "扬州市", None),
    ("扬州五环印花厂", "五环印花", "江苏省", "扬州市", None),
    ("扬州市邗江区五环印花厂", "五环印花", "江苏省", "扬州市", "邗江区"),
    ("扬州邗江五环印花厂", "五环印花", "江苏省", "扬州市", "邗江区"),
    ("义乌市华美家具有限公司", "华美家具", "浙江省", "金华市", "义乌市"),
    ("浙江义乌华美家具有限公司", "华美家具", "浙江省", "金华市", "义乌市"),
    ("广西壮族自治区南宁市恒通贸易有限公司", "恒通贸易", "广西壮族自治区", "南宁市", None),
    ("广西南宁恒通贸易有限公司", "恒通贸易", "广西壮族自治区", "南宁市", None),
    ("恩施恒通贸易有限公司", "恒通贸易", "湖北省", "恩施土家族苗族自治州", None),
    ("北京市朝阳区恒达机械厂", "恒达机械", "北京市", "北京市", "朝阳区"),
    ("吉林市长白山药业有限公司", "长白山药业", "吉林省", "吉林市", None),
    ("海南椰风食品有限公司", "椰风食品", "海南省", None, None),
    ("华为技术（深圳）有限公司", "华为技术", "广东省", "深圳市", None),
    ("重庆市渝北区恒达机械厂", "恒达机械", "重庆市", "重庆市", None),  # a district since renamed
    ("瑞丽服装厂", "瑞丽服装", None, None, None),  # 瑞丽 is also a county-level city: not cut
    ("东方红拖拉机配件厂", "东方红拖拉机配件", None, None, None),  # 东方市 likewise
])
def test_regions(name, core, province, city, district):
    k = company_key(name)
    assert (k.core, k.province, k.city, k.district) == (core, province, city, district), k


def test_fields_place_a_name_without_region():
    k = company_key("五环印花厂", "江苏", "扬州")
    assert (k.core, k.province, k.city) == ("五环印花", "江苏省", "扬州市")
    k = company_key("瑞丽服装厂", "上海", None)  # a municipality: province and city both
    assert (k.province, k.city) == ("上海市", "上海市")
    k = company_key("扬州市五环印花厂", "浙江省", "杭州市")  # the name's own full region wins
    assert (k.core, k.province, k.city) == ("五环印花", "江苏省", "扬州市")
    # a short city name the fields contradict stays in the trade name (as 阿里 in 阿里巴巴)
    k = company_key("扬州五环印花厂", "浙江省", "杭州市")
    assert (k.core, k.province, k.city) == ("扬州五环印花", "浙江省", "杭州市")
    k = company_key("江苏五环印花厂", "江苏省", "扬州市")  # the name gives the province only
    assert (k.province, k.city) == ("江苏省", "扬州市")


def test_fields_settle_ambiguous_or_misleading_prefixes():
    assert company_key("朝阳区恒达机械厂").province is None  # Beijing's or Changchun's
    k = company_key("朝阳区恒达机械厂", "北京", None)
    assert (k.core, k.city, k.district) == ("恒达机械", "北京市", "朝阳区")
    k = company_key("阿里巴巴(中国)网络技术有限公司", "浙江省", "杭州市")  # 阿里 is also 阿里地区
    assert (k.core, k.city) == ("阿里巴巴网络技术", "杭州市")
    k = company_key("南海里水惠翔印刷厂", "广东", "佛山")  # a short county name, placed by the fields
    assert (k.core, k.district, k.town) == ("惠翔印刷", "南海区", "里水镇")


def test_branches_keep_the_parents_trade_name_and_their_own_place():
    k = company_key("上海瑞丽服装有限公司杭州分公司")
    assert (k.core, k.province, k.city) == ("瑞丽服装", "浙江省", "杭州市")
    assert company_key("瑞丽服装有限公司第一分公司").core == "瑞丽服装"


def test_keywords_and_edge_names():
    assert company_key("瑞丽服装").core == "瑞丽服装"
    assert company_key("瑞丽").core == "瑞丽"
    assert company_key("上海").core == "上海"  # only a region: kept as the core
    k = company_key("")
    assert k == CompanyKey("", "")
    assert company_key(None, "江苏", "扬州").city == "扬州市"


def test_company_key_is_frozen_and_cached():
    k = company_key("上海瑞丽服装厂")
    with pytest.raises(dataclasses.FrozenInstanceError):
        k.core = "x"
    assert company_key("上海瑞丽服装厂") is k
    assert k.place == "上海市"
    assert company_key("佛山市南海区里水惠翔印刷厂").place == "广东省佛山市南海区"


def test_pickers():
    provs = N.provinces()
    assert len(provs) == 34 and provs[0] == "北京市" and "广西壮族自治区" in provs
    assert N.cities("上海") == ["上海市"]
    assert "扬州市" in N.cities("江苏省") and "扬州市" in N.cities("江苏")
    assert "南海区" in N.districts("广东", "佛山")
    assert N.cities("火星") == []
    assert N.canonical_place("浙江", "义乌") == ("浙江省", "金华市", "义乌市")
    assert N.canonical_place(None, "苏州") == ("江苏省", "苏州市", None)


def test_name_grams():
    assert N.name_grams("瑞丽服装") == ["瑞丽", "丽服", "服装"]
    assert N.name_grams("的迪") == ["的迪"]
    assert N.name_grams("x") == ["x"]
    assert N.name_grams("") == []
    assert N.name_grams("啊啊啊") == ["啊啊"]


def test_name_neighbours_find_one_edit_apart_names():
    assert N.name_neighbours("瑞丽服装") == ["丽服装", "瑞服装", "瑞丽装", "瑞丽服"]
    assert N.name_neighbours("的迪") == []
    assert set(N.name_neighbours("瑞丽服装")) & set(N.name_neighbours("瑞丰服装")) == {"瑞服装"}
    assert N.name_substrings("瑞丽服装制造")[:3] == ["瑞丽服装制", "丽服装制造", "瑞丽服装"]
    assert "瑞丽服装" in N.name_substrings("瑞丽服装制造") and N.name_substrings("瑞丽") == []


def test_index_terms_find_every_candidate_compare_can_return():
    """Every pair of the labelled set that ``compare`` matches shares an index term."""
    import json
    from pathlib import Path

    cases = [json.loads(x) for x in (Path(__file__).parent / "data" / "dedup_cases.jsonl")
             .read_text(encoding="utf-8").splitlines() if x.strip()]
    pairs = 0
    for case in cases:
        q = record_keys(**case["query"])
        q_terms = set(N.index_terms(q))
        q_grams = {t for t in q_terms if t.startswith("g:")}
        exact = set(N.lookup_terms(q))  # what services.checking.dedup looks up exactly
        for e in case["existing"]:
            c = record_keys(**e)
            if compare(q, c) is None:
                continue
            pairs += 1
            c_terms = set(N.index_terms(c))
            # an exact-match key, or every bigram of the keyword (containment)
            assert exact & c_terms or (q_grams and q_grams <= c_terms), (case["id"], e["company"])
    assert pairs > 300
    terms = N.index_terms(record_keys("上海瑞丽服装厂", phone="021-64381234", fax="13800138000"))
    assert terms[:2] == ["n:瑞丽服装", "d:瑞丽服装"]
    assert "g:丽服" in terms and "d:瑞服装" in terms
    assert terms[-2:] == ["p:64381234", "p:13800138000"]


# --- phone_keys --------------------------------------------------------------------------------

YZ = PhoneKey("2398577", "0514", "landline")


@pytest.mark.parametrize("raw", [
    "0514——2398577", "0514-2398577", "0514—2398577", "0514－2398577", "(0514)2398577",
    "（0514）2398577", "0514 2398577", "05142398577", "+86 514 2398577", "+86-0514-2398577",
    "0086 514 2398577", "86 514 2398577", "０５１４－２３９８５７７", "电话：0514-2398577",
])
def test_landline_formats(raw):
    assert phone_keys(raw) == [YZ]


@pytest.mark.parametrize("raw", ["0514-2398577转801", "0514-2398577 ext. 801", "0514-2398577 x801",
                                 "0514-2398577-801", "0514-2398577分机801", "0514-2398577#801"])
def test_extensions(raw):
    assert phone_keys(raw) == [PhoneKey("2398577", "0514", "landline", "801")]


def test_valid_numbers_get_e164_and_area_codes_of_two_and_three_digits():
    assert phone_keys("010-62345678") == [PhoneKey("62345678", "010", "landline", None, "+861062345678")]
    assert phone_keys("0536-8697676")[0].e164 == "+865368697676"
    assert phone_keys("021 6438 1234")[0].area_code == "021"


def test_mobiles():
    want = [PhoneKey("13800138000", None, "mobile", None, "+8613800138000")]
    for raw in ("13800138000", "138-0013-8000", "+86 138 0013 8000", "8613800138000",
                "008613800138000", "１３８００１３８０００", "手机 13800138000"):
        assert phone_keys(raw) == want, raw


def test_a_landline_without_area_code():
    assert phone_keys("2398577") == [PhoneKey("2398577", None, "landline")]
    assert phone_keys("86976760") == [PhoneKey("86976760", None, "landline")]


def test_several_numbers_in_one_field():
    two = [YZ, PhoneKey("2398578", "0514", "landline")]
    for raw in ("0514-2398577/0514-2398578", "0514-2398577、0514-2398578", "0514-2398577, 0514-2398578",
                "0514-2398577；0514-2398578", "0514 2398577 0514 2398578", "0514-2398577/78",
                "0514-2398577/2398578"):
        assert phone_keys(raw) == two, raw
    assert [k.kind for k in phone_keys("0514-2398577 / 13800138000")] == ["landline", "mobile"]
    assert len(phone_keys("13800138000 13900139000")) == 2


def test_service_and_foreign_numbers():
    assert phone_keys("400-820-8820") == [PhoneKey("4008208820", None, "landline", None, "+864008208820")]
    hk = phone_keys("+852 2123 4567")
    assert hk and hk[0].e164 == "+85221234567"


@pytest.mark.parametrize("raw, problem", [
    ("abc", "no digits"), ("123", "too short for a phone number"), ("1380013800", "a mobile number has 11 digits"),
    ("0514-239857", "unknown area code or wrong number of digits"), ("12345678901", "not a valid phone number"),
])
def test_garbage(raw, problem):
    assert phone_keys(raw) == []
    assert N.phone_problem(raw) == problem


def test_no_problem():
    for raw in ("", None, "  ", "0514——2398577", "13800138000/0514-2398577"):
        assert N.phone_problem(raw) is None
    assert N.phone_problem("0514-2398577 / abc") == "no digits"  # one part is not a number


@pytest.mark.parametrize("raw", ["010-62345678", "021-64381234", "0536-8697676", "0757-85612345",
                                 "0571-88123456", "0898-66123456", "023-67123456", "13912345678"])
def test_the_fast_path_agrees_with_libphonenumber(raw):
    num = phonenumbers.parse(raw, "CN")
    assert phonenumbers.is_valid_number(num)
    (key,) = phone_keys(raw)
    assert key.e164 == phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    if key.kind == "landline":
        national = str(num.national_number)
        alen = phonenumbers.length_of_geographical_area_code(num)
        assert (key.area_code, key.local) == ("0" + national[:alen], national[alen:])
    else:
        assert phonenumbers.number_type(num) == phonenumbers.PhoneNumberType.MOBILE


def test_area_codes_know_their_cities():
    assert N.area_code_places("0514") == ("江苏省", frozenset({"扬州市"}))
    assert N.area_code_places("021") == ("上海市", frozenset({"上海市"}))
    assert "铁岭市" in N.area_code_places("024")[1]
    assert N.area_code_places(None) is None


# --- compare / verdict ---------------------------------------------------------------------------

def rk(company="", province=None, city=None, phone=None, fax=None):
    return record_keys(company, province, city, phone, fax)


def test_a_shared_landline_is_a_duplicate_with_or_without_area_code():
    existing = rk("扬州五环印花厂", "江苏", "扬州", "0514——2398577", "0514——2345586")
    m = compare(rk(phone="2398577"), existing)
    assert m.verdict == "duplicate" and m.matched_on == ("phone",)
    assert m.reasons == ("landline 2398577, area code ignored",)
    m = compare(rk(phone="0514-2398577"), existing)
    assert m.verdict == "duplicate" and m.reasons == ("landline 0514-2398577",)
    assert compare(rk(phone="0571-2398577"), existing) is None  # both area codes, different


def test_landline_and_fax_match_each_other():
    existing = rk("扬州五环印花厂", "江苏", "扬州", "0514-2398577", "0514-2345586")
    m = compare(rk(phone="2345586"), existing)
    assert m.verdict == "duplicate" and m.matched_on == ("phone",) and "their fax" in m.reasons[0]
    m = compare(rk(fax="0514-2398577"), existing)
    assert m.verdict == "duplicate" and m.matched_on == ("fax",) and "their phone" in m.reasons[0]


def test_an_area_code_that_contradicts_the_entrys_city_makes_a_review():
    existing = rk("扬州五环印花厂", "江苏", "扬州", "0514-2398577")
    m = compare(rk("杭州天成塑料有限公司", "浙江", "杭州", "2398577"), existing)
    assert m.verdict == "review" and "0514" in m.reasons[0]
    assert compare(rk("天成塑料", "江苏", "扬州", "2398577"), existing).verdict == "duplicate"


def test_mobiles_match_and_extensions_do_not_matter():
    existing = rk("上海瑞丽服装厂", phone="021-64381234转801 / 13800138000")
    assert compare(rk(phone="+86 138 0013 8000"), existing).verdict == "duplicate"
    assert compare(rk(phone="021-64381234-802"), existing).verdict == "duplicate"
    assert compare(rk(phone="13800138001"), existing) is None


def test_names():
    pool = rk("上海瑞丽服装厂")
    m = compare(rk("上海市瑞丽服装有限公司"), pool)
    assert m.verdict == "duplicate" and m.score == 1.0 and m.matched_on == ("name",)
    assert compare(rk("瑞丽服装"), pool).verdict == "duplicate"  # no place: nothing tells them apart
    m = compare(rk("北京瑞丽服装厂"), pool)
    assert m.verdict == "review" and "another place" in m.reasons[0]
    m = compare(rk("上海瑞丰服装厂"), pool)  # one character apart: never refused
    assert m is None or m.verdict == "review"
    m = compare(rk("瑞丽"), pool)
    assert m.verdict == "review" and m.reasons == ("瑞丽服装 contains 瑞丽",)
    assert compare(rk("上海华联超市"), pool) is None
    assert compare(rk("杭州瑞丽服装设计有限公司"), pool) is None  # other city, only similar


def test_same_name_other_district_is_a_review():
    a = rk("佛山市南海区惠翔印刷厂")
    assert compare(rk("佛山市顺德区惠翔印刷厂"), a).verdict == "review"
    assert compare(rk("佛山市惠翔印刷厂"), a).verdict == "duplicate"


def test_verdict_order():
    dup = N.Match(1.0, ("phone",), ("x",), "duplicate")
    rev = N.Match(0.7, ("name",), ("y",), "review")
    assert N.verdict([]) == "new"
    assert N.verdict([None, None]) == "new"
    assert N.verdict([rev, None]) == "review"
    assert N.verdict([rev, dup, None]) == "duplicate"


def test_normalising_is_fast_enough_for_imports():
    N.company_key.cache_clear()
    rows = [(f"上海瑞丽服装{i}有限公司", f"021-6{i:07d}", f"139{i:08d}") for i in range(5000)]
    start = time.perf_counter()
    for name, phone, fax in rows:
        record_keys(name, "上海", None, phone, fax)
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"{len(rows) / elapsed:.0f} rows/s"  # loose: CI machines are shared


# --- issue 12: towns, bare legal forms, generic words, homophones, neighbours, shared area codes


def _verdict(a, b):
    return (compare(record_keys(**a), record_keys(**b)) or Match(0, (), (), "new")).verdict


@pytest.mark.parametrize("name, fields, core, town", [
    ("中山市小榄镇华锐五金制品有限公司", {}, "华锐五金制品", "小榄镇"),
    ("东莞市常平镇恒信塑胶制品厂", {}, "恒信塑胶制品", "常平镇"),
    ("东莞大朗永盛毛织厂", {}, "永盛毛织", "大朗镇"),  # without 镇
    ("中山市西区街道永泰纺织有限公司", {}, "永泰纺织", "西区街道"),  # not the old district 西区
    ("小店街道飞马光电厂", {"province": "山西省", "city": "太原市"}, "飞马光电", "小店街道"),  # not 小店区
    ("菏泽曹县仵楼中天电子厂", {}, "中天电子", "曹县仵楼镇"),  # the data writes the county into the name
    ("里水镇惠翔印刷厂", {"province": "广东省", "city": "佛山市"}, "惠翔印刷", "里水镇"),  # placed by the fields
    # issue 20: with no region before it, a town's short name is a trade name's start
    ("里水惠翔印刷厂", {"province": "广东省", "city": "佛山市"}, "里水惠翔印刷", None),
    ("东莞长安", {}, "长安", None),  # a short town name needs a trade name after it
])
def test_towns_are_places_not_trade_names(name, fields, core, town):
    k = company_key(name, **fields)
    assert (k.core, k.town) == (core, town)


def test_town_lists_come_from_the_data_set():
    from services.checking.normalize import towns
    assert {"常平镇", "大朗镇", "虎门镇", "东城街道"} <= set(towns("广东", "东莞"))
    assert "里水镇" in towns("广东省", "佛山市", "南海区")
    assert towns("广东省", "佛山市", "禅城区") and "里水镇" not in towns("广东省", "佛山市", "禅城区")
    assert towns("火星", "某市") == [] and towns(None, None) == []


@pytest.mark.parametrize("a, b", [
    ("温州鸿达电器公司", "温州鸿达电器厂"),
    ("厦门立信包装公司", "厦门立信包装有限公司"),
    ("厦门立信包装有限", "厦门立信包装有限公司"),
    ("吐鲁番市宏远电子公司", "吐鲁番宏远电子"),  # 电子公司 is not 电 + 子公司
    ("镇江德盛化工厂", "镇江市德盛化工有限公司"),  # 化工厂 is not 化 + 工厂
    ("苏州宏图包装有限公司", "苏州市宏图包装科技有限公司"),  # a generic word
    ("佛山金源五金实业发展有限公司", "佛山市金源五金有限公司"),
    ("南昌豪腾彩色印刷有限公司", "南昌豪腾印刷厂"),  # issue 20: the same 字号 and trade, the same city
    ("上海瑞丽服饰有限公司", "上海瑞丽服装厂"),  # 服饰 and 服装 are one trade
    ("海东安泰消防器材有限公司", "海东市安泰消防器材设计有限公司"),
])
def test_the_same_company_written_another_way(a, b):
    assert _verdict({"company": a}, {"company": b}) == "duplicate"


def test_a_keyword_that_is_the_whole_trade_name():
    assert _verdict({"company": "金源五金"}, {"company": "佛山市顺德区金源五金实业有限公司"}) == "duplicate"
    assert _verdict({"company": "宏图包装"}, {"company": "苏州市宏图包装科技有限公司"}) == "duplicate"
    assert _verdict({"company": "金源"}, {"company": "佛山市顺德区金源五金实业有限公司"}) == "review"


@pytest.mark.parametrize("a, b, verdict", [
    ("上海瑞丰服装厂", "上海瑞丽服装厂", "new"),  # issue 20: in a 字号 of two, one other character is another name
    ("杭州明晖灯饰厂", "杭州明辉灯饰厂", "review"),  # issue 20: the same sound is for a person to judge
    ("济南金顶机械经营部", "济南金鼎机械经营部", "review"),
    ("上海瑞丽服装厂", "北京瑞丽服装厂", "review"),  # the same trade name in another city
    ("杭州明晖灯饰厂", "苏州明辉灯饰厂", "new"),  # the same sound in another city
    ("上海华美家具有限公司", "上海美嘉家具有限公司", "new"),  # industry and legal form shared: no resemblance
    ("上海华达服装厂", "上海美达服装厂", "new"),  # one edit apart, in a 字号 of two
    ("上海华达利服装厂", "上海美达利服装厂", "review"),  # one edit apart, from three characters of 字号
    ("上海金源五金实业有限公司", "上海金源塑料实业有限公司", "review"),  # issue 20: same 字号, another trade
    ("北京瑞丽服装厂", "上海瑞丽服饰有限公司", "new"),  # same 字号 and trade in another city, written otherwise
])
def test_look_alikes_are_not_refused(a, b, verdict):
    assert _verdict({"company": a}, {"company": b}) == verdict


@pytest.mark.parametrize("province, city, area", [
    ("湖南省", "株洲市", "0731"), ("海南省", "儋州市", "0898"), ("河南省", "开封市", "0371"),
    ("北京市", "北京市", "010"), ("广东省", "东莞市", "0769"),
])
def test_a_number_without_area_code_in_a_city_that_dials_a_neighbours_code(province, city, area):
    existing = {"company": "某某机械厂", "province": province, "city": city, "phone": f"{area}-6612345"}
    for field in ("phone", "fax"):
        query = {"company": "另一家贸易公司", "province": province, "city": city, field: "6612345"}
        assert _verdict(query, existing) == "duplicate", (city, field)
    other = {"company": "另一家贸易公司", "province": "浙江省", "city": "杭州市", "phone": "6612345"}
    assert _verdict(other, existing) == "review"  # another province: the area code contradicts it


# --- issue 20: 字号 | 行业, refuse only what two real companies could not both be, places never eat a 字号


@pytest.mark.parametrize("stem, zihao, trade, family", [
    ("豪腾印刷", "豪腾", "印刷", "印刷"),
    ("豪腾彩色印刷", "豪腾", "彩色印刷", "印刷"),  # 彩色印刷 is a kind of 印刷
    ("瑞丽服饰", "瑞丽", "服饰", "服装"),  # 服装 and 服饰 are one trade
    ("安泰消防器材设计", "安泰", "消防器材设计", "消防"),  # the first word that names a trade
    ("东八时区五金", "东八时区", "五金", "五金"),
    ("长白山药业", "长白山", "药业", "医药"),
    ("中天", "中天", "", ""),  # no trade word: all 字号
    ("通达净水设备", "通达", "净水设备", "净水"),
    ("达五金", "达", "五金", "五金"),  # a 字号 of one character only when nothing else is left
])
def test_a_stem_is_cut_into_its_zihao_and_trade(stem, zihao, trade, family):
    assert N.trade_name(stem) == N.TradeName(zihao, trade, family)


def test_the_trade_lexicon_is_read_from_companynameparsers_data_without_its_noise():
    words = N._trade_words()
    assert len(words) > 1000 and {"印刷", "服装", "五金", "彩色印刷", "汽配"} <= words
    assert not {"杭州", "常熟", "明月", "第一", "企业"} & words  # places, brands, words of rank


def test_places_never_eat_a_trade_name():
    # at the start of a name with no region before it, only a town's or street's full name is taken off
    assert company_key("彩虹街道森林电子", "广东", "广州").core == "森林电子"
    assert company_key("彩虹森林电子", "广东", "广州").core == "彩虹森林电子"  # 广州 has a 彩虹街道
    # districts since abolished only from the list: a trade name ending in 区 stays, after a city too
    assert company_key("东八时区五金", "广东", "广州").core == "东八时区五金"
    assert company_key("广州东八时区五金有限公司").core == "东八时区五金"
    assert company_key("重庆市渝北区恒达机械厂").core == "恒达机械"
    assert company_key("北京市崇文区恒达机械厂").core == "恒达机械"
    assert company_key("中山市小榄镇华锐五金制品有限公司").core == "华锐五金制品"  # after a city, as before


def _reason(a, b):
    match = compare(record_keys(**a), record_keys(**b))
    return (match.verdict, match.reasons[0].code) if match else None


@pytest.mark.parametrize("a, b, expected", [
    # the same 字号 in the same place and trade: refused
    ({"company": "豪腾印刷", "province": "江西", "city": "南昌"}, {"company": "南昌豪腾彩色印刷有限公司"},
     ("duplicate", "same_name_same_trade")),
    # without a place: shown, not refused
    ({"company": "豪腾印刷"}, {"company": "南昌豪腾彩色印刷有限公司"}, ("review", "same_name_same_trade_no_place")),
    ({"company": "杭州明晖灯饰厂"}, {"company": "杭州明辉灯饰厂"}, ("review", "homophone")),
    ({"company": "东莞华达丰服装厂"}, {"company": "东莞华达利服装厂"}, ("review", "one_char")),
    ({"company": "东莞华达力服装厂"}, {"company": "东莞华达利服装厂"}, ("review", "homophone")),
    ({"company": "佛山索迪五金厂"}, {"company": "佛山亨迪五金厂"}, None),  # 字号 of two: another name
    ({"company": "佛山达五金厂"}, {"company": "佛山亨达五金厂"}, None),  # the inner 字号 keeps one character
    ({"company": "上海瑞丽达服装厂"}, {"company": "上海瑞丽服装厂"}, ("review", "contains")),
    ({"company": "广州亿达电器"}, {"company": "广州市亿达房地产经纪有限公司"}, ("review", "same_name_other_trade")),
    ({"company": "九江豪腾印刷厂"}, {"company": "南昌豪腾彩色印刷有限公司"}, None),  # another city
])
def test_refuse_only_what_two_real_companies_could_not_both_be(a, b, expected):
    assert _reason(a, b) == expected


def test_the_same_zihao_in_the_city_is_indexed_and_looked_up():
    stored = record_keys("南昌豪腾彩色印刷有限公司")
    assert "z:豪腾:南昌市" in N.index_terms(stored)
    assert "z:豪腾:南昌市" in N.lookup_terms(record_keys("豪腾印刷", "江西", "南昌"))
    assert not any(t.startswith("z:") for t in N.index_terms(record_keys("豪腾印刷")))  # no city: no term
