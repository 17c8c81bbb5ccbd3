"""Issue 19, jobs: a run started once, queue outages, and states that never contradict their job's.

- Three `POST /imports/ID/run` at once, on gunicorn's processes with a real worker: one starts
  it, the others are refused (409 `not_ready`), and the import's record is the one run's.
- The queue down (the test's own `redis-server`, stopped and started again): an upload and a
  scan answer 503 in Chinese and leave no job waiting; afterwards they work again, and a job
  whose message the queue lost is sent again by the worker's periodic resend.
- A check that fails deletes the preview rows it wrote, and the API checks it again or cancels it;
  an import or a scan whose job waits for ever or failed holds nothing back; one answer, one status.
"""
import contextlib
import io
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import redis
from faults import environment, write_customers
from served import ROOT, _free_port, call, gunicorn_server
from sqlalchemy import func, select
from test_imports_worker import WAIT_SECONDS, start_worker, stop, token_of, wait_for

from app import create_app
from conftest import AuthActions, _config, csrf_token, post_form, zh
from helpers import at_once
from models import AuditEntry, DataImport, DataImportRow, DuplicateScan, Job, Opportunity, User, db
from services import clock, jobs
from services.imports import uploads as import_jobs

API = "/api/v1"
QUEUE_DOWN = ("The background queue cannot be reached right now, so nothing was started. Please try again in a "
              "moment; if this lasts, tell your system administrator (the queue server, CRM_QUEUE_URL).")
NOT_NOW = "This import is being checked or imported, or has ended: it cannot be started now."
CHECK_FAILED = "The check of this file failed: check it again before importing."
FAILED = "The background job failed unexpectedly; nothing of it was written. The error is in the worker's log."
WAITED = ("No background worker took this job in time; it was stopped so that a new one can start. If this "
          "happens again, the background worker is not running: tell your system administrator.")


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _upload(client, headers, path, name="客户.csv"):
    return client.post(f"{API}/imports", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(path.read_bytes()), name), "target": "public_pool"})


def _headers(app, login="admin_a"):
    return {"Authorization": f"Bearer {token_of(app, login)}", "Accept-Language": "zh-CN"}


# --- a run is started once -------------------------------------------------------------------

@pytest.fixture
def queued_app(app, tmp_path):
    """The test database's app with a real queue (a SQLite file) that a worker process serves."""
    return create_app({**_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path),
                       "CRM_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}"})


@pytest.mark.slow
def test_three_runs_at_once_import_once_and_keep_the_runs_record(queued_app, org, _schema, tmp_path):
    app, rows = queued_app, 200
    headers = _headers(app)
    log = open(tmp_path / "worker.log", "w+")
    worker = start_worker(app, log)
    try:
        with gunicorn_server(_schema, tmp_path, env={"CRM_QUEUE_URL": app.config["CRM_QUEUE_URL"]}) as server:
            answer = _upload(app.test_client(), headers, write_customers(tmp_path / "customers.csv", rows))
            assert answer.status_code == 202, answer.get_json()
            import_id = answer.get_json()["id"]
            wait_for(app, import_id, {"ready"}, log)
            counts = app.test_client().get(f"{API}/imports/{import_id}", headers=headers).get_json()["counts"]
            expected = counts["new"] + counts["review"]
            token = headers["Authorization"].removeprefix("Bearer ")
            answers = at_once([lambda: call(server.base_url, "POST", f"{API}/imports/{import_id}/run", token,
                                            {"review_rows": "all"}) for _ in range(3)])
            assert sorted(status for status, _body, _type in answers) == [202, 409, 409], answers
            refused = [body for status, body, _type in answers if status == 409]
            assert all(body["error"] == "not_ready" and body["message"] == zh(app, NOT_NOW) for body in refused)
            wait_for(app, import_id, {"done"}, log)
            time.sleep(0.5)  # let a second run, were one queued, reach the worker (it must find nothing to do)
            seen = call(server.base_url, "GET", f"{API}/imports/{import_id}", token)[1]
    finally:
        stop(worker)
    assert (seen["status"], seen["imported"], seen["not_imported"]) == ("done", expected, rows - expected), seen
    with app.app_context():
        assert _count(Opportunity) == expected
        assert _count(AuditEntry, AuditEntry.action == "import") == 1
        assert _count(Job, Job.kind == "import_run") == 1


# --- the queue down --------------------------------------------------------------------------

