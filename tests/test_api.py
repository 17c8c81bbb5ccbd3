"""The JSON API of docs/contract.md (/api/v1), used as a client would: Bearer tokens, JSON in and out.

Every answer a test receives is also checked against the API's own OpenAPI document
(`/api/v1/openapi.json`): the status must be documented for that call and the body must
match the documented schema, so the document cannot drift from what the code answers.
"""
import json
from datetime import datetime

import pytest
from openapi_spec_validator import validate as validate_spec

from conftest import set_rules, zh
from helpers import API, NOT_FOUND
from models import Opportunity, ReviewConfirmation, User, db
from services.library import opportunities as opps
from services.people import accounts
from views.api import openapi

YANGZHOU = {"company": "扬州五环印花厂", "phone": "0514——2398577", "fax": "0514——2345586",
            "province": "江苏", "city": "扬州", "contact": "王经理", "industry": "印染", "source": "电话开发",
            "key_customer": True}


def _enter(api_client, **fields):
    return api_client.post("/opportunities", {"company": fields.pop("company"), **fields})


def _pool(app, company, **fields):
    """An opportunity in the public pool, entered as an import does (no actor)."""
    with app.app_context():
        data = opps.OpportunityInput.from_mapping({"company": company, **fields})
        opportunity = opps.enter(db.session, None, data, location="public_pool")
        db.session.commit()
        return opportunity.id


# --- the document ---------------------------------------------------------------------


def test_openapi_document_is_valid_and_needs_no_token(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    validate_spec(doc)
    assert doc["openapi"].startswith("3.")
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert doc["paths"]["/openapi.json"]["get"]["security"] == []


def test_every_api_route_is_in_the_document_and_nothing_else(app, client):
    doc = client.get(f"{API}/openapi.json").get_json()
    routes = {(openapi.path_of(rule.rule)[0], method.lower()) for rule, method in openapi.api_rules(app)}
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert routes, "no API routes found"
    assert routes - documented == set(), "routes without an OpenAPI fragment (@operation)"
    assert documented - routes == set()
    for path in ("/dedup", "/opportunities", "/opportunities/{opportunity_id}",
                 "/opportunities/{opportunity_id}/claim"):
        assert path in doc["paths"], path
    assert doc["paths"]["/opportunities/{opportunity_id}"]["get"]["parameters"][0]["schema"]["type"] == "integer"


# --- authentication, errors and language ----------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer not-a-token", "Basic c2FsZXM6cHc=",
                                           "Token abc"])
def test_without_a_valid_token_401_json(app, client, org, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get(f"{API}/opportunities", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Set-Cookie" not in response.headers


def test_errors_are_in_chinese_by_default(app, api):
    sales = api("sales_a")
    response = sales.get("/opportunities/999999")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found", "message": zh(app, NOT_FOUND)}
    bad = sales.post("/opportunities", data="{not json")
    assert bad.status_code == 400
    assert bad.get_json() == {"error": "bad_request", "message": zh(app, "The request could not be understood.")}
    with app.test_request_context():
        from flask_babel import force_locale, gettext

        with force_locale("zh_Hans_CN"):
            expected = gettext("A valid API token is needed: send the header Authorization: Bearer TOKEN.")
    assert api(None).get("/opportunities").get_json()["message"] == expected


def test_error_language_follows_the_browser_then_the_users_choice(app, api):
    english = api("sales_a", headers={"Accept-Language": "en-US,en;q=0.9"}).get("/opportunities/999999")
    assert english.get_json()["message"] == NOT_FOUND
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(login="sales_a")).locale = "zh_Hant_TW"
        db.session.commit()
    traditional = api("sales_a", headers={"Accept-Language": "en"}).get("/opportunities/999999")
    from test_i18n import text

    assert traditional.get_json()["message"] == text("zh_Hant_TW", NOT_FOUND) != zh(app, NOT_FOUND)


def test_unknown_api_routes_answer_404_json(client, api):
    for path in ("/api/v1/nothing-here", "/api/v2/opportunities", "/api/"):
        response = client.get(path)
        assert response.status_code == 404 and response.is_json, path
        assert response.get_json()["error"] == "not_found"
    wrong_method = client.delete(f"{API}/opportunities")
    assert wrong_method.status_code == 405 and wrong_method.is_json


def test_a_locked_or_deactivated_account_loses_its_token(app, api):
    sales = api("sales_a")
    assert sales.get("/opportunities").status_code == 200
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(login="sales_a"))
        accounts.deactivate(db.session, None, user)
        db.session.commit()
    assert sales.get("/opportunities").status_code == 401


