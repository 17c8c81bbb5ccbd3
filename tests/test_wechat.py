"""Issue 24: 微信 and QQ as fields of a customer, through the pages (CSRF on) and the API, in Chinese.

A WeChat ID is a contact number like a mobile: folded to lower case, unique among live customers (the
unique index of mobiles holds its key), matched by the duplicate check whatever the names (`matched_on`
gains `wechat`, the reason 微信号相同), and an ID that is itself a mobile number is that mobile. QQ is
shown, searched, imported and exported, never matched.
"""
import csv
import io

import pytest
from sqlalchemy import select
from test_phone_backstop import MISSED, _check_that_misses

from conftest import AuthActions, csrf_token, zh
from helpers import ApiClient, api_token
from models import DuplicateGroup, Opportunity, OpportunityPhone, User, db
from services.library import opportunities
from services.library.opportunities import OpportunityInput

WECHAT_PROBLEM = "A WeChat ID has 6 to 20 letters, digits, - or _ and begins with a letter (or is a mobile number)."
QQ_PROBLEM = "A QQ number has 5 to 11 digits."


def _api(app, login):
    return ApiClient(app, app.test_client(), api_token(app, login))


def _page(app, login):
    client = app.test_client()
    AuthActions(client).login(login)
    return client


def _enter_by_form(client, **fields):
    token = csrf_token(client, "/opportunities/new/")
    return client.post("/opportunities/new/", data={**fields, "csrf_token": token})


def _entered(app, login, **fields):
    answer = _api(app, login).post("/opportunities", fields)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _wechat_keys(app):
    """{(company, field, kind, local)} of the WeChat keys held (the unique index's rows of field wechat)."""
    with app.app_context():
        return set(db.session.execute(select(Opportunity.company, OpportunityPhone.field, OpportunityPhone.kind,
                                             OpportunityPhone.local).join(Opportunity)
                                      .where(OpportunityPhone.field == "wechat")).all())


# --- entered, shown, searched ---------------------------------------------------------------------

def test_entered_on_the_form_shown_on_the_details_list_and_in_the_api(app, org):
    client = _page(app, "sales_a")
    form = client.get("/opportunities/new/").get_data(as_text=True)
    assert zh(app, "WeChat") in form and 'id="wechat"' in form and 'id="wechat-check"' in form and 'id="qq"' in form
    saved = _enter_by_form(client, company="深圳华强电子有限公司", contact="张三", wechat="  Zhang_San88 ",
                           qq="12345678")
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    with app.app_context():
        entered = db.session.scalar(select(Opportunity).filter_by(company="深圳华强电子有限公司"))
        assert (entered.wechat, entered.qq) == ("zhang_san88", "12345678")  # folded as WeChat compares them
        entered_id = entered.id
    assert _wechat_keys(app) == {("深圳华强电子有限公司", "wechat", "mobile", "zhang_san88")}
    details = client.get(f"/opportunities/details/?id={entered_id}").get_data(as_text=True)
    assert "zhang_san88" in details and "12345678" in details and zh(app, "WeChat") in details
    listing = client.get("/opportunities/").get_data(as_text=True)
    assert "zhang_san88" in listing  # the table's column and the phone card's line
    assert 'class="small ml-2 crm-wechat"' in listing
    shown = _api(app, "sales_a").get(f"/opportunities/{entered_id}").get_json()
    assert (shown["wechat"], shown["qq"]) == ("zhang_san88", "12345678")


def test_a_wrong_wechat_or_qq_is_refused_in_chinese_on_the_form_and_by_the_api(app, org):
    client = _page(app, "sales_a")
    refused = _enter_by_form(client, company="深圳华强电子有限公司", wechat="1abcdefg")
    assert refused.status_code == 200
    assert zh(app, WECHAT_PROBLEM) in refused.get_data(as_text=True)
    api = _api(app, "sales_a")
    for body, field, message in (({"wechat": "张三的微信"}, "wechat", WECHAT_PROBLEM),
                                 ({"wechat": "abc"}, "wechat", WECHAT_PROBLEM),
                                 ({"qq": "qq123456"}, "qq", QQ_PROBLEM), ({"qq": "1234"}, "qq", QQ_PROBLEM)):
        answer = api.post("/opportunities", {"company": "深圳华强电子有限公司", **body})
        assert answer.status_code == 422, answer.get_json()
        assert answer.get_json()["fields"][field] == zh(app, message)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Opportunity)) == 0


