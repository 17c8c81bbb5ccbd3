"""Input from outside never makes a 500 (issue 13): ids past INTEGER, days no time zone can hold,
control characters. Each case below was a 500 on PostgreSQL, on SQLite, or on both.

The rules (docs/api.md, "Bad input"): an id that cannot be a row is 404, like a row that does not
exist; a day outside 1900-01-01..9998-12-31 is 422; text holding NUL or another control character
(but tab and line breaks) is 422 naming the field, in Chinese; tabs and line breaks in one-line text
are spaces, kept in a note's content; control characters in an imported file's cells are dropped.
"""
import csv
import io

import pytest
from sqlalchemy import select

from conftest import csrf_token, zh
from models import ContactNote, Opportunity, User, db
from services.library import opportunities as opps
from services.people import accounts
from views.api import openapi
from views.ids import MAX_ID

API = "/api/v1"
PAST_INTEGER = [str(MAX_ID + 1), "9223372036854775808", "40141579030874357760"]
NOT_FOUND = "This page or record does not exist, or you may not see it."
CONTROL = ("%(field)s contains a control character (such as NUL) that text may not hold: remove it and try "
           "again.")


def _token(app, login_id):
    with app.app_context():
        token = accounts.issue_token(db.session, db.session.get(User, login_id))
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _enter(app, org, company, login="sales_a", **fields):
    with app.app_context():
        user = db.session.get(User, org.users[login])
        opportunity = opps.enter(db.session, user, opps.OpportunityInput(company=company, **fields))
        db.session.commit()
        return opportunity.id


def _id_routes(app):
    """(method, URL template) of every API call whose path carries a row id."""
    for rule, method in openapi.api_rules(app):
        if "<id:" in rule.rule:
            yield method, rule


# --- ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["sales_a", "admin_a"])
def test_api_ids_past_integer_are_404_in_chinese(app, client, org, login):
    headers = _token(app, org.users[login])
    routes = list(_id_routes(app))
    assert len(routes) >= 8  # opportunities: read, claim, notes, abandon; imports: read, rows, run, report
    for method, rule in routes:
        for raw in PAST_INTEGER:
            url = rule.rule.replace(rule.rule[rule.rule.index("<"):rule.rule.index(">") + 1], raw)
            response = client.open(url, method=method, json={} if method == "POST" else None, headers=headers)
            assert response.status_code == 404, (method, url, response.status_code)
            body = response.get_json()
            assert body["error"] == "not_found" and body["message"] == zh(app, NOT_FOUND), (method, url)


def test_the_document_says_how_large_an_id_may_be(client):
    document = client.get(f"{API}/openapi.json").get_json()
    parameter = document["paths"]["/opportunities/{opportunity_id}/claim"]["post"]["parameters"][0]
    assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def test_the_largest_id_is_still_an_id(app, client, org):
    headers = _token(app, org.users["sales_a"])
    assert client.get(f"{API}/opportunities/{MAX_ID}", headers=headers).status_code == 404
    opportunity_id = _enter(app, org, "扬州五环印花厂")
    assert client.get(f"{API}/opportunities/{opportunity_id}", headers=headers).status_code == 200


# Flask-Admin's ?id= (details, edit, delete) and the ids of bulk and row actions, as each role sees them.
HOSTILE_IDS = [*PAST_INTEGER, "-1", "0", "1.5", "abc", "²", "１２", ""]


def _model_views(app):
    from views.base import ScopedModelView

    admin = app.extensions["admin"][0]
    return [view for view in admin._views if isinstance(view, ScopedModelView)]


def _row_actions(app):
    """The POST-only routes of the admin views (row actions: claim, release, unlock ...)."""
    prefixes = tuple(f"{view.endpoint}." for view in app.extensions["admin"][0]._views)
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(prefixes) and rule.methods - {"HEAD", "OPTIONS"} == {"POST"} \
                and "<" not in rule.rule and not rule.endpoint.endswith((".action_view", ".delete_view")):
            yield rule.rule


