"""Manual §三: check by name, landline and fax, then enter; the three old failures made impossible."""
import re

import pytest

from conftest import csrf_token, set_rules, zh
from models import Opportunity, ReviewConfirmation, User, db
from services.library import opportunities
from services.library.opportunities import OpportunityInput


def _place(app, company, location, owner=None, **fields):
    """Put a customer somewhere, as earlier work or another division would have (old data: no check)."""
    with app.app_context():
        actor = db.session.scalar(db.select(User).filter_by(login=owner)) if owner else None
        opportunity = opportunities.insert_opportunity(db.session, actor, OpportunityInput(company=company, **fields),
                                            location, None)
        db.session.commit()
        return opportunity.id


def _count(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Opportunity))


def _result_total(page):
    match = re.search(r'id="dedup-total">([^<]*)<', page)
    return match.group(1) if match else None


def test_the_manuals_example_step_by_step(client, auth, org, app):
    """扬州五环印花厂, 电话 0514——2398577, 传真 0514——2345586: three checks, then the form."""
    auth.login("sales_a")
    zero = zh(app, "%(n)d customers in all", n=0)
    by_name = client.get("/dedup/?name=五环印花&by=name").get_data(as_text=True)
    assert _result_total(by_name) == zero
    by_phone = client.get("/dedup/?phone=2398577&by=phone").get_data(as_text=True)
    assert _result_total(by_phone) == zero
    by_fax = client.get("/dedup/?fax=2345586&by=fax").get_data(as_text=True)
    assert _result_total(by_fax) == zero
    form = client.get("/opportunities/new/?company=扬州五环印花厂&phone=0514——2398577&fax=0514——2345586")
    assert 'value="扬州五环印花厂"' in form.get_data(as_text=True)
    token = csrf_token(client, "/opportunities/new/")
    saved = client.post("/opportunities/new/", data={
        "company": "扬州五环印花厂", "province": "江苏省", "city": "扬州市", "contact": "王经理",
        "phone": "0514——2398577", "fax": "0514——2345586", "source": "电话开发", "industry": "印刷",
        "csrf_token": token})
    assert saved.status_code == 302
    with app.app_context():
        entered = db.session.scalar(db.select(Opportunity).filter_by(company="扬州五环印花厂"))
        assert entered.owner.login == "sales_a" and entered.location == "library"
        assert entered.source.name == "电话开发" and entered.norm_city == "扬州市"
    listing = client.get("/opportunities/?show=all").get_data(as_text=True)
    assert "扬州五环印花厂" in listing
    # now each of the three searches finds it, and says so
    one = zh(app, "%(n)d customers in all", n=1)
    for query in ("name=五环印花&by=name", "phone=2398577&by=phone", "fax=2345586&by=fax"):
        page = client.get(f"/dedup/?{query}").get_data(as_text=True)
        assert _result_total(page) == one, query


def test_the_check_shows_where_it_lives_but_never_anothers_details(client, auth, org, app):
    _place(app, "上海市瑞丽服装有限公司", "library", owner="sales_b", phone="021-62345678", contact="赵小姐",
           mobile="13912345678")
    _place(app, "上海瑞丽服装厂", "public_pool", phone="021-62340000")
    auth.login("sales_a")
    page = client.get("/dedup/?name=瑞丽服装&by=name").get_data(as_text=True)
    assert _result_total(page) == zh(app, "%(n)d customers in all", n=2)
    assert "上海市瑞丽服装有限公司" in page and "上海瑞丽服装厂" in page
    assert "sales_b" in page and zh(app, "Public pool") in page
    for secret in ("赵小姐", "13912345678", "62345678"):
        assert secret not in page


def test_failure_1_other_divisions_block_entry_while_typing(client, auth, org, app):
    """佛山市南海区里水惠翔印刷厂 in the industry division: the live check says so before the form is filled."""
    _place(app, "佛山市南海区里水惠翔印刷厂", "industry", phone="0757-85601234")
    auth.login("sales_a")
    live = client.get("/dedup/check.json?name=里水惠翔印刷厂").get_json()
    assert live["verdict"] == "duplicate"
    assert live["hits"][0]["location"] == zh(app, "Industry division")
    before = _count(app)
    token = csrf_token(client, "/opportunities/new/")
    refused = client.post("/opportunities/new/", data={"company": "佛山市南海区里水惠翔印刷厂", "csrf_token": token})
    assert refused.status_code == 200 and zh(app, "Industry division") in refused.get_data(as_text=True)
    assert _count(app) == before


