"""Issue 12: province, city, district and town (乡镇/街道) typed or picked, made canonical on save.

Through the entry form and the duplicate check with CSRF on, in Chinese; the pickers' JSON lists
(/dedup/cities.json, districts.json, towns.json) with any input; the API; an import with a 乡镇 column.
"""
import csv
import io
import re

import pytest
from test_api import _enter

from conftest import csrf_token, zh
from helpers import API
from models import Opportunity, db
from services.checking import places

# --- the rule (services/checking/places.py) -------------------------------------------------------------

@pytest.mark.parametrize("typed, kept", [
    (("广东", "东莞", "", "常平"), ("广东省", "东莞市", "", "常平镇")),  # a city without districts
    (("广东省", "中山市", "", "小榄"), ("广东省", "中山市", "", "小榄镇")),
    (("江苏", "扬州", "江都", "仙女"), ("江苏省", "扬州市", "江都区", "仙女镇")),
    (("江苏", "扬州", "", "仙女镇"), ("江苏省", "扬州市", "江都区", "仙女镇")),  # the town names its district
    (("江苏", "", "江都", ""), ("江苏省", "扬州市", "江都区", "")),  # the district names its city
    (("上海", "", "浦东", "张江"), ("上海市", "上海市", "浦东新区", "张江镇")),
    (("浙江", "义乌", "", ""), ("浙江省", "金华市", "义乌市", "")),  # a county-level city typed as the city
    (("廣東", "東莞", "", "常平鎮"), ("广东省", "东莞市", "", "常平镇")),  # Traditional characters
    (("江苏", "扬州", "新城区", "某某镇"), ("江苏省", "扬州市", "新城区", "某某镇")),  # unknown: kept as typed
    (("江苏", "扬州", "江都区", "不存在镇"), ("江苏省", "扬州市", "江都区", "不存在镇")),
    (("", "", "", "常平"), ("", "", "", "常平")),  # no city to look the town up in
])
def test_a_typed_place_is_kept_in_full_where_known(typed, kept):
    assert places.canonical(*typed) == places.Place(*kept)


def test_a_place_is_cut_to_its_column_and_loses_control_characters():
    place = places.canonical("江苏\u200b", "扬" * 500, "\x07区", "镇\n")
    assert place.province == "江苏省" and len(place.city) == places.MAX_LENGTH
    assert place.district == "区" and place.town == "镇"


# --- the entry form (录入) ------------------------------------------------------------------------

def _saved(app, company):
    with app.app_context():
        return db.session.scalar(db.select(Opportunity).filter_by(company=company))


def _enter_form(client, **fields):
    token = csrf_token(client, "/opportunities/new/")
    return client.post("/opportunities/new/", data={"source": "", **fields, "csrf_token": token})


def test_the_entry_form_has_four_pickers_in_chinese(client, auth, org, app):
    auth.login("sales_a")
    page = client.get("/opportunities/new/").get_data(as_text=True)
    for name in ("province", "city", "district", "town"):
        assert re.search(rf'<input[^>]*id="{name}"[^>]*list="{name}-list"|<input[^>]*list="{name}-list"[^>]*'
                         rf'id="{name}"', page), name
        assert f'<datalist id="{name}-list">' in page
    assert zh(app, "District") == "区县" and zh(app, "Town or subdistrict") == "乡镇/街道"
    assert "区县" in page and "乡镇/街道" in page
    assert '<option value="广东省">' in page and "js/place_picker.js" in page
    assert 'data-towns-url="/dedup/towns.json"' in page


def test_short_names_typed_are_saved_in_full_and_shown_on_the_details_page(client, auth, org, app):
    auth.login("sales_a")
    saved = _enter_form(client, company="东莞常平远航五金厂", phone="0769-83331234", province="广东", city="东莞",
                        district="", town="常平")
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    entered = _saved(app, "东莞常平远航五金厂")
    assert (entered.province, entered.city, entered.district, entered.town) == ("广东省", "东莞市", None, "常平镇")
    details = client.get(f"/opportunities/details/?id={entered.id}").get_data(as_text=True)
    assert re.search(r'id="record-place">广东省东莞市常平镇<', details)
    assert "乡镇/街道" in details  # the record's table names the field in Chinese
    listing = client.get("/opportunities/?show=all").get_data(as_text=True)
    assert "广东省东莞市常平镇" in listing


def test_a_town_the_lists_do_not_know_is_kept_as_typed(client, auth, org, app):
    auth.login("sales_a")
    saved = _enter_form(client, company="扬州新城五金厂", province="江苏省", city="扬州市", district="江都",
                        town="滨江新城")
    assert saved.status_code == 302
    entered = _saved(app, "扬州新城五金厂")
    assert (entered.district, entered.town) == ("江都区", "滨江新城")


