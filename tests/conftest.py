"""Fixtures after Flask's tutorial: `app`, `client`, `runner`, `auth`, and an organisation `org`.

The database is a SQLite file by default and PostgreSQL when CRM_TEST_DATABASE_URL
names one; the schema is built by the migrations, as in production. CSRF stays on:
tests take the token from the pages, as a browser does.
"""
import os
import re

import pytest
from sqlalchemy import create_engine, make_url, text

from app import create_app
from models import db
from services.people import accounts, departments, passwords

PASSWORD = "渠道客户管理2026"  # a password the policy accepts
_SEEDED_BY_MIGRATIONS = {"library_lock", "info_source", "abandon_reason", "resource_rules"}  # rows the migrations write; kept between tests
# Every test user would cost a 19 MiB argon2id hash: the suite hashes with the cheapest parameters argon2
# allows; test_s1_login.py checks the production ones (the `production_hashing` fixture).
TEST_HASHING = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
passwords.use_parameters(**TEST_HASHING)
_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|name="csrf-token" content="([^"]+)"')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id):
    """The suite's database; under pytest-xdist each worker has its own (a SQLite file in the worker's
    own temporary folder, or a PostgreSQL database named after CRM_TEST_DATABASE_URL's: test_gw0, ...)."""
    url = os.environ.get("CRM_TEST_DATABASE_URL")
    if not url:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "crm-test.sqlite3")
        return
    if worker_id != "master":
        url = make_url(url)
        url = url.set(database=f"{url.database}_{worker_id}")
        _create_database(url)
        yield url.render_as_string(hide_password=False)
        _drop_database(url)
        return
    engine = create_engine(url)
    with engine.begin() as conn:  # a clean slate: the migrations build everything
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield url


def _maintenance(url):
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture
def fresh_database(database_url, tmp_path, request):
    """An empty database of the suite's kind for a test that builds its schema itself: a SQLite file, or a
    PostgreSQL database beside the worker's, named after the test module, dropped afterwards."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    fresh = url.set(database=f"{url.database}_{request.module.__name__.removeprefix('test_')}")
    _create_database(fresh)
    yield fresh.render_as_string(hide_password=False)
    _drop_database(fresh)


def _create_database(url):
    engine = _maintenance(url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))  # a run that was killed
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    engine.dispose()


def _drop_database(url):
    engine = _maintenance(url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    app = create_app(_config(database_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    return database_url


def _config(database_url, instance):
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "tests-only-secret",
        "CRM_CAPTCHA": False,
        "CRM_QUEUE_URL": "immediate",  # background jobs run at once, in the test's process
    }


@pytest.fixture(scope="session")
def _app(_schema, tmp_path_factory):
    """One app for the tests of a process: building one compiles its ~700 URL rules (0.2 s of CPU a test).
    A test that adds routes builds its own (Flask refuses new routes once an app has served)."""
    app = create_app(_config(_schema, tmp_path_factory.mktemp("instance")))
    return app, dict(app.config)


@pytest.fixture
def app(_app):
    """The app, its configuration as created; the database emptied after each test (the migrations' rows kept)."""
    app, config = _app
    app.config.clear()
    app.config.update(config)  # what a test changed in the configuration is undone
    yield app
    app.config.clear()
    app.config.update(config)
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(_RULE_DEFAULTS)  # the one settings row goes back to the manual's defaults
            for table in reversed(db.metadata.sorted_tables):
                if table.name not in _SEEDED_BY_MIGRATIONS:
                    conn.execute(table.delete())
        db.engine.dispose()


def _rule_defaults():
    from models import ResourceRules

    columns = ResourceRules.__table__.columns
    values = {c.name: c.default.arg for c in columns if c.default is not None}
    return ResourceRules.__table__.update().values(updated_at=None, updated_by_id=None, **values)


_RULE_DEFAULTS = _rule_defaults()


def set_rules(app, cap=None, **values):
    """Change the resource rules as the settings page would; `cap` sets the cap of every library role."""
    from models import ResourceRules

    if cap is not None:
        values.update(cap_salesperson=cap, cap_supervisor=cap, cap_manager=cap)
    with app.app_context():
        db.session.execute(ResourceRules.__table__.update().values(**values))
        db.session.commit()


@pytest.fixture
def production_hashing():
    """The production argon2 parameters for one test."""
    passwords.use_parameters(**passwords.PRODUCTION)
    yield passwords.PRODUCTION
    passwords.use_parameters(**TEST_HASHING)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(client, url="/login"):
    """The CSRF token of the client's session, read from a page as a browser would.

    A browser keeps the token of the page it shows; so does the client: the page is fetched
    again only when the session's secret changed (a login or logout starts a new session).
    """
    cached = getattr(client, "_crm_csrf", None)
    if cached is not None and cached[0] is not None and cached[0] == _session_csrf_secret(client):
        return cached[1]
    page = client.get(url).get_data(as_text=True)
    match = _CSRF_RE.search(page)
    assert match, f"no CSRF token on {url}"
    token = match.group(1) or match.group(2)
    client._crm_csrf = (_session_csrf_secret(client), token)
    return token


def _session_csrf_secret(client):
    """The secret Flask-WTF keeps in the session cookie, from which each token is signed (None: none yet)."""
    with client.session_transaction() as session:
        return session.get("csrf_token")


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username, password=PASSWORD, follow_redirects=False):
        token = csrf_token(self._client, "/login")
        return self._client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token},
            follow_redirects=follow_redirects,
        )

    def logout(self):
        token = csrf_token(self._client, "/")
        return self._client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    return AuthActions(client)


