"""Issue 5: the audit log. Each event, done through the pages, the API or the CLI as a person would,
leaves one entry with the right actor, target and details; the log page is read-only and scoped;
the database refuses to change an entry.
"""
import csv
import io
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from app import create_app
from conftest import PASSWORD, _config, csrf_token, set_rules, zh
from helpers import ApiClient, api_token
from models import AuditEntry, Opportunity, User, db
from services import clock
from services.library import opportunities
from services.library.opportunities import OpportunityInput

YANGZHOU = {"company": "扬州五环印花厂", "province": "江苏省", "city": "扬州市", "phone": "0514-2398577"}


def _entries(app, action):
    """The entries of one action, oldest first, as plain dicts (details decoded)."""
    with app.app_context():
        rows = db.session.scalars(db.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)).all()
        return [{"actor": e.actor_login, "actor_id": e.actor_id, "target": (e.target_type, e.target_id),
                 "details": json.loads(e.details) if e.details else {}, "ip": e.ip,
                 "department": e.department.name if e.department else None} for e in rows]


def _own(app, login, company, **fields):
    with app.app_context():
        owner = db.session.scalar(db.select(User).filter_by(login=login))
        opportunity = opportunities.insert_opportunity(db.session, owner, OpportunityInput(company=company, **fields),
                                            "library", None)
        db.session.commit()
        return opportunity.id


def _enter_page(client, **fields):
    token = csrf_token(client, "/opportunities/new/")
    return client.post("/opportunities/new/", data={**fields, "csrf_token": token})


def _api(app, client, login):
    return ApiClient(app, client, api_token(app, login))


# --- logins -----------------------------------------------------------------------------


def test_logins_failed_logins_and_logouts_are_recorded_without_the_password(client, auth, org, app):
    auth.login("sales_a", "a wrong password")
    auth.login("nobody_here", "secret-typed-by-mistake")  # an unknown name, recorded as typed
    auth.login("sales_a")
    auth.logout()
    failed = _entries(app, "login_failed")
    assert [(e["actor"], e["actor_id"], e["details"]["reason"]) for e in failed] == [
        ("sales_a", None, "wrong_password"), ("nobody_here", None, "wrong_password")]
    assert failed[0]["target"] == ("user", org.users["sales_a"]) and failed[0]["department"] == "华南代理"
    assert failed[1]["target"] == (None, None) and failed[1]["department"] is None
    assert all(e["ip"] == "127.0.0.1" for e in failed)
    (login,) = _entries(app, "login")
    assert (login["actor"], login["actor_id"], login["ip"]) == ("sales_a", org.users["sales_a"], "127.0.0.1")
    assert [e["actor"] for e in _entries(app, "logout")] == ["sales_a"]

    with app.app_context():
        stored = " ".join(e.details or "" for e in db.session.scalars(db.select(AuditEntry)))
    assert "secret-typed-by-mistake" not in stored and "a wrong password" not in stored
    auth.login("root")
    page = client.get("/audit/?search=nobody_here").get_data(as_text=True)
    assert zh(app, "Failed login as %(login)s (%(reason)s)", login="nobody_here",
              reason=zh(app, "wrong login or password")) in page  # said in Chinese


@pytest.mark.parametrize("proxies, recorded", [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_behind_a_reverse_proxy_the_client_address_is_recorded(app, org, tmp_path, proxies, recorded):
    """CRM_PROXIES=1 (docs/deployment.md): the address nginx puts in X-Forwarded-For; without it the
    header is anybody's to write, and is ignored."""
    served = create_app({**_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path), "CRM_PROXIES": proxies})
    client = served.test_client()
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
               "Referer": "https://localhost/login"}  # over HTTPS, CSRF checks the referrer
    client.get("/login", headers=headers)
    token = csrf_token(client, "/login")
    answer = client.post("/login", headers=headers, data={"username": "sales_a", "password": PASSWORD,
                                                          "csrf_token": token})
    assert answer.status_code == 302
    (login,) = _entries(app, "login")
    assert login["ip"] == recorded


