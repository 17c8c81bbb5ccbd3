"""Manual §九: the dashboard at / by role, the daily statistics (page and API), the navigation bar's reminders.

"A day" is a calendar day in Asia/Shanghai (UTC+8): a note written at 15:59 UTC is 23:59 local and
counts today; one written at 16:00 UTC is 00:00 local the next day and does not.
"""
import json
import re
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from test_s4_notes import _note

from conftest import csrf_token, set_rules, zh
from helpers import ApiClient, api_token
from models import Notice, Opportunity, User, WebLead, db
from services import clock
from services.library import opportunities, stats
from services.library.opportunities import OpportunityInput

SHANGHAI = ZoneInfo("Asia/Shanghai")
# a day safely after the users were created (their accounts are never "unused for 90 days")
DAY = datetime.now(SHANGHAI).date() + timedelta(days=1)
LAST_MINUTE = datetime.combine(DAY, time(23, 59), tzinfo=SHANGHAI)  # 15:59 UTC
MIDNIGHT = datetime.combine(DAY + timedelta(days=1), time(0, 0), tzinfo=SHANGHAI)  # 16:00 UTC
NOON = datetime.combine(DAY, time(12, 0), tzinfo=SHANGHAI)


def _freeze(monkeypatch, moment):
    monkeypatch.setattr(clock, "now", lambda: moment.astimezone(timezone.utc))


def _own(app, login, company, key_customer=False, next_contact_at=None):
    """An opportunity in `login`'s library, entered as the entry form does (at the frozen clock's time)."""
    with app.app_context():
        owner = db.session.scalar(db.select(User).filter_by(login=login))
        opportunity = opportunities.insert_opportunity(db.session, owner, OpportunityInput(company=company,
                                            key_customer=key_customer), "library", None)
        opportunity.next_contact_at = next_contact_at
        db.session.commit()
        return opportunity.id


def _api(app, client, login):
    return ApiClient(app, client, api_token(app, login))


def _daily(app, client, login, day=None):
    params = {} if day is None else {"date": day.isoformat()}
    response = _api(app, client, login).get("/stats/daily", **params)
    assert response.status_code == 200
    return {row["login"]: row for row in response.get_json()["users"]}


def _text_of(page, element_id):
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', page)
    assert match, element_id
    return match.group(1).strip()


def _chart_of(page, element_id):
    """A chart's data as the page hands it to static/js/dashboard.js."""
    return json.loads(re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', page,
                                re.S).group(1))


# --- the day's edges ----------------------------------------------------------------------


def test_notes_count_on_their_local_day_at_the_edges(app, client, auth, org, monkeypatch):
    _freeze(monkeypatch, NOON)
    opportunity_id = _own(app, "sales_a", "扬州五环印花厂")
    auth.login("sales_a")
    _freeze(monkeypatch, LAST_MINUTE)
    _note(client, opportunity_id, content="23:59 打通了")
    _note(client, opportunity_id, content="23:59 没打通", unreachable="1")  # written, but not a valid contact
    _freeze(monkeypatch, MIDNIGHT)
    _note(client, opportunity_id, content="00:00 又聊了")

    assert _daily(app, client, "sales_a", DAY)["sales_a"]["valid_contacts"] == 1
    assert _daily(app, client, "sales_a", DAY + timedelta(days=1))["sales_a"]["valid_contacts"] == 1
    assert _daily(app, client, "sales_a", DAY - timedelta(days=1))["sales_a"]["valid_contacts"] == 0
    today = _daily(app, client, "sales_a")  # no date: today in Asia/Shanghai, i.e. the day after DAY
    assert today["sales_a"]["valid_contacts"] == 1
    page = client.get("/").get_data(as_text=True)
    assert _text_of(page, "valid-contacts") == "1 / 35"
    with app.app_context():
        series = stats.series(db.session, db.session.get(User, org.users["sales_a"]), today_=DAY + timedelta(1))
        assert series.valid_contacts[org.users["sales_a"]][-2:] == [1, 1]


