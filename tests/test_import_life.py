"""The rest of a customer's life in an import (issue 24): 下次联系时间 as the next contact (a past one overdue, an
unreadable one a row error), 备注 / 客户描述 as an imported first note (no valid contact, no last contact, no return
clock), 客户等级 values mapped to key customer or not (imported ones counted in nobody's daily quota), 客户来源
mapped to the information sources, 业务负责人 placing each row in that person's library (by login, by a unique
name; an ambiguous or unknown name, or a full library: the import's target, reported). Through the API, the
pages and the command line, as an agent admin and a salesperson use them."""
import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update
from test_imports import upload, xlsx

from conftest import PASSWORD, csrf_token, post_form, set_rules
from helpers import API
from models import ContactNote, DataImport, Opportunity, User, db
from services import clock
from services.library import returns, rules

WAIT_MS = 120_000
WUKONG = ["客户名称", "电话", "下次联系时间", "备注", "客户等级", "客户来源", "业务负责人"]


def future(days=30):
    return (clock.now() + timedelta(days=days)).strftime("%Y-%m-%d")


def imported(api_client, rows, headers=WUKONG, **form):
    response = upload(api_client, xlsx(rows, headers=headers), **form)
    assert response.status_code == 202, response.get_json()
    item = api_client.get(f"/imports/{response.get_json()['id']}").get_json()
    assert item["status"] == "ready", item
    return item


def run(api_client, item, **body):
    answer = api_client.post(f"/imports/{item['id']}/run", body)
    assert answer.status_code == 202, answer.get_json()
    done = api_client.get(f"/imports/{item['id']}").get_json()
    assert done["status"] == "done", done
    return done


def record(app, company):
    with app.app_context():
        return db.session.scalar(select(Opportunity).where(Opportunity.company == company))


def report_table(api_client, item):
    answer = api_client.client.get(f"{API}/imports/{item['id']}/report",
                                   headers={"Authorization": f"Bearer {api_client.token}"})
    sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
    return [[c.value for c in row] for row in sheet.iter_rows()][1:]


def name(app, login, display_name):
    with app.app_context():
        db.session.execute(update(User).where(User.login == login).values(display_name=display_name))
        db.session.commit()


def test_next_contacts_notes_levels_and_sources_arrive_with_the_customers(app, api, client, auth):
    admin = api("admin_a")
    when = future()
    item = imported(admin, [
        ["杭州明辉灯饰厂", "0571-88776655", f"{when} 10:30", "老客户，去年采购过灯具。\n联系王经理。", "A", "网络", "sales_a"],
        ["广州恒达机械厂", "020-81234560", "2020年1月5日", "", "普通", "展会", "sales_a"],
        ["广州华鑫纺织有限公司", "020-81234561", when.replace("-", "/"), "", "B", "", "sales_a"],
        ["广州伟业印刷厂", "020-81234564", "下周再说", "", "", "", "sales_a"],
    ])
    assert item["columns"] == {"客户名称": "company", "电话": "phone", "下次联系时间": "next_contact_at",
                               "备注": "note", "客户等级": "key_customer", "客户来源": "source",
                               "业务负责人": "owner"}
    # every level of the file is shown for the admin to map, A suggested as key, the others not
    assert item["unknown_values"]["key_customer"] == ["A", "B", "普通"]
    assert item["values"]["key_customer"] == {"A": "1", "B": "0", "普通": "0"}
    assert item["values"]["source"] == {"网络": "网络搜索"}
    assert item["counts"] == {"new": 3, "review": 0, "duplicate": 0, "invalid": 1}
    bad = admin.get(f"/imports/{item['id']}/rows", verdict="invalid").get_json()["items"][0]
    assert bad["errors"]["next_contact_at"] == "下次联系时间“下周再说”不是日期：请写成 2026-12-20 或 2026-12-20 10:00。"

    done = run(admin, item, values={"key_customer": {"B": "1"}})  # the admin says B is key too
    assert done["imported"] == 3

    sales = api("sales_a")
    first = sales.get(f"/opportunities/{record(app, '杭州明辉灯饰厂').id}").get_json()
    assert first["next_contact_at"] == f"{when}T10:30:00+08:00" and first["owner"] == "sales_a"
    assert first["key_customer"] is True and first["source"] == "网络搜索"
    assert first["last_contact_at"] is None and first["maturity"] is None
    note, = first["notes"]
    assert note["imported"] is True and note["valid"] is False and note["author"] == "admin_a"
    assert note["content"] == "老客户，去年采购过灯具。\n联系王经理。"
    second = sales.get(f"/opportunities/{record(app, '广州恒达机械厂').id}").get_json()
    assert second["next_contact_at"] == "2020-01-05T09:00:00+08:00"  # a past one kept: overdue
    assert second["key_customer"] is False and second["source"] == "展会" and second["notes"] == []
    assert record(app, "广州华鑫纺织有限公司").key_customer is True

    # nobody entered them: no one's new key customers, no valid contact
    for user in api("root").get("/stats/daily").get_json()["users"]:
        assert user["new_key_customers"] == 0 and user["valid_contacts"] == 0, user

    # the salesperson's pages: the overdue one is due today, the note reads 导入的备注
    auth.login("sales_a")
    due = client.get("/opportunities/?show=due").get_data(as_text=True)
    assert "广州恒达机械厂" in due and "杭州明辉灯饰厂" not in due
    page = client.get(f"/opportunities/details/?id={record(app, '杭州明辉灯饰厂').id}").get_data(as_text=True)
    assert "导入的备注" in page and "老客户，去年采购过灯具。" in page