def test_an_unknown_province_typed_is_refused_in_chinese(client, auth, org, app):
    auth.login("sales_a")
    refused = _enter_form(client, company="火星五金厂", province="火星", city="", town="常平")
    assert refused.status_code == 200
    assert zh(app, "Unknown province.") in refused.get_data(as_text=True)
    assert _saved(app, "火星五金厂") is None


def test_a_town_too_long_is_refused_not_cut(client, auth, org, app):
    auth.login("sales_a")
    refused = _enter_form(client, company="东莞长名五金厂", province="广东", city="东莞", town="镇" * 33)
    assert refused.status_code == 200
    assert zh(app, "%(field)s may have at most %(n)d characters.", field=zh(app, "Town or subdistrict"), n=32) \
        in refused.get_data(as_text=True)
    assert _saved(app, "东莞长名五金厂") is None


# --- the duplicate check (撞单检测) carries the place to the form -----------------------------------

def test_the_check_has_the_pickers_and_carries_district_and_town_to_the_form(client, auth, org, app):
    auth.login("sales_a")
    page = client.get("/dedup/?name=远航五金&province=广东&city=东莞市&district=&town=常平镇&by=name")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "乡镇/街道" in text and '<datalist id="town-list">' in text
    assert re.search(r'id="town"[^>]*value="常平镇"', text)
    link = re.search(r'id="dedup-enter" href="([^"]+)"', text).group(1).replace("&amp;", "&")
    form = client.get(link).get_data(as_text=True)
    assert re.search(r'id="town"[^>]*value="常平镇"|value="常平镇"[^>]*id="town"', form)
    assert re.search(r'id="city"[^>]*value="东莞市"|value="东莞市"[^>]*id="city"', form)


# --- the pickers' lists --------------------------------------------------------------------------

def test_the_lists_cascade_and_answer_the_parents_in_full(client, auth, org):
    auth.login("sales_a")
    cities = client.get("/dedup/cities.json?province=广东").get_json()
    assert cities["province"] == "广东省" and "东莞市" in cities["cities"] and "广州市" in cities["cities"]
    districts = client.get("/dedup/districts.json?province=江苏&city=扬州").get_json()
    assert (districts["province"], districts["city"]) == ("江苏省", "扬州市") and "江都区" in districts["districts"]
    assert client.get("/dedup/districts.json?province=广东&city=东莞").get_json()["districts"] == []
    towns = client.get("/dedup/towns.json?province=广东&city=东莞市&district=").get_json()
    assert "常平镇" in towns["towns"] and "虎门镇" in towns["towns"] and towns["district"] == ""
    jiangdu = client.get("/dedup/towns.json?province=江苏省&city=扬州市&district=江都").get_json()
    assert jiangdu["district"] == "江都区" and "仙女镇" in jiangdu["towns"] and "施桥镇" not in jiangdu["towns"]
    yiwu = client.get("/dedup/districts.json?city=义乌").get_json()  # a county-level city, no province typed
    assert (yiwu["province"], yiwu["city"], yiwu["district"]) == ("浙江省", "金华市", "义乌市")


@pytest.mark.parametrize("query, empty", [
    ("province=火星", "cities districts towns"), ("province=广东&city=火星", "districts towns"),
    ("province=江苏&city=扬州&district=火星区", "towns"),  # the city's districts, and no towns of 火星区
    ("province=" + "广" * 5000, "cities districts towns"), ("city=" + "x" * 100000, "cities districts towns"),
    ("province=%EF%BF%BF&city=%F0%9F%98%80", "cities districts towns"),
    ("province=广东&province=江苏", "districts towns"),
    ("district=江都", "cities districts"),  # a district alone places itself (江苏省 扬州市 江都区): its towns
    ("", "cities districts towns"), ("province=%25&city=_", "cities districts towns"),
])
def test_unknown_or_odd_input_gets_empty_lists_never_an_error(client, auth, org, query, empty):
    auth.login("sales_a")
    for level in ("cities", "districts", "towns"):
        response = client.get(f"/dedup/{level}.json?{query}")
        assert response.status_code == 200, (level, query)
        body = response.get_json()
        assert isinstance(body[level], list) and len(response.get_data()) < 20000
        assert (body[level] == []) == (level in empty.split()), (level, query, body)


@pytest.mark.parametrize("query", ["province=广\x00东", "city=\x1f", "district=a%00b", "town=\x07&province=广东"])
def test_control_characters_are_refused_with_422(client, auth, org, query):
    auth.login("sales_a")
    for level in ("cities", "districts", "towns"):
        assert client.get(f"/dedup/{level}.json?{query}").status_code == 422


