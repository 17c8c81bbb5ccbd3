"""Browser imports on a real worker (`flask --app app worker`, a separate process, huey's SQLite
queue in a file) as `make run` starts it: the check and the run happen there, and a worker
killed while it imports leaves no row and the import marked failed, on SQLite and PostgreSQL.
A worker started again picks up what waits, and the same import then runs to the end.
"""
import io
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse

import pytest
from faults import counts, environment, write_customers, writing
from served import ROOT, call, gunicorn_server, salespeople
from sqlalchemy import select

from app import create_app
from conftest import _config, zh
from models import DataImport, Opportunity, User, db
from services.people import accounts

pytestmark = pytest.mark.slow  # processes: gunicorn, workers killed and restarted

ROWS = 3000  # enough for the run to be seen writing before it ends
WAIT_SECONDS = 240  # only a broken worker takes this long


@pytest.fixture
def queued_app(app, tmp_path):
    """The test database's app with a real queue (a SQLite file) instead of running jobs at once."""
    queue = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    return create_app({**_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path), "CRM_QUEUE_URL": queue,
                       "CRM_JOB_STALE_SECONDS": 1})


def start_worker(app, log):
    env = {**environment(app), "CRM_QUEUE_URL": app.config["CRM_QUEUE_URL"]}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(worker, sig=signal.SIGTERM):
    os.killpg(worker.pid, sig)
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def token_of(app, login):
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(login=login))
        token = accounts.issue_token(db.session, user)
        db.session.commit()
        return token


def status(app, import_id):
    """The import's status and message, and its job's status."""
    with app.app_context():
        item = db.session.get(DataImport, import_id)
        return item.status, item.message, item.job.status


def wait_for(app, import_id, wanted, log=None):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        current, message, job = status(app, import_id)
        if current in wanted:
            return current
        assert current not in ("failed", "cancelled"), message
        time.sleep(0.2)
    if log is not None:
        log.seek(0)
    raise AssertionError(f"import {import_id} still {current} (job {job}): {log.read()[-3000:] if log else ''}")


def test_a_worker_killed_while_it_imports_leaves_nothing_and_says_so(queued_app, org, tmp_path):
    app = queued_app
    client, token = app.test_client(), token_of(app, "admin_a")
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"}
    path = write_customers(tmp_path / "customers.csv", ROWS)
    log = open(tmp_path / "worker.log", "w+")
    worker = start_worker(app, log)
    try:
        answer = client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                             data={"file": (io.BytesIO(path.read_bytes()), "客户.csv"), "target": "public_pool"})
        assert answer.status_code == 202, answer.get_json()
        import_id = answer.get_json()["id"]
        assert answer.get_json()["status"] == "checking"  # the request did not wait for the check
        wait_for(app, import_id, {"ready"})
        checked = client.get(f"/api/v1/imports/{import_id}", headers=headers).get_json()["counts"]
        assert sum(checked.values()) == ROWS and checked["invalid"] == 0, checked
        expected = checked["new"] + checked["review"]  # the similar names of the file, all ticked below
        answer = client.post(f"/api/v1/imports/{import_id}/run", headers=headers, json={"review_rows": "all"})
        assert answer.status_code == 202, answer.get_json()
        deadline = time.monotonic() + WAIT_SECONDS
        while status(app, import_id)[2] != "running" or not writing(app):  # the worker writes the rows
            assert time.monotonic() < deadline and status(app, import_id)[0] == "importing", status(app, import_id)
            time.sleep(0.05)
        stop(worker, signal.SIGKILL)
        assert worker.returncode == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            stop(worker)
    # the batches it committed stay hidden (services/imports/staging.py): no row is seen anywhere
    assert visible(app) == 0 and counts(app)["orphans"] == 0
    time.sleep(1.5)  # past CRM_JOB_STALE_SECONDS: its heartbeat stopped, and its process is gone
    seen = client.get(f"/api/v1/imports/{import_id}", headers=headers).get_json()
    with app.app_context():
        died = zh(app, "The background worker stopped while it worked on this (it was killed or restarted); "
                       "nothing of it was written. Start it again.")
    log.seek(0)
    assert seen["status"] == "failed" and seen["message"] == died, (seen, log.read()[-3000:])

    worker = start_worker(app, log)  # started again: the same import runs to the end
    try:
        assert client.post(f"/api/v1/imports/{import_id}/run", headers=headers, json={}).status_code == 202
        wait_for(app, import_id, {"done"}, log)
    finally:
        stop(worker)
    assert worker.returncode == 0  # SIGTERM: a clean stop
    # the killed run's hidden rows were deleted by the new run: each customer once, all visible
    assert counts(app) == {"opportunities": expected, "terms": counts(app)["terms"], "phones": expected,
                           "orphans": 0, "unindexed": 0}
    assert visible(app) == expected
    done = client.get(f"/api/v1/imports/{import_id}", headers=headers).get_json()
    assert done["imported"] == expected and done["not_imported"] == ROWS - expected


