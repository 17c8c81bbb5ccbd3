"""Issue 20's front door: one way a person's check runs (the page, its live check and the API alike),
reasons said from their codes in the reader's language, one rule for 相似 (the entry form and an
import row agree), and issue 21's import report in Chinese."""
import io
import json
import re

import openpyxl
import pytest
from sqlalchemy import func, select
from test_api import _pool
from test_duplicates_pages import group_ids, page, pairs, scanned  # noqa: F401 (pairs: a fixture)
from test_imports import upload, xlsx
from test_typography import half_width

from conftest import zh
from helpers import API, ApiClient, api_token
from models import AuditEntry, DuplicateGroup, db
from services.library import opportunities as opps

ENGLISH = re.compile(r"[A-Za-z]{3,}")
LONG_NAME = "瑞" * 199 + "服装"  # 201 characters: the API always answered 422; the page cut it silently


@pytest.fixture
def api(app, client, org):
    tokens = {}

    def make(login, **headers):
        return ApiClient(app, client, tokens.setdefault(login, api_token(app, login)), headers=headers)

    return make


def _placed(app, company, location, **fields):
    with app.app_context():
        data = opps.OpportunityInput.from_mapping({"company": company, **fields})
        opportunity = opps.enter(db.session, None, data, location=location)
        db.session.commit()
        return opportunity.id


def _checks(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "dedup_check"))


def test_a_name_too_long_is_a_problem_on_the_page_as_in_the_api(app, client, auth, api):
    too_long = zh(app, "%(field)s may have at most %(n)d characters.", field=zh(app, "Company name"), n=200)
    auth.login("sales_a")
    page = client.get("/dedup/", query_string={"name": LONG_NAME}).get_data(as_text=True)
    assert too_long in page
    live = client.get("/dedup/check.json", query_string={"name": LONG_NAME}).get_json()
    assert live["problems"] == {"company": too_long} and live["hits"] == []
    answer = api("sales_a").get("/dedup", name=LONG_NAME)
    assert answer.status_code == 422 and answer.get_json()["fields"] == {"name": too_long}
    assert _checks(app) == 0  # nothing was checked (nor counted) with a name cut short
    assert client.get("/dedup/", query_string={"name": LONG_NAME[:200]}).status_code == 200
    assert _checks(app) == 1  # 200 characters are checked


def test_the_api_says_reasons_in_the_reader_s_language_with_their_codes(app, api):
    _pool(app, "上海瑞丽服装厂", province="上海", city="上海", phone="021-62345678")
    chinese = api("sales_a", **{"Accept-Language": "zh-CN"}).get("/dedup", name="上海瑞丽服装厂", phone="62345678",
                                                                   province="上海", city="上海").get_json()
    match = chinese["matches"][0]
    assert chinese["verdict"] == "duplicate" and chinese["outcome"] == "duplicate" and chinese["message"]
    codes = {c["code"]: c["params"] for c in match["reason_codes"]}
    assert codes["same_number_no_area"] == {"what": "landline", "number": "62345678", "their": None}
    assert codes["same_name_same_place"] == {"name": "瑞丽服装", "place": "上海市"}
    assert len(match["reasons"]) == len(match["reason_codes"])
    assert zh(app, "same %(what)s %(number)s%(their)s, area code ignored", what=zh(app, "landline"),
              number="62345678", their="") in match["reasons"]
    assert zh(app, "same trade name %(name)s, same place %(place)s", name="瑞丽服装", place="上海市") in match["reasons"]
    assert not any(ENGLISH.search(r) for r in match["reasons"]), match["reasons"]
    english = api("sales_b", **{"Accept-Language": "en"}).get("/dedup", name="上海瑞丽服装厂", province="上海",
                                                              city="上海").get_json()
    assert "same trade name 瑞丽服装, same place 上海市" in english["matches"][0]["reasons"]


def test_an_import_row_like_a_telesales_customer_is_refused_as_the_entry_form_refuses_it(app, client, auth, api):
    """One rule for 相似 (docs/dedup.md): the same trade name in another city is similar, but a customer
    of the telesales division is not the agents' to take, so neither the form nor an import enters it."""
    _placed(app, "北京瑞丽服装厂", "telesales", province="北京", city="北京")
    auth.login("sales_a")
    live = client.get("/dedup/check.json", query_string={"name": "上海瑞丽服装厂", "city": "上海"}).get_json()
    assert live["verdict"] == "review" and live["outcome"] == "duplicate"  # the engine's verdict, the entry's rule
    admin = api("admin_a")
    rows = [["上海瑞丽服装厂", "", "上海", ""], ["明辉灯饰厂", "", "杭州", ""], ["明辉灯饰厂", "", "宁波", ""]]
    response = upload(admin, xlsx(rows))
    assert response.status_code == 202, response.get_json()
    item_id = response.get_json()["id"]
    preview = admin.get(f"/imports/{item_id}/rows").get_json()["items"]
    assert [(r["row"], r["verdict"]) for r in preview] == [(1, "duplicate"), (2, "new"), (3, "review")]
    telesales = preview[0]["matches"][0]
    assert telesales["location"] == "telesales" and telesales["reason_codes"][0]["code"] == "same_name_other_place"
    assert not ENGLISH.search(telesales["reasons"][0]), telesales["reasons"]
    assert admin.post(f"/imports/{item_id}/run", {"review_rows": "all"}).status_code == 202
    done = admin.get(f"/imports/{item_id}").get_json()
    assert done["imported"] == 2, done  # the review row of another city ticked; the telesales look-alike never


