"""Stored and reflected XSS, in a real browser: the usual payloads in every text a user can write
come back as text on every page that shows them, and no script of theirs runs.

Each payload sets `window.__xss` or opens a dialog if it ever executes; the page must also show
the payload's text, so that a page which merely dropped the field would not pass.
"""
import pytest
from sqlalchemy import select

from models import AbandonReason, InfoSource, Opportunity, User, db
from services.library import notes, opportunities
from services.library.opportunities import OpportunityInput
from services.people import departments

PAYLOADS = [
    "<script>window.__xss=1</script>脚本",
    '"><img src=x onerror="window.__xss=1;alert(1)">图片',
    "'><svg onload=window.__xss=1>矢量",
    "javascript:window.__xss=1//链接",
    "{{7*7}}模板{% raw %}{%%}{% endraw %}",
]

DEPARTMENT = "<b onmouseover=window.__xss=1>悬停部门<b>"


def _seed(app):
    """sales_a's customers carry a payload in each free-text field; a note, a source, a department too."""
    with app.app_context():
        s = db.session
        sales = s.scalar(select(User).filter_by(login="sales_a"))
        ids = []
        for n, payload in enumerate(PAYLOADS):
            data = OpportunityInput(company=f"{payload}恒达{n}号贸易有限公司", contact=payload, address=payload,
                                    industry=payload[:60], phone=f"020-8765432{n}")
            opportunity = opportunities.insert_opportunity(s, sales, data, "library", None)
            notes.add_note(s, sales, opportunity.id, "phone", payload, 3)
            ids.append(opportunity.id)
        s.add(InfoSource(name=PAYLOADS[1][:60]))
        s.add(AbandonReason(name=PAYLOADS[2][:60]))
        departments.resolve_path(s, "华南代理/" + DEPARTMENT, create=True)  # a PATH: no "/" inside
        s.commit()
        return ids


@pytest.fixture
def seeded(app, org):
    """The payloads written; the two admin lists get their rows back afterwards (migrations seed them)."""
    yield _seed(app)
    with app.app_context():
        db.session.execute(db.delete(InfoSource).where(InfoSource.name == PAYLOADS[1][:60]))
        db.session.execute(db.delete(AbandonReason).where(AbandonReason.name == PAYLOADS[2][:60]))
        db.session.commit()


def _assert_inert(user, path, expect_text):
    user.page.goto(path)
    user.page.wait_for_load_state("networkidle")
    body = user.page.inner_text("body")
    assert expect_text in body, f"{path} does not show the text {expect_text!r}"
    assert user.page.evaluate("typeof window.__xss") == "undefined", f"a script ran on {path}"
    assert user.dialogs == [], f"a dialog opened on {path}: {user.dialogs}"


def test_payloads_in_customers_and_notes_stay_text_for_the_owner(seeded, browser_user):
    ids = seeded
    user = browser_user("sales_a")
    _assert_inert(user, "/opportunities/?show=all", "恒达0号贸易有限公司")
    _assert_inert(user, "/opportunities/?show=all", "<script>window.__xss=1</script>")
    for opportunity_id, payload in zip(ids, PAYLOADS):
        _assert_inert(user, f"/opportunities/details/?id={opportunity_id}", payload)
    _assert_inert(user, "/", "渠道CRM")


def test_payloads_in_the_duplicate_check_stay_text(seeded, browser_user):
    user = browser_user("sales_b")  # another company's salesperson: sees name and place only
    for payload in PAYLOADS[:3]:
        user.page.goto("/dedup/")
        user.page.fill("input[name=name]", payload + "恒达")
        user.page.keyboard.press("Enter")
        user.page.wait_for_load_state("networkidle")
        assert "恒达" in user.page.inner_text("body")
        assert user.page.evaluate("typeof window.__xss") == "undefined"
        assert user.dialogs == []


def test_payloads_stay_text_on_the_admin_pages(app, seeded, browser_user):
    ids = seeded
    with app.app_context():
        sales = db.session.scalar(select(User).filter_by(login="sales_a"))
        opportunities.abandon(db.session, sales, ids[0], PAYLOADS[2][:60])
        db.session.commit()
        assert db.session.get(Opportunity, ids[0]).location == "agent_admin_pool"
    admin = browser_user("admin_a")
    _assert_inert(admin, "/agent-pool/", "恒达0号贸易有限公司")
    _assert_inert(admin, "/departments/", DEPARTMENT)
    _assert_inert(admin, "/users/", "sales_a")
    admin.page.goto("/departments/")
    admin.page.hover("text=悬停部门")
    assert admin.page.evaluate("typeof window.__xss") == "undefined"
    root = browser_user("root")
    _assert_inert(root, "/info-sources/", PAYLOADS[1][:60])
    _assert_inert(root, "/abandon-reasons/", PAYLOADS[2][:60])


@pytest.mark.parametrize("path", ["/opportunities/?search=<script>window.__xss=1</script>",
                                  "/dedup/?name=%22%3E%3Cimg+src%3Dx+onerror%3Dwindow.__xss%3D1%3E&by=name",
                                  "/pool/?search=%3Csvg+onload%3Dwindow.__xss%3D1%3E"])
def test_reflected_payloads_in_urls_stay_text(app, org, browser_user, path):
    user = browser_user("sales_a")
    user.page.goto(path)
    user.page.wait_for_load_state("networkidle")
    assert user.page.evaluate("typeof window.__xss") == "undefined"
    assert user.dialogs == []


def test_payloads_arriving_through_the_lead_api_and_an_import_stay_text(app, org, browser_user, runner, tmp_path):
    from helpers import ApiClient, api_token

    lead = ApiClient(app, app.test_client(), api_token(app, "admin_a")).post("/leads", {
        "company": "<img src=x onerror=window.__xss=1>网上注册贸易有限公司", "contact": PAYLOADS[0],
        "phone": "020-87650001", "department": "华南代理/销售一部/电话组"})
    assert lead.status_code == 201, lead.get_json()
    opportunity_id = lead.get_json()["opportunity"]["id"]
    sheet = tmp_path / "客户.csv"
    sheet.write_text("公司名称,联系人,电话\n\"<svg onload=window.__xss=1>导入测试厂\",\"" + PAYLOADS[1].replace('"', '""')
                     + "\",020-87650002\n", encoding="utf-8-sig")
    result = runner.invoke(args=["opportunities", "import", str(sheet)])
    assert result.exit_code == 0, result.output
    owner = browser_user("sales_a")  # the lead went to the only salesperson of 电话组
    _assert_inert(owner, "/opportunities/?show=all", "<img src=x onerror=window.__xss=1>网上注册贸易有限公司")
    _assert_inert(owner, f"/opportunities/details/?id={opportunity_id}", PAYLOADS[0])
    _assert_inert(owner, "/pool/", "<svg onload=window.__xss=1>导入测试厂")
