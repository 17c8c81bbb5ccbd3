"""A fair public pool (issue 25): per-company pool rules on /rules/ and `GET`/`PATCH /rules`, the claim's refusals
(daily limit, cooling-off across a merge, embargo on new arrivals), locks, masked contacts, days before the return.

Through the pages (with CSRF) and the API, in Chinese; time is frozen through services/clock.py.
"""
from datetime import timedelta

import pytest

from conftest import csrf_token, post_form, set_rules, zh
from helpers import (
    MONDAY,
    ApiClient,
    FrozenClock,
    api_token,
    at_once,
    own_customer,
    pool_customers,
    save_pool_rules,
    user_named,
)
from models import AuditEntry, Opportunity, OpportunityEvent, PoolRules, db
from services import clock
from services.duplicates import merges
from services.library import stats


@pytest.fixture
def frozen(monkeypatch):
    """clock.now() at MONDAY, moved on by `frozen.move(hours=...)`."""
    return FrozenClock(monkeypatch)


def _claim(client, opportunity_id):
    response = client.post(f"/opportunities/{opportunity_id}/claim")
    return response.status_code, response.get_json()


def _location(app, opportunity_id):
    with app.app_context():
        o = db.session.get(Opportunity, opportunity_id)
        return o.location, o.owner.login if o.owner else None


# --- the rules: GET / PATCH /rules and the page ---------------------------------------------


def test_rules_api_per_company_with_the_head_office_as_default(api, app):
    root, admin_a, sales_a, sales_b = api("root"), api("admin_a"), api("sales_a"), api("sales_b")
    defaults = sales_a.get("/rules").get_json()
    assert defaults["daily_claim_limit"] == 0 and defaults["mask_pool_contacts"] is False
    assert defaults["pool_rules_from"] == "defaults" and defaults["library_cap"] == 130
    changed = root.client.patch("/api/v1/rules", json={"daily_claim_limit": 5, "reclaim_cooldown_days": 30},
                                headers={"Authorization": f"Bearer {root.token}"})
    assert changed.status_code == 200 and changed.get_json()["daily_claim_limit"] == 5
    # both companies take the head office's until one has its own
    assert sales_b.get("/rules").get_json()["daily_claim_limit"] == 5
    own = admin_a.client.patch("/api/v1/rules", json={"daily_claim_limit": 2, "mask_pool_contacts": True},
                               headers={"Authorization": f"Bearer {admin_a.token}"})
    assert own.status_code == 200
    body = sales_a.get("/rules").get_json()
    assert (body["daily_claim_limit"], body["reclaim_cooldown_days"], body["mask_pool_contacts"],
            body["pool_rules_from"], body["company"]) == (2, 30, True, "own", "华南代理")
    assert sales_b.get("/rules").get_json()["daily_claim_limit"] == 5
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).filter_by(action="rules_changed", actor_login="admin_a"))
        assert '"daily_claim_limit": {"old": 5, "new": 2}' in entry.details


def test_rules_api_refuses_out_of_range_and_out_of_reach(api, app):
    admin_a, sales_a, root = api("admin_a"), api("sales_a"), api("root")

    def patch(client, body, **params):
        return client.client.patch("/api/v1/rules", json=body, query_string=params,
                                   headers={"Authorization": f"Bearer {client.token}"})

    bad = patch(admin_a, {"daily_claim_limit": -1, "lock_limit": "many", "mask_pool_contacts": 1})
    assert bad.status_code == 422 and bad.get_json()["error"] == "invalid"
    assert set(bad.get_json()["fields"]) == {"daily_claim_limit", "lock_limit", "mask_pool_contacts"}
    assert bad.get_json()["fields"]["daily_claim_limit"] == zh(
        app, "%(field)s: a whole number from %(low)d to %(high)d.",
        field=zh(app, "Claims per person and day (0: no limit)"), low=0, high=1000)
    assert patch(sales_a, {"daily_claim_limit": 1}).status_code == 403
    assert patch(admin_a, {"library_cap": 50}).status_code == 403  # the global rules are the subsystem admin's
    assert patch(root, {"library_cap": 0}).get_json()["fields"]["library_cap"]
    assert patch(root, {"library_cap": 50}).get_json()["library_cap"] == 50
    assert patch(root, {"lock_limit": 4}, company="华东代理").get_json()["company"] == "华东代理"
    assert api("sales_b").get("/rules").get_json()["lock_limit"] == 4
    assert root.get("/rules", company="没有这家").status_code == 404
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(PoolRules)) == 1


