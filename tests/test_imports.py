"""Imports from the browser (issue 10), through the API and the pages, as agent admins use them:
upload, the background check's preview (here the jobs run at once: conftest's immediate queue),
columns and list values mapped, review rows ticked, the run into each target, the report;
who may; bad files. The real worker is tests/test_imports_worker.py, the browser
tests/test_browser_imports.py."""
import io
import json

import openpyxl
import pytest
from sqlalchemy import func, select

from app import create_app
from conftest import _config, csrf_token, post_form, set_rules, zh
from helpers import API, ApiClient, api_token
from models import AuditEntry, DataImport, InfoSource, Opportunity, User, db

HEADERS = ["公司名称", "电话", "城市", "信息来源"]
ROWS = [["上海瑞丽服装厂", "021-62345678", "上海", "网络"],       # 1 new (网络 -> 网络搜索)
        ["上海市瑞丽服装有限公司", "", "上海", ""],                 # 2 duplicate of row 1
        ["杭州明辉灯饰厂", "0571-88776655", "杭州", "展会"],         # 3 new
        ["上海明辉灯饰厂", "", "上海", "朋友推荐"],                  # 4 invalid until 朋友推荐 is mapped, then
        ["", "020-81234599", "广州", ""]]                           #   review (row 3's name elsewhere); 5 invalid
NOT_A_SPREADSHEET = ("%(file)s is not a spreadsheet (perhaps another kind of file renamed): open it in Excel or WPS "
                     "and save it as .xlsx.")
DISTINCT = [["广州恒达机械厂", "020-81234560", "广州", ""], ["广州华鑫纺织有限公司", "020-81234561", "广州", ""],
            ["广州金源电子科技有限公司", "020-81234562", "广州", ""], ["广州宏图包装材料厂", "020-81234563", "广州", ""],
            ["广州伟业印刷厂", "020-81234564", "广州", ""], ["广州新星服装厂", "020-81234565", "广州", ""],
            ["广州永盛塑胶制品厂", "020-81234566", "广州", ""], ["广州立信茶叶店", "020-81234567", "广州", ""]]


def xlsx(rows, headers=HEADERS):
    book = openpyxl.Workbook()
    for row in [headers, *rows]:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(api_client, data, name="客户名单.xlsx", **form):
    response = api_client.client.post(f"{API}/imports", data={"file": (io.BytesIO(data), name), **form},
                                      headers={"Authorization": f"Bearer {api_client.token}"},
                                      content_type="multipart/form-data")
    return api_client._checked("POST", "/imports", response)


def uploaded(api_client, data=None, **form):
    response = upload(api_client, data or xlsx(ROWS), **form)
    assert response.status_code == 202, response.get_json()
    item = api_client.get(f"/imports/{response.get_json()['id']}").get_json()
    assert item["status"] == "ready", item
    return item


def companies(app, **where):
    with app.app_context():
        query = select(Opportunity.company).where(*[getattr(Opportunity, k) == v for k, v in where.items()])
        return sorted(db.session.scalars(query))


def test_the_preview_tells_every_row_its_verdict_and_why(api):
    admin = api("admin_a")
    item = uploaded(admin)
    assert item["rows_total"] == 5 and item["counts"] == {"new": 2, "review": 0, "duplicate": 1, "invalid": 2}
    assert item["columns"] == {"公司名称": "company", "电话": "phone", "城市": "city", "信息来源": "source"}
    assert item["unknown_values"] == {"source": ["朋友推荐", "网络"]}
    assert item["values"] == {"source": {"网络": "网络搜索"}}  # a close list value is chosen until the admin says
    rows = admin.get(f"/imports/{item['id']}/rows").get_json()
    assert [(r["row"], r["verdict"]) for r in rows["items"]] == [
        (1, "new"), (2, "duplicate"), (3, "new"), (4, "invalid"), (5, "invalid")]
    duplicate = rows["items"][1]
    assert duplicate["matches"][0]["location"] == "file" and duplicate["matches"][0]["row"] == 1
    assert set(rows["items"][3]["errors"]) == {"source"} and set(rows["items"][4]["errors"]) == {"company"}
    only_invalid = admin.get(f"/imports/{item['id']}/rows", verdict="invalid").get_json()
    assert only_invalid["total"] == 2 and only_invalid["items"][0]["values"]["company"] == "上海明辉灯饰厂"
    assert admin.get(f"/imports/{item['id']}/rows", verdict="maybe").status_code == 422


