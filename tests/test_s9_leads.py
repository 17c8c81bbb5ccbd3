"""Manual §九 rule 4: web leads (网上注册会员) posted through the API, assigned in turn, due in 24 hours."""
from datetime import datetime, timedelta, timezone

import pytest

from conftest import PASSWORD, csrf_token, set_rules, zh
from helpers import ApiClient, api_token
from models import Notice, Opportunity, User, WebLead, db
from services import clock
from services.library import leads, opportunities
from services.library.opportunities import OpportunityInput
from services.people import accounts, departments

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)  # 09:00 in Asia/Shanghai
YANGZHOU = {"company": "扬州五环印花厂", "phone": "0514-2398577", "contact": "王经理", "email": "wang@wuhuan.cn"}
COMPANIES = ["苏州明达机械厂", "杭州天元茶叶公司", "宁波海星渔具厂", "温州宏图鞋业公司"]


@pytest.fixture
def frozen(monkeypatch):
    """frozen(t) freezes services.clock at t; the tests start at T0."""
    def freeze(moment):
        monkeypatch.setattr(clock, "now", lambda: moment)
    freeze(T0)
    return freeze


@pytest.fixture
def api(app, client, org):
    cache = {}

    def make(login):
        return ApiClient(app, client, cache.setdefault(login, api_token(app, login)))
    return make


def _post(api_client, body, key=None):
    return api_client.post("/leads", body, headers={"Idempotency-Key": key} if key else None)


def _add_salesperson(app, login, path):
    with app.app_context():
        accounts.create_user(db.session, None, login, "salesperson", departments.resolve_path(db.session, path),
                             [], password=PASSWORD)
        db.session.commit()


def _own(app, login, company, **fields):
    with app.app_context():
        owner = db.session.scalar(db.select(User).filter_by(login=login))
        data = OpportunityInput.from_mapping({"company": company, **fields})
        opportunity = opportunities.insert_opportunity(db.session, owner, data, "library", None)
        db.session.commit()
        return opportunity.id


def _count(app, model, **filters):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model).filter_by(**filters))


def _library_sizes(app):
    with app.app_context():
        return dict(db.session.execute(db.select(User.login, db.func.count(Opportunity.id))
                                       .join(Opportunity, Opportunity.owner_id == User.id).group_by(User.login)).all())


def _notices(app, kind):
    with app.app_context():
        return sorted(n.user.login for n in db.session.scalars(db.select(Notice).filter_by(kind=kind)))


def _note(client, opportunity_id, maturity):
    token = csrf_token(client, f"/opportunities/details/?id={opportunity_id}")
    return client.post("/opportunities/note/", data={"id": opportunity_id, "method": "phone", "content": "已致电",
                                                     "maturity": str(maturity), "csrf_token": token})


# --- arrival and assignment ---------------------------------------------------------------------


def test_a_new_lead_becomes_an_opportunity_due_24_hours_later(app, api, frozen):
    answer = _post(api("admin_a"), YANGZHOU)
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["existing"] is False and body["replayed"] is False
    lead = body["lead"]
    assert lead["assigned_to"] == "sales_a" and lead["overdue"] is False and lead["met_at"] is None
    assert lead["due_at"] == "2026-11-28T09:00:00+08:00"  # 24 hours on, with the offset of CRM_TIMEZONE
    assert datetime.fromisoformat(lead["due_at"]) - datetime.fromisoformat(lead["received_at"]) == timedelta(hours=24)
    opportunity = body["opportunity"]
    assert opportunity["owner"] == "sales_a" and opportunity["location"] == "library"
    assert opportunity["source"] == "网上注册会员" and opportunity["id"] == lead["opportunity_id"]
    assert _notices(app, "lead") == ["sales_a"]


def test_the_deadline_follows_the_resource_rules(app, api, frozen):
    set_rules(app, lead_deadline_hours=4)
    lead = _post(api("admin_a"), YANGZHOU).get_json()["lead"]
    assert lead["due_at"] == "2026-11-27T13:00:00+08:00"