def test_new_key_customers_count_by_entry_day(app, client, org, monkeypatch):
    api = _api(app, client, "sales_a")
    _freeze(monkeypatch, LAST_MINUTE)
    assert api.post("/opportunities", {"company": "扬州五环印花厂", "key_customer": True}).status_code == 201
    assert api.post("/opportunities", {"company": "常州天宁纺织厂", "key_customer": False}).status_code == 201
    _freeze(monkeypatch, MIDNIGHT)
    assert api.post("/opportunities", {"company": "无锡惠山机械厂", "key_customer": True}).status_code == 201
    assert api.post("/opportunities", {"company": "苏州吴中电子厂", "key_customer": True}).status_code == 201
    first, second = _daily(app, client, "sales_a", DAY), _daily(app, client, "sales_a", DAY + timedelta(1))
    assert first["sales_a"]["new_key_customers"] == 1 and second["sales_a"]["new_key_customers"] == 2
    assert first["sales_a"]["library_size"] == second["sales_a"]["library_size"] == 4
    assert first["sales_a"]["library_cap"] == 130


# --- the API --------------------------------------------------------------------------------


@pytest.mark.parametrize("login, visible", [
    ("sales_a", {"sales_a"}),
    ("super_a", {"super_a", "sales_a"}),
    ("manager_a", {"manager_a", "super_a", "sales_a"}),
    ("admin_a", {"manager_a", "super_a", "sales_a"}),
    ("admin_b", {"sales_b"}),
    ("root", {"manager_a", "super_a", "sales_a", "sales_b"}),
])
def test_stats_daily_answers_only_visible_users(app, client, org, login, visible):
    assert set(_daily(app, client, login)) == visible


BAD_DAY = "The date must be a day from %(first)s to %(last)s, written YYYY-MM-DD, for example 2026-11-27."


# 0001-01-01 began in the year 0 in Asia/Shanghai, 9999-12-31 ends in the year 10000: both were 500s
@pytest.mark.parametrize("raw", ["2026-02-30", "20261127", "27/11/2026", "明天", "2026-1-5", "0001-01-01",
                                 "1899-12-31", "9999-12-31", "２０２６-11-27"])
def test_stats_daily_bad_date_422_in_chinese(app, client, org, raw):
    response = _api(app, client, "sales_a").get("/stats/daily", date=raw)
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid"
    assert body["fields"]["date"] == zh(app, BAD_DAY, first="1900-01-01", last="9998-12-31")


def test_overdue_leads_are_counted_for_the_owner(app, client, org, monkeypatch):
    _freeze(monkeypatch, NOON)
    opportunity_id = _own(app, "sales_a", "扬州五环印花厂")
    with app.app_context():
        for key, due in (("late", NOON - timedelta(hours=1)), ("on-time", NOON + timedelta(hours=3))):
            db.session.add(WebLead(idempotency_key=key, opportunity_id=opportunity_id, company="扬州五环印花厂",
                                   received_at=due - timedelta(hours=24), due_at=due))
        db.session.commit()
    assert _daily(app, client, "sales_a")["sales_a"]["overdue_leads"] == 1
    assert _daily(app, client, "admin_a")["sales_a"]["overdue_leads"] == 1


# --- the dashboard by role --------------------------------------------------------------------