def post_form(client, url, data, token_from="/"):
    """POST a form with the session's CSRF token, as the page's own form would."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, token_from)})


class Org:
    """Two agent companies, each with a sales department and a sub-team, and one user per role."""

    def __init__(self, app):
        with app.app_context():
            s = db.session
            self.head_office = departments.ensure_head_office(s)
            self.depts = {}
            for company in ("华南代理", "华东代理"):
                for path in (company, f"{company}/销售一部", f"{company}/销售一部/电话组", f"{company}/销售二部"):
                    self.depts[path] = departments.resolve_path(s, path, create=True).id
            self.users = {}

            def make(login, role, dept_path, managed=()):
                dept = departments.resolve_path(s, dept_path)
                managed = [departments.resolve_path(s, p) for p in managed]
                user, _ = accounts.create_user(s, None, login, role, dept, managed, password=PASSWORD)
                s.flush()
                self.users[login] = user.id

            make("root", "subsystem_admin", "/")
            make("admin_a", "agent_admin", "华南代理")
            make("admin_b", "agent_admin", "华东代理")
            make("manager_a", "manager", "华南代理/销售一部", ["华南代理/销售一部"])
            make("super_a", "supervisor", "华南代理/销售一部", ["华南代理/销售一部/电话组"])
            make("sales_a", "salesperson", "华南代理/销售一部/电话组")
            make("sales_b", "salesperson", "华东代理/销售一部")
            s.commit()


@pytest.fixture
def api(app, client, org):
    """api("sales_a") is a client of the JSON API with sales_a's token; api(None) has none."""
    from helpers import ApiClient, api_token  # helpers imports the app's modules, as the tests do
    cache = {}

    def make(login, headers=None):
        token = None if login is None else cache.setdefault(login, api_token(app, login))
        return ApiClient(app, client, token, headers)

    return make


@pytest.fixture
def org(app):
    return Org(app)


def zh(app, msgid, **variables):
    """The Simplified Chinese text of a catalog message, as a Chinese user reads it on the page."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale("zh_Hans_CN"):
        text = gettext(msgid, **variables)
    assert text != msgid % variables if variables else text != msgid, f"untranslated: {msgid}"
    return text


# --- a real browser (Debian's Chromium driven by Playwright) against the app on a local port -----

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NO_BROWSER = (f"no Chromium at {CHROMIUM}: the browser tests need Debian's (`sudo apt-get install chromium "
              "fonts-noto-cjk`, which `make test` does when run as root; or set CRM_CHROMIUM to another one)")


def _have_browser():
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a real browser, gunicorn or worker processes, faults "
                                       "(`make test-fast` leaves them out; `make test` and CI run them)")
    if os.environ.get("CI") == "true" and not _have_browser():
        raise pytest.UsageError(f"CI=true and {NO_BROWSER}")  # in CI the browser tests are required


def pytest_collection_modifyitems(config, items):
    """The browser tests are slow; without a browser they are skipped, each for the reason said once at the end."""
    for item in items:
        if "browser" in item.fixturenames:
            item.add_marker(pytest.mark.slow)
            if not _have_browser():
                item.add_marker(pytest.mark.skip(reason=NO_BROWSER))


def pytest_terminal_summary(terminalreporter):
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if NO_BROWSER in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} browser tests skipped: {NO_BROWSER}", yellow=True, bold=True)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The test app served over HTTP on a free port, for the browser; the same database as `app`."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


class BrowserUser:
    """One person at a browser: a fresh context (cookies), Chinese first, every dialog and CSP report kept."""

    def __init__(self, browser, base_url):
        self.base_url = base_url
        self.context = browser.new_context(locale="zh-CN", base_url=base_url, viewport={"width": 1366, "height": 900})
        self.page = self.context.new_page()
        self.dialogs, self.console = [], []
        self.page.on("dialog", self._dialog)
        self.page.on("console", lambda message: self.console.append(message.text))

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def login(self, username, password=PASSWORD):
        self.page.goto("/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()
        assert "/login" not in self.page.url, f"{username} could not log in"

    def close(self):
        self.context.close()


@pytest.fixture
def browser_user(browser, live_server):
    users = []

    def open_as(login):
        user = BrowserUser(browser, live_server)
        user.login(login)
        users.append(user)
        return user

    yield open_as
    for user in users:
        user.close()