def test_the_wait_after_too_many_failures_and_the_inactivity_lock_are_recorded(client, auth, org, app):
    app.config["CRM_LOGIN_MAX_FAILURES"] = 2
    auth.login("sales_b", "wrong-1")
    auth.login("sales_b", "wrong-2")
    (locked,) = _entries(app, "account_locked")
    assert locked["target"] == ("user", org.users["sales_b"]) and locked["details"]["reason"] == "too_many_failures"
    auth.login("sales_b")  # refused while waiting: recorded too
    assert _entries(app, "login_failed")[-1]["details"]["reason"] == "waiting"
    with app.app_context():
        user = db.session.get(User, org.users["sales_a"])
        user.last_seen_at = clock.now() - timedelta(days=app.config["CRM_INACTIVE_LOCK_DAYS"] + 1)
        db.session.commit()
    auth.login("sales_a")
    inactive = _entries(app, "account_locked")[-1]
    assert inactive["target"] == ("user", org.users["sales_a"]) and inactive["details"] == {"reason": "inactive"}


# --- accounts and departments -------------------------------------------------------------


def test_unlock_reset_and_password_change_are_recorded(client, auth, org, app):
    with app.app_context():
        db.session.get(User, org.users["sales_a"]).last_seen_at = clock.now() - timedelta(days=365)
        db.session.commit()
    auth.login("sales_a")  # locked for inactivity
    auth.login("admin_a")
    token = csrf_token(client, "/users/")
    assert client.post("/users/unlock/", data={"id": org.users["sales_a"], "csrf_token": token}).status_code == 302
    (unlocked,) = _entries(app, "account_unlocked")
    assert (unlocked["actor"], unlocked["target"]) == ("admin_a", ("user", org.users["sales_a"]))
    assert unlocked["details"] == {"reason": "inactive"}
    reset = client.post("/users/reset-password/", data={"id": org.users["sales_b"], "csrf_token": token})
    assert reset.status_code == 404  # 华东代理's account: refused, nothing recorded
    client.post("/users/reset-password/", data={"id": org.users["sales_a"], "csrf_token": token})
    assert [(e["actor"], e["target"]) for e in _entries(app, "password_reset")] == [
        ("admin_a", ("user", org.users["sales_a"]))]
    auth.logout()
    auth.login("manager_a")
    token = csrf_token(client, "/password")
    client.post("/password", data={"current_password": PASSWORD, "new_password": "a new long passphrase",
                                   "confirm": "a new long passphrase", "email": "", "csrf_token": token})
    changed = _entries(app, "password_changed")
    assert [(e["actor"], e["target"]) for e in changed] == [("manager_a", ("user", org.users["manager_a"]))]


def test_users_and_departments_created_changed_deactivated_reactivated(client, auth, org, app):
    auth.login("admin_a")
    token = csrf_token(client, "/users/new/")
    client.post("/users/new/", data={"login": "sales_new", "role": "salesperson",
                                     "department": org.depts["华南代理/销售二部"], "email": "", "csrf_token": token})
    (created,) = [e for e in _entries(app, "user_created") if e["actor"] == "admin_a"]
    assert created["details"]["role"] == "salesperson" and created["details"]["department"] == "华南代理销售二部"
    new_id = created["target"][1]
    token = csrf_token(client, f"/users/edit/?id={new_id}")
    client.post(f"/users/edit/?id={new_id}", data={"login": "sales_new", "role": "salesperson",
                                                   "department": org.depts["华南代理/销售一部"], "email": "",
                                                   "csrf_token": token})
    (changed,) = _entries(app, "user_changed")
    assert changed["details"]["department"] == {"old": "华南代理销售二部", "new": "华南代理销售一部"}
    for action in ("deactivate", "reactivate"):
        client.post("/users/action/", data={"action": action, "rowid": [new_id], "csrf_token": token})
    assert [e["target"] for e in _entries(app, "user_deactivated")] == [("user", new_id)]
    assert [e["actor"] for e in _entries(app, "user_reactivated")] == ["admin_a"]
    token = csrf_token(client, "/departments/new/")
    client.post("/departments/new/", data={"parent": org.depts["华南代理"], "short_name": "大客户部",
                                           "csrf_token": token})
    (dept,) = [e for e in _entries(app, "department_created") if e["actor"] == "admin_a"]
    assert dept["details"] == {"name": "华南代理大客户部"} and dept["department"] == "华南代理"