def test_the_run_imports_new_rows_and_ticked_review_rows_only(app, api):
    admin = api("admin_a")
    item = uploaded(admin)
    answer = admin.post(f"/imports/{item['id']}/run", {"values": {"source": {"朋友推荐": "客户介绍"}}})
    assert answer.status_code == 202, answer.get_json()
    done = admin.get(f"/imports/{item['id']}").get_json()
    # rows 1 and 3; row 4 (朋友推荐 mapped) resembles row 3 and was not ticked; 2 and 5 never
    assert done["status"] == "done" and done["imported"] == 2 and done["not_imported"] == 3, done
    assert companies(app, location="public_pool") == ["上海瑞丽服装厂", "杭州明辉灯饰厂"]
    with app.app_context():
        sources = dict(db.session.execute(select(Opportunity.company, InfoSource.name).join(InfoSource)).all())
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
    assert sources == {"上海瑞丽服装厂": "网络搜索", "杭州明辉灯饰厂": "展会"}
    assert entry.actor_login == "admin_a" and json.loads(entry.details)["imported"] == 2
    assert json.loads(entry.details)["file"] == "客户名单.xlsx"
    report = admin.client.get(f"{API}/imports/{item['id']}/report",
                              headers={"Authorization": f"Bearer {admin.token}"})
    assert report.status_code == 200 and report.mimetype.endswith("spreadsheetml.sheet")
    table = [[c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(report.data)).active.iter_rows()]
    assert table[0] == ["行号", "结论", "原因", "公司名称", "匹配记录", "是否导入"]
    assert sorted((row[0], row[1], row[5]) for row in table[1:]) == [
        (3, "撞单", "否"), (5, "需确认", "否"), (6, "无效", "否")]  # lines of the sheet: the header is line 1
    assert "未勾选导入" in next(row[2] for row in table[1:] if row[0] == 5)
    assert admin.post(f"/imports/{item['id']}/run", {}).status_code == 409  # done: not twice


def test_a_ticked_review_row_is_imported(app, api):
    admin = api("admin_a")
    item = uploaded(admin)
    answer = admin.post(f"/imports/{item['id']}/run", {"review_rows": [4], "values": {"source": {"朋友推荐": ""}}})
    assert answer.status_code == 202
    assert admin.get(f"/imports/{item['id']}").get_json()["imported"] == 3
    assert companies(app) == ["上海明辉灯饰厂", "上海瑞丽服装厂", "杭州明辉灯饰厂"]
    with app.app_context():  # "" leaves the source empty
        assert db.session.scalar(select(Opportunity.source_id).where(Opportunity.company == "上海明辉灯饰厂")) is None


def test_columns_are_mapped_and_remembered_for_the_company(app, api):
    admin = api("admin_a")
    first = uploaded(admin, xlsx([["上海瑞丽服装厂", "021-62345678", "王经理"]],
                                 headers=["公司名称", "办公座机", "对接人"]))
    assert first["columns"] == {"公司名称": "company", "办公座机": None, "对接人": None}
    answer = admin.post(f"/imports/{first['id']}/run", {"columns": {"办公座机": "phone", "对接人": "contact"}})
    assert answer.status_code == 202
    with app.app_context():
        row = db.session.execute(select(Opportunity.phone, Opportunity.contact)).one()
    assert tuple(row) == ("021-62345678", "王经理")
    second = uploaded(admin, xlsx([["杭州明辉灯饰厂", "0571-88776655", "赵女士"]],
                                  headers=["公司名称", "办公座机", "对接人"]))
    assert second["columns"] == {"公司名称": "company", "办公座机": "phone", "对接人": "contact"}
    other = uploaded(api("admin_b"), xlsx([["杭州明辉灯饰厂", "0571-88776655", "赵女士"]],
                                          headers=["公司名称", "办公座机", "对接人"]))
    assert other["columns"]["办公座机"] is None  # another company's choices are its own
    refused = admin.post(f"/imports/{second['id']}/run", {"columns": {"办公座机": "fax_number"}})
    assert refused.status_code == 422


@pytest.mark.parametrize("target", ["library", "round_robin", "agent_admin_pool"])
def test_every_target(app, api, target):
    admin = api("admin_a")
    form = {"target": target, "owner": "sales_a" if target == "library" else "",
            "department": "华南代理/销售一部" if target == "round_robin" else ""}
    item = uploaded(admin, xlsx(DISTINCT[:4]), **form)
    assert item["counts"]["new"] == 4, item
    assert admin.post(f"/imports/{item['id']}/run", {}).status_code == 202
    with app.app_context():
        rows = db.session.execute(select(Opportunity.location, User.login).outerjoin(
            User, User.id == Opportunity.owner_id)).all()
    if target == "agent_admin_pool":
        assert rows and {tuple(r) for r in rows} == {("agent_admin_pool", None)}
    elif target == "library":
        assert [tuple(r) for r in rows] == [("library", "sales_a")] * 4
    else:  # in turn to the salespeople of 华南代理/销售一部 (sales_a is the only salesperson there)
        assert [tuple(r) for r in rows] == [("library", "sales_a")] * 4