@contextlib.contextmanager
def redis_server(port, workdir):
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(workdir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(redis.ConnectionError):
            if client.ping():
                break
        assert process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(30)


def _wait_scan(app, client, headers, wanted="done"):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        answer = client.get(f"{API}/duplicates", headers=headers).get_json()
        if answer["status"] == wanted:
            return answer
        assert answer["status"] != "failed", answer
        time.sleep(0.2)
    raise AssertionError(answer)


@pytest.mark.slow
def test_the_queue_down_answers_503_and_leaves_no_job_waiting(app, org, tmp_path, monkeypatch):
    port = _free_port()
    queued = create_app({**_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path),
                         "CRM_QUEUE_URL": f"redis://127.0.0.1:{port}/0"})
    client, headers = queued.test_client(), _headers(queued)
    customers = write_customers(tmp_path / "customers.csv", 30)
    log = open(tmp_path / "worker.log", "w+")
    worker = None
    try:
        with redis_server(port, tmp_path):  # up: an upload and a scan go through to the worker
            worker = subprocess.Popen(  # every waiting job is sent again at the next minute
                [sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
                env={**environment(queued), "CRM_QUEUE_URL": queued.config["CRM_QUEUE_URL"],
                     "CRM_JOB_RESEND_SECONDS": "0"})
            first = _upload(client, headers, customers)
            assert first.status_code == 202, first.get_json()
            wait_for(queued, first.get_json()["id"], {"ready"}, log)
            assert client.post(f"{API}/duplicates/scan", headers=headers).status_code == 202
            _wait_scan(queued, client, headers)

        # down: the upload and the scan are refused in Chinese, nothing of them is kept, no job waits
        with queued.app_context():
            jobs_before = _count(Job)
        answer = _upload(client, headers, customers)
        assert answer.status_code == 503
        assert answer.get_json() == {"error": "unavailable", "message": zh(queued, QUEUE_DOWN)}
        answer = client.post(f"{API}/duplicates/scan", headers=headers)
        assert answer.status_code == 503 and answer.get_json()["message"] == zh(queued, QUEUE_DOWN)
        pages = queued.test_client()
        AuthActions(pages).login("admin_a")
        page = pages.post("/imports/new/", content_type="multipart/form-data", data={
            "file": (io.BytesIO(customers.read_bytes()), "客户.csv"), "target": "public_pool",
            "csrf_token": csrf_token(pages, "/imports/new/")})
        assert page.status_code == 503 and zh(queued, QUEUE_DOWN) in page.get_data(as_text=True)
        with queued.app_context():
            assert _count(Job) == jobs_before and _count(Job, Job.status == "queued") == 0
            assert _count(DataImport) == 1 and _count(DuplicateScan) == 1

        with redis_server(port, tmp_path):  # up again: an upload works, and the worker finishes it
            again = _upload(client, headers, customers, "客户二.csv")
            assert again.status_code == 202, again.get_json()
            wait_for(queued, again.get_json()["id"], {"ready"}, log)

            monkeypatch.setattr(jobs, "_send", lambda app_, ids: [])  # its message lost on the way to the queue
            lost = _upload(client, headers, customers, "客户三.csv")
            monkeypatch.undo()
            assert lost.status_code == 202
            with queued.app_context():
                assert db.session.get(DataImport, lost.get_json()["id"]).job.status == "queued"
            wait_for(queued, lost.get_json()["id"], {"ready"}, log)  # sent again by the periodic resend
    finally:
        if worker is not None:
            stop(worker)


# --- a failed check, waiting jobs, one status per answer ---------------------------------------

def test_a_failed_check_keeps_no_preview_rows_and_can_be_checked_again_or_cancelled(app, org, tmp_path, monkeypatch):
    client, headers = app.test_client(), _headers(app)
    write = import_jobs._write_rows
    written = []

    def fail_on_the_third(session, rows):
        written.append(len(rows))
        if len(written) == 3:
            raise RuntimeError("the disk went away")
        write(session, rows)

    monkeypatch.setattr(import_jobs, "ROWS_PER_WRITE", 10)
    monkeypatch.setattr(import_jobs, "_write_rows", fail_on_the_third)
    answer = _upload(client, headers, write_customers(tmp_path / "customers.csv", 40))
    import_id = answer.get_json()["id"]
    seen = client.get(f"{API}/imports/{import_id}", headers=headers).get_json()
    assert (seen["status"], seen["message"]) == ("failed", zh(app, FAILED))
    assert client.get(f"{API}/imports/{import_id}/rows", headers=headers).get_json()["total"] == 0  # nothing kept
    with app.app_context():
        assert _count(DataImportRow) == 0

    refused = client.post(f"{API}/imports/{import_id}/run", headers=headers, json={})
    assert refused.status_code == 409 and refused.get_json()["message"] == zh(app, CHECK_FAILED)
    monkeypatch.undo()
    answer = client.post(f"{API}/imports/{import_id}/check", headers=headers)  # checked again: no longer 409
    assert answer.status_code == 202, answer.get_json()
    seen = client.get(f"{API}/imports/{import_id}", headers=headers).get_json()
    assert seen["status"] == "ready" and sum(seen["counts"].values()) == 40

    answer = client.post(f"{API}/imports/{import_id}/cancel", headers=headers)
    assert answer.status_code == 200 and answer.get_json()["status"] == "cancelled"
    refused = client.post(f"{API}/imports/{import_id}/check", headers=headers)
    assert refused.status_code == 409 and refused.get_json()["message"] == zh(app, "This import cannot be changed now.")


def test_an_import_whose_job_the_queue_lost_can_be_cancelled(app, org, tmp_path, monkeypatch):
    client, headers = app.test_client(), _headers(app)
    monkeypatch.setattr(jobs, "_send", lambda app_, ids: [])  # accepted, then lost by the queue
    import_id = _upload(client, headers, write_customers(tmp_path / "customers.csv", 5)).get_json()["id"]
    assert client.get(f"{API}/imports/{import_id}", headers=headers).get_json()["status"] == "checking"
    answer = client.post(f"{API}/imports/{import_id}/cancel", headers=headers)
    assert answer.status_code == 200 and answer.get_json()["status"] == "cancelled"
    with app.app_context():
        item = db.session.get(DataImport, import_id)
        assert item.job.status == "failed"  # withdrawn: a worker sent it later does not take it
        assert not jobs.claim(db.session, item.job_id)


def _scan_with_job(app, scan_status, job_status, **job):
    with app.app_context():
        admin = db.session.scalar(select(User).filter_by(login="admin_a"))
        from services.duplicates import scan as duplicates
        department = duplicates.scope_of(db.session, admin)
        row = Job(kind="duplicate_scan", status=job_status, done=0, created_at=clock.now(), **job)
        db.session.add(row)
        db.session.flush()
        scan = DuplicateScan(department_id=department.id, requested_by_id=admin.id, status=scan_status,
                             created_at=clock.now(), job_id=row.id)
        db.session.add(scan)
        db.session.flush()
        row.ref_id = scan.id
        db.session.commit()
        return scan.id


def test_one_answer_one_status_when_the_scans_worker_died(app, org):
    long_ago = clock.now() - timedelta(hours=1)
    scan_id = _scan_with_job(app, "running", "running", worker="a-host-long-gone:1", started_at=long_ago,
                             heartbeat_at=long_ago)
    answer = app.test_client().get(f"{API}/duplicates", headers=_headers(app)).get_json()
    assert answer["scan"]["id"] == scan_id
    assert answer["status"] == answer["scan"]["status"] == "failed", answer


@pytest.mark.parametrize("job_status", ["queued", "failed"])
def test_a_scan_whose_job_waited_too_long_or_failed_holds_back_no_new_one(app, org, monkeypatch, job_status):
    app.config["CRM_JOB_WAIT_SECONDS"] = 60
    old = _scan_with_job(app, "queued", job_status, message="老任务" if job_status == "failed" else None)
    with app.app_context():
        db.session.execute(db.update(Job).values(created_at=clock.now() - timedelta(minutes=5)))
        db.session.commit()
    monkeypatch.setattr(jobs, "_send", lambda app_, ids: [])  # the new one waits: we only look at who it is
    answer = app.test_client().post(f"{API}/duplicates/scan", headers=_headers(app))
    assert answer.status_code == 202 and answer.get_json()["id"] != old
    with app.app_context():
        scan = db.session.get(DuplicateScan, old)
        assert scan.status == "failed" and scan.job.status == "failed"
        assert scan.message == ("老任务" if job_status == "failed" else zh(app, WAITED))


def test_a_scan_waiting_briefly_is_the_one_answered(app, org, monkeypatch):
    old = _scan_with_job(app, "queued", "queued")
    monkeypatch.setattr(jobs, "_send", lambda app_, ids: [])
    answer = app.test_client().post(f"{API}/duplicates/scan", headers=_headers(app))
    assert answer.status_code == 202 and answer.get_json()["id"] == old


def test_two_clicks_on_import_start_one_run(app, org, auth, client, tmp_path, monkeypatch):
    import_id = _upload(app.test_client(), _headers(app), write_customers(tmp_path / "customers.csv", 5)).get_json()["id"]
    monkeypatch.setattr(jobs, "_send", lambda app_, ids: [])  # the run waits for a worker: both clicks see it
    auth.login("admin_a")
    page = f"/imports/{import_id}/"
    for _click in range(2):
        assert post_form(client, f"/imports/{import_id}/run", {}, token_from=page).status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert zh(app, NOT_NOW) in html
    with app.app_context():
        assert _count(Job, Job.kind == "import_run") == 1
        assert db.session.get(DataImport, import_id).status == "importing"
