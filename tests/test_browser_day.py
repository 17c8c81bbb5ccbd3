"""Issue 14, "a day's work that feels right", in Chromium: the grouped menus, the icons' accessible names,
the similar-customer question beside the matches, the small things a person notices, and the salesperson's
pages at phone width (390 x 844) as cards, without a horizontal scroll bar.
"""
import pytest
from sqlalchemy import select
from test_i18n import admin_text

from conftest import BrowserUser, csrf_token, zh
from models import Department, Opportunity, User, db
from services.library import notes, opportunities
from services.library.opportunities import OpportunityInput

PHONE = {"width": 390, "height": 844}
LONG_NAME = "上海市浦东新区张江高科技园区瑞丽服装有限公司"  # long enough to wrap per character in a squeezed column


def _violations(user):
    return [m for m in user.console if "Content Security Policy" in m or "Refused to" in m]


def _enter(app, login, company, location="library", **fields):
    with app.app_context():
        owner = db.session.scalar(select(User).filter_by(login=login)) if login else None
        row = opportunities.insert_opportunity(db.session, owner, OpportunityInput(company=company, **fields), location, None)
        db.session.commit()
        return row.id


def _menu(page, app, category):
    """Open a menu of the navigation bar; the names of its entries, in order."""
    page.locator("#admin-navbar-collapse a.dropdown-toggle", has_text=zh(app, category)).click()
    items = page.locator("li.dropdown.show .dropdown-menu .dropdown-item")
    items.first.wait_for()
    return [text.strip() for text in items.all_inner_texts()]


def _top_menu(page):
    return [t.strip() for t in page.locator("#admin-navbar-collapse > ul.mr-auto > li > a").all_inner_texts()]


# --- the menus, as the manual groups them ----------------------------------------------------------------

def test_the_menus_group_the_pages_as_the_manual_does(app, browser_user, org):
    root = browser_user("root")
    page = root.page
    page.goto("/")
    tops = _top_menu(page)
    assert [zh(app, "Opportunity management"), zh(app, "Agent-admin pool"), zh(app, "System management")] == \
        [t for t in tops if t in (zh(app, "Opportunity management"), zh(app, "Agent-admin pool"),
                                  zh(app, "System management"))]
    assert zh(app, "Users") not in tops and zh(app, "My opportunities") not in tops  # no longer twelve flat items
    assert _menu(page, app, "System management") == [zh(app, m) for m in (
        "Users", "Departments", "Information sources", "Abandon reasons", "Resource rules", "Audit log", "Imports",
        "Duplicate customers", "Robots and webhooks")]
    with page.expect_navigation():
        page.get_by_role("link", name=zh(app, "Resource rules"), exact=True).click()
    assert page.url.endswith("/rules/")
    assert _violations(root) == []


def test_a_salesperson_sees_only_the_pages_of_the_day(app, browser_user, org):
    sales = browser_user("sales_a")
    page = sales.page
    page.goto("/")
    tops = _top_menu(page)
    assert zh(app, "System management") not in tops and zh(app, "Agent-admin pool") not in tops
    assert _menu(page, app, "Opportunity management") == [zh(app, m) for m in (
        "My opportunities", "Enter an opportunity", "Duplicate check", "Public pool", "Contact notes")]
    with page.expect_navigation():
        page.get_by_role("link", name=zh(app, "Enter an opportunity"), exact=True).click()
    assert page.url.endswith("/opportunities/new/")
    # an agent admin keeps no library: the same menu without 录入机会
    admin = browser_user("admin_a")
    admin.page.goto("/")
    assert zh(app, "Enter an opportunity") not in _menu(admin.page, app, "Opportunity management")


# --- accessible names, one look for the icons, no delete on the head office -----------------------------

