"""Issue 22: axe-core (Deque's engine, through the pinned axe-playwright-python, which bundles it and its
licence; nothing from a CDN) over every page a salesperson, an agent admin and a subsystem admin can open,
at 1366 px and at a phone's 390 px, failing on any serious or critical finding.

"Every page" is read from the app's URL map, not listed by hand: each GET rule outside the JSON API and the
static files, its arguments and the details and edit pages' ?id= filled with the test data's records. What
the role may not open (403, 404) is left, once the first error page of each kind has been audited; what is
not text/html (JSON, CSV, .xlsx, images) is no page. Then the login page, the wrong-captcha login, and the
states of the entry form: a live check's result, a refused entry, an open place picker.
"""
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select
from test_duplicates_pages import group_ids, pairs  # noqa: F401 (fixture: duplicate pairs in two companies)
from test_i18n import admin_text
from test_import_details import in_pool
from test_imports import uploaded, xlsx

from conftest import PASSWORD, AuthActions, BrowserUser, post_form
from helpers import ApiClient, api_token
from models import AbandonReason, AuditEntry, ContactNote, DataImport, Department, InfoSource, Opportunity, User, db

AXE = Axe()
WIDTHS = {1366: {"width": 1366, "height": 900}, 390: {"width": 390, "height": 844}}
ROLES = ["sales_a", "admin_a", "root"]
FAILING = {"serious", "critical"}
# What every everyday page must also have (the moderate findings): one main landmark, one h1, and
# all content inside a landmark.
STRUCTURE = {"landmark-one-main", "page-has-heading-one", "region"}
NOT_PAGES = ("/static/", "/admin/static/", "/api/")
ERROR_PAGE = 400


def _findings(page, rules=None):
    """The violations axe-core finds on the page as it is now (of `rules` only, when given)."""
    options = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": sorted(rules)}
    return AXE.run(page, options=options).response["violations"]


def _said(url, violations):
    return "\n".join(f"{url} [{v['impact']}] {v['id']}: {v['help']} -> "
                     + "; ".join(f"{n['target']} {n.get('failureSummary', '')[:160]}" for n in v["nodes"][:4])
                     for v in violations)


def _audit(page, url, problems, structure=True):
    found = _findings(page)
    bad = [v for v in found if v["impact"] in FAILING or (structure and v["id"] in STRUCTURE)]
    if bad:
        problems.append(_said(url, bad))


@pytest.fixture
def records(app, org, pairs, client, tmp_path):  # noqa: F811
    """One record of each kind a page may show: sales_a's customer with a note, a public-pool and an agent-pool
    customer (the duplicate pairs), a duplicate group, an import, the audit log's entries, the settings' lists."""
    in_pool(app, [("深圳市宏达精密五金厂", "0755-27651234", "深圳")])
    api = ApiClient(app, client, api_token(app, "admin_a"))
    uploaded(api, xlsx([["广州市天河区远航电子厂", "020-87654321", "广州", "张经理"]]))
    assert AuthActions(client).login("admin_a").status_code == 302
    post_form(client, "/duplicates/scan", {}, token_from="/duplicates/")
    groups = group_ids(client.get("/duplicates/").get_data(as_text=True))
    assert groups, "the scan found no duplicate group"
    with app.app_context():
        s = db.session
        sales = s.scalar(select(User).filter_by(login="sales_a"))
        mine = s.scalar(select(Opportunity).filter_by(owner_id=sales.id))
        return {
            "Opportunity": mine.id,
            "pool": s.scalar(select(Opportunity.id).filter_by(location="public_pool")),
            "agent_pool": s.scalar(select(Opportunity.id).filter_by(location="agent_admin_pool")),
            "ContactNote": s.scalar(select(ContactNote.id).filter_by(opportunity_id=mine.id)),
            "User": sales.id,
            "Department": s.scalar(select(Department.id).filter_by(name="销售一部")),
            "AuditEntry": s.scalar(select(AuditEntry.id)),
            "InfoSource": s.scalar(select(InfoSource.id)),  # the rows the migrations seed
            "AbandonReason": s.scalar(select(AbandonReason.id)),
            "import_id": s.scalar(select(DataImport.id)),
            "group_id": groups[0],
        }


