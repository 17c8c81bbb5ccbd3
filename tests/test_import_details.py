"""The import page's details (issue 21, point 9), through the pages and the API as an agent admin uses them:
a preview with no row to import is not run (the button disabled, the run refused in Chinese, saying why);
a check or run waiting for a background worker says 排队中 and how many jobs are before it, and whether
no worker seems to run. The browser's view of the same: tests/test_browser_import_details.py."""
import os
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select
from test_imports import upload, uploaded, xlsx

from app import create_app
from conftest import AuthActions, _config, post_form
from helpers import ApiClient, api_token
from models import DataImport, Job, db
from services import clock
from services.library import opportunities as opps

POOL = [("上海瑞丽服装厂", "021-62345678", "上海"), ("杭州明辉灯饰厂", "0571-88776655", "杭州")]
ALL_DUPLICATES = [[company, phone, city, ""] for company, phone, city in POOL]
BLANK_COMPANY = ["", "020-81234599", "广州", ""]
DEAD_WORKER = f"{socket.gethostname()}:{2**22 + 12345}"  # no such process (past pid_max's default)


@pytest.fixture
def api(app, client, org):
    tokens = {}

    def make(login):
        return ApiClient(app, client, tokens.setdefault(login, api_token(app, login)))

    return make


def in_pool(app, rows=POOL):
    with app.app_context():
        for company, phone, city in rows:
            opps.enter(db.session, None, opps.OpportunityInput.from_mapping(
                {"company": company, "phone": phone, "city": city}), location="public_pool")
        db.session.commit()


def status_of(app, import_id):
    with app.app_context():
        return db.session.get(DataImport, import_id).status


# --- nothing to import --------------------------------------------------------------------------

def test_a_preview_with_no_row_to_import_is_not_run(app, api, client, auth):
    in_pool(app)
    admin = api("admin_a")
    item = uploaded(admin, xlsx(ALL_DUPLICATES))
    assert item["counts"] == {"new": 0, "review": 0, "duplicate": 2, "invalid": 0}
    why = "没有可导入的行：2 行均为重复。"

    refused = admin.post(f"/imports/{item['id']}/run", {})
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"] == "nothing_to_import" and refused.get_json()["message"] == why
    assert status_of(app, item["id"]) == "ready"  # nothing started: no job, no audit entry, no report

    auth.login("admin_a")
    page = f"/imports/{item['id']}/"
    html = client.get(page).get_data(as_text=True)
    assert f'<span class="text-danger" id="import-nothing">{why}</span>' in html
    assert 'id="import-run" disabled aria-describedby="import-nothing"' in html
    # a form posted anyway (an old page, a script): refused on the server, saying why
    answer = post_form(client, f"/imports/{item['id']}/run", {}, token_from=page)
    assert answer.status_code == 302
    assert why in client.get(answer.headers["Location"]).get_data(as_text=True)
    assert status_of(app, item["id"]) == "ready"


def test_the_reason_names_each_kind_of_row_left_out(app, api):
    in_pool(app)
    admin = api("admin_a")
    item = uploaded(admin, xlsx([*ALL_DUPLICATES, BLANK_COMPANY]))
    refused = admin.post(f"/imports/{item['id']}/run", {})
    assert refused.status_code == 409
    assert refused.get_json()["message"] == "没有可导入的行：2 行重复；1 行无效。"


def test_a_ticked_review_row_or_a_new_mapping_makes_the_run_possible(app, api):
    in_pool(app, [("上海明辉灯饰厂", "021-61112222", "上海")])
    admin = api("admin_a")
    # 杭州明辉灯饰厂 resembles the pool's 上海明辉灯饰厂 (another city): a row that needs confirmation
    item = uploaded(admin, xlsx([["杭州明辉灯饰厂", "0571-88776655", "杭州", ""]]))
    assert item["counts"]["review"] == 1 and item["counts"]["new"] == 0, item["counts"]
    refused = admin.post(f"/imports/{item['id']}/run", {})
    assert refused.status_code == 409
    assert refused.get_json()["message"] == "没有可导入的行：1 行均需确认，但都未勾选。"
    started = admin.post(f"/imports/{item['id']}/run", {"review_rows": [1]})  # ticked with the call
    assert started.status_code == 202, started.get_json()
    assert admin.get(f"/imports/{item['id']}").get_json()["imported"] == 1