def test_failure_2_never_bound_silently_to_anothers_library(client, auth, org, app):
    """潍坊市的迪有限公司, 0536-8697676, in sales_b's library: refused, naming the library."""
    _place(app, "潍坊市的迪有限公司", "library", owner="sales_b", phone="0536-8697676")
    auth.login("sales_a")
    token = csrf_token(client, "/opportunities/new/")
    refused = client.post("/opportunities/new/", data={"company": "潍坊的迪有限公司", "phone": "8697676",
                                                       "csrf_token": token})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "sales_b" in body
    with app.app_context():
        rows = db.session.scalars(db.select(Opportunity)).all()
        assert [(o.company, o.owner.login) for o in rows] == [("潍坊市的迪有限公司", "sales_b")]


def test_failure_3_already_yours_links_to_it(client, auth, org, app):
    """泰安艺动力彩色印刷厂 already in the salesperson's own library: told so, with a link."""
    own_id = _place(app, "泰安艺动力彩色印刷厂", "library", owner="sales_a", phone="0538-6212345")
    auth.login("sales_a")
    token = csrf_token(client, "/opportunities/new/")
    refused = client.post("/opportunities/new/", data={"company": "泰安艺动力彩色印刷厂", "csrf_token": token})
    body = refused.get_data(as_text=True)
    assert zh(app, "%(company)s is already in your library.", company="泰安艺动力彩色印刷厂") in body
    assert f"/opportunities/details/?id={own_id}" in body
    assert _count(app) == 1


def test_the_manuals_rule_3_public_pool_and_anothers_library(client, auth, org, app):
    """上海瑞丽服装厂 in the pool and 上海市瑞丽服装有限公司 with another salesperson: not enterable."""
    _place(app, "上海瑞丽服装厂", "public_pool")
    auth.login("sales_a")
    token = csrf_token(client, "/opportunities/new/")
    refused = client.post("/opportunities/new/", data={"company": "上海市瑞丽服装有限公司", "csrf_token": token})
    assert zh(app, "Public pool") in refused.get_data(as_text=True)
    assert _count(app) == 1


def test_a_similar_name_needs_an_explicit_logged_confirmation(client, auth, org, app):
    _place(app, "上海瑞丽服装厂", "library", owner="sales_b")
    auth.login("sales_a")
    token = csrf_token(client, "/opportunities/new/")
    first = client.post("/opportunities/new/", data={"company": "上海睿丽服装厂", "csrf_token": token})
    assert first.status_code == 200 and 'id="confirm_review"' in first.get_data(as_text=True)
    assert _count(app) == 1
    confirmed = client.post("/opportunities/new/", data={"company": "上海睿丽服装厂", "confirm_review": "y",
                                                         "csrf_token": token})
    assert confirmed.status_code == 302
    with app.app_context():
        confirmation = db.session.scalar(db.select(ReviewConfirmation))
        assert confirmation.user_id == org.users["sales_a"] and "上海瑞丽服装厂" in confirmation.resembled


def test_the_library_cap_refuses_an_entry(client, auth, org, app):
    set_rules(app, cap=2)
    _place(app, "广州恒达五金厂", "library", owner="sales_a")
    _place(app, "深圳新光电子有限公司", "library", owner="sales_a")
    auth.login("sales_a")
    token = csrf_token(client, "/opportunities/new/")
    refused = client.post("/opportunities/new/", data={"company": "杭州绿源茶业有限公司", "csrf_token": token})
    assert zh(app, "Your library is full (%(n)d customers). Abandon or close some before entering new ones.",
              n=2) in refused.get_data(as_text=True)
    assert _count(app) == 2