def test_the_lists_search_finds_a_wechat_id_and_a_qq_number(app, org):
    _entered(app, "sales_a", company="深圳华强电子有限公司", wechat="Zhang_San88", qq="987654321")
    _entered(app, "sales_a", company="东莞长安五金厂", wechat="lisi_2024", qq="55555")
    api = _api(app, "sales_a")
    for term, found in (("ZHANG_SAN88", ["深圳华强电子有限公司"]), ("lisi", ["东莞长安五金厂"]),
                        ("987654321", ["深圳华强电子有限公司"]), ("55555", ["东莞长安五金厂"])):
        items = api.get("/opportunities", q=term).get_json()["items"]
        assert [o["company"] for o in items] == found, term
    client = _page(app, "sales_a")
    page = client.get("/opportunities/?search=Zhang_san88").get_data(as_text=True)
    assert "深圳华强电子有限公司" in page and "东莞长安五金厂" not in page
    # another salesperson's customer is not found by its WeChat ID: the search stays in one's scope
    assert _api(app, "sales_b").get("/opportunities", q="zhang_san88").get_json()["total"] == 0


# --- unique among live customers; the check matches it -----------------------------------------------

def test_a_second_live_customer_with_the_same_wechat_is_refused_whatever_its_name(app, org):
    first = _entered(app, "sales_a", company="深圳华强电子有限公司", wechat="zhang_san88")
    second = _api(app, "sales_b").post("/opportunities", {"company": "东莞长安五金厂", "wechat": "ZHANG_SAN88"})
    assert second.status_code == 409 and second.get_json()["error"] == "duplicate"
    match = second.get_json()["matches"][0]
    assert match["opportunity_id"] == first["id"] and match["matched_on"] == ["wechat"]
    assert match["reasons"] == [zh(app, "same WeChat ID %(number)s", number="zhang_san88")]
    assert match["reasons"][0].startswith("微信号相同")
    assert match["reason_codes"] == [{"code": "same_wechat", "params": {"number": "zhang_san88"}}]


def test_a_deleted_customers_wechat_blocks_no_entry(app, org):
    gone = _entered(app, "sales_a", company="深圳华强电子有限公司", wechat="zhang_san88")
    admin = _page(app, "admin_a")
    token = csrf_token(admin, "/opportunities/?show=all")
    deleted = admin.post("/opportunities/soft-delete/", data={"id": gone["id"], "csrf_token": token})
    assert deleted.status_code in (200, 302)
    assert _wechat_keys(app) == set()  # a deleted record holds no personal key
    again = _api(app, "sales_b").post("/opportunities", {"company": "东莞长安五金厂", "wechat": "zhang_san88"})
    assert again.status_code == 201, again.get_json()
    assert _wechat_keys(app) == {("东莞长安五金厂", "wechat", "mobile", "zhang_san88")}


def test_the_unique_index_refuses_a_wechat_the_check_missed(app, org, monkeypatch):
    _entered(app, "sales_a", company="深圳华强电子有限公司", wechat="zhang_san88")
    _check_that_misses(monkeypatch)  # as if the first record had been written around the check
    second = _api(app, "sales_b").post("/opportunities", {"company": "东莞长安五金厂", "wechat": "Zhang_San88"})
    assert second.status_code == 409 and second.get_json()["error"] == "duplicate"
    assert second.get_json()["message"] == zh(app, MISSED)
    with app.app_context():
        assert db.session.scalars(select(Opportunity.company)).all() == ["深圳华强电子有限公司"]