def test_a_mapping_changed_with_the_run_is_judged_by_the_run(app, api):
    """The preview's verdicts are stale once the call maps a value: the run is not refused by them."""
    admin = api("admin_a")
    item = uploaded(admin, xlsx([["上海明辉灯饰厂", "", "上海", "朋友推荐"]]))
    assert item["counts"] == {"new": 0, "review": 0, "duplicate": 0, "invalid": 1}
    assert admin.post(f"/imports/{item['id']}/run", {}).status_code == 409
    started = admin.post(f"/imports/{item['id']}/run", {"values": {"source": {"朋友推荐": "客户介绍"}}})
    assert started.status_code == 202, started.get_json()
    assert admin.get(f"/imports/{item['id']}").get_json()["imported"] == 1


# --- waiting for a worker -------------------------------------------------------------------------

@pytest.fixture
def queued(app, org, tmp_path):
    """The test database's app with a real queue (a SQLite file) and no worker: jobs wait."""
    return create_app({**_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path),
                       "CRM_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}"})


def set_job(app, import_id, **values):
    with app.app_context():
        job = db.session.get(DataImport, import_id).job
        for name, value in values.items():
            setattr(job, name, value)
        db.session.commit()


def test_a_waiting_import_says_how_many_jobs_are_before_it(queued):
    admin = ApiClient(queued, queued.test_client(), api_token(queued, "admin_a"))
    first, second = (upload(admin, xlsx(ALL_DUPLICATES)).get_json() for _ in range(2))
    assert first["status"] == second["status"] == "checking"
    assert admin.get(f"/imports/{first['id']}").get_json()["queue_position"] == 0
    detail = admin.get(f"/imports/{second['id']}").get_json()
    assert detail["queue_position"] == 1 and detail["worker_down"] is False

    browser = signed_in(queued)
    pages(browser, second["id"], "排队中：前面还有 1 个任务")
    pages(browser, first["id"], "排队中：下一个就轮到它")

    # a worker takes the first: it no longer waits; the second still has one job (running) before it
    set_job(queued, first["id"], status="running", worker=f"{socket.gethostname()}:{os.getpid()}",
            started_at=clock.now(), heartbeat_at=clock.now())
    state = browser.get(f"/imports/{first['id']}/progress.json").get_json()
    assert state["queue_position"] is None and state["queued"] is None
    state = browser.get(f"/imports/{second['id']}/progress.json").get_json()
    assert state["queue_position"] == 1 and state["worker_down"] is False
    # done: the second is next
    set_job(queued, first["id"], status="done", finished_at=clock.now())
    state = browser.get(f"/imports/{second['id']}/progress.json").get_json()
    assert state["queue_position"] == 0 and state["queued"] == "排队中：下一个就轮到它"


def signed_in(app, login="admin_a"):
    client = app.test_client()
    AuthActions(client).login(login)
    return client


def pages(browser, import_id, text):
    """The detail page, its progress JSON and the list all say `text` of the import."""
    state = browser.get(f"/imports/{import_id}/progress.json").get_json()
    assert state["status"] == "checking" and state["queued"] == text, state
    assert text in browser.get(f"/imports/{import_id}/").get_data(as_text=True)
    assert text in browser.get("/imports/").get_data(as_text=True)


DOWN = "后台程序似乎没有运行，请告诉系统管理员。"


@pytest.mark.parametrize("how", ["last worker exited", "waited too long"])
def test_a_waiting_import_says_when_no_worker_seems_to_run(queued, how):
    admin = ApiClient(queued, queued.test_client(), api_token(queued, "admin_a"))
    first = upload(admin, xlsx(ALL_DUPLICATES)).get_json()
    browser = signed_in(queued)
    assert browser.get(f"/imports/{first['id']}/progress.json").get_json()["worker_down"] is False
    if how == "last worker exited":  # the last job this host's worker took (a scan, say): its process is gone
        with queued.app_context():
            db.session.add(Job(kind="import_check", status="done", worker=DEAD_WORKER, created_at=clock.now(),
                               started_at=clock.now(), finished_at=clock.now()))
            db.session.commit()
    else:  # sent, and sent again by the periodic resend, and still nobody took it
        set_job(queued, first["id"], created_at=clock.now() - timedelta(minutes=3))
    detail = admin.get(f"/imports/{first['id']}").get_json()
    assert detail["queue_position"] == 0 and detail["worker_down"] is True
    state = browser.get(f"/imports/{first['id']}/progress.json").get_json()
    assert state["worker_down"] is True and state["queued"] == f"排队中：下一个就轮到它；{DOWN}"
    assert f"排队中：下一个就轮到它；{DOWN}" in browser.get(f"/imports/{first['id']}/").get_data(as_text=True)


def test_no_queue_words_once_checked(app, api):
    item = uploaded(api("admin_a"))
    assert item["queue_position"] is None and item["worker_down"] is False
    with app.app_context():
        assert db.session.scalar(select(Job.status).where(Job.ref_id == item["id"])) == "done"