def _model_id(app, endpoint, records):
    """The record a details or edit page of `endpoint`'s view shows: the view's model, or its own kind."""
    blueprint = endpoint.split(".")[0]
    for view in app.extensions["admin"][0]._views:
        if view.endpoint == blueprint and getattr(view, "model", None) is not None:
            return records.get(blueprint) or records.get(view.model.__name__)
    return None


def every_page(app, records):
    """The URLs of every GET rule of the URL map that could be a page, arguments filled from `records`."""
    urls = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.rule.startswith(NOT_PAGES):
            continue
        # an <id> from the records; any other argument (an export's format) is csv
        url = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(records.get(m.group(1), "csv")), rule.rule)
        if rule.endpoint.endswith((".details_view", ".edit_view")):
            record = _model_id(app, rule.endpoint, records)
            if record is None:
                continue
            url += f"?id={record}"
        urls.append(url)
    return urls


def _is_page(response):
    return response.headers.get("content-type", "").startswith("text/html")


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("login", ROLES)
def test_every_page_of_a_role_has_no_serious_finding(app, browser, live_server, records, login, width):
    user = BrowserUser(browser, live_server)
    page = user.page
    page.set_viewport_size(WIDTHS[width])
    problems, audited, errors_seen = [], [], set()
    page.goto("/login")
    _audit(page, "/login", problems)
    user.login(login)
    for url in every_page(app, records) + ["/no-such-page/"]:
        answer = user.context.request.get(url)  # redirects followed: what the page would end on
        assert answer.status < 500, f"{url}: {answer.status}"
        if not _is_page(answer):
            continue  # JSON, CSV, .xlsx, an image: no page
        if answer.status >= ERROR_PAGE:
            if answer.status in errors_seen:
                continue  # one error page of each kind is enough
            errors_seen.add(answer.status)
        page.goto(url)
        if page.url in audited and not page.locator("main .alert").count():
            continue  # a redirect to a page already audited, with no message of its own
        _audit(page, url, problems)
        audited.append(page.url)
    user.close()
    assert problems == [], "\n".join(problems)
    assert len(audited) > {"sales_a": 8, "admin_a": 20, "root": 25}[login], audited
    assert errors_seen, "no error page was audited"


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_the_states_people_see_have_no_serious_finding(app, browser, live_server, records, width):
    """A wrong captcha on the login page; on the entry form a live check's result, an open place picker and a
    refused entry; the check page with its results."""
    app.config["CRM_CAPTCHA"] = True
    problems = []
    visitor = BrowserUser(browser, live_server)
    page = visitor.page
    page.set_viewport_size(WIDTHS[width])
    page.goto("/login")
    page.fill("input[name=username]", "sales_a")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=captcha]", "ZZZZ")
    page.click("button[type=submit]")  # the page asks /login/captcha-check first and says the miss in place
    page.locator("#captcha-feedback").filter(has_text=re.compile(r"\S")).wait_for()
    assert page.get_attribute("#captcha", "aria-invalid") == "true", "the wrong captcha was not refused"
    _audit(page, "/login (wrong captcha)", problems)
    visitor.close()
    app.config["CRM_CAPTCHA"] = False

    sales = BrowserUser(browser, live_server)
    page = sales.page
    page.set_viewport_size(WIDTHS[width])
    sales.login("sales_a")
    page.goto("/dedup/?name=瑞丽服装&by=name")
    _audit(page, "/dedup/ (results)", problems)

    page.goto("/opportunities/new/")
    page.type("#company", "上海睿丽服装厂")
    page.wait_for_selector("#live-check:not(.d-none) #live-check-rows tr")
    _audit(page, "/opportunities/new/ (a live check's result)", problems)

    page.fill("#province", "广东")
    page.press("#province", "Tab")
    page.wait_for_selector('#city-list option[value="东莞市"]', state="attached")
    page.focus("#city")
    _audit(page, "/opportunities/new/ (the place picker open)", problems)

    page.fill("#company", "杭州明辉灯饰厂")
    page.fill("#phone", "0571-88776655")
    with page.expect_navigation():
        page.click("#company >> xpath=ancestor::form//*[@type='submit'][1]")
    assert "杭州明辉灯饰厂" in page.content()
    assert page.locator("main .alert-danger, main .alert-warning, main .text-danger").count(), "the entry was not refused"
    _audit(page, "/opportunities/new/ (a refused entry)", problems)
    sales.close()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_the_list_filters_are_named(app, browser, live_server, records, width):
    """The filters of 用户管理 are built by Flask-Admin's script, from the link (as the dashboard's 已锁定账号 opens
    them) or by a click on 添加筛选器: each control has a name, as axe asks (部门管理 has a search box only)."""
    admin = BrowserUser(browser, live_server)
    page = admin.page
    page.set_viewport_size(WIDTHS[width])
    admin.login("admin_a")
    problems = []
    page.goto("/users/?flt0_2=locked")
    page.wait_for_selector("table.filters tr")
    _audit(page, "/users/?flt0_2=locked", problems)
    page.goto("/users/")
    page.click("text=" + admin_text("zh_Hans_CN", "Add Filter"))
    page.locator("a.filter").first.click()
    page.wait_for_selector("table.filters tr")
    _audit(page, "/users/ (a filter added)", problems)
    admin.close()
    assert problems == [], "\n".join(problems)