def test_leads_go_in_turn_to_the_salespeople_of_the_department(app, api, frozen):
    _add_salesperson(app, "sales_c", "华南代理/销售二部")
    turns = [_post(api("admin_a"), {"company": name}).get_json()["lead"]["assigned_to"] for name in COMPANIES]
    assert turns == ["sales_a", "sales_c", "sales_a", "sales_c"]
    # a department of its own: only its subtree takes turns
    only = _post(api("admin_a"), {"company": "嘉兴飞跃纺织厂", "department": "华南代理/销售二部"}).get_json()
    assert only["lead"]["assigned_to"] == "sales_c"


def test_a_full_library_is_skipped_and_with_no_room_the_lead_waits_in_the_agent_admin_pool(app, api, client, auth,
                                                                                        frozen):
    set_rules(app, cap=1)
    _add_salesperson(app, "sales_c", "华南代理/销售二部")
    _own(app, "sales_a", "常州恒星电器厂")  # sales_a is at the cap
    first = _post(api("admin_a"), {"company": COMPANIES[0]}).get_json()
    assert first["lead"]["assigned_to"] == "sales_c"
    second = _post(api("admin_a"), {"company": COMPANIES[1]})
    assert second.status_code == 201
    body = second.get_json()
    assert body["lead"]["assigned_to"] is None
    assert body["opportunity"]["location"] == "agent_admin_pool" and body["opportunity"]["owner"] is None
    assert _library_sizes(app) == {"sales_a": 1, "sales_c": 1}  # the cap is never exceeded
    auth.login("admin_a")
    pool = client.get("/agent-pool/").get_data(as_text=True)
    assert COMPANIES[1] in pool and zh(app, "New web lead") in pool


def test_a_company_already_in_the_crm_gets_the_lead_on_its_opportunity(app, api, frozen):
    opportunity_id = _own(app, "sales_a", "扬州五环印花厂", phone="0514-2398577")
    answer = _post(api("admin_a"), {**YANGZHOU, "company": "扬州市五环印花厂"})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["existing"] is True and body["lead"]["existing"] is True
    assert body["opportunity"]["id"] == opportunity_id == body["lead"]["opportunity_id"]
    assert body["lead"]["due_at"] == "2026-11-28T09:00:00+08:00"
    assert _count(app, Opportunity) == 1
    assert _notices(app, "lead") == ["sales_a"]


def test_an_existing_company_of_another_agent_is_shown_only_by_name_and_owner(app, api, frozen):
    _own(app, "sales_b", "扬州五环印花厂", phone="0514-2398577", contact="李总")
    body = _post(api("admin_a"), YANGZHOU).get_json()
    assert body["existing"] is True
    assert body["opportunity"] == {"id": body["lead"]["opportunity_id"], "company": "扬州五环印花厂",
                                   "location": "library", "owner": "sales_b"}
    assert _notices(app, "lead") == ["sales_b"]


def test_a_lead_on_a_public_pool_customer_is_told_to_the_agent_admins_it_was_sent_to(app, api, frozen):
    """No owner to tell: the agent admins of the company the lead came in for hear of it,
    and again when nobody has followed it up by the deadline."""
    with app.app_context():
        data = OpportunityInput.from_mapping({"company": "扬州五环印花厂", "phone": "0514-2398577"})
        opportunities.insert_opportunity(db.session, None, data, "public_pool", None)
        db.session.commit()
    body = _post(api("admin_a"), YANGZHOU).get_json()
    assert body["existing"] is True and body["opportunity"]["location"] == "public_pool"
    assert _notices(app, "lead") == ["admin_a"]
    frozen(T0 + timedelta(hours=25))
    with app.app_context():
        assert leads.notify_overdue(db.session, clock.now()) == 1
        db.session.commit()
    assert _notices(app, "lead_overdue") == ["admin_a"]


@pytest.mark.parametrize("key", [None, "site-42"])
def test_the_same_lead_posted_twice_is_recorded_once(app, api, frozen, key):
    first = _post(api("admin_a"), YANGZHOU, key)
    again = _post(api("admin_a"), YANGZHOU, key)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["replayed"] is True and again.get_json()["existing"] is False
    assert again.get_json()["lead"]["id"] == first.get_json()["lead"]["id"]
    assert _count(app, WebLead) == 1 and _count(app, Opportunity) == 1
    assert _notices(app, "lead") == ["sales_a"]


