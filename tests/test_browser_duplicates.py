"""An agent admin finds and merges a duplicate in Chromium, as issue 11 walks it: two records of one
company already inside (an old list loaded into the agent-admin pool with --skip-check, and the same
company in a salesperson's library), the search started from the page and run by a real worker
(`flask --app app worker`) while the page follows it, the group side by side, the merge page (the
salesperson's record kept, the old list's contact person chosen), the kept record with both records'
notes, and the merge undone from the merges list.
"""
import csv
import io

from sqlalchemy import select
from test_browser_imports import WAIT_MS, app, shots, worker  # noqa: F401 (fixtures: a real queue and worker)

from models import ContactNote, Opportunity, User, db
from services.library import notes

OLD_LIST = [["公司名称", "电话", "手机", "省份", "城市", "联系人"],
            ["上海市瑞丽服装有限公司", "62345678", "13902201234", "上海", "上海", "李经理"]]
LIBRARY = [["公司名称", "电话", "省份", "城市", "联系人"], ["上海瑞丽服装厂", "021-62345678", "上海", "上海", "王经理"]]


def load(app, tmp_path, name, rows, *where):
    """A list loaded as a migration does: `flask opportunities import --skip-check`."""
    path = tmp_path / name
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["opportunities", "import", str(path), "--skip-check", *where])
    assert result.exit_code == 0, result.output
    with app.app_context():
        return db.session.scalar(select(Opportunity.id).filter_by(company=rows[1][0]))


def two_records(app, tmp_path):
    old = load(app, tmp_path, "old.csv", OLD_LIST, "--pool", "agent_admin", "--department", "华南代理")
    mine = load(app, tmp_path, "mine.csv", LIBRARY, "--owner", "sales_a")
    with app.app_context():
        admin, sales = (db.session.scalar(select(User).filter_by(login=login)) for login in ("admin_a", "sales_a"))
        db.session.add(ContactNote(opportunity_id=old, author_id=admin.id, method="phone", content="旧系统：李经理要报价单",
                                   maturity=2, valid=True, created_at=db.session.get(Opportunity, old).entered_at))
        notes.add_note(db.session, sales, mine, "visit", "王经理说下周下单", 3)
        db.session.commit()
    return old, mine


def test_an_admin_merges_a_duplicate_and_undoes_it(app, org, worker, browser_user, shots, tmp_path):
    old, mine = two_records(app, tmp_path)
    admin = browser_user("admin_a")
    page = admin.page
    page.goto("/")
    page.get_by_role("link", name="系统管理").click()  # the menu that holds the admin pages (issue 14)
    page.get_by_role("link", name="重复客户", exact=True).click()
    assert "还没有完成过查找" in page.locator("#duplicates-last-scan").inner_text()
    page.click("#duplicates-start")

    # the worker searches; the page follows the job and shows the groups when it is done
    page.wait_for_selector("[data-group]", timeout=WAIT_MS)
    assert "检查了 2 个客户，发现撞单 1 组" in page.locator("#duplicates-last-scan").inner_text()
    card = page.locator("[data-group]")
    assert card.count() == 1
    text = card.inner_text()
    assert "上海市瑞丽服装有限公司" in text and "上海瑞丽服装厂" in text
    assert "代理商管理员库" in text and "sales_a" in text
    assert card.locator("tr.crm-differs", has_text="联系人").count() == 1  # 李经理 / 王经理, highlighted
    page.screenshot(path=str(shots / "s11-01-groups.png"), full_page=True)

    card.locator("[data-merge-link]").click()
    page.wait_for_load_state("load")  # the form's script is attached (a busy machine may click before it)
    assert page.locator(f"#keep-{old}").is_checked()  # the oldest record, by default
    page.check(f"#keep-{mine}")  # keep the salesperson's record
    assert page.locator(f"#merge-{mine}").is_disabled() and page.locator(f"#merge-{old}").is_checked()
    assert page.locator(f"#value-contact-{mine}").is_checked()  # the kept record's own value follows the choice
    assert page.locator(f"#value-mobile-{old}").is_checked()  # its own is empty: the other's
    page.check(f"#value-contact-{old}")  # the old list's contact person
    page.screenshot(path=str(shots / "s11-02-merge.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the table scrolls inside, the page does not
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1366, "height": 900})

    page.click("#merge-submit")
    page.wait_for_url(f"**/opportunities/details/?id={mine}")
    assert "已将 上海市瑞丽服装有限公司 合并到 上海瑞丽服装厂" in page.locator(".alert-success").inner_text()
    details = page.locator(".table").first.inner_text()
    assert "李经理" in details and "13902201234" in details and "sales_a" in details
    timeline = page.locator("#note-timeline").inner_text()
    assert "旧系统：李经理要报价单" in timeline and "王经理说下周下单" in timeline
    page.screenshot(path=str(shots / "s11-03-merged.png"), full_page=True)

    page.goto("/duplicates/")
    assert page.locator("[data-group]").count() == 0
    page.click("#duplicates-merges-link")
    row = page.locator("#merges-table tbody tr").first
    assert "上海瑞丽服装厂" in row.inner_text() and "上海市瑞丽服装有限公司" in row.inner_text()
    page.screenshot(path=str(shots / "s11-04-merges.png"), full_page=True)
    row.locator("[data-undo-merge]").click()
    assert "已撤销合并" in page.locator(".alert-success", has_text="已撤销合并").inner_text()
    page.screenshot(path=str(shots / "s11-05-undone.png"), full_page=True)

    # both records back where they were, each with its own contact person and note
    page.goto(f"/agent-pool/details/?id={old}")
    assert "李经理" in page.locator(".table").first.inner_text()
    assert "旧系统：李经理要报价单" in page.locator("#note-timeline").inner_text()
    page.goto(f"/opportunities/details/?id={mine}")
    assert "王经理" in page.locator(".table").first.inner_text()
    assert "旧系统" not in page.locator("#note-timeline").inner_text()
    assert admin.console == [] or all("Content Security Policy" not in line for line in admin.console)