def test_round_robin_takes_turns_and_a_library_stops_at_its_cap(app, api, org):
    from services.people import accounts, departments

    with app.app_context():
        team = departments.resolve_path(db.session, "华南代理/销售一部/电话组")
        accounts.create_user(db.session, None, "sales_c", "salesperson", team, [], password="渠道客户管理2026")
        db.session.commit()
    set_rules(app, cap=3)
    admin = api("admin_a")
    item = uploaded(admin, xlsx(DISTINCT), target="round_robin", department="华南代理/销售一部")
    assert item["counts"]["new"] == 8, item
    assert admin.post(f"/imports/{item['id']}/run", {}).status_code == 202
    with app.app_context():
        owners = db.session.execute(select(User.login, func.count()).join(Opportunity, Opportunity.owner_id == User.id)
                                    .group_by(User.login)).all()
    assert dict(owners) == {"sales_a": 3, "sales_c": 3}  # one after the other, up to each one's cap
    done = admin.get(f"/imports/{item['id']}").get_json()
    assert done["imported"] == 6 and done["not_imported"] == 2


def test_who_may_import(app, api):
    sales = api("sales_a")
    assert upload(sales, xlsx(ROWS)).status_code == 403
    assert sales.get("/imports").status_code == 403
    item = uploaded(api("admin_a"))
    other = api("admin_b")
    for path in (f"/imports/{item['id']}", f"/imports/{item['id']}/rows"):
        assert other.get(path).status_code == 404
        assert sales.get(path).status_code == 403
    assert other.post(f"/imports/{item['id']}/run", {}).status_code == 404
    assert other.get("/imports").get_json()["total"] == 0
    assert api("root").get("/imports").get_json()["total"] == 1
    refused = upload(api("admin_a"), xlsx(ROWS), target="library", owner="sales_b")  # another company's
    assert refused.status_code == 422 and "owner" in refused.get_json()["fields"]
    refused = upload(api("admin_a"), xlsx(ROWS), target="round_robin", department="华东代理/销售一部")
    assert refused.status_code == 422 and "department" in refused.get_json()["fields"]
    assert companies(app) == []


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


@pytest.mark.parametrize("name, data, message, variables", [
    ("客户.xlsx", PNG, NOT_A_SPREADSHEET, {"file": "客户.xlsx"}),
    ("客户.xlsx", b"", "The file is empty.", {}),
    ("客户.pdf", b"%PDF-1.4", "Upload an .xlsx, .xls, .ods or .csv file.", {}),
    ("客户.csv", "公司,电话\n".encode("utf-16"), None, None),
    ("客户.xlsx", None, None, None),  # no company column
], ids=["picture", "empty", "pdf", "utf16", "no-company"])
def test_a_file_that_is_no_customer_list_is_refused_in_chinese(app, api, name, data, message, variables):
    admin = api("admin_a")
    if data is None:
        data = xlsx([["王经理", "021-62345678"]], headers=["联系人", "电话"])
    response = upload(admin, data, name)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    if message:
        assert body["fields"]["file"] == zh(app, message, **variables)
    assert "file" in body["fields"] and any("\u4e00" <= c <= "\u9fff" for c in body["message"])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DataImport)) == 0


def test_limits_of_size_and_rows(app, org, tmp_path):
    small = create_app({**_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path), "CRM_QUEUE_URL": "immediate",
                        "CRM_IMPORT_MAX_MB": 1, "CRM_IMPORT_MAX_ROWS": 3})
    admin = ApiClient(small, small.test_client(), api_token(small, "admin_a"))
    too_large = upload(admin, b"a" * (1536 * 1024), "大.csv")
    assert too_large.status_code == 413 and too_large.get_json()["error"] == "too_large"
    assert too_large.get_json()["message"] == zh(small, "The file is larger than %(n)d MB: split it, or keep only "
                                                        "the columns to import.", n=1)
    far_too_large = upload(admin, b"a" * (3 * 1024 * 1024), "大.csv")  # refused before it is read
    assert far_too_large.status_code == 413 and far_too_large.get_json()["error"] == "too_large"
    too_many = upload(admin, xlsx(ROWS))
    assert too_many.status_code == 422 and "3" in too_many.get_json()["fields"]["file"]


def test_the_run_waits_for_the_check(app, org, tmp_path):
    """With a queue and no worker, the check waits: the run is refused until it is done."""
    queued = create_app({**_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path),
                         "CRM_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}"})
    admin = ApiClient(queued, queued.test_client(), api_token(queued, "admin_a"))
    answer = upload(admin, xlsx(ROWS))
    assert answer.status_code == 202 and answer.get_json()["status"] == "checking"
    refused = admin.post(f"/imports/{answer.get_json()['id']}/run", {})
    assert refused.status_code == 409 and refused.get_json()["error"] == "not_ready"


# --- the pages -------------------------------------------------------------------------------