def test_row_icons_have_chinese_names_and_one_look(app, browser_user, org):
    root = browser_user("root")
    page = root.page
    page.goto("/departments/")
    with app.app_context():
        head_office = db.session.scalar(select(Department).where(Department.parent_id.is_(None)))
        head_name, total = head_office.name, db.session.query(Department).count()
    delete = page.get_by_role("button", name=admin_text("zh_Hans_CN", "Delete Record"))
    assert delete.count() == total - 1  # every department but the head office
    assert page.locator("tr", has_text=head_name).first.get_by_role(
        "button", name=admin_text("zh_Hans_CN", "Delete Record")).count() == 0
    assert page.get_by_role("link", name=zh(app, "Add a sub-department")).count() == total
    assert page.get_by_role("link", name=admin_text("zh_Hans_CN", "Edit Record")).count() == total

    def look(locator):
        return locator.evaluate("e => { const s = getComputedStyle(e); return [s.color, s.fontSize, "
                                "s.backgroundColor, s.borderTopStyle]; }")
    edit = page.get_by_role("link", name=admin_text("zh_Hans_CN", "Edit Record")).nth(1)
    assert look(delete.first) == look(edit)

    page.goto("/users/")
    row = page.locator("tr", has_text="sales_a")
    for name in ("Reset password", "Delete user"):
        assert row.get_by_role("button", name=zh(app, name)).count() == 1, name
    assert look(row.get_by_role("button", name=zh(app, "Reset password"))) == \
        look(row.get_by_role("link", name=admin_text("zh_Hans_CN", "Edit Record")))
    assert _violations(root) == []