def visible(app):
    """The opportunities anyone may see (not deleted, not the hidden rows of an import at work)."""
    with app.app_context():
        return db.session.scalar(select(db.func.count()).select_from(Opportunity).where(
            Opportunity.deleted_at.is_(None)))


def hidden(app):
    with app.app_context():
        return db.session.scalar(select(db.func.count()).select_from(Opportunity).where(
            Opportunity.pending_import_id.is_not(None)))


ENTRY_ROWS = 3000  # a run of several seconds here
ENTRY_SECONDS = 1.0  # issue 19: an entry is answered within a second while an import runs


def test_entries_are_answered_within_a_second_while_a_worker_imports(queued_app, org, tmp_path):
    """A real server (gunicorn) and worker: while a large import runs, salespeople's entries through the API are
    each answered within a second, the import's rows are seen nowhere, and at its end all of them are."""
    app = queued_app
    client, token = app.test_client(), token_of(app, "admin_a")
    headers = {"Authorization": f"Bearer {token}"}
    racers = list(salespeople(app, 2, prefix="busy").values())
    path = write_customers(tmp_path / "customers.csv", ENTRY_ROWS)
    log = open(tmp_path / "worker.log", "w+")
    worker = start_worker(app, log)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    answers, seconds, seen = [], [], []
    try:
        with gunicorn_server(url, tmp_path, workers=2, env={"CRM_QUEUE_URL": app.config["CRM_QUEUE_URL"]}) as server:
            answer = client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                                 data={"file": (io.BytesIO(path.read_bytes()), "客户.csv"),
                                       "target": "agent_admin_pool"})  # admin_a sees the company's pool
            import_id = answer.get_json()["id"]
            wait_for(app, import_id, {"ready"}, log)
            checked = client.get(f"/api/v1/imports/{import_id}", headers=headers).get_json()["counts"]
            expected = checked["new"] + checked["review"]  # the file's own repeats are duplicates
            for racer in racers * 2:  # the server processes load the check's data before: not the import's time
                call(server.base_url, "GET", "/api/v1/dedup?name=" + urllib.parse.quote("佛山金宏鑫家具厂"), racer)
            assert client.post(f"/api/v1/imports/{import_id}/run", headers=headers,
                               json={"review_rows": "all"}).status_code == 202
            n = 0
            while status(app, import_id)[0] == "importing":
                n += 1
                started = time.monotonic()
                code, body, _type = call(server.base_url, "POST", "/api/v1/opportunities", racers[n % 2],
                                         {"company": f"佛山{other_name(n)}家具厂", "city": "佛山",
                                          "phone": f"0757-8{n:07d}", "confirm_review": True})
                seconds.append(time.monotonic() - started)
                answers.append(code if code == 201 else (code, body))
                if hidden(app):  # some of the import's rows are written: nobody sees them
                    listed = call(server.base_url, "GET", "/api/v1/opportunities?per_page=1", token)[1]["total"]
                    first = call(server.base_url, "GET", "/api/v1/dedup?name=" + urllib.parse.quote(
                        first_company(path)), racers[0])[1]["verdict"]
                    seen.append((listed, answers.count(201), first))
                time.sleep(0.1)
            wait_for(app, import_id, {"done"}, log)
    finally:
        stop(worker)
    log.seek(0)
    assert len(answers) >= 10, (len(answers), log.read()[-2000:])  # the run lasted long enough to show it
    p95 = statistics.quantiles(seconds, n=20)[-1]
    print(f"{len(answers)} entries during the run: median {statistics.median(seconds):.3f} s, p95 {p95:.3f} s, "
          f"max {max(seconds):.3f} s")
    assert [a for a in answers if a != 201] == []
    # the issue's promise is a p95 under a second (an entry arriving while the end shows the rows waits for it once)
    assert p95 <= ENTRY_SECONDS, sorted(seconds)[-5:]
    assert seen and all(listed <= entered and first == "new" for listed, entered, first in seen), seen
    done = client.get(f"/api/v1/imports/{import_id}", headers=headers).get_json()
    assert done["imported"] == expected, done  # no entry was a duplicate of a row of the file
    assert visible(app) == expected + len(answers) and hidden(app) == 0
    assert client.get("/api/v1/opportunities?per_page=1", headers=headers).get_json()["total"] == \
        expected + len(answers)


