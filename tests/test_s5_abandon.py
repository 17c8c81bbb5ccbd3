"""Manual §五: abandon with a reason into the agent-admin pool; the agent admin reassigns or releases."""
import re

from conftest import csrf_token, set_rules, zh
from helpers import ApiClient, api_token
from models import Opportunity, OpportunityEvent, User, db
from services.library import opportunities
from services.library.opportunities import OpportunityInput


def _own(app, login, company):
    with app.app_context():
        owner = db.session.scalar(db.select(User).filter_by(login=login))
        opportunity = opportunities.insert_opportunity(db.session, owner, OpportunityInput(company=company), "library", None)
        db.session.commit()
        return opportunity.id


def _abandon(client, opportunity_id, reason="客户无需求", follow=True):
    token = csrf_token(client, "/opportunities/")
    return client.post("/opportunities/abandon/", data={"id": opportunity_id, "reason": reason,
                                                        "csrf_token": token}, follow_redirects=follow)


def _row(app, opportunity_id):
    with app.app_context():
        o = db.session.get(Opportunity, opportunity_id)
        return {"location": o.location, "owner_id": o.owner_id,
                "department": o.department.name if o.department else None}


def _events(app, opportunity_id):
    with app.app_context():
        return [(e.kind, e.actor.login if e.actor else None, e.reason) for e in db.session.scalars(
            db.select(OpportunityEvent).filter_by(opportunity_id=opportunity_id).order_by(OpportunityEvent.id))]


def _pooled(app, client, auth, login, company):
    opportunity_id = _own(app, login, company)
    auth.login(login)
    _abandon(client, opportunity_id)
    auth.logout()
    return opportunity_id


def test_abandon_moves_it_to_the_companys_pool_with_history(client, auth, org, app):
    opportunity_id = _own(app, "sales_a", "扬州五环印花厂")
    auth.login("sales_a")
    page = client.get(f"/opportunities/details/?id={opportunity_id}").get_data(as_text=True)
    assert 'id="abandon-form"' in page and "已与其他平台合作" in page
    done = _abandon(client, opportunity_id, "已与其他平台合作")
    assert zh(app, "%(company)s was abandoned and is now in the agent-admin pool.", company="扬州五环印花厂") \
        in done.get_data(as_text=True)
    assert _row(app, opportunity_id) == {"location": "agent_admin_pool", "owner_id": None, "department": "华南代理"}
    assert _events(app, opportunity_id) == [("abandon", "sales_a", "已与其他平台合作")]
    with app.app_context():
        event = db.session.scalar(db.select(OpportunityEvent).filter_by(opportunity_id=opportunity_id))
        assert event.created_at is not None and event.from_owner_id == org.users["sales_a"]
    assert client.get(f"/opportunities/details/?id={opportunity_id}").status_code == 404
    assert "扬州五环印花厂" not in client.get("/opportunities/?show=all").get_data(as_text=True)
    # the agent admin sees it, with who, when and why
    auth.logout()
    auth.login("admin_a")
    pool = client.get("/agent-pool/").get_data(as_text=True)
    assert "扬州五环印花厂" in pool and "sales_a" in pool and "已与其他平台合作" in pool
    details = client.get(f"/agent-pool/details/?id={opportunity_id}").get_data(as_text=True)
    assert zh(app, "Abandoned") in details and "已与其他平台合作" in details


def test_abandon_without_a_reason_or_with_an_unknown_one_is_refused(client, auth, org, app):
    opportunity_id = _own(app, "sales_a", "扬州五环印花厂")
    auth.login("sales_a")
    for reason, message in (("", "Choose why you abandon this customer."),
                            ("我不想要了", "Choose a reason from the list.")):
        page = _abandon(client, opportunity_id, reason)
        assert page.status_code == 200 and zh(app, message) in page.get_data(as_text=True)
        assert _row(app, opportunity_id)["location"] == "library"
    assert _events(app, opportunity_id) == []


def test_cannot_abandon_anothers(client, auth, org, app):
    opportunity_id = _own(app, "sales_b", "潍坊市的迪有限公司")
    auth.login("sales_a")
    assert _abandon(client, opportunity_id, follow=False).status_code == 404
    assert _row(app, opportunity_id)["location"] == "library" and _events(app, opportunity_id) == []


def test_api_abandon_then_the_former_owner_gets_404(app, client, org):
    opportunity_id = _own(app, "sales_a", "扬州五环印花厂")
    api = ApiClient(app, client, api_token(app, "sales_a"))
    missing = api.post(f"/opportunities/{opportunity_id}/abandon", {})
    assert missing.status_code == 422 and "reason" in missing.get_json()["fields"]
    assert missing.get_json()["message"] == zh(app, "Choose why you abandon this customer.")
    unknown = api.post(f"/opportunities/{opportunity_id}/abandon", {"reason": "随便"})
    assert unknown.status_code == 422
    assert _row(app, opportunity_id)["location"] == "library"
    done = api.post(f"/opportunities/{opportunity_id}/abandon", {"reason": "无法联系"})
    assert done.status_code == 200 and done.get_json()["location"] == "agent_admin_pool"
    assert done.get_json()["owner"] is None
    assert api.get(f"/opportunities/{opportunity_id}").status_code == 404
    assert api.post(f"/opportunities/{opportunity_id}/abandon", {"reason": "无法联系"}).status_code == 404
    other = ApiClient(app, client, api_token(app, "sales_b"))
    assert other.post(f"/opportunities/{opportunity_id}/abandon", {"reason": "其他"}).status_code == 404
    assert _events(app, opportunity_id) == [("abandon", "sales_a", "无法联系")]