def test_the_lists_need_a_login(client, org):
    response = client.get("/dedup/towns.json?province=广东&city=东莞")
    assert response.status_code in (302, 401, 403) and b"\xe5\xb8\xb8\xe5\xb9\xb3" not in response.get_data()


# --- the API ---------------------------------------------------------------------------------------

def test_the_api_takes_and_answers_a_town(app, api):  # noqa: F811
    sales = api("sales_a")
    created = _enter(sales, company="中山小榄华丰灯饰厂", province="广东", city="中山", town="小榄")
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["province"], body["city"], body["district"], body["town"]) == ("广东省", "中山市", None, "小榄镇")
    read = sales.get(f"/opportunities/{body['id']}").get_json()
    assert read["town"] == "小榄镇"
    assert _enter(sales, company="中山小榄华丰灯饰二厂", town=5).status_code == 422
    assert "town" in _enter(sales, company="中山小榄华丰灯饰三厂", town="镇" * 33).get_json()["fields"]


def test_the_openapi_document_lists_the_town(client):
    doc = client.get(f"{API}/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    assert "town" in schemas["Opportunity"]["properties"] and "town" in schemas["Opportunity"]["required"]
    assert schemas["OpportunityInput"]["properties"]["town"]["maxLength"] == 32
    assert "town" in schemas["LeadInput"]["properties"]


# --- imports ---------------------------------------------------------------------------------------

HEADER = ["公司名称", "电话", "省份", "城市", "区县", "乡镇"]
ROWS = [["东莞常平宏图塑胶厂", "0769-83335678", "广东", "东莞", "", "常平"],
        ["扬州江都通达机械厂", "0514-86881234", "江苏", "扬州", "江都", "仙女镇"],
        ["扬州江都新丰电器厂", "0514-86885678", "江苏", "扬州", "江都", "滨江新城"]]


@pytest.mark.parametrize("options", [(), ("--skip-check",)])
def test_an_import_reads_the_town_column(runner, org, app, tmp_path, options):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([HEADER, *ROWS])
    path = tmp_path / "towns.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    result = runner.invoke(args=["opportunities", "import", str(path), *options])
    assert result.exit_code == 0, result.output
    with app.app_context():
        got = {o.company: (o.province, o.city, o.district, o.town) for o in db.session.scalars(db.select(Opportunity))}
    assert got == {"东莞常平宏图塑胶厂": ("广东省", "东莞市", None, "常平镇"),
                   "扬州江都通达机械厂": ("江苏省", "扬州市", "江都区", "仙女镇"),
                   "扬州江都新丰电器厂": ("江苏省", "扬州市", "江都区", "滨江新城")}


@pytest.mark.parametrize("header", ["乡镇", "镇", "乡", "街道", "乡镇街道", "乡镇/街道", "town"])
def test_the_town_column_goes_by_many_names(header):
    from services.imports import tables

    assert tables.header_field(header) == "town"


def test_the_import_template_has_a_town_column(client, auth, org, app):
    auth.login("root")
    response = client.get("/imports/template.xlsx")
    assert response.status_code == 200
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    header = [c.value for c in sheet[1]]
    assert "乡镇/街道" in header and "新华路街道" in [c.value for c in sheet[2]]


def test_a_web_lead_keeps_its_town(app, api):  # noqa: F811
    answer = api("admin_a").post("/leads", {"company": "中山小榄明亮五金厂", "phone": "0760-22331234",
                                            "province": "广东", "city": "中山", "town": "小榄"})
    assert answer.status_code == 201, answer.get_json()
    with app.app_context():
        lead = db.session.scalar(db.select(Opportunity).filter_by(company="中山小榄明亮五金厂"))
        assert (lead.province, lead.city, lead.town) == ("广东省", "中山市", "小榄镇")


def test_a_town_the_company_name_gives_fills_an_empty_town_of_the_same_city(app, api):  # noqa: F811
    sales = api("sales_a")
    named = _enter(sales, company="中山市小榄镇华锐五金厂", phone="0760-22334455").get_json()
    assert (named["province"], named["city"], named["district"], named["town"]) == ("广东省", "中山市", None, "小榄镇")
    typed = _enter(sales, company="中山市沙溪镇华美制衣厂", city="中山", town="大涌").get_json()
    assert typed["town"] == "大涌镇"  # what the salesperson typed wins over the name
    elsewhere = _enter(sales, company="中山市古镇镇明亮灯饰厂", province="江苏", city="扬州").get_json()
    assert (elsewhere["city"], elsewhere["town"]) == ("扬州市", None)  # the name's town is of another city