def test_the_check_by_wechat_in_the_api_on_the_check_page_and_on_the_entry_form(app, org):
    _entered(app, "sales_b", company="深圳华强电子有限公司", wechat="zhang_san88")
    found = _api(app, "sales_a").get("/dedup", wechat="Zhang_San88").get_json()
    assert found["verdict"] == "duplicate" and found["outcome"] == "duplicate"
    assert [(m["company"], m["owner"], m["matched_on"]) for m in found["matches"]] == [
        ("深圳华强电子有限公司", "sales_b", ["wechat"])]
    assert _api(app, "sales_a").get("/dedup", wechat="wang_wu_99").get_json()["verdict"] == "new"
    bad = _api(app, "sales_a").get("/dedup", wechat="王五")
    assert bad.status_code == 422 and bad.get_json()["fields"]["wechat"] == zh(app, WECHAT_PROBLEM)

    client = _page(app, "sales_a")
    page = client.get("/dedup/?wechat=ZHANG_SAN88&by=wechat").get_data(as_text=True)
    assert zh(app, "%(n)d customers in all", n=1) in page and "深圳华强电子有限公司" in page
    assert zh(app, "same WeChat ID %(number)s", number="zhang_san88") in page
    live = client.get("/dedup/check.json?wechat=zhang_san88").get_json()
    assert live["fields"]["wechat"]["state"] == "matches" and live["fields"]["wechat"]["tone"] == "blocks"
    refused = _enter_by_form(client, company="东莞长安五金厂", wechat="zhang_san88")
    assert refused.status_code == 200
    text = refused.get_data(as_text=True)
    assert zh(app, "This customer already exists and cannot be entered.") in text and "深圳华强电子有限公司" in text
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Opportunity)) == 1


def test_a_wechat_that_is_a_mobile_number_is_that_mobile(app, org):
    mobile_holder = _entered(app, "sales_b", company="深圳华强电子有限公司", mobile="13812345678")
    # the ID 13812345678 is the mobile: found and refused as one, whatever the names
    found = _api(app, "sales_a").get("/dedup", wechat="138 1234 5678").get_json()
    assert [(m["opportunity_id"], m["verdict"]) for m in found["matches"]] == [(mobile_holder["id"], "duplicate")]
    assert found["matches"][0]["reason_codes"][0]["params"]["what"] == "mobile"
    refused = _api(app, "sales_a").post("/opportunities", {"company": "东莞长安五金厂", "wechat": "13812345678"})
    assert refused.status_code == 409 and refused.get_json()["error"] == "duplicate"
    # and the other way: a customer whose WeChat is a mobile number keeps that mobile from another
    wechat_holder = _entered(app, "sales_a", company="佛山南海灯饰厂", wechat="+86 139 0000 1111")
    assert wechat_holder["wechat"] == "13900001111" and wechat_holder["mobile"] is None  # kept in wechat
    with app.app_context():
        keys = set(db.session.execute(select(OpportunityPhone.field, OpportunityPhone.kind, OpportunityPhone.local)
                                      .where(OpportunityPhone.opportunity_id == wechat_holder["id"])).all())
    assert keys == {("phone", "mobile", "13900001111")}  # keyed as the mobile
    by_mobile = _api(app, "sales_b").get("/dedup", mobile="13900001111").get_json()
    assert [m["opportunity_id"] for m in by_mobile["matches"]] == [wechat_holder["id"]]
    again = _api(app, "sales_b").post("/opportunities", {"company": "中山小榄五金店", "mobile": "139-0000-1111"})
    assert again.status_code == 409


def test_qq_is_not_matched(app, org):
    _entered(app, "sales_a", company="深圳华强电子有限公司", qq="12345678")
    other = _api(app, "sales_b").post("/opportunities", {"company": "东莞长安五金厂", "qq": "12345678"})
    assert other.status_code == 201, other.get_json()


# --- the scan, merges, imports and exports carry it ------------------------------------------------------

IMPORT_HEADERS = ["公司名称", "联系人", "微信号", "QQ号"]
INDEX = "uq_opportunity_phone_mobile"


