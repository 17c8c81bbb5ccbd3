"""Exports (issue 4): the opportunity and contact-note lists as .xlsx and CSV, as a manager downloads them.

The files must open in Excel with Chinese text (CSV with a UTF-8 BOM), hold only what the
viewer may see and what the list currently shows, and never carry a formula.
"""
import csv
import io
from datetime import datetime, timezone
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from conftest import zh
from models import User, db
from services import exports
from services.library import notes, opportunities
from services.library.opportunities import OpportunityInput

FORMULA = '=HYPERLINK("http://evil.example","点我")'
OPPORTUNITY_HEADERS = ["Company name", "Contact person", "Landline", "Mobile", "WeChat", "QQ", "Province", "City", "District",
                       "Town or subdistrict", "Department", "Owner", "Key customer", "Maturity", "Last contact", "Next contact", "Entered"]


def _headers(app):
    """The export's header row in Chinese (QQ is QQ in every language)."""
    return [h if h == "QQ" else zh(app, h) for h in OPPORTUNITY_HEADERS]


NOTE_HEADERS = ["Time", "Author", "Company name", "Contact method", "What happened", "Maturity", "Valid contact",
                "Next contact"]
WRITTEN = datetime(2026, 3, 1, 16, 30, tzinfo=timezone.utc)  # 00:30 on 2 March in Asia/Shanghai


def _own(app, login, company, **fields):
    with app.app_context():
        owner = db.session.scalar(db.select(User).filter_by(login=login))
        opportunity = opportunities.insert_opportunity(db.session, owner, OpportunityInput(company=company, **fields),
                                            "library", None)
        db.session.commit()
        return opportunity.id


def _note(app, login, opportunity_id, content, maturity=3, now=WRITTEN):
    with app.app_context():
        author = db.session.scalar(db.select(User).filter_by(login=login))
        notes.add_note(db.session, author, opportunity_id, "phone", content, maturity, now=now)
        db.session.commit()


@pytest.fixture
def library(app, org):
    """sales_a (华南, managed by manager_a) holds three customers, sales_b (华东) one."""
    return {
        "yangzhou": _own(app, "sales_a", "扬州五环印花厂", contact="王经理", phone="0514-2398577",
                         province="江苏", city="扬州", town="仙女"),
        "formula": _own(app, "sales_a", FORMULA, phone="+86 20 8888 1234", contact="@张三"),
        "minus": _own(app, "sales_a", "-广州美华陶瓷有限公司"),
        "other": _own(app, "sales_b", "杭州西湖丝绸有限公司"),
    }


def _csv(response):
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _xlsx(response):
    book = load_workbook(io.BytesIO(response.get_data()))
    return [[c.value for c in row] for row in book.active.iter_rows()], book.active


def _download(client, url, basename_msgid, app, fmt):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(zh(app, basename_msgid))}-" in disposition and disposition.endswith(fmt)
    return response


def test_a_manager_exports_the_opportunities_as_xlsx(client, auth, app, library):
    auth.login("manager_a")
    page = client.get("/opportunities/?show=all").get_data(as_text=True)
    assert 'id="export-xlsx"' in page and zh(app, "Export") in page
    rows, sheet = _xlsx(_download(client, "/opportunities/export/xlsx/?show=all", "Opportunities", app, "xlsx"))
    assert rows[0] == _headers(app)
    companies = {row[0] for row in rows[1:]}
    assert companies == {"扬州五环印花厂", "'" + FORMULA, "'-广州美华陶瓷有限公司"}  # not 华东's customer
    yangzhou = next(row for row in rows if row[0] == "扬州五环印花厂")
    assert yangzhou[1:3] == ["王经理", "0514-2398577"] and yangzhou[OPPORTUNITY_HEADERS.index("Owner")] == "sales_a"
    at = OPPORTUNITY_HEADERS.index
    assert yangzhou[at("Province"):at("Department")] == ["江苏省", "扬州市", "江都区", "仙女镇"]  # in full, to the town
    assert yangzhou[at("Key customer")] == zh(app, "No") and isinstance(yangzhou[at("Entered")], datetime)
    formula_row = next(i for i, row in enumerate(rows) if row[0] == "'" + FORMULA) + 1
    assert all(sheet.cell(formula_row, col).data_type == "s" for col in (1, 2, 3))  # text, not a formula
    assert rows[formula_row - 1][1:3] == ["'@张三", "'+86 20 8888 1234"]


