"""`make run`'s serving command (deploy/serve): gunicorn answers in Chinese, the worker beside it runs
an import from the browser's API, and one Ctrl-C stops both; a worker killed (SIGKILL, an abort) is
started again while the web server goes on answering."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import zh
from faults import environment, write_customers
from served import ROOT, _free_port, _wait_until_ready, call
from test_imports_worker import token_of, wait_for

pytestmark = pytest.mark.slow  # a gunicorn and a worker process


def _upload(base_url, token, path):
    """POST /api/v1/imports with the file as multipart/form-data, as the browser's import page does."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"customers.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{base_url}/api/v1/imports", data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Accept": "application/json",
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, response.read()


def test_make_run_serves_with_gunicorn_and_a_worker_until_ctrl_c(app, org, tmp_path):
    port = _free_port()
    env = {**environment(app), "CRM_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
           "CRM_BIND": f"127.0.0.1:{port}", "CRM_WEB_WORKERS": "2", "VENV": str(Path(sys.executable).parent.parent)}
    log = open(tmp_path / "serve.log", "w+")
    serve = subprocess.Popen([str(ROOT / "deploy" / "serve")], cwd=ROOT, env=env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(serve, base_url, log)
        status, page, _type = call(base_url, "GET", "/login")
        assert status == 200 and zh(app, "Log in") in page and zh(app, "Account") in page

        token = token_of(app, "admin_a")
        status, body = _upload(base_url, token, write_customers(tmp_path / "customers.csv", 30))
        assert status == 202, body
        import_id = json.loads(body)["id"]
        wait_for(app, import_id, {"ready"}, log)  # the worker checked every row
        status, _answer, _type = call(base_url, "POST", f"/api/v1/imports/{import_id}/run", token,
                                      {"review_rows": "all"})
        assert status == 202
        wait_for(app, import_id, {"done"}, log)
        status, done, _type = call(base_url, "GET", f"/api/v1/imports/{import_id}", token)
        assert done["imported"] == 30

        os.killpg(serve.pid, signal.SIGINT)  # Ctrl-C in the terminal: the whole foreground group
        serve.wait(60)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
        log.seek(0)
        output = log.read()
        log.close()
    with pytest.raises(ProcessLookupError):  # gunicorn, its workers and the worker all ended with it
        os.killpg(serve.pid, 0)
    assert "Booting worker" in output and "worker " in output, output[-2000:]


def _worker_of(serve):
    """The pid of serve's background worker (`flask --app app worker`, a child of the script), or None."""
    children = subprocess.run(["pgrep", "-P", str(serve.pid)], capture_output=True, text=True).stdout.split()
    for pid in map(int, children):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        if b"worker" in command and any(part.endswith(b"flask") for part in command):
            return pid
    return None


def _new_worker(serve, old, base_url, app, seconds=60):
    """The pid of a worker other than `old`, once serve has started one; the web server answers meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, page, _type = call(base_url, "GET", "/login")
        assert status == 200 and zh(app, "Log in") in page  # gunicorn was not stopped with the worker
        assert serve.poll() is None
        pid = _worker_of(serve)
        if pid is not None and pid != old:
            return pid
        time.sleep(0.2)
    raise AssertionError(f"no new worker after {old} was killed")


def test_a_killed_worker_is_started_again_while_the_web_server_answers(app, org, tmp_path):
    port = _free_port()
    env = {**environment(app), "CRM_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
           "CRM_BIND": f"127.0.0.1:{port}", "CRM_WEB_WORKERS": "1", "VENV": str(Path(sys.executable).parent.parent)}
    log = open(tmp_path / "serve.log", "w+")
    serve = subprocess.Popen([str(ROOT / "deploy" / "serve")], cwd=ROOT, env=env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(serve, base_url, log)
        first = _worker_of(serve)
        assert first is not None
        assert b"MALLOC_ARENA_MAX=2" in Path(f"/proc/{first}/environ").read_bytes().split(b"\0")
        os.kill(first, signal.SIGKILL)  # the kernel's OOM killer, or an operator
        second = _new_worker(serve, first, base_url, app)
        os.kill(second, signal.SIGABRT)  # calamine's failed allocation aborts the process
        third = _new_worker(serve, second, base_url, app)

        token = token_of(app, "admin_a")  # the new worker does the work
        status, body = _upload(base_url, token, write_customers(tmp_path / "customers.csv", 5))
        assert status == 202, body
        wait_for(app, json.loads(body)["id"], {"ready"}, log)
        assert _worker_of(serve) == third

        os.killpg(serve.pid, signal.SIGINT)  # and Ctrl-C still stops everything
        serve.wait(60)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
        log.seek(0)
        output = log.read()
        log.close()
    with pytest.raises(ProcessLookupError):
        os.killpg(serve.pid, 0)
    assert output.count("starting it again") == 2, output[-3000:]


def test_sigterm_stops_serve_and_its_worker(app, org, tmp_path):
    """systemd-less operators stop `deploy/serve` with `kill`: gunicorn and the worker end with it."""
    port = _free_port()
    env = {**environment(app), "CRM_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
           "CRM_BIND": f"127.0.0.1:{port}", "CRM_WEB_WORKERS": "1", "VENV": str(Path(sys.executable).parent.parent)}
    log = open(tmp_path / "serve.log", "w+")
    serve = subprocess.Popen([str(ROOT / "deploy" / "serve")], cwd=ROOT, env=env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_ready(serve, f"http://127.0.0.1:{port}", log)
        assert _worker_of(serve) is not None
        serve.send_signal(signal.SIGTERM)  # to the script alone, not its group
        serve.wait(60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(serve.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        with pytest.raises(ProcessLookupError):
            os.killpg(serve.pid, 0)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
        log.close()
