"""The app as production runs it: gunicorn with several sync worker processes, spoken to over real HTTP.

`gunicorn_server(database_url, workdir)` starts it on a free port against the test
database (a SQLite file or PostgreSQL, configured through the environment as an operator
would), waits until it answers, and stops it afterwards. Its access log records the
process id that served each request, so a test can show that several processes took part.
`call` is one HTTP request with an API token, from any thread (urllib, nothing shared).
"""
import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from models import User, db
from services.people import accounts, departments

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
WORKERS = 4
STARTUP_SECONDS = 60  # only a broken server takes this long; a healthy one answers within a second or two
ACCESS_LOG_FORMAT = "%(p)s %(s)s %(m)s %(U)s"  # p: the worker's process id


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, base_url, access_log, pid=None):
        self.base_url, self.access_log, self.pid = base_url, access_log, pid  # pid: gunicorn's master

    def worker_pids(self, path_prefix):
        """The distinct processes that answered requests whose path starts with `path_prefix`."""
        lines = [line.split() for line in self.access_log.read_text().splitlines() if line.strip()]
        return {fields[0] for fields in lines if len(fields) >= 4 and fields[3].startswith(path_prefix)}


@contextlib.contextmanager
def gunicorn_server(database_url, workdir, workers=WORKERS, env=None, address_space=None):
    """`address_space` (bytes): the most memory any of its processes may map (RLIMIT_AS), or none."""
    port = _free_port()
    access_log = Path(workdir) / "access.log"
    access_log.touch()
    environment = {**os.environ, "CRM_DATABASE_URL": database_url, "CRM_SECRET_KEY": "tests-only-shared-secret",
                   "CRM_CAPTCHA": "0", **(env or {})}
    command = [str(GUNICORN), "--workers", str(workers), "--worker-class", "sync", "--bind", f"127.0.0.1:{port}",
               "--chdir", str(ROOT), "--access-logfile", str(access_log), "--access-logformat", ACCESS_LOG_FORMAT,
               "--timeout", "60", "--preload", "app:create_app()"]  # preload: import once, fork the workers
    errors = open(Path(workdir) / "gunicorn.err", "w+")
    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=errors,
                               start_new_session=True, preexec_fn=limited(address_space))
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(process, base_url, errors)
        yield Server(base_url, access_log, process.pid)
    finally:
        os.killpg(process.pid, signal.SIGINT)  # gunicorn's quick stop: the test's requests are all answered
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        errors.close()


def limited(address_space):
    """A preexec_fn that caps a new process (and its children) at `address_space` bytes, or None."""
    if address_space is None:
        return None
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))


def _wait_until_ready(process, base_url, errors):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            errors.seek(0)
            raise RuntimeError(f"gunicorn exited: {errors.read()[-2000:]}")
        with contextlib.suppress(OSError):
            if call(base_url, "GET", "/api/v1/openapi.json", timeout=2)[0] == 200:
                return
        time.sleep(0.1)  # polling for the port to open, not a timing assumption of the tests
    raise RuntimeError("gunicorn did not answer")


def call(base_url, method, path, token=None, body=None, timeout=60, headers=None):
    """(status, parsed JSON or text, content type) of one request; HTTP errors are answers too."""
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(base_url + path, data=data, method=method)
    request.add_header("Accept", "application/json")
    request.add_header("Accept-Language", "zh-CN")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, _parsed(response), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, _parsed(error), error.headers.get("Content-Type", "")


def _parsed(response):
    text = response.read().decode("utf-8", "replace")
    if "json" in (response.headers.get("Content-Type") or ""):
        return json.loads(text)
    return text


def upload(base_url, token, path, name=None, timeout=120):
    """POST /api/v1/imports with the file as multipart/form-data, as the browser's import page does:
    (status, parsed JSON); HTTP errors are answers too."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name or path.name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + path.read_bytes() \
        + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{base_url}/api/v1/imports", data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Accept": "application/json", "Accept-Language": "zh-CN",
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, _parsed(response)
    except urllib.error.HTTPError as error:
        return error.code, _parsed(error)


def salespeople(app, count, prefix="racer"):
    """`count` salespeople in the sales department of 华南代理, each with an API token: {login: token}."""
    tokens = {}
    with app.app_context():
        session = db.session
        department = departments.resolve_path(session, "华南代理/销售一部", create=True)
        for i in range(count):
            login = f"{prefix}{i:02d}"
            user = session.scalar(db.select(User).filter_by(login=login))
            if user is None:
                user, _one_time = accounts.create_user(session, None, login, "salesperson", department,
                                                       password="渠道客户管理2026")
                session.flush()
            tokens[login] = accounts.issue_token(session, user)
        session.commit()
    return tokens