def test_a_manager_exports_the_opportunities_as_csv(client, auth, app, library):
    auth.login("manager_a")
    response = _download(client, "/opportunities/export/csv/?show=all", "Opportunities", app, "csv")
    assert response.mimetype == "text/csv" and "X-Export-Truncated" not in response.headers
    rows = _csv(response)
    assert rows[0] == _headers(app)
    assert {row[0] for row in rows[1:]} == {"扬州五环印花厂", "'" + FORMULA, "'-广州美华陶瓷有限公司"}
    formula = next(row for row in rows if row[0] == "'" + FORMULA)
    assert formula[1:3] == ["'@张三", "'+86 20 8888 1234"]


def test_the_export_follows_the_current_search(client, auth, app, library):
    auth.login("manager_a")
    rows = _csv(client.get("/opportunities/export/csv/?show=all&search=扬州五环"))
    assert [row[0] for row in rows[1:]] == ["扬州五环印花厂"]
    page = client.get("/opportunities/?show=all&search=扬州五环").get_data(as_text=True)
    assert "/opportunities/export/csv/?show=all&amp;search=" in page  # the link carries the list's arguments


def test_the_export_follows_the_due_today_view(client, auth, app, library):
    """The export of 今日应联系 (?show=due, issue 21) holds the customers of the exporter's own library due today."""
    with app.app_context():
        manager = db.session.scalar(db.select(User).filter_by(login="manager_a"))
        rows = [opportunities.insert_opportunity(db.session, manager, OpportunityInput(company=name), "library", None)
                for name in ("扬州五环印花厂分厂", "-广州美华陶瓷有限公司分厂")]
        for row in rows:
            row.next_contact_at = datetime.now(timezone.utc)
        db.session.commit()
        contacted = rows[0].id
    _note(app, "manager_a", contacted, "约下月再谈", now=datetime.now(timezone.utc))  # no longer due
    auth.login("manager_a")
    due = {row[0] for row in _csv(client.get("/opportunities/export/csv/?show=due"))[1:]}
    assert due == {"'-广州美华陶瓷有限公司分厂"}  # not the one no longer due, nor sales_a's customers
    everything = {row[0] for row in _csv(client.get("/opportunities/export/csv/"))[1:]}
    assert "扬州五环印花厂" in everything and "扬州五环印花厂分厂" in everything  # 全部, the default


def test_an_agent_admin_exports_only_the_own_company(client, auth, app, library):
    auth.login("admin_b")
    rows = _csv(client.get("/opportunities/export/csv/?show=all"))
    assert [row[0] for row in rows[1:]] == ["杭州西湖丝绸有限公司"]


def test_a_salesperson_may_not_export(client, auth, app, library):
    auth.login("sales_a")
    assert 'id="export-xlsx"' not in client.get("/opportunities/?show=all").get_data(as_text=True)
    for url in ("/opportunities/export/csv/", "/opportunities/export/xlsx/", "/notes/export/csv/"):
        assert client.get(url).status_code == 403