def test_an_imported_note_starts_no_return_clock(app, api):
    admin = api("admin_a")
    run(admin, imported(admin, [["杭州明辉灯饰厂", "0571-88776655", "", "老客户", "", "", "sales_a"]]))
    set_rules(app, return_after_days=30, return_exempt_note_days=7)
    with app.app_context():
        opportunity = db.session.scalar(select(Opportunity))
        later = clock.now() + timedelta(days=31)
        note = db.session.scalar(select(ContactNote))
        note.created_at = later - timedelta(days=1)  # as if brought over yesterday: still no contact
        db.session.flush()
        due = returns.return_candidates(db.session, rules.current(db.session), later)
        assert [row.id for row in due] == [opportunity.id]
        note.imported = False  # a person's note of yesterday would have exempted it
        db.session.flush()
        assert returns.return_candidates(db.session, rules.current(db.session), later) == []
        db.session.rollback()


def test_owners_are_placed_by_login_and_unique_name_the_rest_by_the_target(app, api, org):
    set_rules(app, cap=1)
    name(app, "super_a", "王芳")
    name(app, "manager_a", "张伟")
    name(app, "admin_a", "张伟")  # no library: not a second 张伟 among the owners
    admin = api("admin_a")
    item = imported(admin, [
        ["杭州明辉灯饰厂", "0571-88776655", "", "", "", "", "SALES_A"],      # its login, any case
        ["广州恒达机械厂", "020-81234560", "", "", "", "", "王芳"],           # super_a's name
        ["广州华鑫纺织有限公司", "020-81234561", "", "", "", "", "张伟"],      # manager_a's name
        ["广州伟业印刷厂", "020-81234564", "", "", "", "", "李四"],            # nobody
        ["广州宏图包装材料厂", "020-81234563", "", "", "", "", "sales_b"],     # another company's: not administered
        ["广州新星服装厂", "020-81234565", "", "", "", "", "sales_a"],         # sales_a is full now (cap 1)
        ["广州立信茶叶店", "020-81234567", "", "", "", "", ""],                # no owner: the target
    ])
    assert item["unknown_values"]["owner"] == ["sales_b", "李四"]  # listed in the preview, before the run
    run(admin, item)
    placed = {company: (location, login) for company, location, login in _where(app)}
    assert placed == {
        "杭州明辉灯饰厂": ("library", "sales_a"), "广州恒达机械厂": ("library", "super_a"),
        "广州华鑫纺织有限公司": ("library", "manager_a"), "广州伟业印刷厂": ("public_pool", None),
        "广州宏图包装材料厂": ("public_pool", None), "广州新星服装厂": ("public_pool", None),
        "广州立信茶叶店": ("public_pool", None)}
    reasons = {row[3]: (row[1], row[2], row[5]) for row in report_table(admin, item)}
    assert reasons == {
        "广州伟业印刷厂": ("未放入负责人的库", "李四不是你管理的库的主人：已按导入目标放置。", "是"),
        "广州宏图包装材料厂": ("未放入负责人的库", "sales_b不是你管理的库的主人：已按导入目标放置。", "是"),
        "广州新星服装厂": ("未放入负责人的库", "sales_a的库已满（1 个客户）：已按导入目标放置。", "是")}


