"""Who may reach which customer and which note, by any URL or API call (DOMAIN.md: libraries).

Two agent companies, two departments in one of them: sales_a's customer (华南代理/销售一部/电话组)
is seen by sales_a, the supervisor and manager whose managed departments cover 电话组, its
agent admin and the subsystem admin; not by a salesperson or supervisor of 华南代理/销售二部, nor
by anyone of 华东代理. Only the owner writes notes on it or abandons it. The refusals are the
same 404 as for a customer that does not exist, and nothing is written.
"""
import pytest
from sqlalchemy import func, select

from conftest import PASSWORD, csrf_token
from crm_pages import logged_in_as
from helpers import ApiClient, api_token
from models import ContactNote, Opportunity, User, db
from services.library import notes, opportunities
from services.library.opportunities import OpportunityInput
from services.people import accounts, departments

SEES = {"sales_a", "super_a", "manager_a", "admin_a", "root"}
BLIND = {"sales_b", "admin_b", "sales_c", "super_c"}
COMPANY = "扬州五环印花厂"


@pytest.fixture
def world(app, org):
    """sales_a's customer with one note; a second department of 华南代理 with its own people."""
    with app.app_context():
        s = db.session
        other = departments.resolve_path(s, "华南代理/销售二部", create=True)
        accounts.create_user(s, None, "sales_c", "salesperson", other, [], password=PASSWORD)
        accounts.create_user(s, None, "super_c", "supervisor", other, [other], password=PASSWORD)
        owner = s.scalar(select(User).filter_by(login="sales_a"))
        customer = opportunities.insert_opportunity(s, owner, OpportunityInput(company=COMPANY, contact="王经理",
                                                                      phone="0514-2398577"), "library", None)
        s.flush()
        notes.add_note(s, owner, customer.id, "phone", "约了下周拜访", 3)
        s.commit()
        return customer.id


def _notes(app, opportunity_id):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ContactNote).filter_by(opportunity_id=opportunity_id))


@pytest.mark.parametrize("login", sorted(SEES | BLIND))
def test_the_details_page_and_the_api_answer_only_those_who_see_it(app, world, login):
    client = logged_in_as(app, login)
    details = client.get(f"/opportunities/details/?id={world}")
    api = ApiClient(app, app.test_client(), api_token(app, login)).get(f"/opportunities/{world}")
    missing = ApiClient(app, app.test_client(), api_token(app, login)).get("/opportunities/999999")
    if login in SEES:
        assert details.status_code == 200 and COMPANY in details.get_data(as_text=True)
        assert api.status_code == 200 and api.get_json()["notes"][0]["content"] == "约了下周拜访"
    else:
        assert details.status_code == 404 and COMPANY not in details.get_data(as_text=True)
        assert api.status_code == 404 and api.get_json() == missing.get_json()


@pytest.mark.parametrize("login", sorted(SEES | BLIND))
def test_the_lists_and_their_exports_hold_it_only_for_those_who_see_it(app, world, login):
    client = logged_in_as(app, login)
    listed = COMPANY in client.get("/opportunities/?show=all").get_data(as_text=True)
    noted = "约了下周拜访" in client.get("/notes/").get_data(as_text=True)
    api_items = ApiClient(app, app.test_client(), api_token(app, login)).get("/opportunities", q="五环").get_json()
    assert listed == noted == (api_items["total"] == 1) == (login in SEES)
    export = client.get("/opportunities/export/csv/?show=all")
    if export.status_code == 200:  # admins, managers and supervisors export; salespeople get 403
        assert (COMPANY in export.get_data().decode("utf-8-sig")) == (login in SEES)
    else:
        assert export.status_code == 403 and login.startswith("sales")


@pytest.mark.parametrize("login", sorted(SEES - {"sales_a"} | BLIND))
def test_only_the_owner_writes_notes_or_abandons(app, world, login):
    client = logged_in_as(app, login)
    token = csrf_token(client, "/")
    client.post("/opportunities/note/", data={"id": world, "method": "phone", "content": "冒名小记", "maturity": "3",
                                              "csrf_token": token})
    client.post("/opportunities/abandon/", data={"id": world, "reason": "客户无需求", "csrf_token": token})
    api = ApiClient(app, app.test_client(), api_token(app, login))
    refusal = 403 if login in ("admin_a", "admin_b", "root") else 404  # admins keep no library: their role may not
    for path, body in (("/opportunities/{}/notes", {"method": "phone", "content": "冒名小记", "maturity": 3}),
                       ("/opportunities/{}/abandon", {"reason": "客户无需求"}), ("/opportunities/{}/claim", None)):
        answer = api.post(path.format(world), body)
        assert answer.status_code in (refusal, 404), path  # claim: not in the pool, nobody claims it
        # the same answer as for a customer that does not exist: nothing to learn from it
        assert answer.get_json() == api.post(path.format(999999), body).get_json()
    assert _notes(app, world) == 1
    with app.app_context():
        customer = db.session.get(Opportunity, world)
        assert customer.location == "library" and customer.owner.login == "sales_a"


def test_the_duplicate_check_names_only_name_place_and_owner_to_others(app, world):
    for login in BLIND:
        body = ApiClient(app, app.test_client(), api_token(app, login)).get("/dedup", phone="2398577").get_json()
        match = body["matches"][0]
        assert match["company"] == COMPANY and match["owner"] == "sales_a"
        text = str(body)
        assert "王经理" not in text and "约了下周拜访" not in text and "0514" not in text


def test_a_salesperson_cannot_write_someone_elses_fields_by_tampering(app, world):
    """The entry form takes no owner, department, location or lock: tampered fields are ignored."""
    client = logged_in_as(app, "sales_b")
    with app.app_context():
        sales_a = db.session.scalar(select(User).filter_by(login="sales_a"))
        foreign = {"owner_id": str(sales_a.id), "owner": str(sales_a.id), "department_id": str(sales_a.department_id),
                   "location": "public_pool", "created_by_id": str(sales_a.id)}
    response = client.post("/opportunities/new/", data={"company": "宁波海星渔具厂", "csrf_token":
                                                         csrf_token(client, "/opportunities/new/"), **foreign})
    assert response.status_code in (200, 302)
    with app.app_context():
        entered = db.session.scalar(select(Opportunity).filter_by(company="宁波海星渔具厂"))
        assert entered is not None and entered.owner.login == "sales_b" and entered.location == "library"
        assert entered.department_id == entered.owner.department_id and entered.created_by.login == "sales_b"