def test_rules_page_agent_admin_sets_its_company_and_subsystem_admin_the_default(app, org, client, auth):
    auth.login("admin_a")
    page = client.get("/rules/").get_data(as_text=True)
    assert zh(app, "Public pool rules of %(company)s", company="华南代理") in page
    assert 'id="rules-form"' not in page and 'id="pool-company"' not in page  # the global rules are not its
    assert zh(app, "No pool rule is set yet: every rule is off. Saving sets them.") in page
    done = post_form(client, "/rules/pool/", {"daily_claim_limit": "3", "reclaim_cooldown_days": "15",
                                              "new_arrival_embargo_hours": "12", "lock_limit": "5",
                                              "mask_pool_contacts": "y"}, token_from="/rules/")
    assert done.status_code == 302
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert zh(app, "The pool rules of %(company)s have been saved.", company="华南代理") in page
    assert zh(app, "These are the company's own rules.") in page and 'value="15"' in page
    refused = post_form(client, "/rules/pool/", {"daily_claim_limit": "-2", "reclaim_cooldown_days": "15",
                                                 "new_arrival_embargo_hours": "12", "lock_limit": "5"},
                        token_from="/rules/")
    assert refused.status_code == 422
    assert zh(app, "Nothing was saved: correct the marked values.") in refused.get_data(as_text=True)
    assert client.post("/rules/pool/", data={"daily_claim_limit": "1"}).status_code == 400  # no CSRF token
    assert client.get(f"/rules/?company={org.depts['华东代理']}").status_code == 200  # its own, whatever it asks
    assert zh(app, "Public pool rules of %(company)s", company="华南代理") in \
        client.get(f"/rules/?company={org.depts['华东代理']}").get_data(as_text=True)
    auth.logout()
    auth.login("sales_a")
    assert client.get("/rules/").status_code == 403
    auth.logout()
    auth.login("root")
    page = client.get("/rules/").get_data(as_text=True)
    assert 'id="rules-form"' in page and 'id="pool-company"' in page
    assert zh(app, "Every agent company without rules of its own works under these.") in page
    post_form(client, "/rules/pool/", {"daily_claim_limit": "7", "reclaim_cooldown_days": "0",
                                       "new_arrival_embargo_hours": "0", "lock_limit": "0"}, token_from="/rules/")
    east = client.get(f"/rules/?company={org.depts['华东代理']}").get_data(as_text=True)
    assert zh(app, "The company has no rules of its own: it works under the head office's. Saving gives it its "
                   "own.") in east and 'value="7"' in east
    auth.logout()
    assert api_rules(app, "sales_b")["daily_claim_limit"] == 7
    assert api_rules(app, "sales_a")["daily_claim_limit"] == 3 and api_rules(app, "sales_a")["mask_pool_contacts"]


def api_rules(app, login):
    return ApiClient(app, app.test_client(), api_token(app, login)).get("/rules").get_json()


# --- the claim's refusals ---------------------------------------------------------------------


def _api_client(app, login):
    client = ApiClient(app, app.test_client(), api_token(app, login))
    client.doc()  # read the OpenAPI document before the race, not during it
    return client


def test_twenty_claims_at_once_at_a_daily_limit_of_three_give_three(app, org):
    save_pool_rules(app, "华南代理", daily_claim_limit=3)
    pool = pool_customers(app, *[f"公海客户{i:02d}号五金有限公司" for i in range(20)])
    clients = [_api_client(app, "sales_a") for _ in pool]
    answers = at_once([lambda c=c, i=i: _claim(c, i) for c, i in zip(clients, pool)])
    assert sorted(status for status, _body in answers) == [200] * 3 + [409] * 17
    refusals = [body for status, body in answers if status == 409]
    assert {body["error"] for body in refusals} == {"daily_claim_limit"}
    with app.app_context():
        owned = db.session.scalar(db.select(db.func.count()).select_from(Opportunity)
                                  .where(Opportunity.owner_id == org.users["sales_a"]))
    assert owned == 3