# --- opportunities --------------------------------------------------------------------------


def test_an_entry_and_a_refused_duplicate_with_what_it_collided_with(client, auth, org, app):
    existing = _own(app, "sales_b", "扬州五环印花厂", province="江苏省", city="扬州市", phone="0514-2398577")
    auth.login("sales_a")
    refused = _enter_page(client, **{**YANGZHOU, "company": "扬州市五环印花厂"})
    assert refused.status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Opportunity)) == 1  # not created
    (entry,) = _entries(app, "entry_refused")
    assert entry["actor"] == "sales_a" and entry["department"] == "华南代理"
    assert entry["details"]["code"] == "duplicate" and entry["details"]["company"] == "扬州市五环印花厂"
    assert entry["details"]["verdict"] == "duplicate"
    assert [(c["opportunity_id"], c["company"], c["verdict"]) for c in entry["details"]["collided"]] == [
        (existing, "扬州五环印花厂", "duplicate")]
    saved = _enter_page(client, company="泰安艺动力彩色印刷厂", province="山东省", city="泰安市")
    assert saved.status_code == 302
    (entered,) = _entries(app, "opportunity_entered")
    with app.app_context():
        new_id = db.session.scalar(db.select(Opportunity.id).filter_by(company="泰安艺动力彩色印刷厂"))
    assert entered["target"] == ("opportunity", new_id) and entered["actor"] == "sales_a"


def test_api_refusals_duplicate_and_library_full_are_recorded(client, org, app):
    existing = _own(app, "sales_a", "扬州五环印花厂", province="江苏省", city="扬州市", phone="0514-2398577")
    api = _api(app, client, "sales_b")
    assert api.post("/opportunities", {"company": "扬州五环印花厂有限公司", "phone": "0514 2398577"}).status_code == 409
    set_rules(app, cap=0)
    full = api.post("/opportunities", {"company": "泰安艺动力彩色印刷厂"})
    assert full.status_code == 409 and full.get_json()["error"] == "library_full"
    duplicate, library_full = _entries(app, "entry_refused")
    assert duplicate["actor"] == "sales_b" and duplicate["department"] == "华东代理"
    assert [c["opportunity_id"] for c in duplicate["details"]["collided"]] == [existing]
    assert library_full["details"] == {"code": "library_full", "company": "泰安艺动力彩色印刷厂"}
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Opportunity)) == 1


def test_claim_abandon_reassign_and_release_are_recorded(client, auth, org, app):
    with app.app_context():
        pooled = opportunities.enter(db.session, None, OpportunityInput(company="上海瑞丽服装厂"), location="public_pool")
        db.session.commit()
        pooled = pooled.id
    assert _api(app, client, "sales_a").post(f"/opportunities/{pooled}/claim").status_code == 200
    auth.login("sales_a")
    token = csrf_token(client, "/opportunities/")
    client.post("/opportunities/abandon/", data={"id": pooled, "reason": "客户无需求", "csrf_token": token})
    auth.logout()
    auth.login("admin_a")
    token = csrf_token(client, "/agent-pool/")
    client.post("/agent-pool/reassign/", data={"ids": str(pooled), "salesperson": org.users["manager_a"],
                                               "csrf_token": token})
    second = _own(app, "sales_a", "泰安艺动力彩色印刷厂")
    with app.app_context():
        opportunities.abandon(db.session, db.session.get(User, org.users["sales_a"]), second, "客户无需求")
        db.session.commit()
    client.post("/agent-pool/release/", data={"id": second, "csrf_token": token})
    assert [(e["actor"], e["target"]) for e in _entries(app, "claim")] == [("sales_a", ("opportunity", pooled))]
    assert [(e["actor"], e["details"]["reason"]) for e in _entries(app, "abandon")] == [
        ("sales_a", "客户无需求"), ("sales_a", "客户无需求")]
    (reassigned,) = _entries(app, "reassign")
    assert reassigned["actor"] == "admin_a" and reassigned["details"]["to"] == "manager_a"
    (released,) = _entries(app, "release")
    assert released["target"] == ("opportunity", second) and released["department"] == "华南代理"


