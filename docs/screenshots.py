"""Screenshots of the CRM's pages for the README and the user guide, taken in a real browser.

    .venv/bin/python docs/screenshots.py [OUTDIR]

Builds a demo organisation in a throw-away SQLite database, serves the app on a free
local port, and drives Debian's Chromium (/usr/bin/chromium, or CRM_CHROMIUM) with
Playwright. Nothing is downloaded.
"""
import os
import socket
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from models import db  # noqa: E402
from services.library import opportunities  # noqa: E402
from services.people import accounts, departments  # noqa: E402

PASSWORD = "渠道客户管理2026"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def build_demo(app):
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        s = db.session
        for path in ("华南代理/销售一部/电话组", "华南代理/销售一部/拜访组", "华南代理/销售二部", "华南代理/客服部",
                     "华东代理/销售一部", "华东代理/大客户部"):
            departments.resolve_path(s, path, create=True)
        people = [
            ("root", "subsystem_admin", "/", ()),
            ("admin_hn", "agent_admin", "华南代理", ()),
            ("liu_jingli", "manager", "华南代理/销售一部", ("华南代理/销售一部",)),
            ("chen_zhuguan", "supervisor", "华南代理/销售一部", ("华南代理/销售一部/电话组",)),
            ("zhangsan", "salesperson", "华南代理/销售一部/电话组", ()),
            ("lisi", "salesperson", "华南代理/销售一部/电话组", ()),
            ("wangwu", "salesperson", "华南代理/销售一部/拜访组", ()),
            ("zhaoliu", "salesperson", "华南代理/销售二部", ()),
        ]
        for login, role, dept, managed in people:
            accounts.create_user(s, None, login, role, departments.resolve_path(s, dept),
                                 [departments.resolve_path(s, p) for p in managed], password=PASSWORD)
        s.flush()
        locked = accounts.find_user(s, "wangwu")
        locked.locked_at = locked.created_at
        lisi = accounts.find_user(s, "lisi")
        zhangsan = accounts.find_user(s, "zhangsan")
        customers = [  # (who, where, company, landline, fax)
            (lisi, "library", "上海市瑞丽服装有限公司", "021-62345678", ""),
            (None, "public_pool", "广州恒达五金制品厂", "020-83456789", ""),
            (None, "industry", "佛山市南海区里水惠翔印刷厂", "0757-85601234", ""),
            (zhangsan, "library", "泰安艺动力彩色印刷厂", "0538-6212345", "0538-6212346"),
            (zhangsan, "library", "杭州绿源茶业有限公司", "0571-86012345", ""),
        ]
        placed = []
        for owner, location, company, phone, fax in customers:
            placed.append(opportunities.insert_opportunity(s, owner, opportunities.OpportunityInput(
                company=company, phone=phone, fax=fax), location, None))
        s.flush()
        _demo_history(s, zhangsan, lisi, placed)
        s.commit()


def _demo_history(s, zhangsan, lisi, placed):
    """Two weeks of contact notes, so that the dashboards' tables and charts have something to show."""
    from datetime import timedelta

    from services import clock
    from services.library import notes

    now = clock.now()
    mine = {zhangsan.id: [o for o in placed if o.owner_id == zhangsan.id],
            lisi.id: [o for o in placed if o.owner_id == lisi.id]}
    for days_ago in range(14, 0, -1):
        for person, per_day in ((zhangsan, 3 + days_ago % 4), (lisi, 1 + days_ago % 3)):
            for n in range(per_day):
                customer = mine[person.id][n % len(mine[person.id])]
                notes.add_note(s, person, customer.id, ("phone", "visit", "im")[n % 3], "电话沟通，客户有意向",
                               1 + n % 5, busy=(n == 4), now=now - timedelta(days=days_ago, hours=n))


def serve(app):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


def main(outdir):
    outdir.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="crm-shots-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/demo.sqlite3", "SECRET_KEY": os.urandom(16).hex(),
                      "CRM_CAPTCHA": True})
    build_demo(app)
    server, base = serve(app)
    import views.auth

    views.auth._captcha_text = lambda: "K7MP"  # the demo's captcha reads K7MP, so the script can log in
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium"),
                                        args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 760}, locale="zh-CN")
            page.goto(base + "/login")
            page.screenshot(path=str(outdir / "login.png"))
            page.fill("#username", "zhangsan")
            page.fill("#password", PASSWORD)
            page.fill("#captcha", "K7MP")
            page.click("button[type=submit]")
            page.wait_for_url(base + "/")
            for name, url in (("sales_dashboard", "/"), ("opportunities", "/opportunities/?show=all"),
                              ("dedup", "/dedup/?name=瑞丽服装&by=name"), ("pool", "/pool/")):
                page.goto(base + url)
                page.screenshot(path=str(outdir / f"{name}.png"), full_page=True)
            page.goto(base + "/opportunities/new/")
            page.type("#company", "上海瑞丽服装厂", delay=30)
            page.wait_for_selector("#live-check:not(.d-none)")
            page.screenshot(path=str(outdir / "opportunity_new.png"))
            page.context.clear_cookies()
            page.goto(base + "/login")
            page.fill("#username", "admin_hn")
            page.fill("#password", PASSWORD)
            page.fill("#captcha", "K7MP")
            page.click("button[type=submit]")
            page.wait_for_url(base + "/")
            for name, url in (("dashboard", "/"), ("users", "/users/"), ("user_new", "/users/new/"),
                              ("departments", "/departments/"), ("department_new", "/departments/new/"),
                              ("notes", "/notes/")):
                page.goto(base + url)
                page.screenshot(path=str(outdir / f"{name}.png"), full_page=True)
                print(outdir / f"{name}.png")
            for login, shots in (("liu_jingli", (("manager_dashboard", "/"),)),
                                 ("root", (("root_dashboard", "/"), ("rules", "/rules/")))):
                page.context.clear_cookies()
                page.goto(base + "/login")
                page.fill("#username", login)
                page.fill("#password", PASSWORD)
                page.fill("#captcha", "K7MP")
                page.click("button[type=submit]")
                page.wait_for_url(base + "/")
                for name, url in shots:
                    page.goto(base + url)
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=str(outdir / f"{name}.png"), full_page=True)
                    print(outdir / f"{name}.png")
            browser.close()
    finally:
        server.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
