"""Admins assign public-pool customers at once (公海 → 分配给…, `POST /opportunities/ID/assign`), and locks through the
API (`POST /opportunities/ID/lock` and `/unlock`, `locked` in an opportunity's JSON).

Through the pages (with CSRF) and the API, in Chinese; time is frozen through services/clock.py.
"""
import json

import pytest

from conftest import csrf_token, set_rules, zh
from helpers import FrozenClock, own_customer, pool_customers, save_pool_rules, user_named
from models import AuditEntry, Opportunity, OpportunityEvent, db
from services import clock
from services.library import claiming


@pytest.fixture
def frozen(monkeypatch):
    return FrozenClock(monkeypatch)


def _where(app, opportunity_id):
    with app.app_context():
        o = db.session.get(Opportunity, opportunity_id)
        return o.location, o.owner.login if o.owner else None


def _assign_page(client, ids, assignee_id):
    """As an admin does it on 公海: tick the rows, 批量操作 → 分配给…, choose the person, 分配."""
    chooser = client.post("/pool/action/", data={"action": "assign", "rowid": ids,
                                                 "csrf_token": csrf_token(client, "/pool/")})
    assert chooser.status_code == 302 and "/pool/assign/" in chooser.headers["Location"]
    page = client.get(chooser.headers["Location"]).get_data(as_text=True)
    assert 'id="assign-form"' in page
    answer = client.post("/pool/assign/", data={"ids": ",".join(map(str, ids)), "assignee": assignee_id,
                                                "csrf_token": csrf_token(client, "/pool/")}, follow_redirects=True)
    return page, answer.get_data(as_text=True)


def test_an_admin_assigns_an_embargoed_arrival_at_once_while_a_salesperson_waits(app, org, client, auth, api,
                                                                                   frozen):
    save_pool_rules(app, "华南代理", new_arrival_embargo_hours=24, daily_claim_limit=1)
    fresh, other, later = pool_customers(app, "嘉兴秀洲新到五金有限公司", "嘉兴南湖新到五金有限公司", "嘉兴海宁新到五金有限公司")
    refused = api("sales_a").post(f"/opportunities/{fresh}/claim")
    assert (refused.status_code, refused.get_json()["error"]) == (409, "new_arrival_embargo")
    auth.login("admin_a")
    page, done = _assign_page(client, [fresh, other], org.users["sales_a"])
    # the chooser offers the agent admin's own people only, each with the room in their library
    assert "sales_a" in page and "super_a" in page and "manager_a" in page and "sales_b" not in page
    assert zh(app, "%(n)d customers assigned to %(user)s.", n=2, user="sales_a") in done
    assert _where(app, fresh) == _where(app, other) == ("library", "sales_a")
    with app.app_context():
        kinds = db.session.scalars(db.select(OpportunityEvent.kind).where(OpportunityEvent.opportunity_id == fresh))
        assert list(kinds) == ["reassign"]
        audited = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "reassign",
                                                                AuditEntry.target_id == fresh))
        assert json.loads(audited.details)["to"] == "sales_a"
        # an assignment is not a claim: the assignee's daily claims are untouched
        assert claiming.claims_today(db.session, user_named("sales_a"), clock.now()) == 0
    frozen.move(hours=24)
    assert api("sales_a").post(f"/opportunities/{later}/claim").status_code == 200  # the one claim of the day


def test_the_assignees_library_cap_is_respected(app, org, client, auth, api):
    set_rules(app, cap=1)
    own_customer(app, "sales_a", "温州鹿城已有鞋业有限公司")
    first, second = pool_customers(app, "温州瓯海皮鞋有限公司", "温州龙湾皮鞋有限公司")
    full = api("admin_a").post(f"/opportunities/{first}/assign", {"owner": "sales_a"})
    assert (full.status_code, full.get_json()["error"], full.get_json()["limit"]) == (409, "library_full", 1)
    assert full.get_json()["message"] == zh(app, "The library of %(user)s is full (%(n)d customers).",
                                            user="sales_a", n=1)
    auth.login("admin_a")
    _page, done = _assign_page(client, [first, second], org.users["sales_a"])
    assert zh(app, "The library of %(user)s is full (%(n)d customers).", user="sales_a", n=1) in done
    assert _where(app, first) == _where(app, second) == ("public_pool", None)  # all or none
    given = api("admin_a").post(f"/opportunities/{first}/assign", {"owner": "super_a"})
    assert given.status_code == 200 and given.get_json()["owner"] == "super_a"
    assert given.get_json()["location"] == "library" and given.get_json()["locked"] is False