@pytest.mark.parametrize("login", ["root", "admin_a", "sales_a"])
def test_admin_pages_answer_hostile_ids_without_a_500(app, client, auth, org, login):
    """Every admin page that takes an id, with ids that cannot be rows: 404, or a redirect with nothing done."""
    kept = _enter(app, org, "扬州五环印花厂")
    auth.login(login)
    token = csrf_token(client, "/")
    views = _model_views(app)
    assert {view.endpoint for view in views} >= {"opportunities", "pool", "agent_pool", "users", "departments",
                                                 "notes", "audit"}
    actions = [(view.endpoint, name) for view in views for name in view._actions_data]
    assert len(actions) >= 8, actions  # delete everywhere, claim, release, reassign, unlock ...
    for view in views:
        base = f"/{view.url.strip('/')}" if view.url != "/" else ""
        for raw in HOSTILE_IDS:
            for page in ("details", "edit"):
                response = client.get(f"{base}/{page}/", query_string={"id": raw})
                assert response.status_code in (302, 403, 404), (login, base, page, raw, response.status_code)
            response = client.post(f"{base}/delete/", data={"id": raw, "csrf_token": token})
            assert response.status_code in (302, 403, 404), (login, base, "delete", raw, response.status_code)
            for name in view._actions_data:
                response = client.post(f"{base}/action/", data={"action": name, "rowid": [raw, raw * 2],
                                                                "csrf_token": token})
                assert response.status_code in (302, 403, 404), (login, base, name, raw, response.status_code)
    row_actions = list(_row_actions(app))
    assert len(row_actions) >= 8, row_actions  # claim, release, note, abandon, unlock, reset, soft delete ...
    for url in row_actions:
        for raw in HOSTILE_IDS:
            response = client.post(url, data={"id": raw, "ids": raw, "csrf_token": token})
            assert response.status_code in (302, 400, 403, 404, 422), (login, url, raw, response.status_code)
    with app.app_context():  # nothing was claimed, released, deleted or reassigned on the way
        row = db.session.get(Opportunity, kept)
        assert (row.location, row.owner_id, row.deleted_at) == ("library", org.users["sales_a"], None)


@pytest.mark.parametrize("page, shown", [("99999999999999999999", False), ("2147483648", False), ("-1", True)])
def test_admin_list_pages_past_any_row_are_empty_before_the_first_the_first(app, client, auth, org, page, shown):
    _enter(app, org, "扬州五环印花厂")
    auth.login("sales_a")
    response = client.get("/opportunities/", query_string={"page": page})
    assert response.status_code == 200
    assert ("扬州五环印花厂" in response.get_data(as_text=True)) is shown


# --- days ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bounds", ["0001-01-01 to 0001-01-02", "9999-12-31 to 9999-12-31", "1899-12-31 to 2026-01-01"])
def test_note_and_audit_day_filters_ignore_days_out_of_range(app, client, auth, org, bounds):
    auth.login("root")
    for url in ("/notes/", "/audit/"):
        response = client.get(url, query_string={"flt0_0": bounds})
        assert response.status_code == 200, (url, bounds)


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "9999-12-31T23:59:59"])
def test_api_next_contact_time_out_of_range_422(app, client, org, when):
    opportunity_id = _enter(app, org, "扬州五环印花厂")
    headers = _token(app, org.users["sales_a"])
    response = client.post(f"{API}/opportunities/{opportunity_id}/notes", headers=headers,
                           json={"method": "phone", "content": "约了下周", "maturity": 2, "next_contact_at": when})
    assert response.status_code == 422
    assert response.get_json()["fields"]["next_contact_at"] == zh(
        app, "The next contact time must fall between the years %(first)d and %(last)d.", first=1900, last=9998)


# --- control characters ----------------------------------------------------------------------


@pytest.mark.parametrize("q", ["扬州\x00", "\x00", "扬州\x1b", "a\x7fb"])
def test_api_search_with_a_control_character_422(app, client, org, q):
    headers = _token(app, org.users["sales_a"])
    response = client.get(f"{API}/opportunities", query_string={"q": q}, headers=headers)
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid" and body["fields"] == {"q": zh(app, CONTROL, field="q")}


@pytest.mark.parametrize("field", ["company", "contact", "address", "phone", "email", "source", "province"])
@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1f", "\x7f"])
def test_api_entry_with_a_control_character_422_naming_the_field(app, client, org, field, character):
    headers = _token(app, org.users["sales_a"])
    entry = {"company": "扬州五环印花厂", "contact": "王经理", "address": "文昌西路1号", "phone": "0514-2398577",
             "email": "wang@example.com", "source": "电话开发", "province": "江苏"}
    entry[field] = entry[field][:2] + character + entry[field][2:]
    response = client.post(f"{API}/opportunities", json=entry, headers=headers)
    assert response.status_code == 422
    label = {"company": "Company name", "contact": "Contact person", "address": "Address", "phone": "Landline",
             "email": "Email", "source": "Information source", "province": "Province"}[field]
    assert response.get_json()["fields"] == {field: zh(app, CONTROL, field=zh(app, label))}
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Opportunity)) == 0