def _write_csv(path, rows, headers=IMPORT_HEADERS):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def _import(runner, tmp_path, rows, *args):
    path = _write_csv(tmp_path / "customers.csv", rows)
    result = runner.invoke(args=["opportunities", "import", str(path), *args])
    assert result.exit_code == 0, result.output
    return result


def _ids(app):
    """{contact: id}: the test rows carry their label in the contact column."""
    with app.app_context():
        return dict(db.session.execute(select(Opportunity.contact, Opportunity.id)).all())


@pytest.fixture
def index_set_aside(app):
    """The unique index of personal keys dropped, as before it existed: records written around it hold one
    WeChat ID twice, which only the scan finds. Put back after the test (its rows go first)."""
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(db.text(f"DROP INDEX {INDEX}"))
    yield
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(db.text("DELETE FROM opportunity_phone"))
        conn.execute(db.text(f"CREATE UNIQUE INDEX {INDEX} ON opportunity_phone (field, local) WHERE kind = 'mobile'"))


def test_the_scan_finds_a_pair_by_wechat_whatever_the_names(app, org, index_set_aside):
    with app.app_context():
        actor = db.session.scalar(select(User).filter_by(login="sales_a"))
        for company, contact in (("深圳华强电子有限公司", "张三"), ("东莞长安五金厂", "李四")):
            opportunities.insert_opportunity(db.session, actor, OpportunityInput(
                company=company, contact=contact, wechat="Zhang_San88"), "library", None)
        opportunities.insert_opportunity(db.session, actor, OpportunityInput(
            company="佛山南海灯饰厂", contact="王五", wechat="wang_wu_99", qq="12345678"), "library", None)
        opportunities.insert_opportunity(db.session, actor, OpportunityInput(
            company="中山小榄五金店", contact="赵六", qq="12345678"), "library", None)  # QQ pairs nothing
        db.session.commit()
    ids = _ids(app)
    admin = _api(app, "admin_a")
    assert admin.post("/duplicates/scan").status_code == 202
    groups = admin.get("/duplicates", verdict="duplicate").get_json()["groups"]
    assert [sorted(o["id"] for o in g["opportunities"]) for g in groups] == [sorted([ids["张三"], ids["李四"]])]
    assert zh(app, "same WeChat ID %(number)s", number="zhang_san88") in groups[0]["reason"]
    assert admin.get("/duplicates", verdict="review").get_json()["groups"] == []


def test_a_merge_carries_the_wechat_and_its_undo_puts_it_back(app, org, runner, tmp_path):
    _import(runner, tmp_path, [["扬州五环印花厂", "张三", "Zhang_San88", ""],
                               ["扬州五环印花厂", "李四", "", "12345678"]], "--skip-check", "--owner", "sales_a")
    ids = _ids(app)
    keep, other = ids["李四"], ids["张三"]
    admin = _api(app, "admin_a")
    assert admin.post("/duplicates/scan").status_code == 202
    with app.app_context():
        group_id = db.session.scalar(select(DuplicateGroup.id))
    # the merge page's field chooser offers 微信 and QQ, record by record
    chooser = _page(app, "admin_a").get(f"/duplicates/group/{group_id}/").get_data(as_text=True)
    assert 'name="value-wechat"' in chooser and 'name="value-qq"' in chooser
    assert "zhang_san88" in chooser and "12345678" in chooser
    merged = admin.post("/merges", {"keep": keep, "merge": [other]})
    assert merged.status_code == 201, merged.get_json()
    sales = _api(app, "sales_a")
    kept = sales.get(f"/opportunities/{keep}").get_json()
    assert (kept["wechat"], kept["qq"]) == ("zhang_san88", "12345678")  # empty on the kept: the other's
    assert _wechat_keys(app) == {("扬州五环印花厂", "wechat", "mobile", "zhang_san88")}
    found = sales.get("/dedup", wechat="zhang_san88").get_json()["matches"]
    assert [m["opportunity_id"] for m in found] == [keep]
    undone = admin.post(f"/merges/{merged.get_json()['id']}/undo")
    assert undone.status_code == 200, undone.get_json()
    assert sales.get(f"/opportunities/{keep}").get_json()["wechat"] is None
    assert sales.get(f"/opportunities/{other}").get_json()["wechat"] == "zhang_san88"
    found = sales.get("/dedup", wechat="zhang_san88").get_json()["matches"]
    assert [m["opportunity_id"] for m in found] == [other]