def test_an_agent_admin_assigns_only_to_his_own_companys_people(app, org, client, auth, api):
    (customer,) = pool_customers(app, "衢州柯城化工有限公司")
    stranger = api("admin_a").post(f"/opportunities/{customer}/assign", {"owner": "sales_b"})
    assert stranger.status_code == 422
    assert stranger.get_json()["fields"]["owner"] == zh(app, "Choose a salesperson you administer.")
    assert api("admin_a").post(f"/opportunities/{customer}/assign", {"owner": "admin_a"}).status_code == 422
    assert api("admin_a").post(f"/opportunities/{customer}/assign", {"owner": "无此人"}).status_code == 422
    assert api("admin_a").post(f"/opportunities/{customer}/assign", {"owner": 7}).status_code == 422
    assert api("sales_a").post(f"/opportunities/{customer}/assign", {"owner": "sales_a"}).status_code == 403
    auth.login("admin_a")
    _page, done = _assign_page(client, [customer], org.users["sales_b"])
    assert zh(app, "Choose a salesperson you administer.") in done
    assert _where(app, customer) == ("public_pool", None)
    auth.logout()
    auth.login("sales_a")  # no chooser for salespeople, and no assignment by a forged form
    assert client.get(f"/pool/assign/?ids={customer}").status_code == 403
    assert client.post("/pool/assign/", data={"ids": str(customer), "assignee": org.users["sales_a"],
                                              "csrf_token": csrf_token(client, "/pool/")}).status_code == 403
    assert _where(app, customer) == ("public_pool", None)
    # a subsystem admin assigns to anyone; then the customer is no longer in the pool
    assert api("root").post(f"/opportunities/{customer}/assign", {"owner": "sales_b"}).status_code == 200
    assert _where(app, customer) == ("library", "sales_b")
    assert api("root").post(f"/opportunities/{customer}/assign", {"owner": "sales_a"}).status_code == 404


def test_lock_and_unlock_through_the_api(app, org, api):
    save_pool_rules(app, "华南代理", lock_limit=1)
    first, second = own_customer(app, "sales_a", "湖州吴兴丝绸有限公司"), own_customer(app, "sales_a", "湖州南浔丝绸有限公司")
    locked = api("sales_a").post(f"/opportunities/{first}/lock")
    assert locked.status_code == 200 and locked.get_json()["locked"] is True
    assert api("sales_a").get(f"/opportunities/{first}").get_json()["locked"] is True
    full = api("sales_a").post(f"/opportunities/{second}/lock")
    assert (full.status_code, full.get_json()["error"]) == (409, "lock_limit")
    assert full.get_json()["message"] == zh(app, "You may lock at most %(n)d customers. Unlock one first.", n=1)
    assert api("sales_b").post(f"/opportunities/{first}/unlock").status_code == 404  # not his
    assert api("manager_a").post(f"/opportunities/{first}/unlock").status_code == 404  # a lock is the owner's
    assert api("admin_a").post(f"/opportunities/{first}/lock").status_code == 403  # admins keep no library
    assert api("sales_a").post("/opportunities/999999/lock").status_code == 404
    unlocked = api("sales_a").post(f"/opportunities/{first}/unlock")
    assert unlocked.status_code == 200 and unlocked.get_json()["locked"] is False
    assert api("sales_a").post(f"/opportunities/{second}/lock").get_json()["locked"] is True
    with app.app_context():
        assert db.session.get(Opportunity, second).locked_by_id == org.users["sales_a"]
        assert db.session.get(Opportunity, first).locked_by_id is None


# --- in a browser, at 1366 and 390 px ----------------------------------------------------------

DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_browser_an_agent_admin_assigns_from_the_pool(app, org, browser_user, viewport):
    save_pool_rules(app, "华南代理", new_arrival_embargo_hours=24)
    (customer,) = pool_customers(app, "舟山定海水产有限公司")
    admin = browser_user("admin_a")
    page = admin.page
    page.set_viewport_size(viewport)
    page.goto("/pool/")
    if viewport == PHONE:
        page.locator("#pool-cards .crm-card-row", has_text="舟山定海水产有限公司").locator("label.crm-name").click()
    else:
        page.locator("table.model-list tr", has_text="舟山定海水产有限公司").locator("input.action-checkbox").check()
    page.locator("ul.nav-tabs a.dropdown-toggle", has_text=zh(app, "Bulk actions")).click()
    with page.expect_navigation():
        page.locator("[data-crm-action=assign]").click()
    assert "舟山定海水产有限公司" in page.inner_text("#assign-customers")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.select_option("#assign-assignee", str(org.users["sales_a"]))
    with page.expect_navigation():
        page.click("#assign-form button[type=submit]")
    assert zh(app, "%(n)d customers assigned to %(user)s.", n=1, user="sales_a") in page.inner_text(".alert")
    assert _where(app, customer) == ("library", "sales_a")