@pytest.mark.parametrize("fields, field", [
    ({"company": ""}, "company"),
    ({"company": "   "}, "company"),
    ({"company": "厂"}, "company"),
    ({"company": "杭州绿源茶业有限公司", "phone": "abc-defg"}, "phone"),
    ({"company": "杭州绿源茶业有限公司" * 30}, "company"),
    ({"company": "杭州绿源茶业有限公司", "contact": "x" * 3_000_000}, "contact"),
])
def test_bad_input_is_refused_with_a_message_and_nothing_written(client, auth, org, app, fields, field):
    auth.login("sales_a")
    token = csrf_token(client, "/opportunities/new/")
    response = client.post("/opportunities/new/", data={**fields, "csrf_token": token})
    assert response.status_code in (200, 413)
    if response.status_code == 200:
        assert "invalid-feedback" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_my_opportunities_is_scoped_and_searchable_by_any_detail(client, auth, org, app):
    mine = _place(app, "扬州五环印花厂", "library", owner="sales_a", phone="0514-2398577", fax="0514-2345586",
                  contact="王经理")
    theirs = _place(app, "潍坊市的迪有限公司", "library", owner="sales_b", phone="0536-8697676")
    auth.login("sales_a")
    for term in ("五环", "2398577", "2345586", "王经理", "0514-2398577"):
        page = client.get(f"/opportunities/?show=all&search={term}").get_data(as_text=True)
        assert "扬州五环印花厂" in page, term
    assert "潍坊市的迪有限公司" not in client.get("/opportunities/?show=all").get_data(as_text=True)
    assert client.get(f"/opportunities/details/?id={theirs}").status_code == 404
    assert client.get(f"/opportunities/details/?id={mine}").status_code == 200
    auth.logout()
    auth.login("manager_a")  # manages 华南代理/销售一部, where sales_a works
    assert "扬州五环印花厂" in client.get("/opportunities/?show=all").get_data(as_text=True)
    assert client.get(f"/opportunities/details/?id={theirs}").status_code == 404


def test_the_main_display_shows_the_whole_library_with_todays_work_first(client, auth, org, app):
    """Issue 21: 我的机会 opens on 全部, the customers due today first with a 今日应联系 badge; the tab
    今日应联系 (?show=due) holds only those, as the bar counts them."""
    from datetime import timedelta

    from services import clock

    fresh = _place(app, "扬州五环印花厂", "library", owner="sales_a")  # new, never contacted: not due
    later = _place(app, "杭州绿源茶业有限公司", "library", owner="sales_a")
    due = _place(app, "苏州新天地纺织厂", "library", owner="sales_a")
    with app.app_context():
        opportunity = db.session.get(Opportunity, later)
        opportunity.last_contact_at = clock.now()
        opportunity.next_contact_at = clock.now() + timedelta(days=3)
        db.session.get(Opportunity, due).next_contact_at = clock.now() - timedelta(hours=1)
        db.session.commit()
    auth.login("sales_a")
    everything = client.get("/opportunities/").get_data(as_text=True)
    assert all(name in everything for name in ("扬州五环印花厂", "杭州绿源茶业有限公司", "苏州新天地纺织厂"))
    assert everything.index("苏州新天地纺织厂") < everything.index("扬州五环印花厂")  # due first, then newest first
    badge = f'<span class="badge badge-primary due-today">{zh(app, "Due for contact today")}</span>'
    assert everything.count(badge) == 2  # the due one, in the table and in its card
    today = client.get("/opportunities/?show=due").get_data(as_text=True)
    assert "苏州新天地纺织厂" in today and "扬州五环印花厂" not in today and "杭州绿源茶业有限公司" not in today
    assert "杭州绿源茶业有限公司" in client.get("/opportunities/?show=all").get_data(as_text=True)  # old links
    assert fresh != later


def test_claim_from_the_public_pool_and_the_cap(client, auth, org, app):
    first = _place(app, "广州恒达五金厂", "public_pool")
    second = _place(app, "深圳新光电子有限公司", "public_pool")
    set_rules(app, cap=1)
    auth.login("sales_a")
    assert "广州恒达五金厂" in client.get("/pool/").get_data(as_text=True)
    token = csrf_token(client, "/pool/")
    client.post("/pool/claim/", data={"id": first, "csrf_token": token})
    refused = client.post("/pool/claim/", data={"id": second, "csrf_token": token}, follow_redirects=True)
    assert zh(app, "Your library is full (%(n)d customers). Abandon or close some before claiming.", n=1) \
        in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Opportunity, first).owner_id == org.users["sales_a"]
        assert db.session.get(Opportunity, second).location == "public_pool"
    assert client.post("/pool/claim/", data={"id": second}).status_code == 400  # no CSRF token