def test_the_idempotency_key_wins_over_the_company(app, api, frozen):
    first = _post(api("admin_a"), YANGZHOU, "site-1").get_json()
    again = _post(api("admin_a"), {**YANGZHOU, "contact": "王先生"}, "site-1").get_json()
    assert again["replayed"] is True and again["lead"]["id"] == first["lead"]["id"]
    assert _count(app, WebLead) == 1


# --- bad input and scope ------------------------------------------------------------------------


@pytest.mark.parametrize("body, field, msgid", [
    ({"phone": "0514-2398577"}, "company", "Enter the company name."),
    ({"company": "  "}, "company", "Enter the company name."),
    ({"company": "扬州五环印花厂", "phone": "12"}, "phone", None),
])
def test_a_lead_without_a_company_or_with_a_malformed_phone_is_refused(app, api, frozen, body, field, msgid):
    answer = _post(api("admin_a"), body)
    assert answer.status_code == 422
    error = answer.get_json()
    assert error["error"] == "invalid" and field in error["fields"]
    expected = zh(app, msgid) if msgid else zh(app, "%(field)s is not a phone number we can read.",
                                                field=zh(app, "Landline"))
    assert error["fields"][field] == expected
    assert _count(app, WebLead) == 0 and _count(app, Opportunity) == 0


def test_a_salesperson_may_not_post_leads(app, api, frozen):
    answer = _post(api("sales_a"), YANGZHOU)
    assert answer.status_code == 403
    assert answer.get_json()["message"] == zh(app, "Only an agent admin or a subsystem admin may post web leads.")
    assert _count(app, WebLead) == 0


@pytest.mark.parametrize("department", ["华东代理", "华东代理/销售一部", "不存在的部门"])
def test_a_department_out_of_the_admins_reach_is_not_found(app, api, frozen, department):
    answer = _post(api("admin_a"), {**YANGZHOU, "department": department})
    assert answer.status_code == 404
    assert _count(app, WebLead) == 0 and _count(app, Opportunity) == 0


def test_a_subsystem_admin_names_the_department(app, api, frozen):
    refused = _post(api("root"), YANGZHOU)
    assert refused.status_code == 422
    assert refused.get_json()["fields"]["department"] == zh(app, "Name the department the lead goes to.")
    assert _post(api("root"), {**YANGZHOU, "department": "/"}).status_code == 422  # the head office has no pool
    answer = _post(api("root"), {**YANGZHOU, "department": "华东代理"})
    assert answer.status_code == 201 and answer.get_json()["lead"]["assigned_to"] == "sales_b"


# --- the deadline -------------------------------------------------------------------------------


def _overdue_shown(client, opportunity_id, app, list_url="/opportunities/?show=all"):
    listing = client.get(list_url).get_data(as_text=True)
    details = client.get(f"/opportunities/details/?id={opportunity_id}").get_data(as_text=True)
    badge = f'<span class="badge badge-danger lead-overdue">{zh(app, "Lead overdue")}</span>'
    return badge in listing and f'<span class="text-danger font-weight-bold">{zh(app, "Overdue")}</span>' in details


def test_a_lead_past_its_deadline_shows_overdue_in_red_to_owner_supervisor_and_agent_admin(app, api, client, auth,
                                                                                            frozen):
    opportunity_id = _post(api("admin_a"), YANGZHOU).get_json()["lead"]["opportunity_id"]
    frozen(T0 + timedelta(hours=23))
    auth.login("sales_a")
    details = client.get(f"/opportunities/details/?id={opportunity_id}").get_data(as_text=True)
    assert zh(app, "Web leads") in details and zh(app, "%(hours)d h %(minutes)d min left", hours=1, minutes=0) \
        in details
    assert zh(app, "New web lead") in client.get("/opportunities/").get_data(as_text=True)
    assert not _overdue_shown(client, opportunity_id, app)
    auth.logout()
    frozen(T0 + timedelta(hours=24, minutes=1))
    for login in ("sales_a", "super_a", "manager_a", "admin_a"):
        auth.login(login)
        assert _overdue_shown(client, opportunity_id, app), login
        auth.logout()
    auth.login("sales_b")  # another company sees nothing of it
    assert client.get(f"/opportunities/details/?id={opportunity_id}").status_code == 404


