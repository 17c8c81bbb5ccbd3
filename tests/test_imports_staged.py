"""Entries keep working during an import (issue 19, point 8), as the API shows it: the run commits its rows
in short batches, hidden until its end (services/imports/staging.py). Here the jobs run at once (conftest's
immediate queue) and the test acts between two batches of the run, as a salesperson would meanwhile:
what it enters goes in at once and wins over the import's rows; the import's rows are seen nowhere until
the end, then all at once; a run that fails leaves no row, hidden or not. With real processes and the
clock: tests/test_imports_worker.py."""
import io

import openpyxl
import pytest
from sqlalchemy import func, select
from test_imports import DISTINCT, uploaded, xlsx

from conftest import set_rules, zh
from helpers import API
from models import DataImport, Opportunity, OpportunityPhone, OpportunityTerm, User, db
from services.errors import RuleViolation
from services.imports import staging
from services.library import opportunities

MOBILE_ROW = ["广州顺达物流有限公司", "13912345678", "广州", ""]
ROWS = [*DISTINCT, MOBILE_ROW]  # 9 different customers of Guangzhou


@pytest.fixture
def between_batches(monkeypatch):
    """`arm(action, after)`: run `action()` once, between two batches of the run, once `after` rows are
    written (hidden). Every row is a batch of its own here."""
    armed = []
    real = staging.Writer.release

    def release(self):
        real(self)
        for step in armed:
            if not step["done"] and hidden(self.session) >= step["after"]:
                step["done"] = True
                step["action"]()

    monkeypatch.setattr(staging, "WRITE_SECONDS", 0)
    monkeypatch.setattr(staging, "PAUSE_SECONDS", 0)
    monkeypatch.setattr(staging.Writer, "release", release)
    return lambda action, after: armed.append({"action": action, "after": after, "done": False})


def hidden(session):
    count = session.scalar(select(func.count()).select_from(Opportunity).where(
        Opportunity.pending_import_id.is_not(None)))
    session.commit()  # no read transaction left open in the run's session
    return count


def into_library(admin, rows=ROWS):
    return uploaded(admin, xlsx(rows), target="library", owner="sales_a")


def report(admin, import_id):
    answer = admin.client.get(f"{API}/imports/{import_id}/report", headers={"Authorization": f"Bearer {admin.token}"})
    return {row[0]: row[1:] for row in ([c.value for c in r] for r in
                                        openpyxl.load_workbook(io.BytesIO(answer.data)).active.iter_rows())}


def test_entries_made_during_an_import_go_in_at_once_and_win(app, api, between_batches):
    admin, sales = api("admin_a"), api("sales_a")
    item = into_library(admin)
    meanwhile = {}

    def salesperson_works():
        meanwhile["hidden"] = hidden(db.session)
        meanwhile["list"] = sales.get("/opportunities").get_json()["total"]
        meanwhile["check"] = sales.get("/dedup", name=DISTINCT[0][0], phone=DISTINCT[0][1]).get_json()["verdict"]
        meanwhile["search"] = sales.get("/opportunities", q=DISTINCT[2][1]).get_json()["total"]
        # the same customer as the file's row 2 (written, hidden), and another's mobile as the file's row 9
        meanwhile["same"] = sales.post("/opportunities", {"company": DISTINCT[1][0], "phone": DISTINCT[1][1],
                                                          "city": "广州"}).status_code
        meanwhile["mobile"] = sales.post("/opportunities", {"company": "佛山顺达贸易有限公司", "mobile": MOBILE_ROW[1],
                                                            "city": "佛山"}).status_code

    between_batches(salesperson_works, after=len(ROWS))  # every row written: the end decides
    answer = admin.post(f"/imports/{item['id']}/run", {"review_rows": "all"})
    assert answer.status_code == 202, answer.get_json()
    assert meanwhile == {"hidden": 9, "list": 0, "check": "new", "search": 0, "same": 201, "mobile": 201}

    done = admin.get(f"/imports/{item['id']}").get_json()
    assert done["status"] == "done" and done["imported"] == 7 and done["not_imported"] == 2, done
    lines = report(admin, item["id"])
    assert lines[3][0] == "撞单" and DISTINCT[1][0] in lines[3][3]  # line 3 (row 2): the entry made meanwhile
    assert lines[10][0] == "撞单" and "13912345678" in lines[10][1] and "佛山顺达贸易有限公司" in lines[10][3]
    assert sales.get("/opportunities").get_json()["total"] == 9  # 7 imported and the 2 entries
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Opportunity).where(
            Opportunity.company == DISTINCT[1][0])) == 1
        assert db.session.scalar(select(func.count()).select_from(Opportunity).where(
            (Opportunity.deleted_at.is_not(None)) | Opportunity.pending_import_id.is_not(None))) == 0
        kinds = db.session.scalars(select(OpportunityPhone.kind).where(OpportunityPhone.local == "13912345678")).all()
        assert kinds == ["mobile"]  # the entry's; the import's row is gone
    assert sales.get("/dedup", name=DISTINCT[0][0], phone=DISTINCT[0][1]).get_json()["verdict"] == "duplicate"