def test_the_pages_walk_an_import(app, client, auth, org):
    auth.login("admin_a")
    assert "导入客户" in client.get("/imports/").get_data(as_text=True)
    template = client.get("/imports/template.xlsx")
    headers = [c.value for c in next(openpyxl.load_workbook(io.BytesIO(template.data)).active.iter_rows())]
    assert headers[0] == "公司名称" and {"省份", "城市", "信息来源", "重点客户"} <= set(headers)
    token = csrf_token(client, "/imports/new/")
    response = client.post("/imports/new/", content_type="multipart/form-data", data={
        "csrf_token": token, "target": "public_pool", "file": (io.BytesIO(xlsx(ROWS)), "客户名单.xlsx")})
    assert response.status_code == 302
    page = response.headers["Location"]
    html = client.get(page).get_data(as_text=True)
    assert "待导入" in html and "上海市瑞丽服装有限公司" in html and "本文件第2行" in html
    with app.app_context():
        item = db.session.scalar(select(DataImport))
    mapped = post_form(client, f"/imports/{item.id}/mapping", {"column-0": "company", "column-1": "phone",
                                                               "column-2": "city", "column-3": "source",
                                                               "value-source-0": "客户介绍",
                                                               "value-source-1": "网络搜索"}, token_from=page)
    assert mapped.status_code == 302
    html = client.get(page + "?verdict=review").get_data(as_text=True)
    assert "上海明辉灯饰厂" in html  # 朋友推荐 is now 客户介绍: the row is valid, and resembles row 3
    ticked = post_form(client, f"/imports/{item.id}/include", {"shown": "4", "row": "4"}, token_from=page)
    assert ticked.status_code == 302
    assert post_form(client, f"/imports/{item.id}/run", {}, token_from=page).status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "已导入 3 个客户；2 行未导入" in html
    report = client.get(f"/imports/{item.id}/report.xlsx")
    assert report.status_code == 200 and "attachment" in report.headers["Content-Disposition"]
    assert companies(app) == ["上海明辉灯饰厂", "上海瑞丽服装厂", "杭州明辉灯饰厂"]


def test_a_bad_upload_is_told_on_the_form(client, auth, org, app):
    auth.login("admin_a")
    token = csrf_token(client, "/imports/new/")
    response = client.post("/imports/new/", content_type="multipart/form-data", data={
        "csrf_token": token, "target": "public_pool", "file": (io.BytesIO(PNG), "客户.xls")})
    assert response.status_code == 200
    assert zh(app, NOT_A_SPREADSHEET, file="客户.xls") in response.get_data(as_text=True)


def test_only_admins_see_the_pages(client, auth, org, app):
    auth.login("sales_a")
    for path in ("/imports/", "/imports/new/", "/imports/template.xlsx"):
        assert client.get(path).status_code == 403
    auth.logout()
    auth.login("admin_a")
    item = None
    with app.app_context():
        admin_b = db.session.scalar(select(User).filter_by(login="admin_b"))
        item = DataImport(created_by_id=admin_b.id, department_id=admin_b.department.company_id, file_name="b.xlsx",
                          file_size=1, status="ready", target="public_pool")
        db.session.add(item)
        db.session.commit()
        item_id = item.id
    assert client.get(f"/imports/{item_id}/").status_code == 404  # another company's import
    assert client.get(f"/imports/{item_id}/progress.json").status_code == 404
    assert post_form(client, f"/imports/{item_id}/run", {}).status_code == 404
    assert client.get("/imports/99999999999999999999/").status_code == 404


def test_a_dead_workers_job_is_failed_but_a_committed_import_stays_done(app, api):
    """A worker that died after the run's transaction committed, before its job was marked done."""
    import socket
    from datetime import timedelta

    from models import Job
    from services import clock

    admin = api("admin_a")
    running, committed = uploaded(admin), uploaded(admin)
    long_ago = clock.now() - timedelta(minutes=5)
    dead = f"{socket.gethostname()}:{2**22 + 12345}"  # no such process (past pid_max's default)
    with app.app_context():
        for item_id, status in ((running["id"], "importing"), (committed["id"], "done")):
            job = Job(kind="import_run", ref_id=item_id, status="running", worker=dead, created_at=long_ago,
                      started_at=long_ago, heartbeat_at=long_ago)
            db.session.add(job)
            db.session.flush()
            db.session.execute(db.update(DataImport).where(DataImport.id == item_id).values(status=status,
                                                                                            job_id=job.id))
        db.session.commit()
    failed = admin.get(f"/imports/{running['id']}").get_json()
    assert failed["status"] == "failed" and "后台进程" in failed["message"]
    assert admin.get(f"/imports/{committed['id']}").get_json()["status"] == "done"
    with app.app_context():
        assert set(db.session.scalars(select(Job.status).where(Job.kind == "import_run"))) == {"failed"}
