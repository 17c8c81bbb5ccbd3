"""The old training manual (§一 .. §九), walked in a real browser by the people in it.

Each test is one section of the manual: the salesperson, the agent admin or the subsystem
admin clicks, types and chooses as the manual tells them, and the test checks the Chinese
text the page answers with (from the catalog, via zh()) and, where it matters, the database.
Every step leaves a screenshot in the folder named by CRM_SCREENSHOTS (by default a folder
under pytest's temporary directory, printed at the end of the run). `docs/make_guide.py`
runs this file and, when every section passed, puts the screenshots in docs/guide/img and writes
the user guide around them, so the guide never shows an old screen.

The login captcha is off by configuration here (CRM_CAPTCHA=False in conftest), as in any
scripted use of the CRM; everything else is the real app on a local port.
"""
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import PASSWORD, BrowserUser, zh
from crm_pages import update_user
from models import ContactNote, Department, Opportunity, User, db
from services import clock
from services.library import opportunities
from services.library.opportunities import OpportunityInput
from services.people import accounts
from services.people.passwords import verify_password

EXAMPLE = {"company": "扬州五环印花厂", "phone": "0514——2398577", "fax": "0514——2345586"}  # the manual's own example
NEW_PASSWORD = "一起把客户做好吧"


@pytest.fixture(scope="session")
def screenshot_dir(request, tmp_path_factory):
    configured = os.environ.get("CRM_SCREENSHOTS")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("manual-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # said even under -q, so that whoever ran it can open them
        print(f"\nmanual screenshots: {folder}")


@pytest.fixture
def person(browser, live_server, screenshot_dir, request):
    """person(section, login=None): a browser window for one person of a section, logged in if a login is given."""
    opened = []

    def open_as(section, login=None):
        user = Walker(browser, live_server, screenshot_dir, section)
        opened.append(user)
        if login:
            user.login(login)
        return user

    yield open_as
    for user in opened:
        user.close()


class Walker(BrowserUser):
    """A BrowserUser who keeps a screenshot of each step, named after the manual's section."""

    def __init__(self, browser, base_url, folder, section):
        super().__init__(browser, base_url)
        self.folder, self.section = folder, section
        self.page.emulate_media(reduced_motion="reduce")  # charts drawn at once, not caught mid-animation

    def shot(self, name):
        """Save the page as <section>-<name>.png; the guide refers to these names. No page the guide
        shows may have broken the content security policy on the way."""
        refused = [m for m in self.console if "Content Security Policy" in m or "Refused to" in m]
        assert refused == [], f"{self.page.url}: {refused}"
        self.page.screenshot(path=str(self.folder / f"{self.section}-{name}.png"), full_page=True)

    def submit(self, selector):
        """Click a submit button and wait for the page it leads to."""
        with self.page.expect_navigation():
            self.page.click(selector)

    def flash(self):
        return self.page.inner_text(".alert") if self.page.locator(".alert").count() else ""


def _user(app, login):
    with app.app_context():
        return db.session.scalar(select(User).filter_by(login=login))


def _own(app, login, company=EXAMPLE["company"], **fields):
    """A customer already in someone's library (entered earlier; §三 shows the entry itself)."""
    with app.app_context():
        owner = db.session.scalar(select(User).filter_by(login=login))
        opportunity = opportunities.insert_opportunity(db.session, owner, OpportunityInput(company=company, **fields),
                                            "library", None)
        db.session.commit()
        return opportunity.id


def _open_from_my_opportunities(walker, search, company):
    """§四's way in: 我的机会, search with anything one knows, click the company name."""
    walker.page.goto("/opportunities/")
    walker.page.fill("input[name=search]", search)
    with walker.page.expect_navigation():
        walker.page.press("input[name=search]", "Enter")
    walker.shot("01-search")
    with walker.page.expect_navigation():
        walker.page.click(f"a:text-is('{company}')")
    walker.page.wait_for_selector("#note-form")


def _write_note(walker, content, maturity, tick=None, next_contact=None):
    walker.page.select_option("#note-method", "phone")
    walker.page.select_option("#note-maturity", str(maturity))
    walker.page.fill("#note-content", content)
    if next_contact:
        walker.page.fill("#note-next", next_contact.strftime("%Y-%m-%dT%H:%M"))
    if tick:
        walker.page.check(tick)


# --- §一 登录 --------------------------------------------------------------------------------


def test_s1_login(app, org, person):
    walker = person("s1")
    walker.page.goto("/login")
    assert walker.page.locator("#captcha").count() == 0  # the captcha is off by configuration
    walker.shot("01-login")
    walker.page.fill("#username", "sales_a")
    walker.page.fill("#password", "不是这个密码")
    walker.submit("button[type=submit]")
    assert zh(app, "Wrong login or password.") in walker.page.inner_text(".alert-danger")
    walker.shot("02-wrong-password")
    walker.page.fill("#password", PASSWORD)
    walker.submit("button[type=submit]")
    assert walker.page.url == walker.base_url + "/"
    assert zh(app, "Valid contacts today") in walker.page.inner_text("body")
    assert walker.page.evaluate("document.documentElement.lang") == "zh-CN"  # Flask-Admin's pages too
    walker.shot("03-dashboard")


# --- §二 初始设置 -----------------------------------------------------------------------------


def test_s2_first_login_password_change(app, org, person):
    with app.app_context():  # an agent admin created the account; it has only a one-time password
        admin = db.session.get(User, org.users["admin_a"])
        _, one_time = accounts.create_user(db.session, admin, "xiaowang", "salesperson",
                                           db.session.get(Department, org.depts["华南代理/销售一部/电话组"]))
        db.session.commit()
    walker = person("s2")
    walker.page.goto("/login")
    walker.page.fill("#username", "xiaowang")
    walker.page.fill("#password", one_time)
    walker.submit("button[type=submit]")
    assert walker.page.url.endswith("/password")
    assert zh(app, "Welcome, %(login)s. Before you start, choose your own password.", login="xiaowang") in \
        walker.page.inner_text("body")
    walker.shot("01-forced-change")
    walker.page.goto("/")  # nothing else opens before the password is changed
    assert walker.page.url.endswith("/password")
    walker.page.fill("#new_password", NEW_PASSWORD)
    walker.page.fill("#confirm", NEW_PASSWORD)
    walker.shot("02-new-password")
    walker.submit("button[type=submit]")
    assert walker.page.url == walker.base_url + "/"
    assert zh(app, "Your password has been changed.") in walker.flash()
    walker.shot("03-done")
    user = _user(app, "xiaowang")
    assert user.must_change_password is False and verify_password(user.password_hash, NEW_PASSWORD)


# --- §三 录入 ---------------------------------------------------------------------------------


def _check(walker, field, value, by):
    walker.page.fill(f"#{field}", value)
    walker.submit(f"#dedup-form button[value={by}]")
    return walker.page.inner_text("#dedup-total")


def test_s3_duplicate_check_then_the_manuals_example(app, org, person):
    # the manual's rule 3: 上海市瑞丽服装有限公司 is another salesperson's; 上海瑞丽服装厂 is the same company
    _own(app, "sales_b", "上海市瑞丽服装有限公司", phone="021-62345678")
    walker = person("s3", "sales_a")
    walker.page.goto("/dedup/")
    walker.shot("01-check-page")
    zero = zh(app, "%(n)d customers in all", n=0)
    assert _check(walker, "name", "五环印花", "name") == zero
    walker.shot("02-by-name")
    assert _check(walker, "phone", "2398577", "phone") == zero  # landline without the area code
    walker.shot("03-by-landline")
    assert _check(walker, "fax", "2345586", "fax") == zero
    walker.shot("04-by-fax")
    with walker.page.expect_navigation():
        walker.page.click("text=" + zh(app, "Enter this customer"))
    assert walker.page.input_value("#fax") == "2345586"  # the form starts from what was last checked

    # the live check, while typing: the other salesperson's customer shows by name and place only
    walker.page.fill("#company", "")
    walker.page.type("#company", "上海瑞丽服装厂")
    walker.page.wait_for_selector("#live-check:not(.d-none) #live-check-rows tr")
    live = walker.page.inner_text("#live-check")
    assert "上海市瑞丽服装有限公司" in live and "sales_b" in live and "62345678" not in live
    walker.shot("05-live-check")

    walker.page.fill("#company", EXAMPLE["company"])
    walker.page.fill("#phone", EXAMPLE["phone"])
    walker.page.fill("#fax", EXAMPLE["fax"])
    walker.page.wait_for_selector("#live-check.d-none", state="attached")
    walker.page.fill("#province", "江苏省")
    walker.page.fill("#city", "扬州市")
    walker.page.fill("#contact", "王经理")
    walker.page.select_option("#source", "电话开发")
    walker.page.fill("#industry", "印刷")
    walker.shot("06-form-filled")
    walker.submit("#company >> xpath=ancestor::form//*[@type='submit'][1]")
    walker.shot("07-saved")
    with app.app_context():
        entered = db.session.scalar(select(Opportunity).filter_by(company=EXAMPLE["company"]))
        assert entered.owner.login == "sales_a" and entered.location == "library"
        assert entered.norm_city == "扬州市" and entered.source.name == "电话开发"
    walker.page.goto("/opportunities/?show=all")
    assert EXAMPLE["company"] in walker.page.inner_text("body")
    walker.shot("08-in-my-opportunities")
    # checked again by landline: the customer is now found, and it is "yours"
    walker.page.goto("/dedup/")
    assert _check(walker, "phone", "2398577", "phone") == zh(app, "%(n)d customers in all", n=1)
    assert zh(app, "Yours") in walker.page.inner_text("#dedup-result")
    walker.shot("09-found-after")

    # the manual's problem 1: 佛山市南海区里水惠翔印刷厂 lives in the industry division; the check says so
    with app.app_context():
        opportunities.insert_opportunity(db.session, None, OpportunityInput(company="佛山市南海区里水惠翔印刷厂",
                                                                 phone="0757-85601234"), "industry", None)
        db.session.commit()
    walker.page.goto("/dedup/")
    assert _check(walker, "phone", "85601234", "phone") == zh(app, "%(n)d customers in all", n=1)
    result = walker.page.inner_text("#dedup-result")
    assert zh(app, "Industry division") in result and zh(app, "Cannot be entered") in result
    assert walker.page.locator("text=" + zh(app, "Enter this customer")).count() == 0
    walker.shot("10-other-division")


# --- §四 填写联系小记 -------------------------------------------------------------------------


def test_s4_contact_notes_and_whether_they_count(app, org, person):
    opportunity_id = _own(app, "sales_a", phone=EXAMPLE["phone"])
    walker = person("s4", "sales_a")
    _open_from_my_opportunities(walker, "2398577", EXAMPLE["company"])
    walker.shot("02-details")
    later = clock.now().astimezone() + timedelta(days=2)
    _write_note(walker, "王经理有兴趣，下周寄样品", 3, next_contact=later)
    walker.shot("03-note-filled")
    walker.submit("#note-form button[type=submit]")
    assert zh(app, "Note saved. It counts as a valid contact.") in walker.flash()
    walker.shot("04-valid")
    _write_note(walker, "打了两次，客户在开会", 3, tick="#note-busy")
    walker.submit("#note-form button[type=submit]")
    assert zh(app, "Note saved. It does not count as a valid contact (maturity 0, customer not reached, "
                   "or customer busy).") in walker.flash()
    timeline = walker.page.inner_text("#note-timeline")
    assert zh(app, "Valid contact") in timeline and zh(app, "Not a valid contact") in timeline
    walker.shot("05-not-valid")
    with app.app_context():
        kept = db.session.scalars(select(ContactNote).filter_by(opportunity_id=opportunity_id)
                                  .order_by(ContactNote.id)).all()
        assert [(n.content, n.valid) for n in kept] == [("王经理有兴趣，下周寄样品", True), ("打了两次，客户在开会", False)]
        assert kept[0].next_contact_at > clock.now() + timedelta(days=1)  # the time chosen in the form


# --- §五 放弃客户 -----------------------------------------------------------------------------


def test_s5_abandon_then_the_agent_admin_reassigns(app, org, person):
    opportunity_id = _own(app, "sales_a")
    sales = person("s5", "sales_a")
    sales.page.goto(f"/opportunities/details/?id={opportunity_id}")
    sales.page.select_option("#abandon-reason", "客户无需求")
    sales.shot("01-abandon-reason")
    sales.submit("#abandon-form button[type=submit]")
    assert zh(app, "%(company)s was abandoned and is now in the agent-admin pool.",
              company=EXAMPLE["company"]) in sales.flash()
    sales.shot("02-abandoned")
    with app.app_context():
        abandoned = db.session.get(Opportunity, opportunity_id)
        assert abandoned.location == "agent_admin_pool" and abandoned.owner_id is None

    admin = person("s5", "admin_a")
    admin.page.goto("/agent-pool/")
    row = admin.page.locator("tr", has_text=EXAMPLE["company"])
    admin.shot("03-agent-pool")
    with admin.page.expect_navigation():
        row.locator("text=" + zh(app, "Reassign")).click()
    admin.page.select_option("#reassign-salesperson", str(org.users["super_a"]))
    admin.shot("04-reassign")
    admin.submit("#reassign-form button[type=submit]")
    assert zh(app, "%(n)d customers reassigned to %(user)s.", n=1, user="super_a") in admin.flash()
    admin.shot("05-reassigned")
    with app.app_context():
        reassigned = db.session.get(Opportunity, opportunity_id)
        assert reassigned.location == "library" and reassigned.owner_id == org.users["super_a"]


# --- §六 新增用户 -----------------------------------------------------------------------------


def test_s6_an_admin_creates_a_user(app, org, person):
    admin = person("s6", "admin_a")
    admin.page.goto("/users/")
    admin.shot("01-users")
    with admin.page.expect_navigation():
        admin.page.click("a[href^='/users/new/']")
    admin.page.type("#login", "zhaoliu")
    admin.page.wait_for_selector("text=" + zh(app, "This login is free."))
    admin.page.select_option("#role", "supervisor")
    _choose(admin, "#department", org.depts["华南代理/销售一部"])
    _choose(admin, "#managed_departments", org.depts["华南代理/销售一部/电话组"])
    admin.shot("02-form-filled")
    admin.submit("#login >> xpath=ancestor::form//*[@type='submit'][1]")
    assert zh(app, "Account %(login)s created", login="zhaoliu") in admin.page.inner_text("body")
    one_time = admin.page.inner_text("#one-time-password").strip()
    admin.shot("03-one-time-password")
    user = _user(app, "zhaoliu")
    assert user.role == "supervisor" and user.department_id == org.depts["华南代理/销售一部"]
    assert user.must_change_password and verify_password(user.password_hash, one_time)
    with app.app_context():
        assert [d.id for d in db.session.get(User, user.id).managed_departments] == \
            [org.depts["华南代理/销售一部/电话组"]]


def _choose(walker, selector, value):
    """Pick an option of a Flask-Admin select (select2 hides the real <select>; its change event updates it)."""
    walker.page.select_option(selector, str(value), force=True)


# --- §七 查询用户 -----------------------------------------------------------------------------


def test_s7_find_a_user_and_unlock_the_account(app, org, person):
    update_user(app, "sales_a", last_seen_at=clock.now() - timedelta(days=91))  # unused for 91 days
    sales = person("s7")
    sales.page.goto("/login")
    sales.page.fill("#username", "sales_a")
    sales.page.fill("#password", PASSWORD)
    sales.submit("button[type=submit]")
    assert zh(app, "This account is locked because it was not used for a long time. Ask your administrator "
                   "to restore it.") in sales.page.inner_text(".alert-danger")
    sales.shot("01-locked-out")
    assert _user(app, "sales_a").locked_at is not None

    admin = person("s7", "admin_a")
    admin.page.goto("/users/")
    admin.page.fill("input[name=search]", "sales_a")
    with admin.page.expect_navigation():
        admin.page.press("input[name=search]", "Enter")
    row = admin.page.locator("tr", has_text="sales_a")
    assert zh(app, "Locked") in row.inner_text()
    admin.shot("02-found")
    with admin.page.expect_navigation():
        row.locator("form[action='/users/unlock/'] button").click()
    assert zh(app, "The account %(login)s has been restored.", login="sales_a") in admin.flash()
    admin.shot("03-restored")
    assert _user(app, "sales_a").locked_at is None
    person("s7", "sales_a")  # and the salesperson is back in

    # a lost password: the key on the row, confirmed, gives a one-time password shown once
    admin.page.remove_listener("dialog", admin._dialog)
    admin.page.once("dialog", lambda dialog: dialog.accept())
    with admin.page.expect_navigation():
        admin.page.locator("tr", has_text="sales_a").locator("form[action='/users/reset-password/'] button").click()
    assert zh(app, "Password of %(login)s reset", login="sales_a") in admin.page.inner_text("body")
    one_time = admin.page.inner_text("#one-time-password").strip()
    admin.shot("04-password-reset")
    reset = _user(app, "sales_a")
    assert reset.must_change_password and verify_password(reset.password_hash, one_time)


# --- §八 新增部门 -----------------------------------------------------------------------------


def test_s8_a_new_department(app, org, person):
    admin = person("s8", "admin_a")
    admin.page.goto("/departments/")
    admin.shot("01-tree")
    with admin.page.expect_navigation():
        admin.page.click(f"a[href*='parent={org.depts['华南代理']}']")  # the "+" on the company's row
    admin.page.fill("#short_name", "客服部")
    admin.shot("02-form")
    admin.submit("#short_name >> xpath=ancestor::form//*[@type='submit'][1]")
    assert "华南代理客服部" in admin.page.inner_text("body")
    admin.shot("03-saved")
    with app.app_context():
        created = db.session.scalar(select(Department).filter_by(name="华南代理客服部"))
        assert created.parent_id == org.depts["华南代理"]


# --- §九 资源规则 -----------------------------------------------------------------------------


def test_s9_the_dashboard_after_the_notes_and_the_rules(app, org, person):
    _own(app, "sales_a", phone=EXAMPLE["phone"])
    with app.app_context():
        from services.library import rules

        quota = rules.current(db.session)
        target, cap = quota.quota_valid_contacts, quota.cap_salesperson
    walker = person("s9", "sales_a")
    walker.page.goto("/")
    assert walker.page.inner_text("#valid-contacts").strip() == f"0 / {target}"
    _open_from_my_opportunities(walker, "五环", EXAMPLE["company"])
    _write_note(walker, "电话沟通，客户有意向", 2)
    walker.submit("#note-form button[type=submit]")
    _write_note(walker, "没打通", 2, tick="#note-unreachable")
    walker.submit("#note-form button[type=submit]")
    walker.page.goto("/")
    assert walker.page.inner_text("#valid-contacts").strip() == f"1 / {target}"  # the unreachable one does not count
    assert walker.page.inner_text("#library-size").strip() == f"1 / {cap}"
    walker.shot("02-dashboard")

    manager = person("s9", "manager_a")  # the manager sees each person's day against the same quota
    manager.page.goto("/")
    row = manager.page.locator("#people tr[data-login=sales_a]")
    assert f"1 / {target}" in row.inner_text() and zh(app, "Behind") in row.inner_text()
    manager.shot("03-manager")

    root = person("s9", "root")
    root.page.goto("/rules/")
    assert root.page.input_value("#cap_salesperson") == str(cap)
    root.shot("04-rules")

    # the public pool's rules (issue 25): the agent admin sets his company's; a fresh pool customer then waits
    agent_admin = person("s9", "admin_a")
    agent_admin.page.goto("/rules/")
    agent_admin.page.fill("#daily_claim_limit", "10")
    agent_admin.page.fill("#reclaim_cooldown_days", "30")
    agent_admin.page.fill("#new_arrival_embargo_hours", "24")
    agent_admin.page.fill("#lock_limit", "5")
    agent_admin.page.check("#mask_pool_contacts")
    agent_admin.submit("#pool-rules-form button[type=submit]")
    assert zh(app, "These are the company's own rules.") in agent_admin.page.inner_text("#pool-rules-source")
    agent_admin.shot("05-pool-rules")
    with app.app_context():
        opportunities.insert_opportunity(db.session, None, OpportunityInput(
            company="杭州西湖龙井茶业有限公司", province="浙江", city="杭州", phone="0571-87654321"), "public_pool", None)
        db.session.commit()
    walker.page.goto("/pool/")
    walker.submit("form[action$='/pool/claim/'] button")
    assert "0571-8***4321" in walker.page.inner_text("main")
    assert zh(app, "%(company)s came into the public pool less than %(hours)d hours ago: it may be claimed from "
                   "%(time)s.", company="杭州西湖龙井茶业有限公司", hours=24, time="").split("，")[0] in walker.flash()
    walker.shot("06-claim-refused")