def other_name(n):
    """Trade names that differ from one another in two characters at least (for n below 570)."""
    first, second, third = "金银铜铁锡华中东南西北天地人和泰安康宁福寿吉祥瑞丽光明正大新兴永盛隆昌恒通达利", \
        "宏伟鸿运嘉禾美佳德信诚益丰裕源远广厚长青山川江海云星晨曦春秋冬夏松竹梅兰菊荷", "鑫森淼焱垚磊晶品众犇骉昊旭辉煌"
    return first[n % 39] + second[n * 7 % 38] + third[n * 11 % 15]


def first_company(path):
    return path.read_text(encoding="utf-8").splitlines()[1].split(",")[0]


ON_POSTGRES = os.environ.get("CRM_TEST_DATABASE_URL", "").startswith("postgresql")  # as conftest chooses


@pytest.mark.parametrize("kind", ["redis", "postgresql"] if ON_POSTGRES else ["redis"])
def test_a_worker_on_a_shared_queue(app, org, tmp_path, kind):
    """Redis (running on this kind of machine; .ci/run starts it if it stopped) and, when the database is
    PostgreSQL, huey's queue in that database: the same import, checked and run by a worker process."""
    # a Redis database of each suite's own: the SQLite and the PostgreSQL suites may run at once
    queue = (f"redis://127.0.0.1:6379/{14 if ON_POSTGRES else 13}" if kind == "redis"
             else app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://"))
    shared = create_app({**_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path), "CRM_QUEUE_URL": queue})
    client, token = shared.test_client(), token_of(shared, "admin_a")
    headers = {"Authorization": f"Bearer {token}"}
    path = write_customers(tmp_path / "customers.csv", 50)
    log = open(tmp_path / "worker.log", "w+")
    worker = start_worker(shared, log)
    try:
        answer = client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                             data={"file": (io.BytesIO(path.read_bytes()), "客户.csv")})
        assert answer.status_code == 202, answer.get_json()
        import_id = answer.get_json()["id"]
        wait_for(shared, import_id, {"ready"}, log)
        assert client.post(f"/api/v1/imports/{import_id}/run", headers=headers,
                           json={"review_rows": "all"}).status_code == 202
        wait_for(shared, import_id, {"done"}, log)
    finally:
        stop(worker)
    done = client.get(f"/api/v1/imports/{import_id}", headers=headers).get_json()
    assert done["imported"] == 50 and counts(shared)["opportunities"] == 50