def test_api_a_lone_surrogate_or_a_control_character_in_a_member_name_422(app, client, org):
    headers = _token(app, org.users["sales_a"])
    for raw in (b'{"company": "\\ud800\xe6\x89\xac\xe5\xb7\x9e"}', b'{"company": "abc", "x\\u0000": 1}'):
        response = client.post(f"{API}/opportunities", data=raw, content_type="application/json", headers=headers)
        assert response.status_code == 422, raw
        assert response.get_json()["error"] == "invalid"


def test_api_tabs_and_line_breaks_in_one_line_fields_are_spaces(app, client, org):
    headers = _token(app, org.users["sales_a"])
    response = client.post(f"{API}/opportunities", headers=headers,
                           json={"company": " 扬州五环\t印花厂\n", "address": "文昌西路\r\n1号", "contact": "王\t经理"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["company"], body["address"], body["contact"]) == ("扬州五环 印花厂", "文昌西路 1号", "王 经理")


def test_api_note_keeps_its_lines_and_tabs_but_refuses_nul(app, client, org):
    opportunity_id = _enter(app, org, "扬州五环印花厂")
    headers = _token(app, org.users["sales_a"])
    url = f"{API}/opportunities/{opportunity_id}/notes"
    refused = client.post(url, headers=headers, json={"method": "phone", "content": "约了\x00下周", "maturity": 2})
    assert refused.status_code == 422
    assert refused.get_json()["fields"] == {"content": zh(app, CONTROL, field="content")}
    written = client.post(url, headers=headers,
                          json={"method": "phone", "content": "王经理：\r\n\t下周看样品\n再联系", "maturity": 2})
    assert written.status_code == 201
    assert written.get_json()["content"] == "王经理：\n\t下周看样品\n再联系"


def test_pages_refuse_a_control_character_in_a_form_or_a_search_in_chinese(app, client, auth, org):
    response = client.post("/login", data={"username": "sales_a\x00", "password": "x",
                                            "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 422
    assert zh(app, CONTROL, field="username") in response.get_data(as_text=True)
    auth.login("sales_a")
    for url in ("/opportunities/?search=%E6%89%AC%00", "/pool/?search=%00", "/dedup/check.json?name=%E6%89%AC%00"):
        response = client.get(url)
        assert response.status_code == 422, url


def test_note_form_keeps_the_lines_of_its_content(app, client, auth, org):
    opportunity_id = _enter(app, org, "扬州五环印花厂")
    auth.login("sales_a")
    response = client.post("/opportunities/note/", data={
        "id": str(opportunity_id), "method": "phone", "content": "第一行\r\n\t第二行", "maturity": "2",
        "csrf_token": csrf_token(client, "/opportunities/")})
    assert response.status_code in (200, 302)
    with app.app_context():
        assert db.session.scalar(select(ContactNote.content)) == "第一行\n\t第二行"


def test_cli_import_drops_control_characters_in_cells(app, runner, org, tmp_path):
    """A spreadsheet's stray characters (vertical tab, escape, zero-width space) are not what its author
    typed: dropped, and the row imported. (A CSV with NUL bytes is no text file: refused whole, as before.)"""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["公司名称", "电话", "联系\x1f人", "地址"])
    writer.writerow(["扬州五环\x01印花厂", "0514-2398577", "王\x0b经理\u200b", "文昌西路\x1b1号"])
    path = tmp_path / "客户.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    result = runner.invoke(args=["opportunities", "import", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        row = db.session.scalars(select(Opportunity)).one()
        assert (row.company, row.contact, row.address) == ("扬州五环印花厂", "王经理", "文昌西路1号")


def test_the_rules_and_robots_pages_read_hostile_numbers_as_none(app, client, auth, org):
    """?company= of the pool rules and ?page= of the delivery log: a number beyond INTEGER's range (or none) is
    read as none, the head office's rules and the first page, never a 500 (SQLite cannot bind such a number)."""
    auth.login("root")
    for raw in HOSTILE_IDS:
        rules_page = client.get("/rules/", query_string={"company": raw})
        assert rules_page.status_code == 200 and 'name="company"' in rules_page.get_data(as_text=True), raw
        assert client.get("/notices/", query_string={"page": raw}).status_code == 200, raw