def test_two_people_of_one_name_are_not_guessed(app, api, org):
    name(app, "sales_a", "张伟")
    name(app, "super_a", "张伟")
    admin = api("admin_a")
    item = imported(admin, [["杭州明辉灯饰厂", "0571-88776655", "", "", "", "", "张伟"]],
                    target="library", owner="manager_a")
    assert item["unknown_values"]["owner"] == ["张伟"]
    run(admin, item)
    assert _where(app) == [("杭州明辉灯饰厂", "library", "manager_a")]  # the admin's chosen target
    (row,) = report_table(admin, item)
    assert row[1] == "未放入负责人的库" and row[2] == "张伟是多人的名字（sales_a；super_a）：不作猜测，已按导入目标放置。"


@pytest.mark.parametrize("options", [[], ["--skip-check"]], ids=["checked", "fast"])
def test_the_command_line_reads_the_same_columns(app, runner, org, tmp_path, options):
    created = runner.invoke(args=["users", "create", "wangfang", "--role", "salesperson", "--department",
                                  "华南代理/销售二部", "--password", PASSWORD, "--name", " 王芳 "])
    assert created.exit_code == 0, created.output
    path = tmp_path / "客户.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["客户名称", "电话", "下次跟进时间", "客户描述", "客户级别", "信息来源", "所属员工"])
        writer.writerow(["杭州明辉灯饰厂", "0571-88776655", "2020.1.5", "展会上认识", "重要", "展会", "王芳"])
        writer.writerow(["广州恒达机械厂", "020-81234560", "2030-02-30", "", "", "", ""])
    result = runner.invoke(args=["opportunities", "import", str(path), *options])
    assert result.exit_code == 0, result.output
    assert "imported 1" in result.output and "invalid 1" in result.output
    opportunity = record(app, "杭州明辉灯饰厂")
    assert opportunity.owner_id is not None and opportunity.key_customer and opportunity.imported
    assert opportunity.next_contact_at.isoformat() == "2020-01-05T01:00:00+00:00"
    with app.app_context():
        note = db.session.scalar(select(ContactNote))
        assert (note.content, note.imported, note.valid, note.author_id) == ("展会上认识", True, False, None)
        owner = db.session.get(User, opportunity.owner_id).login
    assert owner == "wangfang"
    report = (tmp_path / "客户.csv.report.csv").read_text(encoding="utf-8-sig")
    assert "2030-02-30" in report


def test_the_import_page_maps_the_levels(app, api, client, auth):
    admin = api("admin_a")
    item = imported(admin, [["杭州明辉灯饰厂", "0571-88776655", "", "", "VIP客户", "", ""],
                            ["广州恒达机械厂", "020-81234560", "", "", "一般", "", ""]])
    auth.login("admin_a")
    page = client.get(f"/imports/{item['id']}/").get_data(as_text=True)
    assert "文件中的客户等级：请选择哪些算作重点客户。" in page
    assert '<label class="col-5 col-form-label col-form-label-sm" for="value-key_customer-1">一般</label>' in page
    answer = post_form(client, f"/imports/{item['id']}/mapping", {"value-key_customer-1": "1"},
                       token_from=f"/imports/{item['id']}/")
    assert answer.status_code == 302
    assert admin.get(f"/imports/{item['id']}").get_json()["values"]["key_customer"] == {"VIP客户": "1", "一般": "1"}
    run(admin, admin.get(f"/imports/{item['id']}").get_json())
    assert record(app, "广州恒达机械厂").key_customer and record(app, "杭州明辉灯饰厂").key_customer
    with app.app_context():
        assert db.session.get(DataImport, item["id"]).status == "done"


