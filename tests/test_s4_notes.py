"""Manual §四: contact notes on an opportunity's details page and through the API."""
from datetime import datetime, timedelta, timezone

import pytest

from conftest import csrf_token, zh
from helpers import ApiClient, api_token
from models import ContactNote, Opportunity, User, db
from services import clock
from services.library import notes, opportunities
from services.library.opportunities import OpportunityInput

VALID = "Note saved. It counts as a valid contact."
NOT_VALID = "Note saved. It does not count as a valid contact (maturity 0, customer not reached, or customer busy)."


def _own(app, login, company="扬州五环印花厂"):
    with app.app_context():
        owner = db.session.scalar(db.select(User).filter_by(login=login))
        opportunity = opportunities.insert_opportunity(db.session, owner, OpportunityInput(company=company), "library", None)
        db.session.commit()
        return opportunity.id


def _note(client, opportunity_id, follow=True, **fields):
    token = csrf_token(client, f"/opportunities/details/?id={opportunity_id}")
    data = {"id": opportunity_id, "method": "phone", "content": "王经理有兴趣，下周寄样品", "maturity": "3",
            "csrf_token": token, **fields}
    return client.post("/opportunities/note/", data=data, follow_redirects=follow)


def _notes(app, opportunity_id):
    with app.app_context():
        return db.session.scalars(db.select(ContactNote).filter_by(opportunity_id=opportunity_id)
                                  .order_by(ContactNote.id)).all()


@pytest.mark.parametrize("fields, valid", [
    ({"maturity": "3"}, True),
    ({"maturity": "0"}, False),
    ({"maturity": "3", "unreachable": "1"}, False),
    ({"maturity": "3", "busy": "1"}, False),
])
def test_the_four_valid_contact_cases(client, auth, org, app, fields, valid):
    opportunity_id = _own(app, "sales_a")
    auth.login("sales_a")
    page = _note(client, opportunity_id, **fields)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert zh(app, VALID if valid else NOT_VALID) in body
    (note,) = _notes(app, opportunity_id)
    assert note.valid is valid and note.author_id == org.users["sales_a"]
    assert notes.is_valid_contact(int(fields["maturity"]), "unreachable" in fields, "busy" in fields) is valid
    assert zh(app, "Valid contact" if valid else "Not a valid contact") in body


def test_timeline_newest_first_and_contact_times_updated(client, auth, org, app):
    opportunity_id = _own(app, "sales_a")
    auth.login("sales_a")
    page = client.get(f"/opportunities/details/?id={opportunity_id}").get_data(as_text=True)
    assert zh(app, "Write a contact note") in page and zh(app, "No contact notes yet.") in page
    _note(client, opportunity_id, content="第一次：未接通", maturity="1", unreachable="1")
    later = (datetime.now(timezone.utc) + timedelta(days=2)).astimezone().strftime("%Y-%m-%dT%H:%M")
    body = _note(client, opportunity_id, content="第二次：约了周五拜访", maturity="4", method="visit",
                 next_contact_at=later).get_data(as_text=True)
    assert body.index("第二次：约了周五拜访") < body.index("第一次：未接通")
    with app.app_context():
        opportunity = db.session.get(Opportunity, opportunity_id)
        assert opportunity.maturity == 4
        assert opportunity.last_contact_at is not None
        assert opportunity.next_contact_at > clock.now() + timedelta(days=1)


@pytest.mark.parametrize("fields, message", [
    ({"content": "   "}, "Write what happened."),
    ({"maturity": "9"}, "Maturity is a level from %(low)d to %(high)d."),
    ({"maturity": "abc"}, "Maturity is a level from %(low)d to %(high)d."),
    ({"next_contact_at": "2020-01-01T09:00"}, "The next contact time is in the past."),
    ({"next_contact_at": "not a time"}, "The next contact time is not a date and time we can read."),
    ({"method": "telepathy"}, "Choose how you contacted the customer."),
])
def test_bad_notes_are_refused_and_nothing_written(client, auth, org, app, fields, message):
    opportunity_id = _own(app, "sales_a")
    auth.login("sales_a")
    page = _note(client, opportunity_id, **fields)
    assert page.status_code == 200
    variables = {"low": 0, "high": 5} if "%(low)" in message else {}
    assert zh(app, message, **variables) in page.get_data(as_text=True)
    assert _notes(app, opportunity_id) == []
    with app.app_context():
        opportunity = db.session.get(Opportunity, opportunity_id)
        assert opportunity.last_contact_at is None and opportunity.maturity is None


