"""Issue 21, point 6, as an agent admin sees it in Chromium: his search finds his customer that duplicates a
public pool (公海) customer; the card says why he cannot merge it, offers no merge button but "not duplicates",
and shows of the pool customer only what the pool's list shows, on a desktop (1366 px) and a phone (390 px).
The search runs on the tests' immediate queue (the worker's walk is tests/test_browser_duplicates.py)."""
import pytest
from test_duplicates import _import
from test_duplicates_scopes import SOUTH_OWN, SOUTH_POOL


@pytest.mark.parametrize("width", [1366, 390])
def test_an_agent_admin_sees_the_pool_pair_without_a_merge_button(app, org, runner, tmp_path, browser_user, width):
    _import(runner, tmp_path, [SOUTH_OWN], "--owner", "sales_a")
    _import(runner, tmp_path, [SOUTH_POOL], "--pool", "public")
    page = browser_user("admin_a").page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/duplicates/")
    assert page.locator("#duplicates-pool-scope").is_visible()
    page.click("#duplicates-start")
    page.wait_for_selector("[data-group]")

    card = page.locator("[data-group]")
    assert card.count() == 1
    note = card.locator("[data-pool-note]")
    assert note.is_visible() and note.inner_text() == "含公海客户，合并需子系统管理员"
    box = note.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width  # read without scrolling sideways
    assert card.locator("[data-merge-link]").count() == 0
    assert card.locator("[data-dismiss-group]").is_visible()
    text = card.inner_text()
    assert SOUTH_OWN["company"] in text and SOUTH_POOL["company"] in text and "公海" in text
    assert "公海客户不显示" in text and SOUTH_OWN["contact"] in text
    assert SOUTH_POOL["contact"] not in text and SOUTH_POOL["mobile"] not in text
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # the table scrolls inside the card
