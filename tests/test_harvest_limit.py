"""Issue 5: the duplicate check cannot be used to harvest the database.

It shows only name, place and owner of other people's records; every check a person asks
for (the page, the entry form's live check, the API) is audited; a daily number of checks per
user is enforced (refused in Chinese, 429 in the API), the admins are told once, and entering
a customer is never blocked by it.
"""
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from conftest import csrf_token, set_rules, zh
from helpers import ApiClient, api_token
from models import AuditEntry, Notice, Opportunity, ResourceRules, User, db
from services import clock
from services.library import opportunities
from services.library.opportunities import OpportunityInput

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRET = {"contact": "秘密联系人", "address": "秘密路88号", "email": "secret@wuhuan.example",
          "mobile": "13912345678", "industry": "秘密行业"}


def _own(app, login, company, **details):
    with app.app_context():
        owner = db.session.scalar(db.select(User).filter_by(login=login))
        data = OpportunityInput(company=company, province="江苏省", city="扬州市", phone="0514-2398577", **details)
        opportunity = opportunities.insert_opportunity(db.session, owner, data, "library", None)
        db.session.commit()
        return opportunity.id


def _limit_message(app, n):
    return zh(app, "You have reached today's limit of %(n)d duplicate checks. The limit keeps the customer "
                   "database from being copied out; it starts again tomorrow. Entering customers still works.", n=n)


def _entries(app, action, login=None):
    with app.app_context():
        query = db.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)
        if login:
            query = query.filter_by(actor_login=login)
        return [(e.actor_login, json.loads(e.details) if e.details else None) for e in db.session.scalars(query)]


@pytest.fixture
def frozen(monkeypatch):
    """clock.now at a settable instant (UTC)."""
    state = {"now": datetime(2026, 3, 2, 1, 0, tzinfo=ZoneInfo("UTC"))}
    monkeypatch.setattr(clock, "now", lambda: state["now"])
    return state


def test_the_check_shows_only_name_place_and_owner_of_anothers_record(client, auth, org, app):
    _own(app, "sales_b", "扬州五环印花厂", **SECRET)
    auth.login("sales_a")
    page = client.get("/dedup/?name=五环印花&by=name").get_data(as_text=True)
    live = client.get("/dedup/check.json?name=五环印花").get_json()
    api = ApiClient(app, client, api_token(app, "sales_a")).get("/dedup", name="五环印花").get_json()
    assert "扬州五环印花厂" in page and "sales_b" in page
    assert [(h["company"], h["place"], h["owner"], h["url"]) for h in live["hits"]] == \
        [("扬州五环印花厂", "江苏省扬州市", "sales_b", None)]
    assert [(m["company"], m["owner"]) for m in api["matches"]] == [("扬州五环印花厂", "sales_b")]
    for answer in (page, json.dumps(live, ensure_ascii=False), json.dumps(api, ensure_ascii=False)):
        for secret in (*SECRET.values(), "2398577"):
            assert secret not in answer
    assert "/opportunities/details/" not in page.split('id="dedup-result"')[1]


def test_every_check_is_audited_with_its_query_and_hit_count(client, auth, org, app):
    _own(app, "sales_b", "扬州五环印花厂")
    auth.login("sales_a")
    client.get("/dedup/?name=五环印花&by=name")
    client.get("/dedup/check.json?name=五环&phone=87654321")
    ApiClient(app, client, api_token(app, "sales_a")).get("/dedup", fax="0514-2345586")
    assert _entries(app, "dedup_check") == [
        ("sales_a", {"company": "五环印花", "hits": 1}),
        ("sales_a", {"company": "五环", "phone": "87654321", "hits": 1}),
        ("sales_a", {"fax": "0514-2345586", "hits": 0}),
    ]