@pytest.fixture
def day_of_work(app, client, auth, org, monkeypatch):
    """sales_a enters a key customer and logs one valid contact at noon; an overdue lead waits on it."""
    _freeze(monkeypatch, NOON)
    opportunity_id = _own(app, "sales_a", "扬州五环印花厂", key_customer=True,
                          next_contact_at=NOON - timedelta(hours=2))
    _own(app, "sales_b", "杭州西湖丝绸厂")
    auth.login("sales_a")
    later = (NOON + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    _note(client, opportunity_id, content="王经理有兴趣", next_contact_at=later)
    auth.logout()
    with app.app_context():  # recorded after the note, which would otherwise have met it (late)
        db.session.add(WebLead(idempotency_key="k1", opportunity_id=opportunity_id, company="扬州五环印花厂",
                               received_at=NOON - timedelta(hours=30), due_at=NOON - timedelta(hours=6)))
        db.session.commit()
    return opportunity_id


def test_salesperson_dashboard(app, client, auth, day_of_work):
    auth.login("sales_a")
    page = client.get("/").get_data(as_text=True)
    for msgid in ("Valid contacts today", "New key customers today", "My library", "Due for contact today",
                  "Web leads to follow up", "Notices"):
        assert zh(app, msgid) in page
    assert _text_of(page, "valid-contacts") == "1 / 35"
    assert _text_of(page, "new-key-customers") == "1 / 3"
    assert _text_of(page, "library-size") == "1 / 130"
    # the bars: 1 of 35 shows a sliver (5 %), 1 of 3 a third (rounded up to 35 %); each named as it reads (issue 22)
    assert re.search(r'crm-w-5" role="progressbar"\s+aria-label="今日有效联系 1 / 35" aria-valuenow="1" aria-valuemin="0" '
                     r'aria-valuemax="35"', page)
    assert re.search(r'crm-w-35" role="progressbar"\s+aria-label="今日新增重点客户 1 / 3" aria-valuenow="1" '
                     r'aria-valuemin="0" aria-valuemax="3"', page)
    due = page[page.index('id="due-today"'):page.index('id="my-leads"')]
    assert "扬州五环印花厂" in due and f"/opportunities/details/?id={day_of_work}" in due
    leads = page[page.index('id="my-leads"'):page.index('id="notices"')]
    assert "table-danger crm-overdue" in leads and zh(app, "Overdue by %(h)d h %(m)d min", h=6, m=0) in leads
    assert 'id="people"' not in page and "杭州西湖丝绸厂" not in page


def test_quota_changes_show_on_the_dashboard(app, client, auth, day_of_work):
    set_rules(app, quota_valid_contacts=10, quota_key_customers=1, cap=200)
    auth.login("sales_a")
    page = client.get("/").get_data(as_text=True)
    assert _text_of(page, "valid-contacts") == "1 / 10"
    assert _text_of(page, "new-key-customers") == "1 / 1"
    assert _text_of(page, "library-size") == "1 / 200"


@pytest.mark.parametrize("login", ["super_a", "manager_a"])
def test_supervisor_and_manager_see_their_people_and_who_is_behind(app, client, auth, day_of_work, login):
    set_rules(app, quota_valid_contacts=1, quota_key_customers=1)  # sales_a met both today; the others did not
    auth.login(login)
    page = client.get("/").get_data(as_text=True)
    assert zh(app, "Each person today") in page and zh(app, "The last 30 days") in page
    rows = {who: cls for cls, who in re.findall(r'<tr class="([^"]*)" data-login="([^"]+)"', page)}
    assert "sales_a" in rows and login in rows and "sales_b" not in rows  # never another company's people
    assert "crm-behind" not in rows["sales_a"] and "crm-behind" in rows[login]
    assert zh(app, "Behind") in page and zh(app, "On track") in page
    chart = _chart_of(page, "dashboard-chart-data")
    assert len(chart["labels"]) == 30 and chart["labels"][-1] == DAY.strftime("%m-%d")
    contacts, keys = chart["datasets"]
    assert contacts["label"] == zh(app, "Valid contacts") and keys["label"] == zh(app, "New key customers")
    assert contacts["data"][-1] == 1 and keys["data"][-1] == 1 and sum(contacts["data"]) == 1
    assert "vendor/chartjs/chart.umd.min.js" in page and "js/dashboard.js" in page


def test_agent_admin_dashboard_by_department_pool_and_overdue_leads(app, client, auth, org, day_of_work):
    with app.app_context():
        pooled = Opportunity(company="南京玄武贸易公司", name_folded="南京玄武贸易公司", name_core="玄武贸易",
                             location="agent_admin_pool", department_id=org.depts["华南代理"])
        db.session.add(pooled)
        db.session.commit()
    auth.login("admin_a")
    page = client.get("/").get_data(as_text=True)
    assert zh(app, "By department") in page and zh(app, "By agent company") not in page
    assert _text_of(page, "pool-size") == "1" and 'href="/agent-pool/"' in page
    assert _text_of(page, "overdue-count") == "1"
    overdue = page[page.index('id="overdue-leads"'):page.index('id="by-department"')]
    assert "扬州五环印花厂" in overdue and "sales_a" in overdue
    assert 'data-login="sales_a"' in page and 'data-login="sales_b"' not in page
    assert "华南代理" in page and "华东代理" not in page.split('id="people"')[1]
    lines = _chart_of(page, "dashboard-group-chart-data")["datasets"]
    # per department of the agent admin's company: sales_a's 电话组 logged today's one valid contact
    assert [(line["label"], line["data"][-1]) for line in lines] == [("华南代理电话组", 1), ("华南代理销售一部", 0)]


def test_subsystem_admin_dashboard_by_agent_company(app, client, auth, day_of_work):
    auth.login("root")
    page = client.get("/").get_data(as_text=True)
    assert zh(app, "By agent company") in page and zh(app, "By department") in page
    companies = page[page.index('id="by-company"'):page.index('id="by-department"')]
    assert "华南代理" in companies and "华东代理" in companies
    assert 'data-login="sales_a"' in page and 'data-login="sales_b"' in page
    assert 'id="my-day"' not in page  # admins keep no library
    assert zh(app, "Valid contacts per agent company, the last 30 days") in page
    lines = _chart_of(page, "dashboard-group-chart-data")["datasets"]
    assert lines[0]["label"] == "华南代理" and lines[0]["data"][-1] == 1  # the busiest company first
    assert [line["label"] for line in lines] == ["华南代理", "华东代理"] and sum(lines[1]["data"]) == 0


def test_the_chart_library_is_served_by_the_app(client):
    vendored = client.get("/static/vendor/chartjs/chart.umd.min.js")
    assert vendored.status_code == 200 and b"Chart.js v4" in vendored.data[:200]
    assert client.get("/static/js/dashboard.js").status_code == 200


# --- the navigation bar and notices -----------------------------------------------------------


def test_navbar_counts_due_today_and_unread_notices(app, client, auth, org, monkeypatch):
    _freeze(monkeypatch, NOON)
    _own(app, "sales_a", "扬州五环印花厂", next_contact_at=NOON - timedelta(days=1))  # overdue: due
    _own(app, "sales_a", "常州天宁纺织厂", next_contact_at=LAST_MINUTE)  # later today: due
    _own(app, "sales_a", "无锡惠山机械厂", next_contact_at=MIDNIGHT)  # tomorrow
    _own(app, "sales_a", "苏州吴中电子厂")  # no plan
    _own(app, "sales_b", "杭州西湖丝绸厂", next_contact_at=NOON)
    with app.app_context():
        db.session.add(Notice(key="n1", user_id=org.users["sales_a"], kind="lead"))
        db.session.add(Notice(key="n2", user_id=org.users["sales_b"], kind="lead"))
        db.session.commit()
    auth.login("sales_a")
    page = client.get("/opportunities/?show=all").get_data(as_text=True)
    assert zh(app, "Due for contact today") in page
    assert _text_of(page, "nav-due-today-count") == "2" and _text_of(page, "nav-unread-count") == "1"
    assert 'href="/opportunities/"' in page
    # the my-opportunities list shows the overdue next-contact time in red
    assert re.search(r'text-danger font-weight-bold">' + (NOON - timedelta(days=1)).strftime("%Y-%m-%d %H:%M"), page)
    auth.logout()
    auth.login("admin_a")
    page = client.get("/").get_data(as_text=True)
    assert 'id="nav-due-today-count"' not in page and _text_of(page, "nav-unread-count") == "0"


def test_mark_a_notice_read_needs_csrf_and_only_ones_own(app, client, auth, org):
    with app.app_context():
        mine = Notice(key="n1", user_id=org.users["sales_a"], kind="lead_overdue")
        theirs = Notice(key="n2", user_id=org.users["sales_b"], kind="lead")
        db.session.add_all([mine, theirs])
        db.session.commit()
        mine_id, theirs_id = mine.id, theirs.id
    auth.login("sales_a")
    page = client.get("/").get_data(as_text=True)
    assert zh(app, "A web lead is overdue") in page and zh(app, "Mark as read") in page
    assert client.post("/notices/read/", data={"id": mine_id}).status_code == 400  # no CSRF token
    token = csrf_token(client, "/")
    client.post("/notices/read/", data={"id": theirs_id, "csrf_token": token})
    assert zh(app, "This notice does not exist.") in client.get("/").get_data(as_text=True)
    client.post("/notices/read/", data={"id": mine_id, "csrf_token": token})
    with app.app_context():
        assert db.session.get(Notice, mine_id).read_at is not None
        assert db.session.get(Notice, theirs_id).read_at is None
    page = client.get("/").get_data(as_text=True)
    assert _text_of(page, "nav-unread-count") == "0" and "crm-unread" not in page
