"""Faults (issue 5): an import killed half way, the same file twice, the database going away under load.

- `flask opportunities import` is one transaction: killed with SIGKILL while it writes, it
  leaves nothing (the database rolls the open transaction back), and the index tables
  keep no row without its opportunity.
- Imported twice, a file adds nothing the second time: every row is a duplicate of itself.
- PostgreSQL restarting cuts every connection of the app. The same cut, made here with
  pg_terminate_backend while gunicorn serves requests: what was in flight answers a clean
  503 in Chinese (never a 500), and the next requests succeed without restarting the app
  (pool_pre_ping). On SQLite the fault is the file locked longer than the busy timeout:
  the same 503, then the same recovery.
"""
import http.cookiejar
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.parse
import urllib.request

import pytest
from faults import counts as _counts
from faults import environment as _environment
from faults import write_customers
from faults import writing as _writing
from served import ROOT, call, gunicorn_server, salespeople
from sqlalchemy import create_engine, text

from app import create_app
from conftest import PASSWORD, _config, zh
from models import Opportunity, db

pytestmark = pytest.mark.slow  # processes: gunicorn, workers killed and restarted

API = "/api/v1"
UNAVAILABLE = "The database is busy or restarting. Nothing was saved; please try again in a moment."
LARGE_FILE_ROWS = 20000
SMALL_FILE_ROWS = 300


ON_POSTGRES = os.environ.get("CRM_TEST_DATABASE_URL", "").startswith("postgresql")  # as conftest chooses


def _postgres(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


@pytest.mark.parametrize("options", [[], ["--skip-check"]], ids=["checked", "skip-check"])
def test_an_import_killed_half_way_leaves_nothing(app, org, tmp_path, options):
    """Checked, row by row; and the fast path, which also drops and rebuilds the indexes in its transaction."""
    path = write_customers(tmp_path / "customers.csv", LARGE_FILE_ROWS)
    importer = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "opportunities", "import", str(path),
                                 *options], cwd=ROOT, env=_environment(app), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        # the progress bar's label appears once the first rows are done, inside the import's transaction
        label = importer.stderr.readline()
        assert "importing" in label, label
        while not _writing(app):
            assert importer.poll() is None, "the import ended before it was seen writing"
    finally:
        os.killpg(importer.pid, signal.SIGKILL)  # the importer and its normalising workers
        importer.wait()
    assert importer.returncode == -signal.SIGKILL  # killed half way, not finished
    assert _counts(app) == {"opportunities": 0, "terms": 0, "phones": 0, "orphans": 0, "unindexed": 0}