def test_api_calls_need_no_csrf_token_and_ignore_a_session(app, client, api, auth):
    auth.login("sales_b")  # a browser session in the same client: the API does not use it
    response = api("sales_a").post("/opportunities", YANGZHOU)
    assert response.status_code == 201 and response.get_json()["owner"] == "sales_a"
    assert client.get(f"{API}/opportunities").status_code == 401  # the cookie alone is no credential


# --- entering (录入机会) -------------------------------------------------------------------


def test_enter_the_manuals_company_and_read_it_back(app, api):
    sales = api("sales_a")
    response = _enter(sales, **YANGZHOU)
    assert response.status_code == 201
    opp = response.get_json()
    assert opp["company"] == "扬州五环印花厂" and opp["location"] == "library" and opp["owner"] == "sales_a"
    assert opp["phone"] == "0514——2398577" and opp["fax"] == "0514——2345586"
    # the short names typed are kept in full (services/checking/places.py)
    assert opp["province"] == "江苏省" and opp["city"] == "扬州市" and opp["source"] == "电话开发"
    assert opp["key_customer"] is True and opp["maturity"] is None and opp["mobile"] is None
    assert opp["last_contact_at"] is None and opp["next_contact_at"] is None
    assert datetime.fromisoformat(opp["entered_at"]).utcoffset() is not None
    assert response.headers["Location"].endswith(f"{API}/opportunities/{opp['id']}")
    again = sales.get(f"/opportunities/{opp['id']}")
    assert again.status_code == 200 and again.get_json() == {**opp, "notes": []}


def test_the_same_company_by_landline_or_fax_without_area_code_is_refused(app, api):
    assert _enter(api("sales_a"), **YANGZHOU).status_code == 201
    for fields in ({"company": "五环印花有限公司", "phone": "2398577"}, {"company": "某某贸易公司", "fax": "2345586"},
                   {"company": "另一家公司", "phone": "2345586"}):
        refused = _enter(api("sales_b"), **fields)
        assert refused.status_code == 409, fields
        body = refused.get_json()
        assert body["error"] == "duplicate"
        assert body["matches"][0]["company"] == "扬州五环印花厂" and body["matches"][0]["owner"] == "sales_a"
        assert "sales_a" in body["message"] and "扬州五环印花厂" in body["message"]
    assert api("sales_b").get("/opportunities").get_json()["total"] == 0  # nothing merged or bound silently


def test_manual_ruili_is_refused_naming_where_and_whose(app, api):
    first = _enter(api("sales_a"), company="上海瑞丽服装厂", province="上海", city="上海")
    assert first.status_code == 201
    refused = _enter(api("sales_b"), company="上海市瑞丽服装有限公司", phone="021-62345678")
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["error"] == "duplicate"
    match = body["matches"][0]
    assert match["opportunity_id"] == first.get_json()["id"]
    assert (match["company"], match["location"], match["owner"]) == ("上海瑞丽服装厂", "library", "sales_a")
    assert "name" in match["matched_on"] and 0 <= match["score"] <= 1
    assert "上海瑞丽服装厂" in body["message"] and "sales_a" in body["message"]
    # The owner is told it is already theirs, with the record's id in the match.
    own = _enter(api("sales_a"), company="上海市瑞丽服装有限公司")
    assert own.status_code == 409 and own.get_json()["matches"][0]["owner"] == "sales_a"
    assert own.get_json()["message"] != body["message"]


