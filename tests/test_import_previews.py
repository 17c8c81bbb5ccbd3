"""Previews bounded and cleaned (issue 19): a preview row keeps at most CRM_IMPORT_PREVIEW_ROW_BYTES,
a cancelled import and one past the retention keep no rows nor file, an import stored with a header of
100,000 columns still answers small pages, and the migration cuts the rows stored before the caps.
Through the API and the pages, on the suite's database (SQLite, or PostgreSQL with CRM_TEST_DATABASE_URL).
"""
import json
from datetime import timedelta
from pathlib import Path

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, make_url, select
from test_imports import uploaded, xlsx

from app import create_app
from conftest import _config, post_form, zh
from helpers import ApiClient, api_token
from models import DataImport, DataImportFile, DataImportRow, User, db
from services import clock

LONG_HEADERS = ["公司名称", "电话", "城市", "地址", "联系人", "行业"]


def stored_bytes(row):
    return sum(len((text or "").encode()) for text in (row.values, row.matches, row.errors))


def preview_rows(app, import_id):
    with app.app_context():
        return db.session.scalars(select(DataImportRow).where(DataImportRow.import_id == import_id)
                                  .order_by(DataImportRow.row)).all()


def test_a_preview_keeps_at_most_the_row_cap_and_cuts_the_refused_value_first(app, api):
    huge = "长" * 300_000  # 900 KB of UTF-8 in one cell (the reader's own cap on a cell is part of issue 19 too)
    valid = ["杭州明辉灯饰厂", "0571-88776655", "杭州", "西湖区" + "文" * 290, "赵" * 60, "灯" * 60]
    admin = api("admin_a")
    item = uploaded(admin, xlsx([["上海瑞丽服装厂", "021-62345678", "上海", huge, "王经理", "服装"],
                                 ["广州" + "恒" * 5000, "020-81234560", "广州", "天河区", "李" * 3000, "机械"],
                                 valid], headers=LONG_HEADERS))
    rows = preview_rows(app, item["id"])
    assert [r.verdict for r in rows] == ["invalid", "invalid", "new"]
    assert max(stored_bytes(r) for r in rows) <= 4096
    answer = admin.get(f"/imports/{item['id']}/rows")
    assert len(answer.data) < 3 * 4096 + 1024  # three bounded rows
    first, second, third = answer.get_json()["items"]
    # the refused value is cut short and marked; the row says why; the others are whole
    assert first["values"]["address"].endswith("…") and len(first["values"]["address"].encode()) <= 60
    assert set(first["errors"]) == {"address"} and first["values"]["company"] == "上海瑞丽服装厂"
    assert first["values"]["contact"] == "王经理"
    assert set(second["errors"]) == {"company", "contact"}
    assert second["values"]["company"].startswith("广州恒") and second["values"]["company"].endswith("…")
    assert third["values"] == dict(zip(["company", "phone", "city", "address", "contact", "industry"], valid))


def test_the_cap_is_chosen_in_the_configuration(app, org, tmp_path):
    small = create_app({**_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path), "CRM_QUEUE_URL": "immediate",
                        "CRM_IMPORT_PREVIEW_ROW_BYTES": 1024})
    admin = ApiClient(small, small.test_client(), api_token(small, "admin_a"))
    valid = ["杭州明辉灯饰厂", "0571-88776655", "杭州", "西湖区" + "文" * 290, "赵" * 60, "灯" * 60]  # ~1.6 KB
    item = uploaded(admin, xlsx([valid], headers=LONG_HEADERS))
    [row] = preview_rows(small, item["id"])
    assert row.verdict == "new" and stored_bytes(row) <= 1024
    values = json.loads(row.values)
    assert values["company"] == "杭州明辉灯饰厂" and values["address"].endswith("…")
    assert values["address"].startswith("西湖区文文")


def test_the_page_shows_the_bounded_preview(app, client, auth, org, api):
    item = uploaded(api("admin_a"), xlsx([["上海瑞丽服装厂", "021-62345678", "上海", "长" * 300_000, "", ""]],
                                         headers=LONG_HEADERS))
    auth.login("admin_a")
    page = client.get(f"/imports/{item['id']}/")
    assert page.status_code == 200 and len(page.data) < 200_000
    assert "上海瑞丽服装厂" in page.get_data(as_text=True) and "长" * 100 not in page.get_data(as_text=True)


