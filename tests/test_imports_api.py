"""Imports from the browser, through the API (CONTRACT.md "Imports from the browser"): upload, the
background check's preview, mapping, run, report; who may; bad files."""
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from models import Opportunity, db

from test_api import ApiClient, _token, API

pytestmark = pytest.mark.usefixtures("org")


@pytest.fixture
def api(app, client, org):
    cache = {}

    def make(login):
        token = cache.setdefault(login, _token(app, login))
        return ApiClient(app, client, token)

    return make


def xlsx(rows):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, token, data, name="客户.xlsx", **form):
    return client.post(f"{API}/imports", data={"file": (io.BytesIO(data), name), **form},
                       headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data")


def test_upload_check_run_report(app, client, api):
    admin = api("admin_a")
    data = xlsx([["公司名称", "电话", "信息来源"],
                 ["上海瑞丽服装厂", "021-62345678", "网络"],
                 ["上海市瑞丽服装有限公司", "", ""],
                 ["杭州明辉灯饰厂", "0571-88776655", ""]])
    response = upload(client, admin.token, data)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["status"] == "checking" or body["status"] == "ready"
    item = admin.get(f"/imports/{body['id']}").get_json()
    assert item["status"] == "ready", item
    assert item["counts"]["new"] == 2 and item["counts"]["duplicate"] == 1, item
    rows = admin.get(f"/imports/{body['id']}/rows").get_json()
    assert rows["total"] == 3
    run = admin.post(f"/imports/{body['id']}/run", {})
    assert run.status_code == 202, run.get_json()
    item = admin.get(f"/imports/{body['id']}").get_json()
    assert item["status"] == "done" and item["imported"] == 2, item
    report = client.get(f"{API}/imports/{body['id']}/report", headers={"Authorization": f"Bearer {admin.token}"})
    assert report.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Opportunity)) == 2


def test_pages_smoke(app, client, auth):
    from conftest import csrf_token
    auth.login("admin_a")
    assert client.get("/imports/").status_code == 200
    page = client.get("/imports/new/")
    assert page.status_code == 200
    data = xlsx([["公司名称", "电话"], ["上海瑞丽服装厂", "021-62345678"], ["上海市瑞丽服装有限公司", ""]])
    token = csrf_token(client, "/imports/new/")
    response = client.post("/imports/new/", data={"csrf_token": token, "target": "public_pool",
                                                   "file": (io.BytesIO(data), "客户.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    details = client.get(response.headers["Location"])
    assert details.status_code == 200
    html = details.get_data(as_text=True)
    assert "撞单" in html, html[:3000]
    assert client.get("/imports/template.xlsx").status_code == 200