@pytest.mark.parametrize("company", ["上海睿丽服装厂", "上海瑞丽达服装厂"])  # a sound-alike, one 字号 inside another
def test_a_resemblance_needs_confirm_review_then_enters_and_is_logged(app, api, company):
    assert _enter(api("sales_a"), company="上海瑞丽服装厂", province="上海", city="上海").status_code == 201
    sales = api("sales_b")
    review = _enter(sales, company=company, province="上海", city="上海")
    assert review.status_code == 409
    body = review.get_json()
    assert body["error"] == "review_required" and body["matches"][0]["company"] == "上海瑞丽服装厂"
    assert body["matches"][0]["owner"] == "sales_a" and body["matches"][0]["verdict"] == "review"
    unconfirmed = _enter(sales, company=company, province="上海", city="上海", confirm_review=False)
    assert unconfirmed.status_code == 409
    confirmed = _enter(sales, company=company, province="上海", city="上海", confirm_review=True)
    assert confirmed.status_code == 201 and confirmed.get_json()["owner"] == "sales_b"
    with app.app_context():
        log = db.session.scalar(db.select(ReviewConfirmation))
        assert log.opportunity_id == confirmed.get_json()["id"] and "上海瑞丽服装厂" in log.resembled
        assert log.user_id == db.session.scalar(db.select(User.id).filter_by(login="sales_b"))
    # confirm_review never lets a duplicate through
    duplicate = _enter(sales, company="上海市瑞丽服装有限公司", confirm_review=True)
    assert duplicate.status_code == 409 and duplicate.get_json()["error"] == "duplicate"


@pytest.mark.parametrize("body, field", [
    ({}, "company"),
    ({"company": ""}, "company"),
    ({"company": "   "}, "company"),
    ({"company": "扬州五环印花厂", "phone": "abc"}, "phone"),
    ({"company": "扬州五环印花厂", "province": "火星"}, "province"),
    ({"company": "扬州五环印花厂", "email": "not an address"}, "email"),
    ({"company": "扬州五环印花厂", "source": "不存在的来源"}, "source"),
    ({"company": 12345}, "company"),
    ({"company": "扬州五环印花厂", "phone": 5142398577}, "phone"),
    ({"company": "扬州五环印花厂", "contact": ["a"]}, "contact"),
    ({"company": "扬州五环印花厂", "key_customer": "yes"}, "key_customer"),
    ({"company": "扬州五环印花厂", "confirm_review": 1}, "confirm_review"),
    ({"company": "扬州五环印花厂" + "厂" * 300}, "company"),
])
def test_invalid_entries_answer_422_with_fields(api, body, field):
    response = api("sales_a").post("/opportunities", body)
    assert response.status_code == 422, response.get_json()
    answer = response.get_json()
    assert answer["error"] == "invalid" and field in answer["fields"] and answer["fields"][field]


def test_a_3mb_field_is_422_not_500(api):
    sales = api("sales_a")
    for field, value in (("company", "扬" * (1024 * 1024)), ("address", "x" * (3 * 1024 * 1024)),
                         ("phone", "1" * (3 * 1024 * 1024)), ("province", "江" * (1024 * 1024)),
                         ("email", "a" * (3 * 1024 * 1024) + "@example.com"), ("source", "x" * (3 * 1024 * 1024))):
        body = json.dumps({"company": "扬州五环印花厂", field: value}, ensure_ascii=False).encode()
        assert len(body) > 3 * 1024 * 1024
        response = sales.post("/opportunities", data=body)
        assert response.status_code == 422, field
        assert field in response.get_json()["fields"]
    assert sales.get("/dedup", name="扬" * 300_000).status_code == 422
    too_large = sales.post("/opportunities", data=b'{"company": "' + b"x" * (17 * 1024 * 1024) + b'"}')
    assert too_large.status_code == 413 and too_large.get_json()["error"] == "too_large"


@pytest.mark.parametrize("data", ["{not json", "", "[1, 2]", '"扬州五环印花厂"', "null", "\xff\xfe"])
def test_a_body_that_is_not_a_json_object_answers_400(api, data):
    response = api("sales_a").post("/opportunities", data=data.encode("latin-1") if data == "\xff\xfe" else data)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"


def test_unknown_members_are_ignored(api):
    response = api("sales_a").post("/opportunities", {**YANGZHOU, "colour": "red"})
    assert response.status_code == 201


@pytest.mark.parametrize("login", ["admin_a", "root"])
def test_admins_have_no_library_403(api, login, app):
    response = _enter(api(login), **YANGZHOU)
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    pool_id = _pool(app, "南京某某公司")
    assert api(login).post(f"/opportunities/{pool_id}/claim").status_code == 403


@pytest.mark.parametrize("login", ["super_a", "manager_a"])
def test_supervisors_and_managers_enter_into_their_own_library(api, login):
    response = _enter(api(login), **YANGZHOU)
    assert response.status_code == 201 and response.get_json()["owner"] == login