# The everyday pages, for what axe cannot see: reflow at 200% zoom and a visible keyboard focus.
EVERYDAY = {"sales_a": ["/", "/opportunities/", "/opportunities/details/?id={Opportunity}", "/dedup/",
                        "/opportunities/new/", "/pool/", "/notes/", "/my-notices/"],
            "admin_a": ["/", "/users/", "/departments/", "/imports/", "/duplicates/", "/audit/", "/notices/"],
            "root": ["/rules/"]}
ZOOMED = {"width": 683, "height": 384}  # 1366 x 768 at 200%
FOCUS_RING = """() => { const s = getComputedStyle(document.activeElement);
  return [document.activeElement.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]; }"""


@pytest.mark.parametrize("login", sorted(EVERYDAY))
def test_everyday_pages_reflow_at_200_percent_and_show_the_keyboard_focus(browser, live_server, records, login):
    user = BrowserUser(browser, live_server)
    page = user.page
    page.set_viewport_size(ZOOMED)
    user.login(login)
    for url in EVERYDAY[login]:
        page.goto(url.format(**records))
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{url}: {overflow} px of sideways scrolling at 683 px"
        for _ in range(3):  # past the brand, into the page: each stop shows a ring
            page.keyboard.press("Tab")
            tag, style, width = page.evaluate(FOCUS_RING)
            assert style != "none" and width >= 2, f"{url}: the focused {tag} shows no focus ring ({style} {width}px)"
    user.close()


def test_the_home_tables_sort_from_the_keyboard(browser, live_server, records):
    """The figures' column headers are buttons inside column headers: Tab reaches one, Enter sorts, and
    aria-sort says the order to a screen reader (a clickable header alone could not be reached by keyboard)."""
    admin = BrowserUser(browser, live_server)
    page = admin.page
    admin.login("admin_a")
    page.goto("/")
    button = page.locator("table.crm-sortable th[data-sort] button.crm-sort-button").nth(1)  # 有效联系
    header = page.locator("table.crm-sortable th[data-sort]").nth(1)
    assert header.get_attribute("aria-sort") == "none"
    button.focus()
    page.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "ascending"
    page.keyboard.press("Space")
    assert header.get_attribute("aria-sort") == "descending"
    values = page.locator("table.crm-sortable").first.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => parseInt(r.cells[1].textContent, 10))")
    assert values == sorted(values, reverse=True)
    admin.close()