def test_agent_admin_reassigns_to_a_salesperson(client, auth, org, app):
    opportunity_id = _pooled(app, client, auth, "sales_a", "扬州五环印花厂")
    auth.login("admin_a")
    page = client.get(f"/agent-pool/reassign/?ids={opportunity_id}").get_data(as_text=True)
    assert "扬州五环印花厂" in page and "sales_a" in page and "sales_b" not in page  # only its own company's
    token = csrf_token(client, f"/agent-pool/reassign/?ids={opportunity_id}")
    # another company's salesperson: refused
    refused = client.post("/agent-pool/reassign/", data={"ids": str(opportunity_id), "salesperson":
                                                         org.users["sales_b"], "csrf_token": token})
    assert refused.status_code == 200
    assert zh(app, "Choose a salesperson of this agent company.") in refused.get_data(as_text=True)
    assert _row(app, opportunity_id)["location"] == "agent_admin_pool"
    done = client.post("/agent-pool/reassign/", data={"ids": str(opportunity_id), "salesperson":
                                                      org.users["manager_a"], "csrf_token": token},
                       follow_redirects=True)
    assert zh(app, "%(n)d customers reassigned to %(user)s.", n=1, user="manager_a") in done.get_data(as_text=True)
    row = _row(app, opportunity_id)
    assert row["location"] == "library" and row["owner_id"] == org.users["manager_a"]
    assert [e[0] for e in _events(app, opportunity_id)] == ["abandon", "reassign"]


def test_reassign_is_refused_at_the_salespersons_cap(client, auth, org, app):
    opportunity_id = _pooled(app, client, auth, "sales_a", "扬州五环印花厂")
    _own(app, "sales_a", "泰安艺动力彩色印刷厂")
    set_rules(app, cap=1)
    auth.login("admin_a")
    token = csrf_token(client, "/agent-pool/")
    refused = client.post("/agent-pool/reassign/", data={"ids": str(opportunity_id), "salesperson":
                                                         org.users["sales_a"], "csrf_token": token})
    assert zh(app, "The library of %(user)s is full (%(n)d customers).", user="sales_a", n=1) \
        in refused.get_data(as_text=True)
    assert _row(app, opportunity_id)["location"] == "agent_admin_pool"


def test_release_to_the_public_pool(client, auth, org, app):
    opportunity_id = _pooled(app, client, auth, "sales_a", "扬州五环印花厂")
    auth.login("admin_a")
    token = csrf_token(client, "/agent-pool/")
    done = client.post("/agent-pool/release/", data={"id": opportunity_id, "url": "https://evil.example/",
                                                     "csrf_token": token})
    assert done.status_code == 302 and "evil.example" not in done.headers["Location"]
    assert _row(app, opportunity_id) == {"location": "public_pool", "owner_id": None, "department": None}
    assert [e[0] for e in _events(app, opportunity_id)] == ["abandon", "release"]
    auth.logout()
    auth.login("sales_b")
    assert "扬州五环印花厂" in client.get("/pool/").get_data(as_text=True)


def test_another_companys_admin_and_salespeople_cannot_reach_the_pool(client, auth, org, app):
    opportunity_id = _pooled(app, client, auth, "sales_a", "扬州五环印花厂")
    auth.login("admin_b")
    assert "扬州五环印花厂" not in client.get("/agent-pool/").get_data(as_text=True)
    assert client.get(f"/agent-pool/details/?id={opportunity_id}").status_code == 404
    assert client.get(f"/agent-pool/reassign/?ids={opportunity_id}").status_code == 404
    token = csrf_token(client, "/agent-pool/")
    assert client.post("/agent-pool/release/", data={"id": opportunity_id, "csrf_token": token}).status_code == 404
    assert _row(app, opportunity_id)["location"] == "agent_admin_pool"
    auth.logout()
    auth.login("sales_a")
    assert client.get("/agent-pool/").status_code == 403
    auth.logout()
    auth.login("root")
    assert "扬州五环印花厂" in client.get("/agent-pool/").get_data(as_text=True)


def test_bulk_actions_refilter_ids_through_the_scope(client, auth, org, app):
    a1 = _pooled(app, client, auth, "sales_a", "扬州五环印花厂")
    a2 = _pooled(app, client, auth, "sales_a", "泰安艺动力彩色印刷厂")
    b1 = _pooled(app, client, auth, "sales_b", "潍坊市的迪有限公司")
    auth.login("admin_a")
    token = csrf_token(client, "/agent-pool/")
    # bulk reassign: the action leads to the form, with only the admin's own rows
    form = client.post("/agent-pool/action/", data={"action": "reassign", "rowid": [a1, a2, b1],
                                                    "csrf_token": token})
    assert form.status_code == 302
    ids = re.search(r"ids=([0-9%C,]+)", form.headers["Location"]).group(1).replace("%2C", ",")
    assert sorted(map(int, ids.split(","))) == sorted([a1, a2])
    done = client.post("/agent-pool/reassign/", data={"ids": f"{a1},{b1}", "salesperson": org.users["sales_a"],
                                                      "csrf_token": token})
    assert done.status_code == 302
    assert _row(app, a1)["owner_id"] == org.users["sales_a"]
    assert _row(app, b1)["location"] == "agent_admin_pool"
    # bulk release
    client.post("/agent-pool/action/", data={"action": "release", "rowid": [a2, b1], "csrf_token": token})
    assert _row(app, a2)["location"] == "public_pool"
    assert _row(app, b1)["location"] == "agent_admin_pool"
    # nothing of the caller's scope: 404
    assert client.post("/agent-pool/action/", data={"action": "release", "rowid": [b1],
                                                    "csrf_token": token}).status_code == 404
