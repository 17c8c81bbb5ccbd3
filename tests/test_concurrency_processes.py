"""The invariants of tests/test_concurrency.py again, against gunicorn with several worker processes.

There the racing requests share one process; here they reach separate processes (each with
its own connection pool) over real HTTP, as in production, against a SQLite file or
PostgreSQL. What holds them is in the database: the LibraryLock row that every entry and
claim updates first, where fuzzy matching decides. No answer may be a 500.
"""
import pytest
from served import call, gunicorn_server, salespeople
from test_concurrency import _fill, _library_size, _public_pool

from conftest import set_rules, zh
from helpers import NOT_FOUND, at_once
from models import Opportunity, OpportunityPhone, db

pytestmark = pytest.mark.slow  # processes: gunicorn, workers killed and restarted

API = "/api/v1"
# One company as twenty salespeople would type it: names with and without the city, the legal
# form, traditional characters and spaces; the landline in every format seen in the field.
SPELLINGS = ["上海瑞丽服装厂", "上海市瑞丽服装有限公司", "上海瑞麗服裝廠", "上海 瑞丽服装 有限公司"]
PHONES = ["021-62345678", "+86 21 6234 5678", "(021)62345678", "０２１－６２３４５６７８", "021 6234 5678"]


@pytest.fixture
def server(app, _schema, tmp_path):
    with gunicorn_server(_schema, tmp_path) as running:
        yield running


def _several_processes_answered(server, path_prefix):
    """More than one worker process served the race: otherwise it proved nothing about processes."""
    return len(server.worker_pids(path_prefix)) > 1


def test_twenty_spellings_of_one_company_entered_at_once_make_one_opportunity(app, org, server):
    tokens = list(salespeople(app, 20).values())
    entries = [{"company": SPELLINGS[i % len(SPELLINGS)], "phone": PHONES[i % len(PHONES)],
                "province": "上海", "city": "上海"} for i in range(20)]
    answers = at_once([lambda t=t, e=e: call(server.base_url, "POST", f"{API}/opportunities", t, e)
                       for t, e in zip(tokens, entries)])
    statuses = sorted(status for status, _body, _type in answers)
    assert statuses == [201] + [409] * 19, statuses
    refusals = [body for status, body, _type in answers if status == 409]
    assert {body["error"] for body in refusals} <= {"duplicate", "review_required"}
    assert all(body["message"] for body in refusals)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Opportunity)) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(OpportunityPhone)) == 1
    assert _several_processes_answered(server, f"{API}/opportunities")


def test_thirty_salespeople_claim_one_pool_customer_and_one_owns_it(app, org, server):
    (pool_id,) = _public_pool(app, 1)
    tokens = salespeople(app, 30)
    answers = at_once([lambda t=t: call(server.base_url, "POST", f"{API}/opportunities/{pool_id}/claim", t)
                       for t in tokens.values()])
    statuses = sorted(status for status, _body, _type in answers)
    assert statuses == [200] + [404] * 29, statuses
    winner = next(body["owner"] for status, body, _type in answers if status == 200)
    assert all(body["error"] == "not_found" and body["message"] == zh(app, NOT_FOUND)
               for status, body, _type in answers if status == 404)
    with app.app_context():
        opportunity = db.session.get(Opportunity, pool_id)
        assert (opportunity.location, opportunity.owner.login) == ("library", winner)
    assert _several_processes_answered(server, f"{API}/opportunities/{pool_id}/claim")


def test_twenty_claims_at_once_from_125_end_at_exactly_130(app, org, server):
    set_rules(app, cap=130)
    (token,) = salespeople(app, 1, prefix="capped").values()
    _fill(app, "capped00", 125)
    pool = _public_pool(app, 20)
    answers = at_once([lambda i=i: call(server.base_url, "POST", f"{API}/opportunities/{i}/claim", token)
                       for i in pool])
    statuses = sorted(status for status, _body, _type in answers)
    assert statuses == [200] * 5 + [409] * 15, statuses
    assert all(body["error"] == "library_full" and body["limit"] == 130
               for status, body, _type in answers if status == 409)
    assert _library_size(app, "capped00") == 130
    assert _several_processes_answered(server, f"{API}/opportunities/")