def _wal(app):
    """SQLite's write-ahead log of the suite's database (None on PostgreSQL)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    return Path(f"{url.database}-wal") if url.get_backend_name() == "sqlite" else None


def test_cancelling_deletes_the_preview_and_the_file(app, client, auth, org, api):
    admin = api("admin_a")
    item, kept = uploaded(admin), uploaded(admin)
    auth.login("admin_a")
    page = f"/imports/{item['id']}/"
    wal = _wal(app)
    assert wal is None or wal.stat().st_size > 0  # the previews were written through it
    cancelled = post_form(client, f"/imports/{item['id']}/cancel", {}, token_from=page)
    assert cancelled.status_code == 302
    assert wal is None or wal.stat().st_size == 0  # checkpointed: the WAL keeps no copy of what was deleted
    listed = client.get(cancelled.headers["Location"]).get_data(as_text=True)
    assert zh(app, "The import was cancelled: nothing was imported, and its file and preview were deleted.") in listed
    with app.app_context():
        left = db.session.execute(select(DataImportRow.import_id, func.count()).group_by(DataImportRow.import_id)).all()
        files = db.session.scalars(select(DataImportFile.import_id)).all()
    assert [tuple(r) for r in left] == [(kept["id"], 5)] and files == [kept["id"]]  # the other import keeps its own
    html = client.get(page).get_data(as_text=True)
    assert zh(app, "The import was cancelled: its file and its preview rows were deleted.") in html
    answer = admin.get(f"/imports/{item['id']}").get_json()
    assert answer["status"] == "cancelled" and answer["rows_deleted"] is True
    assert answer["rows_total"] == 5 and answer["counts"]["new"] == 2  # the record and its counts stay
    assert admin.get(f"/imports/{item['id']}/rows").get_json() == {"items": [], "total": 0}
    assert admin.get(f"/imports/{kept['id']}").get_json()["rows_deleted"] is False


def test_the_retention_deletes_the_file_the_report_and_the_preview_rows(app, client, auth, org, api, runner):
    admin = api("admin_a")
    old, recent = uploaded(admin), uploaded(admin)
    assert admin.post(f"/imports/{old['id']}/run", {}).status_code == 202
    with app.app_context():
        db.session.execute(db.update(DataImport).where(DataImport.id == old["id"]).values(
            created_at=clock.now() - timedelta(days=31)))
        db.session.commit()
    result = runner.invoke(args=["rules", "run"])
    assert result.exit_code == 0, result.output
    assert preview_rows(app, old["id"]) == [] and len(preview_rows(app, recent["id"])) == 5
    with app.app_context():
        kept = db.session.execute(select(DataImportFile.import_id, DataImportFile.kind)
                                  .order_by(DataImportFile.import_id)).all()
    assert [tuple(k) for k in kept] == [(recent["id"], "upload")]  # the old upload and its report are gone
    gone = admin.client.get(f"/api/v1/imports/{old['id']}/report", headers={"Authorization": f"Bearer {admin.token}"})
    assert gone.status_code == 409
    done = admin.get(f"/imports/{old['id']}").get_json()
    assert done["rows_deleted"] is True and done["imported"] == 2 and done["counts"]["duplicate"] == 1
    auth.login("admin_a")
    html = client.get(f"/imports/{old['id']}/").get_data(as_text=True)
    assert zh(app, "The file and its preview rows were deleted %(days)d days after the upload; the counts stay.",
              days=30) in html
    assert zh(app, "%(n)d customers were imported; %(m)d rows were not.", n=2, m=3) in html


# --- an import stored before the header's width was capped -------------------------------------

WIDE = 100_000


def wide_import(app, login="admin_a"):
    """A ready import with a header of WIDE columns, the company's at column 50,000 (no file: it stands for
    an old one), and 60 rows."""
    headers = [f"列{i}" for i in range(WIDE)]
    headers[50_000] = "公司名称"
    with app.app_context():
        admin = db.session.scalar(select(User).filter_by(login=login))
        item = DataImport(created_by_id=admin.id, department_id=admin.department.company_id, file_name="宽.csv",
                          file_size=1, status="ready", target="public_pool", header_line=1, rows_total=60,
                          counts=json.dumps({"new": 60}), headers=json.dumps(headers, ensure_ascii=False),
                          columns=json.dumps({**{h: None for h in headers}, "公司名称": "company"}, ensure_ascii=False),
                          unknown_values=json.dumps({"source": [f"来源{i}" for i in range(5000)]}, ensure_ascii=False))
        db.session.add(item)
        db.session.flush()
        db.session.add(DataImportFile(import_id=item.id, kind="upload", name="宽.csv", data=b"x"))
        db.session.add_all([DataImportRow(import_id=item.id, row=n, line=n + 1, verdict="new", company=f"公司{n}",
                                          values=json.dumps({"company": f"公司{n}"}, ensure_ascii=False), matches="[]")
                            for n in range(1, 61)])
        db.session.commit()
        return item.id


def test_a_header_of_100000_columns_shows_a_bounded_page(app, client, auth, org):
    import_id = wide_import(app)
    auth.login("admin_a")
    page = client.get(f"/imports/{import_id}/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and len(page.data) < 2_000_000
    assert html.count('name="column-') == 200 and html.count('name="value-source-') == 200
    assert 'id="column-50000"' in html  # the mapped column is shown whatever its place
    assert f"文件还有 {WIDE - 200} 列未显示：这些列不导入。" in html
    assert html.count("<tr data-row=") == 50  # the rows, a page at a time


def test_the_list_api_carries_no_columns_and_the_detail_a_bounded_number(app, api, org):
    import_id = wide_import(app)
    admin = api("admin_a")
    listed = admin.get("/imports")
    assert listed.status_code == 200 and len(listed.data) < 10_000
    [summary] = listed.get_json()["items"]
    assert summary["id"] == import_id and not {"columns", "unknown_values", "values"} & set(summary)
    detail = admin.get(f"/imports/{import_id}")
    assert detail.status_code == 200 and len(detail.data) < 100_000
    answer = detail.get_json()
    assert len(answer["columns"]) == 200 and answer["columns"]["公司名称"] == "company"
    assert answer["columns_not_shown"] == WIDE - 200 and len(answer["unknown_values"]["source"]) == 200
    rows = admin.get(f"/imports/{import_id}/rows", page=2).get_json()
    assert rows["total"] == 60 and len(rows["items"]) == 10  # 50 a page


# --- the migration: rows stored before the caps ------------------------------------------------

def test_the_migration_cuts_and_deletes_the_rows_stored_before(fresh_database, tmp_path):
    from conftest import Org

    app = create_app(_config(fresh_database, tmp_path))
    directory = app.extensions["migrate"].directory
    with app.app_context():
        upgrade(directory=directory)
    Org(app)
    huge = {"company": "上海瑞丽服装厂", "address": "长" * 1_000_000}
    with app.app_context():
        admin = db.session.scalar(select(User).filter_by(login="admin_a"))
        ids = {}
        for name, status, with_file in (("ready", "ready", True), ("cancelled", "cancelled", True),
                                        ("expired", "done", False), ("checking", "checking", False)):
            item = DataImport(created_by_id=admin.id, department_id=admin.department.company_id, file_name="a.xlsx",
                              file_size=1, status=status, target="public_pool")
            db.session.add(item)
            db.session.flush()
            ids[name] = item.id
            if with_file:
                db.session.add(DataImportFile(import_id=item.id, kind="upload", name="a.xlsx", data=b"x"))
            db.session.add_all([
                DataImportRow(import_id=item.id, row=1, verdict="invalid", values=json.dumps(huge, ensure_ascii=False),
                              matches="[]", errors=json.dumps({"address": "地址最多300个字符。"}, ensure_ascii=False)),
                DataImportRow(import_id=item.id, row=2, verdict="new", values=json.dumps({"company": "杭州明辉灯饰厂"},
                                                                                          ensure_ascii=False),
                              matches="[]")])
        db.session.commit()
        downgrade(directory=directory, revision="0011")
        upgrade(directory=directory)
    with app.app_context():
        left = {(r.import_id, r.row): r for r in db.session.scalars(select(DataImportRow))}
        files = set(db.session.scalars(select(DataImportFile.import_id)))
    assert set(left) == {(ids["ready"], 1), (ids["ready"], 2), (ids["checking"], 1), (ids["checking"], 2)}
    assert files == {ids["ready"]}  # the cancelled import's file went with its rows
    cut = left[ids["ready"], 1]
    assert stored_bytes(cut) <= 4096 and json.loads(cut.values)["address"].endswith("…")
    assert json.loads(cut.values)["company"] == "上海瑞丽服装厂" and json.loads(cut.errors) == {"address": "地址最多300个字符。"}
    assert left[ids["ready"], 2].values == json.dumps({"company": "杭州明辉灯饰厂"}, ensure_ascii=False)  # untouched
    with app.app_context():
        db.engine.dispose()