def test_the_import_reads_wechat_and_qq_and_refuses_a_held_wechat(app, org, runner, tmp_path):
    _entered(app, "sales_b", company="佛山南海灯饰厂", wechat="wang_wu_99")
    result = _import(runner, tmp_path, [["深圳华强电子有限公司", "张三", "Zhang_San88", "12345678"],
                                        ["东莞长安五金厂", "李四", "zhang_san88", ""],  # the row above's ID
                                        ["中山小榄五金店", "赵六", "WANG_WU_99", ""],  # held in the database
                                        ["广州天河软件有限公司", "钱七", "微信号", ""]],  # no WeChat ID
                     "--owner", "sales_a")
    with app.app_context():
        rows = db.session.execute(select(Opportunity.company, Opportunity.wechat, Opportunity.qq)
                                  .order_by(Opportunity.id)).all()
    assert [tuple(r) for r in rows] == [("佛山南海灯饰厂", "wang_wu_99", None),
                                        ("深圳华强电子有限公司", "zhang_san88", "12345678")]
    assert "东莞长安五金厂" not in {r[0] for r in rows} and result.exit_code == 0
    found = _api(app, "sales_a").get("/dedup", wechat="ZHANG_SAN88").get_json()["matches"]
    assert [m["company"] for m in found] == ["深圳华强电子有限公司"]


def test_the_export_carries_wechat_and_qq_and_imports_back(app, org, runner, tmp_path):
    _entered(app, "sales_a", company="深圳华强电子有限公司", contact="张三", wechat="Zhang_San88", qq="12345678")
    exported = _page(app, "manager_a").get("/opportunities/export/csv/?show=all")  # salespeople do not export
    assert exported.status_code == 200
    table = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    header, row = table[0], table[1]
    assert zh(app, "WeChat") in header and "QQ" in header
    assert row[header.index(zh(app, "WeChat"))] == "zhang_san88" and row[header.index("QQ")] == "12345678"
    # the exported file imports back: its 微信 and QQ columns are read (the record itself refused as held)
    path = tmp_path / "exported.csv"
    path.write_text(exported.get_data(as_text=True), encoding="utf-8")
    checked = runner.invoke(args=["opportunities", "check", str(path), "--json"])
    assert checked.exit_code == 0, checked.output
    assert '"wechat"' in checked.output and '"duplicate"' in checked.output
    with app.app_context():
        db.session.execute(db.delete(OpportunityPhone))
        db.session.execute(db.text("DELETE FROM opportunity_term"))
        db.session.execute(db.delete(Opportunity))
        db.session.commit()
    imported = runner.invoke(args=["opportunities", "import", str(path), "--owner", "sales_a"])
    assert imported.exit_code == 0, imported.output
    with app.app_context():
        back = db.session.execute(select(Opportunity.company, Opportunity.wechat, Opportunity.qq)).all()
    assert [tuple(r) for r in back] == [("深圳华强电子有限公司", "zhang_san88", "12345678")]
    assert _wechat_keys(app) == {("深圳华强电子有限公司", "wechat", "mobile", "zhang_san88")}