def test_a_full_library_refuses_entry_with_the_limit(app, api):
    set_rules(app, cap=1)
    sales = api("sales_a")
    assert _enter(sales, **YANGZHOU).status_code == 201
    full = _enter(sales, company="杭州某某丝绸有限公司")
    assert full.status_code == 409
    assert full.get_json()["error"] == "library_full" and full.get_json()["limit"] == 1
    assert _enter(api("sales_b"), company="杭州某某丝绸有限公司").status_code == 201  # a cap per library


# --- the duplicate check ------------------------------------------------------------------


def test_dedup_shows_where_and_whose_never_contact_details(app, api):
    _enter(api("sales_a"), **YANGZHOU)
    pool_id = _pool(app, "上海瑞丽服装厂", province="上海", city="上海", phone="021-62345678", contact="李四")
    check = api("sales_b")
    by_phone = check.get("/dedup", phone="2398577").get_json()
    assert by_phone["verdict"] == "duplicate"
    assert by_phone["matches"][0]["matched_on"] == ["phone"] and by_phone["matches"][0]["owner"] == "sales_a"
    assert check.get("/dedup", fax="0514-2345586").get_json()["matches"][0]["matched_on"] == ["fax"]
    by_name = check.get("/dedup", name="上海市瑞丽服装有限公司").get_json()
    assert by_name["verdict"] == "duplicate"
    match = by_name["matches"][0]
    assert (match["opportunity_id"], match["location"], match["owner"]) == (pool_id, "public_pool", None)
    assert set(match) <= {"opportunity_id", "company", "location", "owner", "matched_on", "score", "verdict",
                          "reasons", "reason_codes"}
    assert "row" not in by_name
    text = json.dumps(by_name, ensure_ascii=False) + json.dumps(by_phone, ensure_ascii=False)
    assert "李四" not in text and "62345678" not in text and "王经理" not in text
    other_city = check.get("/dedup", name="瑞丽服装厂", province="北京", city="北京").get_json()
    assert other_city["verdict"] == "review"
    # what the save would do, as the page says it (the one front door, services/checking/entry_check.py)
    assert other_city["outcome"] == "confirm" and other_city["message"]
    assert check.get("/dedup", name="完全不同的名字公司").get_json() == {"verdict": "new", "matches": [],
                                                                 "truncated": False, "outcome": "enter",
                                                                 "message": ""}


@pytest.mark.parametrize("params, field", [
    ({}, "name"), ({"province": "上海", "city": "上海"}, "name"), ({"phone": "abc"}, "phone"),
    ({"name": "瑞丽", "city": "不存在市"}, "city"), ({"name": "x"}, "name"),
])
def test_dedup_needs_a_name_phone_or_fax(api, params, field):
    response = api("sales_a").get("/dedup", **params)
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_admins_may_check_too(api):
    assert api("admin_b").get("/dedup", name="扬州五环印花厂").status_code == 200


# --- who sees what ---------------------------------------------------------------------------


def test_scoping_of_one_opportunity(app, api):
    opp_id = _enter(api("sales_a"), **YANGZHOU).get_json()["id"]
    absent = api("sales_b").get("/opportunities/999999")
    hidden = api("sales_b").get(f"/opportunities/{opp_id}")
    assert hidden.status_code == absent.status_code == 404
    assert hidden.get_json() == absent.get_json()
    for login in ("manager_a", "super_a", "admin_a", "root"):
        response = api(login).get(f"/opportunities/{opp_id}")
        assert response.status_code == 200, login
        assert response.get_json()["phone"] == "0514——2398577"
    assert api("admin_b").get(f"/opportunities/{opp_id}").status_code == 404


def test_the_list_shows_only_what_the_caller_may_see(app, api):
    a_id = _enter(api("sales_a"), **YANGZHOU).get_json()["id"]
    m_id = _enter(api("manager_a"), company="广州某某电子有限公司", province="广东", city="广州").get_json()["id"]
    b_id = _enter(api("sales_b"), company="杭州某某丝绸有限公司", province="浙江", city="杭州").get_json()["id"]
    _pool(app, "上海瑞丽服装厂", province="上海", city="上海")

    def ids(login, **params):
        body = api(login).get("/opportunities", **params).get_json()
        assert body["total"] == len(body["items"]) or params.get("per_page")
        return {item["id"] for item in body["items"]}

    assert ids("sales_a") == {a_id}
    assert ids("sales_b") == {b_id}
    assert ids("manager_a") == {a_id, m_id}
    assert ids("super_a") == {a_id}  # manages the 电话组 only
    assert ids("admin_a") == {a_id, m_id}
    assert ids("admin_b") == {b_id}
    assert len(ids("root")) == 4