def test_past_the_daily_limit_checks_are_refused_admins_told_once_entries_still_work(client, auth, org, app):
    set_rules(app, daily_check_limit=3)
    _own(app, "sales_b", "扬州五环印花厂")
    auth.login("sales_a")
    api = ApiClient(app, client, api_token(app, "sales_a"))
    assert "扬州五环印花厂" in client.get("/dedup/?name=五环印花&by=name").get_data(as_text=True)
    assert client.get("/dedup/check.json?name=五环印花").get_json()["total"] == 1
    assert api.get("/dedup", name="五环印花").status_code == 200
    message = _limit_message(app, 3)
    refused_page = client.get("/dedup/?name=五环印花&by=name").get_data(as_text=True)
    assert message in refused_page and "sales_b" not in refused_page
    refused_live = client.get("/dedup/check.json?name=五环印花")
    assert refused_live.status_code == 429
    assert refused_live.get_json() == {"error": "check_limit", "message": message}
    refused_api = api.get("/dedup", name="五环印花")  # validated against the OpenAPI document
    assert refused_api.status_code == 429 and refused_api.get_json()["error"] == "check_limit"
    # three checks counted, the refusals not; one check_limit_passed, one notice per admin
    assert len(_entries(app, "dedup_check")) == 3
    assert _entries(app, "check_limit_passed") == [("sales_a", {"limit": 3})]
    with app.app_context():
        told = sorted(db.session.get(User, n.user_id).login for n in db.session.scalars(
            db.select(Notice).filter_by(kind="check_limit")))
    assert told == ["admin_a", "root"]  # 华南代理's agent admin and the subsystem admin, not admin_b
    # entering a customer is real work: its own re-check is not limited
    token = csrf_token(client, "/opportunities/new/")
    saved = client.post("/opportunities/new/", data={"company": "苏州新天地纺织厂", "province": "江苏省",
                                                     "city": "苏州市", "csrf_token": token})
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(Opportunity).filter_by(company="苏州新天地纺织厂")).owner.login == "sales_a"
    auth.logout()
    auth.login("admin_a")
    dashboard = client.get("/").get_data(as_text=True)
    assert zh(app, "A user passed the daily limit of duplicate checks") in dashboard
    assert '<span class="notice-subject">sales_a</span>' in dashboard


def test_the_count_starts_again_on_the_next_local_day(client, auth, org, app, frozen):
    set_rules(app, daily_check_limit=2)
    # 23:50 in Shanghai (15:50 UTC); ten minutes before midnight
    frozen["now"] = datetime(2026, 3, 2, 23, 50, tzinfo=SHANGHAI).astimezone(ZoneInfo("UTC"))
    auth.login("sales_a")
    for _ in range(2):
        assert client.get("/dedup/check.json?name=五环印花").status_code == 200
    assert client.get("/dedup/check.json?name=五环印花").status_code == 429
    # 00:10 the next local day: still the same UTC day, but a new day for the limit
    frozen["now"] = datetime(2026, 3, 3, 0, 10, tzinfo=SHANGHAI).astimezone(ZoneInfo("UTC"))
    assert client.get("/dedup/check.json?name=五环印花").status_code == 200
    assert client.get("/dedup/check.json?name=五环印花").status_code == 200
    assert client.get("/dedup/check.json?name=五环印花").status_code == 429
    # the admins are told once per day: yesterday's and today's notices, two per day
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Notice).filter_by(kind="check_limit")) == 4
    assert len(_entries(app, "check_limit_passed")) == 2


def test_root_sets_the_daily_limit_on_the_rules_page(client, auth, org, app):
    from test_s9_rules import _post_rules

    auth.login("root")
    page = client.get("/rules/").get_data(as_text=True)
    assert zh(app, "Duplicate checks per user and day") in page and 'value="500"' in page
    _post_rules(client, daily_check_limit=0)
    with app.app_context():
        assert db.session.get(ResourceRules, 1).daily_check_limit == 500  # refused
    done = _post_rules(client, daily_check_limit=800)
    assert zh(app, "The resource rules have been saved.") in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ResourceRules, 1).daily_check_limit == 800