def test_the_daily_limit_names_tomorrow_and_counts_in_crm_timezone(app, org, frozen):
    save_pool_rules(app, "/", daily_claim_limit=1)
    first, second = pool_customers(app, "杭州甲乙五金有限公司", "杭州丙丁五金有限公司")
    sales = _api_client(app, "sales_a")
    assert _claim(sales, first)[0] == 200
    status, body = _claim(sales, second)
    assert (status, body["error"], body["available_at"]) == (409, "daily_claim_limit", "2026-03-03T00:00:00+08:00")
    assert body["message"] == zh(app, "You have claimed %(n)d customers today, the most a day allows. You may claim "
                                      "again from %(time)s.", n=1, time="2026-03-03 00:00")
    frozen.move(hours=13, minutes=59)  # 23:59 in Shanghai: still Monday there
    assert _claim(sales, second)[1]["error"] == "daily_claim_limit"
    frozen.move(minutes=1)  # midnight in Shanghai, 16:00 in UTC
    assert _claim(sales, second)[0] == 200
    assert _claim(_api_client(app, "sales_b"), first)[0] == 404  # no longer in the pool


def test_the_limit_is_per_company(app, org):
    save_pool_rules(app, "华南代理", daily_claim_limit=1)
    ids = pool_customers(app, "宁波一号机械有限公司", "宁波二号机械有限公司", "宁波三号机械有限公司")
    sales_a, sales_b = _api_client(app, "sales_a"), _api_client(app, "sales_b")
    assert [_claim(sales_a, ids[0])[0], _claim(sales_a, ids[1])[0]] == [200, 409]
    assert [_claim(sales_b, ids[1])[0], _claim(sales_b, ids[2])[0]] == [200, 200]  # the head office's: no limit


def _abandon_and_release(app, client, auth, login, opportunity_id, admin="admin_a"):
    """The owner abandons it on the page; the agent admin releases it to the public pool on the page."""
    auth.login(login)
    client.post("/opportunities/abandon/", data={"id": opportunity_id, "reason": "客户无需求",
                                                  "csrf_token": csrf_token(client, "/opportunities/")})
    auth.logout()
    auth.login(admin)
    post_form(client, "/agent-pool/release/", {"id": opportunity_id}, token_from="/agent-pool/")
    auth.logout()
    assert _location(app, opportunity_id) == ("public_pool", None)


def test_cooling_off_bars_former_owners_only_and_follows_a_merge(app, org, client, auth, frozen):
    save_pool_rules(app, "/", reclaim_cooldown_days=30)
    left = own_customer(app, "sales_a", "温州瑞安鞋业有限公司", phone="0577-65551234")
    _abandon_and_release(app, client, auth, "sales_a", left)
    (kept,) = pool_customers(app, "温州市瑞安鞋业有限公司")
    with app.app_context():  # the subsystem admin merges the pool's two records into the one it keeps
        merges.merge(db.session, user_named("root"), kept, [left])
        db.session.commit()
    frozen.move(days=29)
    status, body = _claim(_api_client(app, "sales_a"), kept)
    assert (status, body["error"], body["available_at"]) == (409, "reclaim_cooldown", "2026-04-01T10:00:00+08:00")
    assert body["message"] == zh(app, "%(company)s left your library on %(left)s: a former owner may claim it back "
                                      "only after %(days)d days, from %(time)s.", company="温州市瑞安鞋业有限公司",
                                 left="2026-03-02 10:00", days=30, time="2026-04-01 10:00")
    auth.login("sales_a")  # the pool page says the same
    page = post_form(client, "/pool/claim/", {"id": kept}, token_from="/pool/")
    assert body["message"] in client.get(page.headers["Location"]).get_data(as_text=True)
    auth.logout()
    assert _claim(_api_client(app, "sales_b"), kept)[0] == 200  # anyone else may


