"""An agent admin imports a customer list in Chromium, as issue 10 walks it: a `.xls` saved by an
office suite (LibreOffice, from tests/data/customers-browser.csv: a title row above the headers,
an information source "网络" and one "朋友推荐" that are not in the list), uploaded from the page,
checked by a real worker (`flask --app app worker`) while the page shows its progress, the preview
(columns, verdicts, why), a source mapped, a row that needs confirmation ticked, the run, and the
report downloaded and read.

Remake the .xls with: soffice --headless --infilter="CSV:44,34,76" --convert-to xls customers-browser.csv
"""
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from faults import environment
from playwright.sync_api import expect
from served import ROOT
from sqlalchemy import select

from app import create_app
from conftest import _config
from models import InfoSource, Opportunity, db
from services.library import opportunities as opps

XLS = Path(__file__).parent / "data" / "customers-browser-libreoffice.xls"
WAIT_MS = 120_000


@pytest.fixture
def app(app, tmp_path):
    """The test database's app, with a real queue (a SQLite file) that a worker process serves."""
    queue = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    return create_app({**_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path), "CRM_QUEUE_URL": queue})


@pytest.fixture
def worker(app, tmp_path):
    env = {**environment(app), "CRM_QUEUE_URL": app.config["CRM_QUEUE_URL"]}
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(30)


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("CRM_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def in_pool(app, company, **fields):
    with app.app_context():
        opps.enter(db.session, None, opps.OpportunityInput.from_mapping({"company": company, **fields}),
                   location="public_pool")
        db.session.commit()


def test_an_admin_imports_an_xls_from_the_browser(app, org, worker, browser_user, shots, tmp_path):
    in_pool(app, "上海瑞丽服装厂", phone="021-62345678", province="上海", city="上海")
    in_pool(app, "上海明辉灯饰厂", province="上海", city="上海")
    admin = browser_user("admin_a")
    page = admin.page
    page.goto("/")
    page.get_by_role("link", name="系统管理").click()  # the menu that holds the admin pages (issue 14)
    page.get_by_role("link", name="导入", exact=True).click()
    page.click("#import-new")
    page.set_input_files("#file", str(XLS))
    page.check("#target-public_pool")
    page.screenshot(path=str(shots / "s10-01-upload.png"), full_page=True)
    page.click("#import-upload")

    # checked on the worker; the page follows the job and shows the preview when it is done
    page.wait_for_selector("#import-mapping", timeout=WAIT_MS)
    assert page.locator("[data-import-status]").inner_text() == "待导入"
    assert "表头在第 3 行" in page.content()  # below the title row and an empty row
    assert page.locator("#column-0").input_value() == "company"  # 公司名称
    assert page.locator("#column-5").input_value() == "key_customer"  # 客户等级: A suggested as a key customer
    level_a = page.locator("label[for^=value-key_customer-]", has_text=re.compile("^A$")).get_attribute("for")
    assert page.locator(f"#{level_a}").input_value() == "1"
    counts = {v: page.locator(f"[data-verdict={v}] .badge").inner_text() for v in ("new", "review", "duplicate",
                                                                                   "invalid")}
    # 朋友推荐 is no list value yet: its two rows are invalid until it is mapped; the blank company too
    assert counts == {"new": "1", "review": "1", "duplicate": "1", "invalid": "3"}, counts
    network = page.locator("label", has_text="网络").first.get_attribute("for")
    assert page.locator(f"#{network}").input_value() == "网络搜索"  # a close list value, chosen for it
    page.screenshot(path=str(shots / "s10-02-preview.png"), full_page=True)

    friend = page.locator("label", has_text="朋友推荐").get_attribute("for")
    page.select_option(f"#{friend}", "客户介绍")
    page.click("#import-recheck")
    page.wait_for_selector("#import-mapping", timeout=WAIT_MS)
    counts = {v: page.locator(f"[data-verdict={v}] .badge").inner_text() for v in ("new", "review", "duplicate",
                                                                                   "invalid")}
    assert counts == {"new": "2", "review": "1", "duplicate": "2", "invalid": "1"}, counts

    page.click("[data-verdict=duplicate]")
    rows = page.locator("#import-rows tbody tr")
    expect(rows).to_have_count(2)  # the page of duplicates loaded (a click that navigates is not awaited)
    why = page.locator("#import-rows").inner_text()
    assert "上海瑞丽服装厂（公海）" in why  # what it matched, and where that record lives
    assert "广州恒达机械有限公司（本文件第4行）" in why  # 广州恒达机械厂 repeats an earlier row, by its line
    page.click("[data-verdict=review]")
    page.check("#import-rows input[name=row]")
    page.screenshot(path=str(shots / "s10-03-review.png"), full_page=True)
    page.click("#import-include button[value=save]")
    expect(page.locator("body")).to_contain_text("将导入 2 个新客户和 1 行已勾选的需确认客户")  # after the save's page

    page.click("#import-run")
    page.wait_for_selector("#import-done", timeout=WAIT_MS)
    assert "已导入 3 个客户；3 行未导入" in page.locator("#import-done").inner_text()
    page.screenshot(path=str(shots / "s10-04-done.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#import-report")
    report = tmp_path / download.value.suggested_filename
    download.value.save_as(report)
    assert report.name.endswith("导入报告.xlsx")
    sheet = openpyxl.load_workbook(report).active
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert table[0] == ["行号", "结论", "原因", "公司名称", "匹配记录", "是否导入"]
    verdicts = sorted((row[0], row[1], row[5]) for row in table[1:])
    assert verdicts == [(5, "撞单", "否"), (7, "撞单", "否"), (8, "需确认", "是"), (9, "无效", "否")], verdicts

    with app.app_context():
        imported = dict(db.session.execute(select(Opportunity.company, InfoSource.name)
                                           .outerjoin(InfoSource, InfoSource.id == Opportunity.source_id)
                                           .where(Opportunity.location == "public_pool")).all())
    assert imported == {"上海瑞丽服装厂": None, "上海明辉灯饰厂": None, "广州恒达机械有限公司": "网络搜索",
                        "深圳华锐电子厂": "客户介绍", "杭州明辉灯饰厂": "展会"}
    assert admin.console == [] or all("Content Security Policy" not in line for line in admin.console)