def test_the_import_report_speaks_chinese_fits_its_columns_and_filters_its_header(app, api):
    _pool(app, "上海瑞丽服装厂", province="上海", city="上海", phone="021-62345678")
    _placed(app, "北京恒达机械厂", "telesales", province="北京", city="北京")
    admin = api("admin_a")
    rows = [["上海市瑞丽服装有限公司", "62345678", "上海", ""],   # line 2: duplicate, by name and landline
            ["广州恒达机械厂", "", "广州", ""],                    # line 3: like a telesales customer: refused
            ["明辉灯饰厂", "", "杭州", ""],                        # line 4: new
            ["明辉灯饰厂", "", "宁波", ""],                        # line 5: similar (line 4's name), not ticked
            ["上海华美家具厂", "12", "上海", ""]]                 # line 6: invalid phone
    item_id = upload(admin, xlsx(rows)).get_json()["id"]
    assert admin.post(f"/imports/{item_id}/run", {}).status_code == 202
    report = admin.client.get(f"{API}/imports/{item_id}/report", headers={"Authorization": f"Bearer {admin.token}"})
    sheet = openpyxl.load_workbook(io.BytesIO(report.data)).active
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    assert table[0] == ["行号", "结论", "原因", "公司名称", "匹配记录", "是否导入"]
    by_line = {row[0]: row for row in table[1:]}
    assert sorted(by_line) == [2, 3, 5, 6]
    for line, row in by_line.items():
        assert row[2] and not ENGLISH.search(row[1] + row[2]), (line, row[1], row[2])
        assert not half_width(row[2] + (row[4] or "")), (line, row[2], row[4])  # （…）and ；in Chinese text
    assert "上海瑞丽服装厂（#" in by_line[2][4]
    assert zh(app, "same trade name %(name)s, same place %(place)s", name="瑞丽服装", place="上海市") in by_line[2][2]
    assert zh(app, "landline") in by_line[2][2] and "62345678" in by_line[2][2]
    assert zh(app, "same trade name %(name)s in another place (%(place)s)", name="恒达机械",
              place="北京市") in by_line[3][2]
    assert by_line[3][1] == by_line[2][1] == zh(app, "Duplicate")
    assert zh(app, "not ticked for import") in by_line[5][2]
    # sized to their content (a Chinese character is two wide), capped; the header frozen and filtered
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEF"}
    longest_reason = max(len(row[2]) for row in table[1:])
    assert widths["C"] >= min(60, 2 * longest_reason) and widths["C"] <= 60
    assert widths["A"] < widths["C"] and widths["D"] >= 2 * len("上海市瑞丽服装有限公司")
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:F{len(table)}"


def test_a_scan_stores_reasons_as_codes_and_shows_older_ones_as_stored(app, client, auth, pairs):
    """A scan writes its groups' reasons as {code, params}; groups written before reasons had codes keep
    their English text, shown as it is (no migration)."""
    auth.login("admin_a")
    html = scanned(client)
    group_id = group_ids(html)[0]
    with app.app_context():
        stored = json.loads(db.session.get(DuplicateGroup, group_id).reason)
        assert {"code", "params"} <= set(stored[0]) and stored[0]["code"]
        db.session.get(DuplicateGroup, group_id).reason = json.dumps(["same trade name 瑞丽服装 (old)"])
        db.session.commit()
    assert "same trade name 瑞丽服装 (old)" in page(client, "/duplicates/")


def test_a_web_lead_like_a_telesales_customer_waits_for_the_agent_admins(app, api):
    """The same rule for a web lead, which is never refused: a lead like a telesales customer is not
    given to a salesperson (who could not have entered it) but to the agent admins' pool; a lead only
    similar to an agent's customer still goes to a salesperson, as before."""
    _placed(app, "北京瑞丽服装厂", "telesales", province="北京", city="北京")
    admin = api("admin_a")
    closed = admin.post("/leads", {"company": "上海瑞丽服装厂", "city": "上海", "phone": "13912345678"})
    assert closed.status_code == 201, closed.get_json()
    body = closed.get_json()
    assert body["existing"] is False and body["lead"]["assigned_to"] is None
    assert body["opportunity"]["location"] == "agent_admin_pool"
    _pool(app, "南京明辉灯饰厂", province="江苏", city="南京")
    similar = admin.post("/leads", {"company": "上海明辉灯饰厂", "city": "上海", "phone": "13912345679"}).get_json()
    assert similar["lead"]["assigned_to"] is not None and similar["opportunity"]["location"] == "library"