def test_a_web_lead_an_import_and_a_rules_run_leave_one_entry_each(client, org, app, runner, tmp_path):
    lead = _api(app, client, "admin_a").post("/leads", {"company": "扬州五环印花厂", "phone": "0514-2398577"})
    assert lead.status_code == 201
    (received,) = _entries(app, "lead")
    assert received["actor"] == "admin_a" and received["details"]["assigned_to"] == "sales_a"
    path = tmp_path / "customers.csv"
    path.write_text("公司名称,电话\n苏州明达机械厂,0512-65123456\n杭州天元茶叶公司,0571-87654321\n"
                    "扬州五环印花厂,0514-2398577\n", encoding="utf-8")
    assert runner.invoke(args=["opportunities", "import", str(path)]).exit_code == 0
    (imported,) = _entries(app, "import")  # one entry for the file, not one per row
    assert imported["details"]["file"] == "customers.csv"
    assert (imported["details"]["read"], imported["details"]["imported"], imported["details"]["duplicates"]) == (3, 2, 1)
    set_rules(app, return_enabled=True, return_after_days=30)
    old = _own(app, "sales_a", "宁波海星渔具厂")
    with app.app_context():
        db.session.get(Opportunity, old).entered_at = clock.now() - timedelta(days=40)
        db.session.commit()
    assert runner.invoke(args=["rules", "run"]).exit_code == 0
    (returned,) = _entries(app, "return")
    assert returned["details"]["returned"] == 1 and returned["details"]["opportunity_ids"] == [old]


# --- exports and settings -----------------------------------------------------------------------


def test_exports_are_recorded_with_their_row_count(client, auth, org, app):
    for company in ("扬州五环印花厂", "泰安艺动力彩色印刷厂"):
        _own(app, "sales_a", company)
    auth.login("manager_a")
    assert client.get("/opportunities/export/csv/?show=all").status_code == 200
    client.get("/opportunities/export/xlsx/?show=all&search=扬州五环")
    rows = [(e["actor"], e["details"]["rows"], e["details"]["format"]) for e in _entries(app, "export")]
    assert rows == [("manager_a", 2, "csv"), ("manager_a", 1, "xlsx")]
    assert _entries(app, "export")[0]["details"]["list"] == zh(app, "Opportunities")


def test_a_rules_change_keeps_the_old_and_new_values(client, auth, org, app):
    from test_s9_rules import _post_rules

    auth.login("root")
    _post_rules(client, cap_salesperson=100)
    (changed,) = _entries(app, "rules_changed")
    assert changed["actor"] == "root" and changed["details"] == {"cap_salesperson": {"old": 130, "new": 100}}
    page = client.get("/audit/?search=cap_salesperson").get_data(as_text=True)
    assert f'{zh(app, "Library cap of a salesperson")}：130 → 100' in re.sub(r"<[^>]+>", "", page)  # the form's label


# --- the log itself ---------------------------------------------------------------------------


def test_the_log_page_is_scoped_read_only_and_filterable(client, auth, org, app):
    auth.login("sales_b")  # 华东代理
    auth.logout()
    auth.login("sales_a")  # 华南代理
    assert client.get("/audit/").status_code == 403
    auth.logout()
    auth.login("admin_a")
    page = client.get("/audit/").get_data(as_text=True)
    assert zh(app, "Audit log") in page and zh(app, "Logged in") in page
    assert "sales_a" in page and "sales_b" not in page  # 华东代理's entries are not admin_a's
    assert "/audit/new/" not in page and "/audit/edit/" not in page and "/audit/delete/" not in page
    assert client.get("/audit/new/").status_code != 200 and client.get("/audit/edit/?id=1").status_code != 200
    with app.app_context():
        other = db.session.scalar(db.select(AuditEntry.id).filter_by(actor_login="sales_b"))
    assert client.get(f"/audit/details/?id={other}").status_code != 200  # no details page at all
    logouts = client.get("/audit/?flt0_0=logout").get_data(as_text=True)  # the action filter
    assert zh(app, "Logged out") in logouts and f'>{zh(app, "Logged in")}<' not in logouts
    exported = client.get("/audit/export/csv/").get_data(as_text=True).lstrip("\ufeff")
    table = list(csv.reader(io.StringIO(exported)))
    assert table[0][:3] == [zh(app, "Time"), zh(app, "Actor"), zh(app, "Action")]
    assert {row[1] for row in table[1:]} >= {"sales_a", "admin_a"} and "sales_b" not in {row[1] for row in table[1:]}
    auth.logout()
    auth.login("root")
    assert "sales_b" in client.get("/audit/?search=sales_b").get_data(as_text=True)


