"""Issue 20's own examples, through the API's duplicate check, the entry form and the scan, in Chinese,
against customers imported as an administrator would bring them in: refuse only what two real companies
could not both be (the same name, the same 字号 in one place and trade, a shared number); show the rest that
only looks alike; measure likeness against the 字号; never let a place eat a trade name."""
import csv
import json

import pytest
from test_dedup_issue12 import import_public

from conftest import csrf_token, zh
from models import Opportunity, db

EXISTING = [
    ("南昌豪腾彩色印刷有限公司", "江西省", "南昌市", "", ""),
    ("杭州明辉灯饰厂", "浙江省", "杭州市", "", ""),
    ("佛山市亨迪五金有限公司", "广东省", "佛山市", "", ""),
    ("东莞市华达利服装厂", "广东省", "东莞市", "", ""),
    ("上海瑞丽服装厂", "上海市", "上海市", "", ""),
    ("海东市安泰消防器材设计有限公司", "青海省", "海东市", "", ""),
    ("广州市亿达房地产经纪有限公司", "广东省", "广州市", "", ""),
    ("广州市森林电子有限公司", "广东省", "广州市", "", ""),
    ("广州市华锐五金厂", "广东省", "广州市", "", ""),
    ("温州奇昌电器有限公司", "浙江省", "温州市", "0577-88123456", ""),
]


@pytest.fixture
def imported(app, org, runner, tmp_path):
    return import_public(app, runner, tmp_path / "customers.csv", EXISTING)


def _check(api, name, province="", city="", **more):
    return api.get("/dedup", name=name, province=province, city=city, **more).get_json()


@pytest.mark.parametrize("name, province, city, found", [
    ("豪腾印刷", "江西", "南昌", "南昌豪腾彩色印刷有限公司"),  # the same 字号 and trade, written otherwise
    ("上海瑞丽服饰有限公司", "", "", "上海瑞丽服装厂"),  # 服饰 and 服装 are one trade
    ("海东安泰消防器材有限公司", "", "", "海东市安泰消防器材设计有限公司"),
    ("彩虹街道森林电子", "广东", "广州", "广州市森林电子有限公司"),  # a street's full name is a place
    ("温州奇畅电器", "浙江", "温州", "温州奇昌电器有限公司"),  # a sound-alike with the same number: the number decides
])
def test_what_two_companies_could_not_both_be_is_refused(imported, name, province, city, found):
    more = {"phone": "88123456"} if found.startswith("温州") else {}
    answer = _check(imported, name, province, city, **more)
    assert answer["verdict"] == "duplicate" and answer["matches"][0]["company"] == found, answer


@pytest.mark.parametrize("name, province, city, found", [
    ("杭州明晖灯饰厂", "", "", "杭州明辉灯饰厂"),  # a sound-alike in the same place: a typo, or another company
    ("温州奇畅电器", "浙江", "温州", "温州奇昌电器有限公司"),  # the issue's real pair, no number
    ("东莞市华达丰服装厂", "", "", "东莞市华达利服装厂"),  # one character apart in a 字号 of three
    ("上海瑞丽达服装厂", "", "", "上海瑞丽服装厂"),  # one 字号 inside another, one trade
    ("亿达电器", "广东", "广州", "广州市亿达房地产经纪有限公司"),  # the same 字号 in another trade
    ("彩虹森林电子", "广东", "广州", "广州市森林电子有限公司"),  # 彩虹 is not 广州's 彩虹街道 here
])
def test_what_only_looks_alike_is_shown_with_the_right_customer_first(imported, name, province, city, found):
    answer = _check(imported, name, province, city)
    assert answer["verdict"] == "review" and answer["matches"][0]["company"] == found, answer


@pytest.mark.parametrize("name, province, city", [
    ("佛山市索迪五金有限公司", "", ""),  # in a 字号 of two, one other character is another name
    ("北京瑞丽服饰有限公司", "", ""),  # the same 字号 and trade in another city, written otherwise
    ("东八时区五金", "广东", "广州"),  # 东八时区 is a 字号, not a district: no 五金 company contains it
    ("广州东八时区五金有限公司", "", ""),  # after a city too
    ("九江豪腾印刷厂", "", ""),  # the same 字号 and trade in another city
])
def test_other_companies_are_new(imported, name, province, city):
    answer = _check(imported, name, province, city)
    assert answer["verdict"] == "new" and answer["matches"] == [], answer


def test_the_entry_form_refuses_the_same_trade_name_and_trade(app, imported, client, auth):
    auth.login("sales_a")
    token = csrf_token(client, "/opportunities/new/")
    refused = client.post("/opportunities/new/", data={"company": "豪腾印刷", "province": "江西省", "city": "南昌市",
                                                       "confirm_review": "y", "csrf_token": token})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "南昌豪腾彩色印刷有限公司" in body and zh(app, "Public pool") in body
    with app.app_context():  # nothing was written, the tick notwithstanding
        assert db.session.scalar(db.select(db.func.count()).select_from(Opportunity)) == len(EXISTING)


def test_the_entry_form_asks_a_person_about_a_sound_alike_then_enters_it(app, imported, client, auth):
    auth.login("sales_a")
    token = csrf_token(client, "/opportunities/new/")
    asked = client.post("/opportunities/new/", data={"company": "杭州明晖灯饰厂", "csrf_token": token})
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'id="confirm_review"' in body and "杭州明辉灯饰厂" in body
    assert zh(app, "I checked the similar customers above: this is another company") in body
    entered = client.post("/opportunities/new/", data={"company": "杭州明晖灯饰厂", "confirm_review": "y",
                                                       "csrf_token": token})
    assert entered.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(Opportunity.owner_id).filter_by(company="杭州明晖灯饰厂")) == \
            org_user_id(app, "sales_a")


def org_user_id(app, login):
    from models import User
    return db.session.scalar(db.select(User.id).filter_by(login=login))


def test_the_scan_groups_the_same_trade_name_and_trade_and_only_shows_sound_alikes(app, org, runner, tmp_path):
    rows = [("南昌豪腾彩色印刷有限公司", "江西省", "南昌市", "a1"), ("南昌豪腾印刷厂", "江西省", "南昌市", "a2"),
            ("杭州明晖灯饰厂", "浙江省", "杭州市", "b1"), ("杭州明辉灯饰有限公司", "浙江省", "杭州市", "b2"),
            ("佛山市亨迪五金有限公司", "广东省", "佛山市", "c1"), ("佛山市索迪五金有限公司", "广东省", "佛山市", "c2")]
    path = tmp_path / "scan.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["company", "province", "city", "contact"])
        writer.writerows(rows)
    assert runner.invoke(args=["opportunities", "import", str(path), "--pool", "public", "--skip-check"]).exit_code == 0
    result = runner.invoke(args=["opportunities", "find-duplicates", "--json"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        ids = dict(db.session.execute(db.select(Opportunity.contact, Opportunity.id)).all())
    found = sorted((line["verdict"], sorted(line["opportunities"])) for line in map(json.loads, result.output.splitlines()))
    assert found == sorted([("duplicate", sorted([ids["a1"], ids["a2"]])), ("review", sorted([ids["b1"], ids["b2"]]))])