def test_search_by_any_known_detail(app, api):
    sales = api("sales_a")
    a_id = _enter(sales, **YANGZHOU).get_json()["id"]
    other = _enter(sales, company="上海瑞丽服装厂", province="上海", city="上海", mobile="13800138000",
                   contact="李四").get_json()["id"]
    _enter(api("sales_b"), company="扬州某某印花有限公司", phone="0514-7654321")  # not sales_a's

    def found(q):
        body = sales.get("/opportunities", q=q).get_json()
        assert body["total"] == len(body["items"])
        return {item["id"] for item in body["items"]}

    assert found("五环") == {a_id}
    assert found("扬州五环印花厂") == {a_id}
    assert found("揚州五環") == {a_id}  # Traditional folds to Simplified
    assert found("印花") == {a_id}  # sales_b's 印花 company stays out of sight
    assert found("瑞丽") == {other}
    assert found("2398577") == {a_id}  # landline without area code
    assert found("0514-2398577") == {a_id}
    assert found("2345586") == {a_id}  # fax
    assert found("13800138000") == {other}
    assert found("7654321") == set()
    assert found("王经理") == {a_id}  # contact
    assert found("李") == {other}
    assert found("100%_") == set()  # LIKE wildcards are literal
    assert found("") == {a_id, other}


def test_pagination(api):
    sales = api("sales_a")
    names = ["南京紫金电子有限公司", "苏州园林设计院", "无锡太湖渔业合作社"]
    ids = [_enter(sales, company=name).get_json()["id"] for name in names]
    first = sales.get("/opportunities", per_page=2).get_json()
    second = sales.get("/opportunities", per_page=2, page=2).get_json()
    assert first["total"] == second["total"] == 3
    assert (first["page"], first["per_page"], second["page"]) == (1, 2, 2)
    assert [i["id"] for i in first["items"] + second["items"]] == list(reversed(ids))  # newest first
    assert sales.get("/opportunities", page=9).get_json()["items"] == []
    for params in ({"page": "0"}, {"page": "x"}, {"page": "-1"}, {"per_page": "1000"}, {"per_page": "0"}):
        response = sales.get("/opportunities", **params)
        assert response.status_code == 422 and set(response.get_json()["fields"]) == set(params)


# --- claiming from the public pool (公海) ---------------------------------------------------


def test_claim_from_the_public_pool(app, api):
    pool_id = _pool(app, "上海瑞丽服装厂", province="上海", city="上海", contact="李四")
    # everyone browses the public pool (its contacts masked where the company says so: tests/test_pool_rules.py)
    pooled = api("sales_b").get(f"/opportunities/{pool_id}")
    assert pooled.status_code == 200 and pooled.get_json()["location"] == "public_pool"
    claimed = api("sales_b").post(f"/opportunities/{pool_id}/claim")
    assert claimed.status_code == 200
    body = claimed.get_json()
    assert (body["id"], body["location"], body["owner"], body["contact"]) == (pool_id, "library", "sales_b", "李四")
    assert api("sales_b").get(f"/opportunities/{pool_id}").status_code == 200
    again = api("sales_a").post(f"/opportunities/{pool_id}/claim")  # no longer in the pool
    assert again.status_code == 404 and again.get_json()["error"] == "not_found"
    assert api("sales_a").post("/opportunities/999999/claim").status_code == 404
    with app.app_context():
        opportunity = db.session.get(Opportunity, pool_id)
        assert opportunity.owner.login == "sales_b" and opportunity.location == "library"


def test_claim_at_the_cap_is_refused_with_the_limit(app, api):
    set_rules(app, cap=1)
    pool_id = _pool(app, "上海瑞丽服装厂", province="上海", city="上海")
    sales = api("sales_a")
    assert _enter(sales, **YANGZHOU).status_code == 201
    full = sales.post(f"/opportunities/{pool_id}/claim")
    assert full.status_code == 409
    assert full.get_json()["error"] == "library_full" and full.get_json()["limit"] == 1
    with app.app_context():
        assert db.session.get(Opportunity, pool_id).location == "public_pool"
    assert api("sales_b").post(f"/opportunities/{pool_id}/claim").status_code == 200