def test_another_salesperson_cannot_write_a_note(client, auth, org, app):
    opportunity_id = _own(app, "sales_b")
    auth.login("sales_a")
    assert client.get(f"/opportunities/details/?id={opportunity_id}").status_code == 404
    token = csrf_token(client, "/opportunities/")
    refused = client.post("/opportunities/note/", data={"id": opportunity_id, "method": "phone", "content": "x",
                                                         "maturity": "3", "csrf_token": token})
    assert refused.status_code == 404
    for odd in ("", "abc", "99999999999", "²"):
        assert client.post("/opportunities/note/", data={"id": odd, "csrf_token": token}).status_code == 404
    assert _notes(app, opportunity_id) == []


def test_a_manager_sees_the_notes_but_writes_none(client, auth, org, app):
    opportunity_id = _own(app, "sales_a")
    auth.login("sales_a")
    _note(client, opportunity_id, content="销售的小记")
    auth.logout()
    auth.login("super_a")
    page = client.get(f"/opportunities/details/?id={opportunity_id}").get_data(as_text=True)
    assert "销售的小记" in page and 'id="note-form"' not in page and 'id="abandon-form"' not in page
    assert _note(client, opportunity_id, content="主管的小记", follow=False).status_code == 404
    assert len(_notes(app, opportunity_id)) == 1


def test_the_note_form_needs_the_csrf_token(client, auth, org, app):
    opportunity_id = _own(app, "sales_a")
    auth.login("sales_a")
    refused = client.post("/opportunities/note/", data={"id": opportunity_id, "method": "phone",
                                                         "content": "x", "maturity": "3"})
    assert refused.status_code == 400
    assert _notes(app, opportunity_id) == []


def test_api_note_201_with_valid_flag_and_notes_in_the_opportunity(app, client, org):
    opportunity_id = _own(app, "sales_a")
    api = ApiClient(app, client, api_token(app, "sales_a"))
    later = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    first = api.post(f"/opportunities/{opportunity_id}/notes",
                     {"method": "phone", "content": "电话没人接", "maturity": 2, "unreachable": True})
    assert first.status_code == 201 and first.get_json()["valid"] is False
    second = api.post(f"/opportunities/{opportunity_id}/notes",
                      {"method": "im", "content": "微信聊了报价", "maturity": 3, "unreachable": False,
                       "busy": False, "next_contact_at": later})
    assert second.status_code == 201
    assert second.get_json()["valid"] is True and second.get_json()["author"] == "sales_a"
    detail = api.get(f"/opportunities/{opportunity_id}").get_json()
    assert [n["content"] for n in detail["notes"]] == ["微信聊了报价", "电话没人接"]
    assert detail["maturity"] == 3 and detail["next_contact_at"] is not None


@pytest.mark.parametrize("body, field", [
    ({"method": "phone", "content": "", "maturity": 3}, "content"),
    ({"method": "phone", "content": "x", "maturity": 9}, "maturity"),
    ({"method": "phone", "content": "x", "maturity": True}, "maturity"),
    ({"method": "phone", "content": "x", "maturity": 3, "next_contact_at": "2020-01-01T00:00:00+08:00"},
     "next_contact_at"),
    ({"method": "phone", "content": "x", "maturity": 3, "next_contact_at": "soon"}, "next_contact_at"),
    ({"method": "fax", "content": "x", "maturity": 3}, "method"),
    ({"method": "phone", "content": 5, "maturity": 3}, "content"),
])
def test_api_bad_notes_422(app, client, org, body, field):
    opportunity_id = _own(app, "sales_a")
    api = ApiClient(app, client, api_token(app, "sales_a"))
    refused = api.post(f"/opportunities/{opportunity_id}/notes", body)
    assert refused.status_code == 422 and field in refused.get_json()["fields"]
    assert _notes(app, opportunity_id) == []


def test_api_note_on_anothers_opportunity_404(app, client, org):
    opportunity_id = _own(app, "sales_b")
    api = ApiClient(app, client, api_token(app, "sales_a"))
    refused = api.post(f"/opportunities/{opportunity_id}/notes", {"method": "phone", "content": "x", "maturity": 3})
    assert refused.status_code == 404
    assert api.post("/opportunities/999999/notes", {"method": "phone", "content": "x", "maturity": 3}).status_code == 404
    assert _notes(app, opportunity_id) == []