def _where(app):
    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            select(Opportunity.company, Opportunity.location, User.login)
            .outerjoin(User, User.id == Opportunity.owner_id).order_by(Opportunity.id)).all()]


def test_an_admin_maps_levels_and_owners_on_the_import_page_in_chromium(app, org, browser_user, tmp_path):
    """Through the pages in Chromium: the upload, the levels offered for mapping (at 1366 and 390 px), the run,
    then the owner's 今日应联系 with the overdue customer and its 导入的备注."""
    name(app, "super_a", "王芳")
    path = tmp_path / "客户名单.xlsx"
    path.write_bytes(xlsx([
        ["杭州明辉灯饰厂", "0571-88776655", "2020-01-05", "展会上认识，要报价单。", "核心客户", "网络", "王芳"],
        ["广州恒达机械厂", "020-81234560", f"{future()} 15:00", "", "普通", "", "李四"],
    ], headers=WUKONG))
    admin = browser_user("admin_a")
    page = admin.page
    page.set_default_timeout(WAIT_MS)  # the upload's answer waits for the check (run at once, in the test)
    page.goto("/imports/new/")
    page.set_input_files("#file", str(path))
    page.check("#target-public_pool")
    page.click("#import-upload")
    page.wait_for_selector("#import-mapping")
    assert [page.locator(f"#column-{i}").input_value() for i in range(7)] == [
        "company", "phone", "next_contact_at", "note", "key_customer", "source", "owner"]
    key = page.locator("label[for^=value-key_customer-]", has_text="核心客户").get_attribute("for")
    plain = page.locator("label[for^=value-key_customer-]", has_text="普通").get_attribute("for")
    assert page.locator(f"#{key}").input_value() == "1" and page.locator(f"#{plain}").input_value() == "0"
    assert page.locator(f"#{plain} option:checked").inner_text() == "非重点客户"
    expect(page.locator("#import-unplaced-owners")).to_contain_text("李四")
    page.set_viewport_size({"width": 390, "height": 844})  # on a phone the chooser stays on the screen
    box = page.locator(f"#{plain}").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.set_viewport_size({"width": 1366, "height": 900})
    page.select_option(f"#{plain}", "1")  # the admin counts 普通 as key here
    page.click("#import-recheck")
    page.wait_for_selector("#import-mapping")
    page.click("#import-run")
    page.wait_for_selector("#import-done")
    assert "已导入 2 个客户" in page.locator("#import-done").inner_text()
    assert _where(app) == [("杭州明辉灯饰厂", "library", "super_a"), ("广州恒达机械厂", "public_pool", None)]
    assert record(app, "广州恒达机械厂").key_customer and record(app, "杭州明辉灯饰厂").key_customer

    owner = browser_user("super_a")
    owner.page.set_default_timeout(WAIT_MS)
    for width in (1366, 390):
        owner.page.set_viewport_size({"width": width, "height": 900})
        owner.page.goto("/opportunities/?show=due")
        expect(owner.page.locator("main")).to_contain_text("杭州明辉灯饰厂")  # overdue since 2020: due today
        owner.page.goto(f"/opportunities/details/?id={record(app, '杭州明辉灯饰厂').id}")
        note = owner.page.locator("#note-timeline li").first
        expect(note).to_contain_text("导入的备注")
        expect(note).to_contain_text("展会上认识，要报价单。")
        expect(note).to_contain_text("非有效联系")


def test_a_name_given_on_the_users_page_places_the_rows(app, api, client, auth, org):
    auth.login("admin_a")
    token = csrf_token(client, "/users/new/")
    created = client.post("/users/new/", data={
        "login": "liuyang", "display_name": "刘洋", "role": "salesperson", "email": "", "csrf_token": token,
        "department": str(org.depts["华南代理/销售二部"])})
    assert created.status_code == 200 and "liuyang" in created.get_data(as_text=True)
    assert "刘洋" in client.get("/users/").get_data(as_text=True)
    admin = api("admin_a")
    run(admin, imported(admin, [["杭州明辉灯饰厂", "0571-88776655", "", "", "", "", "刘洋"]]))
    assert _where(app) == [("杭州明辉灯饰厂", "library", "liuyang")]