def test_the_log_links_a_target_only_when_the_viewer_may_open_it(client, auth, org, app):
    auth.login("sales_a")
    _enter_page(client, company="泰安艺动力彩色印刷厂", province="山东省", city="泰安市")
    auth.logout()
    auth.login("admin_a")
    with app.app_context():
        new_id = db.session.scalar(db.select(Opportunity.id).filter_by(company="泰安艺动力彩色印刷厂"))
    page = client.get("/audit/").get_data(as_text=True)
    assert f"/opportunities/details/?id={new_id}" in page
    assert zh(app, "Opportunity entered") in page


def test_an_entry_cannot_be_updated_at_the_database(app, org):
    with app.app_context():
        entry_id = db.session.scalar(db.select(AuditEntry.id).filter_by(action="user_created").limit(1))
        with pytest.raises(DatabaseError):
            db.session.execute(text("UPDATE audit_entry SET action = 'login' WHERE id = :id"), {"id": entry_id})
            db.session.flush()
        db.session.rollback()
        assert db.session.get(AuditEntry, entry_id).action == "user_created"


def test_a_resemblance_refused_until_confirmed_names_what_it_resembles(client, org, app):
    existing = _own(app, "sales_b", "上海瑞丽服装厂", province="上海市", city="上海市")
    api = _api(app, client, "sales_a")
    # the same trade name in another city: a resemblance (DOMAIN.md), never refused outright
    body = {"company": "瑞丽服装有限公司", "province": "浙江省", "city": "杭州市"}
    first = api.post("/opportunities", body)
    assert first.status_code == 409 and first.get_json()["error"] == "review_required"
    (refused,) = _entries(app, "entry_refused")
    assert refused["details"]["code"] == "review_required"
    assert [c["opportunity_id"] for c in refused["details"]["collided"]] == [existing]
    assert api.post("/opportunities", {**body, "confirm_review": True}).status_code == 201
    (entered,) = _entries(app, "opportunity_entered")
    assert entered["details"]["verdict"] == "review"
    assert [r["opportunity_id"] for r in entered["details"]["resembled"]] == [existing]


def test_the_time_filter_takes_local_days(client, auth, org, app):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    auth.login("sales_a")
    auth.logout()
    auth.login("root")
    today = datetime.now(ZoneInfo(app.config["CRM_TIMEZONE"])).date()
    yesterday = today - timedelta(days=1)
    assert "sales_a" in client.get(f"/audit/?flt0_2={today} to {today}").get_data(as_text=True)
    assert "sales_a" not in client.get(f"/audit/?flt0_2={yesterday} to {yesterday}").get_data(as_text=True)
    assert "sales_a" in client.get("/audit/?flt0_1=SALES_A").get_data(as_text=True)  # the actor filter
    assert "sales_a" not in client.get("/audit/?flt0_1=admin_a").get_data(as_text=True)


def test_deleting_a_department_keeps_the_entries_filed_under_it(app, org):
    """The log holds plain ids (no foreign key would have to update an entry on delete)."""
    from models import Department
    from services.people import departments

    with app.app_context():
        root = db.session.scalar(db.select(User).filter_by(login="root"))
        company = departments.create_department(db.session, root, departments.ensure_head_office(db.session),
                                                "华北代理")
        group = departments.create_department(db.session, root, company, "临时组")
        db.session.commit()
        company_id = company.id
        filed = db.session.scalar(db.select(db.func.count()).select_from(AuditEntry)
                                  .where(AuditEntry.department_id == company_id))
        assert filed >= 1  # the group's creation is filed under its company
        departments.delete_department(db.session, root, group)
        db.session.flush()
        departments.delete_department(db.session, root, db.session.get(Department, company_id))
        db.session.commit()
        assert db.session.get(Department, company_id) is None
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.department_id == company_id)) == filed