def test_a_valid_note_before_the_deadline_meets_it_and_an_invalid_one_does_not(app, api, client, auth, frozen):
    opportunity_id = _post(api("admin_a"), YANGZHOU).get_json()["lead"]["opportunity_id"]
    frozen(T0 + timedelta(hours=2))
    auth.login("sales_a")
    _note(client, opportunity_id, maturity=0)  # no prospect: not a valid contact
    with app.app_context():
        assert db.session.scalar(db.select(WebLead)).met_at is None
    _note(client, opportunity_id, maturity=3)
    with app.app_context():
        assert db.session.scalar(db.select(WebLead)).met_at == T0 + timedelta(hours=2)
    frozen(T0 + timedelta(hours=30))
    assert not _overdue_shown(client, opportunity_id, app)
    assert zh(app, "Followed up") in client.get(f"/opportunities/details/?id={opportunity_id}").get_data(as_text=True)
    with app.app_context():
        assert leads.notify_overdue(db.session, clock.now()) == 0


def test_an_invalid_note_leaves_the_lead_overdue(app, api, client, auth, frozen):
    opportunity_id = _post(api("admin_a"), YANGZHOU).get_json()["lead"]["opportunity_id"]
    frozen(T0 + timedelta(hours=1))
    auth.login("sales_a")
    _note(client, opportunity_id, maturity=0)
    frozen(T0 + timedelta(hours=25))
    assert _overdue_shown(client, opportunity_id, app)


def test_overdue_leads_are_notified_once(app, api, frozen):
    _post(api("admin_a"), YANGZHOU)
    _post(api("admin_a"), {"company": COMPANIES[0], "department": "华南代理/销售二部"})  # nobody there: the pool
    with app.app_context():
        assert leads.notify_overdue(db.session, T0 + timedelta(hours=23)) == 0
        assert leads.notify_overdue(db.session, T0 + timedelta(hours=25)) == 2
        db.session.commit()
        assert leads.notify_overdue(db.session, T0 + timedelta(hours=26)) == 0
        db.session.commit()
    # the owner, the supervisor and manager whose departments cover it, and the company's agent admin
    assert _notices(app, "lead_overdue") == ["admin_a", "admin_a", "manager_a", "sales_a", "super_a"]


def test_rules_run_for_cron_notifies_overdue_leads_once(app, api, runner, frozen):
    _post(api("admin_a"), YANGZHOU)
    frozen(T0 + timedelta(hours=23))
    assert "overdue leads notified 0" in runner.invoke(args=["rules", "run"]).output
    frozen(T0 + timedelta(hours=25))
    result = runner.invoke(args=["rules", "run"])
    assert result.exit_code == 0 and "overdue leads notified 1" in result.output
    assert "overdue leads notified 0" in runner.invoke(args=["rules", "run"]).output
    assert _notices(app, "lead_overdue") == ["admin_a", "manager_a", "sales_a", "super_a"]


# --- at the same moment -------------------------------------------------------------------------


def _at_once(app, token, bodies):
    """POST every body at once, each from its own client and thread; the statuses and answers."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    barrier = Barrier(len(bodies))

    def post(body):
        client = app.test_client()
        barrier.wait()
        answer = client.post("/api/v1/leads", json=body, headers={"Authorization": f"Bearer {token}"})
        return answer.status_code, answer.get_json()

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def test_the_same_lead_posted_at_the_same_moment_is_recorded_once(app, org, frozen):
    answers = _at_once(app, api_token(app, "admin_a"), [YANGZHOU] * 8)
    assert sorted(status for status, _body in answers) == [200] * 7 + [201]
    assert len({body["lead"]["id"] for _status, body in answers}) == 1
    assert _count(app, WebLead) == 1 and _count(app, Opportunity) == 1


def test_leads_at_the_same_moment_never_exceed_the_cap(app, org, frozen):
    set_rules(app, cap=2)
    _add_salesperson(app, "sales_c", "华南代理/销售二部")
    names = COMPANIES + ["嘉兴飞跃纺织厂", "常州恒星电器厂", "无锡太湖渔具厂", "南通江海服装厂"]
    answers = _at_once(app, api_token(app, "admin_a"), [{"company": name} for name in names])
    assert [status for status, _body in answers] == [201] * len(names)
    assert _library_sizes(app) == {"sales_a": 2, "sales_c": 2}
    assert _count(app, Opportunity, location="agent_admin_pool") == len(names) - 4