def test_a_browser_import_maps_wechat_and_qq_and_matches_the_wechat(app, org, api):
    from test_imports import uploaded, xlsx
    _entered(app, "sales_b", company="佛山南海灯饰厂", wechat="wang_wu_99")
    admin = api("admin_a")
    item = uploaded(admin, xlsx([["深圳华强电子有限公司", "张三", "Zhang_San88", "12345678"],
                                 ["东莞长安五金厂", "李四", "ZHANG_SAN88", ""],  # the row above's ID
                                 ["中山小榄五金店", "赵六", "wang_wu_99", ""]],  # held by sales_b's customer
                                headers=["客户名称", "联系人", "微信", "QQ"]))
    assert item["columns"] == {"客户名称": "company", "联系人": "contact", "微信": "wechat", "QQ": "qq"}
    rows = admin.get(f"/imports/{item['id']}/rows").get_json()["items"]
    assert [r["verdict"] for r in rows] == ["new", "duplicate", "duplicate"]
    assert rows[1]["matches"][0]["matched_on"] == ["wechat"] and rows[1]["matches"][0]["row"] == 1
    assert rows[2]["matches"][0]["company"] == "佛山南海灯饰厂"
    assert rows[2]["matches"][0]["matched_on"] == ["wechat"]
    assert admin.post(f"/imports/{item['id']}/run", {}).status_code == 202
    with app.app_context():
        imported = db.session.execute(select(Opportunity.company, Opportunity.wechat, Opportunity.qq)
                                      .where(Opportunity.location == "public_pool")).all()
    assert [tuple(r) for r in imported] == [("深圳华强电子有限公司", "zhang_san88", "12345678")]
    assert ("深圳华强电子有限公司", "wechat", "mobile", "zhang_san88") in _wechat_keys(app)  # visible: a real key

# --- the entry form's live line under 微信, in Chromium ------------------------------------------------

SIZES = [{"width": 1366, "height": 900}, {"width": 390, "height": 844}]


@pytest.mark.parametrize("size", SIZES, ids=["1366", "390"])
def test_the_wechat_line_of_the_live_check_sits_under_the_wechat_field(app, org, browser_user, size):
    with app.app_context():
        owner = db.session.scalar(select(User).filter_by(login="sales_b"))
        opportunities.insert_opportunity(db.session, owner, OpportunityInput(company="扬州五环印花厂",
                                                                             wechat="wuhuan_2024"), "library", None)
        db.session.commit()
    user = browser_user("sales_a")
    page = user.page
    page.set_viewport_size(size)
    page.goto("/opportunities/new/")
    assert page.get_attribute("#wechat", "aria-describedby") == "wechat-check"
    assert page.get_attribute("#wechat-check", "aria-live") == "polite"
    page.fill("#company", "宁波江北甬达五金厂")
    page.locator("#company-check[data-state=none]").wait_for()
    page.fill("#wechat", "WuHuan_2024")
    page.locator("#wechat-check[data-state=blocks]").wait_for()
    line = page.locator("#wechat-check")
    assert line.inner_text() == zh(app, "Already a customer: %(n)d listed below. It cannot be entered.", n=1)
    assert "text-danger" in line.get_attribute("class")
    assert page.inner_text("#company-check") == "✓ 无重复"  # the name found nothing: it still says so
    field, said, panel = (page.locator(s).bounding_box() for s in ("#wechat", "#wechat-check", "#live-check"))
    assert 0 <= said["y"] - (field["y"] + field["height"]) < 12 and abs(said["x"] - field["x"]) < 2
    assert 0 <= panel["y"] - (said["y"] + said["height"]) < 40  # the matches right under the line
    rows = page.inner_text("#live-check-rows")
    assert "扬州五环印花厂" in rows and "sales_b" in rows
    assert zh(app, "same WeChat ID %(number)s", number="wuhuan_2024") in rows  # why: 微信号相同
    page.fill("#wechat", "yongda_wujin")  # another ID: the line's own 无重复, the matches gone
    page.locator("#wechat-check[data-state=none]").wait_for()
    assert page.inner_text("#wechat-check") == "✓ 无重复"
    assert not page.locator("#live-check").is_visible()
    page.fill("#wechat", "1abc")  # no WeChat ID: said under the field, in Chinese
    page.locator("#wechat-check[data-state=problem]").wait_for()
    assert page.inner_text("#wechat-check") == zh(app, WECHAT_PROBLEM)
    assert [m for m in user.console if "Content Security Policy" in m or "Refused to" in m] == []
