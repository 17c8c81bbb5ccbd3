"""`make run`'s serving command (deploy/serve): gunicorn answers in Chinese, the worker beside it runs
an import from the browser's API, and one Ctrl-C stops both; a worker killed (SIGKILL, an abort) is
started again while the web server goes on answering."""
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faults import environment, write_customers
from served import ROOT, _free_port, _wait_until_ready, call, upload
from test_imports_worker import token_of, wait_for

from conftest import zh

pytestmark = pytest.mark.slow  # a gunicorn and a worker process


@contextlib.contextmanager
def serving(app, tmp_path, web_workers=2):
    """`deploy/serve` (what `make run` runs) on a free port with a SQLite queue: (process, base URL, log)."""
    port = _free_port()
    env = {**environment(app), "CRM_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
           "CRM_BIND": f"127.0.0.1:{port}", "CRM_WEB_WORKERS": str(web_workers),
           "VENV": str(Path(sys.executable).parent.parent)}
    log = open(tmp_path / "serve.log", "w+")
    serve = subprocess.Popen([str(ROOT / "deploy" / "serve")], cwd=ROOT, env=env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(serve, base_url, log)
        yield serve, base_url, log
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
        log.close()


def test_make_run_serves_with_gunicorn_and_a_worker_until_ctrl_c(app, org, tmp_path):
    with serving(app, tmp_path) as (serve, base_url, log):
        status, page, _type = call(base_url, "GET", "/login")
        assert status == 200 and zh(app, "Log in") in page and zh(app, "Account") in page

        token = token_of(app, "admin_a")
        status, answer = upload(base_url, token, write_customers(tmp_path / "customers.csv", 30))
        assert status == 202, answer
        wait_for(app, answer["id"], {"ready"}, log)  # the worker checked every row
        status, _answer, _type = call(base_url, "POST", f"/api/v1/imports/{answer['id']}/run", token,
                                      {"review_rows": "all"})
        assert status == 202
        wait_for(app, answer["id"], {"done"}, log)
        status, done, _type = call(base_url, "GET", f"/api/v1/imports/{answer['id']}", token)
        assert done["imported"] == 30

        os.killpg(serve.pid, signal.SIGINT)  # Ctrl-C in the terminal: the whole foreground group
        serve.wait(60)
        log.seek(0)
        output = log.read()
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
    with serving(app, tmp_path, web_workers=1) as (serve, base_url, log):
        first = _worker_of(serve)
        assert first is not None
        assert b"MALLOC_ARENA_MAX=2" in Path(f"/proc/{first}/environ").read_bytes().split(b"\0")
        os.kill(first, signal.SIGKILL)  # the kernel's OOM killer, or an operator
        second = _new_worker(serve, first, base_url, app)
        os.kill(second, signal.SIGABRT)  # calamine's failed allocation aborts the process
        third = _new_worker(serve, second, base_url, app)

        token = token_of(app, "admin_a")  # the new worker does the work
        status, answer = upload(base_url, token, write_customers(tmp_path / "customers.csv", 5))
        assert status == 202, answer
        wait_for(app, answer["id"], {"ready"}, log)
        assert _worker_of(serve) == third

        os.killpg(serve.pid, signal.SIGINT)  # and Ctrl-C still stops everything
        serve.wait(60)
        log.seek(0)
        output = log.read()
    with pytest.raises(ProcessLookupError):
        os.killpg(serve.pid, 0)
    assert output.count("starting it again") == 2, output[-3000:]


def test_sigterm_stops_serve_and_its_worker(app, org, tmp_path):
    """systemd-less operators stop `deploy/serve` with `kill`: gunicorn and the worker end with it."""
    with serving(app, tmp_path, web_workers=1) as (serve, _base_url, _log):
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
