"""Issue 12 in Chromium: province, city, district and town as cascading pickers, typed or picked.

A pick from a <datalist> is, to the page, the option's text put in the field with an `input` event:
what Playwright's fill does. Each pick is made only once the option is in the list the page loaded.
"""
from playwright.sync_api import expect

from conftest import zh

PHONE = {"width": 390, "height": 844}


def _violations(user):
    return [m for m in user.console if "Content Security Policy" in m or "Refused to" in m]


def _offered(page, level, name):
    """Wait until the picker of `level` offers `name`; the names it offers."""
    page.wait_for_selector(f'#{level}-list option[value="{name}"]', state="attached")
    return page.eval_on_selector_all(f"#{level}-list option", "options => options.map(o => o.value)")


def _type(page, selector, text):
    page.fill(selector, "")
    page.type(selector, text)
    page.press(selector, "Tab")  # the field left: its change, as a person moving on


def test_type_a_province_pick_a_city_and_a_town_then_see_them_saved(app, browser_user, org):
    user = browser_user("sales_a")
    page = user.page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/opportunities/new/")
    assert page.inner_text("label[for=district]").strip() == "区县"
    assert page.inner_text("label[for=town]").strip() == "乡镇/街道"
    page.fill("#company", "东莞常平远航五金厂")
    page.fill("#phone", "0769-83331234")

    # first somewhere else: 江苏 → 扬州市 → 江都 → its towns
    _type(page, "#province", "江苏")
    expect(page.locator("#province")).to_have_value("江苏省")  # the short name in full
    _offered(page, "city", "扬州市")
    page.fill("#city", "扬州市")
    _offered(page, "district", "江都区")
    _type(page, "#district", "江都")
    assert "仙女镇" in _offered(page, "town", "仙女镇")
    expect(page.locator("#district")).to_have_value("江都区")
    page.fill("#town", "仙女镇")

    # another province: the levels under it are cleared, and its cities offered
    _type(page, "#province", "广东")
    expect(page.locator("#province")).to_have_value("广东省")
    cities = _offered(page, "city", "东莞市")
    assert "扬州市" not in cities
    assert [page.input_value(f"#{level}") for level in ("city", "district", "town")] == ["", "", ""]

    page.fill("#city", "东莞市")  # picked from the list
    towns = _offered(page, "town", "常平镇")
    assert "仙女镇" not in towns and "虎门镇" in towns
    assert page.eval_on_selector_all("#district-list option", "o => o.length") == 0  # 东莞市 has no districts
    page.fill("#town", "常平镇")
    with page.expect_navigation():
        page.click("#company >> xpath=ancestor::form//*[@type='submit'][1]")
    page.wait_for_load_state()
    assert page.url.endswith("/opportunities/")  # saved: back to the list, the customer in it
    with page.expect_navigation():
        page.get_by_role("link", name="东莞常平远航五金厂").first.click()
    assert page.inner_text("#record-place").strip() == "广东省东莞市常平镇"
    assert "常平镇" in page.inner_text("#record-details")
    assert _violations(user) == [] and errors == []


def test_the_checks_pickers_at_phone_width(app, browser_user, org):
    user = browser_user("sales_a")
    page = user.page
    page.set_viewport_size(PHONE)
    page.goto("/dedup/")
    _type(page, "#province", "江苏")
    _offered(page, "city", "扬州市")
    _type(page, "#city", "扬州")
    expect(page.locator("#city")).to_have_value("扬州市")
    _offered(page, "district", "江都区")
    for level in ("province", "city", "district", "town"):
        box = page.locator(f"#{level}").bounding_box()
        assert box["width"] >= 120 and box["x"] + box["width"] <= PHONE["width"], level
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    page.fill("#name", "通达机械")
    page.fill("#town", "仙女镇")
    with page.expect_navigation():
        page.click("button[name=by][value=name]")
    assert page.input_value("#town") == "仙女镇" and page.input_value("#city") == "扬州市"
    with page.expect_navigation():
        page.click("#dedup-enter")
    assert page.input_value("#town") == "仙女镇" and page.input_value("#province") == "江苏省"
    assert zh(app, "Town or subdistrict") == "乡镇/街道"
    assert _violations(user) == []