# --- issue 14: the check page says what the save will do -----------------------------------------

def _offers_entry(client, name):
    page = client.get(f"/dedup/?name={name}&by=name").get_data(as_text=True)
    return 'id="dedup-enter"' in page, page


def _save_as_the_button_would(client, name):
    """The form as 录入此客户 fills it, saved with the resemblance confirmed: does the save accept?"""
    token = csrf_token(client, "/opportunities/new/")
    return client.post("/opportunities/new/", data={"company": name, "confirm_review": "y", "csrf_token": token})


@pytest.mark.parametrize("existing, keyword, accepts", [
    (("佛山市南海区里水惠翔印刷厂", "telesales", None), "惠翔印刷", False),  # problem 1: another division
    (("佛山市南海区里水惠翔印刷厂", "industry", None), "惠翔印刷", False),
    (("佛山市南海区里水惠翔印刷厂", "public_pool", None), "惠翔", True),  # only similar: confirm and enter
    (("佛山市南海区里水惠翔印刷厂", "public_pool", None), "惠翔印刷", False),  # the trade name, 里水 a town
    (("上海瑞丽服装厂", "library", "sales_b"), "瑞丽服装", False),  # the same trade name, no place: a duplicate
    (("泰安艺动力彩色印刷厂", "library", "sales_a"), "艺动力彩色印刷", False),  # already one's own
    (("扬州五环印花厂", "library", "sales_b"), "杭州绿源茶业", True),  # nothing in common
])
def test_the_check_page_offers_entry_only_when_the_save_accepts(client, auth, org, app, existing, keyword, accepts):
    company, location, owner = existing
    _place(app, company, location, owner=owner)
    auth.login("sales_a")
    offered, page = _offers_entry(client, keyword)
    assert offered == accepts
    live = client.get(f"/dedup/check.json?name={keyword}").get_json()
    assert live["outcome"] in (("enter", "confirm") if accepts else ("duplicate", "yours"))
    before = _count(app)
    saved = _save_as_the_button_would(client, keyword)
    assert (saved.status_code == 302) == accepts and _count(app) == before + accepts
    if not accepts:  # the page said why, in the words the save uses
        assert live["message"] and live["message"] in saved.get_data(as_text=True)


def test_the_check_page_says_when_the_library_is_full(client, auth, org, app):
    set_rules(app, cap=1)
    _place(app, "广州恒达五金厂", "library", owner="sales_a")
    auth.login("sales_a")
    offered, page = _offers_entry(client, "杭州绿源茶业")
    assert not offered
    assert zh(app, "Your library is full (%(n)d customers). Abandon or close some before entering new ones.",
              n=1) in page


def test_a_name_confirmed_as_another_company_is_not_a_duplicate_of_its_namesake(client, auth, org, app):
    """杭州瑞丽服装厂 confirmed as another company than 上海瑞丽服装厂: the keyword 瑞丽服装 finds it as
    similar (it could be either), 上海瑞丽服装厂 still as the duplicate that refuses the entry."""
    shanghai = _place(app, "上海瑞丽服装厂", "library", owner="sales_b")
    auth.login("sales_a")
    token = csrf_token(client, "/opportunities/new/")
    confirmed = client.post("/opportunities/new/", data={"company": "杭州瑞丽服装厂", "province": "浙江省",
                                                         "confirm_review": "y", "csrf_token": token})
    assert confirmed.status_code == 302
    live = client.get("/dedup/check.json?name=瑞丽服装").get_json()
    verdicts = {hit["company"]: (hit["verdict"], hit["blocks"]) for hit in live["hits"]}
    assert verdicts == {"上海瑞丽服装厂": ("duplicate", True), "杭州瑞丽服装厂": ("review", False)}
    assert live["outcome"] == "duplicate" and "sales_b" in live["message"]
    hangzhou = next(hit for hit in live["hits"] if hit["company"] == "杭州瑞丽服装厂")
    assert hangzhou["reasons"][0] == zh(app, "same trade name %(name)s, confirmed as another company of that name",
                                        name="瑞丽服装")  # in the catalog's words, whole
    assert hangzhou["reason_codes"][0] == {"code": "confirmed_other", "params": {"name": "瑞丽服装"}}
    # with a place the names are told apart as before, and Hangzhou's own name stays a duplicate
    assert client.get("/dedup/check.json?name=杭州瑞丽服装厂").get_json()["outcome"] == "yours"
    with app.app_context():  # the namesake gone, the confirmed record alone only resembles a placeless name
        db.session.get(Opportunity, shanghai).deleted_at = db.func.now()
        db.session.commit()
    assert client.get("/dedup/check.json?name=瑞丽服装").get_json()["outcome"] == "confirm"


