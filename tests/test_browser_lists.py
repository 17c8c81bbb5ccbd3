"""Issue 21, points 2 and 5, in Chromium at 1366 px and at 390 px: 我的机会 after an abandon, its 今日应联系 tab
empty and saying why, one selected tab; 联系小记 as cards without a sideways scroll; a public-pool card ticked and
claimed through 批量操作 on a phone.
"""
from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import zh
from models import Opportunity, User, db
from services import clock
from services.library import notes, opportunities
from services.library.opportunities import OpportunityInput

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
WIDTHS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
LONG_NOTE = "上门拜访王经理，" * 30 + "约好下周三带报价单再去一次"


def _own(app, login, company, location="library", next_contact_in=None):
    with app.app_context():
        owner = db.session.scalar(select(User).filter_by(login=login)) if login else None
        row = opportunities.insert_opportunity(db.session, owner, OpportunityInput(company=company), location, None)
        if next_contact_in is not None:
            row.next_contact_at = clock.now() + next_contact_in
        db.session.commit()
        return row.id


def _selected_tabs(page):
    """The visible texts of the list's selected tabs (the first tab bar)."""
    return [t.strip() for t in page.locator("ul.nav-tabs").first.locator("a.nav-link.active").all_inner_texts()]


def _no_sideways_scroll(page):
    width = page.viewport_size["width"]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("innerWidth") == width
    widest = page.evaluate("Math.max(0, ...[...document.querySelectorAll('table')]"
                           ".filter(t => t.offsetParent !== null).map(t => t.getBoundingClientRect().width))")
    assert widest <= width, f"a table {widest}px wide in a {width}px window"


@WIDTHS
def test_my_opportunities_after_an_abandon_and_the_empty_due_tab(app, browser_user, org, viewport):
    kept = _own(app, "sales_a", "苏州新天地纺织厂", next_contact_in=timedelta(days=3))  # not due today
    gone = _own(app, "sales_a", "扬州五环印花厂")
    user = browser_user("sales_a")
    page = user.page
    page.set_viewport_size(viewport)
    page.goto(f"/opportunities/details/?id={gone}")
    page.select_option("#abandon-reason", index=1)  # the first of the abandon reasons
    page.remove_listener("dialog", user._dialog)
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator("#abandon-form button[type=submit]").click()
    assert page.url.endswith("/opportunities/")
    shown = page.locator("#opportunity-cards" if viewport is PHONE else "table.model-list")
    assert shown.is_visible() and "苏州新天地纺织厂" in shown.inner_text()
    assert page.locator(f"#opportunity-cards [data-id='{kept}']").count() == 1
    assert "表中没有任何记录" not in page.content()
    assert _selected_tabs(page) == [f'{zh(app, "All")} (1)']
    # the bar's 今日应联系 leads to the tab; nothing due: it says why and links to 全部
    with page.expect_navigation():
        page.locator("#show-due").click()
    assert _selected_tabs(page) == [zh(app, "Due for contact today")]
    why = page.locator(".crm-empty-why:visible")
    assert why.count() == 1 and why.inner_text() == zh(app, "Nobody is due for contact today.")
    with page.expect_navigation():
        page.locator(".crm-empty-link:visible", has_text=zh(app, "All customers")).click()
    assert page.url.endswith("/opportunities/") and _selected_tabs(page) == [f'{zh(app, "All")} (1)']
    assert page.locator("text=苏州新天地纺织厂 >> visible=true").count() == 1
    _no_sideways_scroll(page)


@WIDTHS
def test_the_tabbed_lists_show_one_selected_tab(app, browser_user, org, viewport):
    _own(app, "sales_a", "苏州新天地纺织厂")
    user = browser_user("admin_a")
    page = user.page
    page.set_viewport_size(viewport)
    for path, label in (("/users/", "Users"), ("/users/?show=deleted", "Deleted"),
                        ("/agent-pool/", "Agent-admin pool"), ("/agent-pool/?show=deleted", "Deleted"),
                        ("/opportunities/", "All"), ("/opportunities/?show=deleted", "Deleted")):
        page.goto(path)
        selected = _selected_tabs(page)
        assert len(selected) == 1 and selected[0].startswith(zh(app, label)), (path, selected)


@WIDTHS
def test_contact_notes_fit_the_screen(app, browser_user, org, viewport):
    opportunity_id = _own(app, "sales_a", "上海市浦东新区张江高科技园区瑞丽服装有限公司")
    with app.app_context():
        sales = db.session.scalar(select(User).filter_by(login="sales_a"))
        notes.add_note(db.session, sales, opportunity_id, "visit", LONG_NOTE, 3,
                       next_contact_at=clock.now() + timedelta(days=7))
        db.session.commit()
    user = browser_user("sales_a")
    page = user.page
    page.set_viewport_size(viewport)
    page.goto("/notes/")
    page.wait_for_load_state("networkidle")
    _no_sideways_scroll(page)
    card = page.locator("#note-cards .note-card")
    if viewport is PHONE:
        assert not page.locator("table.model-list").is_visible() and card.count() == 1 and card.is_visible()
        assert "约好下周三带报价单再去一次" in card.inner_text()
        box = card.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        name = card.locator(".crm-name").bounding_box()  # the company on a line or two, not a column of characters
        assert name["width"] > PHONE["width"] / 2
    else:
        assert page.locator("table.model-list").is_visible() and not card.is_visible()


def test_a_pool_card_is_ticked_and_claimed_through_bulk_actions_on_a_phone(app, browser_user, org):
    first = _own(app, None, "苏州吴中电子厂有限责任公司", location="public_pool")
    second = _own(app, None, "无锡太湖电子厂", location="public_pool")
    user = browser_user("sales_a")
    page = user.page
    page.set_viewport_size(PHONE)
    page.goto("/pool/")
    _no_sideways_scroll(page)
    card = page.locator("#pool-cards .crm-card-row", has_text="苏州吴中电子厂有限责任公司")
    card.locator("label.crm-name").click()  # the name ticks the box, as the box itself does
    assert card.locator("input.action-checkbox").is_checked()
    page.remove_listener("dialog", user._dialog)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("ul.nav-tabs a.dropdown-toggle", has_text=zh(app, "Bulk actions")).click()
    with page.expect_navigation():
        page.locator("[data-crm-action=claim]").click()
    assert zh(app, "%(n)d customers are now in your library.", n=1) in page.content()
    with app.app_context():
        assert db.session.get(Opportunity, first).owner.login == "sales_a"
        assert db.session.get(Opportunity, second).location == "public_pool"
