"""What an agent admin sees of an import's details in Chromium (issue 21, point 9), at 1366 px and at a
phone's 390 px: a preview with nothing to import has its 导入 button disabled and says why; a check
waiting for a background worker (none runs here) says 排队中 and how many jobs are before it, and the
page's polling updates it; 行号 stays on one line; each page has one heading."""
import pytest
from playwright.sync_api import expect
from test_import_details import ALL_DUPLICATES, in_pool
from test_imports import xlsx

from app import create_app
from conftest import _config
from models import DataImport, db
from services.imports import uploads as import_jobs

WAIT_MS = 60_000
HEADINGS = "h1, h2, h3, h4, h5, h6"
ONE_LINE = """element => { const range = document.createRange(); range.selectNodeContents(element);
                           return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }"""


@pytest.fixture
def queue_url():
    return "immediate"  # conftest's: each job runs in the request that commits it


@pytest.fixture
def app(app, tmp_path, queue_url):
    """The test database's app; with `queue_url` "sqlite", a real queue (a SQLite file) that no worker serves."""
    if queue_url == "immediate":
        return app
    return create_app({**_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path),
                       "CRM_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}"})


def open_admin(browser_user, width):
    page = browser_user("admin_a").page
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
    return page


def upload(page, path):
    page.goto("/imports/new/")
    page.set_input_files("#file", str(path))
    page.check("#target-public_pool")
    page.click("#import-upload")
    page.wait_for_selector("#import-file")


def headings(page):
    return [text.strip() for text in page.locator(HEADINGS).all_inner_texts()]


@pytest.mark.parametrize("width", [1366, 390])
def test_nothing_to_import_disables_the_button_and_says_why(app, org, browser_user, tmp_path, width):
    in_pool(app)
    path = tmp_path / "重复的客户.xlsx"
    path.write_bytes(xlsx(ALL_DUPLICATES))
    page = open_admin(browser_user, width)
    page.goto("/imports/")
    assert headings(page) == ["导入"]  # once (the base template said it above the page's own)
    page.goto("/imports/new/")
    assert headings(page) == ["导入客户"]
    upload(page, path)

    assert headings(page) == ["重复的客户.xlsx"]
    button = page.locator("#import-run")
    assert button.is_visible() and button.is_disabled()
    why = page.locator("#import-nothing")
    assert why.inner_text() == "没有可导入的行：2 行均为重复。" and why.is_visible()
    assert button.get_attribute("aria-describedby") == "import-nothing"

    for cell in [page.locator("#import-rows th", has_text="行号"), *page.locator("#import-rows tbody tr td:nth-child(1)").all()]:
        assert cell.evaluate(ONE_LINE) == 1, cell.inner_text()
    assert page.locator("#import-rows tbody tr").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # the table scrolls inside


@pytest.mark.parametrize("queue_url", ["sqlite"])
@pytest.mark.parametrize("width", [1366, 390])
def test_a_waiting_check_says_queued_and_how_many_jobs_are_before_it(app, org, browser_user, tmp_path, width):
    path = tmp_path / "客户名单.xlsx"
    path.write_bytes(xlsx(ALL_DUPLICATES))
    page = open_admin(browser_user, width)
    upload(page, path)
    first = page.url
    upload(page, path)
    text = page.locator("[data-progress-text]")
    assert text.inner_text() == "排队中：前面还有 1 个任务"
    assert text.is_visible() and text.bounding_box()["x"] + text.bounding_box()["width"] <= width
    assert headings(page) == ["客户名单.xlsx"]
    page.evaluate("window.crmSamePage = true")  # gone if the page reloads

    with app.app_context():  # the first import is cancelled (its 取消导入 button, here by its rule)
        item = db.session.get(DataImport, int(first.rstrip("/").rsplit("/", 1)[1]))
        import_jobs.cancel(db.session, item)
        db.session.commit()
    expect(text).to_have_text("排队中：下一个就轮到它", timeout=WAIT_MS)  # the page's polling said so
    assert page.evaluate("window.crmSamePage") is True
    page.goto("/imports/")
    assert "排队中：下一个就轮到它" in page.locator("#imports-table").inner_text()