# --- issue 21: the live check speaks where one types --------------------------------------------------

def test_the_live_check_says_each_fields_own_word(client, auth, org, app):
    """Each key field typed gets its own word (shown under it): 无重复, its matches, or its problem."""
    _place(app, "扬州五环印花厂", "library", owner="sales_b", phone="0514-2398577", mobile="13905142398")
    _place(app, "泰安艺动力彩色印刷厂", "library", owner="sales_a")
    auth.login("sales_a")
    fresh = client.get("/dedup/check.json?name=宁波江北甬达五金厂").get_json()
    assert fresh["total"] == 0
    assert fresh["fields"] == {"company": {"state": "none", "message": "无重复", "count": 0}}
    by_number = client.get("/dedup/check.json?name=宁波江北甬达五金厂&phone=0514-2398577&fax=0574-87654321"
                           "&mobile=13700000000").get_json()
    fields = by_number["fields"]
    assert {name: said["state"] for name, said in fields.items()} == {
        "company": "none", "phone": "matches", "fax": "none", "mobile": "none"}
    assert fields["phone"]["tone"] == "blocks" and fields["phone"]["message"] == zh(
        app, "Already a customer: %(n)d listed below. It cannot be entered.", n=1)
    by_mobile = client.get("/dedup/check.json?phone=0574-87000000&mobile=139 0514 2398").get_json()["fields"]
    assert by_mobile["mobile"]["state"] == "matches" and by_mobile["phone"]["state"] == "none"
    own = client.get("/dedup/check.json?name=泰安艺动力彩色印刷厂").get_json()["fields"]["company"]
    assert own["tone"] == "own" and own["message"] == zh(app, "Already in your library, listed below.")
    _place(app, "上海瑞丽服装厂", "library", owner="sales_b")
    similar = client.get("/dedup/check.json?name=上海睿丽服装厂").get_json()  # a question, not a refusal
    assert similar["outcome"] == "confirm" and similar["fields"]["company"] == {
        "state": "matches", "tone": "similar", "count": 1,
        "message": zh(app, "%(n)d similar customers listed below: check them.", n=1)}
    bad = client.get("/dedup/check.json?name=宁波甬达&phone=12").get_json()["fields"]
    assert bad["phone"]["state"] == "problem" and bad["phone"]["message"]


def test_the_entry_form_puts_the_check_right_under_the_company_name(client, auth, org, app):
    """Without JavaScript too: a refused save shows the matches right after 公司名称, before 电话, and each
    checked field names its own line (aria-describedby) that screen readers hear (aria-live)."""
    _place(app, "扬州五环印花厂", "library", owner="sales_b")
    auth.login("sales_a")
    page = client.get("/opportunities/new/").get_data(as_text=True)
    for name in ("company", "phone", "fax", "mobile"):
        assert re.search(rf'<input[^>]*aria-describedby="{name}-check"[^>]*id="{name}"|'
                         rf'<input[^>]*id="{name}"[^>]*aria-describedby="{name}-check"', page), name
        assert re.search(rf'<div id="{name}-check" class="crm-field-check small" role="status" aria-live="polite">',
                         page), name
    token = csrf_token(client, "/opportunities/new/")
    refused = client.post("/opportunities/new/", data={"company": "扬州五环印花厂", "csrf_token": token})
    html = refused.get_data(as_text=True)
    company, panel, phone = html.index('id="company"'), html.index('id="live-check"'), html.index('id="phone"')
    assert company < html.index('id="company-check"') < panel < phone
    assert "扬州五环印花厂" in html[panel:phone] and "sales_b" in html[panel:phone]
