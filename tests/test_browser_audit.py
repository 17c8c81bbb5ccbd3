"""Issue 21, point 4, in Chromium: the audit log's 操作 column on one line at 1366 px (it wrapped one character
per line), the sentences beside it; at 390 px one card per entry and no sideways scroll."""
import pytest
from sqlalchemy import select

from conftest import zh
from models import User, db
from services import audit

PHONE = {"width": 390, "height": 844}
# The text lines of an element: the distinct tops of its text's line boxes.
LINES = """el => { const range = document.createRange(); range.selectNodeContents(el);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }"""
MERGE = {"kept": 1, "company": "上海瑞丽服装有限公司", "merged": [{"id": 2, "company": "上海市瑞丽服装厂", "fields": {}}],
         "changed": {"contact": ["王经理", "李经理"], "phone": ["021-62345678", "021-62345679"]}}
# long words without a space (a file's name, an email address): what squeezed the 操作 column before
DETAILS = {"merge": MERGE, "import": {"file": "guangzhou_customers_2026_exported_from_the_old_crm_final_v3.xlsx",
                                      "location": "public_pool", "read": 1200, "imported": 1100},
           "user_created": {"role": "salesperson", "email": "zhang.san.guangzhou.tianhe.sales@example-agent.com.cn"}}


@pytest.fixture
def log(app, org):
    """One entry of every action (the longest labels among them), written as the services write them."""
    with app.app_context():
        root = db.session.scalar(select(User).filter_by(login="root"))
        for action in audit.ACTIONS:
            details = DETAILS.get(action, {"company": "广州市天河区某某电子科技有限公司", "reason": "客户无需求"})
            audit.record(db.session, root, action, details=details)
        db.session.commit()


@pytest.mark.slow
def test_the_action_column_stays_on_one_line_and_a_phone_gets_cards(app, browser_user, log):
    user = browser_user("root")
    page = user.page
    page.goto("/audit/")
    cells = page.locator(".crm-audit-table td.col-action")
    assert cells.count() >= len(audit.ACTIONS)
    for i in range(cells.count()):
        assert cells.nth(i).evaluate(LINES) == 1, cells.nth(i).inner_text()
    assert page.locator(".crm-audit-table th.col-action").evaluate(LINES) == 1
    merged = page.locator(".crm-audit-table td.col-details", has_text="上海市瑞丽服装厂")
    assert zh(app, "%(actor)s merged %(merged)s into %(kept)s", actor="root", merged="上海市瑞丽服装厂",
              kept="上海瑞丽服装有限公司") in merged.inner_text()
    assert f'{zh(app, "Contact person")}：王经理 → 李经理' in merged.inner_text()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1366

    page.set_viewport_size(PHONE)
    assert not page.locator(".crm-audit-table").is_visible()
    cards = page.locator("#audit-cards .audit-card")
    assert cards.count() == cells.count() and cards.first.is_visible()
    assert cards.first.locator(".audit-card-action").evaluate(LINES) == 1
    assert page.locator("#audit-cards", has_text="上海市瑞丽服装厂").is_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