def test_a_run_that_fails_midway_leaves_no_row_and_runs_again(app, api, between_batches):
    admin, sales = api("admin_a"), api("sales_a")
    item = into_library(admin)

    def disk_full():
        raise OSError("No space left on device")

    between_batches(disk_full, after=4)
    assert admin.post(f"/imports/{item['id']}/run", {"review_rows": "all"}).status_code == 202
    failed = admin.get(f"/imports/{item['id']}").get_json()
    assert failed["status"] == "failed", failed
    with app.app_context():
        assert failed["message"] == zh(app, "The background job failed unexpectedly; nothing of it was written. "
                                            "The error is in the worker's log.")
        for model in (Opportunity, OpportunityTerm, OpportunityPhone):  # not even hidden
            assert db.session.scalar(select(func.count()).select_from(model)) == 0
    assert sales.get("/opportunities").get_json()["total"] == 0
    assert admin.post(f"/imports/{item['id']}/run", {}).status_code == 202
    assert admin.get(f"/imports/{item['id']}").get_json()["imported"] == 9
    assert sales.get("/opportunities").get_json()["total"] == 9


def test_a_killed_runs_hidden_rows_are_deleted_by_the_next_run_or_the_purge(app, api, between_batches):
    """A killed worker cannot delete its rows: they stay hidden; the next run of that import, or the hourly
    purge once the import is no longer running, deletes them."""
    admin, sales = api("admin_a"), api("sales_a")
    item = into_library(admin)

    class Killed(BaseException):  # not an Exception: nothing of the job's own handling runs, as with SIGKILL
        pass

    between_batches(lambda: (_ for _ in ()).throw(Killed()), after=3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("services.imports.importing._discard", lambda session, import_id: None)  # a dead process
        with pytest.raises(Killed):
            admin.post(f"/imports/{item['id']}/run", {"review_rows": "all"})
    with app.app_context():
        left = db.session.scalar(select(func.count()).select_from(Opportunity).where(
            Opportunity.pending_import_id == item["id"]))
        assert left >= 3
        admin_user = db.session.scalar(select(User).filter_by(login="admin_a"))
        hidden_id = db.session.scalar(select(Opportunity.id).where(Opportunity.pending_import_id == item["id"]))
        with pytest.raises(RuleViolation):  # not in the deleted customers an admin may restore
            opportunities.restore(db.session, admin_user, hidden_id)
        db.session.rollback()
        from services.imports import retention
        db.session.execute(DataImport.__table__.update().values(status="failed"))
        db.session.commit()
        retention.purge(db.session)
        assert db.session.scalar(select(func.count()).select_from(Opportunity)) == 0
    assert sales.get("/opportunities").get_json()["total"] == 0


def test_entries_made_during_an_import_count_first_against_the_cap(app, api, between_batches):
    set_rules(app, cap=5)
    admin, sales = api("admin_a"), api("sales_a")
    item = into_library(admin, DISTINCT)  # 8 rows for a library of 5: rows 6 to 8 are beyond it

    def salesperson_enters_two():
        for company, phone in (("深圳远航电子有限公司", "0755-26781234"), ("深圳佳美家具厂", "0755-26785678")):
            assert sales.post("/opportunities", {"company": company, "phone": phone, "city": "深圳"}).status_code == 201

    between_batches(salesperson_enters_two, after=2)
    assert admin.post(f"/imports/{item['id']}/run", {}).status_code == 202
    done = admin.get(f"/imports/{item['id']}").get_json()
    assert done["imported"] == 3 and done["not_imported"] == 5, done
    assert sales.get("/opportunities").get_json()["total"] == 5
    lines = report(admin, item["id"])
    assert [line for line, row in lines.items() if row[0] == "库已满"] == [5, 6, 7, 8, 9]


def test_an_entry_made_while_the_report_is_made_wins_too(app, api, monkeypatch):
    """The report is made between the end's two passes, without the lock: an entry made then is judged by the
    last transaction, and the report is made again with the row it made lose."""
    from services.imports import importing

    admin, sales = api("admin_a"), api("sales_a")
    item = into_library(admin)
    made, real = [], importing.ImportSummary.report_xlsx

    def report_xlsx(summary):
        if not made:
            made.append(sales.post("/opportunities", {"company": "佛山顺达贸易有限公司", "mobile": MOBILE_ROW[1],
                                                      "city": "佛山"}).status_code)
            made.append(sales.post("/opportunities", {"company": DISTINCT[4][0], "phone": DISTINCT[4][1],
                                                      "city": "广州"}).status_code)
        return real(summary)

    monkeypatch.setattr(importing.ImportSummary, "report_xlsx", report_xlsx)
    assert admin.post(f"/imports/{item['id']}/run", {}).status_code == 202
    assert made == [201, 201]
    done = admin.get(f"/imports/{item['id']}").get_json()
    assert done["imported"] == 7 and done["not_imported"] == 2, done
    lines = report(admin, item["id"])
    assert lines[6][0] == "撞单" and lines[10][0] == "撞单" and "佛山顺达贸易有限公司" in lines[10][3]
    assert sales.get("/opportunities").get_json()["total"] == 9