def test_cooling_off_ends_after_n_days_and_counts_the_return_rule(app, org, frozen):
    from services.library import returns

    save_pool_rules(app, "/", reclaim_cooldown_days=7)
    set_rules(app, return_enabled=True, return_after_days=10, return_warn_days=2)
    own = own_customer(app, "sales_a", "嘉兴秀洲纺织有限公司")
    frozen.move(days=11)
    with app.app_context():
        assert returns.run(db.session, clock.now()).returned == 1
        db.session.commit()
    sales = _api_client(app, "sales_a")
    frozen.move(days=6, hours=23)
    assert _claim(sales, own)[1]["error"] == "reclaim_cooldown"
    frozen.move(hours=1)
    assert _claim(sales, own)[0] == 200
    with app.app_context():
        kinds = [e.kind for e in db.session.scalars(db.select(OpportunityEvent).filter_by(opportunity_id=own)
                                                     .order_by(OpportunityEvent.id))]
    assert kinds == ["return", "claim"]


def test_new_arrivals_wait_for_salespeople_not_for_admins(app, org, client, auth, frozen):
    save_pool_rules(app, "华南代理", new_arrival_embargo_hours=24)
    (fresh,) = pool_customers(app, "绍兴柯桥印染有限公司")
    status, body = _claim(_api_client(app, "sales_a"), fresh)
    assert (status, body["error"], body["available_at"]) == (409, "new_arrival_embargo", "2026-03-03T10:00:00+08:00")
    assert body["message"] == zh(app, "%(company)s came into the public pool less than %(hours)d hours ago: it may be "
                                      "claimed from %(time)s.", company="绍兴柯桥印染有限公司", hours=24,
                                 time="2026-03-03 10:00")
    assert _claim(_api_client(app, "sales_b"), fresh)[0] == 200  # 华东代理 has no embargo
    # an abandoned customer released by the agent admin is a new arrival too, for supervisors as well
    mine = own_customer(app, "sales_a", "绍兴越城茶叶有限公司")
    _abandon_and_release(app, client, auth, "sales_a", mine)
    frozen.move(hours=23, minutes=59)
    assert _claim(_api_client(app, "super_a"), mine)[1]["error"] == "new_arrival_embargo"
    frozen.move(minutes=1)
    assert _claim(_api_client(app, "super_a"), mine)[0] == 200


# --- locks (锁定) and 距回收 N 天 ------------------------------------------------------------------


def _set_entered(app, opportunity_id, when):
    with app.app_context():
        db.session.get(Opportunity, opportunity_id).entered_at = when
        db.session.commit()