def test_export_requires_login(client, library):
    for url in ("/opportunities/export/csv/", "/notes/export/xlsx/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_unknown_format_is_not_found(client, auth, library):
    auth.login("manager_a")
    assert client.get("/opportunities/export/pdf/").status_code == 404


def test_the_notes_list_is_scoped(client, auth, app, library):
    _note(app, "sales_a", library["yangzhou"], "华南的联系小记：客户想看样品")
    _note(app, "sales_b", library["other"], "华东的联系小记：客户下周来访")
    auth.login("admin_a")
    page = client.get("/notes/").get_data(as_text=True)
    assert "华南的联系小记" in page and "华东的联系小记" not in page
    assert zh(app, "Contact notes") in page
    auth.logout()
    auth.login("sales_b")
    page = client.get("/notes/").get_data(as_text=True)
    assert "华东的联系小记" in page and "华南的联系小记" not in page


def test_a_salesperson_keeps_seeing_the_own_notes_after_abandoning(client, auth, app, library):
    _note(app, "sales_a", library["yangzhou"], "放弃前写的小记")
    with app.app_context():
        sales_a = db.session.scalar(db.select(User).filter_by(login="sales_a"))
        opportunities.abandon(db.session, sales_a, library["yangzhou"], "客户无需求")
        db.session.commit()
    auth.login("sales_a")
    assert "放弃前写的小记" in client.get("/notes/").get_data(as_text=True)


def test_the_notes_export_in_both_formats(client, auth, app, library):
    _note(app, "sales_a", library["yangzhou"], "=1+1 客户说报价太高", maturity=0)
    _note(app, "sales_b", library["other"], "华东的联系小记")
    auth.login("admin_a")
    rows = _csv(_download(client, "/notes/export/csv/", "Contact notes", app, "csv"))
    assert rows[0] == [zh(app, h) for h in NOTE_HEADERS]
    assert rows[1:] == [["2026-03-02 00:30", "sales_a", "扬州五环印花厂", zh(app, "Phone"), "'=1+1 客户说报价太高", "0",
                         zh(app, "No"), ""]]
    sheet_rows, sheet = _xlsx(_download(client, "/notes/export/xlsx/", "Contact notes", app, "xlsx"))
    assert sheet_rows[0] == [zh(app, h) for h in NOTE_HEADERS]
    assert sheet_rows[1][:6] == [datetime(2026, 3, 2, 0, 30), "sales_a", "扬州五环印花厂", zh(app, "Phone"),
                                 "'=1+1 客户说报价太高", 0]
    assert sheet.cell(2, 5).data_type == "s"


def test_the_notes_filters_apply_to_the_export(client, auth, app, library):
    _note(app, "sales_a", library["yangzhou"], "三月二日的小记")  # 2 March, Shanghai time
    _note(app, "sales_a", library["formula"], "三月一日的小记", now=datetime(2026, 3, 1, 15, 59, tzinfo=timezone.utc))
    auth.login("manager_a")
    page = client.get("/notes/").get_data(as_text=True)
    assert "三月二日的小记" in page and "三月一日的小记" in page
    on_2_march = _csv(client.get("/notes/export/csv/?flt0_0=2026-03-02+to+2026-03-02"))
    assert [row[4] for row in on_2_march[1:]] == ["三月二日的小记"]
    by_author = _csv(client.get("/notes/export/csv/?flt0_1=SALES_A"))
    assert len(by_author) == 3
    assert _csv(client.get("/notes/export/csv/?flt0_1=sales_b"))[1:] == []


def test_neutralise_every_formula_start():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert exports.neutralise(start + "SUM(A1)") == "'" + start + "SUM(A1)"
    assert exports.neutralise("上海瑞丽服装厂") == "上海瑞丽服装厂" and exports.neutralise(None) == ""
    assert exports.neutralise(-5) == -5  # a number is not a formula


def test_the_row_cap(app, client, auth, library, monkeypatch):
    monkeypatch.setattr(exports, "MAX_ROWS", 2)
    auth.login("manager_a")
    response = client.get("/opportunities/export/csv/?show=all")
    assert len(_csv(response)) == 3 and response.headers["X-Export-Truncated"] == "2"


# --- daily statistics (the dashboard's per-person table) ---------------------------------------

DAILY_HEADERS = ["Date", "Login", "Department", "Valid contacts", "New key customers", "Library size",
                 "Library cap", "Overdue leads", "Behind today"]


def test_a_manager_exports_the_daily_statistics_of_the_own_people(client, auth, app, library):
    _note(app, "sales_a", library["yangzhou"], "约了下周拜访")  # 2 March in Asia/Shanghai
    auth.login("manager_a")
    assert 'id="daily-export"' in client.get("/").get_data(as_text=True)
    rows = _csv(_download(client, "/stats/export/csv/?date=2026-03-02", "Daily statistics", app, "csv"))
    assert rows[0] == [zh(app, h) for h in DAILY_HEADERS]
    people = {row[1]: row for row in rows[1:]}
    assert "sales_b" not in people and "sales_a" in people  # 华东's salesperson is not the manager's
    assert people["sales_a"][0] == "2026-03-02" and people["sales_a"][3] == "1" and people["sales_a"][5] == "3"
    book, _sheet = _xlsx(_download(client, "/stats/export/xlsx/?date=2026-03-01", "Daily statistics", app, "xlsx"))
    assert {row[1]: row[3] for row in book[1:]}["sales_a"] == 0  # the note was written on the 2nd, local time


def test_the_daily_statistics_export_refuses_salespeople_and_bad_dates(client, auth, app, library):
    auth.login("sales_a")
    assert client.get("/stats/export/csv/").status_code == 403
    assert 'id="daily-export"' not in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("admin_a")
    for raw in ("2026-02-30", "0001-01-01"):
        page = client.get(f"/stats/export/csv/?date={raw}", follow_redirects=True).get_data(as_text=True)
        assert zh(app, "The date must be a day from %(first)s to %(last)s, written YYYY-MM-DD, for example "
                       "2026-11-27.", first="1900-01-01", last="9998-12-31") in page
