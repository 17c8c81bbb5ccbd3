"""Issue 21, point 3 in Chromium at 1366 and 390 px: the entry form's live duplicate check speaks where one
types. Its word sits right under the field checked (公司名称, 电话, 手机), announced to screen readers, with
无重复 when the check found nothing; the matches (verdict, owner) right under it."""
import pytest
from sqlalchemy import select

from conftest import set_rules, zh
from models import User, db
from services.library import opportunities
from services.library.opportunities import OpportunityInput

SIZES = [{"width": 1366, "height": 900}, {"width": 390, "height": 844}]


def _enter(app, login, company, **fields):
    with app.app_context():
        owner = db.session.scalar(select(User).filter_by(login=login))
        opportunities.insert_opportunity(db.session, owner, OpportunityInput(company=company, **fields), "library", None)
        db.session.commit()


def _box(page, selector):
    return page.locator(selector).bounding_box()


def _right_under(page, field, below):
    """The field's own line is right under its input, and `below` right under that line."""
    field_box, line, panel = _box(page, f"#{field}"), _box(page, f"#{field}-check"), _box(page, below)
    assert 0 <= line["y"] - (field_box["y"] + field_box["height"]) < 12, (field_box, line)
    assert abs(line["x"] - field_box["x"]) < 2  # aligned with the input, not off to a side
    assert 0 <= panel["y"] - (line["y"] + line["height"]) < 40, (line, panel)


def _violations(user):
    return [m for m in user.console if "Content Security Policy" in m or "Refused to" in m]


@pytest.fixture
def entry_form(browser_user):
    def open_at(login, size):
        user = browser_user(login)
        user.page.set_viewport_size(size)
        user.page.goto("/opportunities/new/")
        return user
    return open_at


@pytest.mark.parametrize("size", SIZES, ids=["1366", "390"])
def test_the_warning_sits_right_under_the_company_name(app, org, entry_form, size):
    _enter(app, "sales_b", "扬州五环印花厂", phone="0514-2398577")
    user = entry_form("sales_a", size)
    page = user.page
    company = page.locator("#company")
    assert company.get_attribute("aria-describedby") == "company-check"
    line = page.locator("#company-check")
    assert line.get_attribute("aria-live") == "polite"
    page.fill("#company", "扬州五环印花厂")
    page.locator("#company-check[data-state=blocks]").wait_for()
    assert line.inner_text() == zh(app, "Already a customer: %(n)d listed below. It cannot be entered.", n=1)
    assert "text-danger" in line.get_attribute("class")
    panel = page.locator("#live-check")
    assert panel.is_visible()
    # what the check said before is still said: the verdict, the owner, where it lives
    row = page.locator("#live-check-rows tr").first
    assert "扬州五环印花厂" in row.inner_text() and "sales_b" in row.inner_text()
    assert zh(app, "Duplicate") in row.inner_text()
    summary = page.inner_text("#live-check-summary")  # the save's verdict, naming whose library
    assert "sales_b" in summary and "不能录入" in summary
    _right_under(page, "company", "#live-check")
    assert _box(page, "#live-check")["y"] < _box(page, "#phone")["y"]  # before the next field, not six below
    if size["width"] == 390:  # on a phone the warning is in sight while typing, not under the keyboard
        assert _box(page, "#live-check")["y"] - _box(page, "#company")["y"] < size["height"] / 2
    assert _violations(user) == []


@pytest.mark.parametrize("size", SIZES, ids=["1366", "390"])
def test_a_new_name_says_no_duplicate(app, org, entry_form, size):
    _enter(app, "sales_b", "扬州五环印花厂")
    user = entry_form("sales_a", size)
    page = user.page
    page.fill("#company", "宁波江北甬达五金厂")
    page.locator("#company-check[data-state=none]").wait_for()
    line = page.locator("#company-check")
    assert line.inner_text() == "✓ 无重复" and zh(app, "No duplicate") == "无重复"
    assert "text-success" in line.get_attribute("class") and line.is_visible()
    assert not page.locator("#live-check").is_visible()
    _right_under(page, "company", "label[for=phone]")  # nothing else between the name and the next field
    # the word follows the name typed: a match after it says so
    page.fill("#company", "扬州五环印花厂")
    page.locator("#company-check[data-state=blocks]").wait_for()
    assert "无重复" not in line.inner_text()
    assert _violations(user) == []


@pytest.mark.parametrize("size", SIZES, ids=["1366", "390"])
def test_the_numbers_result_sits_under_the_phone_field(app, org, entry_form, size):
    _enter(app, "sales_b", "扬州五环印花厂", phone="0514-2398577")
    user = entry_form("sales_a", size)
    page = user.page
    assert page.get_attribute("#phone", "aria-describedby") == "phone-check"
    page.fill("#company", "宁波江北甬达五金厂")
    page.locator("#company-check[data-state=none]").wait_for()
    page.fill("#phone", "0514-2398577")
    page.locator("#phone-check[data-state=blocks]").wait_for()
    assert page.inner_text("#company-check") == "✓ 无重复"  # the name found nothing: it still says so
    assert page.locator("#phone-check").get_attribute("aria-live") == "polite"
    _right_under(page, "phone", "#live-check")
    assert _box(page, "#live-check")["y"] < _box(page, "#fax")["y"]
    assert "扬州五环印花厂" in page.inner_text("#live-check-rows")
    assert "0514-2398577" in page.inner_text("#live-check-rows")  # why it matched: the same landline
    assert _violations(user) == []


@pytest.mark.parametrize("size", SIZES, ids=["1366", "390"])
def test_the_mobiles_result_sits_under_the_mobile_field(app, org, entry_form, size):
    _enter(app, "sales_b", "扬州五环印花厂", mobile="13905142398")
    user = entry_form("sales_a", size)
    page = user.page
    assert page.get_attribute("#mobile", "aria-describedby") == "mobile-check"
    page.fill("#company", "宁波江北甬达五金厂")
    page.fill("#mobile", "139 0514 2398")
    page.locator("#mobile-check[data-state=blocks]").wait_for()
    _right_under(page, "mobile", "#live-check")
    assert _box(page, "#live-check")["y"] < _box(page, "#province")["y"]
    page.fill("#mobile", "13905149999")  # another number: the mobile's own 无重复, the matches gone
    page.locator("#mobile-check[data-state=none]").wait_for()
    assert page.inner_text("#mobile-check") == "✓ 无重复"
    assert not page.locator("#live-check").is_visible()
    assert _violations(user) == []


def test_the_daily_limit_is_said_under_the_field_typed(app, org, entry_form):
    set_rules(app, daily_check_limit=1)
    user = entry_form("sales_a", SIZES[1])
    page = user.page
    page.fill("#company", "宁波江北甬达五金厂")
    page.locator("#company-check[data-state=none]").wait_for()  # the one check of the day
    page.fill("#phone", "0574-87000000")
    page.locator("#phone-check[data-state=limit]").wait_for()
    line = page.locator("#phone-check")
    assert "text-danger" in line.get_attribute("class")
    assert line.inner_text() == zh(app, "You have reached today's limit of %(n)d duplicate checks. The limit keeps "
                                   "the customer database from being copied out; it starts again tomorrow. Entering "
                                   "customers still works.", n=1)
    assert page.inner_text("#company-check") == ""  # no stale 无重复 for a check that did not run
    _right_under(page, "phone", "label[for=fax]")
    assert _violations(user) == []