def test_the_server_refuses_to_delete_the_head_office(app, client, auth, org):
    with app.app_context():
        head = db.session.scalar(select(Department).where(Department.parent_id.is_(None)))
        head_id = head.id
    auth.login("root")
    token = csrf_token(client, "/departments/")
    page = client.post("/departments/delete/", data={"id": head_id, "url": "/departments/", "csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert zh(app, "The head office cannot be deleted.") in page
    with app.app_context():
        assert db.session.get(Department, head_id) is not None


# --- the similar-customer question, beside the matches --------------------------------------------------

def test_the_similar_customer_question_sits_with_the_matches(app, browser_user, org):
    _enter(app, "sales_b", "上海瑞丽服装厂")
    sales = browser_user("sales_a")
    page = sales.page
    page.goto("/opportunities/new/")
    page.fill("#company", "上海睿丽服装厂")
    question = page.locator("#live-check #confirm-review-group")
    question.wait_for(state="visible")
    assert "上海瑞丽服装厂" in page.locator("#live-check-rows").inner_text()  # the matches, in the same card
    assert "alert-warning" in question.get_attribute("class")  # a question's colour, not an error's
    assert "text-danger" not in page.locator("#live-check-summary").get_attribute("class")
    assert question.get_by_label(zh(app, "I checked the similar customers above: this is another company")).count() == 1
    # the question and its tick box are next to the matches, not at the bottom of the long form
    tick_y = page.locator("#confirm_review").bounding_box()["y"]
    assert tick_y < page.locator("#district").bounding_box()["y"]

    with page.expect_navigation():  # saved without the tick: asked again, in the same place, no red error
        page.click("#company >> xpath=ancestor::form//*[@type='submit'][1]")
    assert page.locator("#live-check #confirm-review-group").is_visible()
    assert page.locator(".alert-danger").count() == 0
    page.check("#confirm_review")
    with page.expect_navigation():
        page.click("#company >> xpath=ancestor::form//*[@type='submit'][1]")
    # the success message names the customer (not 创建记录成功。)
    assert zh(app, "Entered into your library: %(name)s", name="上海睿丽服装厂") in page.locator(".alert-success").inner_text()
    assert _violations(sales) == []


def test_ones_own_customer_is_a_link_not_a_red_duplicate(app, browser_user, org):
    own_id = _enter(app, "sales_a", "泰安艺动力彩色印刷厂", phone="0538-6212345")
    sales = browser_user("sales_a")
    page = sales.page
    page.goto("/opportunities/new/")
    page.fill("#company", "泰安艺动力彩色印刷厂")
    link = page.locator("#live-check-rows a", has_text="泰安艺动力彩色印刷厂")
    link.wait_for()
    assert link.get_attribute("href") == f"/opportunities/details/?id={own_id}"
    row = page.locator("#live-check-rows tr").first
    assert "table-danger" not in row.get_attribute("class") and "table-info" in row.get_attribute("class")
    assert zh(app, "In your library") in row.inner_text() and zh(app, "Duplicate") not in row.inner_text()
    assert not page.locator("#confirm_review").is_visible()
    # the check page says the same
    page.goto("/dedup/?name=泰安艺动力彩色印刷厂&by=name")
    assert page.locator("#dedup-outcome").get_attribute("data-outcome") == "yours"
    assert "badge-danger" not in page.locator("#dedup-outcome").get_attribute("class")
    assert page.locator("#dedup-result a", has_text="泰安艺动力彩色印刷厂").count() == 1


# --- the small things --------------------------------------------------------------------------------------

def _contrast(locator):
    """WCAG contrast ratio of an element's text against its background."""
    return locator.evaluate("""e => {
        const rgb = c => c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
        const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
                           return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
        const s = getComputedStyle(e); const a = lum(s.color), b = lum(s.backgroundColor);
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); }""")


def test_a_note_that_does_not_count_is_readable(app, browser_user, org):
    opportunity_id = _enter(app, "sales_a", "无锡惠山机械厂")
    with app.app_context():
        sales = db.session.scalar(select(User).filter_by(login="sales_a"))
        notes.add_note(db.session, sales, opportunity_id, "phone", "没人接", 1, unreachable=True)
        db.session.commit()
    page = browser_user("sales_a").page
    page.goto(f"/opportunities/details/?id={opportunity_id}")
    badge = page.locator("#note-timeline .badge", has_text=zh(app, "Not a valid contact"))
    assert _contrast(badge) >= 4.5  # WCAG AA for small text


def test_no_favicon_404_and_a_refused_login_is_a_page(app, browser, live_server, org):
    user = BrowserUser(browser, live_server)
    missing = []
    user.page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    response = user.page.goto("/login")
    user.page.fill("input[name=username]", "sales_a")
    user.page.fill("input[name=password]", "wrong password")
    with user.page.expect_navigation() as refused:
        user.page.click("button[type=submit]")
    assert refused.value.status == 200 and response.status == 200
    assert zh(app, "Wrong login or password.") in user.page.content()
    icon = user.page.request.get("/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] in ("image/vnd.microsoft.icon", "image/x-icon")
    user.login("sales_a")
    user.page.goto("/opportunities/")
    user.page.wait_for_load_state("networkidle")
    assert missing == []
    user.close()


# --- phone width ---------------------------------------------------------------------------------------------

def _phone(user):
    user.page.set_viewport_size(PHONE)
    return user.page


def _fits(app, page, path):
    response = page.goto(path)
    page.wait_for_load_state("networkidle")
    assert response.status == 200, path
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} scrolls sideways: {width}px"
    brand = page.locator("nav .navbar-brand")  # the product's name stays in the bar
    assert brand.is_visible() and brand.inner_text() == zh(app, "Channel CRM"), path


@pytest.fixture
def salesperson_at_phone(app, browser_user, org):
    from datetime import timedelta

    from services import clock

    soon = clock.now() - timedelta(minutes=5)  # due: an hour ahead would be tomorrow after 23:00 in CRM_TIMEZONE
    ids = {"long": _enter(app, "sales_a", LONG_NAME, phone="021-62345678", province="上海", city="上海"),
           "due": _enter(app, "sales_a", "杭州西湖丝绸厂", province="浙江", city="杭州")}
    with app.app_context():
        db.session.get(Opportunity, ids["due"]).next_contact_at = soon
        db.session.commit()
    _enter(app, None, "苏州吴中电子厂有限责任公司", location="public_pool", province="江苏", city="苏州")
    user = browser_user("sales_a")
    _phone(user)
    return user, ids


def _one_line(locator):
    """The element's text takes one or two lines, not one character per line (its padding aside)."""
    box = locator.bounding_box()
    line, padding = locator.evaluate("e => { const s = getComputedStyle(e); return [parseFloat(s.lineHeight) || "
                                     "1.5 * parseFloat(s.fontSize), parseFloat(s.paddingTop) + parseFloat(s.paddingBottom)]; }")
    return box["height"] - padding <= 2 * line + 1


def test_the_salespersons_pages_fit_a_phone(app, salesperson_at_phone):
    user, ids = salesperson_at_phone
    page = user.page
    for path in ("/", "/opportunities/", "/opportunities/?show=all", "/pool/", "/dedup/?name=瑞丽服装&by=name",
                 "/opportunities/new/", f"/opportunities/details/?id={ids['long']}", "/notes/"):
        _fits(app, page, path)
    assert _violations(user) == []


def test_my_opportunities_and_the_pool_are_cards_on_a_phone(app, salesperson_at_phone):
    user, ids = salesperson_at_phone
    page = user.page
    page.goto("/opportunities/?show=all")
    assert not page.locator("table.model-list").is_visible()  # the wide table gives way
    card = page.locator("#opportunity-cards .crm-card-row", has_text=LONG_NAME)
    assert card.is_visible()
    assert _one_line(card.locator(".crm-name"))
    assert "上海" in card.locator(".crm-place").inner_text()
    assert card.locator("a[href^='tel:']").inner_text().strip() == "021-62345678"
    due = page.locator("#opportunity-cards .crm-card-row", has_text="杭州西湖丝绸厂")
    assert zh(app, "Next contact") in due.locator(".crm-next-contact").inner_text()
    with page.expect_navigation():  # the name opens the customer
        card.get_by_role("link", name=LONG_NAME).click()
    assert f"id={ids['long']}" in page.url

    page.goto("/pool/")
    card = page.locator("#pool-cards .crm-card-row", has_text="苏州吴中电子厂有限责任公司")
    assert card.is_visible() and _one_line(card.locator(".crm-name"))
    with page.expect_navigation():
        card.get_by_role("button", name=zh(app, "Claim")).click()
    with app.app_context():
        claimed = db.session.scalar(select(Opportunity).filter_by(company="苏州吴中电子厂有限责任公司"))
        assert claimed.owner.login == "sales_a"

    page.goto("/")
    item = page.locator("#due-today .crm-card-row", has_text="杭州西湖丝绸厂")
    assert _one_line(item.locator(".crm-name")) and "杭州" in item.locator(".crm-place").inner_text()


def test_the_details_page_puts_the_note_form_first_and_hides_empty_fields(app, salesperson_at_phone):
    user, ids = salesperson_at_phone
    page = user.page
    page.goto(f"/opportunities/details/?id={ids['long']}")
    form_y = page.locator("#note-form-card").bounding_box()["y"]
    assert form_y < page.locator("#record-details").bounding_box()["y"]
    assert form_y < 844  # within the first screen of the phone
    labels = page.locator("#record-details th").all_inner_texts()
    assert zh(app, "Landline") in labels and zh(app, "City") in labels  # what was filled
    assert not {zh(app, m) for m in ("Fax", "Email", "Address", "Industry", "Maturity")} & set(labels)  # what was not
    # write the note at phone width
    page.fill("#note-content", "拜访了客户，约好下周报价")
    with page.expect_navigation():
        page.click("#note-form button[type=submit]")
    assert "拜访了客户" in page.locator("#note-timeline").inner_text()


def test_the_check_results_and_the_entry_form_read_on_a_phone(app, salesperson_at_phone):
    user, _ids = salesperson_at_phone
    page = user.page
    page.goto("/dedup/?name=瑞丽服装&by=name")
    name = page.locator("#dedup-result td.crm-name a", has_text=LONG_NAME)  # one's own: the name is a link
    assert name.is_visible() and _one_line(name)
    page.goto("/opportunities/new/")
    page.fill("#company", "瑞丽服装")
    name = page.locator("#live-check-rows td.crm-name a", has_text=LONG_NAME)
    name.wait_for()
    assert _one_line(name)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
