"""Requests that arrive at the same moment (issue 4): the cap and the duplicate check still hold.

Each thread is a client of its own (its own requests, app contexts and database sessions)
against the real database, a SQLite file or PostgreSQL; a barrier releases them together.
Nothing here sleeps or measures time: the assertions are on what was written and answered.
"""

from conftest import set_rules, zh
from helpers import NOT_FOUND, ApiClient, api_token, at_once
from models import Opportunity, User, db
from services.errors import RuleViolation
from services.library import opportunities as opps
from services.library.opportunities import OpportunityInput


def _user(login):
    return db.session.scalar(db.select(User).filter_by(login=login))


def _fill(app, login, n):
    """n customers in the library of `login`, written as an entry writes them (without the check)."""
    with app.app_context():
        owner = _user(login)
        for i in range(n):
            opps.insert_opportunity(db.session, owner, OpportunityInput(company=f"库存客户{i:03d}号贸易有限公司"), "library", None)
        db.session.commit()


def _public_pool(app, n):
    with app.app_context():
        ids = [opps.insert_opportunity(db.session, None, OpportunityInput(company=f"公海客户{i:02d}号五金有限公司"),
                            "public_pool", None).id for i in range(n)]
        db.session.commit()
        return ids


def _library_size(app, login):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Opportunity)
                                 .where(Opportunity.owner_id == _user(login).id, Opportunity.location == "library"))





def _api_client(app, login):
    client = ApiClient(app, app.test_client(), api_token(app, login))
    client.doc()  # read the OpenAPI document before the race, not during it
    return client


def _claim(client, opportunity_id):
    response = client.post(f"/opportunities/{opportunity_id}/claim")
    return response.status_code, response.get_json()


def test_twenty_claims_at_once_stop_exactly_at_the_cap(app, org):
    set_rules(app, cap=130)
    _fill(app, "sales_a", 125)
    pool = _public_pool(app, 20)
    clients = [_api_client(app, "sales_a") for _ in pool]
    answers = at_once([lambda c=c, i=i: _claim(c, i) for c, i in zip(clients, pool)])
    statuses = sorted(status for status, _body in answers)
    assert statuses == [200] * 5 + [409] * 15
    refusals = [body for status, body in answers if status == 409]
    assert all(body["error"] == "library_full" and body["limit"] == 130 for body in refusals)
    assert refusals[0]["message"] == zh(app, "Your library is full (%(n)d customers). Abandon or close some before "
                                             "claiming.", n=130)
    assert _library_size(app, "sales_a") == 130
    with app.app_context():
        still_pooled = db.session.scalar(db.select(db.func.count()).select_from(Opportunity)
                                         .where(Opportunity.id.in_(pool), Opportunity.location == "public_pool"))
    assert still_pooled == 15


def test_two_salespeople_claim_the_same_customer(app, org):
    (pool_id,) = _public_pool(app, 1)
    clients = [_api_client(app, "sales_a"), _api_client(app, "sales_b")]
    answers = at_once([lambda c=c: _claim(c, pool_id) for c in clients])
    assert sorted(status for status, _body in answers) == [200, 404]
    winner = next(body["owner"] for status, body in answers if status == 200)
    loser = next(body for status, body in answers if status == 404)
    assert loser["error"] == "not_found" and loser["message"] == zh(app, NOT_FOUND)
    with app.app_context():
        opportunity = db.session.get(Opportunity, pool_id)
        assert (opportunity.location, opportunity.owner.login) == ("library", winner)


def test_the_same_new_company_entered_twice_at_once(app, org):
    spellings = [("sales_a", "上海瑞丽服装厂"), ("sales_b", "上海市瑞丽服装有限公司")]
    clients = [(_api_client(app, login), company) for login, company in spellings]
    answers = at_once([lambda c=c, n=n: c.post("/opportunities", {"company": n, "province": "上海", "city": "上海"})
                       for c, n in clients])
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201, 409]
    refused = next(r.get_json() for r in answers if r.status_code == 409)
    assert refused["error"] == "duplicate" and refused["message"]
    with app.app_context():
        written = db.session.scalars(db.select(Opportunity.company).where(Opportunity.company.contains("瑞丽"))).all()
    assert len(written) == 1


def _reassign(app, admin_login, opportunity_id, salesperson_login):
    """As the agent-admin pool's page does it: the rule in one transaction of the thread's own session."""
    with app.app_context():
        try:
            opps.reassign(db.session, _user(admin_login), opportunity_id, _user(salesperson_login))
            db.session.commit()
            return "reassigned"
        except RuleViolation as refused:
            db.session.rollback()
            return refused.code
        finally:
            db.session.remove()


def _agent_pool(app, n):
    with app.app_context():
        company = db.session.scalar(db.select(User).filter_by(login="admin_a")).department
        ids = [opps.insert_opportunity(db.session, None, OpportunityInput(company=f"代理池客户{i}号纺织有限公司"),
                            "agent_admin_pool", company).id for i in range(n)]
        db.session.commit()
        return ids


def test_two_reassignments_at_once_to_a_salesperson_one_below_the_cap(app, org):
    set_rules(app, cap=10)
    _fill(app, "sales_a", 9)
    first, second = _agent_pool(app, 2)
    answers = at_once([lambda: _reassign(app, "admin_a", first, "sales_a"),
                       lambda: _reassign(app, "root", second, "sales_a")])
    assert sorted(answers) == ["library_full", "reassigned"]
    assert _library_size(app, "sales_a") == 10
    with app.app_context():
        locations = sorted(db.session.get(Opportunity, i).location for i in (first, second))
    assert locations == ["agent_admin_pool", "library"]