def test_locks_within_the_limit_exempt_from_the_return_rule(app, org, client, auth, frozen):
    from services.library import returns

    save_pool_rules(app, "华南代理", lock_limit=2)
    set_rules(app, return_enabled=True, return_after_days=30, return_warn_days=3)
    ids = [own_customer(app, "sales_a", f"台州{n}号模具有限公司") for n in ("一", "二", "三", "四")]
    key = own_customer(app, "sales_a", "台州重点模具有限公司", key_customer=True)
    auth.login("sales_a")
    page = client.get(f"/opportunities/details/?id={ids[0]}").get_data(as_text=True)
    assert 'id="lock-form"' in page and zh(app, "%(n)d days before return", n=30) in page
    done = post_form(client, "/opportunities/lock/", {"id": ids[0]}, token_from=f"/opportunities/details/?id={ids[0]}")
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert zh(app, "%(n)d customers locked.", n=1) in page and 'id="record-locked"' in page
    assert 'id="record-recycle-days"' not in page  # a locked customer is never returned
    # the batch action on 我的机会: the second fits, the third is refused by the limit
    listing = client.post("/opportunities/action/", data={"action": "lock", "rowid": ids[1:3],
                                                          "csrf_token": csrf_token(client, "/opportunities/")},
                          follow_redirects=True).get_data(as_text=True)
    assert zh(app, "You may lock at most %(n)d customers. Unlock one first.", n=2) in listing
    refused = post_form(client, "/opportunities/lock/", {"id": key}, token_from="/opportunities/")
    assert zh(app, "%(company)s is a key customer: the return rule never takes it, no lock is needed.",
              company="台州重点模具有限公司") in client.get(refused.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        locked = set(db.session.scalars(db.select(Opportunity.id).where(Opportunity.locked_by_id.is_not(None))))
    assert len(locked) == 2 and ids[0] in locked and ids[3] not in locked
    listing = client.get("/opportunities/").get_data(as_text=True)
    badge = '</a> <span class="badge badge-info locked">'
    assert "台州一号模具有限公司" + badge in listing and "台州二号模具有限公司" + badge in listing
    assert "台州三号模具有限公司" + badge not in listing and "台州四号模具有限公司" + badge not in listing
    assert zh(app, "%(n)d days before return", n=30) in listing
    auth.logout()
    frozen.move(days=28)  # the warning comes for the unlocked ones only, then the return
    with app.app_context():
        summary = returns.run(db.session, clock.now())
        db.session.commit()
    assert summary.warned == 2
    frozen.move(days=3)
    with app.app_context():
        assert returns.run(db.session, clock.now()).returned == 2
        db.session.commit()
    kept = {i: _location(app, i) for i in ids + [key]}
    assert [i for i, (where, _owner) in kept.items() if where == "library"] == sorted(locked) + [key]


def test_a_lock_ends_when_the_customer_leaves_and_can_be_undone(app, org, client, auth):
    save_pool_rules(app, "华南代理", lock_limit=1)
    first, second = own_customer(app, "sales_a", "丽水青瓷有限公司"), own_customer(app, "sales_a", "丽水宝剑有限公司")
    auth.login("sales_a")
    post_form(client, "/opportunities/lock/", {"id": first}, token_from="/opportunities/")
    post_form(client, "/opportunities/unlock/", {"id": first}, token_from="/opportunities/")
    post_form(client, "/opportunities/lock/", {"id": second}, token_from="/opportunities/")  # the one lock is free
    client.post("/opportunities/abandon/", data={"id": second, "reason": "客户无需求",
                                                  "csrf_token": csrf_token(client, "/opportunities/")})
    done = post_form(client, "/opportunities/lock/", {"id": first}, token_from="/opportunities/")
    assert zh(app, "%(n)d customers locked.", n=1) in client.get(done.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Opportunity, second).locked_by_id is None
    assert post_form(client, "/opportunities/lock/", {"id": second}, token_from="/opportunities/").status_code == 404
    auth.logout()
    auth.login("sales_b")  # someone else's customer: no such page
    assert post_form(client, "/opportunities/lock/", {"id": first}, token_from="/opportunities/").status_code == 404


def test_days_before_return_counts_from_the_last_valid_contact(app, org, client, auth, frozen):
    set_rules(app, return_enabled=True, return_after_days=30, return_warn_days=3)
    own = own_customer(app, "sales_a", "衢州柑橘有限公司")
    _set_entered(app, own, MONDAY - timedelta(days=25, hours=1))
    auth.login("sales_a")
    assert zh(app, "%(n)d days before return", n=5) in client.get("/opportunities/").get_data(as_text=True)
    auth.logout()
    auth.login("manager_a")  # shown to its owner only
    assert 'recycle-days' not in client.get("/opportunities/").get_data(as_text=True)
    auth.logout()
    set_rules(app, return_enabled=False)
    auth.login("sales_a")
    assert 'recycle-days' not in client.get(f"/opportunities/details/?id={own}").get_data(as_text=True)


# --- contacts hidden in the pool ------------------------------------------------------------


def test_masked_contacts_in_the_api_pages_and_exports_found_by_a_full_number(app, org, client, auth):
    save_pool_rules(app, "华南代理", mask_pool_contacts=True)
    (pooled,) = pool_customers(app, "杭州西湖龙井茶业有限公司", phone="0571-87654321", mobile="13812345678",
                      fax="0571-87654322", email="wang.li@example.com", wechat="wangli_tea88", qq="12345678")
    sales = ApiClient(app, app.test_client(), api_token(app, "sales_a"))
    page = sales.get("/opportunities", location="public_pool").get_json()
    (item,) = page["items"]
    assert (item["phone"], item["mobile"], item["fax"], item["email"], item["wechat"], item["qq"]) == \
        ("0571-8***4321", "138****5678", "0571-8***4322", "w***@example.com", "wa***88", "12***78")
    assert sales.get(f"/opportunities/{pooled}").get_json()["phone"] == "0571-8***4321"
    found = sales.get("/opportunities", location="public_pool", q="0571-87654321").get_json()
    assert [i["id"] for i in found["items"]] == [pooled] and found["items"][0]["phone"] == "0571-8***4321"
    assert sales.get("/opportunities", location="elsewhere").status_code == 422
    # another company that does not hide them, and admins, see them whole
    assert ApiClient(app, app.test_client(), api_token(app, "sales_b")).get(f"/opportunities/{pooled}").get_json()["mobile"] \
        == "13812345678"
    assert ApiClient(app, app.test_client(), api_token(app, "admin_a")).get(
        "/opportunities", location="public_pool").get_json()["items"][0]["phone"] == "0571-87654321"
    auth.login("super_a")
    listing = client.get("/pool/").get_data(as_text=True)
    assert "0571-8***4321" in listing and "138****5678" in listing and "87654321" not in listing
    searched = client.get("/pool/?search=13812345678").get_data(as_text=True)
    # the number typed is in the search box and the page's links; the cell shows it masked, said to match
    assert "杭州西湖龙井茶业有限公司" in searched and '138****5678 <span class="badge' in searched
    assert ">13812345678<" not in searched and "87654321" not in searched
    assert zh(app, "Matches the number searched") in searched
    exported = client.get("/opportunities/export/csv/?show=all&search=13812345678").get_data(as_text=True)
    assert "杭州西湖龙井茶业有限公司" not in exported  # the pool is not in anyone's export
    post_form(client, "/pool/claim/", {"id": pooled}, token_from="/pool/")
    exported = client.get("/opportunities/export/csv/?show=all&search=13812345678").get_data(as_text=True)
    assert "杭州西湖龙井茶业有限公司" in exported and "13812345678" in exported  # claimed: whole
    details = client.get(f"/opportunities/details/?id={pooled}").get_data(as_text=True)
    assert "0571-87654321" in details
    auth.logout()
    answer = sales.get(f"/opportunities/{pooled}")
    assert answer.status_code == 404, answer.get_json()  # now in super_a's library


# --- in a browser, at 1366 and 390 px ----------------------------------------------------------

DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_browser_pool_rules_set_masked_claim_refused_and_lock(app, org, browser_user, viewport):
    pool_customers(app, "湖州南浔木业有限公司", "湖州德清竹业有限公司", phone="0572-22334455")
    admin = browser_user("admin_a")
    admin.page.set_viewport_size(viewport)
    admin.page.goto("/rules/")
    admin.page.fill("#daily_claim_limit", "1")
    admin.page.fill("#lock_limit", "1")
    admin.page.check("#mask_pool_contacts")
    with admin.page.expect_navigation():
        admin.page.click("#pool-rules-form button[type=submit]")
    assert zh(app, "The pool rules of %(company)s have been saved.", company="华南代理") in admin.page.inner_text(".alert")
    sales = browser_user("sales_a")
    page = sales.page
    page.set_viewport_size(viewport)
    page.goto("/pool/")
    assert "22334455" not in page.inner_text("main")  # a phone's cards leave the numbers out; a desktop masks them
    assert ("0572-2***4455" in page.inner_text("main")) == (viewport == DESKTOP)
    for _ in range(2):  # the first claim passes, the second is refused by the daily limit, said on the page
        with page.expect_navigation():
            page.locator("form[action$='/pool/claim/'] button:visible").first.click()
    with app.app_context():
        tomorrow = stats.day_bounds(stats.today())[1].astimezone(stats.zone()).strftime("%Y-%m-%d %H:%M")
    assert zh(app, "You have claimed %(n)d customers today, the most a day allows. You may claim again from "
                   "%(time)s.", n=1, time=tomorrow) in page.inner_text(".alert-danger")
    page.goto("/opportunities/")
    with page.expect_navigation():
        page.locator("a:visible", has_text="湖州").first.click()
    assert page.locator("#lock-form").is_visible()
    with page.expect_navigation():
        page.click("#lock-form button")
    assert page.locator("#record-locked").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