def _import(runner, path):
    import json

    result = runner.invoke(args=["opportunities", "import", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_the_same_file_imported_twice_adds_nothing_the_second_time(app, org, runner, tmp_path):
    path = write_customers(tmp_path / "customers.csv", SMALL_FILE_ROWS)
    first = _import(runner, path)
    assert first["read"] == SMALL_FILE_ROWS and first["imported"] > 0 and first["invalid"] == 0
    after_first = _counts(app)
    assert after_first["opportunities"] == first["imported"]
    assert after_first["orphans"] == after_first["unindexed"] == 0
    second = _import(runner, path)
    assert second["imported"] == 0
    assert second["duplicates"] == SMALL_FILE_ROWS  # every row, including those the first import refused
    assert _counts(app) == after_first


# --- the database going away under load ---------------------------------------------------


@pytest.fixture
def server(app, _schema, tmp_path):
    env = {} if _postgres(app) else {"CRM_SQLITE_BUSY_TIMEOUT_MS": "200"}  # a locked file fails fast here
    with gunicorn_server(_schema, tmp_path, env=env) as running:
        yield running


def _entry(n):
    return {"company": f"广州恒{n}通五金有限公司", "province": "广东", "city": "广州"}


def _assert_unavailable(app, status, body, content_type):
    assert status == 503, (status, body)
    if "json" in content_type:
        assert body["error"] == "unavailable" and body["message"] == zh(app, UNAVAILABLE)
    else:
        assert zh(app, UNAVAILABLE) in body and "Traceback" not in body


class Load:
    """Threads reading "my opportunities" over and over until stopped; every answer is kept."""

    def __init__(self, base_url, tokens):
        self.stop, self.answers = threading.Event(), []
        self.threads = [threading.Thread(target=self._run, args=(base_url, t)) for t in tokens]
        for thread in self.threads:
            thread.start()

    def _run(self, base_url, token):
        while not self.stop.is_set():
            status, body, content_type = call(base_url, "GET", f"{API}/opportunities", token)
            self.answers.append((status, body, content_type))

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(120)
        return self.answers


def _waiting_for_a_lock(engine):
    """Whether a backend of the database waits for a lock (a fresh transaction: the view is a snapshot)."""
    with engine.connect() as watcher:
        return bool(watcher.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND wait_event_type = 'Lock'")))


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only: on SQLite see the locked file below")
def test_postgresql_connections_cut_under_load_fail_cleanly_and_recover(app, org, server):
    tokens = list(salespeople(app, 5).values())
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    load = Load(server.base_url, tokens[1:])
    blocked = []
    try:
        with engine.connect() as holder:
            # hold the LibraryLock, so that an entry is certainly inside a transaction when the cut comes
            holder.execute(text("SELECT counter FROM library_lock WHERE id = 1 FOR UPDATE"))
            entering = threading.Thread(target=lambda: blocked.append(
                call(server.base_url, "POST", f"{API}/opportunities", tokens[0], _entry(1))))
            entering.start()
            while not _waiting_for_a_lock(engine):
                assert entering.is_alive(), blocked  # until the entry waits for the lock
            cut = holder.scalar(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                     "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            holder.rollback()
            entering.join(120)
    finally:
        answers = load.finish()
        engine.dispose()
    assert cut >= 1
    _assert_unavailable(app, *blocked[0])
    assert answers and {status for status, _body, _type in answers} <= {200, 503}
    for status, body, content_type in answers:
        if status == 503:
            _assert_unavailable(app, status, body, content_type)
    # the same app, not restarted: every worker's pool replaces its dead connections
    after = [call(server.base_url, "GET", f"{API}/opportunities", tokens[1]) for _ in range(12)]
    assert [status for status, _body, _type in after] == [200] * 12
    status, body, _type = call(server.base_url, "POST", f"{API}/opportunities", tokens[0], _entry(2))
    assert status == 201, body


class Browser:
    """A cookie-keeping HTTP client: the login page as a person's browser posts it."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def open(self, path, form=None):
        data = None if form is None else urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(self.base_url + path, data=data, headers={"Accept-Language": "zh-CN"})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers.get("Content-Type", "")

    def login(self, username):
        page = self.open("/login")[1]
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        return self.open("/login", {"username": username, "password": PASSWORD, "csrf_token": token})


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite only: on PostgreSQL see the connections cut above")
def test_sqlite_file_locked_for_long_answers_503_then_recovers(app, org, server):
    (token,) = salespeople(app, 1).values()
    browser = Browser(server.base_url)
    locker = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"), isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")  # another process writing for longer than the busy timeout
        _assert_unavailable(app, *call(server.base_url, "POST", f"{API}/opportunities", token, _entry(1)))
        _assert_unavailable(app, *browser.login("sales_a"))  # a login writes (last login, audit): an HTML 503
        status, _body, _type = call(server.base_url, "GET", f"{API}/openapi.json")
        assert status == 200  # reading needs no write lock: the rest of the app keeps working
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    status, body, _type = call(server.base_url, "POST", f"{API}/opportunities", token, _entry(2))
    assert status == 201, body
    status, page, _type = browser.login("sales_a")
    assert status == 200 and 'name="password"' not in page  # logged in: the dashboard, not the login form
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Opportunity)) == 1


def test_a_bug_in_the_sql_is_not_hidden_as_a_503(app, tmp_path):
    """SQLite reports bad SQL as OperationalError too: only a locked or lost database is a 503."""
    from sqlalchemy.exc import OperationalError

    app = create_app(_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path))  # its own: it gets two routes

    @app.get("/faults-test/bad-sql")
    def _bad_sql():
        db.session.execute(text("SELECT * FROM no_such_table"))

    @app.get("/faults-test/locked")
    def _locked():
        raise OperationalError("UPDATE library_lock", {}, sqlite3.OperationalError("database is locked"))

    client = app.test_client()
    assert client.get("/faults-test/locked", headers={"Accept": "application/json"}).status_code == 503
    with pytest.raises(Exception) as raised:  # the test app re-raises what would be a 500 (PROPAGATE_EXCEPTIONS)
        client.get("/faults-test/bad-sql")
    assert "no_such_table" in str(raised.value)
